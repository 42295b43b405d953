"""The CPU's cycle counter inside compiled kernels: per-phase timers of a profiled run.

A run profiles itself when its counters carry a `phase_cycles` array (Engine.reset_counters(profile=True));
otherwise `stamp` and `lap` cost one predictable branch. The counter is the time-stamp counter (constant
rate on current x86; `llvm.readcyclecounter`, 0 where a CPU has none): `tsc_hz` converts it to seconds.
"""

from __future__ import annotations

import time

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

#: the phases of a tick (and of a sample's set-up and close), in kernel order
PHASES = ("deliver", "write", "sources", "update", "emit", "sample")
DELIVER, WRITE, SOURCES, UPDATE, EMIT, SAMPLE = range(len(PHASES))


@intrinsic
def cycles(typingctx):
    """The cycle counter now (int64)."""
    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(64), []),
                                            "llvm.readcyclecounter")
        return builder.call(fn, [])
    return types.int64(), codegen


@njit(cache=True, inline="always")
def stamp(phase_cycles) -> int:
    """The counter now when this run is profiled, else 0."""
    return cycles() if phase_cycles.shape[0] else 0


@njit(cache=True, inline="always")
def lap(phase_cycles, phase, since) -> int:
    """Add the cycles since `since` to `phase`; returns the counter now (0 when not profiled)."""
    if phase_cycles.shape[0] == 0:
        return 0
    now = cycles()
    phase_cycles[phase] += now - since
    return now


@njit(cache=True)
def _now() -> int:
    return cycles()


def tsc_hz(seconds: float = 0.05) -> float:
    """The cycle counter's rate, measured against the wall clock."""
    _now()
    t0, c0 = time.perf_counter(), _now()
    while time.perf_counter() - t0 < seconds:
        pass
    t1, c1 = time.perf_counter(), _now()
    return (c1 - c0) / (t1 - t0)
