"""TF-MoDISco (tfmodisco-lite) on a language model's hypothetical contributions, and its .h5
reports.

tfmodisco-lite takes one-hot sequences and hypothetical contributions, both
(N, L, 4); the workbench gets those from the one-hot bridge or ISM
(:mod:`dnabert_viz.contributions`) or from a CNN's files
(:func:`dnabert_viz.load_ohe`). A run writes modisco's own ``.h5`` report;
:func:`read_modisco` turns a report (ours, or one written by ``modisco
motifs``) into the workbench's :class:`Motif` objects: the PWM from the
aligned seqlets' bases, the contribution-weighted matrix (CWM) and the
hypothetical CWM from the pattern, and one instance per seqlet (sequence
index, start, end, strand).

Settings for 70-200 nt inputs (:data:`MODISCO_OPTIONS`). tfmodisco-lite's
defaults are made for 1-2 kb ChIP-seq windows holding thousands of
seqlets: a 21-nt sliding window with 10-nt flanks (41-nt seqlets, a
third of a short sequence), metaclusters of at least 100 seqlets, patterns
of at least 20 and trimming to 30 nt. On short inputs with a few hundred
sequences we use a 15-nt window with 5-nt flanks (25-nt seqlets: a
18-nt TP53 dimer fits, one or two seqlets per 100-200 nt sequence),
trimming to 20 nt, metaclusters from 20 seqlets, patterns from 10, and 10
Leiden runs instead of 50 (the time goes mostly into Leiden; more runs
change little at this size). Sequences of unequal length are padded at the
end with all-zero rows (no base, no contribution), which never hold a seqlet.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..onehot import check_contributions
from ..scores import Scores
from ..sequences import check_sequences, one_hot
from .motif import INSTANCE_COLUMNS, Motif, MotifSet
from .numba_cache import cache_kernels

MODISCO_OPTIONS = {
    "sliding_window_size": 15,
    "flank_size": 5,
    "target_seqlet_fdr": 0.05,
    "min_metacluster_size": 20,
    "trim_to_window_size": 20,
    "initial_flank_to_add": 5,
    "final_flank_to_add": 0,
    "min_num_to_trim_to": 10,
    "final_min_cluster_size": 10,
    "n_leiden_runs": 10,
    "max_seqlets_per_metacluster": 2000,
}
PSEUDOCOUNT = 1e-3  # per base and column of a PWM: modisco's own ppm_pseudocount (no empty column)


def modisco_motifs(
    seqs,
    scores: Scores | np.ndarray,
    min_n_motif: int = 3,
    report: str | Path | None = None,
    **options,
) -> MotifSet:
    """Run tfmodisco-lite on hypothetical contributions and return its patterns as Motifs.

    Parameters
    ----------
    seqs : str or list of str
        The scored sequences.
    scores : Scores or numpy.ndarray
        A Scores of exactly these sequences carrying ``extra["hypothetical"]``,
        or hypothetical contributions (N, >= L, 4).
    min_n_motif : int
        Fewest instances (seqlets) a motif must keep; modisco itself keeps
        patterns of ``final_min_cluster_size`` seqlets (10 here).
    report : str or Path, optional
        Keep modisco's ``.h5`` report there (read it back with :func:`read_modisco`).
    **options
        tfmodisco-lite's ``TFMoDISco`` keywords, over :data:`MODISCO_OPTIONS`.

    Returns
    -------
    MotifSet
        Positive patterns first, then negative ones (``meta["sign"]``), each
        with its seqlets as instances; ``why_none`` says why when there are none.

    Raises
    ------
    ValueError
        Scores without hypothetical contributions, or shapes that do not fit the sequences.
    """
    from modiscolite.io import save_hdf5
    from modiscolite.tfmodisco import TFMoDISco

    cache_kernels("modiscolite")
    seqs = check_sequences(seqs, "seqs")
    if isinstance(scores, Scores):
        scores.check_sequences(seqs)
        hypothetical = scores.hypothetical()
    else:
        hypothetical = np.asarray(scores, dtype=np.float32)
    x = one_hot(seqs)
    hypothetical = np.nan_to_num(
        check_contributions(x, hypothetical[:, : x.shape[1]])
    )  # 0 past each end
    settings = {**MODISCO_OPTIONS, **options}
    # tfmodisco-lite divides by column sums that are 0 for seqlet columns past a short
    # sequence's end (util.py: ppm / ppm.sum); numpy's warning about it is noise to a user
    with np.errstate(invalid="ignore", divide="ignore"):
        positive, negative = TFMoDISco(one_hot=x, hypothetical_contribs=hypothetical, **settings)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(report) if report is not None else Path(tmp, "modisco.h5")
        save_hdf5(path, positive, negative, x.shape[1])
        motifs = read_modisco(path)
    given = scores if isinstance(scores, Scores) else None
    found = MotifSet([m for m in motifs if m.n_instances >= min_n_motif], seqs, given)
    if not found:
        found.why_none = (
            f"tfmodisco-lite's {len(motifs)} patterns all have fewer than {min_n_motif} seqlets"
            if motifs
            else f"tfmodisco-lite found no pattern in the {len(seqs)} sequences (each needs "
            f"{settings['final_min_cluster_size']} alike seqlets); more sequences may give some"
        )
    return found


def read_modisco(
    path: str | Path, sequences: list[str] | None = None, *, offset: int = 0
) -> MotifSet:
    """Read a tfmodisco-lite ``.h5`` report into Motifs.

    Parameters
    ----------
    path : str or Path
        The report (``modisco motifs -o``, or :func:`modisco_motifs`' ``report``).
    sequences : list of str, optional
        The sequences its seqlets index (for the MotifSet).
    offset : int
        Added to seqlet coordinates: ``modisco motifs`` crops a central window
        of ``-w`` nt, so its coordinates start at (L - w) // 2 of the input.

    Returns
    -------
    MotifSet
        One Motif per pattern (``pos_patterns`` then ``neg_patterns``),
        named ``modisco_pos_0``, ...: counts from the seqlets' bases (plus
        :data:`PSEUDOCOUNT`), ``contribution`` the CWM, ``hypothetical`` the
        pattern's hypothetical contributions, instances from the
        seqlets (reverse-complemented ones on ``-``). A seqlet of a shorter
        sequence may run into the padding: its ``end`` then passes the
        sequence's end and those columns of its site read ``N``.
    """
    import h5py

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    motifs = []
    with h5py.File(path, "r") as report:
        for group, sign in (("pos_patterns", "positive"), ("neg_patterns", "negative")):
            if group not in report:
                continue
            names = sorted(report[group], key=lambda n: int(n.split("_")[-1]))
            for name in names:
                pattern = report[group][name]
                motifs.append(
                    _motif(pattern, f"modisco_{sign[:3]}_{name.split('_')[-1]}", sign, offset)
                )
    return MotifSet(motifs, sequences)


def _motif(pattern, name: str, sign: str, offset: int) -> Motif:
    """One pattern group of a report as a Motif."""
    seqlets = pattern["seqlets"]
    onehot = np.asarray(seqlets["sequence"], dtype=float)
    letters = np.where(onehot.sum(-1) > 0, onehot.argmax(-1), 4)
    instances = pd.DataFrame(
        {
            "sequence_index": np.asarray(seqlets["example_idx"], dtype=int),
            "start": np.asarray(seqlets["start"], dtype=int) + offset,
            "end": np.asarray(seqlets["end"], dtype=int) + offset,
            "strand": np.where(np.asarray(seqlets["is_revcomp"], dtype=bool), "-", "+"),
            "sequence": ["".join("ACGTN"[c] for c in row) for row in letters],
        }
    )[INSTANCE_COLUMNS]
    meta = {"sign": sign, "n_seqlets": len(instances), "pattern": pattern.name}
    return Motif(
        name,
        onehot.sum(axis=0) + PSEUDOCOUNT,
        instances,
        method="modisco",
        contribution=np.asarray(pattern["contrib_scores"], dtype=float),
        meta=meta,
        hypothetical=np.asarray(pattern["hypothetical_contribs"], dtype=float),
    )
