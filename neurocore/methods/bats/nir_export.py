"""A trained BATS network as a NIR graph (the PyPI package `nir`), for deployment on the chip.

What is written, for layers k = 1..L (hidden..., output):

    nodes  input             nir.Input(shape [n_0])
           linear{k}          nir.Linear(weight = W_k^T, shape (n_k, n_{k-1}), float64: the BATS weights unchanged)
           lif{k}             nir.CubaLIF, per neuron (arrays of shape (n_k,)):
                                  tau_syn = tau_s, tau_mem = 2 tau_s, r = 2 tau_s, v_leak = 0,
                                  v_threshold = theta_k, v_reset = 0, w_in = tau_s
           output             nir.Output(shape [n_L])
    edges  input -> linear1 -> lif1 -> linear2 -> ... -> lif{L} -> output

What it means. NIR's CubaLIF is tau_syn dI/dt = -I + w_in S and tau_mem dv/dt =
(v_leak - v) + r I, with S = W s the Linear node's output and s a sum of Dirac deltas (one
of unit area per input spike). Across a spike of weight w, I jumps by w_in w / tau_syn =
w, and the membrane is dv/dt = -v / (2 tau_s) + I: exactly the BATS neuron

    tau_s dI/dt = -I (I += w per input spike),   tau du/dt = -u + tau I,   tau = 2 tau_s.

Reset: NIR resets v to v_reset; BATS subtracts the threshold (v -= theta, so v = 0 only
when v crosses theta exactly, as in continuous time). Every lif node carries
metadata["reset"] = "subtract": an importer must subtract v_threshold, not set v_reset.
A BATS neuron spikes when v reaches theta (NIR: v > v_threshold; the same in continuous time).

On the chip. The graph's metadata says how to discretise it: "dt" = duration / chip_ticks,
"discretisation" = "exact" and "spikes" = "dirac" (a spike is a Dirac delta of unit area, as NIR
defines it; see `neurocore.nir`). The importer then gives each neuron, with d_i = exp(-dt/tau_syn)
and d_v = exp(-dt/tau_mem), the chip's update

    i[t] = d_i i[t-1] + x[t]                      x[t]: the weights of the spikes arriving at tick t
    v[t] = d_v v[t-1] + kappa i[t],  kappa = 2 tau_s (d_v - d_i)   (the exact propagator from i to v)

which is the event-based neuron itself for inputs on the tick grid: i[t] is the current just after
tick t's inputs, v[t] the membrane at the end of the tick. What is left of the tick:

- a crossing inside the tick is seen at its end: on the first layer, the chip's spike at tick n
  stands for an event-based spike in ((n - 1) dt, n dt] (an input at time k dt fires the input
  source at tick k and arrives one tick later; the state at tick n is the membrane at the tick's
  end). The spike reaches the next layer at the end of its tick, up to one tick late, so layer k's
  spikes lag by up to k ticks; the output's, on average, by about half a tick per layer;
- the reset: BATS subtracts theta at the crossing, where by the tick's end it has decayed by
  exp(-delta / tau_mem); the importer subtracts theta at the spike and adds back theta times one
  minus that decay's mean over the tick one tick later (self-synapses), so that the reset is right
  on average. Its residual, +-theta dt / 2 tau_mem per reset, moves later spikes by a fraction of a
  tick each (more where the membrane creeps up to theta);
- inputs: ttfs times go to the nearest tick (`BatsTrainer.input_spikes`); a rate train's ticks
  are mapped onto the chip's (two spikes of one input in one chip tick are one spike);
- the chip runs chip_ticks + (layers) ticks per sample and counts every output spike (the output
  lags about half a tick per layer, so this window is the event-based sample's, within a tick);
- the spike budget: each lif node's metadata "spike_budget" becomes its neurons' `max_spikes` on
  the chip (a per-neuron spike counter: after the budget's last spike the neuron holds to the end
  of the sample), so the chip's neurons spike at most as often as in training. Without it a
  trained multi-spike net misfires badly: bats_fmnist (budgets 5, 5, 20) after 6 epochs is
  87.9 % event-based and 39 % with budgets of 20 (measured); single-spike nets spike once.

At a fine tick (duration / 5000) every neuron spikes as often as off the chip and its spikes
come within a tick or two of the event-based times (`tests/test_bats_chip.py`).

Units: times in seconds (metadata["time_unit"] = "s"): tau_syn, tau_mem, r carry seconds;
weights are current jumps per spike and thresholds potentials in the units of BATS
(dimensionless). Per lif node, metadata also holds "spike_budget" (the most spikes per
neuron and sample, in training and on the chip) and "model" = "bats_cuba_lif". The graph's
metadata holds the sample's "duration" (s), the input coding ("input_coding", and
"ttfs_window" in s for ttfs: a pixel p > 0 spikes once at ttfs_window * (1 - p); or
"rate_ticks", "rate_window", "rate_k") and the readout ("readout" = "spike_count": argmax
of output spike counts, or "first_spike": argmin of first output spike times).
"""

from __future__ import annotations

import numpy as np

from .spec import BatsNetSpec


def to_nir(net: BatsNetSpec, weights: list[np.ndarray], readout: str = "spike_count"):
    """The NIR graph of a BATS network with these (n_pre, n_post) weight matrices."""
    import nir

    sizes = net.layers
    if len(weights) != len(sizes) - 1:
        raise ValueError(f"{len(weights)} weight matrices for a network of {len(sizes) - 1} layers")
    nodes = {"input": nir.Input(input_type={"input": np.array([sizes[0]])})}
    edges = []
    prev = "input"
    for k, (w, theta, budget) in enumerate(zip(weights, net.thresholds, net.budgets), start=1):
        n = sizes[k]
        if w.shape != (sizes[k - 1], n):
            raise ValueError(f"layer {k}: weights of shape {w.shape}, expected {(sizes[k - 1], n)}")
        full = np.full(n, 1.0)
        nodes[f"linear{k}"] = nir.Linear(weight=np.ascontiguousarray(np.asarray(w, np.float64).T))
        nodes[f"lif{k}"] = nir.CubaLIF(
            tau_syn=full * net.tau_s, tau_mem=full * 2 * net.tau_s, r=full * 2 * net.tau_s, v_leak=full * 0.0,
            v_threshold=full * theta, v_reset=full * 0.0, w_in=full * net.tau_s,
            metadata={"reset": "subtract", "time_unit": "s", "spike_budget": int(budget), "model": "bats_cuba_lif"})
        edges += [(prev, f"linear{k}"), (f"linear{k}", f"lif{k}")]
        prev = f"lif{k}"
    nodes["output"] = nir.Output(output_type={"output": np.array([sizes[-1]])})
    edges.append((prev, "output"))
    meta = {"method": "bats", "time_unit": "s", "duration": float(net.duration), "tau_s": float(net.tau_s),
            "input_coding": net.coding, "readout": readout, "chip_ticks": int(net.chip_ticks),
            "dt": float(net.duration) / int(net.chip_ticks), "discretisation": "exact", "spikes": "dirac"}
    if net.coding == "ttfs":
        meta["ttfs_window"] = float(net.ttfs_window)
    else:
        meta |= {"rate_ticks": int(net.rate_ticks), "rate_window": float(net.rate_window), "rate_k": float(net.rate_k)}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)
