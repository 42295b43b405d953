"""Stand-in runners for sweeps, importable by dask workers: for tests, examples and the benchmark.

`fake_run(config)` mimics `neurocore.study:run_point`: deterministic numbers derived from
the config keys a real sweep would vary, after a short sleep. `cpu_run(config)` does real numpy
work (no sleep) for the benchmark.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from typing import Any, Mapping

import numpy as np


def get(config: Mapping, dotted: str, default: Any = None) -> Any:
    """`config["a"]["b"]` for "a.b", or `default` when any part is missing."""
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    return node


def config_hash(config: Mapping) -> float:
    """A number in [0, 1) fixed by the whole config (seed included)."""
    h = hashlib.sha1(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()
    return int(h[:12], 16) / 16 ** 12


def fake_run(config: Mapping) -> dict:
    """Deterministic stand-in for run_point: accuracy, energy, latency and traffic from the config.

    Keys read (all optional): train.ts, net.hidden, chip.device.dw_min, chip.device.up_down,
    chip.mesh.width/height, mapping.strategy ("sequential" or "traffic"), fake.sleep (s, default
    0.01), fake.fail (raise), fake.timing (true: replay synthetic traffic on the mesh with simpy).
    """
    if get(config, "fake.fail", False):
        raise RuntimeError("fake failure requested by fake.fail = true")
    time.sleep(float(get(config, "fake.sleep", 0.01)))
    ts = float(get(config, "train.ts", 50))
    hidden = float(get(config, "net.hidden", 100))
    dw = float(get(config, "chip.device.dw_min", 0.001))
    asym = abs(float(get(config, "chip.device.up_down", 0.0)))
    jitter = (config_hash(config) - 0.5) * 0.01
    accuracy = (0.97 - 0.25 * math.exp(-ts / 60.0) - 8.0 * max(dw - 0.001, 0.0) - 0.5 * asym ** 2
                - 0.05 * math.exp(-hidden / 100.0) + jitter)
    out = {"accuracy": accuracy, "train_energy_pj": 1e3 * ts * hidden * (1.0 + 0.3 / (1e3 * dw)),
           "infer_energy_pj": 4e2 * ts * hidden, "seconds_simulated": ts * 1e-3}
    if get(config, "fake.timing", False):
        out.update(_fake_mesh_metrics(config, ts))
    return out


def _fake_mesh_metrics(config: Mapping, ts: float) -> dict:
    """A chain of layer slices over every core, placed in core order ("sequential") or along a
    snake through the mesh ("traffic", so neighbours in the chain are neighbours on the mesh)."""
    from ..chip import Mesh, load_chip
    from ..cost import cost_metrics

    chip = load_chip(get(config, "chip.name", "small"))
    w = int(get(config, "chip.mesh.width", chip.mesh.width))
    h = int(get(config, "chip.mesh.height", chip.mesh.height))
    chip = chip.with_overrides(mesh=Mesh(w, h))
    order = list(range(chip.cores))
    if get(config, "mapping.strategy", "sequential") == "traffic":
        order = [y * w + (x if y % 2 == 0 else w - 1 - x) for y in range(h) for x in range(w)]
    # the same draws for both strategies, so their comparison is paired
    rng = np.random.default_rng([int(get(config, "seed", 0)), int(ts), w, h])
    T, n = 20, chip.cores
    traffic = np.zeros((T, n, n), np.int64)
    for a, b in zip(order[:-1], order[1:]):
        traffic[:, a, b] = rng.poisson(6, T)
    syn = traffic.sum(1) * 16  # each packet fans out to 16 rows at its destination
    c = {"ticks": T, "samples": 1, "traffic_per_tick": traffic, "traffic": traffic.sum(0),
         "core_syn_events_per_tick": syn, "core_syn_events": syn.sum(0),
         "core_neuron_updates": np.full(n, 32 * T), "core_spikes": traffic.sum((0, 2)),
         "core_write_pulses": np.zeros(n, np.int64)}
    hops = chip.hop_matrix()
    c.update(syn_events=int(syn.sum()), neuron_updates=32 * T * n, spikes=int(traffic.sum()),
             packets=int(traffic.sum()), packet_hops=int((traffic.sum(0) * hops).sum()), write_pulses=0,
             adc_conversions=0)
    m = cost_metrics(c, chip, "inference")
    m["infer_latency_ns"] = m["infer_tick_ns_mean"] * ts
    m["packet_hops"] = c["packet_hops"]
    return m


def cpu_run(config: Mapping) -> dict:
    """Real single-threaded numpy work (sorting and elementwise maths) for the sweep benchmark.

    bench.iters rounds of work on bench.n numbers; bench.i and seed pick the random data.
    """
    c0 = time.process_time()
    iters = int(get(config, "bench.iters", 10))
    n = int(get(config, "bench.n", 200_000))
    rng = np.random.default_rng([int(get(config, "bench.i", 0)), int(get(config, "seed", 0))])
    x = rng.standard_normal(n)
    acc = 0.0
    for i in range(iters):
        y = np.sort(np.sin(x + 0.1 * i) * np.cos(x - 0.05 * i))  # bounded arguments: equal rounds
        acc += float(y[n // 3]) + float(np.exp(-np.abs(y)).sum()) * 1e-6
    return {"checksum": acc, "iters": iters, "cpu_s": time.process_time() - c0}
