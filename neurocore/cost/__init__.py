"""Cost model: energy and latency per sample from a run's counters; simpy mesh timing.

    from neurocore.cost import cost_record, cost_summary, format_summary, replay_samples
    record = cost_record(engine.counters(), engine.placement)  # what results.json keeps
    timing = replay_samples(chip, per_sample_counters)         # tick latency of a few samples
    summary = cost_summary(record, chip, "inference", timing)  # uJ per sample by kind, tick latency
    print(format_summary(summary))

`sample_cost` gives the same as a `SampleCost` (with `cost_table`, and `metrics` for sweeps);
`neurocore.cost.ops` says what each operation costs on a digital and on an analogue core.
"""

from .counters import (PER_CORE, PER_TICK, PER_TILE, RECORD, TILE_SHAPES, TOTALS, as_arrays, check_counters,
                       cost_record, tile_shapes)
from .energy import SampleCost, cost_summary, cost_table, format_summary, sample_cost
from .mesh import link_loads, links, route
from .ops import KINDS, OpLine, core_compute_ns, core_time, energy_lines
from .per_tick import tick_costs
from .timing import TIMING_SAMPLES, TimingResult, replay, replay_samples, replay_traffic

__all__ = ["TOTALS", "PER_CORE", "PER_TILE", "PER_TICK", "TILE_SHAPES", "RECORD", "as_arrays", "check_counters",
           "cost_record", "tile_shapes", "KINDS", "OpLine", "core_compute_ns", "core_time", "energy_lines",
           "SampleCost", "cost_summary", "cost_table", "format_summary", "sample_cost", "link_loads", "links",
           "route", "tick_costs", "TIMING_SAMPLES", "TimingResult", "replay", "replay_samples", "replay_traffic", "cost_metrics"]


def cost_metrics(counters, chip, phase: str = "inference", timing: bool = True,
                 prefix: str | None = None) -> dict:
    """Flat metrics of one run for a sweep's results table: energy/latency per sample by kind
    (pJ, ns), and, with `timing`, the mesh replay's tick latency, misses and link utilisation."""
    t = replay(chip, counters) if timing else None
    cost = sample_cost(counters, chip, phase, timing=t)
    p = ({"inference": "infer_", "training": "train_"}[phase] if prefix is None else prefix)
    out = cost.metrics(p)
    if t is not None:
        out.update(t.summary(p))
    return out
