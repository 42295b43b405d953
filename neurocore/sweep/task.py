"""What runs on a worker: resolve the runner by its 'module:function' path, run one point.

Imported by dask workers, so it stays light (no dask, no plotting).
"""

from __future__ import annotations

import copy
import importlib
import os
import socket
import time
import traceback
from typing import Any, Callable, Mapping, Sequence

from ..errors import NeurocoreError
from .spec import DEFAULT_RUNNER


class RunnerError(NeurocoreError, ImportError):
    """The sweep's runner ('module:function') cannot be imported or is not a function."""


def resolve_runner(path: str) -> Callable[[dict], Mapping]:
    """The function named by 'module:function'; a RunnerError says why it cannot be had."""
    mod_name, _, fn_name = path.partition(":")
    try:
        mod = importlib.import_module(mod_name)
    except ImportError as exc:
        hint = ""
        if path == DEFAULT_RUNNER:
            hint = (" The experiment entry point neurocore.study:run_point could not be imported (a broken "
                    "installation?). To sweep something else, set runner = \"module:function\" in the sweep "
                    "file, e.g. the stand-in runner = \"neurocore.sweep.testing:fake_run\".")
        raise RunnerError(f"cannot import the sweep runner '{path}': {type(exc).__name__}: {exc}.{hint}") from exc
    fn = getattr(mod, fn_name, None)
    if fn is None:
        raise RunnerError(f"the sweep runner '{path}': module {mod_name} has no '{fn_name}'")
    if not callable(fn):
        raise RunnerError(f"the sweep runner '{path}' is a {type(fn).__name__}, not a function")
    return fn


def run_task(runner: str, config: dict, metrics: Sequence[str] = (), run_dir: str | None = None) -> dict:
    """Run one point: call the runner on `config`; never raises, returns a result record.

    A runner with a `run_dir` parameter gets the point's own folder, where it may keep a
    checkpoint so that a sweep run again resumes the point instead of starting it over.

    Record: status ("ok" or "error"), error (text or None), traceback, metrics (the listed
    ones, or every scalar returned), missing (listed metrics the runner did not return),
    seconds (the runner's own time), host, pid.
    """
    rec: dict[str, Any] = {"status": "ok", "error": None, "metrics": {}, "seconds": 0.0,
                           "host": socket.gethostname(), "pid": os.getpid()}
    t0 = time.perf_counter()
    try:
        fn = resolve_runner(runner)
        kw = {"run_dir": run_dir} if run_dir is not None and _takes_run_dir(fn) else {}
        t0 = time.perf_counter()
        out = fn(copy.deepcopy(config), **kw)
        rec["seconds"] = time.perf_counter() - t0
        if not isinstance(out, Mapping):
            raise TypeError(f"the runner '{runner}' returned a {type(out).__name__}; it must return a dict "
                            "of metrics")
        rec["metrics"] = select_metrics(out, metrics)
        missing = [m for m in metrics if m not in out]
        if missing:
            rec["missing"] = missing
    except Exception as exc:  # a failed point is data, not a crash of the sweep
        rec["seconds"] = time.perf_counter() - t0
        rec.update(status="error", error=f"{type(exc).__name__}: {exc}",
                   traceback="".join(traceback.format_exc().splitlines(keepends=True)[-30:]))
    return rec


def _takes_run_dir(fn: Callable) -> bool:
    import inspect

    try:
        return "run_dir" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def select_metrics(out: Mapping, metrics: Sequence[str] = ()) -> dict:
    """The listed metrics of a runner's result, or all its scalars; numpy values made plain."""
    keys = [m for m in metrics if m in out] if metrics else list(out)
    sel = {}
    for k in keys:
        v = _plain(out[k])
        if metrics or isinstance(v, (int, float, str, bool)) or v is None:
            sel[k] = v
    return sel


def _plain(v: Any) -> Any:
    if hasattr(v, "ndim") and getattr(v, "ndim") == 0 and hasattr(v, "item"):
        return v.item()
    if hasattr(v, "tolist"):
        return v.tolist()
    return v
