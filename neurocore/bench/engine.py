"""Synaptic events per second of the mapped engine on a 784-1280-10 IF net, against a bare loop.

Printed first: the bare event loop of the same workload (`neurocore bench bare`, the yardstick),
the engine, and the engine's speed as a fraction of the bare loop's, timed in the same run. 784 ->
1280 -> 10 non-leaky IF (theta 5, reset by subtraction), weights N(0, sqrt(2 / fan_in)),
Bernoulli input p = 0.1 per tick drawn beforehand from the same seed, 100 samples x 100 ticks,
one sample per engine call (online, as the chip runs), mapped on `loihi_like` with every
counter on (`--profile`: where the time goes, by phase of the tick loop). Also timed: the same with the input drawn on chip by the sources; a clock-driven
dense numpy loop on one BLAS thread; and, with `--threads N`, the workload as one inference
batch on 1 and on N threads (`speedup_threads`; the spikes must be identical).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from .workloads import workload


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..cliargs import add_chip, add_samples, add_ticks, integer, number

    add_samples(p, 100)
    add_ticks(p, 100)
    p.add_argument("--rate", type=number(0, 1), default=0.1, help="input spike probability per tick (default: 0.1)")
    add_chip(p, "loihi_like")
    p.set_defaults(chip="loihi_like")
    p.add_argument("--repeats", type=integer(1), default=5, help="timed repeats; the best is kept (default: 5)")
    p.add_argument("--arithmetic", choices=("float32", "loihi"), default="float32",
                   help="loihi: also run the workload in Loihi's integer arithmetic (weights and theta x 2^10 so the "
                        "8-bit mantissas are used; float32 spikes unchanged) beside float32, interleaved, and "
                        "report the ratio (default: float32 only)")
    p.add_argument("--profile", action="store_true",
                   help="also run the given-input workload once with the per-phase cycle counters on and "
                        "report where the time goes (profile_*: seconds and shares of that run)")
    p.add_argument("--threads", type=integer(1), default=1,
                   help="also run the samples as one inference batch on 1 and on this many threads (default: 1, no)")


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


def _timed(engine, drives, ticks: int, repeats: int) -> tuple[float, dict]:
    """Best wall time of running the drives one per call, and the counters of that run."""
    best = None
    for _ in range(repeats):
        engine.reset_counters()
        t0 = time.perf_counter()
        for s, d in enumerate(drives):
            engine.run(d, ticks, sample_ids=[s])
        dt = time.perf_counter() - t0
        if best is None or dt < best[0]:
            best = (dt, engine.counters())
    return best


def run(args: argparse.Namespace) -> dict:
    from ..chip import load_chip
    from ..engine import Engine, SourceDrive, SpikeDrive
    from ..mapping import place

    if getattr(args, "arithmetic", "float32") == "loihi":
        return _arithmetic(*workload(args.samples, args.ticks, args.rate, 2.0 ** 10), args)

    from .bare import timed as bare_timed

    net, spikes = workload(args.samples, args.ticks, args.rate)
    bare = bare_timed(args.samples, args.ticks, args.rate, args.repeats)
    engine = Engine(place(net, load_chip(args.chip)), seed=1)
    given = [SpikeDrive({"input": spikes[s:s + 1]}) for s in range(args.samples)]
    drawn = [SourceDrive({"input": np.full((1, 784), args.rate, np.float32)}) for _ in range(args.samples)]
    engine.run(given[0], args.ticks)  # compile / load the cached kernels outside the timing
    engine.run(drawn[0], args.ticks)
    seconds, c = _timed(engine, given, args.ticks, args.repeats)
    seconds_drawn, c_drawn = _timed(engine, drawn, args.ticks, args.repeats)
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):  # the engine runs on one core: so does numpy
        np_events, np_seconds = min((numpy_dense(net, spikes) for _ in range(min(args.repeats, 3))),
                                    key=lambda r: r[1])
        nb_events, nb_seconds = min((numpy_dense(net, spikes, batched=True) for _ in range(min(args.repeats, 3))),
                                    key=lambda r: r[1])
    eps = c["syn_events"] / seconds
    np_eps = np_events / np_seconds
    out = {
        "bare_syn_events_per_s": bare["bare_syn_events_per_s"], "syn_events_per_s": eps,
        "ratio_vs_bare": eps / bare["bare_syn_events_per_s"],
        "syn_events": c["syn_events"], "seconds": seconds, "bare_syn_events": bare["bare_syn_events"],
        "bare_seconds": bare["bare_seconds"],
        "drawn_input_syn_events_per_s": c_drawn["syn_events"] / seconds_drawn,
        "numpy_syn_events": np_events, "numpy_seconds": np_seconds, "numpy_syn_events_per_s": np_eps,
        "ratio_vs_numpy": eps / np_eps,
        "numpy_batched_syn_events_per_s": nb_events / nb_seconds,
        "ratio_vs_numpy_batched": eps / (nb_events / nb_seconds), "samples": args.samples, "ticks": args.ticks,
        "packets": c["packets"], "packet_hops": c["packet_hops"], "spikes": c["spikes"],
        "cores_used": int((c["core_spikes"] > 0).sum()),
    }
    if args.threads > 1:
        out.update(_threads(engine, spikes, args))
    if args.profile:
        from .profile import profiled

        def work() -> None:
            for s, d in enumerate(given):
                engine.run(d, args.ticks, sample_ids=[s])
        out.update(profiled(engine, work))
    return out


def _threads(engine, spikes: np.ndarray, args: argparse.Namespace) -> dict:
    """The samples as one inference batch on 1 and on `threads` threads; spikes must agree."""
    from ..engine import SpikeDrive

    drive = SpikeDrive({"input": spikes})
    pops = list(engine.placement.netlist.populations)
    runs = {}
    for threads in (1, args.threads):
        engine.run(drive, args.ticks, readout=pops, threads=threads)  # compile outside the timing
        best = None
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            res = engine.run(drive, args.ticks, readout=pops, threads=threads)
            dt = time.perf_counter() - t0
            if best is None or dt < best[0]:
                best = (dt, res)
        runs[threads] = best
    (t1, r1), (tn, rn) = runs[1], runs[args.threads]
    same = all(np.array_equal(r1.counts[p], rn.counts[p]) for p in pops) and \
        r1.counters["syn_events"] == rn.counters["syn_events"]
    return {"threads": args.threads, "batch_seconds_1_thread": t1, f"batch_seconds_{args.threads}_threads": tn,
            "syn_events_per_s_1_thread": r1.counters["syn_events"] / t1,
            f"syn_events_per_s_{args.threads}_threads": rn.counters["syn_events"] / tn,
            "speedup_threads": t1 / tn, "threads_spikes_identical": bool(same)}


def _arithmetic(net, spikes: np.ndarray, args: argparse.Namespace) -> dict:
    """The workload on the chip in float32 and in Loihi arithmetic, timed in alternation (so both see the
    same machine load); weights and theta scaled by 2^10 (exact in float32: the same spikes as unscaled)."""
    from dataclasses import replace

    from ..chip import load_chip
    from ..engine import Engine, SpikeDrive
    from ..mapping import place
    chip = load_chip(args.chip)
    engines = {"float32": Engine(place(net, chip), seed=1),
               "loihi": Engine(place(net, replace(chip, precision=replace(chip.precision, arithmetic="loihi"))),
                               seed=1)}
    given = [SpikeDrive({"input": spikes[s:s + 1]}) for s in range(args.samples)]
    for e in engines.values():
        e.run(given[0], args.ticks)  # compile outside the timing
    best: dict = {}
    for _ in range(args.repeats):
        for name, e in engines.items():
            dt, c = _timed(e, given, args.ticks, 1)
            if name not in best or dt < best[name][0]:
                best[name] = (dt, c)
    out: dict = {"samples": args.samples, "ticks": args.ticks, "repeats": args.repeats}
    for name, (dt, c) in best.items():
        out[f"{name}_seconds"] = dt
        out[f"{name}_syn_events"] = c["syn_events"]
        out[f"{name}_spikes"] = c["spikes"]
        out[f"{name}_syn_events_per_s"] = c["syn_events"] / dt
    out["ratio_loihi_vs_float32"] = out["loihi_syn_events_per_s"] / out["float32_syn_events_per_s"]
    out["wall_ratio_float32_over_loihi"] = out["float32_seconds"] / out["loihi_seconds"]
    out["loihi_weight_exp"] = engines["loihi"].weight_exp
    return out
