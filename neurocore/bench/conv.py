"""Synaptic events per second of a spiking CNN of N-MNIST size on shared-kernel conv tiles.

2x34x34 input events -> Conv 16 5x5 stride 2 -> IF -> Conv 16 3x3 -> IF -> SumPool 2 -> Conv 8 3x3
-> IF -> SumPool 2 -> Flatten -> 256 IF -> 10 IF, random He-normal weights, input events at
`--rate` per pixel and tick, mapped on `loihi_like`, one sample per call, counters on. A sum
pool feeding a linear map is folded into it exactly (SumPool 2 then Conv 3x3 is one Conv 6x6 of
stride 2; the last pool folds into the dense layer). Also runs the dense `bench engine` workload in
the same process, for the ratio of the two.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..cliargs import add_chip, add_samples, add_ticks, integer, number

    add_samples(p, 50)
    add_ticks(p, 100)
    p.add_argument("--rate", type=number(0, 1), default=0.03,
                   help="input event probability per pixel and tick (default: 0.03)")
    add_chip(p, "loihi_like")
    p.set_defaults(chip="loihi_like")
    p.add_argument("--repeats", type=integer(1), default=3, help="timed repeats; the best is kept (default: 3)")
    p.add_argument("--profile", action="store_true",
                   help="also run the CNN's samples once with the per-phase cycle counters on and report where the "
                        "time goes (profile_*: seconds and shares of that run)")
    p.add_argument("--conv", default="shared", choices=("shared", "unrolled"),
                   help="how convolutions are stored: one shared kernel per core, or every synapse (default: shared)")


def _pool_then(kernel: np.ndarray) -> np.ndarray:
    """The kernel of SumPool 2 (stride 2) followed by a stride-1 convolution with `kernel`, as one
    convolution of stride 2: each tap of the kernel covers a 2x2 window."""
    return np.repeat(np.repeat(kernel, 2, axis=2), 2, axis=3)


def cnn(seed: int = 0):
    """The benchmark CNN as a netlist."""
    from ..connections import Conv2d
    from ..netlist import Netlist
    from ..neurons import IF

    rng = np.random.default_rng(seed)

    def he(*shape: int) -> np.ndarray:
        fan_in = int(np.prod(shape[1:]))
        return rng.normal(0, np.sqrt(2.0 / fan_in), shape).astype(np.float32)

    neuron = IF(theta=1.0, reset="subtract")
    net = Netlist("nmnist_cnn")
    net.add_source("events", (2, 34, 34))
    net.add_population("c1", (16, 15, 15), neuron)
    net.connect("conv1", "events", "c1", Conv2d(he(16, 2, 5, 5), stride=2))
    net.add_population("c2", (16, 13, 13), neuron)
    net.connect("conv2", "c1", "c2", Conv2d(he(16, 16, 3, 3)))
    net.add_population("c3", (8, 4, 4), neuron)
    net.connect("pool_conv3", "c2", "c3", Conv2d(_pool_then(he(8, 16, 3, 3)), stride=2))
    fc = he(256, 8, 2, 2)  # SumPool 2 of (8, 4, 4), flattened, into 256: each pooled input covers 2x2 of c3
    dense = _pool_then(fc.reshape(256, 8, 2, 2)).reshape(256, -1).T
    net.add_population("fc", 256, neuron)
    net.connect("pool_fc", "c3", "fc", dense)
    net.add_population("out", 10, neuron)
    net.connect("fc_out", "fc", "out", he(10, 256).T)
    return net


def run(args: argparse.Namespace) -> dict:
    from ..chip import load_chip
    from ..engine import Engine, SpikeDrive
    from ..mapping import place
    from . import engine as dense_bench

    net = cnn()
    chip = load_chip(args.chip)
    placement = place(net, chip, conv=args.conv)
    eng = Engine(placement, seed=1)
    spikes = np.random.default_rng(2).random((args.samples, args.ticks, 2, 34, 34)) < args.rate
    drives = [SpikeDrive({"events": spikes[s:s + 1]}) for s in range(args.samples)]
    eng.run(drives[0], args.ticks)  # compile / load the cached kernels outside the timing
    seconds, c = dense_bench._timed(eng, drives, args.ticks, args.repeats)
    dnet, dspikes = dense_bench.workload(100, 100, 0.1)
    deng = Engine(place(dnet, chip), seed=1)
    ddrives = [SpikeDrive({"input": dspikes[s:s + 1]}) for s in range(100)]
    deng.run(ddrives[0], 100)
    dseconds, dc = dense_bench._timed(deng, ddrives, 100, args.repeats)
    eps, deps = c["syn_events"] / seconds, dc["syn_events"] / dseconds
    kinds = [t.kind for t in placement.tiles]
    prof = {}
    if args.profile:
        from .profile import profiled

        def work() -> None:
            for s, d in enumerate(drives):
                eng.run(d, args.ticks, sample_ids=[s])
        prof = profiled(eng, work)
    return {**prof, "syn_events": c["syn_events"], "seconds": seconds, "syn_events_per_s": eps,
            "dense_syn_events_per_s": deps, "ratio_vs_dense": eps / deps,
            "spikes_per_sample": c["spikes"] / args.samples, "syn_events_per_sample": c["syn_events"] / args.samples,
            "cores_used": len(placement.cores_used), "kernel_tiles": kinds.count("kernel"),
            "crossbar_tiles": kinds.count("crossbar"), "conv": args.conv, "samples": args.samples,
            "ticks": args.ticks, "pop_spikes_per_sample": {p: v / args.samples for p, v in c["pop_spikes"].items()}}
