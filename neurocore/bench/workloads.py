"""Fixed benchmark workloads shared by several benchmarks."""

from __future__ import annotations

import numpy as np

from ..netlist import Netlist, NeuronParams


def ff_784_1280_10(seed: int = 0) -> Netlist:
    """The engine benchmarks' network: 784 -> 1280 -> 10 non-leaky IF (theta 5, reset by
    subtraction), weights N(0, sqrt(2 / fan_in))."""
    rng = np.random.default_rng(seed)
    net = Netlist("ff_784_1280_10")
    net.add_source("input", 784)
    params = NeuronParams(di=1.0, dv=0.0, theta=5.0, reset="subtract")
    net.add_population("hidden", 1280, params)
    net.add_population("output", 10, params)
    net.connect("w1", "input", "hidden", rng.normal(0, np.sqrt(2 / 784), (784, 1280)))
    net.connect("w2", "hidden", "output", rng.normal(0, np.sqrt(2 / 1280), (1280, 10)))
    return net


def workload(samples: int, ticks: int, rate: float, scale: float = 1.0):
    """(netlist, input spikes (samples, ticks, 784)): the benchmark's weights and spikes, seed 1 (weights
    and theta times `scale`, a power of two: the same spikes in float32)."""
    from ..netlist import Netlist
    from ..neurons import IF

    rng = np.random.default_rng(1)
    w1 = rng.normal(0, np.sqrt(2 / 784), (784, 1280)).astype(np.float32)
    w2 = rng.normal(0, np.sqrt(2 / 1280), (1280, 10)).astype(np.float32)
    spikes = rng.random((samples, ticks, 784)) < rate
    net = Netlist("ff_784_1280_10")
    net.add_source("input", 784)
    w1, w2 = w1 * np.float32(scale), w2 * np.float32(scale)
    neuron = IF(theta=5.0 * scale, reset="subtract")
    net.add_population("hidden", 1280, neuron)
    net.add_population("output", 10, neuron)
    net.connect("w1", "input", "hidden", w1)
    net.connect("w2", "hidden", "output", w2)
    return net, spikes
