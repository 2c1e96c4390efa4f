"""numba's on-disk cache: memelite's TOMTOM kernels (its own ``cache=True``) and the kernels that
``cache_kernels`` turns it on for (tfmodisco-lite's: tests/test_modisco.py) are written there, so
only the first process after an install compiles them."""

import sys
from pathlib import Path

import numpy as np
from numba.core.dispatcher import Dispatcher

import dnabert_viz as dv
from dnabert_viz.motifs.numba_cache import cache_kernels


def compiled_kernels(package: str) -> list[Dispatcher]:
    """The numba kernels of package's imported modules compiled (or loaded) in this process."""
    return [
        kernel
        for name, module in list(sys.modules.items())
        if name.startswith(f"{package}.")
        for kernel in vars(module).values()
        if isinstance(kernel, Dispatcher) and kernel.overloads
    ]


def assert_cached_on_disk(kernels) -> None:
    for kernel in kernels:
        folder = kernel.stats.cache_path
        assert folder is not None, f"{kernel.__name__} is compiled without numba's cache"
        assert list(Path(folder).glob(f"*.{kernel.__name__}-*.nbi")), kernel.__name__


def test_tomtom_kernels_are_in_numbas_cache_after_a_match():
    dv.match_jaspar([dv.Motif("ebox", np.eye(4)[[1, 0, 1, 3, 2, 3]] * 90 + 2.5)])
    kernels = compiled_kernels("memelite")
    assert any(k.__name__ == "_tomtom" for k in kernels)
    assert_cached_on_disk(kernels)


def test_cache_kernels_turns_the_cache_on_for_a_packages_plain_njit_functions(
    tmp_path, monkeypatch
):
    package = tmp_path / "jitted_package"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from numba import njit\n\n\n@njit\ndef twice(x):\n    return 2 * x\n"
    )
    monkeypatch.syspath_prepend(tmp_path)
    import jitted_package

    assert jitted_package.twice.stats.cache_path is None  # a plain @njit: no cache
    assert cache_kernels("jitted_package") == (jitted_package.twice,)
    assert jitted_package.twice(21) == 42
    assert jitted_package.twice.stats.cache_path == str(package / "__pycache__")  # beside it
    assert_cached_on_disk([jitted_package.twice])
