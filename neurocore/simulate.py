"""The one way a command, a trainer or a deployment simulates samples on the chip.

- `warm_up`: the first engine call, inside `compile_notice` (a call that compiles the kernels says
  so on stderr), kept out of every timed call;
- `simulate`: the batch in one engine call, then the latency replay of its first samples; or, with
  a trace file, every sample alone into the recorder (`neurocore.recording`), the first ones also
  replayed; then the cost summary (energy from every sample, tick latency from the replay);
- `latency_replay`: the first samples (`TIMING_SAMPLES`), each run alone with per-tick counters,
  replayed on the mesh (`neurocore.cost.replay_samples`);
- `predictions`: a class per sample from output spike counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:
    from .chip import Chip
    from .cost import TimingResult
    from .engine import Engine, RunResult

#: run(sample, **engine keywords) -> RunResult: the whole batch (sample None) or one sample alone;
#: the keywords are the engine's (sample_ids, traffic, record, probes)
RunSamples = Callable[..., "RunResult"]


def warm_up(first_call: Callable[[], Any], quiet: bool = False) -> None:
    """Make the first engine call (it may compile the kernels: said on stderr unless `quiet`)."""
    from .compile_notice import compile_notice  # looked up per call (tests stand in a slow one)

    with compile_notice((lambda _: None) if quiet else None):
        first_call()


def latency_replay(run_one: Callable[[int], "RunResult"], samples: int, chip: "Chip", placement: Any,
                   n: int | None = None) -> "TimingResult":
    """Tick latency of the first `n` samples (default TIMING_SAMPLES) of `samples`: `run_one(i)` runs
    sample i alone with per-tick counters; each is replayed on the mesh and their ticks joined."""
    from .cost import TIMING_SAMPLES, replay_samples, tile_shapes

    n = min(TIMING_SAMPLES if n is None else n, samples)
    shapes = tile_shapes(placement)
    return replay_samples(chip, [run_one(i).counters | shapes for i in range(n)])


@dataclass
class Simulation:
    """What `simulate` gives: the counters of every sample, the batch's result (None with a trace:
    each sample went to `on_sample`), the latency replay, and the cost summary of inference."""

    counters: dict
    batch: "RunResult | None"
    timing: "TimingResult"
    cost: dict


def simulate(engine: "Engine", chip: "Chip", samples: int, ticks: int, run: RunSamples, *,
             trace: str | None = None, meta: dict | None = None,
             on_sample: Callable[[int, "RunResult"], None] | None = None) -> Simulation:
    """Run `samples` samples on `engine`: the batch and the latency replay of its first samples, or with
    `trace` (an HDF5 file; `meta` its run attributes) one sample per call, so each sample's traffic is
    its own, every one recorded (`on_sample(s, result)` after each). `ticks`: ticks per sample."""
    from .cost import TIMING_SAMPLES, cost_record, cost_summary, replay_samples, tile_shapes

    batch = None
    if not trace:
        batch = run(None)
        c = batch.counters
        timing = latency_replay(lambda s: run(s, sample_ids=[s], traffic="per_tick"), samples, chip,
                                engine.placement)
    else:
        from .recording import Recorder
        from .traces import TraceSelection

        shapes = tile_shapes(engine.placement)
        timed = []  # per-tick counters of the first samples, for the mesh replay
        rec = Recorder(engine, TraceSelection(enabled=True, traffic="per_tick"), trace, meta or {})
        try:
            engine.reset_counters(ticks, per_tick=True)
            for s in range(samples):
                res = run(s, sample_ids=[s], record=True, probes=True, traffic="per_tick")
                rec.record(s, res)
                if s < TIMING_SAMPLES:
                    timed.append(res.counters | shapes)
                if on_sample is not None:
                    on_sample(s, res)
            c = engine.counters()
            rec.counters("run", c)
        finally:
            rec.close()
        timing = replay_samples(chip, timed)
    # energy from every sample, tick latency from the mesh replay of the first TIMING_SAMPLES
    return Simulation(c, batch, timing, cost_summary(cost_record(c, engine.placement), chip, "inference", timing))


def predictions(counts: np.ndarray) -> np.ndarray:
    """Argmax of output spike counts; a silent output is no answer (-1)."""
    pred = counts.argmax(axis=1)
    pred[counts.max(axis=1) == 0] = -1
    return pred
