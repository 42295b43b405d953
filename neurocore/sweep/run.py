"""Run a sweep's points on dask.distributed (or in this process), resumably.

Points already recorded as ok in `<out>/results.jsonl` are skipped; every other point is
submitted, and each finished point is appended to the results file at once. At the end the
results are also written as `<out>/results.csv` and one `<out>/plot_<key>.png` per swept key.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .report import plot_sweep, write_csv
from .results import ResultsTable
from .spec import Point, SweepSpec, load_sweep
from .task import resolve_runner, run_task


@dataclass
class SweepResult:
    """What a sweep run did and where its results are."""

    out_dir: Path
    points: list[Point]
    records: dict[str, dict]          # point id -> its latest record
    ran: int = 0                      # points run this time
    skipped: int = 0                  # points finished by an earlier run
    failed: int = 0                   # points of this run that ended in error
    wall_s: float = 0.0               # time from the first submit to the last result
    csv_path: Path | None = None
    plots: list[Path] = field(default_factory=list)

    @property
    def results_path(self) -> Path:
        return self.out_dir / "results.jsonl"


def default_out_dir(spec: SweepSpec) -> Path:
    """runs/sweeps/<sweep name> under the working directory."""
    return Path("runs") / "sweeps" / spec.name


def run_sweep(sweep: SweepSpec | str | Path, out_dir: str | Path | None = None, *, workers: int | None = None,
              scheduler: str | None = None, client: Any = None, progress: bool = True, report: bool = True,
              retry_failed: bool = True) -> SweepResult:
    """Run the points of `sweep` that have no ok record in `out_dir`; return what happened.

    Where points run: `client` (a dask Client you own); else `scheduler` (address of a running
    dask scheduler); else an embedded LocalCluster of `workers` single-threaded processes
    (default: one per CPU, at most one per point); `workers=0` runs them here, one by one.
    `retry_failed` re-runs points whose last record is an error.
    """
    from ..files import ensure_folder
    from ..runfolder import RunLock

    spec = sweep if isinstance(sweep, SweepSpec) else load_sweep(sweep)
    out = Path(out_dir) if out_dir is not None else default_out_dir(spec)
    table = ResultsTable(out / "results.jsonl")
    points = spec.expand()
    finished = table.finished(retry_failed) if out.is_dir() else set()
    pending = [p for p in points if p.id not in finished]
    result = SweepResult(out, points, {}, skipped=len(points) - len(pending))
    own_client = False
    if pending:
        resolve_runner(spec.runner)  # fail here, clearly, before any cluster starts
        check_points(spec, pending)  # every point's keys and values, before anything is written
        if client is None and scheduler is not None:
            client, own_client = connect(scheduler), True
    try:
        ensure_folder(out, "sweep folder")
        with RunLock(out, "sweep folder", "-o DIR"):  # two sweeps never append to one results file
            return _run_held(spec, out, table, points, pending, result, workers, client, own_client, progress,
                             report)
    finally:
        if own_client and client.status != "closed":
            client.close()


def _run_held(spec: SweepSpec, out: Path, table: ResultsTable, points: list[Point], pending: list[Point],
              result: "SweepResult", workers: int | None, client: Any, own_client: bool, progress: bool,
              report: bool) -> "SweepResult":
    _write_meta(spec, out, len(points))

    from tqdm.auto import tqdm
    bar = tqdm(total=len(points), initial=result.skipped, desc=spec.name, unit="point", disable=not progress,
               dynamic_ncols=True)

    def finish(point: Point, rec: dict) -> None:
        full = {"id": point.id, "status": rec["status"], "overrides": point.overrides, "repeat": point.repeat,
                "seed": point.seed, **{k: v for k, v in rec.items() if k != "status"},
                "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        table.append(full)
        result.ran += 1
        if rec["status"] != "ok":
            result.failed += 1
            bar.write(f"point {point.id} ({point.label}) failed: {rec['error']}")
        bar.update(1)

    try:
        if pending:
            t0 = time.perf_counter()
            if client is None and workers == 0:
                for p in pending:
                    finish(p, run_task(spec.runner, spec.config(p), spec.metrics, point_dir(out, p)))
            else:
                _run_on_dask(spec, out, pending, finish, client, own_client,
                             workers if workers is not None else min(os.cpu_count() or 1, len(pending)))
            result.wall_s = time.perf_counter() - t0
    finally:
        bar.close()
    result.records = table.latest()
    if report:
        result.csv_path = write_csv(spec, points, result.records, out / "results.csv")
        for stale in out.glob("plot_*.png"):  # plots of parameters this sweep no longer has
            stale.unlink()
        result.plots = plot_sweep(spec, points, result.records, out)
    return result


def point_dir(out: Path, point: Point) -> str:
    """The folder a point's runner may keep its run in (checkpoints, results): out/points/<id>."""
    return str((out / "points" / point.id).resolve())


def check_points(spec: SweepSpec, points: list[Point]) -> None:
    """Refuse, in one line naming the sweep file and the point, a point whose experiment is not valid (an unknown
    key, a value out of range, a data size larger than its dataset), before any point runs. Only for the
    experiment runner (`neurocore.study:run_point`); another runner's configs are its own."""
    from ..errors import ConfigError, NeurocoreError
    from ..study import check_point
    from .spec import DEFAULT_RUNNER

    if spec.runner != DEFAULT_RUNNER:
        return
    sizes: dict = {}
    for p in points:
        try:
            check_point(spec.config(p), sizes)
        except ConfigError as exc:
            key = f" key '{exc.key}'" if exc.key else ""
            sep = " " if exc.key and exc.message.startswith("= ") else ": "
            raise ConfigError(f"point {p.id} ({p.label}):{key}{sep}{exc.message}; no point was run",
                              spec.source) from None
        except NeurocoreError as exc:
            raise NeurocoreError(f"{spec.source}: point {p.id} ({p.label}): {exc}; no point was run") from None


def connect(scheduler: str, timeout: float = 10.0) -> Any:
    """A dask Client of the scheduler at `scheduler`; one that cannot be reached is a one-line NeurocoreError."""
    from distributed import Client

    from ..errors import NeurocoreError

    try:
        return Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NeurocoreError(f"--scheduler {scheduler}: cannot reach a dask scheduler there within {timeout:g} s "
                             f"({text}); is it running (`dask scheduler`)?") from None


def _run_on_dask(spec: SweepSpec, out: Path, pending: list[Point], finish, client, own_client: bool,
                 workers: int) -> None:
    from distributed import as_completed

    own_cluster = None
    if client is None:
        own_client = True
        client, own_cluster = start_local_cluster(max(1, workers))
    token = uuid.uuid4().hex[:8]
    futures = {}
    try:
        for p in pending:
            fut = client.submit(run_task, spec.runner, spec.config(p), spec.metrics, point_dir(out, p),
                                key=f"sweep-{spec.name}-{p.id}-{token}", pure=False)
            futures[fut] = p
        for fut in as_completed(futures):
            p = futures[fut]
            if fut.status == "finished":
                rec = fut.result()
            else:  # the worker died (killed, out of memory, crashed in compiled code)
                exc = fut.exception()
                rec = {"status": "error", "error": f"the worker running this point failed: "
                                                   f"{type(exc).__name__}: {exc}", "metrics": {}, "seconds": None}
            finish(p, rec)
            fut.release()
    finally:
        for fut in futures:
            if not fut.done():
                fut.cancel()
        if own_client:
            client.close()
        if own_cluster is not None:
            own_cluster.close()


def start_local_cluster(workers: int):
    """(Client, LocalCluster) of `workers` single-threaded worker processes that can import
    neurocore and whatever this process can import from outside site-packages."""
    import logging
    import signal
    import threading

    from distributed import Client, LocalCluster

    # workers started with SIGINT ignored keep it ignored: Ctrl-C stops the sweep here, which
    # closes the cluster, instead of every worker printing its own KeyboardInterrupt
    main = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        # dashboard_address ":0": dask's HTTP server always starts; a free port, not a clash on 8787
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                               silence_logs=logging.ERROR, env={"PYTHONPATH": os.pathsep.join(_import_paths())})
    finally:
        if main:
            signal.signal(signal.SIGINT, old)
    return Client(cluster), cluster


def _import_paths() -> list[str]:
    root = str(Path(__file__).resolve().parents[2])  # the folder holding the neurocore package
    prefixes = {str(Path(p).resolve()) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    paths = [root]
    for p in sys.path:
        rp = str(Path(p or os.getcwd()).resolve())
        if rp not in paths and Path(rp).is_dir() and not any(rp.startswith(pre) for pre in prefixes):
            paths.append(rp)
    extra = os.environ.get("PYTHONPATH")
    return paths + ([extra] if extra else [])


def _write_meta(spec: SweepSpec, out: Path, n_points: int) -> None:
    meta = {"name": spec.name, "source": spec.source, "base": str(spec.base_path) if spec.base_path else None,
            "runner": spec.runner, "metrics": list(spec.metrics), "grid": spec.grid, "points": spec.points,
            "seeds": list(spec.seeds) if spec.seeds is not None else None, "seed_key": spec.seed_key,
            "n_points": n_points}
    from ..files import write_text

    write_text(out / "sweep.json", json.dumps(meta, indent=2, default=str) + "\n", "sweep description")
