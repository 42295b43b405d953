"""Routes between slices: which slices a neuron's spike reaches, and where a column read returns.

A spike is one packet per destination core; each core a neuron's spikes reach takes one
entry of its core's routing table. Stated per slice (before slices have cores), the same
tables bound the entries a slice needs: slices that end up sharing a core can only need fewer.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..netlist import Netlist
from .slices import Slice
from .tiles import Tile


def _column_base(netlist: Netlist, name: str) -> str | None:
    """The crossbar whose columns `name`'s spikes drive: a tied projection's base, a plastic one's own."""
    proj = netlist.projections[name]
    if proj.is_tied:
        return proj.tied_to
    return name if proj.plastic is not None else None


def _column_drivers(netlist: Netlist, name: str) -> list[str]:
    proj = netlist.projections[name]
    return [proj.pre] if proj.is_tied else [proj.plastic.up, proj.plastic.down]


def spike_reach(netlist: Netlist, slices: Sequence[Slice], tiles: Sequence[Tile],
                axons: Callable[[int], np.ndarray]) -> dict[str, np.ndarray]:
    """Per source population, a (n_neurons, n_slices) bool table: which slices' cores a spike
    reaches (the tiles holding its row, and the columns it drives for learning or a transposed read).
    `axons(k)` gives the pre indices landing on tile k."""
    n = len(slices)
    out = {name: np.zeros((p.size, n), bool) for name, p in netlist.populations.items()}
    by_proj: dict[str, list[int]] = {}
    for k, t in enumerate(tiles):
        out[netlist.projections[t.projection].pre][axons(k), t.slice] = True
        by_proj.setdefault(t.projection, []).append(k)
    for name in netlist.projections:
        base = _column_base(netlist, name)
        if base is None:
            continue
        for pre in _column_drivers(netlist, name):
            for k in by_proj.get(base, []):
                j = tiles[k].slice
                out[pre][slices[j].members(), j] = True
    return out


def return_reach(netlist: Netlist, slices: Sequence[Slice], tiles: Sequence[Tile]) -> list[tuple[int, str, np.ndarray]]:
    """Graded column-read returns: (tile index, tied projection, bool[n_slices] destination slices)."""
    slice_of = {name: np.full(p.size, -1, np.int64) for name, p in netlist.populations.items()}
    for j, s in enumerate(slices):
        slice_of[s.population][s.members()] = j
    out = []
    for name, proj in netlist.projections.items():
        if not proj.is_tied:
            continue
        for k, t in enumerate(tiles):
            if t.projection != proj.tied_to:
                continue
            dst = np.zeros(len(slices), bool)
            dst[slice_of[proj.post][t.row_start:t.row_stop]] = True
            out.append((k, name, dst))
    return out


def to_cores(table: np.ndarray, slice_core: np.ndarray, n_cores: int) -> np.ndarray:
    """A table over slices (last axis) folded onto the cores that hold them."""
    out = np.zeros(table.shape[:-1] + (n_cores,), bool)
    for j, c in enumerate(slice_core):
        out[..., c] |= table[..., j]
    return out


def entries_bound(netlist: Netlist, slices: Sequence[Slice], tiles: Sequence[Tile],
                  axons: Callable[[int], np.ndarray]) -> np.ndarray:
    """Routing entries each slice needs if every slice sits on a core of its own (an upper bound)."""
    need = np.zeros(len(slices), np.int64)
    for name, table in spike_reach(netlist, slices, tiles, axons).items():
        per_neuron = table.sum(axis=1)
        for j, s in enumerate(slices):
            if s.population == name:
                need[j] += int(per_neuron[s.members()].sum())
    for k, _, dst in return_reach(netlist, slices, tiles):
        need[tiles[k].slice] += int(dst.sum())
    return need
