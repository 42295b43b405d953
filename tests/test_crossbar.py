"""RPU crossbar: device pulses, reads, coincidence and rate writes, the product benchmark."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from neurocore.chip import load_chip
from neurocore.crossbar import (MODEL_IDS, Crossbar, coincidence_write, dac, device_params, device_pulse, device_pulses,
                                mvm_cols, mvm_rows, quantize_read, quantize_value, seed_numba)
from neurocore.devices import DeviceSpec, ReadSpec

IDEAL, LINEAR, SOFT = MODEL_IDS["ideal"], MODEL_IDS["linear_step"], MODEL_IDS["soft_bounds"]
REALISTIC = DeviceSpec(model="soft_bounds", dw_min_dtod=0.3, up_down_dtod=0.01, w_max_dtod=0.3,
                       w_min_dtod=0.3, dw_min_std=0.3)


def _params(c2c=0.0):
    p = device_params(DeviceSpec())
    p[0] = c2c
    return p


def _g(model, gu, gd, w_max, w_min):
    """The per-device model terms draw_devices makes: gamma / own bound (linear), 1 / own bound (soft)."""
    if model == SOFT:
        return 1.0 / w_max, 1.0 / w_min
    if model == LINEAR:
        return gu / w_max, gd / w_min
    return 0.0, 0.0


def pulse(w, up, dw_up=0.001, dw_down=0.001, w_max=0.6, w_min=-0.6, model=IDEAL, gu=0.0, gd=0.0, c2c=0.0):
    g_up, g_down = _g(model, gu, gd, w_max, w_min)
    return device_pulse(w, up, dw_up, dw_down, w_max, w_min, g_up, g_down, 0.0, model, _params(c2c))


def pulses(w, n, up, dw_up, dw_down, w_max, w_min, model, gu, gd, c2c):
    g_up, g_down = _g(model, gu, gd, w_max, w_min)
    return device_pulses(w, n, up, dw_up, dw_down, w_max, w_min, g_up, g_down, 0.0, model, _params(c2c))


# -- one device ---------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 3000), dw=st.floats(1e-4, 0.05), w_max=st.floats(0.05, 2.0),
       w_min=st.floats(-2.0, -0.05), frac=st.floats(0.0, 1.0), up=st.booleans())
def test_ideal_pulses_step_exactly_until_the_bound(n, dw, w_max, w_min, frac, up):
    w0 = w_min + frac * (w_max - w_min)
    w = w0
    for k in range(n):
        w = pulse(w, up, dw, dw, w_max, w_min)
        assert w_min <= w <= w_max
    expect = min(w0 + n * dw, w_max) if up else max(w0 - n * dw, w_min)
    assert w == pytest.approx(expect, abs=1e-12 * (n + 1))
    assert pulses(w0, n, up, dw, dw, w_max, w_min, IDEAL, 0.0, 0.0, 0.0) == pytest.approx(expect, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 400), model=st.sampled_from([LINEAR, SOFT]), g=st.floats(0.0, 1.0), up=st.booleans())
def test_device_pulses_equals_repeated_pulses(n, model, g, up):
    w = 0.1
    for _ in range(n):
        w = pulse(w, up, 0.003, 0.002, 0.6, -0.5, model, g, g)
    assert pulses(0.1, n, up, 0.003, 0.002, 0.6, -0.5, model, g, g, 0.0) == pytest.approx(w, abs=1e-12)


def test_device_models_step_sizes():
    # linear step: (1 - gamma w / bound); soft bounds: (1 - w / bound); ideal: constant
    assert pulse(0.3, True, model=LINEAR, gu=0.5) - 0.3 == pytest.approx(0.001 * (1 - 0.5 * 0.3 / 0.6))
    assert 0.3 - pulse(0.3, False, model=LINEAR, gd=0.5) == pytest.approx(0.001 * (1 - 0.5 * 0.3 / -0.6))
    assert pulse(0.3, True, model=SOFT) - 0.3 == pytest.approx(0.001 * 0.5)
    assert 0.3 - pulse(0.3, False, model=SOFT) == pytest.approx(0.001 * 1.5)
    assert pulse(0.6, True, model=SOFT) == 0.6  # no step at the bound
    for w in (-0.4, 0.0, 0.25):
        for up in (True, False):
            assert pulse(w, up, model=LINEAR, gu=1.0, gd=1.0) == pytest.approx(pulse(w, up, model=SOFT))
            assert pulse(w, up, model=LINEAR) == pytest.approx(pulse(w, up, model=IDEAL))


def test_asymmetric_device_drifts_the_way_up_down_says():
    for up_down in (0.1, -0.05):
        spec = DeviceSpec(up_down=up_down)
        xb = Crossbar((1, 1), spec, rng=0)
        for _ in range(100):  # one up and one down pulse per tick at the same crosspoint
            xb.pulse_coincidence([0], [0], [0])
        assert xb.write_pulses == 200
        # each pair moves by dw_up - dw_down = 2 * up_down * dw_min
        assert xb.w[0, 0] == pytest.approx(100 * 2 * up_down * 0.001, rel=1e-4)


@pytest.mark.parametrize("dw_up,dw_down,w_max,w_min", [(0.001, 0.001, 0.6, -0.6),
                                                       (0.0012, 0.0008, 0.6, -0.6),
                                                       (0.001, 0.001, 0.8, -0.4)])
def test_soft_bounds_converge_to_the_symmetry_point(dw_up, dw_down, w_max, w_min):
    w_star = (dw_up - dw_down) / (dw_up / w_max - dw_down / w_min)
    for w in (w_max, w_min, 0.0):
        for _ in range(8000):
            w = pulse(w, True, dw_up, dw_down, w_max, w_min, SOFT)
            w = pulse(w, False, dw_up, dw_down, w_max, w_min, SOFT)
        assert w == pytest.approx(w_star, abs=2 * max(dw_up, dw_down))


def test_c2c_noise_is_fresh_per_pulse_and_ideal_draws_nothing():
    seed_numba(11)
    a = [pulse(0.0, True, c2c=0.3) for _ in range(3)]
    seed_numba(11)
    pulse(0.0, True)  # noiseless: must not consume the generator
    quantize_read(np.zeros(4), 0.0, 8, 12.0, 0.6)  # exact-noise read: no draw either
    b = [pulse(0.0, True, c2c=0.3) for _ in range(3)]
    assert a == b and len(set(a)) == 3
    steps = np.array([pulse(0.0, True, c2c=0.3) for _ in range(20000)])
    assert steps.mean() == pytest.approx(0.001, rel=0.01)
    assert steps.std() == pytest.approx(0.0003, rel=0.03)


# -- reads --------------------------------------------------------------------------------------


def _read_matrices(xb):
    rows, cols = xb.shape
    fwd = np.array([xb.forward(np.eye(rows)[i]) for i in range(rows)])   # rows x cols
    bwd = np.array([xb.backward(np.eye(cols)[j]) for j in range(cols)])  # cols x rows
    return fwd, bwd


def test_exact_reads_are_the_matrix_product_and_its_transpose():
    rng = np.random.default_rng(0)
    w0 = rng.uniform(-0.5, 0.5, (7, 5))
    xb = Crossbar(w0, REALISTIC, ReadSpec(), gain=2.5, rng=1)
    w = xb.w.astype(np.float64)
    x, d = rng.normal(size=7), rng.normal(size=5)
    np.testing.assert_allclose(xb.forward(x), 2.5 * x @ w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(xb.backward(d), 2.5 * w @ d, rtol=1e-12, atol=1e-12)
    fwd, bwd = _read_matrices(xb)
    np.testing.assert_array_equal(bwd, fwd.T)
    np.testing.assert_array_equal(fwd, xb.weights)


def test_adc_reads_lie_on_the_grid_within_bounds_and_transpose():
    rng = np.random.default_rng(2)
    read = ReadSpec(adc_bits=5, out_bound=1.0, dac_bits=4, in_bound=1.0)
    xb = Crossbar(rng.uniform(-0.6, 0.6, (12, 6)), DeviceSpec(), read, gain=3.0, rng=0)
    bound = read.out_bound * 0.6
    delta = bound / (2 ** 4 - 1)
    for _ in range(20):
        for out in (xb.forward(rng.uniform(-2, 2, 12)), xb.backward(rng.uniform(-2, 2, 6))):
            k = out / 3.0 / delta
            np.testing.assert_allclose(k, np.round(k), atol=1e-9)
            assert np.all(np.abs(out) <= 3.0 * bound + 1e-12)
    fwd, bwd = _read_matrices(xb)
    np.testing.assert_array_equal(bwd, fwd.T)
    # a single-row read is exact up to the ADC grid
    np.testing.assert_allclose(fwd, xb.weights, atol=3.0 * delta / 2 + 1e-12)


def test_quantizers():
    assert quantize_value(0.123, 0, 1.0) == 0.123
    assert quantize_value(5.0, 8, 1.0) == 1.0 and quantize_value(-5.0, 8, 1.0) == -1.0
    assert quantize_value(0.0, 8, 1.0) == 0.0
    assert sorted({quantize_value(v, 1, 1.0) for v in np.linspace(-2, 2, 41)}) == [-1.0, 0.0, 1.0]
    levels = {quantize_value(v, 3, 1.0) for v in np.linspace(-1, 1, 1001)}
    assert len(levels) == 2 ** 3 - 1
    x = np.array([0.0, 1.0, 0.6, -0.4, -3.0])
    np.testing.assert_array_equal(dac(x, 0, 1.0), x)
    np.testing.assert_array_equal(dac(x, 2, 1.0), [0.0, 1.0, 1.0, 0.0, -1.0])


def test_read_noise_std_in_units_of_w_max():
    seed_numba(3)
    out = np.zeros(200000)
    quantize_read(out, 0.06, 0, 12.0, 0.6)
    assert out.mean() == pytest.approx(0.0, abs=1e-3)
    assert out.std() == pytest.approx(0.036, rel=0.02)


# -- writes -------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_coincidence_write_counts_and_places_every_coincidence(data):
    rows, cols = 9, 7
    pick = lambda n: np.array(sorted(data.draw(st.sets(st.integers(0, n - 1)))), dtype=np.int64)  # noqa: E731
    r, up, down = pick(rows), pick(cols), pick(cols)
    xb = Crossbar((rows, cols), DeviceSpec(), rng=0)
    n = xb.pulse_coincidence(r, up, down)
    assert n == len(r) * (len(up) + len(down)) == xb.write_pulses
    expect = np.zeros((rows, cols))
    for i in r:
        expect[i, up] += 0.001
        expect[i, down] -= 0.001
    np.testing.assert_allclose(xb.w, expect, atol=1e-9)


def test_coincidence_writes_clip_to_each_devices_own_bounds():
    xb = Crossbar((20, 20), REALISTIC, rng=4)
    seed_numba(4)
    allr = np.arange(20)
    for _ in range(3000):
        xb.pulse_coincidence(allr, allr, [])
    assert np.all(xb.w <= xb.dev.w_max) and np.all(xb.w > 0.0)
    assert np.median(xb.w / xb.dev.w_max) > 0.9  # soft bounds: approaching, never passing
    for _ in range(6000):
        xb.pulse_coincidence(allr, [], allr)
    assert np.all(xb.w >= xb.dev.w_min) and np.all(xb.w < 0.0)
    assert np.median(xb.w / xb.dev.w_min) > 0.9


@njit  # no cache: a test module is not importable by name from numba's cache
def _engine_like_tick(w, dev_up, dev_down, w_max, w_min, g_up, g_down, ref, rows, up, down, P, out_f, out_b):
    # what the engine does inside its compiled loop: event-driven reads, then the write
    mvm_rows(w, rows, out_f)
    mvm_cols(w, up, out_b)
    return coincidence_write(w, w, dev_up, dev_down, w_max, w_min, g_up, g_down, ref, rows, up, down, 2, P)


def test_kernels_compose_inside_a_compiled_loop():
    xb = Crossbar(np.full((6, 4), 0.1), REALISTIC, rng=0)
    w_before = xb.w.astype(np.float64)
    rows, up, down = np.array([1, 4]), np.array([0, 3]), np.array([2])
    of, ob = np.zeros(4), np.zeros(6)
    d = xb.dev
    n = _engine_like_tick(xb.w, d.dw_up, d.dw_down, d.w_max, d.w_min, d.g_up, d.g_down, d.ref, rows, up, down,
                          _params(0.3), of, ob)
    assert n == 6
    np.testing.assert_allclose(of, w_before[rows].sum(0))
    np.testing.assert_allclose(ob, w_before[:, up].sum(1))
    changed = xb.w != w_before.astype(np.float32)
    assert changed.sum() == 6 and changed[np.ix_(rows, [0, 2, 3])].all()


def test_rate_update_is_eq9_through_the_device():
    xb = Crossbar((3, 4), DeviceSpec(), rng=0)
    pre, up, down = np.array([10, 0, 40]), np.array([20, 0, 0, 5]), np.array([0, 0, 30, 5])
    total = xb.rate_update(pre, up, down, ts=50)
    expect = 0.001 * np.outer(pre, up - down) / 50
    np.testing.assert_allclose(xb.w, expect, atol=1e-9)
    assert total == pytest.approx(np.abs(np.outer(pre, up - down)).sum() / 50)
    assert xb.write_pulses == round(total)
    # soft bounds: the step is evaluated at the current weight
    sb = Crossbar(np.full((1, 1), 0.3), DeviceSpec(model="soft_bounds"), rng=0)
    sb.rate_update([10], [5], [0], ts=10)
    assert sb.w[0, 0] == pytest.approx(0.3 + 5 * 0.001 * (1 - 0.3 / 0.6), rel=1e-6)
    # and the bound still holds
    sat = Crossbar(np.full((1, 1), 0.59), DeviceSpec(), rng=0)
    sat.rate_update([100], [100], [0], ts=1)
    assert sat.w[0, 0] == pytest.approx(0.6)


def test_rate_noise_only_where_both_trains_spike_and_falls_as_inverse_sqrt_ts():
    rows, cols = 4, 20000
    pre = np.array([0, 25, 25, 25])
    up = np.where(np.arange(cols) % 2 == 0, 10, 0)
    up[:10] = 0  # silent post columns: no noise there
    down = np.zeros(cols)
    for ts, noise_ts in ((50, None), (50, 400)):
        seed_numba(0)
        xb = Crossbar((rows, cols), DeviceSpec(w_max=10.0, w_min=-10.0), rng=0)
        xb.rate_noise_update(pre, up, down, ts, noise_scale=0.37, noise_ts=noise_ts)
        w = xb.w.astype(np.float64)
        silent = (pre[:, None] == 0) | ((up + down)[None, :] == 0)
        assert np.all(w[silent] == 0)
        # back to the rate product: w / (dw_min * ts) = pre*post/ts^2 + noise
        err = w[1:, ~silent[1]] / (0.001 * ts) - (25 * up[~silent[1]] / ts ** 2)[None, :]
        assert err.mean() == pytest.approx(0.0, abs=2e-3)
        assert err.std() == pytest.approx(0.37 / np.sqrt(noise_ts or ts), rel=0.03)


def test_stochastic_coincidence_writes_match_the_rate_update_on_average():
    rng = np.random.default_rng(5)
    seed_numba(5)
    rows, cols, ts, trials = 3, 3, 100, 300
    a, b = np.array([0.2, 0.5, 0.9]), np.array([0.3, 0.6, 0.1])
    acc = np.zeros((rows, cols))
    for _ in range(trials):
        xb = Crossbar((rows, cols), DeviceSpec(w_max=10.0, w_min=-10.0), rng=0)
        for _ in range(ts):
            xb.pulse_coincidence(np.flatnonzero(rng.random(rows) < a), np.flatnonzero(rng.random(cols) < b), [])
        acc += xb.w
    ref = Crossbar((rows, cols), DeviceSpec(w_max=10.0, w_min=-10.0), rng=0)
    ref.rate_update(a * ts, b * ts, np.zeros(cols), ts)
    np.testing.assert_allclose(acc / trials, ref.w, rtol=0.05)


def test_same_seed_same_results_other_seed_other_results():
    def run(seed):
        seed_numba(seed)
        xb = Crossbar.from_chip(load_chip("rpu_realistic"), np.zeros((16, 8)), gain=0.5, rng=seed)
        rng = np.random.default_rng(seed)
        for _ in range(50):
            xb.pulse_coincidence(np.flatnonzero(rng.random(16) < 0.3), np.flatnonzero(rng.random(8) < 0.3),
                                 np.flatnonzero(rng.random(8) < 0.2))
        xb.rate_noise_update(rng.integers(0, 20, 16), rng.integers(0, 20, 8), rng.integers(0, 5, 8), 50, 0.37)
        return xb.w.copy(), xb.dev, xb.write_pulses
    w1, d1, n1 = run(1)
    w2, d2, n2 = run(1)
    w3, _, _ = run(2)
    np.testing.assert_array_equal(w1, w2)
    for a, b in zip(d1, d2):
        np.testing.assert_array_equal(a, b)
    assert n1 == n2 and not np.array_equal(w1, w3)


def test_bad_arguments_are_refused():
    xb = Crossbar((3, 2), rng=0)
    with pytest.raises(ValueError, match="x_rows"):
        xb.forward(np.ones(2))
    with pytest.raises(ValueError, match="ts"):
        xb.rate_update(np.ones(3), np.ones(2), np.ones(2), ts=0)
    with pytest.raises(ValueError, match="2-D"):
        Crossbar(np.zeros(3))


# -- the product benchmark (paper Fig. 4) -------------------------------------------------------


def test_bench_product_slope_is_minus_one_half(tmp_path):
    from neurocore.bench import product
    png = tmp_path / "product.png"
    args = argparse.Namespace(seed=0, ts=[50, 100, 200, 400, 1000], repeats=1, output=str(png), no_plot=False)
    figures = product.run(args)
    assert figures["slope"] == pytest.approx(-0.5, abs=0.05) and figures["slope_ok"]
    assert set(figures["std_by_ts"]) == {50, 100, 200, 400, 1000}
    for ts, std in figures["std_by_ts"].items():
        assert std == pytest.approx(figures["expected_std_by_ts"][ts], rel=0.1)
    assert figures["noise_scale"] == pytest.approx(0.368, rel=0.05)
    assert png.stat().st_size > 10_000
