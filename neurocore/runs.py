"""A training run's folder and what every training method shares in it.

A run folder holds `experiment.toml` (what ran, every default written out), `checkpoint.npz`
(the method's state, the epoch, the position in it and the results so far; written after every
epoch and on Ctrl-C, atomically, never unpickled), `results.json` (one row per epoch) and
`learning_curve.png`. Here: the data of an experiment, the atomic writes, the checkpoint reader
that refuses anything that is not a checkpoint, Ctrl-C held until a batch is done, and the curve.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

import numpy as np

from .data import Dataset, load_dataset, subset
from .errors import ConfigError, NeurocoreError
from .files import write_text

if TYPE_CHECKING:
    from .experiment import Experiment

CHECKPOINT = "checkpoint.npz"
RESULTS = "results.json"
EXPERIMENT = "experiment.toml"


def datasets(exp: "Experiment") -> tuple[Dataset, Dataset]:
    """The training and test sets of an experiment (subsets fixed by the seed), once its method has
    said it can run here (a missing optional library is a one-line error before any data is read)."""
    from .registry import get_method

    get_method(exp.method).check()
    root = exp.data.root or None
    train = load_dataset(exp.data.dataset, "train", root)
    test = load_dataset(exp.data.dataset, "test", root)
    check_sizes(exp, len(train), len(test))
    if exp.data.train and exp.data.train < len(train):
        train = subset(train, exp.data.train, seed=exp.seed)
    if exp.data.test and exp.data.test < len(test):
        test = subset(test, exp.data.test, seed=exp.seed + 1)
    return train, test


def check_sizes(exp: "Experiment", n_train: int, n_test: int) -> None:
    """Refuse data.train or data.test larger than the dataset (never a run that trains on less than its
    experiment.toml says)."""
    for key, want, have in (("data.train", exp.data.train, n_train), ("data.test", exp.data.test, n_test)):
        if want > have:
            raise ConfigError(f"= {want}: dataset '{exp.data.dataset}' has {have} {key[5:]}ing samples; "
                              f"must be 0 (all of them) to {have}", exp.source, key)


def experiment_file(run_dir: str | Path) -> Path:
    """The experiment.toml of a run folder; a NeurocoreError if it is not a run folder."""
    path = Path(run_dir) / EXPERIMENT
    if not path.is_file():
        raise NeurocoreError(f"{Path(run_dir)}: not a run folder (no {EXPERIMENT}); run `neurocore train` first")
    return path


def run_experiment(run_dir: str | Path, overrides: Mapping[str, Any] | None = None) -> "Experiment":
    """The experiment a run folder ran (with dotted `overrides`)."""
    from .experiment import load_experiment

    return load_experiment(experiment_file(run_dir), overrides)


def write_table(path: Path, rows: list[dict]) -> None:
    """Rows of figures (dicts with the same keys) as a CSV file, atomically; lists as their repr."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else [])
    w.writeheader()
    w.writerows(rows)
    write_text(path, buf.getvalue())


def write_experiment(run_dir: str | Path, exp: "Experiment") -> None:
    from .experiment import experiment_text

    write_text(Path(run_dir) / EXPERIMENT, experiment_text(exp), "experiment file")


def save_checkpoint(run_dir: str | Path, arrays: Mapping[str, Any], exp: "Experiment") -> Path:
    """Write the checkpoint atomically (a crash or a full disk mid-write keeps the previous one, and leaves
    no temporary file); returns its path."""
    from .experiment import experiment_text
    from .files import atomic_output

    path = Path(run_dir) / CHECKPOINT
    with atomic_output(path, "checkpoint") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays, experiment=experiment_text(exp))
    return path


def checkpoint_path(path: str | Path) -> Path:
    """The checkpoint file of `path` (a file, or a run folder holding one); a NeurocoreError if there is none."""
    p = Path(path)
    if p.is_dir():
        p = p / CHECKPOINT
    if not p.is_file():
        raise NeurocoreError(f"{p}: no checkpoint here; `neurocore train` writes one after every epoch and on Ctrl-C")
    return p


def check_position(path: str | Path, epoch: int, position: int, n: int) -> None:
    """Refuse to resume a checkpoint whose position lies beyond this experiment's epoch of n samples."""
    if position > n:
        raise NeurocoreError(f"{Path(path) / CHECKPOINT}: the checkpoint stopped at sample {position} of epoch "
                             f"{epoch + 1}, but this experiment's epoch has {n} samples (was data.train changed?)")


def begin(run: Any, exp: "Experiment", run_dir: str | Path | None, n: int, resume: bool,
          log: Callable[[str], None]) -> None:
    """Start a training run (a method's trainer with restore(), epoch, position): with `resume`, from the
    run folder's checkpoint, refused before anything is written if it does not fit an epoch of n samples.
    The folder must have been claimed (`neurocore.runfolder.claim`); `write_experiment` then records it."""
    if resume:
        run.restore(run_dir)
        check_position(run_dir, run.epoch, run.position, n)
        log(f"resumed at epoch {run.epoch + 1}, sample {run.position}")


@contextmanager
def held(run_dir: str | Path | None, exp: "Experiment", resume: bool, overwrite: bool,
         log: Callable[[str], None]) -> Iterator[None]:
    """The run folder claimed for this run (locked, checked; `neurocore.runfolder`) while the block runs."""
    if run_dir is None:
        if resume:
            raise NeurocoreError("--resume needs a run folder")
        yield
        return
    from .runfolder import claim

    created = not Path(run_dir).exists()
    lock = claim(run_dir, exp, resume=resume, overwrite=overwrite, log=log)
    try:
        yield
    finally:
        lock.release()
        if created:  # a run refused before it wrote anything leaves no empty folder behind
            try:
                Path(run_dir).rmdir()
            except OSError:
                pass


def trace_file(exp: "Experiment", run_dir: str | Path | None, epoch: int = 0, position: int = 0) -> Path:
    """Where a run's trace goes: in its run folder (`trace.h5`, or `trace-from-epoch<E>-sample<S>.h5` for a
    run resumed there), so two run folders of one experiment never share a trace; an experiment whose
    [trace] names a folder or file keeps it."""
    sel = exp.trace
    resumed = f"-from-epoch{epoch + 1}-sample{position}" if (epoch or position) else ""
    if run_dir is not None and not sel.folder:
        name = sel.file or "trace.h5"
        if resumed:
            name = f"{Path(name).stem}{resumed}{Path(name).suffix}"
        return Path(run_dir) / name
    return sel.trace_path(f"{exp.name}{resumed}")


def save_interrupted(run: Any, log: Callable[[str], None]) -> None:
    """After Ctrl-C: write the run's checkpoint and results, and say how to continue."""
    where = run.save()
    run.write_results()
    if where is not None:
        log(f"interrupted: checkpoint saved to {where} (epoch {run.epoch + 1}, sample {run.position}); "
            f"continue with --resume")


def write_results(run_dir: str | Path | None, name: str, results: list[dict], title: str) -> None:
    """results.json (atomically) and, with any rows, learning_curve.png titled `title`."""
    if run_dir is None:
        return
    write_text(Path(run_dir) / RESULTS, json.dumps({"experiment": name, "results": results}, indent=1), "results")
    if results:
        plot_learning_curve(results, Path(run_dir) / "learning_curve.png", title)


# -- checkpoints ------------------------------------------------------------------------
_CHECKPOINT_IS = ("a checkpoint is the checkpoint.npz that `neurocore train` writes for the same experiment: "
                  "a numpy .npz archive of the method's state, epoch, position, results, correct, seen, train_seconds")
_CHECKPOINT_COUNTS = ("epoch", "position", "correct", "seen")


def read_checkpoint(path: Path, expected: dict[str, np.ndarray], numbers: tuple[str, ...] = ("train_seconds",),
                    optional_prefix: str | None = None) -> dict:
    """The contents of a checkpoint file, checked against the arrays it must fit (`expected`: name ->
    an array of the dtype and shape it must have). `numbers` are scalars >= 0 it must hold; with
    `optional_prefix`, arrays whose names start with it are read too when present (state that only
    exists once training has begun, such as optimiser buffers; their owner checks them).

    Never unpickles: a file holding Python objects is refused like any other that is not a checkpoint.
    Every way a file can be wrong (empty, truncated, not a zip archive, damaged, keys missing, wrong
    dtypes or shapes) is a NeurocoreError of one line saying which.
    """
    import zipfile
    import zlib

    def bad(what: str) -> NeurocoreError:
        return NeurocoreError(f"{path}: not a usable checkpoint: {what}; {_CHECKPOINT_IS}")

    size = path.stat().st_size
    if size == 0:
        raise bad("the file is empty")
    with path.open("rb") as fh:
        head = fh.read(4)
    if head != b"PK\x03\x04":
        raise bad(f"not a .npz (zip) archive ({size} bytes starting {head!r})")
    names = ("results", *numbers, *_CHECKPOINT_COUNTS, *expected)
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in names if k not in z.files]
            if missing:
                raise bad(f"it has no {', '.join(missing)} (it holds: {', '.join(z.files) or 'nothing'})")
            extra = [k for k in z.files if optional_prefix and k.startswith(optional_prefix) and k not in expected]
            data = {k: z[k] for k in (*names, *extra)}
    except NeurocoreError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc):
            raise bad("it holds Python objects (pickled data), which neurocore never loads") from None
        raise bad(f"damaged ({exc})") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, RuntimeError) as exc:
        raise bad(f"truncated or damaged ({type(exc).__name__}: {exc})") from None
    for k, want in expected.items():
        a = data[k]
        if a.dtype != want.dtype or a.shape != want.shape:
            raise bad(f"'{k}' is {a.dtype} {a.shape}, this experiment needs {want.dtype} {want.shape} "
                      f"(a checkpoint of another experiment or chip?)")
    for k, a in data.items():
        if k in expected or (optional_prefix and k.startswith(optional_prefix)):
            if a.dtype.kind in "fc" and not np.isfinite(a).all():
                bad_n = int(a.size - np.isfinite(a).sum())
                raise bad(f"'{k}' holds {bad_n} of {a.size} values that are NaN or infinite (a run that diverged?)")
    for k in _CHECKPOINT_COUNTS:
        a = data[k]
        if a.shape != () or a.dtype.kind not in "iu" or int(a) < 0:
            raise bad(f"'{k}' = {a.tolist()!r} ({a.dtype}) is not an integer >= 0")
    for k in numbers:
        a = data[k]
        if a.shape != () or a.dtype.kind not in "iuf" or not np.isfinite(a) or float(a) < 0:
            raise bad(f"'{k}' = {a.tolist()!r} ({a.dtype}) is not a number >= 0")
    a = data["results"]
    try:
        results = json.loads(str(a)) if a.shape == () and a.dtype.kind == "U" else None
    except json.JSONDecodeError:
        results = None
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise bad("'results' is not the JSON text of a list of per-epoch rows")
    data["results"] = results
    return data


def deferred_sigint() -> tuple[Callable[[], None], Callable[[], bool]]:
    """Hold Ctrl-C until the current batch is done, so a checkpoint never holds half a batch.

    Returns (restore, pending): `pending()` tells whether Ctrl-C was pressed.
    """
    import signal
    import threading

    flag = {"hit": False}
    if threading.current_thread() is not threading.main_thread():
        return (lambda: None), (lambda: False)
    old = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):  # noqa: ARG001
        if flag["hit"]:  # a second Ctrl-C: stop at once
            raise KeyboardInterrupt
        flag["hit"] = True

    signal.signal(signal.SIGINT, handler)
    return (lambda: signal.signal(signal.SIGINT, old)), (lambda: flag["hit"])


@contextmanager
def epoch_progress(epoch: int, epochs: int, n: int, position: int, progress: bool) -> Iterator[tuple[Any, Callable]]:
    """An epoch's progress bar over its n samples (from `position`), with Ctrl-C held until the current batch
    is done: yields (bar, stop_if_asked); call stop_if_asked() before each batch: it raises KeyboardInterrupt
    once Ctrl-C was pressed."""
    from tqdm.auto import tqdm

    bar = tqdm(total=n, initial=position, disable=not progress, unit="sample", desc=f"epoch {epoch + 1}/{epochs}",
               leave=True, dynamic_ncols=True)
    restore_sigint, pending = deferred_sigint()

    def stop_if_asked() -> None:
        if pending():
            raise KeyboardInterrupt

    try:
        yield bar, stop_if_asked
    finally:
        restore_sigint()
        bar.close()


def plot_learning_curve(results: list[dict], path: Path, title: str) -> None:
    """Train and test accuracy per epoch, and the accuracy on the chip where a row has one."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    ep = [r["epoch"] for r in results]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(ep, [100 * r["train_acc"] for r in results], "o-", label="train (running, in-sample)")
    ax.plot(ep, [100 * r["test_acc"] for r in results], "s-", label="test")
    chip = [(r["epoch"], 100 * r["chip_test_acc"]) for r in results if r.get("chip_test_acc") is not None]
    if chip:
        ax.plot(*zip(*chip), "^--", label="test on the chip")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    from .files import save_figure
    save_figure(fig, path, "learning curve", dpi=120)


def train_quietly(exp: "Experiment", run_dir: str | Path | None, make: Callable[[], Any],
                  epoch: Callable[[Any], None], after: Callable[[Any], None]) -> Any:
    """Train a run to its last epoch without a word (a sweep point): the run folder `run_dir` (if any)
    locked, a checkpoint there resumed (one of other settings refused), `epoch(run)` then a checkpoint
    and the results after each epoch, `after(run)` at the end; returns the run (`make()`, a trainer with
    restore, save, write_results, epoch)."""
    resume = run_dir is not None and (Path(run_dir) / CHECKPOINT).is_file()
    with held(run_dir, exp, resume, False, lambda _: None):
        run = make()
        if resume:
            run.restore(run_dir)
        if run_dir is not None:
            write_experiment(run_dir, exp)
        while run.epoch < exp.train.epochs:
            epoch(run)
            run.save()
            run.write_results()
        after(run)
    return run
