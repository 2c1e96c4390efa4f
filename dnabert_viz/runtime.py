"""How the workbench runs on this machine: the default of progress bars and the number of CPU
threads.

Progress: scoring functions take ``progress=None`` (auto), which shows a
bar (``tqdm.auto``: a widget in Jupyter, text on a terminal) when the user
can see it, i.e. in a Jupyter kernel or when stderr is a terminal, and none
in scripts whose output goes to a file or pipe; ``True``/``False`` force it.

Threads: torch starts one thread per core. When other programs keep those
cores busy, its threads spin while they wait for each other and CPU time
grows several-fold for the same work (``benchmarks/threads_under_load.py``).
:func:`configure_threads`, called by :func:`dnabert_viz.load_model` for a CPU
model, sets the count from the environment variable ``DNABERT_VIZ_THREADS``:
a number N uses N threads, ``0`` leaves torch's own choice, and unset (the
default) uses the cores that the machine's load leaves free, at least one.
"""

from __future__ import annotations

import os
import sys

THREADS_VARIABLE = "DNABERT_VIZ_THREADS"
_torch_default: list[int] = []  # torch's own thread count, read before the first change


def show_progress(progress: bool | None = None) -> bool:
    """Whether to show a progress bar: ``progress`` when given, else whether someone is watching.

    None (auto) is True in a Jupyter kernel or when stderr is a terminal, False otherwise.
    """
    if progress is not None:
        return bool(progress)
    shell = sys.modules.get("IPython")
    if shell is not None and getattr(shell.get_ipython(), "kernel", None) is not None:
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def free_cores() -> int:
    """Cores this process may use minus the rest of the machine's load (1-minute average), at least
    1."""
    cores = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )
    try:
        load = os.getloadavg()[0]
    except OSError:  # no load average on this platform
        return cores
    return max(1, min(cores, round(cores - load)))


def configure_threads() -> int:
    """Set torch's intra-op threads from ``DNABERT_VIZ_THREADS`` (module docstring); returns the
    count."""
    import torch

    setting = os.environ.get(THREADS_VARIABLE, "").strip()
    if setting and not setting.isdigit():
        raise ValueError(
            f"{THREADS_VARIABLE}={setting!r}: expected a number of threads (0: torch's own)"
        )
    if not _torch_default:
        _torch_default.append(torch.get_num_threads())
    threads = int(setting) if setting and setting != "0" else _torch_default[0]
    if not setting:
        threads = min(free_cores(), threads)
    torch.set_num_threads(threads)
    return threads
