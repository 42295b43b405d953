"""Energy and latency per sample: breakdowns add up and equal counts x costs."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from neurocore.chip import chip_from_dict, load_chip
from neurocore.cost import KINDS, OPS, cost_metrics, cost_table, replay, sample_cost


def tiny_chip(**router):
    return chip_from_dict({
        "name": "tiny", "mesh": {"width": 2, "height": 1},
        "core": {"neurons": 8, "axons": 8, "crossbar_rows": 8, "crossbar_cols": 8, "routing_entries": 8},
        "router": {"hop_latency_ns": 2.0, "link_bandwidth": 1.0, **router},
        "costs": {"syn_read_pj": 1.0, "adc_pj": 2.0, "neuron_update_pj": 3.0, "spike_pj": 4.0,
                  "packet_hop_pj": 5.0, "write_pulse_pj": 6.0, "syn_read_ns": 1.0}})


def counters(samples=1, ticks=2, **kw):
    c = {"syn_events": 4, "neuron_updates": 0, "spikes": 3, "packets": 6, "packet_hops": 6,
         "write_pulses": 0, "adc_conversions": 0, "samples": samples, "ticks": ticks,
         "core_syn_events": np.array([4, 0]), "core_neuron_updates": np.zeros(2),
         "core_spikes": np.array([3, 0]), "core_write_pulses": np.zeros(2),
         "traffic": np.array([[0, 6], [0, 0]])}
    c.update(kw)
    return c


totals = st.integers(0, 10**9)


@settings(max_examples=40, deadline=None)
@given(syn=totals, adc=totals, nu=totals, sp=totals, hops=totals, wp=totals, samples=st.integers(1, 1000))
def test_energy_is_counts_times_costs_and_sums_to_total(syn, adc, nu, sp, hops, wp, samples):
    chip = load_chip("loihi_like")
    c = counters(samples=samples, ticks=samples * 10, syn_events=syn, adc_conversions=adc, neuron_updates=nu,
                 spikes=sp, packet_hops=hops, write_pulses=wp)
    c["traffic"] = np.zeros((chip.cores, chip.cores))
    for k in ("core_syn_events", "core_neuron_updates", "core_spikes", "core_write_pulses"):
        c[k] = np.zeros(chip.cores)
    cost = sample_cost(c, chip, "training")
    for line in cost.lines:
        counter, field, kind = OPS[line.op]
        assert line.count == pytest.approx(c[counter] / samples)
        assert line.energy_pj == pytest.approx(c[counter] / samples * getattr(chip.costs, field))
    by_kind = cost.energy_by_kind
    assert set(by_kind) == set(KINDS)
    assert sum(by_kind.values()) == pytest.approx(cost.energy_pj)
    assert by_kind["crossbar_read"] == pytest.approx((syn * chip.costs.syn_read_pj + adc * chip.costs.adc_pj) / samples)
    m = cost.metrics()
    assert m["train_energy_pj"] == pytest.approx(cost.energy_pj)
    assert sum(m[f"train_energy_{k}_pj"] for k in KINDS) == pytest.approx(m["train_energy_pj"])


def test_hand_computed_energy_and_analytic_latency():
    chip = tiny_chip()
    cost = sample_cost(counters(samples=2, ticks=4, adc_conversions=2, neuron_updates=10, write_pulses=1), chip)
    # per sample: syn 4/2*1 + adc 2/2*2 = 4 pJ crossbar; 10/2*3 = 15; 3/2*4 = 6; 6/2*5 = 15; 1/2*6 = 3
    assert cost.energy_by_kind == {"crossbar_read": 4.0, "neuron_update": 15.0, "spike": 6.0,
                                   "packet_hop": 15.0, "write_pulse": 3.0}
    assert cost.energy_pj == 43.0
    # mean tick: core0 computes 4 syn events * 1 ns / 4 ticks = 1 ns; link 0->1 carries 6/4 = 1.5
    # packets per tick: 1.5 / (1 packet/ns) + 1 hop * 2 ns = 3.5 ns; tick = 4.5 ns; 2 ticks/sample.
    assert cost.latency_source == "analytic"
    assert cost.tick_ns == pytest.approx(4.5)
    assert cost.latency_ns == pytest.approx(9.0)
    assert cost.latency_by_kind["crossbar_read"] == pytest.approx(2.0)
    assert cost.latency_by_kind["network"] == pytest.approx(7.0)


def test_latency_from_the_simpy_replay():
    chip = tiny_chip()
    c = counters(samples=1, ticks=2)
    t = replay(chip, c)  # mean tick: core0 computes 2 ns, then 3 packets over 1 hop: 2 + 3 + 2 = 7 ns
    cost = sample_cost(c, chip, timing=t)
    assert cost.latency_source == "simpy"
    assert cost.tick_ns == pytest.approx(7.0) and cost.latency_ns == pytest.approx(14.0)
    # the analytic estimate agrees on this uncontended pattern
    assert sample_cost(c, chip).latency_ns == pytest.approx(14.0)


def test_cost_metrics_and_table():
    chip = tiny_chip()
    m = cost_metrics(counters(), chip, "inference")
    for key in ("infer_energy_pj", "infer_latency_ns", "infer_tick_ns_mean", "infer_missed_ticks",
                "infer_link_util_max", "infer_energy_write_pulse_pj"):
        assert key in m
    text = cost_table(sample_cost(counters(), chip, "inference"), sample_cost(counters(), chip, "training"))
    assert "syn_read" in text and "write_pulse" in text and "total energy" in text
    assert "inference" in text and "training" in text


def test_totals_alone_give_energy_and_no_latency():
    c = {k: v for k, v in counters().items() if not k.startswith("core_") and k != "traffic"}
    cost = sample_cost(c, tiny_chip())
    assert cost.energy_pj == sample_cost(counters(), tiny_chip()).energy_pj
    assert np.isnan(cost.latency_ns) and "core_syn_events" in cost.latency_source


def test_missing_counter_is_named():
    c = counters()
    del c["packet_hops"]
    with pytest.raises(ValueError, match="packet_hops"):
        sample_cost(c, tiny_chip())
    with pytest.raises(ValueError, match="phase"):
        sample_cost(counters(), tiny_chip(), phase="train")


def test_every_chip_file_cites_a_source_for_each_nonzero_cost():
    from neurocore.chip import CHIPS_DIR
    for path in sorted(CHIPS_DIR.glob("*.toml")):
        chip = load_chip(path)
        for key in ("syn_read_pj", "adc_pj", "neuron_update_pj", "spike_pj", "packet_hop_pj", "write_pulse_pj"):
            if getattr(chip.costs, key):
                assert chip.costs.sources.get(key), f"{path.name}: [costs.sources] has no '{key}'"
