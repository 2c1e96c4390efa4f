"""Peak memory of the attribution methods that expand the batch, for N and 6 N sequences.

Integrated gradients evaluates every sequence at n_steps points of a path
and GradientSHAP at n_samples points: captum expands a batch of B
sequences into B x n_steps rows unless ``internal_batch_size`` cuts them
into chunks. Each configuration runs in a fresh interpreter (this script
with ``--one``), so one run's allocator state does not carry into the
next; its peak resident memory is the child's ``ru_maxrss`` from
``os.wait4``, with its CPU time (user + system: on shared cores a fairer
comparison than wall time). The child also reports its memory before
scoring (torch, the demo model, the sequences) and its scoring time.

Usage: python benchmarks/attribution_memory.py [--n 100 600] [--length 200]
       [--methods integrated_gradients onehot_gradient_shap] [--option NAME=VALUE ...]
(``--option`` passes a method option to ``dv.score``, e.g. ``n_samples=64``:
the chunks, and so the peak, stay the same while the run gets shorter)
"""

import argparse
import json
import os
import subprocess
import sys
import time

from common import peak_rss_mb, random_sequences

METHODS = ("integrated_gradients", "onehot_integrated_gradients", "onehot_gradient_shap")


def one(method: str, n: int, length: int, options: dict) -> None:
    """Score n random sequences in this process; print what the parent reads, as JSON."""
    import dnabert_viz as dv

    m = dv.load_model(device="cpu")
    seqs = random_sequences(n, length)
    before = peak_rss_mb()
    start = time.perf_counter()
    dv.score(m, seqs, method, progress=False, **options)
    print(json.dumps({"before_mb": before, "seconds": time.perf_counter() - start}))


def measure(method: str, n: int, length: int, options: list[str]) -> dict:
    """Peak RSS (MB), memory before scoring, seconds of scoring and CPU seconds of one
    configuration in a fresh interpreter."""
    command = [sys.executable, __file__, "--one", method, str(n), str(length), *options]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise SystemExit(f"{method} N={n}: exit status {code}")
    cpu = usage.ru_utime + usage.ru_stime  # of the whole child, loading included
    return {**json.loads(out.splitlines()[-1]), "peak_mb": usage.ru_maxrss / 1024, "cpu": cpu}


def parse_options(pairs: list[str]) -> dict:
    """``NAME=VALUE`` pairs as keyword arguments (values read as JSON where they parse)."""
    options = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            options[name] = json.loads(value)
        except json.JSONDecodeError:
            options[name] = value
    return options


def main() -> None:
    if sys.argv[1:2] == ["--one"]:
        method, n, length, *options = sys.argv[2:]
        one(method, int(n), int(length), parse_options(options))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[100, 600])
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--option", nargs="*", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    for method in args.methods:
        for n in args.n:
            run = measure(method, n, args.length, args.option)
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            print(
                f"{method} {' '.join(args.option)} N={n} x {args.length} nt: peak RSS "
                f"{run['peak_mb']:.0f} MB (before scoring {run['before_mb']:.0f} MB), "
                f"{run['seconds']:.1f} s, CPU {run['cpu']:.1f} s (load average after: {load})",
                flush=True,
            )


if __name__ == "__main__":
    main()
