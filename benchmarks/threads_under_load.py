"""Wall and CPU time of ``dnabert-viz demo`` under artificial load, for several thread settings.

Each run starts BUSY busy-loop processes (the load), then the demo with
``DNABERT_VIZ_THREADS`` set to each value given (0: torch's default, one
thread per core; empty: the workbench's automatic choice), and reports the
demo's wall time and the CPU time (user + system) it used.

Usage: python benchmarks/threads_under_load.py [BUSY] [SETTING ...]
(default: 2 busy loops; settings 0, 1 and automatic)
"""

import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time


def spin() -> None:
    while True:
        pass


def run_demo(setting: str, out: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one demo run with DNABERT_VIZ_THREADS=setting."""
    env = {**os.environ, "DNABERT_VIZ_THREADS": setting}
    if not setting:
        env.pop("DNABERT_VIZ_THREADS")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "dnabert_viz.cli", "demo", "--device", "cpu", "--out", out],
        env=env,
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    busy = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    settings = sys.argv[2:] or ["0", "1", ""]
    loops = [multiprocessing.Process(target=spin, daemon=True) for _ in range(busy)]
    for p in loops:
        p.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for setting in settings:
                wall, cpu = run_demo(setting, os.path.join(tmp, "demo"))
                load = " ".join(f"{x:.2f}" for x in os.getloadavg())
                print(
                    f"busy loops {busy}, DNABERT_VIZ_THREADS={setting or '(unset: automatic)'}: "
                    f"wall {wall:.1f} s, CPU {cpu:.1f} s (load average after: {load})",
                    flush=True,
                )
    finally:
        for p in loops:
            p.terminate()


if __name__ == "__main__":
    main()
