"""Sweep throughput: the same points on 1 and 2 dask workers (speedup, overhead per point).

The points run `neurocore.sweep.testing:cpu_run`, real single-threaded numpy work sized to
`--seconds` per point. Both clusters are started and warmed up (workers import neurocore and
numpy) before any clock starts; the timed section is `run_sweep` from the first submit to the
last result, results-file writes included, CSV and plots left out. The 1- and 2-worker runs
alternate for `--rounds` rounds and the fastest of each counts, so a burst of load from other
processes on a shared machine hurts less; `runner_cpu_fraction_*` below 1 shows such load,
and `speedup_2_workers_cpu_adjusted` estimates the speedup without it (each wall time less the
time its runners spent waiting for a CPU, i.e. runner wall time minus runner CPU time).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--points", type=int, default=8, help="points in the sweep (default 8)")
    parser.add_argument("--seconds", type=float, default=0.6, help="runner CPU time per point (default 0.6 s)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating 1-/2-worker rounds; best counts (default 2)")


def _warm_up(client) -> None:
    def load() -> bool:
        import neurocore.sweep.task  # noqa: F401
        import neurocore.sweep.testing  # noqa: F401
        return True
    client.run(load)
    from ..sweep.testing import cpu_run
    client.gather(client.map(cpu_run, [{"bench": {"iters": 1, "n": 1000, "i": i}} for i in range(4)], pure=False))


def run(args: argparse.Namespace) -> dict:
    from ..sweep import run_sweep, start_local_cluster, sweep_from_dict
    from ..sweep.testing import cpu_run

    # size the work: rounds of cpu_run timed here (CPU time), scaled to the target per point
    n = 200_000
    cpu_run({"bench": {"iters": 1, "n": n}})
    per_iter = min(cpu_run({"bench": {"iters": 2, "n": n}})["cpu_s"] / 2 for _ in range(3))
    iters = max(1, round(args.seconds / per_iter))
    spec = sweep_from_dict({"name": "bench", "runner": "neurocore.sweep.testing:cpu_run",
                            "grid": {"bench.i": list(range(args.points))}},
                           base_config={"bench": {"iters": iters, "n": n}})
    figures: dict = {"points": args.points, "iters_per_point": iters, "load_avg_1min_before": os.getloadavg()[0]}
    best: dict[int, tuple] = {}
    clusters = {}
    try:
        for workers in (1, 2):
            clusters[workers] = start_local_cluster(workers)
            _warm_up(clusters[workers][0])
        with tempfile.TemporaryDirectory(prefix="neurocore-bench-sweep-") as tmp:
            for r in range(max(1, args.rounds)):
                for workers in (1, 2):
                    res = run_sweep(spec, Path(tmp) / f"w{workers}-r{r}", client=clusters[workers][0],
                                    progress=False, report=False)
                    if res.failed:
                        raise RuntimeError(f"bench points failed: {[x.get('error') for x in res.records.values()]}")
                    runner_s = sum(x["seconds"] for x in res.records.values())
                    cpu_s = sum(x["metrics"]["cpu_s"] for x in res.records.values())
                    if workers not in best or res.wall_s < best[workers][0]:
                        best[workers] = (res.wall_s, runner_s, cpu_s)
    finally:
        for client, cluster in reversed(list(clusters.values())):  # last started, first closed: each
            client.close()                                        # restores the log level it found
            cluster.close()
    adjusted = {}
    for workers, (wall, runner_s, cpu_s) in best.items():
        # the wall time had the runners not waited for CPU taken by other processes (an estimate)
        adjusted[workers] = wall - max(runner_s - cpu_s, 0.0) / workers
        figures[f"wall_{workers}_workers_s"] = wall
        figures[f"runner_s_per_point_{workers}_workers"] = runner_s / args.points
        # 1.0 when each worker had a core to itself; lower when other processes took CPU
        figures[f"runner_cpu_fraction_{workers}_workers"] = cpu_s / runner_s
        # wall time per point not spent in the runner: scheduling, transfers, result writes, idle tail
        figures[f"overhead_per_point_{workers}_workers_s"] = (wall * workers - runner_s) / args.points
    figures["speedup_2_workers"] = figures["wall_1_workers_s"] / figures["wall_2_workers_s"]
    figures["speedup_2_workers_cpu_adjusted"] = adjusted[1] / adjusted[2]
    figures["overhead_per_point_s"] = figures["overhead_per_point_1_workers_s"]
    return figures
