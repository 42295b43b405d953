"""Training speed of SSNN-BP on the chip: a slice of a Fashion-MNIST epoch, timed.

784-1280-10 with WTA and dropout (models/experiments/fmnist.toml), stochastic
on-chip coincidence updates by default, one process, one core. Prints samples per
second, the estimated time of a 60,000-sample epoch, and synaptic events per second against the bare
loop of `bench engine`'s workload (`neurocore bench bare`), timed just before and just after the
epoch (their mean: `ratio_vs_bare`).
"""

from __future__ import annotations

import argparse
import time


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..cliargs import add_samples, add_ticks, integer
    from ..cliargs import add_set_argument

    add_ticks(p, 100, "--ts", dest="ts")
    add_samples(p, 2000, "training samples timed")
    p.add_argument("--update", default="coincidence", choices=("coincidence", "rate", "rate_noise"),
                   help="weight update mode (default: coincidence)")
    p.add_argument("--experiment", default="fmnist", help="experiment to time (default: fmnist)")
    p.add_argument("--epoch-size", type=integer(1), default=60000, metavar="N",
                   help="samples of the epoch being estimated (default: 60000)")
    p.add_argument("--profile", action="store_true",
                   help="also train the same samples once more with the per-phase cycle counters on and report "
                        "where the time goes (profile_*: seconds and shares of that run)")
    add_set_argument(p)


def run(args: argparse.Namespace) -> dict:
    import numpy as np

    from ..config import parse_overrides
    from ..experiment import load_experiment
    from ..methods.ssnn_bp.trainer import Trainer, drive_for, load_data

    exp = load_experiment(args.experiment, {"train.ts": args.ts, "train.update": args.update,
                                            "data.train": args.samples, "data.test": 100,
                                            **parse_overrides(args.set)})
    train_set, _ = load_data(exp)
    tr = Trainer(exp, None)
    warm = min(50, len(train_set))
    tr.engine.run(drive_for(exp, train_set.images[:warm], train_set.labels[:warm]), args.ts,
                  learn=args.update, dropout=True)  # loads the compiled kernel
    from .bare import timed as bare_timed
    bare_before = bare_timed(100, 100, 0.1, 5)["bare_syn_events_per_s"]
    tr.engine.reset_counters()
    t0 = time.perf_counter()
    tr.train_epoch(train_set, progress=False)
    seconds = time.perf_counter() - t0
    c = tr.engine.counters()
    bare = (bare_before + bare_timed(100, 100, 0.1, 5)["bare_syn_events_per_s"]) / 2
    sps = len(train_set) / seconds
    prof = {}
    if args.profile:
        from .profile import profiled
        again = Trainer(exp, None)
        prof = profiled(again.engine, lambda: again.train_epoch(train_set, progress=False))
    out = {"ts": args.ts, "update": args.update, "samples": len(train_set), "seconds": seconds,
           "samples_per_s": sps, "epoch_seconds_estimate": args.epoch_size / sps,
           "syn_events_per_sample": c["syn_events"] / len(train_set),
           "write_pulses_per_sample": c["write_pulses"] / len(train_set),
           "syn_events_per_s": c["syn_events"] / seconds, "bare_syn_events_per_s": bare,
           "ratio_vs_bare": c["syn_events"] / seconds / bare,
           "running_train_acc": float(np.mean(tr._correct / max(tr._seen, 1)))}
    out.update(prof)
    return out
