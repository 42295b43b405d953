"""The results table of a sweep: a JSON-lines file, one line per finished point.

Each line is appended, flushed and fsynced as soon as its point finishes, so a sweep that
is killed loses at most the points still running. A line cut short by a kill is skipped on
reading; a point that appears more than once (re-run after an error) counts by its last line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator


class ResultsTable:
    """Append-only JSON-lines file of point records (dicts with at least `id` and `status`)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.skipped_lines = 0

    def records(self) -> Iterator[dict]:
        """Every readable record in file order (unreadable lines are counted in `skipped_lines`)."""
        self.skipped_lines = 0
        if not self.path.is_file():
            return
        with self.path.open("r", encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    self.skipped_lines += 1
                    continue
                if isinstance(rec, dict) and "id" in rec and "status" in rec:
                    yield rec
                else:
                    self.skipped_lines += 1

    def latest(self) -> dict[str, dict]:
        """The last record of each point id."""
        return {rec["id"]: rec for rec in self.records()}

    def finished(self, retry_failed: bool = True) -> set[str]:
        """Ids of points not to run again: those that ended ok (and, unless `retry_failed`, in error)."""
        return {i for i, rec in self.latest().items() if rec["status"] == "ok" or not retry_failed}

    def append(self, record: dict) -> None:
        """Write one record as a line and force it to disk."""
        line = json.dumps(record, default=_jsonable, allow_nan=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+b") as fh:
            fh.seek(0, os.SEEK_END)
            if fh.tell() > 0:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":  # a line cut short by a kill: end it so it stays apart
                    fh.write(b"\n")
            fh.write(line.encode("utf-8") + b"\n")
            fh.flush()
            os.fsync(fh.fileno())


def _jsonable(obj):
    """numpy scalars and arrays, paths and anything else -> JSON-friendly values."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    return str(obj)
