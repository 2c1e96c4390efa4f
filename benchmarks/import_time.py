"""How long ``import dnabert_viz`` takes in a fresh interpreter (median of 5), and what it leaves
for first use.

Target: under 1.5 s on 2 CPU cores; ``dv.plot`` and ``dv.widgets`` (matplotlib,
plotly, ipywidgets) are imported on first use.
"""

import statistics
import subprocess
import sys

CODE = "import time; t = time.perf_counter(); import dnabert_viz; print(time.perf_counter() - t)"


def main() -> None:
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", CODE], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(5)
    ]
    print(
        f"import dnabert_viz: {statistics.median(times):.2f} s (median of 5; min "
        f"{min(times):.2f} s)"
    )
    code = (
        "import time, dnabert_viz as dv; t = time.perf_counter(); dv.widgets; "
        "print(time.perf_counter() - t)"
    )
    first = float(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )
    print(f"first use of dv.widgets: {first:.2f} s")


if __name__ == "__main__":
    main()
