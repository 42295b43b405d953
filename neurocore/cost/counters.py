"""The counters a run hands to the cost model: their names, checks, and per-core compute time.

A run's counters are a plain dict (see `TOTALS`, `PER_CORE`, `PER_TICK`). Totals cover the
whole run: `samples` samples of `ticks` ticks in all (so ticks per sample = ticks / samples).
Per-tick arrays have one row either per tick of the run (`ticks` rows) or per tick of a
sample, summed over the samples (`ticks / samples` rows, as the engine records them).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..chip import Chip

TOTALS = ("syn_events", "neuron_updates", "spikes", "packets", "packet_hops", "write_pulses",
          "adc_conversions", "samples", "ticks")
PER_CORE = ("core_syn_events", "core_neuron_updates", "core_spikes", "core_write_pulses")
# optional per-tick views: (T, n_cores) per core counter, (T, n_cores, n_cores) traffic
PER_TICK = ("traffic_per_tick",) + tuple(f"{k}_per_tick" for k in PER_CORE)

# per-core counter -> the OpCosts time field of one such operation
COMPUTE_TIME = {
    "core_syn_events": "syn_read_ns",
    "core_neuron_updates": "neuron_update_ns",
    "core_spikes": "spike_ns",
    "core_write_pulses": "write_pulse_ns",
}


def check_counters(counters: Mapping, chip: Chip | None = None, need: tuple[str, ...] = TOTALS) -> None:
    """Raise ValueError naming any missing counter or per-core array of the wrong shape."""
    missing = [k for k in need if k not in counters]
    if missing:
        raise ValueError(f"counters lack {', '.join(missing)}; the cost model needs {', '.join(need)}")
    for k in need:
        if k in TOTALS and np.ndim(counters[k]) != 0:
            raise ValueError(f"counter '{k}' must be a single number, got shape {np.shape(counters[k])}")
    if int(counters.get("samples", 1)) < 1:
        raise ValueError(f"counter 'samples' = {counters['samples']}; a run must have at least one sample")
    if chip is None:
        return
    n = chip.cores
    for k in need:
        if k in PER_CORE and np.shape(counters[k]) != (n,):
            raise ValueError(f"counter '{k}' has shape {np.shape(counters[k])}; expected ({n},) for "
                             f"chip '{chip.name}'")
        if k == "traffic" and np.shape(counters[k]) != (n, n):
            raise ValueError(f"counter 'traffic' has shape {np.shape(counters[k])}; expected ({n}, {n})")


def core_compute_ns(chip: Chip, counters: Mapping, per_tick: bool = False) -> np.ndarray:
    """Busy time of each core: (n_cores,) mean per tick, or (T, n_cores) per tick.

    A core does its operations one after another (syn reads, neuron updates, spikes, write
    pulses, each at its `*_ns` cost); cores work in parallel. Per tick, a counter's
    `<name>_per_tick` array is used when the run gave one; otherwise the core's total is
    spread evenly over the ticks.
    """
    check_counters(counters, chip, need=("ticks",) + PER_CORE)
    ticks = int(counters["ticks"])
    if ticks < 1:
        raise ValueError("counter 'ticks' must be >= 1")
    T, summed = tick_layout(counters) if per_tick else (None, 1)
    total = np.zeros((T, chip.cores) if per_tick else chip.cores)
    for key, field in COMPUTE_TIME.items():
        unit = float(getattr(chip.costs, field))
        if unit == 0.0:
            continue
        pt = counters.get(f"{key}_per_tick")
        if per_tick and pt is not None:
            pt = np.asarray(pt, dtype=np.float64)
            if pt.shape != (T, chip.cores):
                raise ValueError(f"counter '{key}_per_tick' has shape {pt.shape}; expected ({T}, {chip.cores})")
            total += unit * pt / summed
        else:
            total += unit * np.asarray(counters[key], dtype=np.float64) / ticks
    return total


def tick_layout(counters: Mapping) -> tuple[int, int]:
    """(rows of the per-tick arrays, samples summed in each row): (ticks, 1) when a row is one
    tick of the run, (ticks / samples, samples) when a row sums one tick position over samples."""
    ticks, samples = int(counters["ticks"]), int(counters.get("samples", 1))
    T = ticks
    for k in PER_TICK:
        if counters.get(k) is not None:
            T = int(np.shape(counters[k])[0])
            break
    if T == ticks:
        return T, 1
    if T * samples == ticks:
        return T, samples
    raise ValueError(f"per-tick counters have {T} rows; expected one per tick ({ticks}) or one per tick "
                     f"of a sample summed over the {samples} samples ({ticks / samples:g})")
