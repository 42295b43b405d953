"""The compiled engine against the numpy reference and against itself on other mappings."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurocore.engine import Engine, SourceDrive
from neurocore.engine.reference import reference_run
from neurocore.errors import ConfigError
from neurocore.mapping import place
from neurocore.netlist import Netlist, NeuronParams, Plasticity

from .helpers import big_core, engine_spikes, make_chip, many_small_cores, netlists, source_drive

TICKS = 30


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=netlists(), seed=st.integers(0, 1000), strategy=st.sampled_from(["sequential", "traffic"]))
def test_mapped_equals_one_core_and_reference(net: Netlist, seed: int, strategy: str) -> None:
    drive = source_drive(net, 1)
    one = engine_spikes(Engine(place(net, big_core()), seed=seed), drive, TICKS)
    many = engine_spikes(Engine(place(net, many_small_cores(), strategy), seed=seed), drive, TICKS)
    sources = {p: one[p] for p, pop in net.populations.items() if pop.is_source}
    ref = reference_run(net, sources, TICKS)["spikes"]
    for p in net.populations:
        np.testing.assert_array_equal(many[p], one[p], err_msg=f"population {p}: mapped != one core")
        np.testing.assert_array_equal(one[p], ref[p], err_msg=f"population {p}: engine != reference")


def _chain(di: float, w: float) -> Netlist:
    net = Netlist("kernel")
    net.add_source("in", 1)
    net.add_population("n", 1, NeuronParams(di=di, dv=0.0, theta=1e9))
    net.connect("w", "in", "n", [[w]])
    net.add_probe("n", [0])
    return net


@pytest.mark.parametrize("di", [1.0, 0.5, 0.1, 0.02])
def test_single_spike_follows_design_kernel(di: float) -> None:
    """One input spike at tick 0 (delay 1) gives v[t] = w (1 - (1-di)^(t)) / di for t >= 1."""
    net, w, ticks = _chain(di, 0.75), 0.75, 40
    eng = Engine(place(net, big_core()))
    res = eng.run(SourceDrive({"in": np.zeros((1, 1))}), ticks, probes=True)
    assert np.all(res.probe_v == 0)  # no spike, no response
    # force exactly one spike at tick 0: probability 1 with a front-loaded profile is not one-tick;
    # use the reference's explicit source train instead and compare the engine with it below
    src = np.zeros((ticks, 1), bool)
    src[0] = True
    ref = reference_run(net, {"in": src}, ticks, probe={"n": [0]})
    t = np.arange(ticks)
    expect = np.where(t >= 1, w * (1 - (1 - di) ** t) / di, 0.0)
    np.testing.assert_allclose(ref["v"]["n"][:, 0], expect, rtol=1e-4, atol=1e-6)


def test_engine_membrane_equals_reference() -> None:
    net = _chain(0.1, 0.5)
    eng = Engine(place(net, big_core()), seed=3)
    res = eng.run(SourceDrive({"in": np.full((1, 1), 0.2)}), 50, probes=True, record=True)
    src = np.zeros((50, 1), bool)
    t, _ = res.spikes("in", 0)
    src[t, 0] = True
    ref = reference_run(net, {"in": src}, 50, probe={"n": [0]})
    np.testing.assert_array_equal(res.probe_v[0, :, 0], ref["v"]["n"][:, 0])
    np.testing.assert_array_equal(res.probe_i[0, :, 0], ref["i"]["n"][:, 0])


def test_same_seed_same_spikes_and_counters() -> None:
    rng = np.random.default_rng(0)
    net = Netlist("x")
    net.add_source("in", 20)
    net.add_population("h", 30, NeuronParams(theta=1.0))
    net.connect("w", "in", "h", rng.normal(0, 0.5, (20, 30)))
    runs = []
    for _ in range(2):
        eng = Engine(place(net, make_chip()), seed=7)
        res = eng.run(source_drive(net, 3), 40, record=True)
        runs.append((res.events, res.counters["syn_events"], res.counters["packets"]))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1:] == runs[1][1:]
    eng = Engine(place(net, make_chip()), seed=8)
    other = eng.run(source_drive(net, 3), 40, record=True)
    assert not np.array_equal(other.events, runs[0][0])


def test_counters_count_events() -> None:
    """Synaptic events = sum over delivered spikes of their crossbar row lengths; packets per core."""
    net = Netlist("c")
    net.add_source("in", 4)
    net.add_population("h", 40, NeuronParams(theta=1e9))
    net.connect("w", "in", "h", np.ones((4, 40)))
    chip = make_chip(2, 2, neurons=32, cols=32)
    eng = Engine(place(net, chip), seed=1)
    res = eng.run(source_drive(net, 2, p=0.5), 25, record=True)
    n_in = res.counters["pop_spikes"]["in"]
    ev = res.events
    # every input spike not in the last tick is delivered (delay 1) to 40 columns in 2 tiles
    delivered = sum(int(((ev[:, 0] == s) & (ev[:, 1] < 24)).sum()) for s in range(2))
    assert res.counters["syn_events"] == 40 * delivered
    assert res.counters["packets"] == n_in * 2  # h is split over two cores
    assert res.counters["neuron_updates"] == 40 * 25 * 2
    assert res.counters["traffic"].sum() == res.counters["packets"]


def _plastic_net(seed: int) -> tuple[Netlist, np.ndarray]:
    """12 sources onto 9 IF neurons through a plastic crossbar of dyadic weights, with up and
    down column-pulse sources."""
    net = Netlist("learn")
    net.add_source("x", 12)
    net.add_source("up", 9)
    net.add_source("down", 9)
    net.add_population("y", 9, NeuronParams(theta=1.0))
    w = np.random.default_rng(seed).integers(-8, 9, (12, 9)) / 64.0
    net.connect("w", "x", "y", w, plastic=Plasticity("up", "down"))
    return net, w


def test_coincidence_learning_equals_reference() -> None:
    """Plastic crossbar: each row pulse meeting an up (down) column pulse is one +dw (-dw) step."""
    net, _ = _plastic_net(2)
    chip = many_small_cores()
    eng = Engine(place(net, chip), seed=5)
    drive = SourceDrive({"x": np.full((1, 12), 0.5), "up": np.full((1, 9), 0.3), "down": np.full((1, 9), 0.3)})
    spikes = engine_spikes(eng, drive, 30, learn="coincidence")
    ref = reference_run(net, {p: spikes[p] for p in ("x", "up", "down")}, 30, learn=True,
                        dw_min=chip.device.dw_min)
    np.testing.assert_array_equal(spikes["y"], ref["spikes"]["y"])
    np.testing.assert_allclose(eng.weights("w"), ref["weights"]["w"], atol=1e-6)
    c = eng.counters()
    assert c["write_pulses"] > 0
    # per crossbar tile and per core, the same pulses
    assert c["tile_write_pulses"].sum() == c["write_pulses"] == c["core_write_pulses"].sum()
    ups = (spikes["x"][:-1, :, None] & spikes["up"][:-1, None, :]).sum()
    downs = (spikes["x"][:-1, :, None] & spikes["down"][:-1, None, :]).sum()
    assert c["write_pulses"] == ups + downs  # one pulse per coincidence of arrivals (delay 1)


def test_deferred_writes_read_the_sample_start_weights() -> None:
    """defer_writes: the sample's pulses all land (same weights as the reference), but the
    neurons see the crossbar as it was when the sample began (same spikes as no learning)."""
    net, w = _plastic_net(3)
    chip = many_small_cores()
    drive = SourceDrive({"x": np.full((1, 12), 0.5), "up": np.full((1, 9), 0.6), "down": np.full((1, 9), 0.1)})
    frozen = engine_spikes(Engine(place(net, chip), seed=5), drive, 30)
    eng = Engine(place(net, chip), seed=5)
    spikes = engine_spikes(eng, drive, 30, learn="coincidence", defer_writes=True)
    np.testing.assert_array_equal(spikes["y"], frozen["y"])
    ref = reference_run(net, {p: spikes[p] for p in ("x", "up", "down")}, 30, learn=True,
                        dw_min=chip.device.dw_min)
    np.testing.assert_allclose(eng.weights("w"), ref["weights"]["w"], atol=1e-6)
    assert not np.allclose(eng.weights("w"), w)
    live = engine_spikes(Engine(place(net, chip), seed=5), drive, 30, learn="coincidence")
    assert (live["y"] != frozen["y"]).any()  # writes that act at once change this sample's spikes


def test_bad_drive_is_a_clear_error() -> None:
    net = _chain(1.0, 1.0)
    eng = Engine(place(net, big_core()))
    with pytest.raises(ConfigError, match="expected \\(1, 1\\)"):
        eng.run(SourceDrive({"in": np.zeros((1, 3))}), 10)
    with pytest.raises(ConfigError, match="not a spike-source"):
        eng.run(SourceDrive({"n": np.zeros((1, 1))}), 10)
    with pytest.raises(ConfigError, match="\\[0, 1\\]"):
        eng.run(SourceDrive({"in": np.full((1, 1), 2.0)}), 10)
    with pytest.raises(ConfigError, match="learn"):
        eng.run(SourceDrive({"in": np.zeros((1, 1))}), 10, learn="magic")


def test_silent_sources_do_not_change_the_others_spikes() -> None:
    """Skipping p = 0 sources is an optimisation only: source j's train depends on j alone."""
    net = Netlist("s")
    net.add_source("in", 50)
    net.add_population("h", 3, NeuronParams(theta=1e9))
    net.connect("w", "in", "h", np.zeros((50, 3)))
    p = np.full((1, 50), 0.3)
    q = p.copy()
    q[0, ::2] = 0.0
    a = engine_spikes(Engine(place(net, big_core()), seed=4), SourceDrive({"in": p}), 40)["in"]
    b = engine_spikes(Engine(place(net, big_core()), seed=4), SourceDrive({"in": q}), 40)["in"]
    np.testing.assert_array_equal(a[:, 1::2], b[:, 1::2])
    assert not b[:, ::2].any()


def test_fixed_point_state_lies_on_its_grid() -> None:
    """With fixed-point precision, v and i are multiples of 2^-frac_bits and saturate at their width."""
    net = _chain(0.1, 0.3)
    chip = make_chip(1, 1, neurons=8, axons=8, precision={"state": "fixed", "v_bits": 8, "i_bits": 8,
                                                          "frac_bits": 4})
    res = Engine(place(net, chip), seed=2).run(SourceDrive({"in": np.full((1, 1), 0.5)}), 60, probes=True)
    v, i = res.probe_v[0, :, 0], res.probe_i[0, :, 0]
    for x in (v, i):
        np.testing.assert_array_equal(x * 16, np.round(x * 16))
        assert np.all(np.abs(x) <= 127 / 16)
    assert v.max() == 127 / 16  # theta is unreachable: v climbs until it saturates


def test_crossbar_read_and_write_cycle_counters() -> None:
    """A tile is read once per tick in which any of its rows is driven (row-parallel, as an
    analogue array reads), transposed once per tick in which any column is driven, and all of
    a tick's coincidence pulses on a tile are one write cycle."""
    net, _ = _plastic_net(4)
    net.add_population("back", 12, NeuronParams(theta=1e9))
    net.connect_transposed("wT", "w", "up", "back")
    eng = Engine(place(net, big_core()), seed=2)
    ticks = 30
    drive = SourceDrive({"x": np.full((1, 12), 0.2), "up": np.full((1, 9), 0.3), "down": np.full((1, 9), 0.3)})
    res = eng.run(drive, ticks, record=True, learn="coincidence", traffic="per_tick")
    s = {p: np.zeros((ticks, net.populations[p].size), bool) for p in ("x", "up", "down")}
    for p in s:
        t, i = res.spikes(p, 0)
        s[p][t, i] = True
    x, up, down = (s[p][:-1].any(axis=1) for p in ("x", "up", "down"))  # arriving one tick later
    c = res.counters
    assert c["crossbar_reads"] == int(x.sum())  # one tile: w (big core)
    assert c["crossbar_col_reads"] == int(up.sum())
    assert c["write_cycles"] == int((x & (up | down)).sum())
    assert c["tile_reads_per_tick"].sum() == c["crossbar_reads"]
    assert c["tile_write_pulses_per_tick"].sum() == c["write_pulses"]
    assert c["core_spikes_per_tick"].sum() == c["spikes"]
    assert c["core_crossbar_reads"].sum() == c["crossbar_reads"]


def test_explicit_spike_drive_replays_given_spikes() -> None:
    """A SpikeDrive fires exactly the given source spikes: the engine's run equals the reference fed the same."""
    from neurocore.engine import SpikeDrive

    net, _ = _plastic_net(5)
    rng = np.random.default_rng(3)
    spikes = {p: rng.random((2, 20, net.populations[p].size)) < 0.3 for p in ("x", "up", "down")}
    eng = Engine(place(net, many_small_cores()), seed=1)
    res = eng.run(SpikeDrive(spikes), 20, record=True)
    for b in range(2):
        got = {}
        for p in net.populations:
            m = np.zeros((20, net.populations[p].size), bool)
            t, n = res.spikes(p, b)
            m[t, n] = True
            got[p] = m
        for p in spikes:
            np.testing.assert_array_equal(got[p], spikes[p][b])
        ref = reference_run(net, {p: spikes[p][b] for p in spikes}, 20)["spikes"]
        np.testing.assert_array_equal(got["y"], ref["y"])
    with pytest.raises(ConfigError, match="expected \\(2, 20, 12\\)"):
        eng.run(SpikeDrive({"x": np.zeros((2, 19, 12), bool)}), 20)


@pytest.mark.parametrize("explicit", [False, True])
def test_threads_give_the_spikes_and_counters_of_one_thread(explicit: bool) -> None:
    """An inference batch split over threads (each with its own state) records the same spikes, probes,
    counts and counters as one thread: samples are independent and their draws depend on their ids."""
    from neurocore.engine import SpikeDrive

    net, _ = _plastic_net(6)
    net.add_probe("y", [0, 3])
    rng = np.random.default_rng(2)
    if explicit:
        drive = SpikeDrive({p: rng.random((7, 25, net.populations[p].size)) < 0.3 for p in ("x", "up", "down")})
    else:
        drive = SourceDrive({p: np.full((7, net.populations[p].size), 0.3) for p in ("x", "up", "down")})
    runs = []
    for threads in (1, 2, 3):
        eng = Engine(place(net, many_small_cores()), seed=9)
        res = eng.run(drive, 25, sample_ids=range(10, 17), readout=["y"], record=True, probes=True, dropout=True,
                      threads=threads)
        runs.append((res, eng.counters()))
    (one, c1) = runs[0]
    for res, c in runs[1:]:
        np.testing.assert_array_equal(res.events, one.events)
        np.testing.assert_array_equal(res.counts["y"], one.counts["y"])
        np.testing.assert_array_equal(res.probe_v, one.probe_v)
        for k in ("syn_events", "spikes", "packets", "packet_hops", "crossbar_reads", "samples", "ticks"):
            assert c[k] == c1[k], k
        np.testing.assert_array_equal(c["traffic"], c1["traffic"])
