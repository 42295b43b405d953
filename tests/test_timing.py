"""The simpy mesh replay against latencies worked out by hand."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from neurocore.chip import chip_from_dict
from neurocore.cost import core_compute_ns, links, replay, replay_traffic, route


def make_chip(w, h, bw=1.0, hop=2.0, tick_ns=1000.0, **costs):
    return chip_from_dict({
        "name": f"mesh{w}x{h}", "mesh": {"width": w, "height": h},
        "core": {"neurons": 8, "axons": 8, "crossbar_rows": 8, "crossbar_cols": 8, "routing_entries": 8},
        "router": {"hop_latency_ns": hop, "link_bandwidth": bw, "tick_ns": tick_ns},
        "costs": {"digital": costs}})  # digital cores: every operation in turn


def test_three_packets_one_hop():
    # 2x1 mesh, 3 packets core0 -> core1, bandwidth 1 packet/ns, hop latency 2 ns, no compute.
    # The link 0->1 sends them one after another in [0,1], [1,2], [2,3]; each then spends 2 ns
    # in core 1's router: deliveries at 3, 4, 5. Tick time = last delivery = 3 + 2 = 5 ns.
    chip = make_chip(2, 1, bw=1.0, hop=2.0)
    tr = np.zeros((2, 2))
    tr[0, 1] = 3
    for chunk in (1, 3):  # one train of 3 packets lands at the same time as 3 single packets
        t = replay_traffic(chip, tr, chunk=chunk)
        assert t.tick_ns.tolist() == [5.0]
        assert t.network_ns.tolist() == [5.0]
        busy = dict(zip(t.links, t.link_busy_ns))
        assert busy[(0, 1)] == 3.0 and busy[(1, 0)] == 0.0
        assert dict(zip(t.links, t.link_utilisation))[(0, 1)] == pytest.approx(3 / 5)


def test_two_hops_contention_and_compute():
    # 3x1 mesh 0-1-2; bandwidth 0.5 packet/ns (2 ns per packet), hop latency 1 ns.
    # Compute: core0 4 ns, core1 1 ns, core2 10 ns. Traffic: 0->2 two packets, 1->2 one packet.
    #  - core1's packet: link 1->2 in [1,3], router 1 ns -> delivered at 4.
    #  - core0's 1st packet: link 0->1 in [4,6], router -> 7, link 1->2 in [7,9], router -> 10.
    #  - core0's 2nd packet: link 0->1 in [6,8], router -> 9, link 1->2 freed at 9: [9,11] -> 12.
    # Tick = max(compute 10, last delivery 12) = 12 ns. Links busy: 0->1 4 ns, 1->2 6 ns.
    chip = make_chip(3, 1, bw=0.5, hop=1.0, tick_ns=11.0)
    tr = np.zeros((3, 3))
    tr[0, 2], tr[1, 2] = 2, 1
    t = replay_traffic(chip, tr, compute_ns=[4.0, 1.0, 10.0])
    assert t.tick_ns.tolist() == [12.0]
    assert t.compute_ns.tolist() == [10.0]
    busy = dict(zip(t.links, t.link_busy_ns))
    assert busy[(0, 1)] == 4.0 and busy[(1, 2)] == 6.0
    util = dict(zip(t.links, t.link_utilisation))
    assert util[(0, 1)] == pytest.approx(4 / 12) and util[(1, 2)] == pytest.approx(6 / 12)
    assert t.missed_ticks.tolist() == [0]  # 12 ns > the 11 ns deadline
    s = t.summary("infer_")
    assert s["infer_tick_ns_max"] == 12.0 and s["infer_missed_ticks"] == 1


def test_compute_bound_tick_and_local_traffic():
    # Packets to the sending core itself need no link; the slowest core sets the tick.
    chip = make_chip(2, 2)
    tr = np.zeros((4, 4))
    tr[2, 2] = 5
    t = replay_traffic(chip, tr, compute_ns=[0.0, 0.0, 3.0, 7.0])
    assert t.tick_ns.tolist() == [7.0]
    assert t.link_busy_ns.sum() == 0.0


def test_xy_routing_goes_x_first():
    chip = make_chip(2, 2)
    ls = links(chip)
    assert [ls[k] for k in route(chip, 0, 3)] == [(0, 1), (1, 3)]
    assert [ls[k] for k in route(chip, 3, 0)] == [(3, 2), (2, 0)]
    assert route(chip, 1, 1) == []
    assert len(ls) == 8  # 4 undirected links, both ways


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 12), w=st.integers(2, 4), h=st.integers(1, 3),
       bw=st.sampled_from([0.25, 0.5, 1.0, 2.0]), hop=st.sampled_from([0.0, 1.0, 4.1]))
def test_single_flow_matches_formula_for_packets_and_trains(n, w, h, bw, hop):
    # One flow of n packets over `hops` links, no contention: the last packet lands at
    # (n - 1 + hops) / bw + hops * hop, whether replayed packet by packet or as one train.
    chip = make_chip(w, h, bw=bw, hop=hop)
    dst = chip.cores - 1
    hops = int(chip.hop_matrix()[0, dst])
    tr = np.zeros((chip.cores, chip.cores))
    tr[0, dst] = n
    expect = (n - 1 + hops) / bw + hops * hop
    for chunk in (1.0, float(n), 5.0):
        assert replay_traffic(chip, tr, chunk=chunk).tick_ns[0] == pytest.approx(expect)


def counters_for(chip, traffic_per_tick, syn_per_tick):
    T, n = syn_per_tick.shape
    z = np.zeros(n, np.int64)
    return {"ticks": T, "samples": 1, "traffic": traffic_per_tick.sum(0), "traffic_per_tick": traffic_per_tick,
            "core_syn_events": syn_per_tick.sum(0), "core_syn_events_per_tick": syn_per_tick,
            "core_neuron_updates": np.full(n, 4 * T), "core_spikes": z, "core_write_pulses": z}


def test_replay_from_counters_uses_per_tick_compute_and_caches_repeated_ticks():
    # syn_read_ns 1, neuron_update_ns 0.5: core compute = syn events + 4 updates * 0.5 = syn + 2.
    chip = make_chip(2, 1, bw=1.0, hop=2.0, syn_read_ns=1.0, neuron_update_ns=0.5)
    tr = np.zeros((3, 2, 2))
    tr[:, 0, 1] = [3, 0, 3]
    syn = np.array([[0, 0], [6, 1], [0, 0]])
    c = counters_for(chip, tr, syn)
    comp = core_compute_ns(chip, c, per_tick=True)
    assert comp.tolist() == [[2.0, 2.0], [8.0, 3.0], [2.0, 2.0]]
    t = replay(chip, c)
    # tick 0 and 2: core0 computes 2 ns then 3 packets: 2 + 5 = 7; tick 1: compute-bound 8.
    assert t.tick_ns.tolist() == [7.0, 8.0, 7.0]
    assert t.chunk == 1.0 and not t.averaged
    assert replay(chip, c, ticks=slice(1, 3)).tick_index.tolist() == [1, 2]


def test_per_tick_rows_summed_over_samples_replay_the_mean_sample():
    # The engine's layout: one row per tick of a sample, summed over samples. 2 samples of 1 tick,
    # 6 packets 0 -> 1 in all: the mean sample sends 3, so its tick takes 3 + 2 = 5 ns as above.
    chip = make_chip(2, 1, bw=1.0, hop=2.0)
    c = counters_for(chip, np.array([[[0, 6], [0, 0]]]), np.zeros((1, 2)))
    c.update(samples=2, ticks=2)
    t = replay(chip, c)
    assert t.averaged == "samples" and t.tick_ns.tolist() == [5.0]
    c.update(ticks=3)
    with pytest.raises(ValueError, match="per-tick counters have 1 rows"):
        replay(chip, c)


def test_replay_without_per_tick_traffic_uses_a_mean_tick():
    chip = make_chip(2, 1, bw=1.0, hop=2.0)
    c = {"ticks": 2, "samples": 1, "traffic": np.array([[0, 6], [0, 0]]),
         **{k: np.zeros(2) for k in ("core_syn_events", "core_neuron_updates", "core_spikes", "core_write_pulses")}}
    t = replay(chip, c)
    assert t.averaged == "ticks" and t.tick_ns.tolist() == [5.0]  # 3 packets per tick, as above


def test_chunk_grows_when_packets_are_many():
    chip = make_chip(2, 1)
    tr = np.zeros((1, 2, 2))
    tr[0, 0, 1] = 1000
    syn = np.zeros((1, 2))
    t = replay(chip, counters_for(chip, tr, syn), max_trains=100)
    assert t.chunk == 10.0
    assert t.tick_ns[0] == pytest.approx(1000 + 2.0)  # a lone flow: trains are exact


def test_bad_shapes_are_named():
    chip = make_chip(2, 1)
    with pytest.raises(ValueError, match="traffic_per_tick"):
        replay_traffic(chip, np.zeros((1, 3, 3)))
    with pytest.raises(ValueError, match="core_spikes"):
        replay(chip, {"ticks": 1, "traffic": np.zeros((2, 2)), "core_syn_events": np.zeros(2),
                      "core_neuron_updates": np.zeros(2), "core_write_pulses": np.zeros(2)})
