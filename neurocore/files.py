"""Atomic file writes that fail as one line.

Every file neurocore writes for a user (checkpoints, results, experiment files, plots, NIR exports)
goes through `atomic_output`: the content is written to a hidden temporary file beside the target,
forced to disk, then renamed over the target in one step. A full disk, a read-only folder or any
other failure leaves the previous file whole, removes the temporary file and raises a
`NeurocoreError` of one line naming the file and the reason (`No space left on device`).
"""

from __future__ import annotations

import errno
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import NeurocoreError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()  # what open() would have given a new file


def reason(exc: BaseException) -> str:
    """The short reason of an OS error (`No space left on device`), else the exception's text."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc)
    for code, name in ((errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system"),
                       (errno.EACCES, "Permission denied"), (errno.EDQUOT, "Disk quota exceeded")):
        if os.strerror(code) in text or f"errno = {code}" in text or f"Errno {code}" in text:
            return name
    return text.splitlines()[0] if text else type(exc).__name__


def ensure_folder(folder: str | Path, what: str = "folder") -> Path:
    """Create `folder` (and its parents) if missing; a path that is a file, or a folder that cannot be
    created, is a NeurocoreError of one line."""
    p = Path(folder)
    for q in (p, *p.parents):
        if q.exists() and not q.is_dir():
            raise NeurocoreError(f"{p}: cannot use it as a {what}: {q} is a file, not a folder")
        if q.exists():
            break
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NeurocoreError(f"{p}: cannot create the {what}: {reason(exc)}") from None
    return p


@contextmanager
def atomic_output(path: str | Path, what: str = "file") -> Iterator[Path]:
    """Yield a temporary path beside `path` (same suffix, so writers that go by it pick the right
    format); when the block ends without error, the file is forced to disk and renamed to `path`.
    Any error removes the temporary file and keeps the previous `path` as it was; OS errors (full disk,
    read-only folder, no permission) become a NeurocoreError naming `path` and `what` it is."""
    path = Path(path)
    ensure_folder(path.parent)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise NeurocoreError(f"{path}: cannot write the {what}: {reason(exc)}") from None
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, _MODE)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        if isinstance(exc, NeurocoreError):
            raise
        if isinstance(exc, OSError) or _is_disk_error(exc):
            raise NeurocoreError(f"{path}: cannot write the {what}: {reason(exc)}; "
                                 f"{'the previous file is kept' if path.exists() else 'nothing was written'}") \
                from None
        raise


def _is_disk_error(exc: BaseException) -> bool:
    """Errors some libraries raise for an OS failure without making them OSErrors (e.g. h5py, PIL)."""
    text = str(exc)
    return any(os.strerror(c) in text for c in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT))


def write_text(path: str | Path, text: str, what: str = "file") -> None:
    """Write `text` to `path` atomically (see `atomic_output`)."""
    with atomic_output(path, what) as tmp:
        tmp.write_text(text)


def write_bytes(path: str | Path, data: bytes, what: str = "file") -> None:
    """Write `data` to `path` atomically (see `atomic_output`)."""
    with atomic_output(path, what) as tmp:
        tmp.write_bytes(data)


def save_figure(fig, path: str | Path, what: str = "plot", **kw) -> Path:
    """Save a matplotlib figure to `path` atomically and close it; an image format matplotlib cannot write
    (told by the suffix) is refused in one line before anything is written."""
    import matplotlib.pyplot as plt

    path = Path(path)
    try:
        kinds = fig.canvas.get_supported_filetypes()
        suffix = path.suffix.lower().lstrip(".")
        if suffix not in kinds:
            raise NeurocoreError(f"{path}: cannot write a {what} as '{path.suffix or '(no suffix)'}'; "
                                 f"give a file ending in one of: {', '.join('.' + k for k in sorted(kinds))}")
        with atomic_output(path, what) as tmp:
            fig.savefig(tmp, format=suffix, **kw)
    finally:
        plt.close(fig)
    return path
