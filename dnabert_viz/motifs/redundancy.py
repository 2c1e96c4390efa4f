"""One motif per binding site: merge discovered motifs that are the same motif.

DNABERT-viz merges candidate k-mers by ungapped alignment on the given strand
only, so one factor's site often comes out as several motifs: the site read
on each strand (``GCGGGAA`` and ``TTCCCGC``), and fragments of a long site
whose seeds did not overlap enough to merge (CTCF's 19 nt). On DNABERT's
CTCF set the published analysis gives ten motifs, all CTCF; on the recovery
table's planted sets three planted factors come out as ten or eleven motifs.

:func:`merge_similar` compares every pair of motifs with TOMTOM (memelite),
on both strands, with JASPAR's vertebrate matrices as the null's background
columns (TOMTOM's p-values are calibrated on its targets' columns, so ten
discovered motifs alone would give an unreliable null). Greedily, most
instances first, a motif whose best match among the motifs kept so far has
``p < max_p`` joins it: its instances are re-aligned to the kept motif's
window by TOMTOM's offset and strand, those that fall off their sequence are
dropped (as DNABERT-viz drops windows off the sequence), those already
listed at the same place are not listed twice, and the kept motif's counts
are rebuilt from all its sites (its contribution and hypothetical matrices,
where it has them, from the motifs' scores).

TOMTOM comes from memelite; the grouping and the re-alignment of instances
are written here because the libraries at hand merge only their own
motifs (tfmodisco-lite its seqlet patterns).

Off by default in :func:`dnabert_viz.find_motifs` (``merge_similar=True``
turns it on): the default output stays the published analysis's, instance
for instance, which the parity test checks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..sequences import one_hot, reverse_complement
from .motif import INSTANCE_COLUMNS, Motif, MotifSet, hypothetical_cwm

#: TOMTOM p-value below which two discovered motifs are one (``benchmarks/README.md``,
#: "Merging similar motifs": 1e-3 left the fewest spurious motifs on both model generations).
MAX_P = 1e-3


def merge_similar(
    motifs: MotifSet, *, max_p: float = MAX_P, trim_information: float = 0.25
) -> MotifSet:
    """Merge motifs that TOMTOM finds to be the same motif (either strand, any offset).

    Parameters
    ----------
    motifs : MotifSet
        Discovered motifs with their instances and the sequences they index;
        those with more instances are kept first.
    max_p : float
        TOMTOM p-value (JASPAR's columns as background) below which a motif
        joins the kept motif it matches best.
    trim_information : float
        Flanking columns below this many bits are trimmed before comparing.

    Returns
    -------
    MotifSet
        The kept motifs, most instances first, each as wide as it was. A merged
        one has the smallest p-value of its group and ``meta["merged"]``: the
        absorbed motifs' names, their instance count, how many fell off their
        sequence once re-aligned and how many were already listed at the same
        place.

    Raises
    ------
    ValueError
        Motifs without instances or without the sequences they index (matrices
        read from a file).
    """
    from memelite import tomtom

    from .jaspar import jaspar_matrices

    if len(motifs) < 2:
        return motifs
    if motifs.sequences is None or any(not len(m.instances) for m in motifs):
        raise ValueError(
            "merge_similar needs discovered motifs: their instances and the sequences they index"
        )
    trimmed = [m.trimmed(min_information=trim_information) for m in motifs]
    cuts = [t.meta["trimmed"] if t is not m else (0, 0) for t, m in zip(trimmed, motifs)]
    queries = [t.pwm.T for t in trimmed]
    p, _, offsets, _, strands = tomtom(
        queries, queries + [t.pwm.T for t in jaspar_matrices()], reverse_complement=True
    )
    groups: dict[int, list[tuple[Motif, int, bool]]] = {}
    for i in sorted(range(len(motifs)), key=lambda i: -motifs[i].n_instances):
        motif = motifs[i]
        best = min(groups, key=lambda f: np.nan_to_num(p[i, f], nan=1.0), default=None)
        if best is None or not p[i, best] < max_p:  # NaN: no alignment, no merge
            groups[i] = []
            continue
        flip = bool(strands[i, best])
        shift = _shift(
            cuts[i], cuts[best], len(trimmed[i]), len(trimmed[best]), offsets[i, best], flip
        )
        groups[best].append((motif, shift, flip))
    merged = [_absorb(motifs[f], members, motifs) for f, members in groups.items()]
    return MotifSet(sorted(merged, key=lambda m: -m.n_instances), motifs.sequences, motifs.scores)


def _shift(
    member_cut: tuple[int, int],
    founder_cut: tuple[int, int],
    member_len: int,
    founder_len: int,
    offset: float,
    flip: bool,
) -> int:
    """Column of the whole member (reverse-complemented when ``flip``) that lines up with the
    whole founder's column 0, from TOMTOM's alignment of the two trimmed ones.

    TOMTOM lines query column c up with target column ``c + offset`` (of the
    reverse-complemented target when ``flip``); a cut is the (left, right)
    columns trimmed, ``*_len`` the trimmed lengths.
    """
    offset = int(offset)
    if not flip:
        return member_cut[0] - founder_cut[0] - offset
    # Founder column x faces column x + offset + member_len - founder_len of the
    # reverse-complemented trimmed member, whose left cut is the member's right one.
    return offset + member_len - founder_len + member_cut[1] - founder_cut[0]


def _absorb(founder: Motif, members: list[tuple[Motif, int, bool]], motifs: MotifSet) -> Motif:
    """The founder with its members' instances re-aligned to its window."""
    if not members:
        return founder
    moved = [
        _moved(m.instances, shift, len(founder), flip, motifs.sequences)
        for m, shift, flip in members
    ]
    table = pd.concat([founder.instances[INSTANCE_COLUMNS], *moved], ignore_index=True)
    unique = table.drop_duplicates(["sequence_index", "start", "end"], keep="first")
    values = motifs.scores.values if motifs.scores is not None else None
    hypothetical = motifs.scores.extra.get("hypothetical") if motifs.scores is not None else None
    return Motif.from_sites(
        founder.name,
        unique,
        p_value=float(np.fmin.reduce([founder.p_value, *(m.p_value for m, _, _ in members)])),
        method=founder.method,
        contribution=(
            None
            if founder.contribution is None or values is None
            else _contribution(unique, motifs.sequences, values)
        ),
        hypothetical=(
            None
            if founder.hypothetical is None or hypothetical is None
            else hypothetical_cwm(unique, hypothetical)
        ),
        meta={
            **founder.meta,
            "merged": {
                "motifs": [m.name for m, _, _ in members],
                "instances": sum(len(m.instances) for m, _, _ in members),
                "off_sequence": sum(
                    len(m.instances) - len(t) for (m, _, _), t in zip(members, moved)
                ),
                "already_listed": len(table) - len(unique),
            },
        },
    )


def _moved(
    instances: pd.DataFrame, shift: int, width: int, flip: bool, sequences: list[str]
) -> pd.DataFrame:
    """Instances as ``width``-nt windows from column ``shift`` of their motif (read on the other
    strand when ``flip``), those inside their sequence.

    Column j of a site read on ``+`` is sequence position ``start + j``; on
    ``-``, ``end - 1 - j``. Flipping the motif reads every instance on its
    other strand.
    """
    index = instances["sequence_index"].to_numpy(int)
    start, end = instances["start"].to_numpy(int), instances["end"].to_numpy(int)
    plus = (instances["strand"] != "-").to_numpy() ^ flip
    begin = np.where(plus, start + shift, end - shift - width)
    inside = (begin >= 0) & (begin + width <= np.array([len(sequences[i]) for i in index]))
    rows = pd.DataFrame(
        {
            "sequence_index": index[inside],
            "start": begin[inside],
            "end": begin[inside] + width,
            "strand": np.where(plus, "+", "-")[inside],
        }
    )
    rows["sequence"] = [
        sequences[i][a:b] if st == "+" else reverse_complement(sequences[i][a:b])
        for i, a, b, st in rows.itertuples(index=False)
    ]
    return rows[INSTANCE_COLUMNS]


def _contribution(instances: pd.DataFrame, sequences: list[str], values: np.ndarray) -> np.ndarray:
    """Mean contribution of aligned instances, (width, 4): :func:`hypothetical_cwm` of each
    instance's sequence, one-hot, times its scores (only the sequences the instances are in)."""
    weighted = {
        i: one_hot(sequences[i])[0] * np.nan_to_num(values[i, : len(sequences[i])])[:, None]
        for i in instances["sequence_index"].unique().tolist()
    }
    return hypothetical_cwm(instances, weighted)
