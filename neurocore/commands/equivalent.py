"""`neurocore equivalent EXPERIMENT`: train the experiment's rate-equivalent ANN with exact
gradients (seconds per epoch), the accuracy ceiling of its hyperparameters."""

from __future__ import annotations

import argparse

from .overrides import add_set_argument, parse_overrides


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("equivalent", help="train an experiment's rate-equivalent ANN (exact gradients, numpy): "
                                          "a fast ceiling for choosing its hyperparameters")
    p.add_argument("experiment", help="experiment TOML (models/experiments/) or its name")
    p.add_argument("--epochs", type=int, help="epochs (default: the experiment's train.epochs)")
    p.add_argument("--batch", type=int, default=16,
                   help="samples whose updates are summed per step (1 = sample by sample, as on the chip)")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    add_set_argument(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    import json

    from ..errors import ConfigError, NeurocoreError
    from ..experiment import load_experiment
    from ..learning.equivalent import train_equivalent
    from ..training import load_data

    exp = load_experiment(args.experiment, parse_overrides(args.set))
    epochs = exp.train.epochs if args.epochs is None else args.epochs
    if epochs < 1 or args.batch < 1:
        raise NeurocoreError(f"--epochs {epochs} --batch {args.batch}: both must be >= 1")
    if exp.train.lr == 0:
        raise ConfigError("train.lr = 0 (the chip's own dw_min): the equivalent network needs train.lr > 0",
                          exp.source, "train.lr")
    train_set, test_set = load_data(exp)
    rows = train_equivalent(exp.net, train_set, test_set, lr=exp.train.lr, epochs=epochs,
                            lr_decay=exp.train.lr_decay, batch=args.batch, seed=exp.seed,
                            log=(lambda s: None) if args.json else print)
    if args.json:
        print(json.dumps({"experiment": exp.name, "epochs": rows}))
    return 0
