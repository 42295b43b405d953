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
