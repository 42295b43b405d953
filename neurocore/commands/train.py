"""`neurocore train EXPERIMENT.toml`: train an experiment's method (SSNN-BP on the chip, or off the chip
and then tested on it), with checkpoints and results."""

from __future__ import annotations

import argparse

from ..cliargs import add_set_argument
from ..config import parse_overrides


def register(sub: argparse._SubParsersAction) -> None:
    from ..cliargs import add_no_progress, add_placement

    p = sub.add_parser("train", help="train an experiment (SSNN-BP on the chip, or another method off it)",
                       description="Train the experiment's method: SSNN-BP on the simulated chip (method = "
                                   "\"ssnn-bp\", the default), or a method that trains off the chip (method = "
                                   "\"lee2020\" or \"bats\"), whose network is then mapped on the experiment's chip and tested "
                                   "there after every epoch. The run folder gets experiment.toml, "
                                   "checkpoint.npz (after every epoch and on Ctrl-C), results.json and "
                                   "learning_curve.png, and trace.h5 when the experiment asks for a trace. "
                                   "A run folder holds one run: it is locked while a command writes it, "
                                   "another run's folder is refused "
                                   "unless --overwrite, and --resume refuses settings that change what ran. "
                                   "A shipped experiment can take an hour or more: shorten it with e.g. "
                                   "--set train.epochs=1 --set data.train=2000.")
    p.add_argument("experiment", help="experiment: a name in models/experiments/ or an experiment .toml file")
    p.add_argument("--run-dir", metavar="DIR", help="run folder (default: runs/<experiment name>)")
    p.add_argument("--resume", action="store_true", help="continue from the run folder's checkpoint (settings that "
                                                         "change what already ran are refused)")
    p.add_argument("--overwrite", action="store_true", help="replace a run folder that holds another run "
                                                            "(refused without it)")
    add_no_progress(p)
    add_placement(p)
    add_set_argument(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..experiment import load_experiment
    from ..words import plural

    from ..config import name_override
    from ..errors import ConfigError

    overrides = parse_overrides(args.set)
    if args.placement:  # kept in the run folder's experiment.toml, so `infer` and --resume place the same way
        overrides["mapping.placement"] = str(Path(args.placement).resolve())
    exp = load_experiment(args.experiment, overrides)
    run_dir = Path(args.run_dir or Path("runs") / exp.name)
    from ..registry import get_method

    method = get_method(exp.method).protocol()
    print(f"{method.describe(exp)}; run folder {run_dir}")
    try:
        results = method.train(exp, run_dir, resume=args.resume, overwrite=args.overwrite, progress=not args.no_progress)
    except ConfigError as exc:  # a value found wrong only against the data (data.train) names its --set
        raise name_override(exc, overrides) from None
    if results:
        last = results[-1]
        chip = f", {100 * last['chip_test_acc']:.2f} % on the chip" if "chip_test_acc" in last else ""
        print(f"done: test accuracy {100 * last['test_acc']:.2f} %{chip} after {plural(last['epoch'], 'epoch')}; "
              f"results in {run_dir / 'results.json'}, curve in {run_dir / 'learning_curve.png'}")
    return 0
