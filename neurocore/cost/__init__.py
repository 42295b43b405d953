"""Cost model: energy and latency per sample from a run's counters; simpy mesh timing.

    from neurocore.cost import sample_cost, cost_table, replay
    infer = sample_cost(counters, chip, "inference")          # energy, latency, breakdowns
    print(cost_table(infer))
    timing = replay(chip, counters)                           # per-tick latency on the mesh
    timing.summary()                                          # tick_ns_mean, missed_ticks, link_util_max...
"""

from .counters import PER_CORE, PER_TICK, TOTALS, check_counters, core_compute_ns
from .energy import KINDS, OPS, OpLine, SampleCost, cost_table, sample_cost
from .mesh import link_loads, links, route
from .timing import TimingResult, replay, replay_traffic

__all__ = ["TOTALS", "PER_CORE", "PER_TICK", "check_counters", "core_compute_ns", "KINDS", "OPS",
           "OpLine", "SampleCost", "cost_table", "sample_cost", "link_loads", "links", "route",
           "TimingResult", "replay", "replay_traffic", "cost_metrics"]


def cost_metrics(counters, chip, phase: str = "inference", timing: bool = True,
                 prefix: str | None = None) -> dict:
    """Flat metrics of one run for a results table: energy/latency per sample by kind, and,
    with `timing`, the mesh replay's tick latency, misses and link utilisation."""
    t = replay(chip, counters) if timing else None
    cost = sample_cost(counters, chip, phase, timing=t)
    p = ({"inference": "infer_", "training": "train_"}[phase] if prefix is None else prefix)
    out = cost.metrics(p)
    if t is not None:
        out.update(t.summary(p))
    return out
