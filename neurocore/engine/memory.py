"""Arrays the kernel streams through, placed on 64-byte (cache-line) boundaries.

A crossbar row or a run of neuron state that starts mid-line makes every vector add split cache lines;
numpy aligns to 16 bytes only. Values are unchanged: this is placement in memory, nothing else.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .records import SEG_DST, SEG_N, Routes

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


@njit(cache=True)
def aligned_input(n, rt: Routes):
    """The zeroed input array of n neurons (the kernel's working state), placed so that the forward
    segments carrying most weights start on a 32-byte boundary (a vector add over them then never
    splits a cache line)."""
    weight = np.zeros(8, np.int64)
    for s in range(rt.seg.shape[0]):
        weight[rt.seg[s, SEG_DST] % 8] += rt.seg[s, SEG_N]
    best = np.argmax(weight)
    buf = np.zeros(n + 8, np.float32)
    o = (8 - (buf.ctypes.data // 4 + best) % 8) % 8
    return buf[o:o + n]
