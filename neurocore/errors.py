"""Errors a user can act on: each names where the problem is and what is allowed."""

from __future__ import annotations


class NeurocoreError(Exception):
    """Base of every error neurocore raises on purpose (the CLI prints these without a traceback)."""


class ConfigError(NeurocoreError, ValueError):
    """A configuration value is missing, unknown or out of range.

    `source` is the file, flag or override (or "<python>"), `key` the dotted key path and
    `message` what is wrong with it; a message starting with "= value" reads on from the key
    (`file: key 'train.ts' = 0 is out of range; ...`).
    """

    def __init__(self, message: str, source: str = "<python>", key: str | None = None,
                 keys: tuple[str, ...] = ()):
        self.source = source
        self.key = key
        self.keys = tuple(keys) or ((key,) if key is not None else ())  # every key the error is about
        self.message = message
        where = source if key is None else f"{source}: key '{key}'"
        sep = " " if key is not None and message.startswith("= ") else ": "
        super().__init__(f"{where}{sep}{message}")


class MappingError(NeurocoreError):
    """A netlist does not fit on a chip; the message names the limit, the overflow and what would fit."""


class DataError(NeurocoreError):
    """A dataset file is missing, truncated or malformed."""


class TraceError(NeurocoreError):
    """A trace file is missing, corrupt or not a neurocore trace."""
