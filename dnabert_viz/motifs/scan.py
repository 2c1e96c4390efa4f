"""Back to the sequences: where known motifs occur (FIMO), and whether the model used each hit.

:func:`scan` runs memelite's FIMO over sequences on both strands with JASPAR
matrices or discovered motifs; with attributions (``scores``) each hit gets
the contribution it carries and the agreement of its hypothetical
contributions with the motif, against the background of its own sequence,
and is called *used* or *ignored* by one stated rule. :func:`hit_enrichment`
tests each motif's hits in positives against negatives; :func:`genome_hits`
puts hits of :func:`dnabert_viz.read_intervals` windows on the genome (BED6).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ..intervals import on_genome, split_input
from ..scores import Scores
from ..sequences import check_sequences, one_hot, reverse_complement
from .jaspar import JasparMatrix, jaspar_matrices
from .motif import Motif
from .stats import benjamini_hochberg, hypergeometric_pvalues

HIT_COLUMNS = [
    "sequence_index",
    "motif",
    "motif_id",
    "motif_name",
    "start",
    "end",
    "strand",
    "score",
    "p_value",
    "q_value",
    "sequence",
]
CONTRIBUTION_COLUMNS = ["contribution", "contribution_z", "agreement", "agreement_z", "used"]
GENOME_COLUMNS = ["chrom", "genome_start", "genome_end", "genome_strand"]
# the pseudocount MEME's tools mix into a matrix (a weight of the uniform distribution): the
# motif's direction that hypothetical contributions are compared with
AGREEMENT_PSEUDOCOUNT = 0.1
MIN_BACKGROUND = 10  # fewest background windows a hit's z-scores are computed from


def _motif_matrices(motifs, collection: str, tax_group: str, release: str) -> list[tuple]:
    """(label, id, name, (w, 4) probabilities, (w, 4) hypothetical or None) of each motif."""
    if motifs is None:
        return [
            (f"{j.matrix_id} {j.name}", j.matrix_id, j.name, j.pwm, None)
            for j in jaspar_matrices(collection, tax_group, release)
        ]
    if isinstance(motifs, (str, Motif, JasparMatrix)):
        motifs = [motifs]
    database = None
    out = []
    for m in motifs:
        if isinstance(m, str):
            if database is None:
                database = {
                    j.matrix_id: j for j in jaspar_matrices(collection, tax_group, release)
                }
                database.update({j.matrix_id.split(".")[0]: j for j in database.values()})
            if m not in database:
                raise ValueError(
                    f"unknown JASPAR id {m!r}: not in JASPAR {release} {collection} "
                    f"{tax_group} (ids look like MA0139.2; a base id such as MA0139 takes the "
                    "version shipped)"
                )
            m = database[m]
        if isinstance(m, JasparMatrix):
            out.append((f"{m.matrix_id} {m.name}", m.matrix_id, m.name, m.pwm, None))
        elif isinstance(m, Motif):
            out.append((m.name, m.name, m.name, m.pwm, m.hypothetical))
        else:
            raise ValueError(
                f"motifs must be JASPAR ids, Motif or JasparMatrix objects, not {type(m).__name__}"
            )
    if not out:
        raise ValueError("no motifs to scan (motifs is empty)")
    labels = [o[0] for o in out]
    repeated = sorted({x for x in labels if labels.count(x) > 1})
    if repeated:
        raise ValueError(f"motif {repeated[0]!r} is given more than once: names must be unique")
    return out


def scan(
    sequences,
    motifs: str | Motif | Iterable[str | Motif | JasparMatrix] | None = None,
    *,
    scores: Scores | None = None,
    threshold: float = 1e-4,
    both_strands: bool = True,
    alpha: float = 0.05,
    collection: str = "CORE",
    tax_group: str = "vertebrates",
    release: str = "JASPAR2026",
    bin_size: float = 0.1,
    eps: float = 1e-4,
) -> pd.DataFrame:
    """Motif hits in sequences (memelite's FIMO), and, given attributions, which the model used.

    Parameters
    ----------
    sequences : str, list of str or pandas.DataFrame
        N sequences, or a table with a ``sequence`` column (``name`` is kept
        as ``sequence_name``); a table from :func:`dnabert_viz.read_intervals`
        also gives every hit its genome coordinates.
    motifs : JASPAR id(s), Motif, MotifSet, list of them, or None
        What to scan for: JASPAR ids (``"MA0139.2"``, or ``"MA0139"`` for the
        version shipped), :class:`Motif` objects (discovered, or read with
        :func:`dnabert_viz.read_meme`), :class:`JasparMatrix`; None: every
        matrix of the JASPAR selection below.
    scores : Scores, optional
        Attributions of exactly these sequences (``Scores.check_sequences``):
        values are per-nucleotide contributions; with ``extra["hypothetical"]``
        (N, L, 4) (one-hot methods, ``hypothetical_ism``, :func:`dnabert_viz.load_ohe`)
        each hit's agreement with the motif is measured too.
    threshold : float
        FIMO's p-value below which a window is a hit.
    both_strands : bool
        Scan the reverse complement of each motif too.
    alpha : float
        The background tail a used hit must reach: its z-scores at least
        ``Φ⁻¹(1 - alpha)`` (1.645 for 0.05).
    collection, tax_group, release : str
        The JASPAR selection (pyjaspar's names) for ids and ``motifs=None``.
    bin_size, eps : float
        memelite FIMO's score bin (p-value resolution) and the pseudocount
        added to each probability before its logarithm.

    Returns
    -------
    pandas.DataFrame
        One row per hit, by motif, sequence and start: ``sequence_index``,
        ``sequence_name`` (a table's ``name``), ``motif`` (``"MA0139.2 CTCF"``
        or a Motif's name), ``motif_id``, ``motif_name``, ``start``, ``end``
        (0-based, end exclusive, on the given sequence), ``strand`` (``-``:
        the reverse complement of ``sequence[start:end]`` matches the motif),
        ``score`` (FIMO's log2-odds), ``p_value`` (memelite's, unchanged),
        ``q_value`` (Benjamini-Hochberg over every window the motif was
        scanned at, both strands; computed from the hits, it is exact where at
        most ``threshold`` and an upper bound above), ``sequence`` (the site
        read on the hit's strand). With coordinates: ``chrom``,
        ``genome_start``, ``genome_end``, ``genome_strand``. With ``scores``:

        * ``contribution``: the mean contribution over the site;
        * ``contribution_z``: its robust z-score, (x - median) / (1.4826 MAD),
          against the mean contribution of every window of the same width in
          the same sequence that does not overlap the site;
        * ``agreement``: cosine between the site's hypothetical contributions
          (w, 4), read on the hit's strand, and the motif's direction (its
          ``hypothetical`` matrix when it has one, else its log-odds with 10%
          uniform mixed in), both centred over the four bases of each column;
          NaN without hypothetical contributions;
        * ``agreement_z``: its robust z-score against the same motif on every
          window of that sequence clear of the site, same strand;
        * ``used``: True when ``contribution_z`` and ``agreement_z`` (only the
          first without hypothetical contributions) are both at least
          ``Φ⁻¹(1 - alpha)``: the site carries more contribution, and in the
          motif's shape, than all but a fraction ``alpha`` of its own
          sequence's windows; False otherwise ("ignored"); <NA> where the
          sequence has fewer than 10 windows clear of the site, or flat scores.

        ``attrs``: ``n_sequences``, ``motifs`` (every label scanned, hit or not).
        The table is what :class:`dnabert_viz.widgets.SequenceExplorer`
        shades as ``instances=`` (``sequence_index``, ``start``, ``end``,
        ``motif``): pass it, or ``hits[hits.used == True]``, as it is.

    Raises
    ------
    ValueError
        An unknown JASPAR id, a motif wider than a sequence, scores of other
        sequences, an option out of range; one line each.
    """
    from memelite import fimo
    from scipy.stats import norm

    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be a p-value in (0, 1], not {threshold}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), not {alpha}")
    table = sequences if isinstance(sequences, pd.DataFrame) else None
    seqs, coordinates = split_input(sequences)
    seqs = check_sequences(seqs)
    if scores is not None:
        scores.check_sequences(seqs, "scores")
    matrices = _motif_matrices(motifs, collection, tax_group, release)
    lengths = np.array([len(s) for s in seqs])
    shortest = int(lengths.argmin())
    for label, _, _, pwm, _ in matrices:
        if len(pwm) > lengths[shortest]:
            raise ValueError(
                f"motif {label!r} is {len(pwm)} nt, longer than sequence {shortest} "
                f"({lengths[shortest]} nt): drop the motif or the short sequences"
            )
    x = one_hot(seqs).astype(np.int8).transpose(0, 2, 1)  # (N, 4, L); padding scores as N
    found = fimo(
        {str(k): pwm.T for k, (_, _, _, pwm, _) in enumerate(matrices)},
        np.ascontiguousarray(x),
        threshold=threshold,
        reverse_complement=both_strands,
        bin_size=bin_size,
        eps=eps,
    )
    columns = {c: [] for c in ("motif_index", "sequence_index", "start", "end", "strand")}
    columns.update(score=[], p_value=[], q_value=[])
    for k, frame in enumerate(found):
        i = frame["sequence_name"].to_numpy(dtype=np.int64)
        end = frame["end"].to_numpy(dtype=np.int64)
        keep = end <= lengths[i]  # no window runs into the padding past a sequence's end
        p = frame["p-value"].to_numpy(dtype=float)[keep]
        windows = (lengths - len(matrices[k][3]) + 1).sum() * (2 if both_strands else 1)
        columns["motif_index"].append(np.full(keep.sum(), k))
        columns["sequence_index"].append(i[keep])
        columns["start"].append(frame["start"].to_numpy(dtype=np.int64)[keep])
        columns["end"].append(end[keep])
        columns["strand"].append(frame["strand"].to_numpy(dtype=object)[keep])
        columns["score"].append(frame["score"].to_numpy(dtype=float)[keep])
        columns["p_value"].append(p)
        columns["q_value"].append(_window_q_values(p, windows))
    hits = pd.DataFrame({c: np.concatenate(v) for c, v in columns.items()})
    which = hits.pop("motif_index").to_numpy()
    for column, field in (("motif", 0), ("motif_id", 1), ("motif_name", 2)):
        hits[column] = np.array([m[field] for m in matrices], dtype=object)[which]
    hits = hits.sort_values(["motif", "sequence_index", "start", "strand"], kind="stable")
    hits = hits.reset_index(drop=True)
    hits["sequence"] = [
        seqs[i][s:e] if t == "+" else reverse_complement(seqs[i][s:e])
        for i, s, e, t in zip(hits["sequence_index"], hits["start"], hits["end"], hits["strand"])
    ]
    hits = hits[HIT_COLUMNS]
    if table is not None and "name" in table:
        names = table["name"].astype(str).to_numpy()
        hits.insert(1, "sequence_name", names[hits["sequence_index"].to_numpy()])
    if coordinates is not None:
        where = on_genome(
            coordinates, hits["sequence_index"], hits["start"], hits["end"], hits["strand"]
        )
        for column, values in zip(GENOME_COLUMNS, where):
            hits[column] = values
    if scores is not None:
        labelled = {m[0]: m for m in matrices}
        hits = pd.concat(
            [hits, _contributions(hits, scores, labelled, float(norm.isf(alpha)))], axis=1
        )
    hits.attrs.update(n_sequences=len(seqs), motifs=[m[0] for m in matrices])
    return hits


def _window_q_values(p: np.ndarray, n_windows: int) -> np.ndarray:
    """Benjamini-Hochberg q-values of the ``len(p)`` smallest of ``n_windows`` p-values."""
    if not len(p):
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order] * n_windows / np.arange(1, len(p) + 1)
    out = np.empty_like(p)
    out[order] = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    return out


def _direction(pwm: np.ndarray, hypothetical: np.ndarray | None) -> np.ndarray:
    """The (w, 4) motif direction hypothetical contributions are compared with, column-centred."""
    if hypothetical is not None:
        matrix = np.asarray(hypothetical, dtype=float)
    else:
        mixed = (1 - AGREEMENT_PSEUDOCOUNT) * pwm + AGREEMENT_PSEUDOCOUNT / 4
        matrix = np.log2(mixed / 0.25)
    return matrix - matrix.mean(axis=1, keepdims=True)


def _row_medians(a: np.ndarray) -> np.ndarray:
    """Median of each row's non-NaN values (NaN for a row of none), (h,)."""
    ordered = np.sort(a, axis=1)  # NaN sorts last
    k = (~np.isnan(a)).sum(axis=1)
    rows = np.arange(len(a))
    low, high = np.maximum((k - 1) // 2, 0), np.maximum(k // 2, 0)
    return np.where(k > 0, (ordered[rows, low] + ordered[rows, high]) / 2, np.nan)


def _robust_z(windows: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """Each hit's window value as a robust z-score against the windows of its row clear of it.

    ``windows`` (h, n) holds every window of each hit's sequence (NaN past its end); the hit's
    own is ``windows[k, starts[k]]``; windows that overlap it are left out.
    """
    h, n = windows.shape
    own = windows[np.arange(h), starts]
    near = np.abs(np.arange(n)[None, :] - starts[:, None]) < width
    background = np.where(near, np.nan, windows)
    centre = _row_medians(background)
    scale = 1.4826 * _row_medians(np.abs(background - centre[:, None]))
    enough = (~np.isnan(background)).sum(axis=1) >= MIN_BACKGROUND
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(enough & (scale > 0), (own - centre) / scale, np.nan)


def _contributions(
    hits: pd.DataFrame, scores: Scores, matrices: dict, z_cut: float
) -> pd.DataFrame:
    """The contribution columns of :func:`scan` (see there)."""
    values = np.asarray(scores.values, dtype=float)
    hypothetical = None
    if "hypothetical" in scores.extra:
        hypothetical = scores.hypothetical().astype(float)
        hypothetical = hypothetical - hypothetical.mean(axis=2, keepdims=True)
        norms = np.concatenate(
            [np.zeros((len(values), 1)), np.cumsum((hypothetical**2).sum(axis=2), axis=1)], axis=1
        )
    padded = np.concatenate([np.zeros((len(values), 1)), np.cumsum(values, axis=1)], axis=1)
    columns = {c: np.full(len(hits), np.nan) for c in CONTRIBUTION_COLUMNS[:4]}
    chunk = 4096
    groups = hits.groupby(["motif", "strand"], sort=False).indices
    index_rows = hits["sequence_index"].to_numpy()
    index_starts = hits["start"].to_numpy()
    for (label, strand), positions in groups.items():
        _, _, _, pwm, hyp = matrices[label]
        width = len(pwm)
        direction = _direction(pwm, hyp)
        if strand == "-":
            direction = direction[::-1, ::-1]
        direction = direction / np.linalg.norm(direction)
        for lo in range(0, len(positions), chunk):
            part = positions[lo : lo + chunk]
            rows, starts, k = index_rows[part], index_starts[part], np.arange(len(part))
            means = (padded[rows, width:] - padded[rows, :-width]) / width  # (h, n); NaN past end
            columns["contribution"][part] = means[k, starts]
            columns["contribution_z"][part] = _robust_z(means, starts, width)
            if hypothetical is None:
                continue
            n, site = means.shape[1], hypothetical[rows]
            dots = sum(site[:, j : j + n] @ direction[j] for j in range(width))
            size = np.sqrt(np.maximum(norms[rows, width:] - norms[rows, :-width], 0))
            with np.errstate(divide="ignore", invalid="ignore"):
                cosines = np.where(size > 0, dots / size, np.nan)
            columns["agreement"][part] = cosines[k, starts]
            columns["agreement_z"][part] = _robust_z(cosines, starts, width)
    out = pd.DataFrame(columns, index=hits.index)
    judged = out["contribution_z"].notna()
    used = out["contribution_z"] >= z_cut
    if hypothetical is not None:
        judged &= out["agreement_z"].notna()
        used &= out["agreement_z"] >= z_cut
    out["used"] = pd.array(np.where(judged, used, pd.NA), dtype="boolean")
    return out


def hit_enrichment(hits: pd.DataFrame, labels: Sequence[int]) -> pd.DataFrame:
    """Each motif's hits in positives against negatives: Fisher's exact test, Benjamini-Hochberg.

    Parameters
    ----------
    hits : pandas.DataFrame
        :func:`scan`'s table (or a selection of its rows, e.g. the used hits:
        ``hits[hits.used == True]``), whose ``attrs`` say how many sequences
        and which motifs were scanned.
    labels : sequence of int
        (N,) 1 for positives, 0 for negatives, one per scanned sequence.

    Returns
    -------
    pandas.DataFrame
        One row per scanned motif, most enriched first: ``motif``,
        ``positives`` and ``negatives`` (sequences holding at least one hit),
        ``n_positives``, ``n_negatives``, ``odds_ratio`` (with 0.5 added to
        each cell), ``p_value`` (one-sided Fisher: more positives hold it than
        chance would put there), ``q_value`` (Benjamini-Hochberg over the motifs).
    """
    labels = np.asarray(labels)
    n = hits.attrs.get("n_sequences")
    if n is None or "motifs" not in hits.attrs:
        raise ValueError(
            "hits carry no attrs['n_sequences'] and attrs['motifs']: give scan()'s table"
        )
    if len(labels) != n:
        raise ValueError(f"{len(labels)} labels for {n} scanned sequences")
    if not np.isin(labels, [0, 1]).all():
        raise ValueError(
            f"labels must be 0 (negative) or 1 (positive), got {sorted(set(labels.tolist()))[:5]}"
        )
    n_pos = int(labels.sum())
    if n_pos in (0, n):
        raise ValueError("labels need positives (1) and negatives (0)")
    holding = hits[["motif", "sequence_index"]].drop_duplicates()
    positive = labels[holding["sequence_index"].to_numpy()] == 1
    pos = holding[positive].groupby("motif").size()
    neg = holding[~positive].groupby("motif").size()
    motifs = hits.attrs["motifs"]
    a = pos.reindex(motifs, fill_value=0).to_numpy()
    b = neg.reindex(motifs, fill_value=0).to_numpy()
    p = hypergeometric_pvalues(a, a + b, n_pos, n)
    odds = ((a + 0.5) * (n - n_pos - b + 0.5)) / ((b + 0.5) * (n_pos - a + 0.5))
    table = pd.DataFrame(
        {
            "motif": motifs,
            "positives": a,
            "negatives": b,
            "n_positives": n_pos,
            "n_negatives": n - n_pos,
            "odds_ratio": odds,
            "p_value": p,
            "q_value": benjamini_hochberg(p),
        }
    )
    return table.sort_values(["p_value", "motif"], kind="stable").reset_index(drop=True)


def genome_hits(hits: pd.DataFrame) -> pd.DataFrame:
    """Hits on the genome as BED6 (``chrom``, ``start``, ``end``, ``name``: the motif, ``score``:
    -10 log10 p capped at 1000, ``strand``), for :func:`dnabert_viz.tracks.write_bed`.

    Raises
    ------
    ValueError
        When the hits carry no genome coordinates.
    """
    if not all(c in hits for c in GENOME_COLUMNS):
        raise ValueError(
            "these hits carry no genome coordinates: scan the table of read_intervals(...) "
            "(not its sequence column) to put hits on the genome"
        )
    return pd.DataFrame(
        {
            "chrom": hits["chrom"],
            "start": hits["genome_start"],
            "end": hits["genome_end"],
            "name": hits["motif"].str.replace(" ", "_"),
            "score": np.minimum(1000, np.round(-10 * np.log10(hits["p_value"]))).astype(int),
            "strand": hits["genome_strand"],
        }
    )
