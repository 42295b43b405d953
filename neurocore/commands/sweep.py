"""`neurocore sweep SWEEP.toml [-o DIR] [--workers N] [--scheduler ADDRESS]`: run a design-space sweep."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="run a sweep of config overrides on dask (resumable)",
                       description="Run every point of a sweep file on dask.distributed. Finished points are "
                                   "appended to DIR/results.jsonl at once; running again skips them. At the end: "
                                   "DIR/results.csv and one DIR/plot_<key>.png per swept key.")
    from .options import add_no_progress, integer

    p.add_argument("sweep", help="sweep: a name in models/sweeps/ or a sweep .toml file")
    p.add_argument("-o", "--out", metavar="DIR", help="results folder (default: runs/sweeps/<sweep name>)")
    p.add_argument("--workers", type=integer(0), metavar="N",
                   help="worker processes of the embedded LocalCluster (default: one per CPU; 0: run here, "
                        "one point after another)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="connect to a running dask scheduler (e.g. tcp://host:8786) instead of starting one")
    p.add_argument("--no-retry", action="store_true", help="do not re-run points whose last record is an error")
    p.add_argument("--list", action="store_true", help="list the points and their status, run nothing")
    add_no_progress(p)
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    from ..resolve import model_file
    from ..sweep import ResultsTable, default_out_dir, load_sweep, run_sweep

    spec = load_sweep(model_file("sweeps", args.sweep))
    out = args.out or default_out_dir(spec)
    if args.list:
        latest = ResultsTable(f"{out}/results.jsonl").latest()
        points = spec.expand()
        for p in points:
            status = latest.get(p.id, {}).get("status", "todo")
            print(f"{p.id}  {status:<6} {p.label}")
        print(f"{len(points)} points, runner {spec.runner}, results in {out}")
        return 0
    res = run_sweep(spec, out, workers=args.workers, scheduler=args.scheduler, progress=not args.no_progress,
                    retry_failed=not args.no_retry)
    ok = sum(1 for p in res.points if res.records.get(p.id, {}).get("status") == "ok")
    print(f"{spec.name}: {len(res.points)} points, {ok} ok; ran {res.ran} ({res.failed} failed), "
          f"skipped {res.skipped} finished earlier")
    print(f"results: {res.results_path}")
    if res.csv_path:
        print(f"table:   {res.csv_path}")
    for path in res.plots:
        print(f"plot:    {path}")
    return 1 if res.failed else 0
