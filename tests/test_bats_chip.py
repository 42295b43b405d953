"""BATS on the chip: the NIR graph's continuous-time semantics (Dirac spikes, exact propagator, the reset at
the tick's end) against the event-based spike times, the trainer's input spikes, and `method = "bats"`
through the shared train / infer / resume with its results rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from neurocore.chip import load_chip
from neurocore.cli import main
from neurocore.methods import deploy as dp
from neurocore.methods.bats import BatsTrainer, specs_from_tables
from neurocore.methods.bats.coding import InputSpikes, on_ticks
from neurocore.methods.bats.gradcheck import SMALL_NET, small_problem
from neurocore.methods.bats.network import Layout, spike_times
from neurocore.methods.bats.nir_export import to_nir

from .helpers import ctrl_c_in_batch, experiment_file, trained_run, without_times

nir = pytest.importorskip("nir")

FINE = 5000  # ticks per sample: dt = duration / 5000


def chip_lags(seed: int, ticks: int, samples: int = 3, budget: int = 40) -> list[dict]:
    """Per layer, the chip's spikes (tick n, read as time n dt) minus the event-based ones, in ticks, of
    SMALL_NET (by default with budgets no neuron reaches) with its inputs on the chip's grid."""
    spec, w, spikes, _ = small_problem(seed=seed, samples=samples, net=SMALL_NET | {"budget": [budget],
                                                                                      "chip_ticks": ticks})
    dt = spec.duration / ticks
    x = on_ticks(spikes, ticks, dt, spec.inputs)
    k, j = np.nonzero(x)[0], np.nonzero(x)[2]
    sample = np.nonzero(x)[1]
    on_grid = InputSpikes.from_lists([k[sample == b] * dt for b in range(samples)],
                                     [j[sample == b] for b in range(samples)])
    mats = Layout.of(spec).matrices(w)
    ref = spike_times(spec, mats, on_grid)
    dep = dp.deploy(to_nir(spec, mats), load_chip("small"))  # float32 weights
    res, _ = dp.run(dep, x, record=True)
    out = []
    for layer, times in enumerate(ref, start=1):
        first, all_lags, extra = [], [], 0
        for b in range(samples):
            t, n = res.spikes(f"lif{layer}", b)
            for i in range(times.shape[1]):
                want = times[b, i][np.isfinite(times[b, i])]
                got = t[n == i] * dt
                got = got[got <= spec.duration + dt / 2]  # the event-based sample ends at its duration
                extra += abs(len(got) - len(want))
                m = min(len(got), len(want))
                lag = (got[:m] - want[:m]) / dt
                first += list(lag[:1])
                all_lags += list(lag)
        counts = [np.bincount(res.spikes(f"lif{layer}", b)[1], minlength=times.shape[1]) for b in range(samples)]
        out.append({"first": np.array(first), "all": np.array(all_lags), "count_mismatch": extra,
                    "spikes": int(np.isfinite(times).sum()), "most_on_chip": int(np.max(counts)),
                    "at_budget_off_chip": int((np.isfinite(times).sum(axis=2) == times.shape[2]).sum())})
    return out


@pytest.mark.parametrize("seed", [1, 4])
def test_chip_spike_times_agree_with_the_event_based_ones_at_a_fine_tick(seed):
    """At dt = duration / 5000: every neuron spikes as often on the chip as off it; a first-layer neuron's first
    spike lands on the tick ending just after its event-based time (0 <= lag < 1 tick, up to float32); layer k's
    spikes lag by up to k ticks (each layer sees its inputs at the end of their tick), give or take the reset's
    residual (the reset subtracts at the tick's end, right on average): 95 % of them within (-1, k] ticks and
    every one within 1.5 ticks of that."""
    layers = chip_lags(seed, FINE)
    assert sum(len(r["all"]) for r in layers) / (sum(SMALL_NET["hidden"]) + SMALL_NET["classes"]) / 3 > 2
    for k, r in enumerate(layers, start=1):
        assert r["count_mismatch"] == 0, (k, r)
        lag = r["all"]
        assert lag.size > 10
        assert np.mean((lag > -1) & (lag <= k)) >= 0.95, (k, np.round(lag, 2))
        assert lag.min() > -1.5 and lag.max() < k + 1.5, (k, lag.min(), lag.max())
    first = layers[0]["first"]
    assert first.min() > -0.05 and first.max() < 1.0, first


def test_bats_graph_says_how_to_discretise_it_and_the_importer_follows():
    net, train = specs_from_tables({"inputs": 6, "hidden": [5], "classes": 3, "theta": [0.2, 0.3], "budget": [3],
                                    "chip_ticks": 40}, {})
    t = BatsTrainer(net, train, seed=0, n_classes=3, n_inputs=6)
    g = t.to_nir()
    assert g.metadata["dt"] == pytest.approx(net.duration / 40)
    assert (g.metadata["discretisation"], g.metadata["spikes"], g.metadata["chip_ticks"]) == ("exact", "dirac", 40)
    dep = dp.deploy(g, load_chip("small"))
    imp = dep.imported
    assert (imp.dt, imp.discretisation, imp.spikes) == (pytest.approx(net.duration / 40), "exact", "dirac")
    lif = imp.netlist.populations["lif1"].params
    d_i, d_v = np.exp(-imp.dt / net.tau_s), np.exp(-imp.dt / (2 * net.tau_s))
    assert (lif.di, lif.dv, lif.input_gain) == (pytest.approx(1 - d_i), pytest.approx(1 - d_v), pytest.approx(1.0))
    assert lif.current_gain == pytest.approx(2 * net.tau_s * (d_v - d_i))
    assert lif.reset == "subtract"
    # the reset's add-back: one self-synapse a tick later, one two ticks later cancelling its current
    assert {"lif1:reset1", "lif1:reset2", "lif2:reset1", "lif2:reset2"} <= set(imp.netlist.projections)
    # the same graph read as snnTorch's (a spike held over its tick) has its input gain ~dt / tau_s times smaller
    from neurocore.nir import from_nir
    held = from_nir(g, spikes="step")
    assert held.netlist.populations["lif1"].params.input_gain == pytest.approx(net.tau_s * (1 - d_i))
    assert not any(":reset" in p for p in held.netlist.projections)


def test_the_chip_keeps_each_neurons_spike_budget_and_then_agrees_with_the_event_based_counts():
    """With a budget of 2 spikes that many neurons reach, the chip's neurons (max_spikes from the graph's
    spike_budget) never spike more, and at a fine tick every neuron spikes as often as off the chip."""
    layers = chip_lags(1, FINE, budget=2)
    assert sum(r["at_budget_off_chip"] for r in layers) > 10
    for k, r in enumerate(layers, start=1):
        assert r["most_on_chip"] <= 2 and r["count_mismatch"] == 0, (k, r)


def test_a_single_spike_net_spikes_at_most_once_per_neuron_on_the_chip():
    """A budget of one is the neurons' max_spikes on the chip: each spikes at most once per sample."""
    spec, w, spikes, _ = small_problem(seed=2, samples=2, net=SMALL_NET | {"theta": [0.3], "budget": [1],
                                                                             "chip_ticks": 400})
    mats = Layout.of(spec).matrices(w)
    g = to_nir(spec, mats)
    assert g.nodes["lif1"].metadata["spike_budget"] == 1
    dep = dp.deploy(g, load_chip("small"))
    assert dep.imported.netlist.populations["lif1"].params.max_spikes == 1
    res, _ = dp.run(dep, on_ticks(spikes, 400, spec.duration / 400, spec.inputs), record=True)
    ref = spike_times(spec, mats, spikes)
    fired = 0
    for layer in range(1, 4):
        for b in range(2):
            _, n = res.spikes(f"lif{layer}", b)
            assert np.bincount(n).max(initial=0) <= 1
            fired += len(n)
    assert fired > 10 and np.isfinite(ref[0]).sum() > 4  # neurons do spike, on and off the chip


def test_an_unknown_spike_convention_is_one_line_naming_the_key(capsys):
    from neurocore.errors import ConfigError
    from neurocore.nir import from_nir

    net, train = specs_from_tables({"inputs": 2, "hidden": [], "classes": 2, "theta": [1.0], "budget": [1]}, {})
    g = BatsTrainer(net, train, seed=0, n_classes=2, n_inputs=2).to_nir()
    with pytest.raises(ConfigError, match=r"key 'spikes' = 'delta' is not allowed; must be one of step, dirac"):
        from_nir(g, spikes="delta")
    g.metadata["spikes"] = "delta"
    with pytest.raises(ConfigError, match="graph metadata 'spikes'"):
        from_nir(g)


def test_input_spikes_are_the_evaluated_spikes_on_the_chips_grid():
    from neurocore.data import load_dataset

    te = load_dataset("digits", "test")
    images = te.images[:7]
    net, train = specs_from_tables({"inputs": 64, "hidden": [10], "classes": 10, "theta": [0.2], "budget": [5],
                                    "chip_ticks": 50}, {})
    t = BatsTrainer(net, train, seed=0, n_classes=10, n_inputs=64)
    x = t.input_spikes(images, 0)
    assert x.shape == (50, 7, 64) and x.dtype == bool
    assert np.array_equal(x.sum(axis=0), images > 0)  # ttfs: one spike per lit pixel
    dt = net.duration / 50
    tick = x.argmax(axis=0)
    lit = images > 0
    assert np.all(np.abs(tick[lit] * dt - net.ttfs_window * (1 - images[lit])) <= dt / 2 + 1e-12)
    # rate trains: the chip's tick equal to the train's, the same spikes
    rate, _ = specs_from_tables({"inputs": 64, "hidden": [10], "classes": 10, "theta": [0.2], "budget": [5],
                                 "coding": "rate", "rate_ticks": 40,
                                 "rate_window": 0.1, "duration": 0.2, "chip_ticks": 80}, {})
    r = BatsTrainer(rate, train, seed=3, n_classes=10, n_inputs=64)
    x = r.input_spikes(images, 5)
    enc = r.encode(images, 1 << 20, 5)
    for b in range(7):
        tt, j = enc.sample(b)
        k, jj = np.nonzero(x[:, b])
        assert sorted(zip(np.round(tt / (0.2 / 80)).astype(int), j)) == sorted(zip(k, jj))


# ---- method = "bats" through the shared loop -----------------------------------------------

BATS_DIGITS = """\
name = "bats_digits_test"
seed = 2
method = "bats"

[chip]
name = "loihi_like"

[data]
dataset = "digits"

[net]
inputs = 64
hidden = [60]
classes = 10
theta = [0.1, 0.2]
budget = [10, 20]
chip_ticks = 100

[train]
lr = 1e-2
batch = 10
epochs = 2
init_a = [-1.0, -0.5]
init_b = [1.0]
"""


@pytest.fixture(scope="module")
def bats_toml(tmp_path_factory) -> Path:
    return experiment_file(tmp_path_factory, "bats_digits_test.toml", BATS_DIGITS)


@pytest.fixture(scope="module")
def bats_run(bats_toml, tmp_path_factory) -> Path:
    """A run folder of a short BATS training on the 8x8 digits (2 epochs)."""
    return trained_run(tmp_path_factory, bats_toml, "bats")


def _rows(run: Path) -> list[dict]:
    return json.loads((run / "results.json").read_text())["results"]


def test_short_bats_training_beats_chance_widely_on_and_off_the_chip(bats_run):
    rows = _rows(bats_run)
    assert [r["epoch"] for r in rows] == [1, 2]
    last = rows[-1]
    assert last["test_acc"] > 0.8 and last["chip_test_acc"] > 0.8  # chance is 0.1
    assert abs(last["chip_test_acc"] - last["test_acc"]) < 0.05  # 100 ticks per sample
    # evaluate's statistics, for comparing runs from their results alone
    assert len(last["test_spikes_per_sample"]) == 2 and len(last["test_dead_share"]) == 2
    assert 0 < last["test_time_to_decision"] < 0.2
    assert last["infer_cost"]["energy_uj_per_sample"] > 0
    assert 'method = "bats"' in (bats_run / "experiment.toml").read_text()


def test_infer_redeploys_a_bats_run_at_another_tick(bats_run, capsys):
    capsys.readouterr()
    assert main(["infer", str(bats_run), "--json"]) == 0
    base = json.loads(capsys.readouterr().out)
    last = _rows(bats_run)[-1]
    assert base["accuracy"] == last["test_acc"] and base["chip_accuracy"] == last["chip_test_acc"]
    assert main(["infer", str(bats_run), "--json", "--set", "net.chip_ticks=10"]) == 0
    coarse = json.loads(capsys.readouterr().out)
    assert coarse["accuracy"] == base["accuracy"]  # off the chip nothing changes
    assert coarse["energy_uj_per_sample"] < base["energy_uj_per_sample"]  # ten times fewer neuron updates
    assert coarse["chip_accuracy"] > 0.3


def test_bats_resume_after_ctrl_c_mid_epoch_is_bit_identical_through_the_cli(bats_toml, tmp_path, capsys,
                                                                             monkeypatch):
    small = ["--no-progress", "--set", "data.train=200", "--set", "data.test=50"]
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert main(["train", str(bats_toml), "--run-dir", str(whole), *small]) == 0
    ctrl_c_in_batch(monkeypatch, BatsTrainer, 27)  # epoch 2, batch 7 of 20: Ctrl-C arrives while the batch runs
    assert main(["train", str(bats_toml), "--run-dir", str(part), *small]) == 130
    assert "interrupted: checkpoint saved" in capsys.readouterr().out
    with np.load(part / "checkpoint.npz") as z:
        assert (int(z["epoch"]), int(z["position"])) == (1, 70)
    monkeypatch.undo()
    assert main(["train", str(bats_toml), "--run-dir", str(part), "--resume", *small]) == 0
    assert "resumed at epoch 2, sample 70" in capsys.readouterr().out
    with np.load(whole / "checkpoint.npz") as a, np.load(part / "checkpoint.npz") as b:
        state = [k for k in a.files if k.startswith("state.")]
        assert {"state.w0", "state.adam_m1", "state.step"} <= set(state)
        for k in state:
            assert np.array_equal(a[k], b[k]), k
    for ra, rb in zip(_rows(whole), _rows(part), strict=True):
        assert without_times(ra) == without_times(rb)


# ---- the studies' tools (examples/bats_precision.py, examples/bats_compare.py) ----------------

def _example(name: str):
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_precision_study_of_a_run(bats_run, tmp_path, capsys):
    mod = _example("bats_precision")
    assert mod.main([str(bats_run), "--ticks", "5", "40", "100", "--samples", "60", "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "bats_precision.json").read_text())
    assert {(r["state"], r["ticks"]) for r in res["rows"]} == {(s, t) for s in ("float32", "fixed") for t in (5, 40, 100)}
    assert res["samples"] == 60 and 0.5 < res["event_acc"] <= 1.0
    rows = {(r["state"], r["ticks"]): r for r in res["rows"]}
    assert rows["fixed", 40]["bits"] == "v24 i24 frac12"
    assert rows["float32", 5]["energy_uj_per_sample"] < rows["float32", 100]["energy_uj_per_sample"]
    for state in ("float32", "fixed"):
        want = mod.smallest_within([r for r in res["rows"] if r["state"] == state], res["event_acc"], 0.5)
        assert res["smallest_ticks_within"][state] == want
    assert abs(rows["float32", 100]["gap_points"]) <= 5
    assert (tmp_path / "bats_precision.png").stat().st_size > 1000
    assert (tmp_path / "bats_precision.csv").read_text().startswith("state,ticks,dt_ms,chip_acc")
    assert "smallest tick count within 0.5 points" in capsys.readouterr().out


def test_smallest_tick_count_within_is_the_one_from_which_all_larger_stay_within():
    mod = _example("bats_precision")
    rows = [{"ticks": t, "chip_acc": a} for t, a in [(10, 0.90), (30, 0.948), (100, 0.94), (300, 0.951)]]
    assert mod.smallest_within(rows, 0.95, 0.5) == 300  # 100 is 1 point off, though 30 was within
    assert mod.smallest_within(rows, 0.95, 1.0) == 30
    assert mod.smallest_within(rows, 0.99, 0.5) is None


def test_compare_two_runs_from_their_results(bats_run, bats_toml, tmp_path, capsys):
    single = tmp_path / "single"
    assert main(["train", str(bats_toml), "--run-dir", str(single), "--no-progress", "--set", "train.epochs=1",
                 "--set", "net.budget=[1]", "--set", "net.theta=[0.05]", "--set", "train.loss=ttfs_ce",
                 "--set", "train.init_a=[0.0]"]) == 0
    mod = _example("bats_compare")
    assert mod.main([str(bats_run), str(single), "--out", str(tmp_path / "cmp")]) == 0
    table = json.loads((tmp_path / "cmp" / "bats_compare.json").read_text())
    assert [t["label"] for t in table] == ["multi-spike", "single-spike"]
    last = {"multi-spike": _rows(bats_run)[-1], "single-spike": _rows(single)[-1]}
    for t in table:
        row = last[t["label"]]
        assert t["test_acc"] == row["test_acc"] and t["chip_test_acc"] == row["chip_test_acc"]
        assert t["spikes_per_sample"] == row["test_spikes_per_sample"]
        assert t["time_to_decision_ms"] == pytest.approx(1e3 * row["test_time_to_decision"])
        assert t["dead_share"] == row["test_dead_share"]
    assert table[1]["budget"] == [1] and table[0]["epochs"] == 2 and table[1]["epochs"] == 1
    assert (tmp_path / "cmp" / "bats_compare.png").stat().st_size > 1000
    assert "single-spike" in capsys.readouterr().out
