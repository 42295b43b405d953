"""Errors a user can act on: each names where the problem is and what is allowed."""

from __future__ import annotations


class NeurocoreError(Exception):
    """Base of every error neurocore raises on purpose (the CLI prints these without a traceback)."""


class ConfigError(NeurocoreError, ValueError):
    """A configuration value is missing, unknown or out of range.

    `source` is the file (or "<python>"), `key` the dotted key path.
    """

    def __init__(self, message: str, source: str = "<python>", key: str | None = None):
        self.source = source
        self.key = key
        where = source if key is None else f"{source}: key '{key}'"
        super().__init__(f"{where}: {message}")


class MappingError(NeurocoreError):
    """A netlist does not fit on a chip; the message names the limit, the overflow and what would fit."""


class DataError(NeurocoreError):
    """A dataset file is missing, truncated or malformed."""


class TraceError(NeurocoreError):
    """A trace file is missing, corrupt or not a neurocore trace."""
