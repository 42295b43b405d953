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

On a tick of dt (an importer's discretisation, exact for piecewise-constant input): with
d_i = exp(-dt / tau_syn) and d_v = exp(-dt / tau_mem), I[t+1] = d_i I[t] + (jumps at t+1) and
v[t+1] = d_v v[t] + kappa I[t], kappa = tau_mem tau_syn / (tau_mem - tau_syn) (d_v - d_i)
= 2 tau_s (d_v - d_i); in the chip's form (i[t] = (1 - di) i[t-1] + input, v[t] = (1 - dv) v[t-1]
+ i[t]) that is di = 1 - d_i, dv = 1 - d_v and weights scaled by kappa (about dt), v at
tick t then being the membrane at t + 1 ticks; spikes are only seen at ticks (up to one late).

Units: times in seconds (metadata["time_unit"] = "s"): tau_syn, tau_mem, r carry seconds;
weights are current jumps per spike and thresholds potentials in the units of BATS
(dimensionless). Per lif node, metadata also holds "spike_budget" (the most spikes per
neuron and sample in training; the chip has no such limit, so a neuron that hit its
budget in training may spike more on the chip) and "model" = "bats_cuba_lif". The graph's
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
            "input_coding": net.coding, "readout": readout}
    if net.coding == "ttfs":
        meta["ttfs_window"] = float(net.ttfs_window)
    else:
        meta |= {"rate_ticks": int(net.rate_ticks), "rate_window": float(net.rate_window), "rate_k": float(net.rate_k)}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)
