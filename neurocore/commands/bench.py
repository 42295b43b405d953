"""`neurocore bench NAME [--json]`: run one benchmark and print its figures."""

from __future__ import annotations

import argparse
import importlib
import json


def register(sub: argparse._SubParsersAction) -> None:
    from ..bench import BENCHMARKS
    p = sub.add_parser("bench", help="run a benchmark and print its figures",
                       description="Run one benchmark and print its figures (--json: one JSON object). Speed "
                                   "figures depend on the machine: compare ratios measured in the same run.")
    bsub = p.add_subparsers(dest="bench", metavar="NAME")
    bsub.required = True
    for name in BENCHMARKS:
        mod = importlib.import_module(f"..bench.{name}", __package__)
        doc = (mod.__doc__ or name).strip()
        bp = bsub.add_parser(name, help=doc.split("\n")[0], description=doc,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
        bp.add_argument("--json", action="store_true", help="print one JSON object of the figures")
        mod.add_arguments(bp)
        bp.set_defaults(func=_runner(mod))


def _runner(mod):
    def run(args: argparse.Namespace) -> int:
        figures = mod.run(args)
        if args.json:
            print(json.dumps(figures))
        else:
            for k, v in figures.items():
                print(f"{k:>28}: {v:.4g}" if isinstance(v, float) else f"{k:>28}: {v}")
        return 0
    return run
