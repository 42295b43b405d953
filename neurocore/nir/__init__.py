"""NIR (the Neuromorphic Intermediate Representation) in and out of neurocore.

    from neurocore.nir import from_nir, to_nir, run_spikes
    imp = from_nir("net.nir", dt=1e-4, discretisation="euler")   # or a nir.NIRGraph
    imp = from_nir("sinabs.nir", writer="sinabs")                 # as the library that wrote it simulates it
    imp.netlist, imp.inputs, imp.outputs, imp.depth              # a Netlist like any other
    graph = to_nir(netlist, dt=1e-4)                             # a nir.NIRGraph; nir.write(path, graph)

Reading and writing use the `nir` package (numpy and h5py only); torch is never needed.

**Writers** (`writer=`, `--from`). Each library that writes NIR simulates its own export its own way;
`neurocore.nir.writers` names each one's conventions (dt, discretisation, spike shape, reset, input gain,
several spikes a step, a lower clamp of v, output timing) and `writer="sinabs"` etc. reads a graph as
that library does; a graph whose metadata names its writer is read so, with a note. The defaults below
are the "nir" writer's: the NIR paper's definitions.

**Nodes.** LIF, CubaLIF, IF, LI, CubaLI, I and Threshold become populations (Threshold: a
memoryless LIF, v = x each tick). Affine, Linear, Scale, Conv2d, Conv1d, SumPool2d, AvgPool2d,
Flatten and Delay between two of them fold into one projection (a convolution stays a
convolution where that is exact, else the dense product); biases of those chains go onto the
post neurons (`bias`, or `i_bias` for current-based ones). An operator chain that ends in an
Output is read out through a non-spiking population whose membrane is the chain's output
(LI with dv = 1). Nested graphs are flattened (node `g.x`). Refused, with the node, its type
and the reason: node types NIR does not define or the chip cannot run, a non-spiking node
driving anything (the chip sends spikes only), loops of operators with no neuron on them,
delays that are not whole ticks or exceed 64, shapes that do not fit together.

**Time.** NIR stores continuous-time equations and no dt. dt and the discretisation
("exact": zero-order hold; "euler") are arguments, defaulting to the graph's metadata
(neurocore's exports record them). snnTorch 1.0 writes tau = dt / (1 - beta), r = tau / dt,
w_in = tau_syn / dt with dt = 1e-4, so `dt=1e-4, discretisation="euler"` gives back
v <- beta v + x exactly. Norse 1.1 writes r = 1, w_in = 1 and tau = dt / tau_inv
(= dt x tau) with its dt = 1e-3: its LIFBox nodes come back with Euler at dt = 1e-6.

**Spikes** (`spikes=`, or graph metadata "spikes"). NIR writes a neuron's input S without saying
how a spike enters it on a tick, and the tools differ. "step" (the default): a spike is the
value 1 held over its tick, the state it drives moving by the discretisation's drive times the
weight: snnTorch's and Norse's exports assume this (they write their dt into r and w_in, so a
spike adds its weight per step). "dirac": a spike is a Dirac delta of unit area, as NIR's own
spike-representation study concludes ("spikes as Dirac pulses whose integral is 1",
NIR/paper/01_lif/debug_spike_representation) and as an event-based simulator integrates it: a
CubaLIF's current jumps by w_in w / tau_syn whatever dt, and with "exact" the current reaches the
membrane through the exact propagator over the tick (`neurocore.neurons`), so that for inputs on
the tick grid the chip's state is the continuous solution at the tick's end. The two readings
differ by a factor of about dt (in the graph's unit of time) in every input gain: a graph must say which it means
(BATS writes "dirac"). With "dirac", a subtractive reset, which belongs at the crossing inside
the tick, is made right on average by self-synapses adding back what it would have decayed by
the tick's end (see `neurocore.methods.bats.nir_export` for what is left of the tick).

**Timing.** snnTorch, Norse and nirtorch step layer-synchronously: a layer sees the spikes
of the layer below from the same step, a recurrent edge those of the previous step. On the
chip a spike sent at tick t arrives at t + delay (>= 1). The importer gives population P a
depth d(P), the longest feed-forward path from an input (back edges found by depth-first
search from the inputs), and each projection the delay d(post) - d(pre) on a forward edge,
d(post) - d(pre) + 1 on a back edge, plus the ticks of any Delay node: the chip's spikes of
P at tick t + d(P) are then the reference's at step t, exactly. A back edge to an earlier
population (a loop through more than one population) cannot be that fast on the chip: it
gets delay 1 and a note. Graphs neurocore writes carry metadata timing = "per-edge": each
projection's delay is then 1 plus its Delay node, as the chip had it.

**Thresholds.** NIR spikes when v > v_threshold, the chip when v >= theta: the importer
sets theta to the next float32 above v_threshold (exact for float32 state), the exporter
writes v_threshold as the float32 below theta.

**Resets** (`reset=`). "nir" (default): as the file says, v = v_reset after a spike, unless
the node's metadata says {"reset": "subtract"} (neurocore's convention, also for
{"refractory": ticks}, and {"spike_budget": n}, the most spikes per neuron and sample,
as event-based trainers such as BATS bound them): then v -= theta. "subtract": every spiking node subtracts its
threshold at the spike. snnTorch's NIR export writes v_reset = 0 whatever the neuron's
reset_mechanism, and no reset_delay, so its own semantics need saying:

| snnTorch neuron (reset_delay)       | chip                                      | reset=            |
|-------------------------------------|-------------------------------------------|-------------------|
| Leaky/Synaptic/RLeaky "zero" (False)| v = 0 at the spike                        | "nir"             |
| Leaky "zero" (True, the default)    | the same                                  | "nir"             |
| Synaptic, RLeaky "zero" (True)      | v = 0, then one refractory tick           | "snntorch-zero"   |
| any "subtract" (False)              | v -= theta at the spike (approximate, *)  | "subtract"        |
| any "subtract" (True, the default)  | v -= theta at the spike, and self-synapses| "snntorch-subtract"|
|                                     | adding back what the next decay takes off |                   |

(*) snnTorch's immediate subtraction takes its next reset signal from the membrane *after*
the reset: a neuron whose v stays >= theta after its spike (v was >= 2 theta) has theta
subtracted once more at the next step, which it adds back unless it then spikes, so that
step it spikes only at 2 theta. No chip neuron computes that; spikes agree until it first
happens, then drift (measured: 356 of 3,481 output spikes of a 20-30-10 Leaky net with
output threshold 0.5 over 20 samples of 200 steps; 0 of 34,000 in the other modes above).

(snnTorch's delayed subtraction happens after the next step's decay; the chip's before it.
For LIF one self-synapse of -(1 - keep_v) theta / input_gain per neuron with delay 1 makes
up the difference exactly; a current-based neuron needs a second one, delay 2, cancelling
the first one's current.)
"""

from __future__ import annotations

from .importer import RESETS, Imported, from_nir
from .run import aligned_spikes, run_spikes

__all__ = ["RESETS", "Imported", "from_nir", "to_nir", "write_nir", "run_spikes", "aligned_spikes"]


def __getattr__(name: str):
    if name in ("to_nir", "write_nir"):
        from . import exporter
        return getattr(exporter, name)
    raise AttributeError(name)
