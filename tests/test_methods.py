"""Every training method through the same train / infer / sweep: the method registry, the shared off-chip
loop (run folder, results rows, bit-identical resume through the CLI) and lee2020 on the chip through NIR."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from neurocore.cli import main

from .helpers import ctrl_c_in_batch, experiment_file, trained_run, without_times

torch = pytest.importorskip("torch")

LEE_DIGITS = """\
name = "lee_digits"
seed = 3
method = "lee2020"

[chip]
name = "loihi_like"

[data]
dataset = "digits"

[net]
layers = ["8c3", "a2", "32"]

[train]
ts = 16
epochs = 2
batch = 32
optimizer = "adam"
lr = 0.01
dropout = 0.1
"""
COST_FIELDS = ("energy_uj_per_sample", "energy_uj_by_kind", "tick_latency_ns_mean", "tick_latency_ns_max",
               "deadline_misses")


@pytest.fixture(scope="module")
def lee_toml(tmp_path_factory) -> Path:
    return experiment_file(tmp_path_factory, "lee_digits.toml", LEE_DIGITS)


@pytest.fixture(scope="module")
def lee_run(lee_toml, tmp_path_factory) -> Path:
    """A run folder of a short lee2020 training on the 8x8 digits (2 epochs)."""
    return trained_run(tmp_path_factory, lee_toml, "lee")


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def _rows(run: Path) -> list[dict]:
    return json.loads((run / "results.json").read_text())["results"]


# ---- the registry -------------------------------------------------------------------------

def test_unknown_method_is_one_line_listing_the_methods(tmp_path, capsys):
    exp = tmp_path / "e.toml"
    exp.write_text('name = "e"\nmethod = "bptt"\n[data]\ndataset = "digits"\n')
    assert main(["train", str(exp), "--no-progress"]) == 2
    line = _one_line(capsys)
    assert f"{exp}: key 'method' = 'bptt' is not a training method; methods: ssnn-bp" in line and "lee2020" in line
    assert not (tmp_path / "runs").exists()


def test_net_and_train_tables_are_checked_against_the_methods_specs(lee_toml, capsys):
    assert main(["train", str(lee_toml), "--set", "train.update=rate"]) == 2  # an SSNN-BP key
    assert "key 'train.update': unknown key; allowed keys here: batch," in _one_line(capsys)
    assert main(["train", str(lee_toml), "--set", "net.layers=lenett"]) == 2
    assert "key 'net.layers' = 'lenett': not a preset" in _one_line(capsys)
    assert main(["train", str(lee_toml), "--set", "trace.enabled=true"]) == 2
    assert "trains off the chip" in _one_line(capsys)


def test_lee2020_without_torch_says_how_to_install_it(lee_toml, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    assert main(["train", str(lee_toml), "--run-dir", str(tmp_path / "run"), "--no-progress"]) == 2
    assert 'pip install -e ".[lee2020]"' in _one_line(capsys)


def test_ssnn_bp_code_refuses_another_methods_experiment(lee_toml):
    from neurocore.errors import ConfigError
    from neurocore.experiment import load_experiment
    from neurocore.methods.ssnn_bp.trainer import Trainer

    with pytest.raises(ConfigError, match="needs an SSNN-BP experiment"):
        Trainer(load_experiment(lee_toml))


# ---- train, infer, export -----------------------------------------------------------------

def test_short_lee2020_training_beats_chance_and_its_rows_carry_chip_accuracy_and_cost(lee_run):
    rows = _rows(lee_run)
    assert [r["epoch"] for r in rows] == [1, 2]
    for r in rows:
        assert {"train_acc", "train_loss", "test_acc", "chip_test_acc", "infer_cost", "infer_counters"} <= set(r)
        assert all(k in r["infer_cost"] for k in COST_FIELDS)
        assert r["infer_cost"]["energy_uj_per_sample"] > 0 and r["infer_cost"]["tick_latency_ns_max"] > 0
    assert rows[-1]["test_acc"] > 0.6 and rows[-1]["chip_test_acc"] > 0.6  # chance is 0.1
    # 16-bit weights on the chip: within a few samples of the float32 weights off it
    assert abs(rows[-1]["chip_test_acc"] - rows[-1]["test_acc"]) < 0.02
    for name in ("checkpoint.npz", "results.json", "learning_curve.png", "experiment.toml"):
        assert (lee_run / name).is_file(), name
    assert 'method = "lee2020"' in (lee_run / "experiment.toml").read_text()


def test_infer_and_nir_export_read_a_lee2020_run(lee_run, tmp_path, capsys):
    import nir

    capsys.readouterr()
    assert main(["infer", str(lee_run), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    last = _rows(lee_run)[-1]
    assert out["accuracy"] == last["test_acc"] and out["chip_accuracy"] == last["chip_test_acc"]
    assert out["energy_uj_per_sample"] == pytest.approx(last["infer_cost"]["energy_uj_per_sample"])
    assert main(["infer", str(lee_run), "--json", "--set", "chip.name=analog_rpu"]) == 0
    analog = json.loads(capsys.readouterr().out)
    assert analog["chip"] == "analog_rpu" and analog["energy_uj_per_sample"] < out["energy_uj_per_sample"]
    assert main(["infer", str(lee_run), "--equivalent"]) == 2
    assert "SSNN-BP's" in _one_line(capsys)
    path = tmp_path / "lee.nir"
    assert main(["nir", "export", str(lee_run), str(path)]) == 0
    graph = nir.read(path)
    assert graph.metadata["discretisation"] == "euler" and "fc1" in graph.nodes
    assert main(["map", str(lee_run / "experiment.toml"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["netlist"] == "lee_digits"


def _on_the_chips_grid(run) -> None:
    """Put the trainer's weights on the grid of the chip's static weights (16-bit integers times a power of 2)."""
    state = run.trainer.state()
    for k, w in state.items():
        if k.startswith("weight."):
            scale = 2.0 ** np.ceil(np.log2(np.abs(w).max() / 32767.0))
            state[k] = (np.round(w / scale) * scale).astype(np.float32)
    run.trainer.load_state(state)


def _same_spikes_on_the_chip(run, images: np.ndarray) -> None:
    from neurocore.methods import deploy as dp
    from neurocore.nir import aligned_spikes

    dep = run.deploy()
    x = run.trainer.input_spikes(images, 0)
    ref = run.trainer.simulate(x)
    res, pred = dp.run(dep, x, record=True)
    steps = x.shape[0]
    for layer, train in ref["spikes"].items():
        pop = f"{layer}_if" if layer.startswith("pool") else f"{layer}_lif"
        for s in range(len(images)):
            assert np.array_equal(aligned_spikes(dep.imported, res, pop, s, steps), train[:, s].reshape(steps, -1))
    assert all(t.sum() > 0 for t in ref["spikes"].values())
    assert np.array_equal(dp.membranes(dep, res, steps), ref["v"])
    assert np.array_equal(pred, ref["v"].argmax(1))


def test_on_chip_spikes_equal_the_trainers_when_the_weights_sit_on_the_chips_grid(lee_run):
    """The chip holds static weights as 16-bit integers times a power of two. With the trainer's weights
    on that grid, every sum is exact in float32 whatever its order, so the chip (Euler at the graph's dt,
    strict thresholds, each layer one tick behind the one below) reproduces the trainer's spikes, output
    membranes and accuracy exactly."""
    from neurocore.methods import deploy as dp
    from neurocore.methods.offchip import OffChipRun
    from neurocore.runs import datasets, run_experiment

    exp = run_experiment(lee_run)
    train_set, test_set = datasets(exp)
    run = OffChipRun(exp, train_set, lee_run)
    run.restore(lee_run)
    _on_the_chips_grid(run)
    off = run.trainer.evaluate(test_set.images, test_set.labels)
    chip, _ = dp.evaluate(run.deploy(), run.trainer.input_spikes, test_set.images, test_set.labels)
    assert chip == off["accuracy"] > 0.6
    _same_spikes_on_the_chip(run, test_set.images[:8])


@pytest.mark.parametrize("leak, readout", [(0.9, "leaky"), (1.0, "integrate")])
def test_other_leaks_and_the_leaky_readout_give_the_same_spikes_on_the_chip(lee_toml, leak, readout):
    from neurocore.experiment import load_experiment
    from neurocore.methods.offchip import OffChipRun
    from neurocore.runs import datasets

    exp = load_experiment(lee_toml, {"net.leak": leak, "net.readout": readout, "net.v_th": 0.5})
    train_set, test_set = datasets(exp)
    run = OffChipRun(exp, train_set)  # initial weights
    _on_the_chips_grid(run)
    _same_spikes_on_the_chip(run, test_set.images[:6])


# ---- resume -------------------------------------------------------------------------------

def test_resume_after_ctrl_c_mid_epoch_is_bit_identical_through_the_cli(lee_toml, tmp_path, capsys, monkeypatch):
    from neurocore.methods.lee2020.trainer import Lee2020Trainer

    small = ["--no-progress", "--set", "data.train=256", "--set", "data.test=60", "--set", "train.ts=8"]
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert main(["train", str(lee_toml), "--run-dir", str(whole), *small]) == 0
    ctrl_c_in_batch(monkeypatch, Lee2020Trainer, 11)  # epoch 2, batch 3 of 8: Ctrl-C arrives while the batch runs
    assert main(["train", str(lee_toml), "--run-dir", str(part), *small]) == 130
    assert "interrupted: checkpoint saved" in capsys.readouterr().out
    with np.load(part / "checkpoint.npz") as z:
        assert (int(z["epoch"]), int(z["position"])) == (1, 96)  # the batch was finished, then the run stopped
    monkeypatch.undo()
    assert main(["train", str(lee_toml), "--run-dir", str(part), "--resume", *small]) == 0
    assert "resumed at epoch 2, sample 96" in capsys.readouterr().out
    with np.load(whole / "checkpoint.npz") as a, np.load(part / "checkpoint.npz") as b:
        state = [k for k in a.files if k.startswith("state.")]
        assert any(k.startswith("state.optimizer.") for k in state) and set(state) == {k for k in b.files
                                                                                         if k.startswith("state.")}
        for k in state:
            assert np.array_equal(a[k], b[k]), k
    for ra, rb in zip(_rows(whole), _rows(part), strict=True):
        assert without_times(ra) == without_times(rb)


# ---- sweeps -------------------------------------------------------------------------------

def test_a_sweep_point_runs_a_lee2020_experiment(lee_toml, tmp_path, capsys):
    sweep = tmp_path / "s.toml"
    sweep.write_text(f'name = "lee"\nbase = "{lee_toml}"\n'
                     'metrics = ["accuracy", "chip_accuracy", "infer_energy_pj", "infer_tick_latency_ns_mean"]\n'
                     '[grid]\n"chip.name" = ["loihi_like", "analog_rpu"]\n"train.epochs" = [1]\n'
                     '"data.train" = [200]\n')
    assert main(["sweep", str(sweep), "-o", str(tmp_path / "out"), "--workers", "0", "--no-progress"]) == 0
    assert "2 points, 2 ok" in capsys.readouterr().out
    recs = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    metrics = {r["overrides"]["chip.name"]: r["metrics"] for r in recs}
    assert set(metrics) == {"loihi_like", "analog_rpu"}
    assert metrics["loihi_like"]["accuracy"] == metrics["analog_rpu"]["accuracy"]  # the same training
    assert metrics["analog_rpu"]["infer_energy_pj"] < metrics["loihi_like"]["infer_energy_pj"]
    assert all(m["chip_accuracy"] > 0.1 for m in metrics.values())
