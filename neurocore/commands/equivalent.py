"""`neurocore equivalent EXPERIMENT`: train the experiment's rate-equivalent ANN with exact
gradients (seconds per epoch), the accuracy ceiling of its hyperparameters."""

from __future__ import annotations

import argparse

from ..cliargs import add_set_argument
from ..config import parse_overrides


def register(sub: argparse._SubParsersAction) -> None:
    from ..cliargs import integer

    p = sub.add_parser("equivalent", help="train an experiment's rate-equivalent ANN (exact gradients, numpy): "
                                          "a fast ceiling for choosing its hyperparameters",
                       description="Train the experiment's rate-equivalent ANN: the network SSNN-BP's spike counts "
                                   "approximate (rates in place of spikes, the same weights, learning rate, decay and "
                                   "seed), with exact gradients in numpy, seconds per epoch. Its test accuracy is a "
                                   "ceiling for the spiking run of the same hyperparameters, so a setting can be "
                                   "chosen here before a long training on the chip. Prints one line per epoch.")
    p.add_argument("experiment", help="experiment: a name in models/experiments/ or an experiment .toml file")
    p.add_argument("--epochs", type=integer(1), metavar="N", help="epochs (default: the experiment's train.epochs)")
    p.add_argument("--batch", type=integer(1), default=16, metavar="N",
                   help="samples whose updates are summed per step; 1 = sample by sample, as on the chip "
                        "(default: 16)")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    add_set_argument(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    import json

    from ..errors import ConfigError
    from ..experiment import load_experiment
    from ..methods.ssnn_bp.equivalent import train_equivalent
    from ..methods.ssnn_bp.trainer import load_data

    exp = load_experiment(args.experiment, parse_overrides(args.set))
    epochs = exp.train.epochs if args.epochs is None else args.epochs
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
