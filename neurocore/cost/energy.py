"""Energy and latency per sample from a run's counters and the chip's per-operation costs.

Energy: every counted operation times its cost (`Chip.costs`), per sample, grouped by kind:

| kind          | operations (counter x cost)                                            |
|---------------|-------------------------------------------------------------------------|
| crossbar_read | syn_events x syn_read_pj  +  adc_conversions x adc_pj                  |
| neuron_update | neuron_updates x neuron_update_pj                                      |
| spike         | spikes x spike_pj                                                      |
| packet_hop    | packet_hops x packet_hop_pj                                            |
| write_pulse   | write_pulses x write_pulse_pj                                          |

Latency: ticks per sample x the time of one tick. With a `TimingResult` (the simpy mesh
replay, `neurocore.cost.timing`) the tick time is the replay's mean barrier time. Without
it, an analytic estimate: the busiest core's mean compute time per tick, plus the mesh
time of a mean tick = (packets on the busiest link) / link_bandwidth + (longest route used,
in hops) x hop_latency_ns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

import numpy as np

from ..chip import Chip
from .counters import COMPUTE_TIME, PER_CORE, TOTALS, check_counters, core_compute_ns
from .mesh import link_loads

if TYPE_CHECKING:
    from .timing import TimingResult

PHASES = ("inference", "training")
KINDS = ("crossbar_read", "neuron_update", "spike", "packet_hop", "write_pulse")
# operation -> (counter, energy cost field, kind)
OPS = {
    "syn_read": ("syn_events", "syn_read_pj", "crossbar_read"),
    "adc": ("adc_conversions", "adc_pj", "crossbar_read"),
    "neuron_update": ("neuron_updates", "neuron_update_pj", "neuron_update"),
    "spike": ("spikes", "spike_pj", "spike"),
    "packet_hop": ("packet_hops", "packet_hop_pj", "packet_hop"),
    "write_pulse": ("write_pulses", "write_pulse_pj", "write_pulse"),
}
_TIME_KIND = {"core_syn_events": "crossbar_read", "core_neuron_updates": "neuron_update",
              "core_spikes": "spike", "core_write_pulses": "write_pulse"}


@dataclass(frozen=True)
class OpLine:
    """One operation's share of a sample: count per sample x cost per operation."""

    op: str
    kind: str
    count: float          # operations per sample
    unit_pj: float        # energy of one operation
    energy_pj: float      # count * unit_pj


@dataclass(frozen=True)
class SampleCost:
    """Energy and latency of one sample (inference or training), with their breakdowns."""

    phase: str
    chip: str
    samples: int
    ticks_per_sample: float
    lines: tuple[OpLine, ...]
    latency_ns: float
    latency_source: str                 # "analytic" or "simpy"
    tick_ns: float                      # time of one tick (mean)
    # per sample, ns: analytic -> the busiest core's time per kind (crossbar_read, neuron_update,
    # spike, write_pulse) + "network"; simpy -> "compute" (slowest core) + "network" (the rest of the tick)
    latency_by_kind: dict = field(default_factory=dict)

    @property
    def energy_pj(self) -> float:
        """Total energy of one sample."""
        return float(sum(line.energy_pj for line in self.lines))

    @property
    def energy_by_kind(self) -> dict[str, float]:
        """Energy per sample of each kind in KINDS (crossbar_read includes ADC conversions)."""
        out = {k: 0.0 for k in KINDS}
        for line in self.lines:
            out[line.kind] += line.energy_pj
        return out

    def metrics(self, prefix: str | None = None) -> dict[str, float]:
        """Flat metrics for a results table: `<p>energy_pj`, `<p>energy_<kind>_pj`, `<p>latency_ns`, ...

        `prefix` defaults to "infer_" or "train_" after the phase.
        """
        p = ({"inference": "infer_", "training": "train_"}[self.phase] if prefix is None else prefix)
        out = {f"{p}energy_pj": self.energy_pj}
        out.update({f"{p}energy_{k}_pj": v for k, v in self.energy_by_kind.items()})
        out.update({f"{p}latency_ns": self.latency_ns, f"{p}tick_ns": self.tick_ns,
                    f"{p}ticks_per_sample": self.ticks_per_sample})
        return out


def sample_cost(counters: Mapping, chip: Chip, phase: str = "inference",
                timing: "TimingResult | None" = None) -> SampleCost:
    """Energy and latency per sample of the run that produced `counters` on `chip`.

    `phase` labels the run ("inference" or "training"): give the counters of an inference
    run for the inference cost, those of a training run for the training cost. Energy needs
    only the totals; latency also needs the per-core arrays and `traffic` (or `timing`): without
    them it is NaN, with `latency_source` naming what is missing.
    """
    if phase not in PHASES:
        raise ValueError(f"phase = {phase!r}; allowed: {', '.join(PHASES)}")
    check_counters(counters, chip, need=TOTALS)
    samples = int(counters["samples"])
    lines = []
    for op, (counter, cost_field, kind) in OPS.items():
        count = float(counters[counter]) / samples
        unit = float(getattr(chip.costs, cost_field))
        lines.append(OpLine(op, kind, count, unit, count * unit))
    ticks_per_sample = int(counters["ticks"]) / samples
    if timing is not None:
        tick_ns = timing.mean_tick_ns
        by_kind = {"compute": float(np.mean(timing.compute_ns)) * ticks_per_sample,
                   "network": float(np.mean(np.maximum(timing.tick_ns - timing.compute_ns, 0.0))) * ticks_per_sample}
        source = "simpy"
    elif any(k not in counters for k in PER_CORE + ("traffic",)):
        missing = [k for k in PER_CORE + ("traffic",) if k not in counters]
        tick_ns, by_kind, source = float("nan"), {}, f"unavailable: counters lack {', '.join(missing)}"
    else:
        tick_ns, per_tick_by_kind = _analytic_tick(counters, chip)
        by_kind = {k: v * ticks_per_sample for k, v in per_tick_by_kind.items()}
        source = "analytic"
    return SampleCost(phase, chip.name, samples, ticks_per_sample, tuple(lines),
                      tick_ns * ticks_per_sample, source, tick_ns, by_kind)


def _analytic_tick(counters: Mapping, chip: Chip) -> tuple[float, dict[str, float]]:
    """Mean tick time: busiest core's compute + busiest link's serialisation + longest route."""
    check_counters(counters, chip, need=("ticks",) + PER_CORE + ("traffic",))
    ticks = int(counters["ticks"])
    compute = core_compute_ns(chip, counters)
    busiest = int(np.argmax(compute))
    by_kind = {k: 0.0 for k in KINDS if k != "packet_hop"}
    for key in PER_CORE:
        by_kind[_TIME_KIND[key]] += (float(getattr(chip.costs, COMPUTE_TIME[key]))
                                     * float(counters[key][busiest]) / ticks)
    traffic = np.asarray(counters["traffic"], dtype=np.float64)
    r = chip.router
    network = 0.0
    src, dst = np.nonzero(traffic)
    if len(src):
        max_load = float(link_loads(chip, traffic).max()) / ticks
        max_hops = max(chip.hops(int(a), int(b)) for a, b in zip(src, dst))
        network = max_load / r.link_bandwidth + max_hops * r.hop_latency_ns
    by_kind["network"] = network
    return float(compute[busiest]) + network, by_kind


def cost_table(*costs: SampleCost) -> str:
    """A plain-text table of energy per sample by operation (one column block per cost)."""
    if not costs:
        return ""
    head = f"{'operation':<15}{'kind':<15}"
    for c in costs:
        head += f"{c.phase + ' ops/sample':>24}{'pJ/op':>9}{'nJ/sample':>12}{'%':>7}"
    rows = [head, "-" * len(head)]
    for i, op in enumerate(OPS):
        row = f"{op:<15}{OPS[op][2]:<15}"
        for c in costs:
            line = c.lines[i]
            share = 100.0 * line.energy_pj / c.energy_pj if c.energy_pj else 0.0
            row += f"{line.count:>24.4g}{line.unit_pj:>9.3g}{line.energy_pj / 1e3:>12.4g}{share:>7.1f}"
        rows.append(row)
    rows.append("-" * len(head))
    footer = {"total energy": [f"{c.energy_pj / 1e3:.4g} nJ" for c in costs],
              "latency": [f"{c.latency_ns / 1e3:.4g} us ({c.latency_source})" for c in costs],
              "tick time": [f"{c.tick_ns:.4g} ns x {c.ticks_per_sample:g} ticks" for c in costs]}
    for label, cells in footer.items():
        rows.append((f"{label:<30}" + "".join(cell.rjust(52) for cell in cells)).rstrip())
    return "\n".join(rows)
