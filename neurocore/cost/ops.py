"""What each counted operation costs on a digital and on an analogue core: energy and busy time.

The engine counts what happened (synaptic events, tile reads, pulses, ...); this module alone
decides what that costs on the chip's kind of core (`Chip.kinds`, figures in `Chip.costs`).

| operation      | digital core (Loihi-style, serial)       | analogue core (RPU array)                         |
|----------------|-------------------------------------------|---------------------------------------------------|
| crossbar read  | syn_events x syn_read_pj, x syn_read_ns  | syn_events (driven crosspoints) x cell_read_pj;    |
|                |                                           | each tile read (forward or transposed) row_read_ns |
| ADC conversion | none (digital synapses)                   | a forward read converts each column of its tile,  |
|                |                                           | a transposed read each row: x adc_pj; ceil(n /    |
|                |                                           | adcs_per_crossbar) x adc_ns per read              |
| neuron update  | per neuron per tick, serial               | per neuron per tick; all of a core's at once      |
| write pulse    | write_pulses x write_pulse_pj, serial ns | write_pulses x write_pulse_pj; write_cycles x     |
|                |                                           | write_cycle_ns (a tick's pulses in one cycle)     |
| spike          | spikes x spike_pj, x spike_ns (serial) on every core                                         |
| packet hop     | packet_hops x packet_hop_pj (time: the mesh model)                                           |

A core does its operations one after another (an analogue core reads its tiles one after another);
cores work in parallel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..chip import Chip
from .counters import PER_CORE, PER_TILE, TILE_SHAPES, check_counters, tick_layout

KINDS = ("crossbar_read", "adc_conversion", "neuron_update", "spike", "packet_hop", "write_pulse")
TIME_KINDS = ("crossbar_read", "adc_conversion", "neuron_update", "spike", "write_pulse")


@dataclass(frozen=True)
class OpLine:
    """One operation's share of a sample: count per sample x energy per operation."""

    op: str          # syn_read, cell_read, adc_conversion, neuron_update, spike, packet_hop, write_pulse
    core: str        # the kind of core it runs on: "digital", "analog" or "any"
    kind: str        # the energy kind it adds to (KINDS)
    count: float     # operations per sample
    unit_pj: float   # energy of one operation
    energy_pj: float  # count * unit_pj


def needs(chip: Chip, latency: bool = False) -> tuple[str, ...]:
    """The counters the cost model needs on this chip beyond the totals: for energy, per-core
    arrays on a chip of mixed kinds and the tiles on one with analogue cores; for latency, the
    per-core arrays and (analogue cores) the tiles."""
    kinds = set(chip.kinds)
    need = PER_CORE if (latency or len(kinds) > 1) else ()
    return need + (PER_TILE + TILE_SHAPES if "analog" in kinds else ())


def _on(chip: Chip, c: Mapping, kind: str, total: str, per_core: str) -> float:
    """A counter's total over the cores of one kind."""
    kinds = set(chip.kinds)
    if kind not in kinds:
        return 0.0
    if len(kinds) == 1:
        return float(c[total])
    mask = np.array(chip.kinds) == kind
    return float(np.asarray(c[per_core], np.float64)[mask].sum())


def _analog_tiles(chip: Chip, c: Mapping) -> np.ndarray:
    kinds = np.array(chip.kinds)
    return kinds[np.asarray(c["tile_core"], np.int64)] == "analog"


def _conversions_per_read(outputs: np.ndarray, adcs: int) -> np.ndarray:
    """Conversion times one read of `outputs` lines takes with `adcs` ADCs (0: one per line)."""
    outputs = np.asarray(outputs, np.int64)
    if adcs <= 0:
        return (outputs > 0).astype(np.float64)
    return np.ceil(outputs / adcs)


def energy_lines(c: Mapping, chip: Chip) -> list[OpLine]:
    """Energy per sample of every operation the chip's kinds of core perform."""
    why = "an analogue core's ADC conversions follow from its tiles' reads and shapes: store counters with " \
          "neurocore.cost.cost_record(counters, placement)"
    check_counters(c, chip, need=needs(chip), why=why)
    samples = int(c["samples"])
    costs = chip.costs
    lines: list[OpLine] = []

    def add(op: str, core: str, kind: str, total: float, unit: float) -> None:
        count = total / samples
        lines.append(OpLine(op, core, kind, count, float(unit), count * float(unit)))

    kinds = set(chip.kinds)
    if "digital" in kinds:
        d = costs.digital
        add("syn_read", "digital", "crossbar_read", _on(chip, c, "digital", "syn_events", "core_syn_events"),
            d.syn_read_pj)
    if "analog" in kinds:
        a = costs.analog
        add("cell_read", "analog", "crossbar_read", _on(chip, c, "analog", "syn_events", "core_syn_events"),
            a.cell_read_pj)
        m = _analog_tiles(chip, c)
        conv = (np.asarray(c["tile_reads"], np.float64)[m] * np.asarray(c["tile_cols"])[m]).sum() + \
               (np.asarray(c["tile_col_reads"], np.float64)[m] * np.asarray(c["tile_rows"])[m]).sum()
        add("adc_conversion", "analog", "adc_conversion", float(conv), a.adc_pj)
    for kind in ("digital", "analog"):
        if kind in kinds:
            add("neuron_update", kind, "neuron_update",
                _on(chip, c, kind, "neuron_updates", "core_neuron_updates"), getattr(costs, kind).neuron_update_pj)
    add("spike", "any", "spike", float(c["spikes"]), costs.spike_pj)
    add("packet_hop", "any", "packet_hop", float(c["packet_hops"]), costs.packet_hop_pj)
    for kind in ("digital", "analog"):
        if kind in kinds:
            add("write_pulse", kind, "write_pulse", _on(chip, c, kind, "write_pulses", "core_write_pulses"),
                getattr(costs, kind).write_pulse_pj)
    return lines


def core_time(chip: Chip, c: Mapping, per_tick: bool = False) -> dict[str, np.ndarray]:
    """Busy time of each core by kind of operation (TIME_KINDS): (n_cores,) mean per tick, or
    (T, n_cores) per tick. Per tick, a counter's `<name>_per_tick` array is used when the run gave
    one (writes it does not hold, rate-mode updates at the sample's end, go to the last tick);
    otherwise its total is spread evenly over the ticks."""
    check_counters(c, chip, need=("ticks",) + needs(chip, latency=True),
                   why="latency needs the per-core (and, on analogue cores, per-tile) counters")
    n, ticks = chip.cores, int(c["ticks"])
    T, summed = tick_layout(c) if per_tick else (0, 1)
    shape = (T, n) if per_tick else (n,)
    kinds = np.array(chip.kinds)
    dig, ana = (kinds == "digital").astype(np.float64), (kinds == "analog").astype(np.float64)
    tile_core = np.asarray(c.get("tile_core", np.zeros(0, np.int64)), np.int64)
    to_core = np.zeros((len(tile_core), n))
    to_core[np.arange(len(tile_core)), tile_core] = 1.0

    def rate(total: str, tick_key: str | None = None, tiles: bool = False, rest_last: bool = False) -> np.ndarray:
        """Operations per tick: per core (or per tile with `tiles`), per tick or on average. With
        `rest_last`, what the total holds beyond the per-tick rows lands in the last tick (rate-mode
        writes: applied once the sample's ticks are over, counted in no tick)."""
        pt = c.get(tick_key) if (per_tick and tick_key) else None
        if pt is not None:
            pt = np.asarray(pt, np.float64)
            width = len(tile_core) if tiles else n
            if pt.shape != (T, width):
                raise ValueError(f"counter '{tick_key}' has shape {pt.shape}; expected ({T}, {width})")
            if rest_last and T:
                pt = pt.copy()
                pt[-1] += np.maximum(np.asarray(c[total], np.float64) - pt.sum(axis=0), 0.0)
            return pt / summed
        mean = np.asarray(c[total], np.float64) / ticks
        return np.broadcast_to(mean, (T,) + mean.shape) if per_tick else mean

    out = {k: np.zeros(shape) for k in TIME_KINDS}
    costs = chip.costs
    out["spike"] += rate("core_spikes", "core_spikes_per_tick") * costs.spike_ns
    if dig.any():
        d = costs.digital
        out["crossbar_read"] += rate("core_syn_events", "core_syn_events_per_tick") * dig * d.syn_read_ns
        out["neuron_update"] += rate("core_neuron_updates") * dig * d.neuron_update_ns
        if per_tick and c.get("core_write_pulses_per_tick") is None and c.get("tile_write_pulses_per_tick") is not None \
                and "tile_core" in c:
            writes = rate("tile_write_pulses", "tile_write_pulses_per_tick", tiles=True, rest_last=True) @ to_core
        else:
            writes = rate("core_write_pulses", "core_write_pulses_per_tick", rest_last=True)
        out["write_pulse"] += writes * dig * d.write_pulse_ns
    if ana.any():
        a = costs.analog
        on_analog = (kinds[tile_core] == "analog").astype(np.float64) if len(tile_core) else np.zeros(0)
        reads = rate("tile_reads", "tile_reads_per_tick", tiles=True) * on_analog
        col_reads = rate("tile_col_reads", "tile_col_reads_per_tick", tiles=True) * on_analog
        cycles = rate("tile_write_cycles", "tile_write_cycles_per_tick", tiles=True, rest_last=True) * on_analog
        fwd = _conversions_per_read(c["tile_cols"], a.adcs_per_crossbar) * a.adc_ns
        bwd = _conversions_per_read(c["tile_rows"], a.adcs_per_crossbar) * a.adc_ns
        out["crossbar_read"] += ((reads + col_reads) * a.row_read_ns) @ to_core
        out["adc_conversion"] += (reads * fwd + col_reads * bwd) @ to_core
        out["write_pulse"] += (cycles * a.write_cycle_ns) @ to_core
        has_neurons = (np.asarray(c["core_neuron_updates"]) > 0).astype(np.float64)
        out["neuron_update"] += np.broadcast_to(has_neurons * ana * a.neuron_update_ns, shape)
    return out


def core_compute_ns(chip: Chip, counters: Mapping, per_tick: bool = False) -> np.ndarray:
    """Busy time of each core: (n_cores,) mean per tick, or (T, n_cores) per tick (see `core_time`)."""
    parts = core_time(chip, counters, per_tick)
    return sum(parts.values())
