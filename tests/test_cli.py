"""What a careless user meets at the command line: one line naming the file or flag, the key, the
value and what is allowed; exit 2; no traceback; nothing half-written. And the first contact:
help that reads to the end, a notice while kernels compile."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
import pytest

from neurocore.cli import build_parser, main
from neurocore.compile_notice import MESSAGE, compile_notice
from tests.helpers import one_line_error

TINY = ["--set", "train.epochs=1", "--set", "data.train=40", "--set", "data.test=20", "--no-progress"]




# ---- checkpoints -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A run folder from one short training of the digits experiment."""
    run = tmp_path_factory.mktemp("run") / "digits"
    assert main(["train", "digits", "--run-dir", str(run), *TINY]) == 0
    return run


def _bad_checkpoints(good: Path) -> dict[str, bytes]:
    raw = good.read_bytes()
    z = dict(np.load(good))
    out = {"truncated": raw[: len(raw) // 2], "empty": b"",
           "random bytes": np.random.default_rng(0).bytes(5000)}

    def npz(**arrays) -> bytes:
        import io
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        return buf.getvalue()

    out["wrong keys"] = npz(w=np.zeros(3), epoch=np.array(1))
    out["pickled objects"] = npz(**{**z, "weights": np.array([{"a": 1}], dtype=object)})
    out["float64 weights"] = npz(**{**z, "weights": z["weights"].astype(np.float64)})
    out["weights of another chip"] = npz(**{**z, "weights": z["weights"][:-3]})
    out["negative epoch"] = npz(**{**z, "epoch": np.array(-1)})
    out["results not JSON"] = npz(**{**z, "results": np.array("{not json")})
    return out


BAD = ["truncated", "empty", "random bytes", "wrong keys", "pickled objects", "float64 weights",
       "weights of another chip", "negative epoch", "results not JSON"]
SAYS = {"truncated": "truncated or damaged", "empty": "the file is empty", "random bytes": "not a .npz (zip) archive",
        "wrong keys": "it has no results", "pickled objects": "Python objects (pickled data), which neurocore never",
        "float64 weights": "'weights' is float64", "weights of another chip": "another experiment or chip",
        "negative epoch": "'epoch' = -1", "results not JSON": "'results' is not the JSON text"}


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_checkpoint_is_one_line_and_changes_nothing(tmp_path, capsys, run_dir, case):
    run = tmp_path / "run"
    run.mkdir()
    for name in ("experiment.toml", "results.json"):
        (run / name).write_bytes((run_dir / name).read_bytes())
    (run / "checkpoint.npz").write_bytes(_bad_checkpoints(run_dir / "checkpoint.npz")[case])
    before = _digest(run)
    for argv in (["infer", str(run)], ["train", str(run / "experiment.toml"), "--run-dir", str(run), "--resume",
                                       "--no-progress"]):
        line = one_line_error(capsys, argv, str(run / "checkpoint.npz"), "not a usable checkpoint", SAYS[case],
                               "a checkpoint is the checkpoint.npz that `neurocore train` writes")
        assert "allow_pickle" not in line
        assert _digest(run) == before, argv  # nothing written, nothing half-written


def test_the_good_checkpoint_still_resumes_and_infers(capsys, run_dir):
    assert main(["infer", str(run_dir), "--json"]) == 0
    assert main(["train", "digits", "--run-dir", str(run_dir), "--resume", *TINY]) == 0  # already done: no epoch
    assert "resumed at epoch 2" in capsys.readouterr().out


def test_a_missing_checkpoint_says_where_one_comes_from(tmp_path, capsys, run_dir):
    run = tmp_path / "run"
    run.mkdir()
    (run / "experiment.toml").write_bytes((run_dir / "experiment.toml").read_bytes())
    one_line_error(capsys, ["infer", str(run)], "no checkpoint here", "after every epoch")


# ---- experiment files and --set -----------------------------------------------------------

def test_a_scalar_where_a_list_belongs(tmp_path, capsys):
    exp = tmp_path / "e.toml"
    exp.write_text('name = "e"\n[data]\ndataset = "digits"\n[net]\ninputs = 64\nhidden = 30\n')
    one_line_error(capsys, ["train", str(exp), "--no-progress"], str(exp), "key 'net.hidden'",
                    "expected a list, got 30")
    assert not (tmp_path / "runs").exists()


def test_an_error_in_a_set_value_names_the_override(capsys):
    line = one_line_error(capsys, ["train", "digits", "--set", "train.update=coincidnce"],
                           "--set train.update=\"coincidnce\": key 'train.update' = 'coincidnce' is not allowed; "
                           "must be one of 'coincidence', 'rate', 'rate_noise'")
    assert "digits.toml" not in line
    one_line_error(capsys, ["train", "digits", "--set", "chip.mesh.width=0"],
                    "--set chip.mesh.width=0: key 'chip.mesh.width' = 0 is out of range; must be >= 1")
    one_line_error(capsys, ["infer", "nowhere", "--set", "x"], "not a run folder")
    one_line_error(capsys, ["equivalent", "digits", "--set", "train.tss=3"],
                    "--set train.tss=3: key 'train.tss': unknown key; allowed keys here: batch,")
    one_line_error(capsys, ["map", "digits", "--set", "net.hidden=[0]"], "--set net.hidden=[0]: key 'net.hidden' = [0]")
    one_line_error(capsys, ["train", "digits", "--set", "novalue"], "--set novalue: expected KEY=VALUE")


def test_every_unknown_key_of_a_file_is_reported_at_once(tmp_path, capsys):
    exp = tmp_path / "e.toml"
    exp.write_text('name = "e"\nsed = 1\n[train]\nepoch = 2\nts = 50\n[net]\nhiden = [3]\n[chip]\nname = "small"\n'
                   '[chip.mesh]\nwidht = 2\n')
    one_line_error(capsys, ["train", str(exp)], str(exp), "unknown keys 'sed', ", "'train.epoch'", "'net.hiden'",
                    "'chip.mesh.widht'", "[train] batch, defer_writes, epochs", "[chip.mesh] cores_per_tile, height, width")


def test_a_value_error_reads_key_equals_value():
    from neurocore.config import build
    from neurocore.errors import ConfigError
    from neurocore.methods.ssnn_bp.netlist import TrainSpec

    with pytest.raises(ConfigError) as err:
        build(TrainSpec, {"update": "coincidnce"}, "e.toml", "train")
    assert str(err.value).startswith("e.toml: key 'train.update' = 'coincidnce' is not allowed; must be one of")


@pytest.mark.parametrize("argv, fragment", [
    (["run", "ff_small", "--samples", "0"], "argument --samples: 0 is out of range; must be an integer >= 1"),
    (["run", "ff_small", "--ticks", "-3"], "argument --ticks: -3 is out of range; must be an integer >= 1"),
    (["sweep", "standin", "--workers", "-1"], "argument --workers: -1 is out of range; must be an integer >= 0"),
    (["equivalent", "digits", "--batch", "0"], "argument --batch: 0 is out of range"),
    (["bench", "engine", "--rate", "2"], "argument --rate: 2 is out of range; must be a number in [0, 1]"),
    (["bench", "epoch", "--ts", "1.5"], "argument --ticks/--ts: '1.5' is not an integer >= 1"),
    (["run", "nosuch"], "no network named 'nosuch'; known nets: ff_784_1280_10, ff_small, wta_ring"),
    (["train", "nosuch"], "no experiment named 'nosuch'; known experiments: bats_digits,"),
    (["map", "ff_small", "--chip", "tiny"], "no chip named 'tiny'; known chips: analog_rpu, loihi, loihi_like"),
    (["sweep", "nosuch"], "no sweep named 'nosuch'; known sweeps: device, devices, devices_fmnist, devices_quick, fig6_ts"),
    (["map", "ff_small", "--set", "train.ts=3"], "--set train.ts=3: key 'train': unknown key; allowed keys here: "
                                                 "chip, name, population,"),
])
def test_bad_flags_and_names_are_one_line(capsys, argv, fragment):
    one_line_error(capsys, argv, fragment)


# ---- first contact -----------------------------------------------------------------------

def test_help_reads_to_the_end_and_speaks_of_workloads_not_issues(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert " ".join(text.split()).endswith("shows a command's options.") and "Each command lives in" not in text
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for name, sub in commands.items():
        for text in [sub.format_help()] + [b.format_help() for b in getattr(
                next((a for a in sub._actions if a.__class__.__name__ == "_SubParsersAction"), None),
                "choices", {}).values()]:
            assert "issue" not in text.lower(), (name, text)


@pytest.mark.parametrize("concept", ["--chip", "--samples", "--ticks", "--set", "--no-progress"])
def test_shared_options_are_spelt_and_explained_alike(concept):
    """A concept several commands share has one flag, one metavar and one help wording."""
    parser = build_parser()
    seen = {}
    stack = [("neurocore", parser)]
    while stack:
        name, p = stack.pop()
        for a in p._actions:
            if a.__class__.__name__ == "_SubParsersAction":
                stack += [(f"{name} {k}", v) for k, v in a.choices.items()]
            elif concept in a.option_strings:
                seen[name] = (a.metavar, (a.help or "").split(" (default")[0])
    assert len(seen) >= 2, seen
    if concept == "--samples":  # what is counted differs (samples run, training samples timed)
        assert len({m for m, _ in seen.values()}) == 1, seen
    else:
        assert len(set(seen.values())) == 1, seen


def test_compile_notice_speaks_only_when_the_block_is_slow():
    said = []
    with compile_notice(said.append, after=0.05):
        time.sleep(0.5)
    assert said == [MESSAGE]
    said.clear()
    with compile_notice(said.append, after=30):
        pass
    time.sleep(0.05)
    assert said == []


def test_training_warms_the_kernels_up_before_its_clock_and_bar_start(monkeypatch):
    from neurocore.experiment import load_experiment
    from neurocore.methods.ssnn_bp.trainer import Trainer, load_data

    exp = load_experiment("digits", {"data.train": 20, "data.test": 10, "train.epochs": 2})
    train_set, _ = load_data(exp)
    tr = Trainer(exp)
    order = []
    runs = {"infer": tr.infer_engine.run, "train": tr.engine.run}
    monkeypatch.setattr(tr.infer_engine, "run", lambda *a, **k: (order.append("warm-up"), runs["infer"](*a, **k))[1])
    monkeypatch.setattr(tr.engine, "run", lambda *a, **k: (order.append("train"), runs["train"](*a, **k))[1])
    tr.train_epoch(train_set, progress=False)
    tr.epoch, tr.position = 1, 0
    tr.train_epoch(train_set, progress=False)
    assert order[0] == "warm-up" and order.count("warm-up") == 1 and order.count("train") >= 2


def test_a_sweep_takes_set_overrides_of_its_base_and_keeps_their_results_apart(capsys):
    assert main(["sweep", "fig6_ts", "--list", "--set", "train.epochs=1", "--set", "data.train=2000"]) == 0
    out = capsys.readouterr().out
    assert "24 points" in out and "results in runs/sweeps/fig6_ts+set-" in out
    one_line_error(capsys, ["sweep", "fig6_ts", "--list", "--set", "train.epoch=1"],
                    "--set train.epoch=1: key 'train.epoch': unknown key; allowed keys here: batch,")
