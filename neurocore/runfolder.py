"""A run folder is one run: held by one command at a time, never mixing two runs' files.

`claim(run_dir, exp, resume=..., overwrite=...)` is called by every command that writes a run folder
(train, a sweep point). It

- refuses a path that is a file, or a folder that cannot be created or written, in one line;
- locks the folder (an `fcntl` lock on `run_dir/.lock`, which names the holder's pid and command):
  a second writer gets a one-line error naming the holder; the lock goes with the process, so a
  killed run never leaves the folder locked;
- refuses a used folder (one holding a run's experiment.toml, checkpoint or results) whose run has
  other settings, unless `overwrite`, which first removes the old run's files, so that a run killed
  right after starting never leaves new settings beside old weights;
- with `resume`, refuses settings that change what already ran (listing the keys, old -> new);
  only the keys in `RESUME_FREE` may change (more epochs, test-time batching, the trace).

The settings compared are those of the experiment text the run wrote (`experiment_text`): what the
checkpoint says ran, else the folder's experiment.toml.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .errors import NeurocoreError
from .files import ensure_folder, reason

if TYPE_CHECKING:
    from .experiment import Experiment

LOCK = ".lock"
EXPERIMENT, CHECKPOINT, RESULTS, CURVE = "experiment.toml", "checkpoint.npz", "results.json", "learning_curve.png"
RUN_FILES = (EXPERIMENT, CHECKPOINT, RESULTS, CURVE)
TRACE_GLOB = "trace*.h5"  # the run's traces (`trace_file`)
# settings a resumed run may change: they do not change what already ran
RESUME_FREE = ("train.epochs", "train.eval_batch", "train.eval_threads", "trace.")


def command_line() -> str:
    """This process's command, as a user typed it (`neurocore train digits ...`)."""
    argv = list(sys.argv) or ["python"]
    if argv[0].endswith(("__main__.py", "/neurocore")) or Path(argv[0]).name == "neurocore":
        argv[0] = "neurocore"
    return " ".join(shlex.quote(a) for a in argv)


class RunLock:
    """An exclusive lock on a folder, held from `acquire` to `release` (or the end of the process)."""

    def __init__(self, folder: str | Path, what: str = "run folder", flag: str = "--run-dir"):
        self.folder = Path(folder)
        self.what, self.flag = what, flag
        self.path = self.folder / LOCK
        self.fd: int | None = None

    def acquire(self) -> "RunLock":
        import fcntl

        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise NeurocoreError(f"{self.folder}: cannot write in this {self.what}: {reason(exc)}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise NeurocoreError(f"{self.folder}: the {self.what} is in use by {holder}; wait for it to end, "
                                     f"or give another {self.flag}") from None
            try:  # the lock file may have been removed by its last holder between our open and our lock
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        info = json.dumps({"pid": os.getpid(), "command": command_line(),
                           "since": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())})
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (info + "\n").encode(), 0)
        except OSError as exc:
            os.close(fd)
            raise NeurocoreError(f"{self.folder}: cannot write in this {self.what}: {reason(exc)}") from None
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            self.path.unlink()  # while still holding it: a waiting opener sees another inode and retries
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire() if self.fd is None else self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
        return f"pid {info['pid']} ({info['command']}, since {info['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def settings(text: str) -> dict[str, Any]:
    """An experiment text (TOML) as {dotted key: value}."""
    out: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{prefix}.{k}" if prefix else str(k))
        else:
            out[prefix] = node
    walk(tomllib.loads(text), "")
    return out


def differences(old: str, new: str, free: tuple[str, ...] = ()) -> list[tuple[str, Any, Any]]:
    """(key, old value, new value) of every setting that differs between two experiment texts, except
    keys in (or under, for a prefix ending in '.') `free`."""
    a, b = settings(old), settings(new)
    missing = object()
    out = []
    for k in sorted(set(a) | set(b)):
        if any(k == f or (f.endswith(".") and k.startswith(f)) for f in free):
            continue
        va, vb = a.get(k, missing), b.get(k, missing)
        if va != vb:
            out.append((k, None if va is missing else va, None if vb is missing else vb))
    return out


def _show(diffs: list[tuple[str, Any, Any]], limit: int = 6) -> str:
    from .config import format_value

    def fv(v: Any) -> str:
        return "(unset)" if v is None else format_value(v)
    shown = ", ".join(f"{k} {fv(a)} -> {fv(b)}" for k, a, b in diffs[:limit])
    return shown + (f" and {len(diffs) - limit} more" if len(diffs) > limit else "")


def ran_text(run_dir: Path) -> str | None:
    """The experiment text of what ran in a folder: the checkpoint's, else experiment.toml's, else None."""
    import numpy as np

    ck = run_dir / CHECKPOINT
    if ck.is_file():
        try:
            with np.load(ck, allow_pickle=False) as z:
                if "experiment" in z.files:
                    return str(z["experiment"])
        except Exception:  # a damaged checkpoint is reported by its reader, where it is read
            pass
    exp = run_dir / EXPERIMENT
    if exp.is_file():
        try:
            return exp.read_text()
        except OSError:
            return None
    return None


def used(run_dir: Path) -> bool:
    """Whether a folder holds (part of) a run."""
    return any((run_dir / f).exists() for f in (EXPERIMENT, CHECKPOINT, RESULTS))


def clear(run_dir: Path) -> None:
    """Remove a run's files (not the lock, not files neurocore did not write)."""
    for f in (*RUN_FILES, *(p.name for p in run_dir.glob(TRACE_GLOB))):
        try:
            (run_dir / f).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise NeurocoreError(f"{run_dir / f}: cannot remove the old run's file: {reason(exc)}") from None


def check(run_dir: Path, exp: "Experiment", *, resume: bool, overwrite: bool,
          log: Callable[[str], None] = print) -> None:
    """Refuse to mix runs in a folder (see the module's docstring); with `overwrite`, clear the old run."""
    from .experiment import experiment_text

    if resume and overwrite:
        raise NeurocoreError("--resume continues the run in a folder, --overwrite replaces it: give one of them")
    if not used(run_dir):
        return
    new = experiment_text(exp)
    old = ran_text(run_dir)
    if resume:
        if old is None:
            return  # no checkpoint: its reader says so
        diffs = differences(old, new, RESUME_FREE)
        if diffs:
            raise NeurocoreError(f"{run_dir}: --resume with settings that change what already ran: {_show(diffs)}; "
                                 f"resume with the run's settings, or start over with --overwrite")
        return
    if overwrite:
        clear(run_dir)
        log(f"note: {run_dir} held a run; its files were removed (--overwrite)")
        return
    if old is None:
        raise NeurocoreError(f"{run_dir}: holds files of a run whose settings cannot be read; give --overwrite "
                             "to replace it, or another --run-dir")
    diffs = differences(old, new)
    if diffs:
        name = settings(old).get("name", "?")
        only_free = not differences(old, new, RESUME_FREE)
        hint = "--resume to continue it with these settings, " if only_free else ""
        raise NeurocoreError(f"{run_dir}: holds another run ('{name}', differing in {_show(diffs)}); give "
                             f"{hint}--overwrite to replace it, or another --run-dir")
    clear(run_dir)
    log(f"note: {run_dir} held a run of the same settings; starting over (use --resume to continue it)")


def claim(run_dir: str | Path, exp: "Experiment", *, resume: bool = False, overwrite: bool = False,
          log: Callable[[str], None] = print) -> RunLock:
    """Create and lock a run folder for `exp` and check what it holds (module docstring); returns the held
    lock (release it when the run ends). Nothing in the folder is changed when this refuses."""
    if resume and not Path(run_dir).is_dir():
        raise NeurocoreError(f"{run_dir}: no run folder to resume here; `neurocore train` without --resume starts one")
    folder = ensure_folder(run_dir, "run folder")
    lock = RunLock(folder).acquire()
    try:
        check(folder, exp, resume=resume, overwrite=overwrite, log=log)
    except BaseException:
        lock.release()
        raise
    return lock
