"""Checks of numeric settings shared by the library's functions: one message for one mistake."""

from __future__ import annotations

import numpy as np


def check_counts(minimum: int = 1, **counts: int | None) -> None:
    """Raise ValueError naming the first count that is not a whole number of at least ``minimum``.

    Parameters
    ----------
    minimum : int
        The smallest value allowed.
    **counts : int or None
        Name -> value (``n_steps=50``); None (an option left to its default) is skipped.

    Raises
    ------
    ValueError
        ``n_steps must be a whole number of at least 1, not 0``.
    """
    for name, value in counts.items():
        if value is None:
            continue
        whole = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
        if not whole or value < minimum:
            raise ValueError(f"{name} must be a whole number of at least {minimum}, not {value!r}")
