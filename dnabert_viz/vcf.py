"""Variants from a VCF: centred genome windows for :func:`dnabert_viz.variant_effects`, and the
effects written back as a TSV and an annotated VCF.

:func:`read_vcf` reads a VCF (plain, gzip or bgzip), checks each record's
alleles against the genome and cuts a window of ``width`` nucleotides
around it (the variant's first base at offset ``width // 2``); the table
feeds :func:`dnabert_viz.variant_effects` as it is, which keys its results
by ``CHROM``, ``POS``, ``ID``, ``REF``, ``ALT``. :func:`write_vcf` copies
the VCF with the effects added to the INFO of each scored record.

Bad input
---------
A file that is not VCF (no ``##fileformat=VCF`` first line, no ``#CHROM``
line, a record with fewer than 8 columns or a POS that is not a positive
integer) is an error naming the file and line. Records that cannot be
scored (several ALT alleles, a symbolic ALT such as ``<DEL>`` or a
breakend, an ALT of ``.`` or equal to REF, alleles that are not
nucleotides, an indel whose ALT does not share REF's first (anchor) base,
an allele longer than half the window, a REF that is not the genome's
sequence at POS, an unknown chromosome, a window past a chromosome's end)
are an error naming the file and line, or with ``skip_bad=True``
(``--skip-bad``) left out, counted in a warning and listed in
``table.attrs["skipped"]``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .intervals import _fetch, _Row, open_genome, report_skipped
from .io import read_lines
from .outputs import atomic_write

KEYS = ("CHROM", "POS", "ID", "REF", "ALT")
"""The VCF columns that key every result."""

_SIZE = "the effect's size (|DV_DIFF|; for a language model |DV_LLR|)"
INFO = {
    "diff": ("DV_DIFF", "Change in the model's target output, alt - ref (dnabert_viz)"),
    "llr": (
        "DV_LLR",
        "Language model's log p(alt) - log p(ref) at the site, in nats (dnabert_viz)",
    ),
    "pll_diff": (
        "DV_PLL_DIFF",
        "Language model's pseudo-log-likelihood of the window, alt - ref, in nats (dnabert_viz)",
    ),
    "percentile_substitutions": (
        "DV_PCT_SUB",
        f"Percentile of {_SIZE} among random substitutions in the same windows (dnabert_viz)",
    ),
    "percentile_shuffled": (
        "DV_PCT_SHUF",
        f"Percentile of {_SIZE} among random substitutions in dinucleotide-shuffled windows "
        "(dnabert_viz)",
    ),
}
"""Result columns written into an annotated VCF's INFO: column -> (INFO ID, description)."""

_NUCLEOTIDES = re.compile("[ACGTN]+")


def _bad_alleles(ref: str, alt: str, width: int) -> tuple[str, str] | None:
    """Why a record's alleles cannot be scored, as (kind, message), or None."""
    if "," in alt:
        return "multi-allelic", (
            f"{len(alt.split(','))} ALT alleles ({alt}); split them first (bcftools norm -m -any)"
        )
    if alt.startswith("<") or "[" in alt or "]" in alt or alt == "*":
        return "symbolic", f"symbolic ALT allele {alt} (structural variants are not scored)"
    if alt == ".":
        return "no ALT", "no ALT allele ('.')"
    if not _NUCLEOTIDES.fullmatch(ref) or not _NUCLEOTIDES.fullmatch(alt):
        return "not nucleotides", f"REF {ref!r} and ALT {alt!r} must be A, C, G, T or N"
    if alt == ref:
        return "ALT equals REF", f"ALT {alt} equals REF: not a variant"
    if len(ref) != len(alt) and ref[0] != alt[0]:
        return "no anchor base", (
            f"indel REF {ref} ALT {alt}: VCF writes an indel with the base before it first in "
            "both alleles (left-align and normalise it: bcftools norm -f genome.fa)"
        )
    if max(len(ref), len(alt)) > width // 2:
        return "too long", (
            f"allele of {max(len(ref), len(alt))} nt is longer than half the {width}-nt window"
        )
    return None


def read_vcf(
    vcf: str | Path, genome: str | Path, *, width: int = 200, skip_bad: bool = False
) -> pd.DataFrame:
    """Genome windows centred on the SNVs and short indels of a VCF, both alleles checked.

    Parameters
    ----------
    vcf : str or Path
        VCF 4.x, plain, gzip or bgzip: a ``##fileformat=VCF`` first line, a
        ``#CHROM`` header line, one ALT allele per record (split multi-allelic
        records first: ``bcftools norm -m -any``).
    genome : str or Path
        The FASTA the VCF is on (plain or bgzip; indexed on first use).
    width : int
        Window length in nucleotides; the variant's first base is at offset
        ``width // 2`` (0-based), alleles may be up to ``width // 2`` nt.
    skip_bad : bool
        Leave out records that cannot be scored (see the module), count them
        in a warning and list them in ``attrs["skipped"]``, instead of raising.

    Returns
    -------
    pandas.DataFrame
        One row per variant, in file order: ``CHROM``, ``POS``, ``ID``,
        ``REF``, ``ALT`` as in the file; the window ``chrom``, ``start``,
        ``end`` (0-based, end exclusive), ``strand`` (``+``) and ``sequence``
        (the reference); ``position`` (the variant's offset in the window),
        ``ref``, ``alt``; ``line`` and ``source`` (file and line). It feeds
        :func:`dnabert_viz.variant_effects` as it is.
        ``attrs["skipped"]``: ``source``, ``CHROM``, ``POS``, ``kind``, ``reason``.

    Raises
    ------
    ValueError
        A malformed file, or a record that cannot be scored without
        ``skip_bad``, naming the file and line.
    """
    if width < 2:
        raise ValueError(f"width must be at least 2 nucleotides, not {width}")
    lines = read_lines(vcf)
    if not lines or not lines[0].startswith("##fileformat=VCF"):
        raise ValueError(
            f"{vcf}, line 1: not a VCF (the first line must be ##fileformat=VCFv4.x; a VCF "
            "needs its header)"
        )
    header = next((n for n, line in enumerate(lines) if line.startswith("#CHROM")), None)
    fasta = open_genome(genome)
    kept, skipped = [], []
    try:
        for number, line in enumerate(lines, start=1):
            if line.startswith("#") or not line.strip():
                continue
            where = f"{vcf}, line {number}"
            if header is None or number <= header:
                raise ValueError(f"{where}: a record before the #CHROM header line")
            fields = line.split("\t")
            if len(fields) < 8:
                raise ValueError(
                    f"{where}: {len(fields)} tab-separated columns; a VCF record has at least 8 "
                    "(CHROM POS ID REF ALT QUAL FILTER INFO)"
                )
            chrom, pos, ident, ref, alt = fields[:5]
            if not pos.isdigit() or int(pos) < 1:
                raise ValueError(f"{where}: POS {pos!r} is not a positive integer")
            record = {"CHROM": chrom, "POS": int(pos), "ID": ident, "REF": ref, "ALT": alt}
            ref, alt = ref.upper(), alt.upper()
            start = int(pos) - 1 - width // 2
            problem = _bad_alleles(ref, alt, width)
            sequence = None
            if problem is None:
                row = _Row(where, chrom, max(start, 0), start + width, ident, "+", -1)
                sequence, problem = _fetch(fasta, genome, row, start, start + width, 1.0)
            if problem is None:
                found = sequence[width // 2 : width // 2 + len(ref)]
                if found != ref:
                    problem = (
                        "REF differs from the genome",
                        (
                            f"REF {ref} but {genome} reads {found} at {chrom}:{pos} "
                            "(another genome build?)"
                        ),
                    )
            if problem is None:
                kept.append(
                    {
                        **record,
                        "chrom": chrom,
                        "start": start,
                        "end": start + width,
                        "strand": "+",
                        "sequence": sequence,
                        "position": width // 2,
                        "ref": ref,
                        "alt": alt,
                        "line": number,
                        "source": where,
                    }
                )
            elif skip_bad:
                skipped.append(
                    {"source": where, **record, "kind": problem[0], "reason": problem[1]}
                )
            else:
                raise ValueError(
                    f"{where}: {problem[1]} (skip_bad=True, on the command line --skip-bad, "
                    "leaves such records out)"
                )
    finally:
        fasta.close()
    if header is None:
        raise ValueError(f"{vcf}: no #CHROM header line (a VCF needs its header)")
    if not kept:
        first = f" (first: {skipped[0]['source']}: {skipped[0]['reason']})" if skipped else ""
        raise ValueError(f"{vcf}: no variant to score: {len(skipped)} records skipped{first}")
    table = pd.DataFrame(kept)
    return report_skipped(
        table,
        skipped,
        ["source", *KEYS, "kind", "reason"],
        f"of {len(kept) + len(skipped)} records",
        where=f"{vcf}: ",
    )


def write_tsv(results: pd.DataFrame, path: str | Path) -> Path:
    """Write variant results (without the window sequences) as a tab-separated table,
    atomically; the path."""
    table = results.drop(columns=["sequence"], errors="ignore")
    atomic_write(Path(path), table.to_csv(sep="\t", index=False))
    return Path(path)


def write_vcf(results: pd.DataFrame, vcf: str | Path, path: str | Path) -> Path:
    """Copy ``vcf`` with the effects of ``results`` in the INFO of each scored record,
    atomically; the path.

    Parameters
    ----------
    results : pandas.DataFrame
        :func:`dnabert_viz.variant_effects` or :func:`dnabert_viz.lm_variant_effects`
        of :func:`read_vcf`'s table (its ``line`` column says which record a row
        is); the columns of :data:`INFO` present are written (``DV_DIFF``, or
        ``DV_LLR`` and ``DV_PLL_DIFF``, ``DV_PCT_SUB``, ``DV_PCT_SHUF``, 6
        significant digits; a value that is missing, such as an indel's
        ``DV_LLR``, is left out of that record), declared by ``##INFO`` lines.
    vcf : str or Path
        The VCF the table was read from.
    path : str or Path
        The annotated VCF (plain text). Records not in ``results`` (skipped)
        are copied unchanged.
    """
    if "line" not in results:
        raise ValueError("results carry no 'line' column: score the table read_vcf returns")
    lines = read_lines(vcf)
    present = [c for c in INFO if c in results]
    values = {
        int(row["line"]): ";".join(
            f"{INFO[c][0]}={row[c]:.6g}" for c in present if not pd.isna(row[c])
        )
        for row in results[["line", *present]].to_dict("records")
    }
    out = []
    for number, line in enumerate(lines, start=1):
        if line.startswith("#CHROM"):
            out += [
                f'##INFO=<ID={INFO[c][0]},Number=A,Type=Float,Description="{INFO[c][1]}">'
                for c in present
            ]
        if values.get(number):
            fields = line.split("\t")
            fields[7] = (
                values[number] if fields[7] in ("", ".") else f"{fields[7]};{values[number]}"
            )
            line = "\t".join(fields)
        out.append(line)
    atomic_write(Path(path), "\n".join(out) + "\n")
    return Path(path)
