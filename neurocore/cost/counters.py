"""The counters a run hands to the cost model: their names, checks, and the record a run folder keeps.

A run's counters are a plain dict (the engine's `Engine.counters()` / `RunResult.counters`, or a
`cost_record` read back from `results.json`). Totals cover the whole run: `samples` samples of
`ticks` ticks in all (so ticks per sample = ticks / samples). Per-core arrays have one entry per
core of the chip, per-tile arrays one per crossbar tile of the placement, whose core and shape
are `tile_core`, `tile_rows`, `tile_cols` (added by `cost_record`, or by `tile_shapes`).
Per-tick arrays have one row either per tick of the run (`ticks` rows) or per tick of a
sample, summed over the samples (`ticks / samples` rows, as the engine records them).

The engine's `adc_conversions` counts the reads it simulated through the read model (noise, ADC
quantisation: `[read]` of the chip file); the cost model does not use it. What a read costs,
ADC conversions included, follows from the core's kind: an analogue tile converts each of its
columns per forward read and each of its rows per transposed read (`neurocore.cost.ops`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import numpy as np

from ..chip import Chip

if TYPE_CHECKING:
    from ..mapping import Placement

TOTALS = ("samples", "ticks", "syn_events", "neuron_updates", "spikes", "packets", "packet_hops", "write_pulses")
CROSSBAR_TOTALS = ("crossbar_reads", "crossbar_col_reads", "write_cycles")
PER_CORE = ("core_syn_events", "core_neuron_updates", "core_spikes", "core_write_pulses")
PER_TILE = ("tile_reads", "tile_col_reads", "tile_write_cycles", "tile_write_pulses")
TILE_SHAPES = ("tile_core", "tile_rows", "tile_cols")
# what the Loihi-style terms use when a run gives them (active neurons, source spikes, connection kinds,
# cores holding neurons); a run without them is priced with every neuron inactive, every spike paying
# and every synaptic event dense
OPTIONAL = ("active_updates", "source_spikes", "core_active_updates", "core_source_spikes", "tile_syn_events",
            "tile_conn", "core_mapped")
CONN_KINDS = ("dense", "sparse", "conv")  # tile_conn codes: 0, 1, 2
# optional per-tick views: (T, n_cores) per core, (T, n_tiles) per tile, (T, n_cores, n_cores) traffic
PER_TICK = ("traffic_per_tick", "core_syn_events_per_tick", "core_spikes_per_tick", "core_write_pulses_per_tick",
            "tile_reads_per_tick", "tile_col_reads_per_tick", "tile_write_pulses_per_tick",
            "tile_write_cycles_per_tick", "core_active_updates_per_tick", "core_source_spikes_per_tick")
# what a run folder stores of a run: enough for its energy and its analytic mean-tick latency
RECORD = TOTALS + CROSSBAR_TOTALS + PER_CORE + PER_TILE + TILE_SHAPES + OPTIONAL + ("traffic",)


def tile_shapes(placement: "Placement") -> dict[str, np.ndarray]:
    """Core, rows and columns of every crossbar tile of a placement, in the engine's tile order."""
    tiles = placement.tiles
    projections = placement.netlist.projections

    def conn(t) -> int:  # CONN_KINDS code of the projection a tile holds
        return CONN_KINDS.index(projections[t.projection].synapse_kind)

    # a tile's columns are its post slice's neurons (a shared-kernel tile says its own: `cols`)
    return {"tile_core": np.array([t.core for t in tiles], np.int64),
            "tile_rows": np.array([t.rows for t in tiles], np.int64),
            "tile_cols": np.array([getattr(t, "cols", 0) or placement.slices[t.slice].size for t in tiles], np.int64),
            "tile_conn": np.array([conn(t) for t in tiles], np.int64)}


def cost_record(counters: Mapping, placement: "Placement | None" = None) -> dict:
    """The JSON-ready counters of a run that the cost model needs (`RECORD`), tile shapes included.

    Arrays become lists and the core-to-core `traffic` matrix a sparse table {from, to, packets};
    `as_arrays` (which every cost function applies) turns them back. Per-tick arrays are left out:
    latency per tick comes from a replay of a few samples (`replay_samples`).
    """
    c = dict(counters)
    if placement is not None:
        c.update(tile_shapes(placement))
    out: dict = {}
    for k in RECORD:
        if k not in c:
            continue
        v = c[k]
        if k == "traffic" and np.ndim(v) == 2:
            a = np.asarray(v)
            src, dst = np.nonzero(a)
            out[k] = {"from": src.tolist(), "to": dst.tolist(), "packets": a[src, dst].tolist()}
        elif np.ndim(v) == 0:
            out[k] = v.item() if isinstance(v, np.generic) else v
        else:
            out[k] = np.asarray(v).tolist()
    return out


def as_arrays(counters: Mapping, chip: Chip | None = None) -> dict:
    """The counters with lists as numpy arrays and a sparse `traffic` table as a dense matrix."""
    out = dict(counters)
    for k, v in counters.items():
        if k == "traffic" and isinstance(v, Mapping):
            if chip is None:
                raise ValueError("a sparse 'traffic' table needs the chip to size its matrix")
            src, dst = np.asarray(v["from"], np.int64), np.asarray(v["to"], np.int64)
            if len(src) and max(src.max(), dst.max()) >= chip.cores:
                raise ValueError(f"counter 'traffic' names core {max(src.max(), dst.max())}; chip "
                                 f"'{chip.name}' has {chip.cores} cores")
            dense = np.zeros((chip.cores, chip.cores), np.int64)
            np.add.at(dense, (src, dst), np.asarray(v["packets"], np.int64))
            out[k] = dense
        elif isinstance(v, (list, tuple)):
            out[k] = np.asarray(v)
    return out


def check_counters(counters: Mapping, chip: Chip | None = None, need: tuple[str, ...] = TOTALS,
                   why: str = "") -> None:
    """Raise ValueError naming any missing counter or array of the wrong shape."""
    missing = [k for k in need if k not in counters]
    if missing:
        hint = f" ({why})" if why else ""
        raise ValueError(f"counters lack {', '.join(missing)}; the cost model needs {', '.join(need)}{hint}")
    for k in need:
        if k in TOTALS + CROSSBAR_TOTALS and np.ndim(counters[k]) != 0:
            raise ValueError(f"counter '{k}' must be a single number, got shape {np.shape(counters[k])}")
    if int(counters.get("samples", 1)) < 1:
        raise ValueError(f"counter 'samples' = {counters['samples']}; a run must have at least one sample")
    if "ticks" in need and int(counters["ticks"]) < 1:
        raise ValueError("counter 'ticks' must be >= 1")
    if chip is None:
        return
    n = chip.cores
    tiles = {np.shape(counters[k]) for k in need if k in PER_TILE + TILE_SHAPES}
    if len(tiles) > 1:
        raise ValueError(f"per-tile counters disagree on the number of tiles: shapes {sorted(tiles)}")
    for k in need:
        if k in PER_CORE + ("core_active_updates", "core_source_spikes", "core_mapped") and np.shape(counters[k]) != (n,):
            raise ValueError(f"counter '{k}' has shape {np.shape(counters[k])}; expected ({n},) for "
                             f"chip '{chip.name}'")
        if k == "traffic" and np.shape(counters[k]) != (n, n):
            raise ValueError(f"counter 'traffic' has shape {np.shape(counters[k])}; expected ({n}, {n})")
    if "tile_core" in need and len(counters["tile_core"]):
        top = int(np.max(counters["tile_core"]))
        if top >= n:
            raise ValueError(f"counter 'tile_core' names core {top}; chip '{chip.name}' has {n} cores")


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
