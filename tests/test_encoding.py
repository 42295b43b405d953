"""Input and target spike trains: mean rate k * x, front-loading, determinism, target shape."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurocore.crossbar.kernels import seed_numba
from neurocore.data.encoding import encode_batch, encode_frontloaded, encode_target, encode_train, target_train
from neurocore.spikegen import PROFILE_FLAT, draw_train


def frontloaded_profile(ts: int, k: float) -> np.ndarray:
    """The paper's input profile, written out here as the oracle: 2 k (1 - (t + 0.5) / ts)."""
    return 2 * k * (1 - (np.arange(ts) + 0.5) / ts)


def _kernel_trains(x: np.ndarray, ts: int, k: float, seed: int) -> np.ndarray:
    seed_numba(seed)
    out = np.empty((ts, x.size), dtype=bool)
    encode_frontloaded(x, ts, k, out)
    return out


def _expected(x: np.ndarray, ts: int, k: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean spike count per channel and its binomial standard deviation."""
    p = np.clip(frontloaded_profile(ts, k)[:, None] * x[None, :], 0, 1)
    return p.sum(0), np.sqrt((p * (1 - p)).sum(0))


def test_profile_mean_is_k():
    for ts in (1, 7, 100, 1000):
        assert frontloaded_profile(ts, 0.4).mean() == pytest.approx(0.4, rel=1e-12)


@pytest.mark.parametrize("k", [0.3, 0.5])
def test_kernel_mean_rate_is_k_times_pixel(k):
    x = np.linspace(0, 1, 41).astype(np.float32)
    ts = 4000
    out = _kernel_trains(x, ts, k, seed=1)
    mean, std = _expected(x.astype(np.float64), ts, k)
    counts = out.sum(0)
    assert np.all(np.abs(counts - mean) <= 5 * std + 1e-9)
    np.testing.assert_allclose(counts / ts, k * x, atol=0.03)
    assert counts[0] == 0  # a black pixel never spikes


def test_kernel_front_loaded():
    x = np.full(784, 0.6, dtype=np.float32)
    out = _kernel_trains(x, 100, 0.5, seed=2)
    per_tick = out.sum(1)
    first, second = per_tick[:50].sum(), per_tick[50:].sum()
    assert first > 2 * second
    assert first / (first + second) == pytest.approx(0.75, abs=0.01)  # linear profile: 3/4 in the first half
    expected = frontloaded_profile(100, 0.5) * 0.6 * 784
    assert np.all(np.abs(per_tick - expected) < 5 * np.sqrt(784 * 0.25) + 1)


def test_kernel_draws_are_independent_across_channels():
    x = np.full(2000, 0.5, dtype=np.float32)
    out = _kernel_trains(x, 100, 0.5, seed=3)
    p = frontloaded_profile(100, 0.5) * 0.5
    both = (out[:, :-1] & out[:, 1:]).sum()
    expect = (p ** 2).sum() * 1999
    assert abs(both - expect) < 5 * np.sqrt(expect)


def test_clipping_above_one():
    # a base probability of 1 (k x >= 1) front-loaded: certain spikes while 2 (1 - (t + .5) / ts) >= 1
    out = _kernel_trains(np.ones(50, dtype=np.float32), 20, 2.0, seed=0)
    assert np.all(out[:10]) and not np.all(out[10:])


def test_same_generator_as_the_chip_sources():
    x = np.random.default_rng(1).random(30)
    out = np.empty((40, 30), bool)
    encode_train(x, 40, 0.5, PROFILE_FLAT, out, np.uint64(12345))
    ref = np.empty((40, 30), bool)
    draw_train(np.uint64(12345), np.clip(0.5 * x, 0, 1), np.full(30, PROFILE_FLAT), 40, ref)
    np.testing.assert_array_equal(out, ref)


def test_same_seed_same_trains():
    x = np.random.default_rng(0).random(784).astype(np.float32)
    a = _kernel_trains(x, 100, 0.4, seed=11)
    b = _kernel_trains(x, 100, 0.4, seed=11)
    c = _kernel_trains(x, 100, 0.4, seed=12)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(encode_batch(x[None], 100, 0.4, seed=5), encode_batch(x[None], 100, 0.4, seed=5))
    assert not np.array_equal(encode_batch(x[None], 100, 0.4, seed=5), encode_batch(x[None], 100, 0.4, seed=6))


def test_consecutive_samples_differ():
    seed_numba(0)
    x = np.full(100, 0.5, dtype=np.float32)
    a, b = np.empty((50, 100), bool), np.empty((50, 100), bool)
    encode_frontloaded(x, 50, 0.5, a)
    encode_frontloaded(x, 50, 0.5, b)
    assert not np.array_equal(a, b)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 60), ts=st.integers(1, 40), k=st.floats(0.05, 0.5), seed=st.integers(0, 2**31 - 1),
       zeros=st.floats(0, 1))
def test_kernel_invariants(n, ts, k, seed, zeros):
    rng = np.random.default_rng(seed)
    x = rng.random(n).astype(np.float32)
    x[rng.random(n) < zeros] = 0
    out = np.ones((ts + 2, n), dtype=bool)  # longer buffer: rows past ts are left alone
    seed_numba(seed)
    count = encode_frontloaded(x, ts, k, out)
    assert count == out[:ts].sum()
    assert not out[:ts, x == 0].any()
    assert out[ts:].all()


def test_kernel_checks_out_shape():
    with pytest.raises(ValueError):
        encode_frontloaded(np.zeros(5, np.float32), 10, 0.5, np.zeros((10, 4), bool))
    with pytest.raises(ValueError):
        encode_train(np.zeros(5), 10, 0.5, PROFILE_FLAT, np.zeros((9, 5), bool), np.uint64(1))


def test_encode_batch_statistics():
    rng = np.random.default_rng(0)
    imgs = rng.random((3, 30)).astype(np.float32)
    out = encode_batch(imgs, 2000, 0.5, seed=1)
    assert out.shape == (3, 2000, 30) and out.dtype == bool
    for b in range(3):
        mean, std = _expected(imgs[b].astype(np.float64), 2000, 0.5)
        assert np.all(np.abs(out[b].sum(0) - mean) <= 5 * std + 1e-9)
    flat = encode_batch(imgs, 2000, 0.5, seed=1, profile="flat")
    h = flat.shape[1] // 2
    assert abs(flat[:, :h].sum() - flat[:, h:].sum()) < 5 * np.sqrt(flat.sum())
    with pytest.raises(ValueError, match="profile"):
        encode_batch(imgs, 10, 0.5, profile="late")


@pytest.mark.parametrize("profile", ["flat", "frontloaded"])
def test_target_train(profile):
    tt = target_train(3, 10, 4000, rate=0.5, profile=profile, seed=0)
    assert tt.shape == (4000, 10) and tt.dtype == bool
    assert not np.delete(tt, 3, axis=1).any()
    assert tt[:, 3].mean() == pytest.approx(0.5, abs=0.03)
    first, second = tt[:2000, 3].sum(), tt[2000:, 3].sum()
    if profile == "frontloaded":
        assert first > 2 * second
    else:
        assert abs(first - second) < 5 * np.sqrt(first + second)
    with pytest.raises(ValueError):
        target_train(10, 10, 5)


@pytest.mark.parametrize("frontloaded", [False, True])
def test_encode_target_kernel(frontloaded):
    seed_numba(4)
    out = np.ones((3000, 10), dtype=bool)
    count = encode_target(7, 3000, 0.5, frontloaded, out)
    assert count == out.sum() == out[:, 7].sum()
    assert out[:, 7].mean() == pytest.approx(0.5, abs=0.03)
    assert (out[:1500, 7].sum() > 2 * out[1500:, 7].sum()) == frontloaded
    with pytest.raises(ValueError):
        encode_target(10, 3000, 0.5, frontloaded, out)
    with pytest.raises(ValueError):
        encode_target(1, 3001, 0.5, frontloaded, out)
