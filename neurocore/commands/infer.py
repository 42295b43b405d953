"""`neurocore infer RUN_DIR`: evaluate a training checkpoint on the test (or train) set, on the chip
(and, for a method that trains off the chip, off it too), with its inference cost."""

from __future__ import annotations

import argparse

from ..cliargs import add_no_progress, add_set_argument
from ..config import parse_overrides


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("infer", help="evaluate a training checkpoint on the chip",
                       description="Evaluate the weights of a run folder's checkpoint on the chip's forward "
                                   "network: accuracy and synaptic events, spikes and packets per sample, and the "
                                   "cost per sample. A method that trains off the chip is tested both off the chip "
                                   "and on it (its network mapped on the experiment's chip, or --set chip.name=...).")
    p.add_argument("run_dir", help="run folder written by `neurocore train` (holds experiment.toml and "
                                   "checkpoint.npz)")
    p.add_argument("--split", default="test", choices=("test", "train"), help="which split to evaluate "
                                                                               "(default: test)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--equivalent", action="store_true",
                   help="also evaluate the same weights in the rate-equivalent ANN: a gap between the two is lost "
                        "in spiking inference, a shortfall of both is lost in learning")
    add_set_argument(p)
    add_no_progress(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from ..cost import cost_record, cost_summary, format_summary
    from ..errors import ConfigError
    from ..experiment import load_experiment
    from ..runs import experiment_file
    from ..training import Trainer, load_data

    run = Path(args.run_dir)
    exp = load_experiment(experiment_file(run), parse_overrides(args.set))
    if not exp.on_chip:
        if args.equivalent:
            raise ConfigError(f"the rate-equivalent ANN is SSNN-BP's; {run} trained with {exp.method}",
                              "--equivalent")
        return _off_chip(exp, run, args)
    train_set, test_set = load_data(exp)
    tr = Trainer(exp, run)
    tr.restore(run)
    tr.warm_up()  # a compiling first call says so on stderr, also under --json
    data = test_set if args.split == "test" else train_set
    acc, counters = tr.evaluate(data, progress=not args.no_progress)  # the bar goes to stderr
    out = {"run": str(run), "epoch": tr.epoch, "split": args.split, "samples": len(data), "accuracy": acc,
           "syn_events_per_sample": counters["syn_events"] / len(data),
           "spikes_per_sample": counters["spikes"] / len(data),
           "packets_per_sample": counters["packets"] / len(data)}
    # energy from every evaluated sample, tick latency from a mesh replay of the first few
    cost = cost_summary(cost_record(counters, tr.infer_engine.placement), tr.chip, "inference",
                        tr.timing(data, "inference"))
    out.update(cost)
    if args.equivalent:
        from ..learning.equivalent import accuracy
        from ..learning.ssnn import weight_names
        out["equivalent_accuracy"] = accuracy(exp.net, [tr.engine.weights(n) for n in weight_names(exp.net)], data)
    if args.json:
        print(json.dumps(out))
    else:
        print(f"{run} (after epoch {tr.epoch}): {args.split} accuracy {100 * acc:.2f} % on {len(data)} samples; "
              f"per sample {out['syn_events_per_sample']:.0f} synaptic events, {out['spikes_per_sample']:.0f} "
              f"spikes, {out['packets_per_sample']:.0f} packets")
        print(format_summary(cost))
        if args.equivalent:
            print(f"rate-equivalent ANN with the same weights: {100 * out['equivalent_accuracy']:.2f} %")
    return 0


def _off_chip(exp, run, args: argparse.Namespace) -> int:
    import json

    from ..cost import format_summary
    from ..methods.offchip import infer

    out = infer(exp, run, args.split, progress=not args.no_progress)
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"{run} ({exp.method}, after epoch {out['epoch']}): {args.split} accuracy {100 * out['accuracy']:.2f} % off "
          f"the chip, {100 * out['chip_accuracy']:.2f} % on {exp.chip.name} ({out['cores_used']} of its cores) on "
          f"{out['samples']} samples; per sample {out['syn_events_per_sample']:.0f} synaptic events, "
          f"{out['spikes_per_sample']:.0f} spikes, {out['packets_per_sample']:.0f} packets")
    print(format_summary(out))
    return 0
