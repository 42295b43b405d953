"""Command-line options that commands and benchmarks share, spelt and explained the same way in each
(--chip, --samples, --ticks, --set, --no-progress), and range checks that make a bad flag value a
one-line argparse error (`argument --epochs: -1 is out of range; ...`). The overrides --set
collects are parsed by `neurocore.config.parse_overrides`."""

from __future__ import annotations

import argparse
from typing import Callable


def integer(lo: int | None = None, hi: int | None = None) -> Callable[[str], int]:
    """An argparse `type` accepting integers in [lo, hi]."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer{_range(lo, hi)}") from None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"{value} is out of range; must be an integer{_range(lo, hi)}")
        return value
    parse.__name__ = "integer"
    return parse


def number(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
           hi_open: bool = False) -> Callable[[str], float]:
    """An argparse `type` accepting finite numbers between lo and hi (ends open when asked)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        allowed = _range(lo, hi, lo_open, hi_open)
        if value != value or value in (float("inf"), float("-inf")):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number{allowed}")
        if lo is not None and (value < lo or (lo_open and value == lo)) or \
                hi is not None and (value > hi or (hi_open and value == hi)):
            raise argparse.ArgumentTypeError(f"{value:g} is out of range; must be a number{allowed}")
        return value
    parse.__name__ = "number"
    return parse


def _range(lo, hi, lo_open: bool = False, hi_open: bool = False) -> str:
    if lo is not None and hi is not None:
        return f" in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if lo is not None:
        return f" {'>' if lo_open else '>='} {lo:g}"
    if hi is not None:
        return f" {'<' if hi_open else '<='} {hi:g}"
    return ""


def add_chip(p: argparse.ArgumentParser, default: str) -> None:
    """--chip NAME_OR_FILE: a chip of models/chips/ by name, or a chip TOML file."""
    from .resolve import known

    p.add_argument("--chip", metavar="NAME_OR_FILE",
                   help=f"chip to map onto: a name in models/chips/ ({', '.join(known('chips'))}) or a "
                        f"chip .toml file (default: {default})")


def add_samples(p: argparse.ArgumentParser, default: int | str, what: str = "samples to run") -> None:
    """--samples N."""
    p.add_argument("--samples", type=integer(1), metavar="N",
                   default=default if isinstance(default, int) else None,
                   help=f"{what} (default: {default})")


def add_ticks(p: argparse.ArgumentParser, default: int | str, *aliases: str, dest: str = "ticks") -> None:
    """--ticks T: ticks per sample (an experiment's train.ts)."""
    p.add_argument("--ticks", *aliases, dest=dest, type=integer(1), metavar="T",
                   default=default if isinstance(default, int) else None,
                   help=f"ticks per sample (default: {default})")


def add_no_progress(p: argparse.ArgumentParser, *aliases: str) -> None:
    """--no-progress."""
    p.add_argument("--no-progress", *aliases, dest="no_progress", action="store_true", help="no progress bar")


def add_set_argument(p: argparse.ArgumentParser) -> None:
    """--set KEY=VALUE (repeatable), the one way commands take overrides of an experiment."""
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key of the experiment (or network), repeatable: e.g. --set train.epochs=1 --set "
                        "data.train=2000 --set chip.device.dw_min=0.002; a network's: --set ticks=50 --set "
                        "chip.core.neurons=16 (VALUE is read as TOML: numbers, true/false, "
                        "\"strings\", [lists]; a bare word is a string)")


def add_placement(p: argparse.ArgumentParser) -> None:
    """--placement FILE: a placement TOML file pinning every slice to a core, instead of the strategy."""
    p.add_argument("--placement", metavar="FILE",
                   help="place as this TOML file pins every slice to a core instead of by the strategy (write "
                        "one to edit with `neurocore map ... --placement-out FILE`); checked against the core limits")
