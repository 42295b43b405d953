"""Energy and latency per sample of a run, from its counters: the summary every command prints.

`cost_summary(counters, chip, phase, timing)` is the one function that turns a run's counters
into what `neurocore run`, `train` and `infer` print, put in `--json` and store in
`results.json`. It accepts the counters as the engine gives them or as a run folder stores them
(`cost_record`). Energy comes from every sample of the run (`neurocore.cost.ops` prices each
counted operation on the chip's kind of core), in uJ per sample by kind:

    crossbar_read, adc_conversion, neuron_update, spike, packet_hop, write_pulse

Tick latency: with a `TimingResult` (the simpy mesh replay of a few samples,
`replay_samples`), the mean and the worst replayed tick and the ticks over the chip's deadline
(`router.tick_ns`). Without one, an analytic mean tick from the run's totals (no worst tick,
no misses): the busiest core's mean busy time per tick, plus the mesh time of a mean tick =
(packets on the busiest link) / link_bandwidth + (longest route used, in hops) x hop_latency_ns.
`latency_source` says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

import numpy as np

from ..chip import Chip
from .counters import as_arrays, check_counters
from .mesh import link_loads
from .ops import KINDS, TIME_KINDS, OpLine, core_time, energy_lines, needs, stage_total, tiles_in_use

if TYPE_CHECKING:
    from .timing import TimingResult

PHASES = ("inference", "training")
KIND_LABELS = {"crossbar_read": "crossbar reads", "adc_conversion": "ADC conversions",
               "neuron_update": "neuron updates", "neuron_active": "active neurons", "spike": "spikes",
               "message_out": "packets out", "message_in": "packets in", "packet_hop": "packet hops",
               "write_pulse": "write pulses"}


@dataclass(frozen=True)
class SampleCost:
    """Energy and latency of one sample (inference or training), with their breakdowns."""

    phase: str
    chip: str
    samples: int
    ticks_per_sample: float
    lines: tuple[OpLine, ...]
    tick_ns: float                      # mean time of one tick
    latency_source: str                 # "simpy replay of ...", "analytic ..." or "unavailable: ..."
    deadline_ns: float = 0.0            # the chip's tick_ns
    tick_ns_max: float | None = None    # worst replayed tick (simpy only)
    missed_ticks: int | None = None     # replayed ticks over the deadline (simpy only)
    timed_ticks: int = 0                # ticks replayed
    timed_samples: int = 0              # samples replayed
    core_kinds: tuple[str, ...] = ()    # kinds of core the chip has
    # per sample, ns: analytic -> the busiest core's time per kind (TIME_KINDS) + "network";
    # simpy -> "compute" (slowest core) + "network" (the rest of the tick)
    latency_by_kind: dict = field(default_factory=dict)
    static_mw: float = 0.0              # the chip's leakage power
    cores_used: int = 0                 # cores holding neurons or synapses of the run
    area_used_mm2: float = 0.0          # their area
    chip_area_mm2: float = 0.0          # the whole chip's area

    def static_pj(self, paced: bool = False) -> float:
        """Leakage energy of one sample: static power x its duration, as fast as possible (the sum of
        its ticks' latencies) or paced (ticks x the deadline)."""
        duration = self.ticks_per_sample * self.deadline_ns if paced else self.latency_ns
        if not np.isfinite(duration):
            return float("nan")
        return self.static_mw * 1e-3 * duration * 1e3  # mW x ns = pJ

    @property
    def latency_ns(self) -> float:
        """Time of one sample: ticks per sample x the mean tick."""
        return self.tick_ns * self.ticks_per_sample

    @property
    def energy_pj(self) -> float:
        """Total energy of one sample."""
        return float(sum(line.energy_pj for line in self.lines))

    @property
    def energy_by_kind(self) -> dict[str, float]:
        """Energy per sample (pJ) of each kind in KINDS."""
        out = {k: 0.0 for k in KINDS}
        for line in self.lines:
            out[line.kind] += line.energy_pj
        return out

    def summary(self) -> dict:
        """What every command prints and stores (plain JSON values; None where unknown)."""
        ops: dict[str, float] = {}
        for line in self.lines:
            ops[line.op] = ops.get(line.op, 0.0) + line.count
        timed = self.missed_ticks is not None
        known = np.isfinite(self.tick_ns)
        return {
            "phase": self.phase, "chip": self.chip, "core_kinds": list(self.core_kinds),
            "samples": self.samples, "ticks_per_sample": self.ticks_per_sample,
            "energy_uj_per_sample": self.energy_pj * 1e-6,
            "energy_uj_by_kind": {k: v * 1e-6 for k, v in self.energy_by_kind.items()},
            "ops_per_sample": ops,
            "energy_source": (f"all {self.samples} samples of the run" if self.samples != 1
                              else "the one sample of the run"),
            "tick_latency_ns_mean": float(self.tick_ns) if known else None,
            "tick_latency_ns_max": self.tick_ns_max,
            "latency_ns_per_sample": float(self.latency_ns) if known else None,
            "deadline_ns": self.deadline_ns,
            "deadline_misses": self.missed_ticks,
            "deadline_miss_fraction": self.missed_ticks / self.timed_ticks if timed and self.timed_ticks else None,
            "timed_samples": self.timed_samples, "timed_ticks": self.timed_ticks,
            "latency_source": self.latency_source,
            "static_mw": self.static_mw,
            "static_uj_per_sample": {"as_fast_as_possible": _none_if_nan(self.static_pj() * 1e-6),
                                     "paced": self.static_pj(paced=True) * 1e-6},
            "area_mm2": {"cores_used": self.area_used_mm2, "chip": self.chip_area_mm2},
            "cores_used": self.cores_used,
        }

    def metrics(self, prefix: str | None = None) -> dict[str, float]:
        """Flat metrics for a sweep's results table: `<p>energy_pj`, `<p>energy_<kind>_pj`, `<p>latency_ns`, ...

        `prefix` defaults to "infer_" or "train_" after the phase.
        """
        p = ({"inference": "infer_", "training": "train_"}[self.phase] if prefix is None else prefix)
        out = {f"{p}energy_pj": self.energy_pj}
        out.update({f"{p}energy_{k}_pj": v for k, v in self.energy_by_kind.items()})
        out.update({f"{p}latency_ns": self.latency_ns, f"{p}tick_ns": self.tick_ns,
                    f"{p}ticks_per_sample": self.ticks_per_sample,
                    f"{p}static_pj": self.static_pj(), f"{p}static_paced_pj": self.static_pj(paced=True),
                    f"{p}area_used_mm2": self.area_used_mm2})
        return out


def _none_if_nan(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _area(chip: Chip, c: Mapping) -> tuple[int, float]:
    """Cores the run uses (holding neurons or synapse tiles) and their area by kind."""
    used = np.zeros(chip.cores, bool)
    for k in ("core_mapped", "core_neuron_updates"):
        if c.get(k) is not None and np.shape(c[k]) == (chip.cores,):
            used |= np.asarray(c[k]) > 0
    if c.get("tile_core") is not None and len(c["tile_core"]):
        used[np.asarray(c["tile_core"], np.int64)] = True
    kinds = np.array(chip.kinds)
    area = sum(float(used[kinds == k].sum()) * getattr(chip.costs, k).core_area_mm2 for k in ("digital", "analog"))
    return int(used.sum()), area


def sample_cost(counters: Mapping, chip: Chip, phase: str = "inference",
                timing: "TimingResult | None" = None) -> SampleCost:
    """Energy and latency per sample of the run that produced `counters` on `chip`.

    `phase` labels the run ("inference" or "training"): give the counters of an inference run
    for the inference cost, those of a training run for the training cost. Energy needs the
    totals (and, on analogue cores, the tiles); the analytic latency also the per-core arrays
    and `traffic`: without them the latency is NaN, with `latency_source` naming what is missing.
    """
    if phase not in PHASES:
        raise ValueError(f"phase = {phase!r}; allowed: {', '.join(PHASES)}")
    c = as_arrays(counters, chip)
    check_counters(c, chip)
    lines = tuple(energy_lines(c, chip))
    samples = int(c["samples"])
    ticks_per_sample = int(c["ticks"]) / samples
    kinds = tuple(k for k in ("digital", "analog") if k in chip.kinds)
    used, area = _area(chip, c)
    common = dict(deadline_ns=float(chip.router.tick_ns), core_kinds=kinds, static_mw=chip.costs.static_mw,
                  cores_used=used, area_used_mm2=area, chip_area_mm2=chip.costs.chip_area_mm2)
    if timing is not None:
        by_kind = {"compute": float(np.mean(timing.compute_ns)) * ticks_per_sample,
                   "network": float(np.mean(np.maximum(timing.tick_ns - timing.compute_ns, 0.0))) * ticks_per_sample}
        n_t = len(timing.tick_ns)
        source = (f"simpy replay of {timing.samples} sample{'s' if timing.samples != 1 else ''} ({n_t} ticks)"
                  + (", averaged over samples" if timing.averaged == "samples" else "")
                  + (", one mean tick" if timing.averaged == "ticks" else ""))
        return SampleCost(phase, chip.name, samples, ticks_per_sample, lines, timing.mean_tick_ns, source,
                          tick_ns_max=float(timing.tick_ns.max()) if n_t else 0.0,
                          missed_ticks=int(len(timing.missed_ticks)), timed_ticks=n_t,
                          timed_samples=timing.samples, latency_by_kind=by_kind, **common)
    missing = [k for k in needs(chip, latency=True) + ("traffic",) if k not in c]
    if missing:
        return SampleCost(phase, chip.name, samples, ticks_per_sample, lines, float("nan"),
                          f"unavailable: counters lack {', '.join(missing)}", **common)
    tick_ns, per_tick_by_kind = _analytic_tick(c, chip)
    by_kind = {k: v * ticks_per_sample for k, v in per_tick_by_kind.items()}
    return SampleCost(phase, chip.name, samples, ticks_per_sample, lines, tick_ns,
                      "analytic mean tick from the run's totals (no worst tick, no misses)",
                      latency_by_kind=by_kind, **common)


def cost_summary(counters: Mapping, chip: Chip, phase: str = "inference",
                 timing: "TimingResult | None" = None) -> dict:
    """The cost summary of a run (`SampleCost.summary`): what commands print and store."""
    return sample_cost(counters, chip, phase, timing).summary()


def _analytic_tick(c: Mapping, chip: Chip) -> tuple[float, dict[str, float]]:
    """Mean tick time: busiest core's busy time + busiest link's serialisation + longest route
    (+ the barrier); with `timing = "overlap"`, the longer of the busiest core and the network."""
    check_counters(c, chip, need=("ticks", "traffic"))
    ticks = int(c["ticks"])
    parts = core_time(chip, c)
    compute = stage_total(chip, parts)
    busiest = int(np.argmax(compute))
    by_kind = {k: float(parts[k][busiest]) for k in TIME_KINDS}
    traffic = np.asarray(c["traffic"], dtype=np.float64)
    r = chip.router
    network = 0.0
    src, dst = np.nonzero(traffic)
    if len(src):
        loads = link_loads(chip, traffic)
        max_load = float(loads.max()) / ticks if len(loads) else 0.0
        dx, dy = chip.hop_xy()
        hx, hy = chip.costs.hop_x_ns or r.hop_latency_ns, chip.costs.hop_y_ns or r.hop_latency_ns
        network = max_load / r.link_bandwidth + float((dx * hx + dy * hy)[src, dst].max())
    by_kind["network"] = network
    barrier = chip.costs.barrier(tiles_in_use(chip, c))
    by_kind["barrier"] = barrier
    if chip.costs.timing == "overlap":
        return max(float(compute[busiest]), network) + barrier, by_kind
    return float(compute[busiest]) + network + barrier, by_kind


def cost_table(*costs: SampleCost) -> str:
    """A plain-text table of energy per sample by operation (one column block per cost)."""
    if not costs:
        return ""
    keys = list(dict.fromkeys((line.op, line.core) for c in costs for line in c.lines))
    head = f"{'operation':<16}{'core':<9}{'kind':<16}"
    for c in costs:
        head += f"{c.phase + ' ops/sample':>24}{'pJ/op':>9}{'nJ/sample':>12}{'%':>7}"
    rows = [head, "-" * len(head)]
    for op, core in keys:
        kind = next(line.kind for c in costs for line in c.lines if (line.op, line.core) == (op, core))
        row = f"{op:<16}{core:<9}{kind:<16}"
        for c in costs:
            line = next((ln for ln in c.lines if (ln.op, ln.core) == (op, core)), None)
            if line is None:
                row += " " * 52
                continue
            share = 100.0 * line.energy_pj / c.energy_pj if c.energy_pj else 0.0
            row += f"{line.count:>24.4g}{line.unit_pj:>9.3g}{line.energy_pj / 1e3:>12.4g}{share:>7.1f}"
        rows.append(row)
    rows.append("-" * len(head))
    footer = {"total energy": [f"{c.energy_pj / 1e3:.4g} nJ" for c in costs],
              "latency": [f"{c.latency_ns / 1e3:.4g} us ({c.latency_source})" for c in costs],
              "tick time": [f"{c.tick_ns:.4g} ns x {c.ticks_per_sample:g} ticks" for c in costs]}
    for label, cells in footer.items():
        rows.append((f"{label:<41}" + "".join(cell.rjust(52) for cell in cells)).rstrip())
    return "\n".join(rows)


def _energy(pj: float, unit: str) -> str:
    return f"{pj / (1e6 if unit == 'uJ' else 1e3):.3g} {unit}"


def _scaled(uj: float) -> str:
    """An energy in uJ, in nJ, uJ or mJ as its size asks."""
    if uj >= 1e3:
        return f"{uj / 1e3:.3g} mJ"
    return f"{uj:.3g} uJ" if uj >= 1 else f"{uj * 1e3:.3g} nJ"


def _time(ns: float | None) -> str:
    if ns is None or not np.isfinite(ns):
        return "?"
    if ns >= 1e6:
        return f"{ns / 1e6:.3g} ms"
    return f"{ns / 1e3:.3g} us" if ns >= 1e3 else f"{ns:.3g} ns"


def format_summary(s: Mapping, indent: str = "") -> str:
    """Two lines for a terminal: energy per sample by kind (uJ or nJ), then the tick latency."""
    total_pj = s["energy_uj_per_sample"] * 1e6
    unit = "uJ" if total_pj >= 1e6 else "nJ"
    parts = ", ".join(f"{KIND_LABELS[k]} {_energy(v * 1e6, unit)}" for k, v in s["energy_uj_by_kind"].items()
                      if v > 0)
    line1 = (f"{indent}{s['phase']} cost on {s['chip']} ({'/'.join(s['core_kinds'])} cores): "
             f"{_energy(total_pj, unit)} per sample ({parts or 'nothing counted'}; from {s['energy_source']})")
    line2 = f"{indent}  tick latency: mean {_time(s['tick_latency_ns_mean'])}"
    if s["tick_latency_ns_max"] is not None:
        line2 += f", worst {_time(s['tick_latency_ns_max'])}"
    if s["deadline_misses"] is not None:
        line2 += (f"; {s['deadline_misses']} of {s['timed_ticks']} ticks over the {_time(s['deadline_ns'])} "
                  f"deadline")
    line2 += f" ({s['latency_source']})"
    out = line1 + "\n" + line2
    static = s.get("static_uj_per_sample") or {}
    area = s.get("area_mm2") or {}
    if s.get("static_mw") or area.get("chip") or area.get("cores_used"):
        fast, paced = static.get("as_fast_as_possible"), static.get("paced")
        out += (f"\n{indent}  static (leakage, {s.get('static_mw', 0):.3g} mW, apart from the above): "
                f"{'?' if fast is None else _scaled(fast)} per sample as fast as possible, "
                f"{'?' if paced is None else _scaled(paced)} paced at the deadline; "
                f"area {area.get('cores_used', 0):.3g} mm^2 of {s.get('cores_used', 0)} cores used, "
                f"chip {area.get('chip', 0):.3g} mm^2")
    return out
