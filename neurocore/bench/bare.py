"""Synaptic events per second of a bare event loop on the `bench engine` workload: the yardstick.

The same network and input as `neurocore bench engine` (784 -> 1280 -> 10 non-leaky IF, theta 5,
reset by subtraction, its weights and Bernoulli input spikes from the same seed; spikes of tick t
arrive at t + 1), run by one small compiled loop and nothing else: no mapping, no routing tables,
no delay rings, no counters but the synaptic events, one sample per call. It is what one core of
this machine does on this work, so `bench engine` reports its own speed as a fraction of it,
timed in the same run (absolute speeds drift between machines and runs; such ratios much less).
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..cliargs import add_samples, add_ticks, integer, number

    add_samples(p, 100)
    add_ticks(p, 100)
    p.add_argument("--rate", type=number(0, 1), default=0.1, help="input spike probability per tick (default: 0.1)")
    p.add_argument("--repeats", type=integer(1), default=5, help="timed repeats; the best is kept (default: 5)")


def _kernel():
    """The compiled loop (numba imported here, compiled once and cached on disk)."""
    global _SAMPLE
    if _SAMPLE is None:
        import numba

        @numba.njit(cache=True, fastmath=True, nogil=True)
        def sample(w_in, w_out, x, theta, v_h, v_o, fired, counts):
            """One sample; `x[t, i]`: input i spikes at tick t (the engine's own input form, scanned
            tick by tick). Adds each neuron's spikes to `counts` (hidden, then output); returns
            synaptic events."""
            ticks, n_in = x.shape
            n_h = w_in.shape[1]
            n_o = w_out.shape[1]
            v_h[:] = 0.0
            v_o[:] = 0.0
            n_fired = 0
            events = 0
            for t in range(1, ticks):
                for k in range(n_fired):                      # hidden spikes of t - 1 reach the outputs
                    row = fired[k]
                    for j in range(n_o):
                        v_o[j] += w_out[row, j]
                events += n_fired * n_o
                for i in range(n_in):                         # input spikes of t - 1 reach the hidden layer
                    if x[t - 1, i]:
                        for j in range(n_h):
                            v_h[j] += w_in[i, j]
                        events += n_h
                n_fired = 0
                for j in range(n_h):
                    if v_h[j] >= theta:
                        v_h[j] -= theta
                        fired[n_fired] = j
                        n_fired += 1
                        counts[j] += 1
                for j in range(n_o):
                    if v_o[j] >= theta:
                        v_o[j] -= theta
                        counts[n_h + j] += 1
            return events
        _SAMPLE = sample
    return _SAMPLE


_SAMPLE = None


def bare_run(w_in: np.ndarray, w_out: np.ndarray, spikes: np.ndarray, theta: float = 5.0,
             repeats: int = 1) -> tuple[int, float, np.ndarray]:
    """(synaptic events, best seconds over `repeats`, spikes per neuron: hidden then output) of running
    every sample of `spikes` (samples, ticks, inputs) through the bare loop, one call per sample."""
    sample = _kernel()
    w_in = np.ascontiguousarray(w_in, np.float32)
    w_out = np.ascontiguousarray(w_out, np.float32)
    spikes = np.ascontiguousarray(spikes, np.bool_)
    v_h = np.zeros(w_in.shape[1], np.float32)
    v_o = np.zeros(w_out.shape[1], np.float32)
    fired = np.zeros(w_in.shape[1], np.int64)
    th = np.float32(theta)
    best, events, counts = float("inf"), 0, None
    for _ in range(repeats):
        c = np.zeros(w_in.shape[1] + w_out.shape[1], np.int64)
        t0 = time.perf_counter()
        n = 0
        for x in spikes:
            n += sample(w_in, w_out, x, th, v_h, v_o, fired, c)
        dt = time.perf_counter() - t0
        if dt < best:
            best, events, counts = dt, int(n), c
    return events, best, counts


def timed(samples: int, ticks: int, rate: float, repeats: int) -> dict:
    """The bare loop on `bench engine`'s workload: its figures (compiled outside the timing)."""
    from ..compile_notice import compile_notice
    from .workloads import workload

    net, spikes = workload(samples, ticks, rate)
    w_in, w_out = net.projections["w1"].weights, net.projections["w2"].weights
    with compile_notice():
        bare_run(w_in, w_out, spikes[:1, :2])
    events, seconds, counts = bare_run(w_in, w_out, spikes, repeats=repeats)
    return {"bare_syn_events": events, "bare_seconds": seconds, "bare_syn_events_per_s": events / seconds,
            "bare_spikes": int(counts.sum())}


def run(args: argparse.Namespace) -> dict:
    return {**timed(args.samples, args.ticks, args.rate, args.repeats), "samples": args.samples,
            "ticks": args.ticks}
