"""The method protocol of SSNN-BP (see `neurocore.methods`): what `train`, `infer`, `map`,
`nir export` and a sweep point do with an experiment that learns on the chip."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .export import export  # noqa: F401  (the protocol's)
from .trainer import Trainer, load_data, train  # noqa: F401  (train is the protocol's)

if TYPE_CHECKING:
    from ...experiment import Experiment
    from ...mapping import Placement


def describe(exp: "Experiment") -> str:
    """What trains, in one line (the run folder follows it)."""
    return (f"training '{exp.name}': {exp.data.dataset}, {'-'.join(map(str, exp.net.layers))}, "
            f"Ts = {exp.train.ts}, {exp.train.update} updates, chip {exp.chip.name}")


def infer_report(exp: "Experiment", run: Path, split: str, progress: bool, equivalent: bool) -> tuple[dict, str]:
    """The checkpoint of a run evaluated on the chip: the figures, and their text for a terminal."""
    from ...cost import cost_record, cost_summary, format_summary

    train_set, test_set = load_data(exp)
    tr = Trainer(exp, run)
    tr.restore(run)
    tr.warm_up()  # a compiling first call says so on stderr, also under --json
    data = test_set if split == "test" else train_set
    acc, counters = tr.evaluate(data, progress=progress)  # the bar goes to stderr
    out = {"run": str(run), "epoch": tr.epoch, "split": split, "samples": len(data), "accuracy": acc,
           "syn_events_per_sample": counters["syn_events"] / len(data),
           "spikes_per_sample": counters["spikes"] / len(data),
           "packets_per_sample": counters["packets"] / len(data)}
    # energy from every evaluated sample, tick latency from a mesh replay of the first few
    cost = cost_summary(cost_record(counters, tr.infer_engine.placement), tr.chip, "inference",
                        tr.timing(data, "inference"))
    out.update(cost)
    if equivalent:
        from .equivalent import accuracy
        from .netlist import weight_names
        out["equivalent_accuracy"] = accuracy(exp.net, [tr.engine.weights(n) for n in weight_names(exp.net)], data)
    text = (f"{run} (after epoch {tr.epoch}): {split} accuracy {100 * acc:.2f} % on {len(data)} samples; "
            f"per sample {out['syn_events_per_sample']:.0f} synaptic events, {out['spikes_per_sample']:.0f} "
            f"spikes, {out['packets_per_sample']:.0f} packets\n" + format_summary(cost))
    if equivalent:
        text += f"\nrate-equivalent ANN with the same weights: {100 * out['equivalent_accuracy']:.2f} %"
    return out, text


def placement(exp: "Experiment", chip: Any, strategy: str) -> "Placement":
    """The training netlist, with its seed's initial weights, placed on `chip`."""
    from ...mapping import place
    from .netlist import build_ssnn, init_weights

    net = build_ssnn(exp.net, exp.train.ts, init_weights(exp.net, np.random.default_rng(exp.seed)))
    return place(net, chip, strategy, given=exp.mapping.placement or None)


def study_point(exp: "Experiment", run_dir: str | None) -> tuple[dict, list, Any]:
    """One sweep point: train (resuming a checkpoint in `run_dir`), then the figures per phase."""
    from ... import runs

    train_set, test_set = load_data(exp)
    t0 = time.perf_counter()

    def epoch(tr: Trainer) -> None:
        tr.train_epoch(train_set, progress=False)
        tr.finish_epoch(test_set, train=train_set)

    def after(tr: Trainer) -> None:
        if not tr.last_timing:  # resumed after its last epoch: the same mesh replay an uninterrupted run made
            tr.replay(test_set, train_set)

    tr = runs.train_quietly(exp, run_dir, lambda: Trainer(exp, run_dir), epoch, after)
    last = tr.results[-1]
    out = {"accuracy": last["test_acc"], "train_acc": last["train_acc"], "epochs": exp.train.epochs,
           "seconds": time.perf_counter() - t0, "samples_per_s": last["samples_per_s"],
           "cores_used": len(tr.engine.placement.cores_used),
           "hidden_active": last["hidden_active"]}
    phases = [(phase, p, last[f"{p}counters"], last[f"{p}cost"], tr.last_timing.get(phase))
              for phase, p in (("training", "train_"), ("inference", "infer_"))]
    return out, phases, tr.chip
