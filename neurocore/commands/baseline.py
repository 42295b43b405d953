"""`neurocore baseline`: the non-spiking ANN of the same architecture (numpy SGD), as the paper compares."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from ..cliargs import add_no_progress, integer, number

    p = sub.add_parser("baseline", help="train the non-spiking ReLU ANN baseline (784-1280-10, softmax-CE)",
                       description="Train the paper's non-spiking baseline: inputs-hidden (ReLU)-classes, softmax "
                                   "cross-entropy, inverted dropout, He initialisation, minibatch SGD in numpy. "
                                   "The learning rate of epoch e (from 1) is lr * lr_decay ** (e - 1).")
    p.add_argument("--data", default="mnist-5k", metavar="NAME", help="dataset: fashion-mnist, mnist-5k, digits, mnist, "
                   "emnist-balanced or idx:FOLDER (default: mnist-5k)")
    p.add_argument("--root", default=None, metavar="DIR", help="folder of the dataset's IDX files (needed for "
                   "mnist and emnist-balanced; default: the dataset's own)")
    p.add_argument("--train-subset", type=integer(1), default=None, metavar="N",
                   help="train on a stratified subset of N samples, as --set data.train=N (default: the whole "
                        "training set)")
    p.add_argument("--hidden", type=integer(1), default=1280, metavar="N", help="hidden neurons (default: 1280)")
    p.add_argument("--epochs", type=integer(1), default=20, metavar="N", help="passes over the training set "
                                                                              "(default: 20)")
    p.add_argument("--lr", type=number(0, lo_open=True), metavar="X", default=0.2, help="learning rate (default: 0.2)")
    p.add_argument("--batch", type=integer(1), default=32, metavar="N", help="samples per SGD step (default: 32)")
    p.add_argument("--momentum", type=number(0, 1, hi_open=True), metavar="X", default=0.0,
                   help="SGD momentum, 0 = none (default: 0)")
    p.add_argument("--lr-decay", type=number(0, 1, lo_open=True), metavar="X", default=0.9,
                   help="learning rate factor per epoch (default: 0.9)")
    p.add_argument("--dropout-in", type=number(0, 1, hi_open=True), metavar="X", default=0.2,
                   help="dropout of the input layer (default: 0.2, as the paper)")
    p.add_argument("--dropout-hidden", type=number(0, 1, hi_open=True), metavar="X", default=0.3,
                   help="dropout of the hidden layer (default: 0.3, as the paper)")
    p.add_argument("--seed", type=integer(0), default=0, metavar="N", help="seed of the initial weights, order and dropout "
                                                              "(default: 0)")
    p.add_argument("-o", "--output", "--out", dest="output", default=None, metavar="FILE",
                   help="also write the results (without weights) as JSON to FILE")
    p.add_argument("--json", action="store_true", help="print the results (without weights) as one JSON object")
    add_no_progress(p, "--quiet")
    from ..cliargs import add_set_argument
    add_set_argument(p)
    p.set_defaults(func=main)


# --set KEY of an experiment -> the flag it stands for here, and the kind of value it takes
SET_KEYS = {"data.dataset": ("data", str), "data.train": ("train_subset", int), "data.test": ("test_subset", int),
            "train.epochs": ("epochs", int), "train.lr": ("lr", float), "train.batch": ("batch", int),
            "seed": ("seed", int)}


def apply_set(args: argparse.Namespace) -> None:
    """Take an experiment's spelling of the same settings (--set data.train=6000 --set train.epochs=1)."""
    from ..config import parse_overrides
    from ..errors import ConfigError
    from ..words import plural

    args.test_subset = None
    for key, value in parse_overrides(args.set).items():
        if key not in SET_KEYS:
            raise ConfigError(f"the baseline takes {', '.join(SET_KEYS)}", f"--set {key}")
        dest, kind = SET_KEYS[key]
        ok = isinstance(value, str) if kind is str else (
            isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
            and (kind is float or float(value).is_integer()))
        if not ok:
            what = "a dataset name" if kind is str else f"a positive {'number' if kind is float else 'integer'}"
            raise ConfigError(f"= {value!r}: must be {what}", f"--set {key}={value}", key)
        setattr(args, dest, kind(value))


def main(args: argparse.Namespace) -> int:
    """Load the data named in `args`, train the baseline, print (and optionally save) the results."""
    import json
    from pathlib import Path

    from ..baseline import train_baseline
    from ..data.datasets import load_dataset, subset
    from ..words import plural

    apply_set(args)
    train = load_dataset(args.data, "train", args.root)
    test = load_dataset(args.data, "test", args.root)
    if args.train_subset:
        train = subset(train, args.train_subset, seed=args.seed)
    if args.test_subset:
        test = subset(test, args.test_subset, seed=args.seed)
    res = train_baseline(train, test, hidden=args.hidden, epochs=args.epochs, lr=args.lr, batch=args.batch,
                         dropout_in=args.dropout_in, dropout_hidden=args.dropout_hidden, seed=args.seed,
                         momentum=args.momentum, lr_decay=args.lr_decay,
                         progress=not (args.no_progress or args.json))
    res.pop("weights")
    if args.output:
        from ..files import write_text  # atomic: a full disk leaves no temporary file

        write_text(Path(args.output), json.dumps(res, indent=1), "results")
    if args.json:
        print(json.dumps(res))
    else:
        print(f"{train.name}: {len(train)} train / {len(test)} test, {plural(args.epochs, 'epoch')}, "
              f"test accuracy {100 * res['test_acc']:.2f} % (best {100 * res['best_test_acc']:.2f} %), "
              f"{res['seconds']:.1f} s")
    return 0
