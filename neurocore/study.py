"""One design point of a hardware study: train an experiment, test it, cost it.

`run_point(config)` is what `neurocore sweep` calls for every point: it takes a whole
experiment as a nested dict (the base experiment with the point's overrides applied)
and returns flat metrics: accuracy, speed, energy and latency per sample by kind
(training and inference), mesh tick timing of inference, and traffic.
"""

from __future__ import annotations

import time
from typing import Any, Mapping

import numpy as np

from .experiment import experiment_from_dict
from .training import Trainer, drive_for, load_data

TIMING_SAMPLES = 20  # inference samples replayed on the simpy mesh model


def run_point(config: Mapping[str, Any]) -> dict[str, float]:
    """Train and evaluate one experiment config; flat metrics for a results table."""
    from .cost import cost_metrics

    cfg = dict(config)
    cfg["trace"] = {**dict(cfg.get("trace", {})), "enabled": False}  # sweeps keep results, not traces
    exp = experiment_from_dict(cfg, "<sweep point>")
    train_set, test_set = load_data(exp)
    t0 = time.perf_counter()
    tr = Trainer(exp, None)
    for _ in range(exp.train.epochs):
        tr.train_epoch(train_set, progress=False)
        tr.finish_epoch(test_set)
    last = tr.results[-1]
    out: dict[str, float] = {
        "accuracy": last["test_acc"], "train_acc": last["train_acc"], "epochs": exp.train.epochs,
        "seconds": time.perf_counter() - t0, "samples_per_s": last["samples_per_s"],
        "cores_used": len(tr.engine.placement.cores_used), "hidden_active": last["hidden_active"],
    }
    train_counters = tr.engine.counters()
    out.update(cost_metrics(train_counters, tr.chip, "training", timing=False))
    # inference timing: a few test samples with per-tick traffic, replayed on the mesh
    n = min(TIMING_SAMPLES, len(test_set))
    eng = tr.infer_engine
    eng.reset_counters(exp.train.ts, per_tick=True)
    eng.run(drive_for(exp, test_set.images[:n], None), exp.train.ts, traffic="per_tick")
    infer_counters = eng.counters()
    out.update(cost_metrics(infer_counters, tr.chip, "inference", timing=True))
    for key in ("syn_events", "packets", "packet_hops", "spikes"):
        out[f"infer_{key}_per_sample"] = infer_counters[key] / n
        out[f"train_{key}_per_sample"] = train_counters[key] / max(train_counters["samples"], 1)
    out["train_write_pulses_per_sample"] = train_counters["write_pulses"] / max(train_counters["samples"], 1)
    return {k: (float(v) if isinstance(v, (int, float, np.integer, np.floating)) else v) for k, v in out.items()}
