"""The numba kernels' first call in a fresh process: compiled, or loaded from numba's on-disk
cache. Two runs in fresh interpreters for each of

- ``match_jaspar``: memelite's TOMTOM on the demo's planted CTCF and TP53 matrices (as counts)
  against JASPAR; pyjaspar's database read, which ``match_jaspar`` also does first in a process,
  is timed apart;
- ``modisco``: ``find_motifs(method="modisco")`` (tfmodisco-lite) on one-hot hypothetical
  gradients (logit) of 200 held-out demo positives, computed once here.

``--cache-dir`` is passed to the children as ``NUMBA_CACHE_DIR``: an empty folder makes the first
run a first-ever one; the second run shows what every later process pays. ``--jaspar-cache`` is
passed as ``XDG_CACHE_HOME``, where ``jaspar_matrices`` keeps the matrices it read from pyjaspar's
database: an empty folder makes the first run read the database and the second the cached file.

    ../.venv/bin/python jit_cache.py --cache-dir /tmp/numba-empty
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

JASPAR = """
import json, time
t = time.perf_counter()
import dnabert_viz as dv
from dnabert_viz.motifs.jaspar import jaspar_matrices
imported = time.perf_counter() - t
t = time.perf_counter()
by_id = {m.matrix_id: m for m in jaspar_matrices("CORE", "vertebrates", "JASPAR2026")}
read = time.perf_counter() - t
motifs = [dv.Motif(i, by_id[i].pwm * 100) for i in ("MA0139.2", "MA0106.3")]
t = time.perf_counter()
table = dv.match_jaspar(motifs)
print(json.dumps({"import": imported, "jaspar database": read,
                  "match_jaspar": time.perf_counter() - t,
                  "best": table.groupby("motif").first()["jaspar_id"].to_dict()}))
"""

MODISCO = """
import json, sys, time
t = time.perf_counter()
import dnabert_viz as dv
imported = time.perf_counter() - t
h = dv.Scores.load(sys.argv[1])
t = time.perf_counter()
motifs = dv.find_motifs(h.sequences, None, h, method="modisco")
print(json.dumps({"import": imported, "modisco": time.perf_counter() - t,
                  "best": [m.consensus for m in motifs[:3]]}))
"""


def contributions(path: Path) -> None:
    """One-hot hypothetical gradients (logit) of 200 held-out demo positives, saved to path."""
    import dnabert_viz as dv

    seqs = dv.load_demo().sequences("heldout", label=1)[:200]
    dv.score(dv.load_model(), seqs, "onehot_gradients", output="logit").save(path)


def run(code: str, env: dict, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", help="NUMBA_CACHE_DIR for the children (default: unset)")
    parser.add_argument("--jaspar-cache", help="XDG_CACHE_HOME for the children (default: unset)")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--only", choices=["match_jaspar", "modisco"])
    args = parser.parse_args()
    env = dict(os.environ)
    if args.cache_dir:
        env["NUMBA_CACHE_DIR"] = args.cache_dir
    if args.jaspar_cache:
        env["XDG_CACHE_HOME"] = args.jaspar_cache
    with tempfile.TemporaryDirectory() as tmp:
        jobs = {"match_jaspar": (JASPAR,), "modisco": (MODISCO, str(Path(tmp, "h.npz")))}
        if args.only != "match_jaspar":
            contributions(Path(tmp, "h.npz"))
        for name, (code, *rest) in jobs.items():
            if args.only not in (None, name):
                continue
            for k in range(1, args.runs + 1):
                load = os.getloadavg()[0]
                result = run(code, env, *rest)
                times = ", ".join(
                    f"{key} {value:.2f} s" for key, value in result.items() if key != "best"
                )
                best = result["best"]
                print(f"{name} run {k}: {times} (load average {load:.1f} before); {best}")


if __name__ == "__main__":
    main()
