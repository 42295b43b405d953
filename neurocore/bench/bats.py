"""Training speed of BATS: seconds per 1,000 Fashion-MNIST samples, training and inference.

Trains a preset (default bats_fmnist: 784-400-400-10, multi-spike, batch 5) on
a fixed subset of the training set after a warm-up batch (kernels loaded), then evaluates a
test subset. `--single` runs the same net with one spike per neuron (thresholds 0.7, 0.7, 2,
1 s samples, TTFS cross-entropy). The load average is printed beside: the machine may be shared.
"""

from __future__ import annotations

import argparse
PRESET = "bats_fmnist"  # a shipped experiment's name, or any BATS experiment TOML
SINGLE = ({"theta": [0.7, 0.7, 2.0], "budget": [1], "duration": 1.0},
          {"loss": "ttfs_ce", "init_a": [0.0], "init_b": [1.0, 0.2, 0.2]})


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..cliargs import add_samples, integer

    p.add_argument("--preset", default=PRESET, help="BATS experiment: a name or a TOML path (default: bats_fmnist)")
    p.add_argument("--single", action="store_true", help="one spike per neuron (see above)")
    add_samples(p, 3000, "training samples timed")
    p.add_argument("--test", type=integer(1), default=2000, help="test samples timed (default: 2000)")
    p.add_argument("--threads", type=integer(0), default=0, help="numba threads (default: 0, all cores)")
    p.add_argument("--batch", type=integer(0), default=0, help="override the preset's batch (default: 0, keep it)")


def run(args: argparse.Namespace) -> dict:
    import os
    import time

    from ..config import load_toml
    from ..data import load_dataset, subset
    from ..methods.bats import BatsTrainer, specs_from_tables, train_epoch

    from ..resolve import model_file

    tables = load_toml(model_file("experiments", args.preset))
    net_t, train_t = dict(tables["net"]), dict(tables["train"])
    if args.single:
        net_t |= SINGLE[0]
        train_t |= SINGLE[1]
    train_t["threads"] = args.threads
    if args.batch:
        train_t["batch"] = args.batch
    net, train = specs_from_tables(net_t, train_t, args.preset)
    name = tables["data"]["dataset"]
    tr = subset(load_dataset(name, "train"), args.samples, seed=0)
    te = subset(load_dataset(name, "test"), args.test, seed=0)
    warm = BatsTrainer(net, train, 1, tr.n_classes, tr.n_features)
    warm.train_batch(tr.images[:train.batch], tr.labels[:train.batch], 0, 0)
    warm.evaluate(te.images[:10], te.labels[:10])
    trainer = BatsTrainer(net, train, 1, tr.n_classes, tr.n_features)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    train_epoch(trainer, tr, 0, progress=False)
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = trainer.evaluate(te.images, te.labels)
    eval_s = time.perf_counter() - t0
    import numba
    return {"net": "-".join(map(str, net.layers)), "single_spike": net.single_spike, "batch": train.batch,
            "threads": numba.get_num_threads(), "train_s_per_1000": 1000 * train_s / len(tr),
            "eval_s_per_1000": 1000 * eval_s / len(te), "epoch_s_estimate_60k": 60 * train_s * 1000 / len(tr),
            "spikes_per_sample": [round(s, 1) for s in res["spikes_per_sample"]],
            "load_average_before": load, "load_average_after": os.getloadavg()[0]}
