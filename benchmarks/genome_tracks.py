"""Back to the genome: bigWig / bedGraph export of many windows, and VCF scoring throughput.

Usage: python benchmarks/genome_tracks.py tracks [N_WINDOWS] [WIDTH]
       python benchmarks/genome_tracks.py vcf [N_VARIANTS] [N_BACKGROUND]

``tracks``: synthetic Scores of N windows of WIDTH nt (default 50,000 x 500) at random places on
ten random 5-Mb chromosomes (about half the windows overlap another), a quarter of them on
``-``; times dv.write_tracks to bigWig and to bedGraph and prints the file sizes.
``vcf``: N random SNVs (default 10,000) on pyfaidx's 40 kb of chr17 (REF from the genome), read
with dv.read_vcf (200-nt windows) and scored by dv.variant_effects on the demo model, with and
without the percentile backgrounds (N_BACKGROUND substitutions each, default 1,000).
"""

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import peak_rss_mb, random_sequences, timed

import dnabert_viz as dv

EXAMPLE = Path("/usr/share/doc/python-pyfaidx-examples/examples/chr17.hg19.part.fa")


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def tracks(n: int, width: int, folder: Path) -> None:
    rng = np.random.default_rng(0)
    chroms = [f"chr{i + 1}" for i in range(10)]
    size = 5_000_000
    genome = folder / "genome.fa"
    with open(genome, "w") as handle:
        for chrom, seq in zip(chroms, random_sequences(len(chroms), size)):
            handle.write(f">{chrom}\n")
            handle.writelines(seq[i : i + 60] + "\n" for i in range(0, size, 60))
    which = rng.integers(len(chroms), size=n)
    starts = rng.integers(0, size - width, size=n)
    strands = np.where(rng.random(n) < 0.25, "-", "+")
    seqs = random_sequences(n, width, seed=1)  # the values do not depend on the letters
    scores = dv.Scores(
        seqs,
        rng.normal(size=(n, width)).astype(np.float32),
        "synthetic",
        extra={
            "chrom": np.array(chroms)[which],
            "start": starts,
            "end": starts + width,
            "strand": strands,
        },
    )
    dv.chrom_sizes(genome)  # the .fai, built once
    print(f"{n:,} windows of {width} nt on 10 x 5 Mb; load before: {load()}")
    for fmt in ("bigwig", "bedgraph"):
        out = folder / fmt
        files, seconds = timed(dv.write_tracks, scores, out, genome=genome, formats=[fmt])
        mb = sum(f.stat().st_size for f in files) / 1e6
        print(f"{fmt}: {seconds:.1f} s, {mb:.1f} MB ({files[0].name}); load after: {load()}")
    print(f"peak RSS {peak_rss_mb():.0f} MB")


def vcf(n: int, n_background: int, folder: Path) -> None:
    genome = folder / EXAMPLE.name
    shutil.copy(EXAMPLE, genome)
    sequence = "".join(genome.read_text().split("\n")[1:]).upper()
    rng = np.random.default_rng(0)
    positions = np.sort(rng.choice(np.arange(200, len(sequence) - 200), size=n, replace=False))
    lines = ["##fileformat=VCFv4.2", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    for k, p in enumerate(positions):
        ref = sequence[p]
        alt = rng.choice([b for b in "ACGT" if b != ref])
        lines.append(f"chr17\t{p + 1}\tv{k}\t{ref}\t{alt}\t.\t.\t.")
    path = folder / "calls.vcf"
    path.write_text("\n".join(lines) + "\n")
    m = dv.load_model(device="cpu")
    print(f"{n:,} SNVs, 200-nt windows, demo model; load before: {load()}")
    table, seconds = timed(dv.read_vcf, path, genome, width=200)
    print(f"read_vcf: {seconds:.1f} s ({n / seconds:,.0f} records/s)")
    _, seconds = timed(dv.variant_effects, m, table)
    print(f"variant_effects: {seconds:.1f} s ({n / seconds:,.0f} variants/s); load: {load()}")
    start = time.perf_counter()
    dv.variant_effects(m, table, n_background=n_background)
    seconds = time.perf_counter() - start
    print(
        f"with backgrounds of {n_background:,}: {seconds:.1f} s ({n / seconds:,.0f} variants/s); "
        f"load after: {load()}"
    )


def main() -> None:
    what = sys.argv[1] if len(sys.argv) > 1 else "tracks"
    defaults = [50_000, 500] if what == "tracks" else [10_000, 1000]
    first, second = [int(a) for a in sys.argv[2:]] + defaults[len(sys.argv) - 2 :]
    folder = Path(tempfile.mkdtemp(prefix="genome_tracks."))
    try:
        (tracks if what == "tracks" else vcf)(first, second, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
