"""Write a trace while a network runs, read it from another process while it is being written
(HDF5 SWMR), then read it back whole.

Run: python examples/inspect_trace.py   (writes traces/example.h5)
"""

import subprocess
import sys

import numpy as np

import neurocore.traces
from neurocore.chip import load_chip
from neurocore.engine import Engine, SourceDrive
from neurocore.mapping import place
from neurocore.netlist import load_netlist
from neurocore.recording import Recorder
from neurocore.traces import TraceSelection

PATH = "traces/example.h5"
# what a second program sees while the run goes on: the samples flushed so far, status "open or killed"
READER = ("import sys, neurocore.traces as t\n"
          "with t.open(sys.argv[1]) as tr:\n"
          "    print(f'{tr.status}: samples {tr.samples(\"hidden\").tolist()} of hidden recorded so far')\n")

nf = load_netlist("ff_small")
engine = Engine(place(nf.netlist, load_chip(nf.chip)), seed=1)
selection = TraceSelection(enabled=True, populations=["hidden", "output"], traffic="per_tick")
rec = Recorder(engine, selection, PATH, {"run": "example"})
for s in range(6):
    res = engine.run(SourceDrive({"input": np.full((1, 48), 0.1)}), 100, sample_ids=[s], record=True,
                     traffic="per_tick")
    rec.record(s, res)
    if s == 2:
        rec.writer.flush()  # a point a reader can rely on: samples 0-2 are on disk, whole
        live = subprocess.run([sys.executable, "-c", READER, PATH], capture_output=True, text=True, check=True)
        print("while the run writes, another process reads:", live.stdout.strip())
rec.close()

with neurocore.traces.open(PATH) as tr:
    print(f"after the run: {tr.status}, populations {list(tr.populations)}, samples {tr.samples('hidden').tolist()}")
    ticks, neurons = tr.spikes("hidden", 0)
    print("hidden, sample 0:", len(ticks), "spikes; counts per neuron:", tr.spike_counts("hidden", 0)[:10])
    print("core-to-core packets summed over samples:\n", tr.traffic())
