"""A run folder is one run: locked while written, never mixed with another run, resumed only with the
settings that ran, its trace beside it (issue 23)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from neurocore.cli import main
from neurocore.runfolder import LOCK, RunLock
from tests.helpers import one_line_error

REPO = Path(__file__).resolve().parents[1]
TINY = ["--set", "train.epochs=1", "--set", "data.train=40", "--set", "data.test=20", "--no-progress"]




def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def done(tmp_path_factory) -> Path:
    """A finished run of digits (seed 1), with a trace."""
    run = tmp_path_factory.mktemp("runs") / "done"
    assert main(["train", "digits", "--run-dir", str(run), *TINY, "--set", "trace.enabled=true",
                 "--set", "trace.every=10"]) == 0
    return run


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    for name, data in _files(src).items():
        (dst / name).write_bytes(data)
    return dst


def test_a_second_writer_is_refused_naming_the_holder(tmp_path, capsys):
    run = tmp_path / "r"
    run.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from neurocore.runfolder import RunLock; "
                               f"RunLock({str(run)!r}).acquire(); print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert holder.stdout.readline().strip() == "held"
        one_line_error(capsys, ["train", "digits", "--run-dir", str(run), *TINY], str(run), "in use by",
                        f"pid {holder.pid}", "-c")
        assert not (run / "experiment.toml").exists()  # the refused writer wrote nothing
    finally:
        holder.kill()
        holder.wait()
    # a killed holder leaves no lock behind (the lock goes with the process)
    with RunLock(run):
        pass
    assert not (run / LOCK).exists()


def test_the_lock_is_released_after_a_run(done):
    assert not (done / LOCK).exists()
    with RunLock(done) as lock:
        assert json.loads((done / LOCK).read_text())["pid"] == os.getpid()
        assert lock.fd is not None


def test_another_experiment_in_a_used_folder_is_refused_unless_overwrite(tmp_path, capsys, done):
    run = _copy(done, tmp_path / "r")
    before = _files(run)
    line = one_line_error(capsys, ["train", "digits", "--run-dir", str(run), *TINY, "--set", "seed=5"],
                           str(run), "holds another run ('digits'", "seed 1 -> 5", "--overwrite")
    assert "--resume" not in line  # resuming would not make it seed 5
    one_line_error(capsys, ["train", "quick", "--run-dir", str(run), "--no-progress"], "holds another run")
    assert _files(run) == before  # nothing changed
    # more epochs of the same run: --resume is offered too
    one_line_error(capsys, ["train", "digits", "--run-dir", str(run), *TINY, "--set", "train.epochs=2"],
                    "train.epochs 1 -> 2", "--resume to continue it")
    assert main(["train", "digits", "--run-dir", str(run), *TINY, "--set", "seed=5", "--overwrite"]) == 0
    assert "seed = 5" in (run / "experiment.toml").read_text()
    with __import__("numpy").load(run / "checkpoint.npz") as z:
        assert "seed = 5" in str(z["experiment"])
    assert "held a run; its files were removed" in capsys.readouterr().out
    assert not (run / "trace.h5").exists()  # the old run's trace went with it


def test_resume_refuses_settings_that_change_what_ran(tmp_path, capsys, done):
    run = _copy(done, tmp_path / "r")
    before = _files(run)
    one_line_error(capsys, ["train", "digits", "--run-dir", str(run), *TINY, "--resume", "--set", "seed=5",
                             "--set", "train.lr=0.1"], str(run), "--resume with settings that change what already ran",
                    "seed 1 -> 5", "train.lr 0.05 -> 0.1")
    assert _files(run) == before
    # more epochs do not change what ran
    assert main(["train", "digits", "--run-dir", str(run), *TINY, "--resume", "--set", "train.epochs=2"]) == 0
    assert "resumed at epoch 2" in capsys.readouterr().out
    one_line_error(capsys, ["train", "digits", "--run-dir", str(run), *TINY, "--resume", "--overwrite"],
                    "give one of them")


def test_a_run_folder_that_is_a_file_or_unwritable_is_one_line(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    one_line_error(capsys, ["train", "digits", "--run-dir", str(f), *TINY], str(f), "is a file, not a folder")
    one_line_error(capsys, ["train", "digits", "--run-dir", str(f / "sub"), *TINY], "is a file, not a folder")
    assert f.read_text() == "x"


def test_two_run_folders_of_one_experiment_keep_their_own_traces(tmp_path, done, monkeypatch):
    import neurocore.traces as traces

    monkeypatch.chdir(tmp_path)
    other = tmp_path / "other"
    assert main(["train", "digits", "--run-dir", str(other), *TINY, "--set", "trace.enabled=true",
                 "--set", "trace.every=20"]) == 0
    assert (done / "trace.h5").is_file() and (other / "trace.h5").is_file()
    assert not (tmp_path / "traces").exists()
    with traces.open(done / "trace.h5") as a, traces.open(other / "trace.h5") as b:
        assert list(a.samples("output")) != list(b.samples("output"))  # every 10th vs every 20th sample


def test_a_resumed_run_starts_a_trace_of_its_own_in_the_folder(tmp_path, capsys, done):
    run = _copy(done, tmp_path / "r")
    first = (run / "trace.h5").read_bytes()
    assert main(["train", "digits", "--run-dir", str(run), *TINY, "--resume", "--set", "train.epochs=2",
                 "--set", "trace.enabled=true", "--set", "trace.every=10"]) == 0
    assert (run / "trace-from-epoch2-sample0.h5").is_file()
    assert (run / "trace.h5").read_bytes() == first


def test_a_sweep_point_of_other_settings_is_refused_not_resumed(tmp_path):
    from neurocore.experiment import load_experiment
    from neurocore.runfolder import claim
    from neurocore.errors import NeurocoreError

    run = tmp_path / "p"
    exp = load_experiment("digits", {"train.epochs": 1, "data.train": 40, "data.test": 20})
    lock = claim(run, exp)
    from neurocore import runs
    runs.write_experiment(run, exp)
    lock.release()
    other = load_experiment("digits", {"train.epochs": 1, "data.train": 40, "data.test": 20, "seed": 9})
    with pytest.raises(NeurocoreError, match="holds another run"):
        claim(run, other)
    time.sleep(0)


# ---- a resumed run gives the row an uninterrupted one gives --------------------------------

_CLOCK = ("train_seconds", "eval_seconds", "samples_per_s", "chip_seconds")


def _row(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in _CLOCK}


def test_interrupt_and_resume_gives_the_uninterrupted_row(tmp_path):
    """Ctrl-C mid-epoch then --resume: counters, cost and hidden activity count every sample of the epoch."""
    from neurocore.experiment import load_experiment
    from neurocore.methods.ssnn_bp.trainer import Trainer, load_data

    exp = load_experiment("digits", {"train.epochs": 1, "data.train": 120, "data.test": 40, "train.batch": 20})
    train_set, test_set = load_data(exp)
    full = Trainer(exp, tmp_path / "full")
    full.train_epoch(train_set, progress=False)
    whole = _row(full.finish_epoch(test_set, train=train_set))

    part = Trainer(exp, tmp_path / "part")

    def interrupt(position, _res):
        if position == 60:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        part.train_epoch(train_set, progress=False, on_batch=interrupt)
    part.save()
    resumed = Trainer(exp, tmp_path / "part")
    resumed.restore(tmp_path / "part")
    assert resumed.position == 60
    resumed.train_epoch(train_set, progress=False)
    again = _row(resumed.finish_epoch(test_set, train=train_set))
    assert again["train_counters"]["samples"] == 120
    assert json.dumps(again, sort_keys=True, default=str) == json.dumps(whole, sort_keys=True, default=str)


def test_a_sweep_point_resumed_after_its_last_checkpoint_gets_the_same_replay(tmp_path):
    """Killed after its last checkpoint, before its results line: the rerun replays the mesh as the first run did."""
    from neurocore.experiment import load_experiment
    from neurocore.study import run_point

    cfg = load_experiment("digits").raw | {"train": {"epochs": 1, "ts": 50, "lr": 0.05},
                                           "data": {"dataset": "digits", "train": 40, "test": 20}}
    first = run_point(cfg, run_dir=str(tmp_path / "p"))
    second = run_point(cfg, run_dir=str(tmp_path / "p"))  # the checkpoint is after the last epoch: no training
    assert second["infer_latency_ns"] == first["infer_latency_ns"]
    same = {k for k in first if k not in ("seconds", "samples_per_s")}
    assert {k: second[k] for k in same} == {k: first[k] for k in same}


_INTERRUPTED = """
import os, signal, sys
import neurocore.methods.ssnn_bp.trainer as t
orig = t.Trainer.train_epoch
def patched(self, train, progress=True, on_batch=None):
    def hook(position, res):
        if self.epoch == 1 and position == 60:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in epoch 2, held until the batch is done
    return orig(self, train, progress, hook)
t.Trainer.train_epoch = patched
from neurocore.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_then_resume_from_the_command_line_gives_the_uninterrupted_results(tmp_path, capsys):
    args = ["digits", "--no-progress", "--set", "train.epochs=2", "--set", "data.train=200", "--set", "data.test=40",
            "--set", "train.batch=20"]
    assert main(["train", *args, "--run-dir", str(tmp_path / "whole")]) == 0
    cut = tmp_path / "cut"
    res = subprocess.run([sys.executable, "-c", _INTERRUPTED, "train", *args, "--run-dir", str(cut)],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=600)
    assert res.returncode == 130, res.stderr[-2000:]
    assert "interrupted: checkpoint saved" in res.stdout and "(epoch 2, sample 60)" in res.stdout, res.stdout
    assert main(["train", *args, "--run-dir", str(cut), "--resume"]) == 0
    whole = json.loads((tmp_path / "whole" / "results.json").read_text())["results"]
    again = json.loads((cut / "results.json").read_text())["results"]
    assert len(again) == len(whole) == 2
    assert again[1]["train_counters"]["samples"] == 200
    assert [_row(r) for r in again] == [_row(r) for r in whole]


def test_a_per_tick_trace_leaves_the_epoch_counters_whole(tmp_path):
    """A traced sample with per-tick traffic restarts the engine's counters; the row still counts every sample."""
    rows = []
    for name, extra in (("plain", []), ("traced", ["--set", "trace.enabled=true", "--set", "trace.start=15",
                                                   "--set", 'trace.traffic="per_tick"'])):
        assert main(["train", "digits", "--run-dir", str(tmp_path / name), *TINY, *extra]) == 0
        rows.append(json.loads((tmp_path / name / "results.json").read_text())["results"][-1])
    assert rows[1]["train_counters"]["samples"] == 40
    assert rows[1]["train_counters"] == rows[0]["train_counters"]
