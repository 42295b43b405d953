"""Design-space sweeps: a grid or list of config overrides of a base experiment, run on dask.

    from neurocore.sweep import load_sweep, run_sweep
    res = run_sweep(load_sweep("models/sweeps/fig6_ts.toml"), "runs/sweeps/fig6", workers=2)
    res.csv_path, res.plots

Command line: `neurocore sweep SWEEP.toml [-o DIR] [--workers N] [--scheduler ADDRESS]`.
"""

from .results import ResultsTable
from .run import SweepResult, default_out_dir, run_sweep, start_local_cluster
from .spec import DEFAULT_RUNNER, Point, SweepSpec, apply_overrides, load_sweep, point_id, sweep_from_dict
from .task import RunnerError, resolve_runner, run_task

__all__ = ["ResultsTable", "SweepResult", "default_out_dir", "run_sweep", "start_local_cluster",
           "DEFAULT_RUNNER", "Point", "SweepSpec", "apply_overrides", "load_sweep", "point_id",
           "sweep_from_dict", "RunnerError", "resolve_runner", "run_task"]
