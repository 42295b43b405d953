"""Synaptic events per second of the mapped engine on a 784-1280-10 IF network, against a numpy loop.

784 -> 1280 -> 10 non-leaky IF on `loihi_like`, Bernoulli input p = 0.1 per tick,
100 samples x 100 ticks, one sample per engine call (online, as the chip runs),
counters on. The numpy loop runs the same network one sample at a time in the same
process, single-threaded BLAS, as dense matrix products.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..commands.options import add_chip, add_samples, add_ticks, integer, number

    add_samples(p, 100)
    add_ticks(p, 100)
    p.add_argument("--rate", type=number(0, 1), default=0.1, help="input spike probability per tick (default: 0.1)")
    add_chip(p, "loihi_like")
    p.set_defaults(chip="loihi_like")
    p.add_argument("--repeats", type=integer(1), default=3, help="timed repeats; the best is kept (default: 3)")


def numpy_dense(net, inputs: np.ndarray, batched: bool = False) -> tuple[int, float]:
    """Dense numpy IF loop, one sample at a time; returns (synaptic events, seconds).

    Clock-driven, as a dense simulator runs: every tick each layer's input is the
    previous tick's spike vector times the full weight matrix. With `batched`, the
    first layer's input of a whole sample is one matrix product (possible only for a
    feed-forward net: a stronger baseline, reported beside the main one).
    """
    w1 = net.projections["w1"].weights
    w2 = net.projections["w2"].weights
    theta = np.float32(5.0)
    events = 0
    t0 = time.perf_counter()
    for s in range(inputs.shape[0]):
        x = inputs[s].astype(np.float32)  # (ticks, 784)
        ticks = x.shape[0]
        vh = np.zeros(1280, np.float32)
        vo = np.zeros(10, np.float32)
        sh = np.zeros(1280, np.float32)
        ih_all = None
        if batched:
            ih_all = np.zeros((ticks, 1280), np.float32)
            ih_all[1:] = x[:-1] @ w1
        n_h = 0
        for t in range(1, ticks):
            vo += sh @ w2  # hidden spikes of t-1 arrive (delay 1)
            vh += ih_all[t] if batched else x[t - 1] @ w1
            fh = vh >= theta
            vh[fh] -= theta
            sh = fh.astype(np.float32)
            n_h += int(fh.sum()) if t < ticks - 1 else 0
            fo = vo >= theta
            vo[fo] -= theta
        events += int(x[:-1].sum()) * 1280 + n_h * 10
    return events, time.perf_counter() - t0


def run(args: argparse.Namespace) -> dict:
    from ..chip import load_chip
    from ..engine import Engine, SourceDrive
    from ..mapping import place
    from .workloads import ff_784_1280_10

    net = ff_784_1280_10()
    engine = Engine(place(net, load_chip(args.chip)), seed=1)
    drives = [SourceDrive({"input": np.full((1, 784), args.rate, np.float32)}) for _ in range(args.samples)]
    engine.run(drives[0], args.ticks)  # compile / load the cached kernel outside the timing
    best = None
    for _ in range(args.repeats):
        engine.reset_counters()
        t0 = time.perf_counter()
        for s, d in enumerate(drives):
            engine.run(d, args.ticks, sample_ids=[s])
        dt = time.perf_counter() - t0
        c = engine.counters()
        if best is None or dt < best[0]:
            best = (dt, c)
    seconds, c = best
    rng = np.random.default_rng(1)
    inputs = rng.random((args.samples, args.ticks, 784)) < args.rate
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):  # the engine runs on one core: so does numpy
        np_events, np_seconds = min((numpy_dense(net, inputs) for _ in range(args.repeats)), key=lambda r: r[1])
        nb_events, nb_seconds = min((numpy_dense(net, inputs, batched=True) for _ in range(args.repeats)),
                                    key=lambda r: r[1])
    eps = c["syn_events"] / seconds
    np_eps = np_events / np_seconds
    return {
        "syn_events": c["syn_events"], "seconds": seconds, "syn_events_per_s": eps,
        "numpy_syn_events": np_events, "numpy_seconds": np_seconds, "numpy_syn_events_per_s": np_eps,
        "ratio_vs_numpy": eps / np_eps,
        "numpy_batched_syn_events_per_s": nb_events / nb_seconds,
        "ratio_vs_numpy_batched": eps / (nb_events / nb_seconds), "samples": args.samples, "ticks": args.ticks,
        "packets": c["packets"], "packet_hops": c["packet_hops"], "spikes": c["spikes"],
        "cores_used": int((c["core_spikes"] > 0).sum()),
    }
