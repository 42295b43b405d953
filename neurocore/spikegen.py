"""Bernoulli spike generators: the chip's spike sources and the data encoders share these.

A source j with base probability p fires at tick t with probability profile(p, t):
flat (p every tick) or front-loaded (2 p (1 - (t + 0.5) / Ts), falling linearly, same
mean p). Draws are counter-based: SplitMix64 of (key, t, j) compared with a 64-bit
threshold, so a tick's draws have no carried state and vectorise, and source j's spikes
depend only on the key and j (not on how many other sources there are, nor on where
the mapping put them). The key comes from numba's np.random, which the caller seeds.
"""

from __future__ import annotations

import numpy as np
from numba import njit

PROFILE_FLAT, PROFILE_FRONTLOADED = 0, 1
PROFILES = {"flat": PROFILE_FLAT, "frontloaded": PROFILE_FRONTLOADED}

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TWO64 = 18446744073709551616.0


@njit(cache=True, _nrt=False)
def profile_p(p: float, t: int, ts: int, profile: int) -> float:
    """Spike probability of a source of base probability p at tick t."""
    if profile == PROFILE_FRONTLOADED:
        p = 2.0 * p * (1.0 - (t + 0.5) / ts)
    return min(max(p, 0.0), 1.0)


@njit(cache=True, _nrt=False)
def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def new_key() -> np.uint64:
    """A 63-bit key from numba's seeded np.random: one per sample."""
    return np.uint64(np.random.randint(0, 9223372036854775807))


@njit(cache=True, _nrt=False)
def draw_tick_some(key, t: int, n: int, p: np.ndarray, profile: np.ndarray, ts: int, idx: np.ndarray, m: int,
                   hit: np.ndarray) -> None:
    """hit[i] for the m live sources i < m, whose base probabilities p[i] and profiles are packed
    contiguously and whose indices among all n sources are idx[i]. Source j's draw depends on the
    key, t and j only (not on the other sources), at a cost proportional to the sources that can fire."""
    base = key + np.uint64(t) * np.uint64(n) * _GOLDEN
    for i in range(m):
        thr = profile_p(p[i], t, ts, profile[i]) * _TWO64
        lim = np.uint64(thr) if thr < _TWO64 else np.uint64(0xFFFFFFFFFFFFFFFF)
        hit[i] = _mix(base + np.uint64(idx[i] + 1) * _GOLDEN) < lim


@njit(cache=True)
def source_trains(key, p: np.ndarray, profile: int, ts: int) -> np.ndarray:
    """The whole train the chip's sources would draw under `key`: bool (ts, n), source j at base
    probability p[j] with the given profile (PROFILE_FLAT or PROFILE_FRONTLOADED)."""
    n = p.shape[0]
    idx = np.arange(n)
    prof = np.full(n, profile, np.int64)
    pp = p.astype(np.float32)
    hit = np.zeros(n, np.uint8)
    out = np.zeros((ts, n), np.bool_)
    for t in range(ts):
        draw_tick_some(np.uint64(key), t, n, pp, prof, ts, idx, n, hit)
        for j in range(n):
            out[t, j] = hit[j] != 0
    return out
