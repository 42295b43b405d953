"""A design-space sweep from Python, on two dask workers, with the stand-in runner.

The real studies (models/sweeps/fig6_ts.toml, device.toml, mesh.toml) call the experiment
runner neurocore.study:run_point; this one uses neurocore.sweep.testing:fake_run so it
runs anywhere. Run: python examples/sweep_standin.py   (results in runs/sweeps/standin_py/)
"""

from neurocore.resolve import model_file
from neurocore.sweep import load_sweep, run_sweep, sweep_from_dict

if __name__ == "__main__":  # dask starts worker processes: keep the work under this guard
    # 1. from a file
    spec = load_sweep(model_file("sweeps", "standin"))  # models/sweeps/standin.toml, by name
    print(f"{spec.name}: {len(spec.expand())} points over {', '.join(spec.swept_keys)}")

    # 2. or built in Python: the same keys as a sweep file, the base experiment as a dict
    spec = sweep_from_dict(
        {"name": "standin_py", "runner": "neurocore.sweep.testing:fake_run",
         "metrics": ["accuracy", "train_energy_pj"], "repeats": 2,
         "grid": {"train.ts": [25, 50, 100, 200], "chip.device.dw_min": [0.001, 0.004]}},
        base_config={"train": {"ts": 50}, "fake": {"sleep": 0.05}})
    res = run_sweep(spec, "runs/sweeps/standin_py", workers=2)
    print(f"ran {res.ran}, skipped {res.skipped} (finished by an earlier run), failed {res.failed}")
    print(res.csv_path.read_text().splitlines()[0])
    for path in res.plots:
        print("plot:", path)
    # run it again: every point is already in runs/sweeps/standin_py/results.jsonl, nothing runs
