"""Energy by kind and time of every tick of a run, from its per-tick counters.

The per-timestep view a simulator such as SANA-FE prints (its perf trace): for each tick of a
sample, the energy of each kind (`neurocore.cost.ops.KINDS`, pJ) and the tick's time (ns) = the
slowest core under the chip's timing model + the barrier (the network is left out: SANA-FE's
"simple" timing model, which this reproduces, leaves it out too). Needs a run with
`traffic="per_tick"`; its rows are ticks of a sample averaged over the run's samples.

`syn_shift = -1` books each synaptic event (and the synapse stage's time) to the tick whose spike
caused it rather than to the tick it was delivered in: SANA-FE processes a spike's synapses in the
tick it is sent, neurocore in the next one. The last row then holds no synaptic work.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..chip import Chip
from .counters import as_arrays, check_counters, tick_layout
from .ops import KINDS, NEURON_STAGE, SYNAPSE_STAGE, core_time, stage_total, syn_unit_per_core, tiles_in_use


def _shift(a: np.ndarray, by: int) -> np.ndarray:
    if by == 0:
        return a
    out = np.zeros_like(a)
    if by < 0:
        out[:by] = a[-by:]
    else:
        out[by:] = a[:-by]
    return out


def tick_costs(counters: Mapping, chip: Chip, syn_shift: int = 0) -> dict[str, np.ndarray]:
    """Per tick of a sample: `energy_<kind>_pj` (T,) for every kind, `energy_pj` (T,) their sum,
    `tick_ns` (T,) (slowest core + barrier), `neuron_stage_ns` / `synapse_stage_ns` (T, n_cores).
    Digital cores only (the Loihi-style terms)."""
    c = as_arrays(counters, chip)
    check_counters(c, chip, need=("ticks", "samples", "traffic_per_tick", "core_syn_events_per_tick",
                                  "core_spikes_per_tick"), why="tick_costs needs a run with traffic='per_tick'")
    if set(chip.kinds) != {"digital"}:
        raise ValueError(f"tick_costs prices digital cores only; chip '{chip.name}' has {sorted(set(chip.kinds))}")
    T, summed = tick_layout(c)
    k, d = chip.costs, chip.costs.digital
    ticks = int(c["ticks"])
    traffic = np.asarray(c["traffic_per_tick"], np.float64) / summed
    syn = _shift(np.asarray(c["core_syn_events_per_tick"], np.float64) / summed, syn_shift)
    spikes = np.asarray(c["core_spikes_per_tick"], np.float64) / summed
    if not k.source_spikes_pay and c.get("core_source_spikes_per_tick") is not None:
        spikes = spikes - np.asarray(c["core_source_spikes_per_tick"], np.float64) / summed
    active = (np.asarray(c["core_active_updates_per_tick"], np.float64) / summed
              if c.get("core_active_updates_per_tick") is not None else np.zeros((T, chip.cores)))
    neurons = np.asarray(c["core_neuron_updates"], np.float64) / ticks  # every neuron, every tick
    dx, dy = chip.hop_xy()
    hx, hy = k.hop_x_pj or k.packet_hop_pj, k.hop_y_pj or k.packet_hop_pj
    packets = traffic.sum(axis=(1, 2))
    e = {kind: np.zeros(T) for kind in KINDS}
    e["crossbar_read"] = syn @ syn_unit_per_core(chip, c, 0)
    e["neuron_update"] = np.full(T, neurons.sum() * d.neuron_update_pj)
    e["neuron_active"] = active.sum(axis=1) * d.neuron_active_pj
    e["spike"] = spikes.sum(axis=1) * k.spike_pj
    e["message_out"] = packets * k.message_out_pj
    e["message_in"] = packets * k.message_in_pj
    e["packet_hop"] = (traffic * (dx * hx + dy * hy)).sum(axis=(1, 2))
    out = {f"energy_{kind}_pj": v for kind, v in e.items()}
    out["energy_pj"] = sum(e.values())
    parts = core_time(chip, c, per_tick=True)
    if syn_shift:
        parts = dict(parts)
        for kind in ("crossbar_read",):
            parts[kind] = _shift(np.asarray(parts[kind]), syn_shift)
    out["neuron_stage_ns"] = sum(np.asarray(parts[x]) for x in NEURON_STAGE)
    out["synapse_stage_ns"] = sum(np.asarray(parts[x]) for x in SYNAPSE_STAGE)
    out["tick_ns"] = np.asarray(stage_total(chip, parts)).max(axis=1) + k.barrier(tiles_in_use(chip, c))
    return out
