"""Tell the user when a call is slow because numba is compiling the kernels.

The compiled kernels are cached on disk (`cache=True`), so only the first run after an install
or a change of the kernel sources compiles them (about 30 s); later runs load them in about a
second. Commands wrap their first engine call in `compile_notice()`, so a user waiting on that
first call is told why, and time that call apart from the samples/s they report.
"""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

MESSAGE = "compiling kernels (first run only)…"


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@contextmanager
def compile_notice(write: Callable[[str], None] | None = None, after: float = 1.5) -> Iterator[None]:
    """Run the block; if it is still running after `after` seconds, `write` MESSAGE once (default: stderr)."""
    timer = threading.Timer(after, write or _stderr, (MESSAGE,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
