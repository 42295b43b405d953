"""Arrays the kernel streams through, placed on 64-byte (cache-line) boundaries.

A crossbar row or a run of neuron state that starts mid-line makes every vector add split cache lines;
numpy aligns to 16 bytes only. Values are unchanged: this is placement in memory, nothing else.
"""

from __future__ import annotations

import numpy as np

#: bytes of a cache line
LINE = 64


def aligned_empty(n: int, dtype) -> np.ndarray:
    """An uninitialised 1-d array of n elements whose first element starts a cache line."""
    dtype = np.dtype(dtype)
    raw = np.empty(n * dtype.itemsize + LINE, np.uint8)
    o = (-raw.ctypes.data) % LINE
    return raw[o:o + n * dtype.itemsize].view(dtype)


def aligned_copy(a: np.ndarray) -> np.ndarray:
    """A copy of 1-d `a` that starts a cache line."""
    out = aligned_empty(a.shape[0], a.dtype)
    out[:] = a
    return out
