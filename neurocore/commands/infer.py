"""`neurocore infer RUN_DIR`: evaluate a training checkpoint on the test (or train) set, on the chip
(and, for a method that trains off the chip, off it too), with its inference cost."""

from __future__ import annotations

import argparse

from ..cliargs import add_no_progress, add_placement, add_set_argument
from ..config import parse_overrides


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("infer", help="evaluate a training checkpoint on the chip",
                       description="Evaluate the weights of a run folder's checkpoint on the chip's forward "
                                   "network: accuracy and synaptic events, spikes and packets per sample, and the "
                                   "cost per sample. A method that trains off the chip is tested both off the chip "
                                   "and on it (its network mapped on the experiment's chip, or --set chip.name=...).")
    p.add_argument("run_dir", help="run folder written by `neurocore train` (holds experiment.toml and "
                                   "checkpoint.npz)")
    p.add_argument("--split", default="test", choices=("test", "train"), help="which split to evaluate "
                                                                               "(default: test)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--equivalent", action="store_true",
                   help="also evaluate the same weights in the rate-equivalent ANN: a gap between the two is lost "
                        "in spiking inference, a shortfall of both is lost in learning")
    add_placement(p)
    add_set_argument(p)
    add_no_progress(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from ..experiment import load_experiment
    from ..registry import get_method
    from ..runs import experiment_file

    run = Path(args.run_dir)
    path = experiment_file(run)  # not a run folder: said before a bad --set
    overrides = parse_overrides(args.set)
    if args.placement:
        overrides["mapping.placement"] = args.placement
    exp = load_experiment(path, overrides)
    out, text = get_method(exp.method).protocol().infer_report(exp, run, args.split, not args.no_progress,
                                                              args.equivalent)
    print(json.dumps(out) if args.json else text)
    return 0
