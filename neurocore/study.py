"""One design point of a hardware study: train an experiment, test it, cost it.

`run_point(config)` is what `neurocore sweep` calls for every point: it takes a whole
experiment as a nested dict (the base experiment with the point's overrides applied)
and returns flat metrics: accuracy, speed, energy and latency per sample by kind
(training and inference, from the last epoch's results row: energy over every sample,
tick latency from a mesh replay of a few samples), mesh timing of inference, and traffic.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .experiment import experiment_from_dict
from .training import CHECKPOINT, Trainer, load_data


def flat_cost(prefix: str, summary: Mapping) -> dict[str, float]:
    """The numbers of a cost summary as flat metrics: `<prefix><key>`, `<prefix>energy_uj_<kind>`."""
    out: dict[str, float] = {}
    for k, v in summary.items():
        if k == "energy_uj_by_kind":
            out.update({f"{prefix}energy_uj_{kind}": e for kind, e in v.items()})
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[f"{prefix}{k}"] = v
    return out


def run_point(config: Mapping[str, Any], run_dir: str | None = None) -> dict[str, float]:
    """Train and evaluate one experiment config; flat metrics for a results table.

    With `run_dir` (a sweep gives each point its own), the training keeps a run folder there,
    checkpointed after every epoch, and resumes from it when the point is run again."""
    from .cost import sample_cost

    cfg = dict(config)
    cfg["trace"] = {**dict(cfg.get("trace", {})), "enabled": False}  # sweeps keep results, not traces
    exp = experiment_from_dict(cfg, "<sweep point>")
    train_set, test_set = load_data(exp)
    t0 = time.perf_counter()
    tr = Trainer(exp, run_dir)
    if run_dir is not None and (Path(run_dir) / CHECKPOINT).is_file():
        tr.restore(run_dir)
    while tr.epoch < exp.train.epochs:
        tr.train_epoch(train_set, progress=False)
        tr.finish_epoch(test_set, train=train_set)
        tr.save()
        tr.write_results()
    last = tr.results[-1]
    out: dict[str, float] = {
        "accuracy": last["test_acc"], "train_acc": last["train_acc"], "epochs": exp.train.epochs,
        "seconds": time.perf_counter() - t0, "samples_per_s": last["samples_per_s"],
        "cores_used": len(tr.engine.placement.cores_used), "hidden_active": last["hidden_active"],
    }
    for phase, p in (("training", "train_"), ("inference", "infer_")):
        counters, timing = last[f"{p}counters"], tr.last_timing.get(phase)
        out.update(flat_cost(p, last[f"{p}cost"]))
        # the pJ / ns names of earlier sweeps, and the replay's link use (not kept in the run folder:
        # a point resumed after its last epoch has the analytic latency instead)
        out.update(sample_cost(counters, tr.chip, phase, timing).metrics(p))
        if timing is not None:
            out.update(timing.summary(p))
        for key in ("syn_events", "packets", "packet_hops", "spikes", "write_pulses"):
            out[f"{p}{key}_per_sample"] = counters[key] / max(counters["samples"], 1)
    return {k: (float(v) if isinstance(v, (int, float, np.integer, np.floating)) else v) for k, v in out.items()}
