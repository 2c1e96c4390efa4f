"""Logo rendering time: the first 20 DNABERT-viz motifs (24 nt) of motif_speed.py's planted set, to
PNG.

Times the first logo (it imports logomaker and pyplot), the other 19, and all
20 again from the cache.
"""

import time

from motif_speed import planted_set

import dnabert_viz as dv


def motifs(n: int = 20) -> list:
    pos, neg, scores = planted_set(2500)
    found = dv.find_motifs(pos, neg, scores)
    return (found * (n // len(found) + 1))[:n] if len(found) < n else found[:n]


def main() -> None:
    ms = motifs()
    start = time.perf_counter()
    dv.plot.logo_png(ms[0])
    first = time.perf_counter() - start
    start = time.perf_counter()
    for m in ms[1:]:
        dv.plot.logo_png(m)
    rest = time.perf_counter() - start
    start = time.perf_counter()
    for m in ms:
        dv.plot.logo_png(m)
    cached = time.perf_counter() - start
    print(
        f"first logo (imports logomaker + pyplot) {first:.2f} s; 19 more {rest:.2f} s "
        f"({rest / 19 * 1000:.0f} ms each); all 20 again from the cache {cached * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
