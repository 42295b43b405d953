"""The chip's spike sources: mean rate k * x, front-loading, independence, determinism and clipping,
checked on the spikes the engine emits (the draws are `neurocore.spikegen.draw_tick_some`)."""

from __future__ import annotations

import numpy as np
import pytest

from neurocore.engine import Engine, SourceDrive
from neurocore.mapping import place
from neurocore.netlist import Netlist

from .helpers import big_core, engine_spikes


def frontloaded_profile(ts: int, k: float) -> np.ndarray:
    """The paper's input profile, written out here as the oracle: 2 k (1 - (t + 0.5) / ts)."""
    return 2 * k * (1 - (np.arange(ts) + 0.5) / ts)


def _trains(p: np.ndarray, ts: int, profile: str, seed: int, samples: int = 1) -> np.ndarray:
    """bool (samples, ts, n) spikes of n sources of base probabilities p."""
    net = Netlist("src")
    net.add_source("s", len(p))
    eng = Engine(place(net, big_core()), seed=seed)
    res = eng.run(SourceDrive({"s": np.tile(p, (samples, 1))}, {"s": profile}), ts, record=True)
    out = np.zeros((samples, ts, len(p)), bool)
    for b in range(samples):
        t, n = res.spikes("s", b)
        out[b, t, n] = True
    return out


def test_profile_mean_is_k():
    for ts in (1, 7, 100, 1000):
        assert frontloaded_profile(ts, 0.4).mean() == pytest.approx(0.4, rel=1e-12)


@pytest.mark.parametrize("k", [0.3, 0.5])
def test_frontloaded_mean_rate_is_k_times_pixel(k):
    x = np.linspace(0, 1, 41)
    ts = 4000
    counts = _trains(k * x, ts, "frontloaded", seed=1)[0].sum(0)
    p = np.clip(frontloaded_profile(ts, k)[:, None] * x[None, :], 0, 1)
    mean, std = p.sum(0), np.sqrt((p * (1 - p)).sum(0))
    assert np.all(np.abs(counts - mean) <= 5 * std + 1e-9)
    np.testing.assert_allclose(counts / ts, k * x, atol=0.03)
    assert counts[0] == 0  # a black pixel never spikes


def test_frontloaded_profile_falls_linearly():
    per_tick = _trains(np.full(784, 0.3), 100, "frontloaded", seed=2)[0].sum(1)
    first, second = per_tick[:50].sum(), per_tick[50:].sum()
    assert first / (first + second) == pytest.approx(0.75, abs=0.01)  # linear profile: 3/4 in the first half
    expected = frontloaded_profile(100, 0.5) * 0.6 * 784
    assert np.all(np.abs(per_tick - expected) < 5 * np.sqrt(784 * 0.25) + 1)


def test_sources_are_independent_and_clipped():
    s = _trains(np.full(400, 0.5), 400, "flat", seed=3)[0].astype(float)
    c = np.corrcoef(s.T)
    off = c[~np.eye(len(c), dtype=bool)]
    assert np.abs(off).max() < 0.3 and abs(off.mean()) < 0.01
    full = _trains(np.full(8, 0.9), 100, "frontloaded", seed=3)[0]  # 2 * 0.9 > 1 early on: clipped, no error
    assert full[:10].all()


def test_same_seed_same_trains_and_samples_differ():
    a = _trains(np.full(50, 0.2), 60, "flat", seed=7, samples=2)
    b = _trains(np.full(50, 0.2), 60, "flat", seed=7, samples=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[0], a[1])
    c = _trains(np.full(50, 0.2), 60, "flat", seed=8, samples=2)
    assert not np.array_equal(a, c)


def test_a_source_train_depends_on_its_index_only():
    """Source j's spikes do not depend on how many other sources there are."""
    net = Netlist("s")
    net.add_source("a", 10)
    net.add_source("b", 30)
    eng = Engine(place(net, big_core()), seed=4)
    both = engine_spikes(eng, SourceDrive({"a": np.full((1, 10), 0.3), "b": np.full((1, 30), 0.3)}), 50)
    alone = engine_spikes(eng, SourceDrive({"a": np.full((1, 10), 0.3)}), 50)
    np.testing.assert_array_equal(both["a"], alone["a"])


def test_source_trains_are_the_trains_the_chip_draws():
    """spikegen.source_trains (what off-chip methods use for the chip's rate code) under a sample's key
    gives exactly the spikes the engine's sources emit for that sample."""
    from numba import njit

    from neurocore.engine.kernel import sample_seed
    from neurocore.spikegen import PROFILE_FRONTLOADED, new_key, source_trains

    @njit
    def key_of(seed, sample_id):  # how the engine keys a sample's source draws
        np.random.seed(sample_seed(seed, sample_id))
        return new_key()

    p = np.linspace(0.0, 0.45, 30)
    engine = _trains(p, 40, "frontloaded", seed=5, samples=2)
    for b in range(2):
        np.testing.assert_array_equal(source_trains(key_of(5, b), p, PROFILE_FRONTLOADED, 40), engine[b])
