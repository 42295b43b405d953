"""Write a trace while running a network, then read it back (also while it is being written: SWMR).

Run: python examples/inspect_trace.py
"""

import numpy as np

import neurocore.traces
from neurocore.chip import load_chip
from neurocore.engine import Engine, SourceDrive
from neurocore.mapping import place
from neurocore.netlist import load_netlist
from neurocore.recording import Recorder
from neurocore.traces import TraceSelection

nf = load_netlist("ff_small")
engine = Engine(place(nf.netlist, load_chip(nf.chip)), seed=1)
selection = TraceSelection(enabled=True, populations=["hidden", "output"], traffic="per_tick")
rec = Recorder(engine, selection, "traces/example.h5", {"run": "example"})
for s in range(3):
    res = engine.run(SourceDrive({"input": np.full((1, 48), 0.1)}), 100, sample_ids=[s], record=True,
                     traffic="per_tick")
    rec.record(s, res)
rec.close()

with neurocore.traces.open("traces/example.h5") as tr:
    print("populations in the trace:", list(tr.populations))
    ticks, neurons = tr.spikes("hidden", 0)
    print("hidden, sample 0:", len(ticks), "spikes; counts per neuron:", tr.spike_counts("hidden", 0)[:10])
    print("core-to-core packets summed over samples:\n", tr.traffic())
