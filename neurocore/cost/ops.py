"""What each counted operation costs on a digital and on an analogue core: energy and busy time.

The engine counts what happened (synaptic events, tile reads, pulses, ...); this module alone
decides what that costs on the chip's kind of core (`Chip.kinds`, figures in `Chip.costs`).

| operation      | digital core (Loihi-style, serial)       | analogue core (RPU array)                         |
|----------------|-------------------------------------------|---------------------------------------------------|
| crossbar read  | syn_events x syn_read_pj, x syn_read_ns  | syn_events (driven crosspoints) x cell_read_pj;    |
|                | (sparse / conv tiles: syn_sparse_*, syn_conv_*) |                                             |
|                |                                           | each tile read (forward or transposed) row_read_ns |
| ADC conversion | none (digital synapses)                   | a forward read converts each column of its tile,  |
|                |                                           | a transposed read each row: x adc_pj; ceil(n /    |
|                |                                           | adcs_per_crossbar) x adc_ns per read              |
| neuron update  | per neuron per tick, serial               | per neuron per tick; all of a core's at once      |
| neuron active  | + neuron_active_* per active neuron (state not at rest, input arrived, or a bias)            |
| write pulse    | write_pulses x write_pulse_pj, serial ns | write_pulses x write_pulse_pj; write_cycles x     |
|                |                                           | write_cycle_ns (a tick's pulses in one cycle)     |
| spike          | spikes x spike_pj, x spike_ns (serial) on every core                                         |
| message out/in | packets x message_out_* on the sending core, x message_in_* on the receiving one             |
| packet hop     | east-west hops x hop_x_pj + north-south hops x hop_y_pj (or packet_hop_pj; time: the mesh)   |

Input (source) neurons pay spike_* unless `source_spikes_pay = false`. With `timing = "serial"` a
core does its operations one after another (an analogue core reads its tiles one after another);
with `timing = "overlap"` its neuron stage (NEURON_STAGE) runs beside its synapse stage
(SYNAPSE_STAGE) and the longer one sets its time. Cores work in parallel; a tick ends with the
chip's barrier (`OpCosts.barrier`, by tiles in use).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..chip import Chip
from .counters import PER_CORE, PER_TILE, TILE_SHAPES, check_counters, tick_layout

KINDS = ("crossbar_read", "adc_conversion", "neuron_update", "neuron_active", "spike", "message_out", "message_in",
         "packet_hop", "write_pulse")
TIME_KINDS = ("crossbar_read", "adc_conversion", "neuron_update", "neuron_active", "spike", "message_out",
              "message_in", "write_pulse")
# with `timing = "overlap"` a core's tick is the longer of these two stages (SANA-FE's pipeline)
NEURON_STAGE = ("neuron_update", "neuron_active", "spike", "message_out")
SYNAPSE_STAGE = ("crossbar_read", "adc_conversion", "message_in", "write_pulse")


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
        split = _syn_by_conn(chip, c)
        if split is None:
            add("syn_read", "digital", "crossbar_read", _on(chip, c, "digital", "syn_events", "core_syn_events"),
                d.syn_read_pj)
        else:
            for op, n, (pj, _) in zip(("syn_read", "syn_sparse", "syn_conv"), split, syn_units(d)):
                if n or op == "syn_read":
                    add(op, "digital", "crossbar_read", n, pj)
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
    if "digital" in kinds and costs.digital.neuron_active_pj and "active_updates" in c:
        add("neuron_active", "digital", "neuron_active",
            _on(chip, c, "digital", "active_updates", "core_active_updates"), costs.digital.neuron_active_pj)
    paying = float(c["spikes"]) - (0.0 if costs.source_spikes_pay else float(c.get("source_spikes", 0)))
    add("spike", "any", "spike", paying, costs.spike_pj)
    if costs.message_out_pj or costs.message_in_pj:
        add("message_out", "any", "message_out", float(c["packets"]), costs.message_out_pj)
        add("message_in", "any", "message_in", float(c["packets"]), costs.message_in_pj)
    hx, hy = costs.hop_x_pj or costs.packet_hop_pj, costs.hop_y_pj or costs.packet_hop_pj
    hops = float(c["packet_hops"])
    pj = None
    if hx != hy and c.get("traffic") is not None and hops:
        traffic = np.asarray(c["traffic"], np.float64)
        dx, dy = chip.hop_xy()
        if abs(float((traffic * (dx + dy)).sum()) - hops) < 0.5:  # the traffic table holds these hops
            pj = float((traffic * (dx * hx + dy * hy)).sum()) / hops
    if pj is None:  # no per-pair traffic: the file's packet_hop_pj, or the mean of the two directions
        pj = costs.packet_hop_pj or 0.5 * (hx + hy)
    add("packet_hop", "any", "packet_hop", hops, pj)
    for kind in ("digital", "analog"):
        if kind in kinds:
            add("write_pulse", kind, "write_pulse", _on(chip, c, kind, "write_pulses", "core_write_pulses"),
                getattr(costs, kind).write_pulse_pj)
    return lines


def syn_units(d) -> tuple[tuple[float, float], ...]:
    """(pJ, ns) of a dense, a sparse and a convolution synaptic event on a digital core (a kind
    without its own figure costs the dense one)."""
    return ((d.syn_read_pj, d.syn_read_ns), (d.syn_sparse_pj or d.syn_read_pj, d.syn_sparse_ns or d.syn_read_ns),
            (d.syn_conv_pj or d.syn_read_pj, d.syn_conv_ns or d.syn_read_ns))


def _syn_by_conn(chip: Chip, c: Mapping) -> tuple[float, float, float] | None:
    """Synaptic events on digital cores by connection kind (dense, sparse, conv), or None when the
    counters do not say (no per-tile events or kinds)."""
    if c.get("tile_syn_events") is None or c.get("tile_conn") is None:
        return None
    ev = np.asarray(c["tile_syn_events"], np.float64)
    conn = np.asarray(c["tile_conn"], np.int64)
    if ev.shape != conn.shape:
        return None
    on = np.array(chip.kinds)[np.asarray(c["tile_core"], np.int64)] == "digital" if len(conn) else np.zeros(0, bool)
    return tuple(float(ev[(conn == k) & on].sum()) for k in range(3))


def syn_unit_per_core(chip: Chip, c: Mapping, unit: int) -> np.ndarray:
    """(n_cores,) mean energy (unit 0, pJ) or time (unit 1, ns) of one synaptic event on each digital
    core, weighting its tiles' events by their connection kind's figure (the dense figure where the
    counters do not say)."""
    d = chip.costs.digital
    out = np.full(chip.cores, float(d.syn_read_ns if unit else d.syn_read_pj))
    if c.get("tile_syn_events") is None or c.get("tile_conn") is None:
        return out
    ev = np.asarray(c["tile_syn_events"], np.float64)
    conn = np.asarray(c["tile_conn"], np.int64)
    core = np.asarray(c["tile_core"], np.int64)
    fig = np.array([u[unit] for u in syn_units(d)])[conn] if len(conn) else np.zeros(0)
    tot = np.bincount(core, weights=ev, minlength=chip.cores)
    weighted = np.bincount(core, weights=ev * fig, minlength=chip.cores)
    has = tot > 0
    out[has] = weighted[has] / tot[has]
    return out


def tiles_in_use(chip: Chip, c: Mapping) -> int:
    """Tiles (routers) holding at least one neuron of the run (SANA-FE's barrier counts these)."""
    if c.get("core_mapped") is not None:
        used = np.nonzero(np.asarray(c["core_mapped"]))[0]
    else:
        used = np.nonzero(np.asarray(c.get("core_neuron_updates", np.zeros(chip.cores))))[0]
    return int(len(np.unique(used // chip.mesh.cores_per_tile))) if len(used) else 0


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
    spikes = rate("core_spikes", "core_spikes_per_tick")
    if not costs.source_spikes_pay and c.get("core_source_spikes") is not None:
        spikes = spikes - rate("core_source_spikes", "core_source_spikes_per_tick")
    out["spike"] += spikes * costs.spike_ns
    if (costs.message_out_ns or costs.message_in_ns) and c.get("traffic") is not None:
        pt = c.get("traffic_per_tick") if per_tick else None
        if pt is not None:
            pt = np.asarray(pt, np.float64) / summed
            sent, received = pt.sum(axis=2), pt.sum(axis=1)
        else:
            tr = np.asarray(c["traffic"], np.float64) / ticks
            sent, received = tr.sum(axis=1), tr.sum(axis=0)
            if per_tick:
                sent, received = np.broadcast_to(sent, shape), np.broadcast_to(received, shape)
        out["message_out"] += sent * costs.message_out_ns
        out["message_in"] += received * costs.message_in_ns
    if dig.any():
        d = costs.digital
        out["crossbar_read"] += rate("core_syn_events", "core_syn_events_per_tick") * dig * syn_unit_per_core(chip, c, 1)
        out["neuron_update"] += rate("core_neuron_updates") * dig * d.neuron_update_ns
        if d.neuron_active_ns and c.get("core_active_updates") is not None:
            out["neuron_active"] += rate("core_active_updates", "core_active_updates_per_tick") * dig * d.neuron_active_ns
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
    """Busy time of each core: (n_cores,) mean per tick, or (T, n_cores) per tick (see `core_time`):
    the sum of its parts ('serial'), or the longer of its neuron and synapse stages ('overlap')."""
    parts = core_time(chip, counters, per_tick)
    return stage_total(chip, parts)


def stage_total(chip: Chip, parts: Mapping[str, np.ndarray]) -> np.ndarray:
    """A core's time from its parts under the chip's timing model."""
    if chip.costs.timing == "overlap":
        return np.maximum(sum(parts[k] for k in NEURON_STAGE), sum(parts[k] for k in SYNAPSE_STAGE))
    return sum(parts.values())
