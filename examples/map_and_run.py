"""Build a small network in Python, map it onto the 2x2 `small` chip, run it, read the counters.

Run: python examples/map_and_run.py
"""

import numpy as np

from neurocore.chip import load_chip
from neurocore.engine import Engine, SourceDrive
from neurocore.mapping import place
from neurocore.netlist import Netlist, NeuronParams
from neurocore.report import format_report, mapping_report

rng = np.random.default_rng(0)
net = Netlist("demo")
net.add_source("input", 48)                                              # spikes from the host
net.add_population("hidden", 40, NeuronParams(di=0.5, theta=2.0))         # CUBA IF neurons
net.add_population("output", 8, NeuronParams(di=0.5, theta=1.0))
net.connect("in_hid", "input", "hidden", rng.normal(0.02, 0.25, (48, 40)))
net.connect("hid_out", "hidden", "output", rng.normal(0.05, 0.3, (40, 8)))
wta = -0.5 * (1 - np.eye(8))
net.connect("wta", "output", "output", wta)                               # lateral inhibition
net.add_probe("output", [0, 1])                                           # record v and i

placement = place(net, load_chip("small"), strategy="traffic")           # refuses what cannot fit
print(format_report(mapping_report(placement)))

engine = Engine(placement, seed=1)
drive = SourceDrive({"input": np.full((4, 48), 0.1)})                     # 4 samples, p = 0.1 per tick
res = engine.run(drive, ticks=100, readout=["output"], record=True, probes=True)
print("output spike counts per sample:\n", res.counts["output"])
ticks, neurons = res.spikes("hidden", sample=0)
print(f"hidden, sample 0: {len(ticks)} spikes; first ten (tick, neuron):", list(zip(ticks[:10].tolist(), neurons[:10].tolist())))
c = res.counters
print(f"synaptic events {c['syn_events']}, packets {c['packets']}, packet-hops {c['packet_hops']}")
print("membrane of output neuron 0, first 10 ticks:", res.probe_v[0, :10, 0].round(3))
