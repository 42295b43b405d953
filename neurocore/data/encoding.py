"""Spike trains that drive SSNN-BP: Bernoulli input trains and target trains.

A train is a bool array (ts, n): ``out[t, j]`` is a spike of channel j at tick t. Channel j
of value x_j gets the base probability ``p_j = clip(scale * x_j, 0, 1)`` and fires at tick t
with probability (the profiles of :mod:`neurocore.spikegen`, shared with the chip's sources):

- front-loaded (the paper's input coding): ``clip(2 p_j (1 - (t + 0.5) / ts), 0, 1)``,
  falling linearly over the sample; its mean over the sample is exactly p_j, so a pixel x
  has mean rate ``k * x`` (as long as ``2 k x <= 1``, i.e. nothing is clipped; paper k = 0.3-0.5);
- flat: ``p_j`` at every tick.

Target trains: ``rate`` (paper: 0.5) on the true class, silence on the others.

Draws are :func:`neurocore.spikegen.draw_train` (counter-based SplitMix64 under one 63-bit
key per train). The numba kernels take that key from numba's global ``np.random``: the
caller seeds it, e.g. once per sample, with ``neurocore.crossbar.kernels.seed_numba``. The
numpy-level :func:`encode_batch` and :func:`target_train` take the keys from
``numpy.random.default_rng(seed)`` instead and touch no global state.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..spikegen import PROFILE_FLAT, PROFILE_FRONTLOADED, PROFILES, draw_train, new_key

_MAX_KEY = 9223372036854775807


@njit(cache=True)
def encode_train(x: np.ndarray, ts: int, scale: float, profile: int, out: np.ndarray, key: np.uint64) -> int:
    """Train of values x (base probability clip(scale * x, 0, 1), profile PROFILE_FLAT or
    PROFILE_FRONTLOADED) under `key` into out[:ts] (bool, shape (>= ts, len(x))).
    Returns the spike count; rows of out past ts are left alone."""
    n = x.shape[0]
    if out.shape[0] < ts or out.shape[1] != n:
        raise ValueError("encode_train: out must have shape (>= ts, len(x))")
    p = np.empty(n, dtype=np.float64)
    for j in range(n):
        p[j] = min(max(scale * x[j], 0.0), 1.0)
    return draw_train(key, p, np.full(n, profile, dtype=np.int64), ts, out)


@njit(cache=True)
def encode_frontloaded(x: np.ndarray, ts: int, k: float, out: np.ndarray) -> int:
    """Front-loaded Bernoulli input train of values x in [0, 1] (mean rate k * x) into
    out (bool[ts, n]); its key comes from numba's np.random (seeded by the caller). Returns the spike count."""
    return encode_train(x, ts, k, PROFILE_FRONTLOADED, out, new_key())


@njit(cache=True)
def encode_target(label: int, ts: int, rate: float, frontloaded: bool, out: np.ndarray) -> int:
    """Target train into out (bool[ts, n_classes]): mean rate `rate` on channel `label` (flat,
    or front-loaded with the same mean), silence elsewhere; key from numba's np.random. Returns the count."""
    n = out.shape[1]
    if label < 0 or label >= n:
        raise ValueError("encode_target: label must be in [0, n_classes)")
    x = np.zeros(n, dtype=np.float64)
    x[label] = 1.0
    return encode_train(x, ts, rate, PROFILE_FRONTLOADED if frontloaded else PROFILE_FLAT, out, new_key())


def _profile_code(profile: str) -> int:
    if profile not in PROFILES:
        raise ValueError(f"unknown train profile {profile!r}; allowed: {', '.join(PROFILES)}")
    return PROFILES[profile]


def encode_batch(images: np.ndarray, ts: int, k: float, seed: int = 0,
                 profile: str = "frontloaded") -> np.ndarray:
    """Input trains of a batch of images (B, n) in [0, 1]: bool (B, ts, n), mean rate k * pixel;
    keys from numpy.random.default_rng(seed), one per image."""
    x = np.asarray(images, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"encode_batch: images must be (B, n), got shape {x.shape}")
    code = _profile_code(profile)
    keys = np.random.default_rng(seed).integers(0, _MAX_KEY, size=x.shape[0], dtype=np.int64)
    out = np.empty((x.shape[0], ts, x.shape[1]), dtype=bool)
    for b in range(x.shape[0]):
        encode_train(x[b], int(ts), float(k), code, out[b], np.uint64(keys[b]))
    return out


def target_train(label: int, n_classes: int, ts: int, rate: float = 0.5, profile: str = "flat",
                 seed: int | None = None) -> np.ndarray:
    """Target train bool (ts, n_classes): mean rate `rate` on `label` (profile 'flat' or
    'frontloaded'), silence elsewhere; key from numpy.random.default_rng(seed)."""
    if not 0 <= label < n_classes:
        raise ValueError(f"target_train: label {label} must be in [0, {n_classes})")
    x = np.zeros(n_classes, dtype=np.float64)
    x[label] = 1.0
    key = np.random.default_rng(seed).integers(0, _MAX_KEY, dtype=np.int64)
    out = np.empty((ts, n_classes), dtype=bool)
    encode_train(x, int(ts), float(rate), _profile_code(profile), out, np.uint64(key))
    return out
