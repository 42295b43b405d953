"""Spike traces in HDF5: a streamed writer, a reader, and the selection of what to record.

`TraceSelection` is plain config (the `[trace]` table of an experiment); `TraceWriter`
and `open` need h5py, imported only when they are used. Schema: `traces/README.md`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .schema import SCHEMA_VERSION
from .selection import TraceSelection

if TYPE_CHECKING:
    from .reader import Trace
    from .writer import TraceWriter

__all__ = ["SCHEMA_VERSION", "Trace", "TraceSelection", "TraceWriter", "open"]


def open(path: Any) -> "Trace":  # noqa: A001 - mirrors the builtin on purpose
    """Open a trace for reading (see `neurocore.traces.reader.Trace`); TraceError if it is not a readable trace."""
    from .reader import Trace
    return Trace(path)


def __getattr__(name: str) -> Any:
    if name == "TraceWriter":
        from .writer import TraceWriter
        return TraceWriter
    if name == "Trace":
        from .reader import Trace
        return Trace
    raise AttributeError(f"module 'neurocore.traces' has no attribute {name!r}")
