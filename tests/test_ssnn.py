"""SSNN-BP correctness: updates follow exact backprop, training learns, resume is bit-identical."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from neurocore.chip import load_chip
from neurocore.engine import Engine, SourceDrive
from neurocore.experiment import load_experiment
from neurocore.methods.ssnn_bp.equivalent import forward, train_equivalent, updates, wta
from neurocore.methods.ssnn_bp.netlist import SSNNSpec, build_ssnn, init_weights
from neurocore.mapping import place
from neurocore.methods.ssnn_bp.trainer import CHECKPOINT, Trainer, load_data, train


def _update_vs_backprop(mode: str, seed: int, ts: int = 2000, lr: float = 0.01, **spec_kw) -> tuple[float, float]:
    """(cosine between the chip's one-sample update and exact backprop, norm of the output error)."""
    spec = SSNNSpec(inputs=20, hidden=[30], classes=5, wta=0.0, dropout_input=0.0, dropout_hidden=0.0, **spec_kw)
    rng = np.random.default_rng(seed)
    chip = load_chip("loihi_like")
    chip = dataclasses.replace(chip, device=dataclasses.replace(chip.device, dw_min=lr / ts))
    eng = Engine(place(build_ssnn(spec, ts, init_weights(spec, rng)), chip), seed=seed)
    w = {k: eng.weights(k) for k in ("input_hidden", "hidden_output")}  # as clipped into the devices
    x = rng.random(20).astype(np.float32) * spec.input_rate
    label = seed % 5
    target = np.zeros(5, np.float32)
    target[label] = spec.target_rate
    eng.run(SourceDrive({"input": x[None], "label": target[None]}), ts, learn=mode)
    d1 = eng.weights("input_hidden") - w["input_hidden"]
    d2 = eng.weights("hidden_output") - w["hidden_output"]
    # the rate-equivalent ReLU network (rates capped at one spike per tick), MSE loss
    acts, y = forward(spec, [w["input_hidden"], w["hidden_output"]], x[None])
    dy = target - y[0]
    a = np.concatenate([d1.ravel(), d2.ravel()])
    b = lr * np.concatenate([g.ravel() for g in updates(spec, [w["input_hidden"], w["hidden_output"]], acts, y,
                                                          np.array([label]))])
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)), float(np.linalg.norm(dy))


@pytest.mark.parametrize("mode", ["rate", "coincidence"])
def test_one_sample_update_follows_backprop(mode: str) -> None:
    """With long trains, the weight change of one sample points like the exact backprop
    update of the equivalent ReLU network, wherever the output error is not tiny (near the
    target, the SNN's late-starting output makes the small error's sign unreliable)."""
    checked = 0
    for seed in range(6):
        cos, err = _update_vs_backprop(mode, seed)
        if err > 0.3:
            assert cos > 0.9, f"seed {seed}: cosine {cos:.3f}"
            checked += 1
    assert checked >= 4


def test_short_training_on_digits_beats_chance() -> None:
    exp = load_experiment("digits", {"train.epochs": 1})
    results = train(exp, None, progress=False, log=lambda s: None)
    assert results[-1]["test_acc"] > 0.6  # chance is 0.1
    assert results[-1]["train_counters"]["write_pulses"] > 0


def test_resume_after_interruption_is_bit_identical(tmp_path) -> None:
    exp = load_experiment("digits", {"train.epochs": 2, "data.train": 400, "data.test": 100, "train.batch": 50})
    full = Trainer(exp, tmp_path / "full")
    train_set, test_set = load_data(exp)
    for _ in range(2):
        full.train_epoch(train_set, progress=False)
        full.finish_epoch(test_set)

    part = Trainer(exp, tmp_path / "part")

    class Stop(Exception):
        pass

    def interrupt(position, _res):
        if position == 150:
            raise Stop

    part.train_epoch(train_set, progress=False)
    part.finish_epoch(test_set)
    with pytest.raises(Stop):
        part.train_epoch(train_set, progress=False, on_batch=interrupt)
    part.save()
    resumed = Trainer(exp, tmp_path / "part")
    resumed.restore(tmp_path / "part" / CHECKPOINT)
    assert (resumed.epoch, resumed.position) == (1, 150)
    resumed.train_epoch(train_set, progress=False)
    resumed.finish_epoch(test_set)
    np.testing.assert_array_equal(resumed.engine.state()["weights"], full.engine.state()["weights"])
    assert resumed.results[-1]["test_acc"] == full.results[-1]["test_acc"]
    assert resumed.results[-1]["train_acc"] == full.results[-1]["train_acc"]


def test_train_and_infer_commands(tmp_path, capsys, monkeypatch) -> None:
    """The CLI path a user takes: train writes a run folder and a trace, infer reads the checkpoint."""
    import json

    from neurocore.cli import main

    monkeypatch.chdir(tmp_path)
    run = tmp_path / "run"
    assert main(["train", "digits", "--run-dir", str(run), "--no-progress", "--set", "train.epochs=1",
                 "--set", "trace.enabled=true", "--set", "trace.every=500"]) == 0
    for name in ("checkpoint.npz", "results.json", "learning_curve.png", "experiment.toml"):
        assert (run / name).is_file(), name
    assert (run / "trace.h5").is_file()  # a run's trace lives in its run folder
    capsys.readouterr()
    assert main(["infer", str(run), "--json", "--equivalent"]) == 0
    out = json.loads(capsys.readouterr().out)
    results = json.loads((run / "results.json").read_text())["results"]
    assert out["accuracy"] == results[-1]["test_acc"]
    # spiking inference computes the rate-equivalent network of the same weights
    assert abs(out["equivalent_accuracy"] - out["accuracy"]) < 0.08, out
    assert main(["infer", str(tmp_path / "nowhere")]) == 2


def test_shipped_experiments_load() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    files = sorted((root / "models" / "experiments").glob("*.toml")) + \
        sorted((root / "examples" / "results").glob("*_experiment.toml"))
    assert len(files) >= 6
    methods = set()
    for f in files:
        exp = load_experiment(f)
        methods.add(exp.method)
        if exp.method == "ssnn-bp":
            assert exp.net.layers[0] == exp.net.inputs
        elif exp.method == "lee2020":  # its layer plan fits the images of its dataset (no torch needed)
            from neurocore.methods.lee2020 import build_plan
            assert build_plan(exp.net, (8, 8) if exp.data.dataset == "digits" else (28, 28), 10)[-1].kind == "output"
        elif exp.method == "bats":  # its input layer is its dataset's image, its tick on the chip whole
            assert exp.net.inputs == (64 if exp.data.dataset == "digits" else 784) and exp.net.classes == 10
            assert exp.net.chip_ticks >= 2
        else:
            raise AssertionError(f"{f}: no check for method {exp.method}")
    assert methods >= {"ssnn-bp", "lee2020", "bats"}


def test_wta_is_the_fixed_point_of_lateral_inhibition() -> None:
    a = np.array([[0.9, 0.5, 0.1], [0.3, 0.3, -0.2]], np.float32)
    assert np.array_equal(wta(a, 0.0), np.clip(a, 0, 1))
    for s in (0.2, 1.0):
        y = wta(a, s)
        np.testing.assert_allclose(y, np.clip(a - s * (y.sum(1, keepdims=True) - y), 0, 1), atol=1e-4)
    y = wta(a, 1.0)
    assert y[0, 0] == np.float32(0.9) and y[0, 1:].max() < 1e-6  # the strongest input silences the rest


def test_equivalent_network_learns_digits_and_the_command_reports_it(capsys) -> None:
    import json

    from neurocore.cli import main

    exp = load_experiment("digits")
    train_set, test_set = load_data(exp)
    rows = train_equivalent(exp.net, train_set, test_set, lr=exp.train.lr, epochs=3, log=lambda s: None)
    assert rows[-1]["test_acc"] > 0.8
    assert main(["equivalent", "digits", "--epochs", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["epoch"] for r in out["epochs"]] == [1, 2] and out["epochs"][-1]["test_acc"] > 0.5
    with pytest.raises(SystemExit) as ex:
        main(["equivalent", "digits", "--epochs", "0"])
    assert ex.value.code == 2
