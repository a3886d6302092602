"""Rounding many floats exactly as Python's `round` rounds each one, vectorised with numpy."""
from __future__ import annotations

import numpy as np


def round_as_python(values: np.ndarray, decimals: int) -> np.ndarray:
    """`round(float(x), decimals)` of every element, the same floats Python's `round` gives, vectorised.

    Python rounds the exact binary value correctly; x·10^d, rint, ÷10^d (numpy's round) agrees except
    where x·10^d lands within rounding error of a half or is huge: those elements are rounded by Python's
    `round` itself. The final division gives the double nearest k/10^d, as Python does; NaN and ±inf
    stay as they are, as with `round`.
    """
    values = np.asarray(values, dtype=np.float64)
    scale = 10.0 ** decimals
    scaled = values * scale
    with np.errstate(invalid="ignore"):
        near_half = np.abs(np.abs(scaled - np.floor(scaled)) - 0.5) < 1e-6
        out = np.rint(scaled) / scale
        unsure = near_half | (np.isfinite(scaled) & (np.abs(scaled) >= 2.0 ** 40))
    for index in zip(*np.nonzero(unsure)):
        out[index] = round(float(values[index]), decimals)
    return out
