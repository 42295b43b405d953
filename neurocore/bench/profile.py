"""Where a benchmark's time goes: the kernel's phases (cycle counters) and what is left outside it.

`--profile` on `bench engine` and `bench epoch` runs the timed work once more with the engine's
per-phase cycle counters on (neurocore.engine.cycles) and adds, in seconds and as shares of that
run's wall time: deliver (packets arriving, crossbar and kernel reads), write (coincidence writes),
sources (input spikes), update (neuron update, threshold, active sets), emit (spike counting and
queueing), sample (per-sample set-up and counters) and outside (Python around the kernel calls).
"""

from __future__ import annotations

import time
from typing import Callable

from ..engine.cycles import PHASES, tsc_hz


def profiled(engine, work: Callable[[], None]) -> dict:
    """Run `work` (calls of engine.run) with the phase counters on; returns {"profile_<phase>_s": ...,
    "profile_<phase>_share": ...} plus the wall time and the share outside the kernel."""
    hz = tsc_hz()
    engine.reset_counters(profile=True)
    t0 = time.perf_counter()
    work()
    wall = time.perf_counter() - t0
    cycles = engine.counters()["phase_cycles"]
    engine.reset_counters(profile=False)
    out: dict = {"profile_wall_s": wall}
    inside = 0.0
    for phase in PHASES:
        s = cycles[phase] / hz
        inside += s
        out[f"profile_{phase}_s"] = s
        out[f"profile_{phase}_share"] = s / wall
    out["profile_outside_s"] = max(wall - inside, 0.0)
    out["profile_outside_share"] = out["profile_outside_s"] / wall
    return out
