"""One design point of a hardware study: train an experiment, test it, cost it.

`run_point(config)` is what `neurocore sweep` calls for every point: it takes a whole
experiment as a nested dict (the base experiment with the point's overrides applied)
and returns flat metrics: accuracy, speed, energy and latency per sample by kind
(training and inference, from the last epoch's results row: energy over every sample,
tick latency from a mesh replay of a few samples), mesh timing of inference, and traffic.
A method that trains off the chip has the inference metrics only (its network tested on the
chip after training), `accuracy` off the chip and `chip_accuracy` on it.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .experiment import Experiment, experiment_from_dict


def flat_cost(prefix: str, summary: Mapping) -> dict[str, float]:
    """The numbers of a cost summary as flat metrics: `<prefix><key>`, `<prefix>energy_uj_<kind>`."""
    out: dict[str, float] = {}
    for k, v in summary.items():
        if k == "energy_uj_by_kind":
            out.update({f"{prefix}energy_uj_{kind}": e for kind, e in v.items()})
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[f"{prefix}{k}"] = v
    return out


def point_experiment(config: Mapping[str, Any]) -> Experiment:
    """The experiment a sweep point runs: its config with traces off (sweeps keep results, not traces)."""
    cfg = dict(config)
    cfg["trace"] = {**dict(cfg.get("trace", {})), "enabled": False}
    return experiment_from_dict(cfg, "<sweep point>")


def check_point(config: Mapping[str, Any], sizes: dict | None = None) -> Experiment:
    """Everything `run_point` would refuse in a config before it trains: keys, values, a method whose
    library is missing, data sizes beyond the dataset (`sizes` caches the dataset lengths between calls)."""
    from .registry import get_method
    from .runs import check_sizes

    exp = point_experiment(config)
    get_method(exp.method).check()
    sizes = {} if sizes is None else sizes
    key = (exp.data.dataset, exp.data.root)
    if key not in sizes:
        from .data import load_dataset
        root = exp.data.root or None
        sizes[key] = tuple(len(load_dataset(exp.data.dataset, split, root)) for split in ("train", "test"))
    check_sizes(exp, *sizes[key])
    return exp


def run_point(config: Mapping[str, Any], run_dir: str | None = None) -> dict[str, float]:
    """Train and evaluate one experiment config; flat metrics for a results table.

    With `run_dir` (a sweep gives each point its own), the training keeps a run folder there,
    checkpointed after every epoch, and resumes from it when the point is run again."""
    exp = point_experiment(config)
    from .registry import get_method

    out, phases, chip = get_method(exp.method).protocol().study_point(exp, run_dir)
    out.update(_phase_metrics(phases, chip))
    return {k: (float(v) if isinstance(v, (int, float, np.integer, np.floating)) else v) for k, v in out.items()}


def _phase_metrics(phases: list, chip: Any) -> dict[str, float]:
    """Per phase (phase, prefix, counters, cost summary, timing): the cost summary's numbers, the pJ / ns
    names of earlier sweeps, the replay's link use, and traffic per sample."""
    from .cost import sample_cost

    out: dict[str, float] = {}
    for phase, p, counters, summary, timing in phases:
        out.update(flat_cost(p, summary))
        out.update(sample_cost(counters, chip, phase, timing).metrics(p))
        if timing is not None:
            out.update(timing.summary(p))
        for key in ("syn_events", "packets", "packet_hops", "spikes", "write_pulses"):
            out[f"{p}{key}_per_sample"] = counters[key] / max(counters["samples"], 1)
    return out
