"""`neurocore` command line: parses, calls the library, prints.

Each command lives in `neurocore/commands/<name>.py` with `register(subparsers)`; heavy imports
stay inside the handlers, so `neurocore --help` is quick.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .errors import NeurocoreError

COMMANDS = ("list", "run", "map", "train", "infer", "equivalent", "baseline", "trace", "sweep", "bench", "nir")

DESCRIPTION = ("Simulate a neuromorphic chip (integrate-and-fire cores, an AER mesh router, RPU crossbars that "
               "learn in place) and train SSNN-BP on it.")
EPILOG = ("Models are named or given as files: chips (models/chips/), networks (models/nets/), experiments "
          "(models/experiments/) and sweeps (models/sweeps/); 'neurocore list' shows them. Commands that load an experiment or a network "
          "take --set KEY=VALUE overrides, e.g. --set train.epochs=1 --set data.train=2000, or "
          "--set chip.core.neurons=16. "
          "'neurocore COMMAND --help' shows a command's options.")


class Parser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line: what is wrong, and where to look."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="neurocore", description=DESCRIPTION, epilog=EPILOG)
    from . import __version__
    parser.add_argument("--version", action="version", version=f"neurocore {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f".commands.{name}", __package__).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _exit_if_hdf5_broken(int(args.func(args) or 0))
    except NeurocoreError as exc:
        print(f"neurocore {args.command}: error: {exc}", file=sys.stderr)
        return _exit_if_hdf5_broken(2)
    except BrokenPipeError:  # output piped into `head` and closed: not an error
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"neurocore {args.command}: interrupted", file=sys.stderr)
        return 130


def _exit_if_hdf5_broken(code: int) -> int:
    """End the process at once after HDF5 failed to close a trace on a full disk: freeing its objects at
    exit would crash the interpreter (`neurocore.traces.writer`); the file is already as readable as it
    can be."""
    writer = sys.modules.get("neurocore.traces.writer")
    if writer is not None and getattr(writer, "_BROKEN", None):
        import os
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
