"""`neurocore` command line: parses, calls the library, prints. Each command lives in
`neurocore/commands/<name>.py` with `register(subparsers)`; heavy imports stay inside handlers."""

from __future__ import annotations

import argparse
import importlib
import sys

from .errors import NeurocoreError

COMMANDS = ("run", "map", "train", "infer", "equivalent", "baseline", "trace", "sweep", "bench", "nir")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neurocore", description=__doc__.split("\n")[0])
    from . import __version__
    parser.add_argument("--version", action="version", version=f"neurocore {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f".commands.{name}", __package__)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.endswith(f"commands.{name}"):
                continue  # command not built yet
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except NeurocoreError as exc:
        print(f"neurocore {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed: not an error
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"neurocore {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
