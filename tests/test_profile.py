"""The engine's per-phase cycle counters, its explicit-input scan and its uniform-coefficient runs:
none of them changes what a run computes."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurocore.bench.profile import profiled
from neurocore.engine import Engine, SpikeDrive
from neurocore.engine.cycles import PHASES
from neurocore.engine.reference import reference_run
from neurocore.mapping import place
from neurocore.netlist import Netlist, NeuronParams

from .helpers import big_core, many_small_cores

TICKS = 25


def _net(theta: np.ndarray | float = 1.0) -> Netlist:
    rng = np.random.default_rng(3)
    net = Netlist("two_sources")
    net.add_source("a", 12)
    net.add_source("b", 7)
    net.add_population("h", 40, NeuronParams(di=0.3, dv=0.1, theta=theta, reset="subtract"))
    net.add_population("o", 5, NeuronParams(di=1.0, dv=0.0, theta=1.0, reset="zero"))
    net.connect("wa", "a", "h", rng.normal(0, 0.6, (12, 40)))
    net.connect("wb", "b", "h", rng.normal(0, 0.6, (7, 40)))
    net.connect("wo", "h", "o", rng.normal(0, 0.5, (40, 5)))
    return net


def _spikes(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"a": rng.random((1, TICKS, 12)) < 0.3, "b": rng.random((1, TICKS, 7)) < 0.3}


def _run(eng: Engine, drive: SpikeDrive) -> tuple[dict, dict]:
    eng.reset_counters()
    res = eng.run(drive, TICKS, readout=["a", "b", "h", "o"], record=True)
    c = eng.counters()
    c.pop("phase_cycles", None)
    return {p: res.spikes(p, 0) for p in ("h", "o")}, c


def _same(x: dict, y: dict) -> None:
    assert x.keys() == y.keys()
    for k in x:
        if isinstance(x[k], tuple):
            for a, b in zip(x[k], y[k]):
                np.testing.assert_array_equal(a, b, err_msg=k)
        elif isinstance(x[k], dict):
            _same(x[k], y[k])
        else:
            np.testing.assert_array_equal(x[k], y[k], err_msg=k)


def test_profile_counts_every_phase_and_changes_nothing() -> None:
    net = _net()
    eng = Engine(place(net, many_small_cores()), seed=2)
    drive = SpikeDrive(_spikes(0))
    plain_spikes, plain_counters = _run(eng, drive)
    eng.reset_counters(profile=True)
    eng.run(drive, TICKS)
    cycles = eng.counters()["phase_cycles"]
    assert list(cycles) == list(PHASES)
    assert all(v >= 0 for v in cycles.values()) and cycles["deliver"] > 0 and cycles["update"] > 0
    prof_spikes, prof_counters = _run(eng, drive)  # the profile stays on until turned off
    assert "phase_cycles" in eng.counters()
    _same(plain_spikes, prof_spikes)
    _same(plain_counters, prof_counters)
    out = profiled(eng, lambda: eng.run(drive, TICKS))
    assert 0 < out["profile_deliver_share"] < 1 and out["profile_outside_s"] >= 0
    assert "phase_cycles" not in eng.counters()  # profiled() turns it off again


def test_checkpointed_counters_leave_the_profile_out() -> None:
    eng = Engine(place(_net(), big_core()), seed=2)
    eng.reset_counters(profile=True)
    eng.run(SpikeDrive(_spikes(1)), TICKS)
    assert "phase_cycles" not in eng.counter_state()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), level=st.sampled_from([1, 2, 7]))
def test_explicit_input_in_any_order_and_dtype(seed: int, level: int) -> None:
    """Sources given out of netlist order, as integers other than 0/1, fire as the bool trains do and as
    the numpy reference says."""
    net = _net()
    eng = Engine(place(net, many_small_cores()), seed=2)
    spikes = _spikes(seed)
    ints = {p: spikes[p].astype(np.int32) * level for p in ("b", "a")}
    as_bool, c_bool = _run(eng, SpikeDrive(spikes))
    as_ints, c_ints = _run(eng, SpikeDrive(ints))
    _same(as_bool, as_ints)
    _same(c_bool, c_ints)
    ref = reference_run(net, {p: spikes[p][0] for p in spikes}, TICKS)["spikes"]
    for p in ("h", "o"):
        ticks, idx = as_bool[p]
        got = np.zeros_like(ref[p])
        got[ticks, idx] = True
        np.testing.assert_array_equal(got, ref[p], err_msg=p)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_uniform_and_per_neuron_coefficients_agree(seed: int) -> None:
    """A run whose coefficients are one value each is updated with scalars; one neuron's threshold set
    apart sends its run down the per-neuron path: every other neuron of the layer spikes as before."""
    eng_u = Engine(place(_net(1.0), big_core()), seed=2)
    eng_p = Engine(place(_net(np.where(np.arange(40) == 17, 1e6, 1.0)), big_core()), seed=2)
    assert eng_u.c.neurons.run_uniform.all() and not eng_p.c.neurons.run_uniform.all()
    drive = SpikeDrive(_spikes(seed))
    (su, _), (sp, _) = _run(eng_u, drive), _run(eng_p, drive)
    (tu, nu), (tp, np_) = su["h"], sp["h"]
    np.testing.assert_array_equal(tu[nu != 17], tp[np_ != 17])
    np.testing.assert_array_equal(nu[nu != 17], np_[np_ != 17])
    assert not (np_ == 17).any()
