"""numba's on-disk cache for the kernels of tfmodisco-lite, which does not ask for it.

memelite's TOMTOM kernels are declared ``@njit(cache=True)``: the first
``match_jaspar`` after installing compiles them, and later processes load
them from numba's cache. Most of tfmodisco-lite's kernels are plain
``@njit``, compiled again in every process that runs modisco.
:func:`cache_kernels` turns numba's cache on for every kernel of a package
not compiled yet in this process (``Dispatcher.enable_caching``, as
tfmodisco-lite's own ``precompile.start`` does for a few of them).

Where the cache goes is numba's choice, unchanged: ``NUMBA_CACHE_DIR`` when
set, else ``__pycache__`` beside the package's source when it is writable,
else the user's cache folder (``~/.cache/numba``). A kernel for which none
is writable is compiled in the process, as before. The cache is keyed on the
source file's content, so an upgraded package compiles afresh.
"""

from __future__ import annotations

import sys
from functools import cache


@cache
def cache_kernels(package: str) -> tuple:
    """Turn on numba's on-disk cache for the not yet compiled kernels of an imported package.

    Parameters
    ----------
    package : str
        A package name (``"modiscolite"``); its modules imported so far are searched.

    Returns
    -------
    tuple of numba Dispatcher
        The kernels that will now be cached (none where numba has nowhere to write; kernels
        declared with a signature were compiled at import, uncached).
    """
    from numba.core.dispatcher import Dispatcher

    kernels = {
        kernel
        for name, module in list(sys.modules.items())
        if name == package or name.startswith(f"{package}.")
        for kernel in vars(module).values()
        if isinstance(kernel, Dispatcher) and not kernel.overloads
    }
    cached = []
    for kernel in kernels:
        try:
            kernel.enable_caching()
        except RuntimeError:  # numba: no writable cache location for this source file
            continue
        cached.append(kernel)
    return tuple(cached)
