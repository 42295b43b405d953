"""Neuron models: closed-form responses, the discretisation of continuous-time models, and the
compiled engine equal to the numpy reference for every model."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurocore.engine import Engine, SourceDrive
from neurocore.engine.reference import reference_run
from neurocore.errors import ConfigError
from neurocore.mapping import place
from neurocore.netlist import Netlist
from neurocore.neurons import (IF, LI, LIF, CubaLI, CubaLIF, Integrator, cuba_from_continuous, discretise,
                               integrator_from_continuous, li_from_continuous, lif_from_continuous)

from .helpers import big_core, engine_spikes, many_small_cores

TICKS = 40


def _alone(model, size: int = 1) -> Netlist:
    """One population of `model` driven by a one-neuron source through weight 1."""
    net = Netlist("one")
    net.add_source("in", 1)
    net.add_population("n", size, model)
    net.connect("w", "in", "n", np.ones((1, size)))
    net.add_probe("n", list(range(size)))
    return net


def _impulse(model, ticks: int = TICKS, w: float = 1.0):
    """v and i of a neuron whose one input spike (weight w) is sent at tick 0 and arrives at tick 1."""
    net = _alone(model)
    net.projections["w"].weights[:] = w
    src = np.zeros((ticks, 1), bool)
    src[0] = True
    ref = reference_run(net, {"in": src}, ticks, probe={"n": [0]})
    return ref["v"]["n"][:, 0].astype(np.float64), ref["i"]["n"][:, 0].astype(np.float64), ref["spikes"]["n"][:, 0]


def _engine_trace(model, ticks: int = TICKS):
    """v and spikes of one neuron with no input (bias only), from the compiled engine."""
    net = _alone(model)
    eng = Engine(place(net, big_core()), seed=0)
    res = eng.run(SourceDrive({"in": np.zeros((1, 1))}), ticks, probes=True, record=True)
    spikes = np.zeros(ticks, bool)
    spikes[res.spikes("n", 0)[0]] = True
    return res.probe_v[0, :, 0].astype(np.float64), spikes


t = np.arange(TICKS)


def test_li_impulse_decays_geometrically() -> None:
    v, _, _ = _impulse(LI(dv=0.25), w=0.5)
    np.testing.assert_allclose(v, np.where(t >= 1, 0.5 * 0.75 ** np.maximum(t - 1, 0), 0.0), rtol=1e-5)


def test_cuba_li_impulse_is_a_difference_of_exponentials() -> None:
    a, b = 1 - 0.2, 1 - 0.05
    v, i, _ = _impulse(CubaLI(di=0.2, dv=0.05), w=2.0)
    np.testing.assert_allclose(i, np.where(t >= 1, 2.0 * a ** np.maximum(t - 1, 0), 0.0), rtol=1e-5)
    expect = np.where(t >= 1, 2.0 * (a ** t - b ** t) / (a - b), 0.0)
    np.testing.assert_allclose(v, expect, rtol=1e-4, atol=1e-6)


def test_integrator_sums_its_input_and_gains_scale_it() -> None:
    v, _, _ = _impulse(Integrator(input_gain=0.5, bias=0.125), w=3.0)
    np.testing.assert_allclose(v, 0.125 * (t + 1) + np.where(t >= 1, 1.5, 0.0))


@pytest.mark.parametrize("dv", [0.0, 0.1, 0.15])
def test_lif_with_constant_drive_follows_its_closed_form(dv: float) -> None:
    """From v = 0 with bias b: v[t] = b (1 - (1-dv)^(t+1)) / dv (b (t+1) without a leak) until the first
    spike; a hard reset then repeats the same rise, so spikes are periodic."""
    b, theta = 0.2, 1.0
    rise = b * (t + 1) if dv == 0 else b * (1 - (1 - dv) ** (t + 1)) / dv
    first = int(np.argmax(rise >= theta))
    for model in (LIF(dv=dv, theta=theta, bias=b), CubaLIF(di=1.0, dv=dv, theta=theta, bias=b, reset="zero")):
        v, spikes = _engine_trace(model)
        np.testing.assert_allclose(v[:first], rise[:first], rtol=1e-5)
        assert np.nonzero(spikes)[0].tolist() == list(range(first, TICKS, first + 1))


def test_if_reset_to_v_reset_and_refractory_ticks() -> None:
    """IF with bias 0.25, theta 1: v climbs 0.25 a tick; after a spike v = v_reset = -0.5 and holds for
    2 refractory ticks, so spikes repeat every 2 + 6 ticks (-0.5 -> 1.0 takes 6 steps)."""
    v, spikes = _engine_trace(IF(theta=1.0, bias=0.25, v_reset=-0.5, refractory=2))
    first = 3
    assert np.nonzero(spikes)[0].tolist() == list(range(first, TICKS, 8))
    assert v[first] == -0.5 and v[first + 1] == -0.5 and v[first + 2] == -0.5 and v[first + 3] == -0.25


def test_a_spike_budget_stops_a_neuron_for_the_rest_of_the_sample_only() -> None:
    """IF with bias 0.25, theta 1 spikes at ticks 3, 7, 11, ...; with max_spikes 3 it spikes at 3, 7, 11
    and then holds v (= 0 after the reset) to the end of the sample; the next sample starts afresh."""
    net = _alone(IF(theta=1.0, bias=0.25, max_spikes=3))
    eng = Engine(place(net, big_core()), seed=0)
    res = eng.run(SourceDrive({"in": np.zeros((2, 1))}), TICKS, probes=True, record=True)
    for b in range(2):
        assert res.spikes("n", b)[0].tolist() == [3, 7, 11]
        assert (res.probe_v[b, 12:, 0] == 0.0).all()
    with pytest.raises(ConfigError, match="max_spikes"):
        IF(max_spikes=-1).validate()


def test_subtractive_reset_keeps_the_overshoot() -> None:
    v, spikes = _engine_trace(IF(theta=1.0, bias=0.375, reset="subtract"))
    k = np.nonzero(spikes)[0]
    assert k[0] == 2 and v[2] == pytest.approx(0.125)  # 1.125 - 1
    assert spikes.sum() == int(0.375 * TICKS)  # a rate of exactly bias / theta


def test_exact_discretisation_is_exact_for_constant_input() -> None:
    """tau dv/dt = (v_leak - v) + r I with constant I: v(t) = v_inf (1 - exp(-t/tau)), v_inf = v_leak + r I;
    the exact (zero-order hold) discretisation hits it at every tick, forward Euler does not."""
    tau, r, v_leak, current, dt = 5e-3, 2.0, 0.1, 0.3, 1e-3
    v_inf = v_leak + r * current
    model = lif_from_continuous(tau, r, v_leak, v_threshold=1e9, v_reset=0.0, dt=dt, method="exact")
    model = LIF(dv=model.dv, theta=1e9, bias=model.bias + model.input_gain * current)
    v, _ = _engine_trace(model)
    np.testing.assert_allclose(v, v_inf * (1 - np.exp(-(t + 1) * dt / tau)), rtol=1e-5)
    euler = lif_from_continuous(tau, r, v_leak, 1e9, 0.0, dt, method="euler")
    assert euler.dv == pytest.approx(dt / tau) and euler.input_gain == pytest.approx(r * dt / tau)


def test_continuous_cuba_and_integrator_parameters() -> None:
    keep, drive = discretise(np.array([1.0, 2.0]), 0.5, "exact")
    np.testing.assert_allclose(keep, np.exp([-0.5, -0.25]))
    np.testing.assert_allclose(drive, 1 - keep)
    m = cuba_from_continuous(tau_syn=2e-3, tau_mem=4e-3, r=3.0, v_leak=0.0, w_in=0.5, dt=1e-3, method="euler",
                             v_threshold=1.0)
    assert isinstance(m, CubaLIF)
    assert (m.di, m.dv) == pytest.approx((0.5, 0.25))
    assert (m.input_gain, m.current_gain) == pytest.approx((0.25, 0.75))
    assert isinstance(cuba_from_continuous(1.0, 1.0, 1.0, 0.0, 1.0, 0.1), CubaLI)
    i = integrator_from_continuous(r=4.0, dt=0.25, v_threshold=1.0)
    assert isinstance(i, IF) and i.input_gain == 1.0
    with pytest.raises(ConfigError, match="dt <= tau"):
        discretise(1.0, 2.0, "euler")
    with pytest.raises(ConfigError, match="'exact', 'euler'"):
        discretise(1.0, 0.1, "rk4")


@pytest.mark.parametrize("tau_syn, tau_mem", [(0.13, 0.26), (2e-3, 5e-3), (1.0, 1.0), (3.0, 1.0)])
def test_dirac_spikes_on_the_grid_give_the_continuous_solution_exactly(tau_syn, tau_mem) -> None:
    """A Dirac spike of weight w at t = 0 into tau_syn di/dt = -i + w_in S, tau_mem dv/dt = -v + r i: i jumps by
    w_in w / tau_syn, v(t) = r i0 tau_syn / (tau_mem - tau_syn) (e^-t/tau_mem - e^-t/tau_syn) (or r i0 (t / tau)
    e^-t/tau when the two are equal). The chip's update with spikes="dirac", exact, steps i to the current at
    tick t and v to the membrane at the end of tick t, (t + 1) dt, whatever dt."""
    r, w_in, w = 0.7, 0.4, 1.3
    i0 = w_in * w / tau_syn
    for dt in (tau_syn / 3, tau_syn / 300):
        m = cuba_from_continuous(tau_syn, tau_mem, r, 0.0, w_in, dt, "exact", v_threshold=1e9, spikes="dirac")
        i, v, vs = m.input_gain * w, 0.0, []
        for _ in range(50):
            v = (1 - m.dv) * v + m.current_gain * i
            vs.append(v)
            i *= 1 - m.di
        s = (np.arange(50) + 1) * dt
        if tau_syn == tau_mem:
            want = r * i0 * s / tau_mem * np.exp(-s / tau_mem)
        else:
            want = r * i0 * tau_syn / (tau_mem - tau_syn) * (np.exp(-s / tau_mem) - np.exp(-s / tau_syn))
        np.testing.assert_allclose(vs, want, rtol=1e-12)
    # the same spike held over its tick ("step", snnTorch's reading) moves i by the drive instead
    step = cuba_from_continuous(tau_syn, tau_mem, r, 0.0, w_in, tau_syn / 300, "exact")
    assert step.input_gain == pytest.approx(w_in * -np.expm1(-1 / 300), rel=1e-12)


def test_dirac_spikes_into_a_membrane_jump_by_r_over_tau() -> None:
    """tau dv/dt = -v + r I with I a Dirac of weight w: v jumps by r w / tau (r w for dv/dt = r I), whatever dt
    and discretisation; a constant input (v_leak) is still held over the tick."""
    for method in ("exact", "euler"):
        m = lif_from_continuous(0.02, 3.0, 0.5, 1.0, 0.0, 1e-3, method, spikes="dirac")
        assert m.input_gain == pytest.approx(3.0 / 0.02)
        assert m.bias == pytest.approx(lif_from_continuous(0.02, 3.0, 0.5, 1.0, 0.0, 1e-3, method).bias)
        assert li_from_continuous(0.02, 3.0, 0.0, 1e-3, method, spikes="dirac").input_gain == pytest.approx(150.0)
    assert integrator_from_continuous(4.0, 0.25, 1.0, spikes="dirac").input_gain == 4.0
    with pytest.raises(ConfigError, match="'step', 'dirac'"):
        lif_from_continuous(0.02, 3.0, 0.5, 1.0, 0.0, 1e-3, spikes="delta")


def test_per_neuron_parameters_and_their_sizes() -> None:
    net = Netlist("p")
    net.add_source("in", 1)
    net.add_population("n", 3, LIF(dv=np.array([0.0, 0.5, 0.25], np.float32), theta=1e9, bias=1.0))
    net.add_probe("n", [0, 1, 2])
    eng = Engine(place(net, big_core()))
    res = eng.run(SourceDrive({"in": np.zeros((1, 1))}), 3, probes=True)
    np.testing.assert_allclose(res.probe_v[0, -1], [3.0, 1.75, 1 + 0.75 + 0.75 ** 2])
    with pytest.raises(ConfigError, match="2 values for 3 neurons"):
        net.add_population("m", 3, LIF(dv=np.array([0.1, 0.2])))
    with pytest.raises(ConfigError, match="population.k.theta"):
        net.add_population("k", 3, LIF(theta=-1.0))


def _models(draw) -> object:
    dyad = st.sampled_from([0.0, 0.25, 0.5])
    kind = draw(st.sampled_from(["cuba_lif", "lif", "if", "li", "cuba_li", "integrator"]))
    theta = draw(st.sampled_from([0.5, 1.0, 2.0]))
    reset = draw(st.sampled_from(["subtract", "zero"]))
    v_reset = draw(st.sampled_from([0.0, -0.25]))
    ref = draw(st.integers(0, 2))
    budget = draw(st.sampled_from([0, 0, 1, 3]))
    gain = draw(st.sampled_from([1.0, 0.5, 2.0]))
    bias = draw(st.sampled_from([0.0, 0.0625]))
    if kind == "cuba_lif":
        return CubaLIF(di=draw(st.sampled_from([1.0, 0.5, 0.25])), dv=draw(dyad), theta=theta, reset=reset,
                       v_reset=v_reset, bias=bias, i_bias=draw(st.sampled_from([0.0, 0.125])), input_gain=gain,
                       current_gain=draw(st.sampled_from([1.0, 0.5])), refractory=ref, max_spikes=budget)
    if kind == "lif":
        return LIF(dv=draw(dyad), theta=theta, reset=reset, v_reset=v_reset, bias=bias, input_gain=gain,
                   refractory=ref, max_spikes=budget)
    if kind == "if":
        return IF(theta=theta, reset=reset, v_reset=v_reset, bias=bias, input_gain=gain, refractory=ref,
                  max_spikes=budget)
    if kind == "li":
        return LI(dv=draw(dyad), bias=bias, input_gain=gain)
    if kind == "cuba_li":
        return CubaLI(di=draw(st.sampled_from([1.0, 0.5])), dv=draw(dyad), bias=bias, input_gain=gain)
    return Integrator(bias=bias, input_gain=gain)


@st.composite
def mixed_netlists(draw) -> Netlist:
    """Random feed-forward and recurrent nets mixing every neuron model, with dyadic weights."""
    net = Netlist("mixed")
    net.add_source("s", draw(st.integers(1, 12)))
    names = ["s"]
    for k in range(draw(st.integers(1, 3))):
        net.add_population(f"p{k}", draw(st.integers(1, 12)), _models(draw))
        names.append(f"p{k}")
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    for k in range(draw(st.integers(1, 5))):
        pre, post = names[rng.integers(len(names))], names[1 + rng.integers(len(names) - 1)]
        a, b = net.populations[pre].size, net.populations[post].size
        net.connect(f"w{k}", pre, post, rng.integers(-16, 33, (a, b)) / 32.0, delay=int(rng.integers(1, 3)))
    return net


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=mixed_netlists(), seed=st.integers(0, 1000))
def test_engine_equals_reference_for_every_model(net: Netlist, seed: int) -> None:
    drive = SourceDrive({"s": np.full((1, net.populations["s"].size), 0.4)})
    mapped = engine_spikes(Engine(place(net, many_small_cores(), "traffic"), seed=seed), drive, TICKS)
    ref = reference_run(net, {"s": mapped["s"]}, TICKS)["spikes"]
    for p in net.populations:
        np.testing.assert_array_equal(mapped[p], ref[p], err_msg=f"population {p}")
