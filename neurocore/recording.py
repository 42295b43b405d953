"""Feed a trace file from engine results: the one place that knows both the engine's
RunResult and the TraceWriter (so neither knows the other)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from .engine import Engine, RunResult
from .netlist import Netlist
from .traces import TraceSelection, TraceWriter


def add_selected_probes(net: Netlist, selection: TraceSelection) -> None:
    """Add the membrane probes a trace selection asks for to a netlist (before mapping)."""
    for pop, neurons in (selection.membrane or {}).items():
        net.add_probe(pop, neurons)


class Recorder:
    """Writes the selected samples of runs of one engine into one trace file."""

    def __init__(self, engine: Engine, selection: TraceSelection, path: str | Path, metadata: dict[str, Any]):
        self.engine = engine
        self.selection = selection
        net = engine.placement.netlist
        meta = dict(metadata)
        if "mapping" not in meta:
            from .report import mapping_report
            meta["mapping"] = json.dumps(mapping_report(engine.placement))
        from .files import ensure_folder
        ensure_folder(Path(path).parent, "trace folder")
        self.populations = [p for p in net.populations if selection.wants_population(p)]
        self.writer = TraceWriter(path, meta, {p: net.populations[p].size for p in net.populations},
                                  engine.placement.chip.cores, selection)
        self._probe_pop = [(p.population, n) for p in net.probes for n in p.neurons]
        self.path = Path(path)

    @property
    def per_tick(self) -> bool:
        return self.selection.traffic == "per_tick"

    def wants(self, sample_id: int) -> bool:
        return self.selection.wants_sample(int(sample_id))

    def record(self, sample_id: int, res: RunResult, b: int = 0) -> None:
        """Write sample b of a run (made with record=True; probes=True if membranes are probed)."""
        w = self.writer
        spikes = res.spikes_by_population(b)
        for p in self.populations:
            w.add_spikes(sample_id, p, *spikes[p])
        if res.probe_v is not None and self._probe_pop:
            by_pop: dict[str, list[int]] = {}
            for k, (pop, _) in enumerate(self._probe_pop):
                by_pop.setdefault(pop, []).append(k)
            for pop, cols in by_pop.items():
                neurons = np.array([self._probe_pop[k][1] for k in cols])
                w.add_probe(sample_id, pop, neurons, res.probe_v[b][:, cols], res.probe_i[b][:, cols])
        if self.selection.packets:
            w.add_packets(sample_id, *res.packets(b))
        if self.selection.traffic != "off":
            key = "traffic_per_tick" if self.per_tick else "traffic"
            w.add_traffic(sample_id, res.counters[key])

    def snapshot(self, label: str, projections: Iterable[str]) -> None:
        if self.selection.snapshots:
            for p in projections:
                self.writer.snapshot(label, p, self.engine.weights(p))

    def counters(self, label: str, counters: dict) -> None:
        """Store counters; nested tables (spikes per population) become dotted keys."""
        flat: dict[str, Any] = {}
        for k, v in counters.items():
            if isinstance(v, dict):
                flat.update({f"{k}.{kk}": vv for kk, vv in v.items()})
            else:
                flat[k] = v
        self.writer.add_counters(label, flat)

    def close(self) -> None:
        self.writer.close()
