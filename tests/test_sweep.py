"""Sweeps: expansion of grids and points, resumable results, failures, dask vs in-process."""

import json
import sys

import pytest

from neurocore.cli import main
from neurocore.errors import ConfigError
from neurocore.sweep import (ResultsTable, RunnerError, apply_overrides, load_sweep, point_id, resolve_runner,
                             run_sweep, sweep_from_dict)

FAKE = "neurocore.sweep.testing:fake_run"


def tiny(**kw):
    data = {"runner": FAKE, "metrics": ["accuracy", "train_energy_pj"],
            "grid": {"train.ts": [25, 50], "chip.device.dw_min": [0.001, 0.002]}}
    data.update(kw)
    return sweep_from_dict(data, name="tiny", base_config={"train": {"ts": 10, "epochs": 1}, "fake": {"sleep": 0}})


def test_grid_points_and_repeats_expand_to_their_product():
    s = sweep_from_dict({"runner": FAKE, "repeats": 2, "grid": {"train": {"ts": [25, 50, 100]}},
                         "points": [{"chip": {"mesh": {"width": 2, "height": 2}}}, {"chip.mesh.width": 4}]})
    pts = s.expand()
    assert len(pts) == 2 * 3 * 2
    assert len({p.id for p in pts}) == len(pts)
    assert pts[0].overrides == {"chip.mesh.width": 2, "chip.mesh.height": 2, "train.ts": 25, "seed": 0}
    assert [p.seed for p in pts[:2]] == [0, 1]
    assert s.swept_keys == ["chip.mesh.width", "train.ts"]  # height has one value; seed is not a parameter
    # quoted dotted keys and nested tables are the same key, and the id ignores key order
    q = sweep_from_dict({"runner": FAKE, "repeats": 2, "grid": {"train.ts": [25, 50, 100]},
                         "points": [{"chip.mesh.height": 2, "chip.mesh.width": 2}, {"chip.mesh.width": 4}]})
    assert [p.id for p in q.expand()] == [p.id for p in pts]
    assert point_id({"a": 1, "b": 2}) == point_id({"b": 2, "a": 1}) != point_id({"a": 1, "b": 3})


def test_point_config_applies_overrides_to_a_copy_of_the_base():
    base = {"train": {"ts": 10}, "chip": {"name": "small", "device": {"dw_min": 0.001, "model": "ideal"}}}
    cfg = apply_overrides(base, {"train.ts": 50, "chip.device": {"dw_min": 0.002}, "net.hidden": 64})
    assert cfg == {"train": {"ts": 50}, "net": {"hidden": 64},
                   "chip": {"name": "small", "device": {"dw_min": 0.002, "model": "ideal"}}}
    assert base["train"]["ts"] == 10
    with pytest.raises(ConfigError, match="chip.name.x"):
        apply_overrides(base, {"chip.name.x": 1})


def test_base_is_found_next_to_the_sweep_file_or_in_the_cwd(tmp_path, monkeypatch):
    (tmp_path / "exp").mkdir()
    (tmp_path / "exp" / "quick.toml").write_text("[train]\nts = 10\n")
    (tmp_path / "sweeps").mkdir()
    f = tmp_path / "sweeps" / "s.toml"
    f.write_text(f'base = "../exp/quick.toml"\nrunner = "{FAKE}"\n[grid]\n"train.ts" = [1, 2]\n')
    assert load_sweep(f).base_config == {"train": {"ts": 10}}
    f.write_text(f'base = "exp/quick.toml"\nrunner = "{FAKE}"\n')
    monkeypatch.chdir(tmp_path)
    s = load_sweep(f)
    assert s.base_path == (tmp_path / "exp" / "quick.toml").resolve() and len(s.expand()) == 1
    f.write_text('base = "nowhere.toml"\n')
    with pytest.raises(ConfigError, match="nowhere.toml.*tried"):
        load_sweep(f)


@pytest.mark.parametrize("data, key", [
    ({"grid": {"train.ts": 50}}, "grid.train.ts"),
    ({"grid": {"train.ts": []}}, "grid.train.ts"),
    ({"grid": {"a": [1]}, "points": [{"a": 2}]}, "points[0].a"),
    ({"runner": "neurocore.experiment.run_point"}, "runner"),
    ({"points": [{"a": 1}, {"a": 1}]}, "points"),
    ({"seeds": [1, 2], "repeats": 3}, "repeats"),
    ({"repeats": 2, "grid": {"seed": [1, 2]}}, "seed_key"),
    ({"grids": {}}, "grids"),
])
def test_bad_sweep_files_name_the_key(data, key):
    with pytest.raises(ConfigError) as err:
        sweep_from_dict(data, source="s.toml")
    assert f"key '{key}'" in str(err.value) and "s.toml" in str(err.value)


def test_results_table_skips_a_line_cut_short_and_keeps_the_last_record(tmp_path):
    t = ResultsTable(tmp_path / "r.jsonl")
    t.append({"id": "a", "status": "error"})
    with t.path.open("a") as fh:
        fh.write('{"id": "b", "stat')  # killed mid-write
    t.append({"id": "a", "status": "ok"})
    assert t.latest() == {"a": {"id": "a", "status": "ok"}}
    assert t.skipped_lines == 1
    assert t.finished() == {"a"}


def test_failing_point_is_recorded_and_the_others_complete(tmp_path):
    s = tiny(points=[{"fake.fail": False}, {"fake.fail": True}])
    res = run_sweep(s, tmp_path, workers=0, progress=False)
    assert res.ran == 8 and res.failed == 4
    bad = [r for r in res.records.values() if r["status"] == "error"]
    assert len(bad) == 4 and all("fake failure requested" in r["error"] for r in bad)
    assert all(r["overrides"]["fake.fail"] for r in bad)
    rows = res.csv_path.read_text().splitlines()
    assert len(rows) == 9 and rows[0].startswith("id,status,repeat,seed,fake.fail,train.ts,chip.device.dw_min")
    assert sorted(p.name for p in res.plots) == ["plot_chip.device.dw_min.png", "plot_train.ts.png"]
    # resumed: failed points run again (and fail again); with retry_failed=False nothing runs
    assert run_sweep(s, tmp_path, workers=0, progress=False, report=False).ran == 4
    assert run_sweep(s, tmp_path, workers=0, progress=False, report=False, retry_failed=False).ran == 0


def test_killed_sweep_resumes_with_only_the_missing_points(tmp_path):
    s = tiny(repeats=2)  # 8 points
    full = run_sweep(s, tmp_path / "full", workers=0, progress=False, report=False)
    lines = (tmp_path / "full" / "results.jsonl").read_text().splitlines()
    assert len(lines) == 8
    # a sweep killed after 3 points, in the middle of writing the 4th line
    part = tmp_path / "part"
    part.mkdir()
    (part / "results.jsonl").write_text("\n".join(lines[:3]) + "\n" + lines[3][:40])
    res = run_sweep(s, part, workers=0, progress=False, report=False)
    assert (res.skipped, res.ran) == (3, 5)
    after = (part / "results.jsonl").read_text().splitlines()
    new_ids = [json.loads(line)["id"] for line in after[4:]]
    assert sorted(new_ids) == sorted(json.loads(line)["id"] for line in lines[3:])
    assert after[:3] == lines[:3]
    assert {i: r["metrics"] for i, r in res.records.items()} == {i: r["metrics"] for i, r in full.records.items()}
    assert run_sweep(s, part, workers=0, progress=False, report=False).ran == 0


def test_local_cluster_gives_the_same_numbers_as_one_by_one(tmp_path):
    s = tiny(repeats=2, points=[{"fake.sleep": 0.05}])
    serial = run_sweep(s, tmp_path / "serial", workers=0, progress=False, report=False)
    dask = run_sweep(s, tmp_path / "dask", workers=2, progress=False, report=False)
    assert dask.ran == serial.ran == 8 and dask.failed == 0
    assert {i: r["metrics"] for i, r in dask.records.items()} == {i: r["metrics"] for i, r in serial.records.items()}
    assert {r["pid"] for r in serial.records.values()} != {r["pid"] for r in dask.records.values()}


def test_unimportable_runner_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "neurocore.study", None)  # as if it could not be imported
    with pytest.raises(RunnerError, match="neurocore.study:run_point.*could not be imported.*runner ="):
        resolve_runner("neurocore.study:run_point")
    with pytest.raises(RunnerError, match="has no 'nothing'"):
        resolve_runner("neurocore.sweep.testing:nothing")
    f = tmp_path / "s.toml"
    f.write_text('[grid]\n"train.ts" = [1, 2]\n')
    assert main(["sweep", str(f), "-o", str(tmp_path / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "cannot import the sweep runner 'neurocore.study:run_point'" in err


def test_cli_runs_lists_and_resumes(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text(f'name = "cli"\nrunner = "{FAKE}"\nmetrics = ["accuracy"]\n[grid]\n"train.ts" = [25, 50, 100]\n'
                 '"fake.sleep" = [0]\n')
    out = tmp_path / "out"
    assert main(["sweep", str(f), "-o", str(out), "--workers", "0", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "3 points, 3 ok; ran 3" in text and "plot_train.ts.png" in text
    assert (out / "results.csv").is_file() and (out / "plot_train.ts.png").stat().st_size > 1000
    assert main(["sweep", str(f), "-o", str(out), "--list"]) == 0
    assert capsys.readouterr().out.count(" ok ") == 3
    assert main(["sweep", str(f), "-o", str(out), "--workers", "0", "--no-progress"]) == 0
    assert "ran 0 (0 failed), skipped 3" in capsys.readouterr().out


def test_keys_set_together_make_one_plot(tmp_path):
    s = sweep_from_dict({"runner": FAKE, "metrics": ["accuracy"], "grid": {"mapping.strategy": ["sequential", "traffic"]},
                         "points": [{"chip.mesh.width": 2, "chip.mesh.height": 2},
                                    {"chip.mesh.width": 4, "chip.mesh.height": 4}]},
                        base_config={"fake": {"sleep": 0}})
    res = run_sweep(s, tmp_path, workers=0, progress=False)
    assert sorted(p.name for p in res.plots) == ["plot_chip.mesh.width+chip.mesh.height.png",
                                                 "plot_mapping.strategy.png"]


def test_shipped_sweeps_give_valid_experiment_configs():
    from pathlib import Path
    experiment = pytest.importorskip("neurocore.experiment")
    files = sorted((Path(__file__).resolve().parent.parent / "models" / "sweeps").glob("*.toml"))
    assert len(files) >= 4
    for f in files:
        s = load_sweep(f)
        if s.runner != "neurocore.study:run_point":
            continue
        for p in s.expand():
            experiment.experiment_from_dict(s.config(p), f"{f.name} point {p.id}")


def test_a_point_keeps_its_run_folder_and_resumes_from_it(tmp_path):
    """run_point with a run_dir checkpoints every epoch: a point run again after its first epoch (a
    sweep killed and restarted) carries on from the checkpoint and ends as an uninterrupted run does."""
    from neurocore.experiment import load_experiment
    from neurocore.study import run_point

    base = load_experiment("digits").raw | {}
    cfg = {**base, "train": {**base.get("train", {}), "epochs": 1}, "data": {**base.get("data", {}), "train": 200,
                                                                           "test": 60}}
    run_point(cfg, run_dir=str(tmp_path / "a"))
    assert (tmp_path / "a" / "checkpoint.npz").is_file()
    cfg2 = {**cfg, "train": {**cfg["train"], "epochs": 2}}
    resumed = run_point(cfg2, run_dir=str(tmp_path / "a"))
    whole = run_point(cfg2, run_dir=str(tmp_path / "b"))
    assert resumed["accuracy"] == whole["accuracy"] and resumed["epochs"] == 2
    rows = json.loads((tmp_path / "a" / "results.json").read_text())["results"]
    assert [r["epoch"] for r in rows] == [1, 2]
