"""`neurocore baseline`: the non-spiking ANN of the same architecture (numpy SGD), as the paper compares."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from ..baseline import add_baseline_arguments

    p = sub.add_parser("baseline", help="train the non-spiking ReLU ANN baseline (784-1280-10, softmax-CE)")
    add_baseline_arguments(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from ..baseline import run_baseline_cli

    return run_baseline_cli(args)
