"""The DNABERT-viz motif analysis (Ji et al. 2021, ``motif_utils.py``), step by step.

1. :func:`high_score_regions`: in each positive sequence, contiguous runs of at
   least ``min_len`` nucleotides scoring above the sequence's mean and above
   10 x its minimum (or, for flat scores, above mean + 2.5 SD: see the
   deviations below).
2. :func:`enriched_candidates`: every distinct region sequence is a candidate;
   the number of positive and of negative sequences containing it (exact
   substring, once per sequence) gives a hypergeometric p-value, adjusted by
   Benjamini-Hochberg; candidates with adjusted p < ``pval_cutoff`` stay.
3. :func:`merge_candidates`: shortest first, each candidate is aligned (no
   internal gaps, free end gaps, match 1, mismatch 0) to the motifs merged so
   far, and joins the first best-scoring one (in creation order) when the
   score reaches max(min_len - 1, half the shorter length); its instances are
   moved onto the key's extent by the alignment offset. Otherwise it becomes
   a new key.
4. :func:`centre_windows`: every instance is re-centred on a ``window_size``
   window (the extra base on the right when the difference is odd); windows
   running off their sequence are dropped; motifs with fewer than
   ``min_n_motif`` instances are dropped.

Parity: ``../shared/tools/motif_parity.py`` runs the published
``motif_utils.py`` (Biopython 1.85) and this module on the same planted data
(5,000 + 5,000 sequences of 500 nt): 12 motifs each, instance-window Jaccard
0.999 (1,857 windows here, 1,856 there: the window rule below), about 140x
faster (numbers in benchmarks/README.md); ``tests/test_motifs.py`` checks
exact equality at 1,500 + 1,500 x 250 nt.

What the published code does, reproduced here although the text says otherwise:

* Ties between keys: ``best_score = max(alignments, key=score)`` is an
  alignment *object*, and each alignment is compared to it, so only that one
  ever matches: ``align_all_ties`` has no effect and a candidate joins only
  the first best-scoring key. Here too (the parameter is accepted, as there).
* Ties between shifts: among equally good shifts of one pair the published
  code takes the alignment Biopython returns first. Here: the rightmost
  tied shift when one of them leaves the key overhanging the query's right
  end, the leftmost otherwise (see :func:`.alignment.align_to_keys`; checked
  against Biopython on random pairs in the tests).

Deviations from the published scripts, each on purpose:

* Offsets: the script sets ``right_offset`` in three cases and leaves it
  undefined in a fourth (both strings overhanging on the right), which an
  alignment without internal gaps never produces. Here an instance always
  moves onto the key's full extent, ``(start + offset, start + offset +
  len(key))``, which is what the three defined cases compute.
* Windows: the script keeps a window only if its end is ``< len(sequence)``,
  losing windows that end exactly at the sequence's end; here ``<=`` (the one
  extra window in the parity run above).
* Biopython >= 1.86 changed ``PairwiseAligner``'s default gap scores, so the
  published code now merges differently; this module does not use
  Biopython and keeps the original scoring.
* Defaults: the published command line uses ``min_len=5``, the function
  ``min_len=4``; this workbench uses ``min_len=5``.
* Flat scores: ``regions="auto"`` (the default) keeps the published rule
  when most sequences' minimum is below a tenth of their mean, and otherwise
  takes nucleotides above each sequence's mean + 2.5 SD (:func:`region_rule`
  says why; ``regions="published"`` always applies the published rule).
  The parity data and DNABERT's own attention are of the first kind.
* Each motif's p-value is the smallest adjusted p-value among the
  candidates merged into it (the script keeps none).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .alignment import align_to_keys, encode
from .counting import count_containing
from .motif import INSTANCE_COLUMNS, Motif
from .stats import benjamini_hochberg, hypergeometric_pvalues

# Flat scores: above mean + 2.5 SD of the sequence. benchmarks/recovery.py on ten data sets
# (16 known motifs): 1.5 SD recovered 14 with 51 spurious motifs, 2 SD 14 / 35, 2.5 SD 13 / 9,
# 3 SD 10 / 8; the published rule 8 / 13 (models trained at learning rate 1e-3; at 3e-4, 2.5 SD
# 12 / 26 and 3 SD 12 / 10: recall first, 2.5 stays). A region longer than 1 / (1 + 2.5^2) =
# 14% of its sequence cannot pass (a binary signal over a share p is (1 - p) / sqrt(p (1 - p))
# SD up).
FLAT_SD = 2.5


def high_score_regions(
    values: np.ndarray, min_len: int = 5, rule: str | float = "published"
) -> pd.DataFrame:
    """Contiguous high-score regions of every sequence (step 1).

    Parameters
    ----------
    values : numpy.ndarray
        (N, longest length) scores, NaN past each sequence's end.
    min_len : int
        Shortest region kept, in nucleotides.
    rule : "published" or float
        ``"published"``: above the sequence's mean and above 10 x its minimum
        (``motif_utils.py``); a number z: above the sequence's mean + z x its
        standard deviation.

    Returns
    -------
    pandas.DataFrame
        Columns ``sequence_index``, ``start``, ``end`` (end exclusive), in
        sequence then position order.
    """
    values = np.asarray(values, dtype=float)
    valid = ~np.isnan(values)
    filled = np.where(valid, values, 0.0)
    n = valid.sum(axis=1, keepdims=True)
    mean = filled.sum(axis=1, keepdims=True) / n
    if rule == "published":
        minimum = np.where(valid, values, np.inf).min(axis=1, keepdims=True)
        high = valid & (filled > mean) & (filled > 10 * minimum)
    else:
        sd = np.sqrt(np.where(valid, (filled - mean) ** 2, 0.0).sum(axis=1, keepdims=True) / n)
        high = valid & (filled > mean + float(rule) * sd)
    edges = np.diff(np.pad(high.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)
    keep = ends - starts >= min_len
    return pd.DataFrame({"sequence_index": rows[keep], "start": starts[keep], "end": ends[keep]})


def region_rule(values: np.ndarray, rule: str | float = "auto") -> str | float:
    """The rule ``rule="auto"`` stands for: ``"published"`` when most sequences' scores have a
    floor far below their mean, :data:`FLAT_SD` otherwise.

    The published rule was made for DNABERT's attention, whose minimum is a
    small fraction of its mean; there "above 10 x the minimum" hardly
    matters. Where the minimum is above a tenth of the mean in half the
    sequences or more (attention of a small model trained from scratch, or
    scores shifted by a constant) that condition decides alone and leaves
    most sequences without any region (GUE mouse_tf_2: 14 regions in 1,163
    positives, median minimum 0.41 x the mean); a threshold in units of each
    sequence's own spread does not depend on the floor or the scale.

    Parameters
    ----------
    values : numpy.ndarray
        (N, longest length) scores, NaN past each sequence's end.
    rule : "auto", "published" or float
        Anything but ``"auto"`` is returned as it is.
    """
    if rule != "auto":
        if rule != "published" and not isinstance(rule, (int, float)):
            raise ValueError(f"regions must be 'auto', 'published' or a number, not {rule!r}")
        return rule
    values = np.asarray(values, dtype=float)
    floor = np.nanmin(values, axis=1) < np.nanmean(values, axis=1) / 10
    return "published" if floor.mean() > 0.5 else FLAT_SD


def enriched_candidates(
    pos_seqs: list[str], neg_seqs: list[str], candidates: list[str], pval_cutoff: float
) -> pd.DataFrame:
    """Counts and adjusted p-values of distinct candidate sequences, significant ones only (step
    2).

    Parameters
    ----------
    pos_seqs, neg_seqs : list of str
        Positive and negative sequences.
    candidates : list of str
        Distinct region sequences.
    pval_cutoff : float
        Keep candidates with Benjamini-Hochberg adjusted p below this.

    Returns
    -------
    pandas.DataFrame
        One row per kept candidate: ``candidate``, ``n_pos``, ``n_neg``
        (sequences containing it), ``p_value``, ``p_adjusted``, in first-seen order;
        ``attrs["best_p_adjusted"]``: the smallest adjusted p-value of all candidates.
    """
    groups = np.r_[np.zeros(len(pos_seqs), np.int64), np.ones(len(neg_seqs), np.int64)]
    counts = count_containing(pos_seqs + neg_seqs, candidates, groups)
    p = hypergeometric_pvalues(
        counts[:, 0], counts.sum(axis=1), len(pos_seqs), len(pos_seqs) + len(neg_seqs)
    )
    table = pd.DataFrame(
        {
            "candidate": candidates,
            "n_pos": counts[:, 0],
            "n_neg": counts[:, 1],
            "p_value": p,
            "p_adjusted": benjamini_hochberg(p),
        }
    )
    kept = table[table["p_adjusted"] < pval_cutoff].reset_index(drop=True)
    kept.attrs["best_p_adjusted"] = float(table["p_adjusted"].min()) if len(table) else np.nan
    return kept


def candidate_instances(
    sites: list[str], regions: np.ndarray, wanted: set[str]
) -> dict[str, np.ndarray]:
    """The regions of each wanted candidate: sequence -> (n, 3) rows of sequence index, start,
    end."""
    instances: dict[str, list] = {}
    for site, row in zip(sites, regions):
        if site in wanted:
            instances.setdefault(site, []).append(row)
    return {k: np.array(v, dtype=np.int64) for k, v in instances.items()}


def merge_candidates(
    candidates: list[str], instances: dict[str, np.ndarray], min_len: int = 5
) -> dict[str, dict]:
    """Merge similar candidates, shortest first (step 3).

    Parameters
    ----------
    candidates : list of str
        Candidate sequences (any order; sorted by length here, stably).
    instances : dict of str to numpy.ndarray
        Each candidate's instances, (n, 3) rows of sequence index, start, end.
    min_len : int
        Enters the merge threshold max(min_len - 1, half the shorter length).

    Returns
    -------
    dict
        Key sequence -> ``{"instances": (n, 3) array, "members": [candidates]}``,
        in the order keys were created.
    """
    merged: dict[str, dict] = {}
    keys: list[str] = []
    codes = np.zeros((0, 0), dtype=np.uint8)
    key_lengths = np.zeros(0, dtype=np.int64)
    for cand in sorted(candidates, key=len):
        if keys:
            scores, offsets = align_to_keys(cand, codes, key_lengths)
            cutoff = np.maximum(min_len - 1, 0.5 * np.minimum(len(cand), key_lengths))
            passing = np.flatnonzero(scores >= cutoff)
        else:
            passing = np.zeros(0, dtype=np.int64)
        if len(passing) == 0:
            merged[cand] = {"instances": [instances[cand]], "members": [cand]}
            keys.append(cand)
            codes = encode(keys)
            key_lengths = np.array([len(k) for k in keys])
            continue
        k = passing[scores[passing].argmax()]  # the first best key in creation order
        moved = instances[cand].copy()
        moved[:, 1] += offsets[k]
        moved[:, 2] = moved[:, 1] + key_lengths[k]
        merged[keys[k]]["instances"].append(moved)
        merged[keys[k]]["members"].append(cand)
    return {
        k: {"instances": np.concatenate(v["instances"]), "members": v["members"]}
        for k, v in merged.items()
    }


def centre_windows(instances: np.ndarray, lengths: np.ndarray, window_size: int) -> np.ndarray:
    """Re-centre (n, 3) instances on ``window_size`` windows, dropping those off their sequence
    (step 4)."""
    grow = window_size - (instances[:, 2] - instances[:, 1])
    out = instances.copy()
    out[:, 1] -= grow // 2
    out[:, 2] = out[:, 1] + window_size
    inside = (out[:, 1] >= 0) & (out[:, 2] <= lengths[out[:, 0]])
    return out[inside]


def dnabert_viz_motifs(
    pos_seqs: list[str],
    neg_seqs: list[str],
    values: np.ndarray,
    window_size: int = 24,
    min_len: int = 5,
    pval_cutoff: float = 0.005,
    min_n_motif: int = 3,
    regions: str | float = "published",
) -> tuple[list[Motif], str | None]:
    """The four steps on validated input; see :func:`dnabert_viz.find_motifs` for the
    parameters.

    Returns
    -------
    motifs : list of Motif
    why_none : str or None
        Without motifs, why: the step where the candidates fell out, and what would help.
    """
    rule = region_rule(values, regions)
    region_array = high_score_regions(values, min_len, rule).to_numpy(np.int64)
    rule_text = "published" if rule == "published" else f"mean + {rule:g} SD"
    if not len(region_array):
        return [], (
            f"no high-score region of {min_len} nt or more in the {len(pos_seqs)} positives "
            f"({rule_text} rule); a lower min_len finds shorter ones"
        )
    sites = [pos_seqs[i][s:e] for i, s, e in region_array]
    candidates = list(dict.fromkeys(sites))
    kept = enriched_candidates(pos_seqs, neg_seqs, candidates, pval_cutoff)
    if kept.empty:
        return [], _why_not_enriched(len(pos_seqs), len(neg_seqs), candidates, kept, pval_cutoff)
    instances = candidate_instances(sites, region_array, set(kept["candidate"]))
    merged = merge_candidates(kept["candidate"].tolist(), instances, min_len)
    adjusted = dict(zip(kept["candidate"], kept["p_adjusted"]))
    lengths = np.array([len(s) for s in pos_seqs])
    motifs, most = [], 0
    for key, group in merged.items():
        windows = centre_windows(group["instances"], lengths, window_size)
        most = max(most, len(windows))
        if len(windows) < min_n_motif:
            continue
        table = pd.DataFrame(windows, columns=["sequence_index", "start", "end"])
        table["strand"] = "+"
        table["sequence"] = [pos_seqs[i][s:e] for i, s, e in windows]
        motifs.append(
            Motif.from_sites(
                key,
                table[INSTANCE_COLUMNS],
                p_value=float(min(adjusted[m] for m in group["members"])),
                method="dnabert_viz",
                meta={"members": group["members"], "regions": rule_text},
            )
        )
    why_none = (
        f"the {len(kept)} enriched candidates merge into {len(merged)} motifs, none with "
        f"{min_n_motif} instances whose {window_size}-nt windows lie inside their sequences "
        f"(the most: {most}); a lower min_n_motif or window_size keeps more"
    )
    return sorted(motifs, key=lambda m: -m.n_instances), None if motifs else why_none


def _why_not_enriched(
    n_pos: int, n_neg: int, candidates: list[str], kept: pd.DataFrame, pval_cutoff: float
) -> str:
    """Why no candidate passed the enrichment test: too few sequences for any to pass, or none
    enriched enough."""
    # the smallest p-value there is: a candidate in every positive and in no negative
    smallest = float(
        hypergeometric_pvalues(np.array([n_pos]), np.array([n_pos]), n_pos, n_pos + n_neg)[0]
    )
    if smallest >= pval_cutoff:
        return (
            f"too few sequences: with {n_pos} positives and {n_neg} negatives no candidate can "
            f"reach p < {pval_cutoff:g} (the smallest possible is {smallest:.2g}); give more"
        )
    return (
        f"none of the {len(candidates)} candidate regions is enriched in the positives at "
        f"adjusted p < {pval_cutoff:g} (the best: {kept.attrs['best_p_adjusted']:.2g}); a "
        "higher pval_cutoff admits weaker ones"
    )
