"""`neurocore train EXPERIMENT.toml`: SSNN-BP training on the chip, with checkpoints and results."""

from __future__ import annotations

import argparse

from ..cliargs import add_set_argument
from ..config import parse_overrides


def register(sub: argparse._SubParsersAction) -> None:
    from ..cliargs import add_no_progress

    p = sub.add_parser("train", help="train SSNN-BP on the chip from an experiment",
                       description="Train SSNN-BP on the simulated chip. The run folder gets experiment.toml, "
                                   "checkpoint.npz (after every epoch and on Ctrl-C), results.json and "
                                   "learning_curve.png; a trace goes to traces/ when the experiment asks for one. "
                                   "A shipped experiment can take an hour or more: shorten it with e.g. "
                                   "--set train.epochs=1 --set data.train=2000.")
    p.add_argument("experiment", help="experiment: a name in models/experiments/ or an experiment .toml file")
    p.add_argument("--run-dir", metavar="DIR", help="run folder (default: runs/<experiment name>)")
    p.add_argument("--resume", action="store_true", help="continue from the run folder's checkpoint")
    add_no_progress(p)
    add_set_argument(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..experiment import load_experiment
    from ..training import train

    exp = load_experiment(args.experiment, parse_overrides(args.set))
    run_dir = Path(args.run_dir or Path("runs") / exp.name)
    if not args.resume and (run_dir / "checkpoint.npz").exists():
        print(f"note: {run_dir} already holds a checkpoint; starting over (use --resume to continue)")
    print(f"training '{exp.name}': {exp.data.dataset}, {'-'.join(map(str, exp.net.layers))}, Ts = {exp.train.ts}, "
          f"{exp.train.update} updates, chip {exp.chip.name}; run folder {run_dir}")
    results = train(exp, run_dir, resume=args.resume, progress=not args.no_progress)
    if results:
        last = results[-1]
        print(f"done: test accuracy {100 * last['test_acc']:.2f} % after {last['epoch']} epochs; "
              f"results in {run_dir / 'results.json'}, curve in {run_dir / 'learning_curve.png'}")
    return 0
