"""Spike trains that drive SSNN-BP: Bernoulli input trains and target trains.

A train is a bool array (ts, n): ``out[t, j]`` is a spike of channel j at tick t. Each tick
draws independently with probability ``profile[t] * value[j]`` clipped to [0, 1]:

- front-loaded (the paper's input coding): ``profile[t] = 2 * k * (1 - (t + 0.5) / ts)``,
  falling linearly over the sample; its mean over the sample is exactly ``k``, so the mean
  rate of a pixel x is ``k * x`` (as long as ``2 * k * x <= 1``, i.e. no clipping);
- flat: ``profile[t] = rate``.

Target trains: ``rate`` (paper: 0.5) on the true class, silence on the others.

The numba kernels take their randomness from numba's global ``np.random`` (one stream per
thread, separate from numpy's; the input kernel takes one 63-bit key from it per call): the
caller seeds it, e.g. once per sample, with the ``seed_numba`` helper of
``neurocore.crossbar.kernels``. :func:`encode_batch` and :func:`target_train` are numpy-level
versions for tests and tools; they draw from ``numpy.random.default_rng(seed)`` instead, so
they give the same statistics but not the same spikes as the kernels.
"""

from __future__ import annotations

import numpy as np
from numba import njit

PROFILES = ("frontloaded", "flat")


@njit(cache=True)
def frontloaded_profile(ts: int, k: float) -> np.ndarray:
    """Spike probability per tick for a unit value: 2 k (1 - (t + 0.5) / ts), mean k (float64[ts])."""
    p = np.empty(ts, dtype=np.float64)
    for t in range(ts):
        p[t] = 2.0 * k * (1.0 - (t + 0.5) / ts)
    return p


@njit(cache=True)
def flat_profile(ts: int, rate: float) -> np.ndarray:
    """Spike probability per tick for a unit value: `rate` at every tick (float64[ts])."""
    return np.full(ts, rate, dtype=np.float64)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)
_TWO64 = 18446744073709551616.0


@njit(cache=True)
def encode_profile(x: np.ndarray, profile: np.ndarray, out: np.ndarray) -> int:
    """Fill out[:len(profile), :len(x)] with Bernoulli spikes of probability profile[t] * x[j]
    (clipped to [0, 1]); zero values draw nothing. Returns the spike count.

    Randomness: one 63-bit key from numba's np.random per call (so seeding numba's RNG fixes
    the train); the draws are SplitMix64 hashes of (key, draw number) compared with 64-bit
    thresholds: counter-based, so the inner loop has no carried state and vectorises."""
    ts = profile.shape[0]
    n = x.shape[0]
    if out.shape[0] < ts or out.shape[1] != n:
        raise ValueError("encode_profile: out must have shape (>= ts, len(x))")
    nz = np.empty(n, dtype=np.int64)
    m = 0
    for j in range(n):
        if x[j] > 0.0:
            nz[m] = j
            m += 1
    xs = np.empty(m, dtype=np.float64)
    for i in range(m):
        xs[i] = x[nz[i]] * _TWO64
    thr = np.empty(m, dtype=np.uint64)
    hit = np.empty(m, dtype=np.bool_)
    out[:ts, :] = False
    key = np.uint64(np.random.randint(0, 9223372036854775807))
    count = 0
    for t in range(ts):
        a = profile[t]
        for i in range(m):
            v = a * xs[i]
            thr[i] = np.uint64(v) if v < _TWO64 else _ALL_ONES
        base = key + np.uint64(t * m) * _GOLDEN
        for i in range(m):
            z = base + np.uint64(i + 1) * _GOLDEN
            z = (z ^ (z >> np.uint64(30))) * _MIX1
            z = (z ^ (z >> np.uint64(27))) * _MIX2
            z = z ^ (z >> np.uint64(31))
            hit[i] = z < thr[i]
        row = out[t]
        for i in range(m):
            row[nz[i]] = hit[i]
            count += hit[i]
    return count


@njit(cache=True)
def encode_frontloaded(x: np.ndarray, ts: int, k: float, out: np.ndarray) -> int:
    """Front-loaded Bernoulli input train of values x in [0, 1] (mean rate k * x) into
    out (bool[ts, n]); draws from numba's np.random (seeded by the caller). Returns the spike count."""
    return encode_profile(x, frontloaded_profile(ts, k), out)


@njit(cache=True)
def encode_target(label: int, ts: int, rate: float, frontloaded: bool, out: np.ndarray) -> int:
    """Target train into out (bool[ts, n_classes]): spikes of mean rate `rate` on channel `label`
    (flat, or front-loaded with the same mean), silence elsewhere; numba's np.random. Returns the count."""
    if label < 0 or label >= out.shape[1] or out.shape[0] < ts:
        raise ValueError("encode_target: label must be in [0, n_classes) and out of shape (>= ts, n_classes)")
    prof = frontloaded_profile(ts, rate) if frontloaded else flat_profile(ts, rate)
    out[:ts, :] = False
    count = 0
    for t in range(ts):
        if np.random.random() < prof[t]:
            out[t, label] = True
            count += 1
    return count


def _profile(kind: str, ts: int, scale: float) -> np.ndarray:
    if kind == "frontloaded":
        return frontloaded_profile(ts, scale)
    if kind == "flat":
        return flat_profile(ts, scale)
    raise ValueError(f"unknown train profile {kind!r}; allowed: {', '.join(PROFILES)}")


def encode_batch(images: np.ndarray, ts: int, k: float, seed: int = 0,
                 profile: str = "frontloaded") -> np.ndarray:
    """Input trains of a batch of images (B, n) in [0, 1]: bool (B, ts, n), mean rate k * pixel,
    drawn from numpy.random.default_rng(seed) (numpy-level twin of :func:`encode_frontloaded`)."""
    x = np.asarray(images, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"encode_batch: images must be (B, n), got shape {x.shape}")
    prof = _profile(profile, int(ts), float(k))
    rng = np.random.default_rng(seed)
    out = np.empty((x.shape[0], ts, x.shape[1]), dtype=bool)
    for b in range(x.shape[0]):
        p = np.clip(prof[:, None] * x[b][None, :], 0.0, 1.0)
        out[b] = rng.random(p.shape) < p
    return out


def target_train(label: int, n_classes: int, ts: int, rate: float = 0.5, profile: str = "flat",
                 seed: int | np.random.Generator | None = None) -> np.ndarray:
    """Target train bool (ts, n_classes): mean rate `rate` on `label` (profile 'flat' or
    'frontloaded'), silence elsewhere; drawn from numpy.random.default_rng(seed)."""
    if not 0 <= label < n_classes:
        raise ValueError(f"target_train: label {label} must be in [0, {n_classes})")
    prof = np.clip(_profile(profile, int(ts), float(rate)), 0.0, 1.0)
    rng = np.random.default_rng(seed)
    out = np.zeros((ts, n_classes), dtype=bool)
    out[:, label] = rng.random(ts) < prof
    return out
