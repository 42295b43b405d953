"""`neurocore sweep SWEEP [-o DIR] [--workers N] [--scheduler ADDRESS] [--set KEY=VALUE]`: run a design-space sweep."""

from __future__ import annotations

import argparse

from ..cliargs import add_set_argument
from ..config import parse_overrides


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="run a sweep of config overrides on dask (resumable)",
                       description="Run every point of a sweep file on dask.distributed. Finished points are "
                                   "appended to DIR/results.jsonl at once; running again skips them. At the end: "
                                   "DIR/results.csv and one DIR/plot_<key>.png per swept key. --set overrides the "
                                   "base experiment of every point (e.g. --set train.epochs=1 --set data.train=2000 "
                                   "for a quick look); the results then go to a folder of their own, "
                                   "runs/sweeps/<sweep name>+set-<hash>.")
    from ..cliargs import add_no_progress, integer

    p.add_argument("sweep", help="sweep: a name in models/sweeps/ or a sweep .toml file")
    p.add_argument("-o", "--out", metavar="DIR", help="results folder (default: runs/sweeps/<sweep name>)")
    p.add_argument("--workers", type=integer(0), metavar="N",
                   help="worker processes of the embedded LocalCluster (default: one per CPU; 0: run here, "
                        "one point after another)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="connect to a running dask scheduler (e.g. tcp://host:8786) instead of starting one")
    add_set_argument(p)
    p.add_argument("--no-retry", action="store_true", help="do not re-run points whose last record is an error")
    p.add_argument("--list", action="store_true", help="list the points and their status, run nothing")
    add_no_progress(p)
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    from ..resolve import model_file
    from ..sweep import ResultsTable, default_out_dir, load_sweep, run_sweep

    spec = load_sweep(model_file("sweeps", args.sweep))
    if args.set:
        spec = _with_base_overrides(spec, parse_overrides(args.set))
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


def _with_base_overrides(spec, overrides: dict):
    """The sweep with --set overrides applied to its base experiment, renamed after them, so that its
    results (matched to points by their own overrides only) never mix with those of the sweep as filed."""
    import dataclasses

    from ..config import name_override
    from ..errors import ConfigError
    from ..sweep.spec import DEFAULT_RUNNER, apply_overrides, point_id

    try:
        base = apply_overrides(spec.base_config, overrides)
        if spec.runner == DEFAULT_RUNNER:  # an experiment runner: check the first point's experiment now
            from ..experiment import experiment_from_dict
            experiment_from_dict(apply_overrides(base, spec.expand()[0].overrides), spec.source)
    except ConfigError as exc:
        raise name_override(exc, overrides) from None
    return dataclasses.replace(spec, base_config=base, name=f"{spec.name}+set-{point_id(overrides)[:6]}")
