"""Energy and latency per sample: hand-derived from the chip files, breakdowns that add up, and the
summary that `run`, `train` and `infer` print and store."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from dataclasses import replace

from neurocore.chip import CHIPS_DIR, SOURCE_KINDS, chip_from_dict, load_chip
from neurocore.config import load_toml
from neurocore.cost import (KINDS, core_compute_ns, cost_metrics, cost_record, cost_summary, cost_table,
                            format_summary, replay, replay_samples, sample_cost, tile_shapes)
from neurocore.engine import Engine, SourceDrive
from neurocore.mapping import place
from neurocore.netlist import Netlist, NeuronParams

SUMMARY_KEYS = ("energy_uj_per_sample", "energy_uj_by_kind", "tick_latency_ns_mean", "tick_latency_ns_max",
                "deadline_misses")


def tiny_chip(kind="digital", **router):
    costs = {"spike_pj": 4.0, "packet_hop_pj": 5.0,
             "digital": {"syn_read_pj": 1.0, "neuron_update_pj": 3.0, "write_pulse_pj": 6.0, "syn_read_ns": 1.0},
             "analog": {"cell_read_pj": 0.5, "adc_pj": 2.0, "neuron_update_pj": 3.0, "write_pulse_pj": 0.25,
                        "row_read_ns": 10.0, "adc_ns": 1.0, "adcs_per_crossbar": 8, "neuron_update_ns": 2.0,
                        "write_cycle_ns": 1.5}}
    return chip_from_dict({
        "name": "tiny", "mesh": {"width": 2, "height": 1},
        "core": {"neurons": 8, "axons": 8, "crossbar_rows": 8, "crossbar_cols": 8, "routing_entries": 8, "kind": kind},
        "router": {"hop_latency_ns": 2.0, "link_bandwidth": 1.0, **router}, "costs": costs})


def counters(samples=1, ticks=2, **kw):
    c = {"syn_events": 4, "neuron_updates": 0, "spikes": 3, "packets": 6, "packet_hops": 6,
         "write_pulses": 0, "samples": samples, "ticks": ticks,
         "core_syn_events": np.array([4, 0]), "core_neuron_updates": np.zeros(2),
         "core_spikes": np.array([3, 0]), "core_write_pulses": np.zeros(2),
         "traffic": np.array([[0, 6], [0, 0]])}
    c.update(kw)
    return c


# -- a small net on the shipped chips' figures, derived by hand ------------------------------------

T = 30


def _two_core_chip(name: str):
    """The chip file's costs and router on a 2 x 1 mesh of 4-neuron cores."""
    data = load_toml(CHIPS_DIR / f"{name}.toml")
    data["mesh"] = {"width": 2, "height": 1}
    data["core"].update(neurons=4, axons=8, crossbar_rows=8, crossbar_cols=8, crossbars=2, routing_entries=16)
    return chip_from_dict(data, name)


def _small_net_run(chip):
    """4 sources firing every tick (p = 1) into 3 silent neurons on the next core: one 4 x 3 tile."""
    net = Netlist("hand")
    net.add_source("x", 4)
    net.add_population("y", 3, NeuronParams(theta=1e9))
    net.connect("w", "x", "y", np.full((4, 3), 0.1))
    pl = place(net, chip)
    assert [t.core for t in pl.tiles] == [1] and set(pl.core_of("x")) == {0}
    eng = Engine(pl, seed=0)
    res = eng.run(SourceDrive({"x": np.ones((1, 4), np.float32)}), T, traffic="per_tick")
    return pl, res.counters


def test_hand_derived_energy_and_latency_on_an_analogue_chip():
    chip = _two_core_chip("analog_rpu")
    pl, c = _small_net_run(chip)
    k, a = chip.costs, chip.costs.analog
    # x fires 4 spikes every tick (4 T spikes, packets, hops); each arrives one tick later, so ticks
    # 1..T-1 drive all 4 rows of the tile: one row-parallel read (12 crosspoints, 3 ADC conversions)
    reads = T - 1
    assert (c["spikes"], c["packet_hops"], c["syn_events"], c["crossbar_reads"]) == (4 * T, 4 * T, 12 * reads, reads)
    by_kind = {"crossbar_read": 12 * reads * a.cell_read_pj, "adc_conversion": 3 * reads * a.adc_pj,
               "neuron_update": 3 * T * a.neuron_update_pj, "spike": 4 * T * k.spike_pj,
               "packet_hop": 4 * T * k.packet_hop_pj, "write_pulse": 0.0}
    record = cost_record(c, pl)
    s = cost_summary(record, chip, "inference", replay_samples(chip, [c | tile_shapes(pl)]))
    for kind, pj in by_kind.items():
        assert s["energy_uj_by_kind"][kind] == pytest.approx(pj * 1e-6), kind
    assert s["energy_uj_per_sample"] == pytest.approx(sum(by_kind.values()) * 1e-6)
    # tick latency. Core 0 emits 4 spikes (4 x spike_ns), then its 4 packets queue on the link to
    # core 1 (1 / link_bandwidth each) and spend one hop_latency_ns in core 1's router. Core 1 reads
    # its tile (row_read_ns + ceil(3 / 8) = 1 conversion) from tick 1 on and updates its neurons at
    # once (neuron_update_ns). A tick takes the longer of the two.
    r = chip.router
    network = 4 * k.spike_ns + 4 / r.link_bandwidth + r.hop_latency_ns
    first = max(network, a.neuron_update_ns)
    rest = max(network, a.row_read_ns + a.adc_ns + a.neuron_update_ns)
    assert s["tick_latency_ns_max"] == pytest.approx(max(first, rest))
    assert s["tick_latency_ns_mean"] == pytest.approx((first + (T - 1) * rest) / T)
    assert s["deadline_misses"] == 0 and s["deadline_ns"] == r.tick_ns
    # the analytic mean tick from the totals alone: core 1's mean busy time + the mean tick's mesh time
    analytic = cost_summary(record, chip, "inference")
    busy = reads / T * (a.row_read_ns + a.adc_ns) + a.neuron_update_ns
    assert analytic["tick_latency_ns_mean"] == pytest.approx(busy + 4 / r.link_bandwidth + r.hop_latency_ns)
    assert analytic["tick_latency_ns_max"] is None and analytic["deadline_misses"] is None


def test_hand_derived_energy_and_latency_on_a_digital_chip():
    chip = _two_core_chip("loihi_like")
    # the serial model alone: no active-neuron surcharge, barrier or per-direction hops (tested below)
    chip = replace(chip, costs=replace(chip.costs, barrier_ns=[], hop_x_pj=0.0, hop_y_pj=0.0, hop_x_ns=0.0,
                                       hop_y_ns=0.0, digital=replace(chip.costs.digital, neuron_active_pj=0.0,
                                                                     neuron_active_ns=0.0)))
    pl, c = _small_net_run(chip)
    k, d = chip.costs, chip.costs.digital
    reads = T - 1
    s = cost_summary(cost_record(c, pl), chip, "inference", replay_samples(chip, [c]))
    expect = (12 * reads * d.syn_read_pj + 3 * T * d.neuron_update_pj + 4 * T * k.spike_pj
              + 4 * T * k.packet_hop_pj)
    assert s["energy_uj_per_sample"] == pytest.approx(expect * 1e-6)
    assert s["energy_uj_by_kind"]["adc_conversion"] == 0.0  # digital synapses: no ADC
    # core 1 handles its 12 synaptic events and 3 neurons one after another
    r = chip.router
    network = 4 * k.spike_ns + 4 / r.link_bandwidth + r.hop_latency_ns
    rest = max(network, 12 * d.syn_read_ns + 3 * d.neuron_update_ns)
    first = max(network, 3 * d.neuron_update_ns)
    assert s["tick_latency_ns_mean"] == pytest.approx((first + (T - 1) * rest) / T)
    assert s["tick_latency_ns_max"] == pytest.approx(rest)


def test_analogue_tiles_convert_columns_forward_rows_backward_and_write_in_cycles():
    chip = tiny_chip("analog")
    a = chip.costs.analog
    c = counters(ticks=10, syn_events=100, neuron_updates=20, write_pulses=7,
                 core_neuron_updates=np.array([20, 0]), core_syn_events=np.array([100, 0]),
                 tile_core=[0, 0], tile_rows=[4, 10], tile_cols=[3, 20], tile_reads=[5, 2], tile_col_reads=[0, 3],
                 tile_write_cycles=[4, 0], tile_write_pulses=[7, 0])
    cost = sample_cost(c, chip)
    e = cost.energy_by_kind
    assert e["adc_conversion"] == pytest.approx((5 * 3 + 2 * 20 + 3 * 10) * a.adc_pj)
    assert e["crossbar_read"] == pytest.approx(100 * a.cell_read_pj)
    assert e["write_pulse"] == pytest.approx(7 * a.write_pulse_pj)
    # per tick: 10 reads of row_read_ns; conversions ceil(3/8) = 1 (x5), ceil(20/8) = 3 (x2),
    # transposed ceil(10/8) = 2 (x3); 4 write cycles; the neurons once per tick
    busy = (10 * a.row_read_ns + (5 + 6 + 6) * a.adc_ns + 4 * a.write_cycle_ns) / 10 + a.neuron_update_ns \
        + 3 / 10 * chip.costs.spike_ns
    assert core_compute_ns(chip, c)[0] == pytest.approx(busy)
    assert core_compute_ns(chip, c)[1] == 0.0
    # per tick: rate-mode writes (in the totals, in no tick: applied after the sample) land in the last tick
    zeros = np.zeros((10, 2))
    c.update(tile_reads_per_tick=zeros, tile_col_reads_per_tick=zeros, tile_write_cycles_per_tick=zeros,
             core_spikes_per_tick=zeros)
    per_tick = core_compute_ns(chip, c, per_tick=True)[:, 0]
    assert per_tick[:-1] == pytest.approx(np.full(9, a.neuron_update_ns))
    assert per_tick[-1] == pytest.approx(a.neuron_update_ns + 4 * a.write_cycle_ns)


def test_a_chip_of_mixed_kinds_prices_each_core_by_its_kind():
    data = {"name": "mixed", "mesh": {"width": 2, "height": 1},
            "core": {"neurons": 8, "axons": 8, "crossbar_rows": 8, "crossbar_cols": 8, "routing_entries": 8},
            "core_kinds": {"analog": [1]},
            "costs": {"digital": {"syn_read_pj": 1.0}, "analog": {"cell_read_pj": 0.01, "adc_pj": 2.0}}}
    chip = chip_from_dict(data)
    assert chip.kinds == ("digital", "analog")
    c = counters(syn_events=30, core_syn_events=np.array([10, 20]), tile_core=[1], tile_rows=[2], tile_cols=[5],
                 tile_reads=[3], tile_col_reads=[0], tile_write_cycles=[0], tile_write_pulses=[0])
    e = sample_cost(c, chip).energy_by_kind
    assert e["crossbar_read"] == pytest.approx(10 * 1.0 + 20 * 0.01)
    assert e["adc_conversion"] == pytest.approx(3 * 5 * 2.0)


totals = st.integers(0, 10**9)


@settings(max_examples=40, deadline=None)
@given(syn=totals, nu=totals, sp=totals, hops=totals, wp=totals, samples=st.integers(1, 1000))
def test_energy_is_counts_times_costs_and_sums_to_total(syn, nu, sp, hops, wp, samples):
    chip = load_chip("loihi_like")
    c = counters(samples=samples, ticks=samples * 10, syn_events=syn, neuron_updates=nu,
                 spikes=sp, packet_hops=hops, write_pulses=wp, traffic=np.zeros((chip.cores, chip.cores)))
    for k in ("core_syn_events", "core_neuron_updates", "core_spikes", "core_write_pulses"):
        c[k] = np.zeros(chip.cores)
    unit = {"syn_read": chip.costs.digital.syn_read_pj, "neuron_update": chip.costs.digital.neuron_update_pj,
            "spike": chip.costs.spike_pj, "packet_hop": chip.costs.packet_hop_pj,
            "write_pulse": chip.costs.digital.write_pulse_pj}
    count = {"syn_read": syn, "neuron_update": nu, "spike": sp, "packet_hop": hops, "write_pulse": wp}
    cost = sample_cost(c, chip, "training")
    assert {line.op for line in cost.lines} == set(unit)
    for line in cost.lines:
        assert line.count == pytest.approx(count[line.op] / samples)
        assert line.energy_pj == pytest.approx(count[line.op] / samples * unit[line.op])
    by_kind = cost.energy_by_kind
    assert set(by_kind) == set(KINDS)
    assert sum(by_kind.values()) == pytest.approx(cost.energy_pj)
    m = cost.metrics()
    assert m["train_energy_pj"] == pytest.approx(cost.energy_pj)
    assert sum(m[f"train_energy_{k}_pj"] for k in KINDS) == pytest.approx(m["train_energy_pj"])
    assert cost.summary()["energy_uj_per_sample"] == pytest.approx(cost.energy_pj * 1e-6)


def test_hand_computed_energy_and_analytic_latency():
    chip = tiny_chip()
    cost = sample_cost(counters(samples=2, ticks=4, neuron_updates=10, write_pulses=1), chip)
    # per sample: syn 4/2*1 = 2 pJ; 10/2*3 = 15; 3/2*4 = 6; 6/2*5 = 15; 1/2*6 = 3
    assert cost.energy_by_kind == {"crossbar_read": 2.0, "adc_conversion": 0.0, "neuron_update": 15.0,
                                   "neuron_active": 0.0, "spike": 6.0, "message_out": 0.0, "message_in": 0.0,
                                   "packet_hop": 15.0, "write_pulse": 3.0}
    assert cost.energy_pj == 41.0
    # mean tick: core0 computes 4 syn events * 1 ns / 4 ticks = 1 ns; link 0->1 carries 6/4 = 1.5
    # packets per tick: 1.5 / (1 packet/ns) + 1 hop * 2 ns = 3.5 ns; tick = 4.5 ns; 2 ticks/sample.
    assert cost.latency_source.startswith("analytic")
    assert cost.tick_ns == pytest.approx(4.5)
    assert cost.latency_ns == pytest.approx(9.0)
    assert cost.latency_by_kind["crossbar_read"] == pytest.approx(2.0)  # per sample: 2 ticks
    assert cost.latency_by_kind["network"] == pytest.approx(7.0)


def test_latency_from_the_simpy_replay():
    chip = tiny_chip()
    c = counters(samples=1, ticks=2)
    t = replay(chip, c)  # mean tick: core0 computes 2 ns, then 3 packets over 1 hop: 2 + 3 + 2 = 7 ns
    cost = sample_cost(c, chip, timing=t)
    assert cost.latency_source.startswith("simpy")
    assert cost.tick_ns == pytest.approx(7.0) and cost.latency_ns == pytest.approx(14.0)
    # the analytic estimate agrees on this uncontended pattern
    assert sample_cost(c, chip).latency_ns == pytest.approx(14.0)


def test_cost_metrics_table_and_text():
    chip = tiny_chip()
    m = cost_metrics(counters(), chip, "inference")
    for key in ("infer_energy_pj", "infer_latency_ns", "infer_tick_ns_mean", "infer_missed_ticks",
                "infer_link_util_max", "infer_energy_write_pulse_pj"):
        assert key in m
    text = cost_table(sample_cost(counters(), chip, "inference"), sample_cost(counters(), chip, "training"))
    assert "syn_read" in text and "write_pulse" in text and "total energy" in text
    assert "inference" in text and "training" in text
    line = format_summary(cost_summary(counters(), chip, "inference", replay(chip, counters())))
    assert "nJ per sample" in line and "tick latency: mean 7 ns, worst 7 ns" in line and "deadline" in line


def test_totals_alone_give_energy_and_no_latency():
    c = {k: v for k, v in counters().items() if not k.startswith("core_") and k != "traffic"}
    cost = sample_cost(c, tiny_chip())
    assert cost.energy_pj == sample_cost(counters(), tiny_chip()).energy_pj
    assert math.isnan(cost.latency_ns) and "core_syn_events" in cost.latency_source
    s = cost.summary()
    assert s["tick_latency_ns_mean"] is None and s["latency_source"].startswith("unavailable")
    json.dumps(s, allow_nan=False)  # strict JSON: no NaN


def test_missing_counter_is_named():
    c = counters()
    del c["packet_hops"]
    with pytest.raises(ValueError, match="packet_hops"):
        sample_cost(c, tiny_chip())
    with pytest.raises(ValueError, match="phase"):
        sample_cost(counters(), tiny_chip(), phase="train")
    with pytest.raises(ValueError, match="tile_reads.*cost_record"):  # analogue cores need their tiles
        sample_cost(counters(), tiny_chip("analog"))


def test_old_flat_cost_tables_are_refused_with_where_they_moved():
    from neurocore.errors import ConfigError
    with pytest.raises(ConfigError, match=r"costs\.syn_read_pj.*moved to \[costs\.digital\]"):
        chip_from_dict({"name": "old", "mesh": {"width": 1, "height": 1},
                        "core": {"neurons": 1, "axons": 1, "crossbar_rows": 1, "crossbar_cols": 1,
                                 "routing_entries": 1}, "costs": {"syn_read_pj": 1.0}})
    with pytest.raises(ConfigError, match=r"analog cores but \[costs\.analog\]"):
        chip_from_dict({"name": "bare", "mesh": {"width": 1, "height": 1},
                        "core": {"neurons": 1, "axons": 1, "crossbar_rows": 1, "crossbar_cols": 1,
                                 "routing_entries": 1, "kind": "analog"}, "costs": {"spike_pj": 1.0}})


def test_every_chip_file_cites_a_source_for_each_nonzero_cost():
    for path in sorted(CHIPS_DIR.glob("*.toml")):
        chip = load_chip(path)
        assert chip.costs.priced(), path.name
        for kind in set(chip.kinds):
            table = getattr(chip.costs, kind)
            for key in (f for f in vars(table) if f not in ("sources", "source_kinds")):
                if getattr(table, key):
                    assert table.sources.get(key), f"{path.name}: [costs.{kind}.sources] has no '{key}'"
                    assert table.source_kinds.get(key) in SOURCE_KINDS, f"{path.name}: [costs.{kind}.source_kinds]"
        top = chip.costs
        for key in (f for f in vars(top) if f not in ("sources", "source_kinds", "digital", "analog", "timing",
                                                       "source_spikes_pay")):
            if getattr(top, key):
                assert top.sources.get(key), f"{path.name}: [costs.sources] has no '{key}'"
                assert top.source_kinds.get(key) in SOURCE_KINDS, f"{path.name}: [costs.source_kinds] '{key}'"


def test_the_shipped_chips_say_their_kind_and_meet_their_deadline_kinds():
    assert set(load_chip("loihi_like").kinds) == {"digital"}
    assert set(load_chip("small").kinds) == {"digital"}
    for name in ("analog_rpu", "rpu_realistic"):
        assert set(load_chip(name).kinds) == {"analog"}, name


# -- the commands and the run folder ---------------------------------------------------------------

def test_results_json_round_trips_through_the_cost_api(tmp_path):
    from neurocore.experiment import load_experiment
    from neurocore.methods.ssnn_bp.trainer import train

    exp = load_experiment("digits", {"train.epochs": 1, "data.train": 150, "data.test": 40})
    train(exp, tmp_path, progress=False, log=lambda s: None)
    rows = json.loads((tmp_path / "results.json").read_text())["results"]
    row = rows[-1]
    for phase, p in (("training", "train_"), ("inference", "infer_")):
        stored = row[f"{p}cost"]
        for key in SUMMARY_KEYS:
            assert key in stored, (p, key)
        assert stored["latency_source"].startswith("simpy replay of 20 samples")
        assert set(stored["energy_uj_by_kind"]) == set(KINDS)
        # the file alone: the same energy, and an analytic mean tick
        again = cost_summary(row[f"{p}counters"], exp.chip, phase)
        assert again["energy_uj_per_sample"] == pytest.approx(stored["energy_uj_per_sample"], rel=1e-12)
        assert again["energy_uj_by_kind"] == pytest.approx(stored["energy_uj_by_kind"], rel=1e-12)
        assert again["tick_latency_ns_mean"] > 0 and again["latency_source"].startswith("analytic")
    assert row["train_cost"]["energy_uj_by_kind"]["write_pulse"] > 0  # training writes, inference does not
    assert row["infer_cost"]["energy_uj_by_kind"]["write_pulse"] == 0


def test_run_train_and_infer_commands_print_and_store_the_cost(tmp_path, capsys, monkeypatch):
    from neurocore.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["run", "ff_small", "--json", "--samples", "2", "--ticks", "20"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in SUMMARY_KEYS:
        assert key in out, key
    assert out["timed_samples"] == 2 and out["energy_uj_per_sample"] > 0
    run = tmp_path / "run"
    assert main(["train", "digits", "--run-dir", str(run), "--no-progress", "--set", "train.epochs=1",
                 "--set", "data.train=150", "--set", "data.test=40"]) == 0
    text = capsys.readouterr().out
    assert "training cost on loihi_like" in text and "inference cost on loihi_like" in text
    assert "tick latency: mean" in text
    stored = json.loads((run / "results.json").read_text())["results"][-1]["infer_cost"]
    assert main(["infer", str(run), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in SUMMARY_KEYS:
        assert key in out, key
    assert out["energy_uj_per_sample"] == pytest.approx(stored["energy_uj_per_sample"])
    assert out["tick_latency_ns_max"] == pytest.approx(stored["tick_latency_ns_max"])
    # the same checkpoint on the analogue chip of the same geometry: ADC conversions, a sub-us tick
    assert main(["infer", str(run), "--json", "--set", "chip.name=analog_rpu"]) == 0
    ana = json.loads(capsys.readouterr().out)
    assert ana["accuracy"] == out["accuracy"] and ana["chip"] == "analog_rpu"
    assert ana["energy_uj_by_kind"]["adc_conversion"] > 0
    assert ana["energy_uj_per_sample"] < out["energy_uj_per_sample"]
    assert ana["tick_latency_ns_max"] < ana["deadline_ns"] and ana["deadline_misses"] == 0


# -- the Loihi-style terms (chip `loihi`): tiles, hops by direction, overlap, barrier, static, area ----------

def test_loihi_terms_by_hand():
    chip = load_chip("loihi")
    k, d = chip.costs, chip.costs.digital
    n = chip.cores
    # core 0 (tile 0) sends 10 packets to core 1 (same tile: no hop) and 10 to core 4 (tile 1: one
    # east-west hop) and 10 to core 32 (tile 8: one north-south hop); 5 of its 20 spikes are inputs
    traffic = np.zeros((n, n))
    traffic[0, 1] = traffic[0, 4] = traffic[0, 32] = 10
    c = counters(samples=1, ticks=10, syn_events=300, neuron_updates=40, spikes=20, packets=30, packet_hops=20,
                 traffic=traffic, active_updates=12, source_spikes=5, tile_syn_events=[100, 100, 100],
                 tile_conn=[0, 1, 2], tile_core=[1, 4, 32], tile_rows=[8, 8, 8], tile_cols=[4, 4, 4])
    c["core_neuron_updates"] = np.zeros(n)
    c["core_neuron_updates"][[1, 4, 32]] = [10, 10, 20]
    c["core_syn_events"] = np.zeros(n)
    c["core_syn_events"][[1, 4, 32]] = 100
    c["core_spikes"] = np.zeros(n)
    c["core_spikes"][0] = 20
    c["core_source_spikes"] = np.zeros(n)
    c["core_source_spikes"][0] = 5
    c["core_active_updates"] = np.zeros(n)
    c["core_active_updates"][32] = 12
    c["core_write_pulses"] = np.zeros(n)
    c["core_mapped"] = c["core_neuron_updates"].copy()
    c["core_mapped"][0] = 5
    cost = sample_cost(c, chip)
    e = cost.energy_by_kind
    assert e["crossbar_read"] == pytest.approx(100 * (35.5 + 33.6 + 24.0))
    assert e["neuron_update"] == pytest.approx(40 * 51.2)
    assert e["neuron_active"] == pytest.approx(12 * 21.6)
    assert e["spike"] == pytest.approx(15 * 69.3)          # input spikes are free on `loihi`
    assert e["message_out"] == pytest.approx(30 * 111.0)
    assert e["packet_hop"] == pytest.approx(10 * 3.0 + 10 * 4.2)
    # tiles 0, 1 and 8 in use: a 1.0 us barrier; the busiest stage per tick is core 32's synapse
    # stage (10 events x 3.1 ns + 1 packet x 16 ns) against core 0's neuron stage (1.5 spikes x 30
    # ns + 3 packets x 5.1 ns) and core 32's (2 x 6.0 + 1.2 x 3.7 ns)
    core0 = 1.5 * 30.0 + 3 * 5.1
    core32 = max(2 * 6.0 + 1.2 * 3.7, 10 * 3.1 + 16.0)
    compute = max(core0, core32, 10 * 3.8 + 16.0, 10 * 4.7 + 16.0)
    assert core_compute_ns(chip, c).max() == pytest.approx(compute)
    s = cost.summary()
    assert s["area_mm2"] == {"cores_used": pytest.approx(4 * 0.469), "chip": 60.0} and s["cores_used"] == 4
    assert s["static_uj_per_sample"]["paced"] == pytest.approx(29.6e-3 * 10 * 1e6 * 1e-9 * 1e6)  # mW x 10 ms
    assert cost.tick_ns >= compute + 1000.0  # + the barrier (and the mesh)


def test_source_kinds_and_barrier_steps_are_checked():
    from neurocore.errors import ConfigError

    data = load_toml(CHIPS_DIR / "loihi.toml")
    data["costs"]["source_kinds"]["spike_pj"] = "guess"
    with pytest.raises(ConfigError, match="source_kinds.spike_pj"):
        chip_from_dict(data, "x.toml")
    data = load_toml(CHIPS_DIR / "loihi.toml")
    data["costs"]["barrier_ns"] = [[4, 1.0], [2, 2.0]]
    with pytest.raises(ConfigError, match="barrier_ns"):
        chip_from_dict(data, "x.toml")
    assert load_chip("loihi").costs.barrier(3) == 1000.0 and load_chip("loihi").costs.barrier(40) == 1800.0
