"""Placing slices on cores: first fit (`sequential`) or traffic-aware greedy (`traffic`).

`place` refuses a netlist that does not fit, naming the limit, where, by how much, and what
would fit.
"""

from __future__ import annotations

from typing import Literal, Sequence

import numpy as np

from ..chip import Chip
from ..errors import MappingError
from ..netlist import Netlist
from .placement import CONV_MODES, Placement, check_fits
from .slices import Slice, cut_population, map_shape
from .routes import entries_bound
from .tiles import slice_tiles, tile_axons

Strategy = Literal["sequential", "traffic"]
STRATEGIES = ("sequential", "traffic")


def place(netlist: Netlist, chip: Chip, strategy: Strategy = "sequential", conv: str = "shared",
          given: str | None = None) -> Placement:
    """Map `netlist` onto `chip`; raise MappingError if it cannot fit. With `given` (a placement TOML
    file, see `mapping.given`), the file pins the slices instead of the strategy."""
    if given:
        from .given import given_placement
        return given_placement(netlist, chip, given, conv)
    if strategy not in STRATEGIES:
        raise MappingError(f"unknown placement strategy '{strategy}'; allowed: {', '.join(STRATEGIES)}")
    if conv not in CONV_MODES:
        raise MappingError(f"unknown convolution mapping '{conv}'; allowed: {', '.join(CONV_MODES)}")
    cap = chip.core.neuron_cap
    if netlist.n_neurons > chip.cores * cap:  # refuse before cutting: a huge population would exhaust memory
        _cut(netlist, chip, conv, receivers_only=True)  # but name a slice over the axon or crossbar limit first
        raise _too_big(netlist, chip, None, range(sum(-(-p.size // cap) for p in netlist.populations.values())))
    pieces, needs = _cut_for_routes(netlist, chip, conv)
    place_fn = _place_sequential if strategy == "sequential" else _place_traffic
    cores = place_fn(pieces, needs, netlist, chip, conv)
    slices = [Slice(s.population, s.start, s.stop, int(c), s.block) for s, c in zip(pieces, cores)]
    pl = Placement(chip, netlist, strategy, slices, conv=conv)
    check_fits(pl)
    return pl


def _demand(netlist: Netlist, chip: Chip, s: Slice, conv: str) -> dict[str, int]:
    """Neurons, axons and crossbars one slice needs on its core."""
    axons = crossbars = 0
    by_proj: dict[str, list[np.ndarray]] = {}
    for t in slice_tiles(netlist, chip, s, -1, conv):
        crossbars += t.arrays
        by_proj.setdefault(t.projection, []).append(tile_axons(netlist, t, s))
    for parts in by_proj.values():
        axons += len(np.unique(np.concatenate(parts))) if len(parts) > 1 else len(parts[0])
    return {"neurons": s.size, "axons": axons, "crossbars": crossbars}


def _cut(netlist: Netlist, chip: Chip, conv: str, receivers_only: bool = False) -> list[Slice]:
    """Split every population (or only those with incoming synapses) into slices that fit a core;
    a map's row bands shrink until their inputs fit; refuse a slice that needs more axons or
    crossbars than a core has."""
    return [s for name in netlist.populations if not (receivers_only and not netlist.incoming(name))
            for s in _cut_population(netlist, chip, name, chip.core.neuron_cap, conv)]


def _cut_population(netlist: Netlist, chip: Chip, name: str, cap: int, conv: str) -> list[Slice]:
    core = chip.core
    rows = None
    while True:
        cut = cut_population(netlist, name, cap, core.crossbar_cols, conv, rows)
        needs = [(s, _demand(netlist, chip, s, conv)) for s in cut]
        bad = next(((s, n, lim) for s, n in needs for lim in ("axons", "crossbars")
                    if n[lim] > getattr(core, lim)), None)
        band = cut[0].block.y1 - cut[0].block.y0 if cut[0].block is not None else 1
        if bad is None or band <= 1:
            break
        rows = band - 1  # a narrower band of a map needs fewer input rows
    if bad is not None:
        s, need, lim = bad
        have = getattr(core, lim)
        raise MappingError(
            f"limit '{lim}': a slice of population '{name}' (neurons {s.span()}) needs "
            f"{need[lim]} {lim} from its incoming projections "
            f"({', '.join(p.name for p in netlist.incoming(name))}) but a core of chip "
            f"'{chip.name}' has {have} (over by {need[lim] - have}); what would fit: a chip "
            f"with >= {need[lim]} {lim} per core, or fewer pre-synaptic neurons"
            + (" or larger crossbars" if lim == "crossbars" else ""))
    return cut


def _cut_for_routes(netlist: Netlist, chip: Chip, conv: str) -> tuple[list[Slice], list[dict[str, int]]]:
    """The slices and what each needs on its core, routing entries included: a population whose
    slices would need more entries than a core's table holds is cut into smaller slices (which in
    turn makes its sources reach more slices), until every slice's entries fit."""
    limit = chip.core.routing_entries
    caps = {name: chip.core.neuron_cap for name in netlist.populations}
    for _ in range(64):
        pieces = [s for name in netlist.populations for s in _cut_population(netlist, chip, name, caps[name], conv)]
        tiles = [t for k, s in enumerate(pieces) for t in slice_tiles(netlist, chip, s, k, conv)]
        entries = entries_bound(netlist, pieces, tiles, lambda k: tile_axons(netlist, tiles[k], pieces[tiles[k].slice]))
        over: dict[str, int] = {}
        for s, e in zip(pieces, entries):
            if e > limit:
                smaller = min(s.size * limit // int(e), s.size - 1)
                over[s.population] = min(over.get(s.population, smaller), smaller)
        if not over:
            needs = [{**_demand(netlist, chip, s, conv), "routing_entries": int(e)} for s, e in zip(pieces, entries)]
            return pieces, needs
        for name, smaller in over.items():
            least = _smallest_slice(netlist, name, conv)
            if smaller < least:
                per_neuron = max(int(e) / s.size for s, e in zip(pieces, entries) if s.population == name)
                worst = int(np.ceil(per_neuron * least))
                raise MappingError(
                    f"limit 'routing_entries': population '{name}' cannot be cut finely enough for a core's "
                    f"routing table: a slice of the fewest neurons it can have ({least}) needs {worst} "
                    f"routing_entries (one per neuron and destination core) but a core of chip '{chip.name}' "
                    f"has {limit} (over by {max(worst - limit, 1)}); what would fit: a chip with >= "
                    f"{max(worst, limit + 1)} routing_entries per core, or larger cores for the populations it feeds")
            caps[name] = smaller
    raise MappingError(f"limit 'routing_entries': netlist '{netlist.name}' found no cut within {limit} routing "
                       f"entries per core after 64 refinements (over by at least 1); what would fit: a chip with "
                       "more routing_entries per core")


def _smallest_slice(netlist: Netlist, name: str, conv: str) -> int:
    """The fewest neurons a slice of the population can hold: one neuron, or one row of one channel of a map."""
    shape = map_shape(netlist, name, conv)
    return 1 if shape is None else shape[2]


class _Cores:
    """Remaining capacity of every core while placing."""

    def __init__(self, chip: Chip):
        c = chip.core
        self.free = {"neurons": np.full(chip.cores, c.neuron_cap), "axons": np.full(chip.cores, c.axons),
                     "crossbars": np.full(chip.cores, c.crossbars),
                     "routing_entries": np.full(chip.cores, c.routing_entries)}

    def fits(self, core: int, need: dict[str, int]) -> bool:
        return all(self.free[k][core] >= v for k, v in need.items())

    def take(self, core: int, need: dict[str, int]) -> None:
        for k, v in need.items():
            self.free[k][core] -= v


def _too_big(netlist: Netlist, chip: Chip, placed: int | None, pieces: Sequence) -> MappingError:
    total = netlist.n_neurons
    per_core = chip.core.neuron_cap
    cores_needed = len(pieces)
    if placed is None:
        short = f"its cores hold at most {chip.cores * per_core} neurons (over by {total - chip.cores * per_core})"
    else:
        short = f"only {placed} slices could be placed, {len(pieces) - placed} left over"
    w = int(np.ceil(np.sqrt(cores_needed)))
    return MappingError(
        f"limit 'cores': netlist '{netlist.name}' ({total} neurons in {len(pieces)} slices) does not fit on "
        f"chip '{chip.name}' ({chip.cores} cores of {per_core} neurons, {chip.core.axons} axons, "
        f"{chip.core.crossbars} crossbars): {short}; what would fit: a mesh of at least {cores_needed} cores (e.g. "
        f"{w} x {-(-cores_needed // w)}), or about {max(1, total * chip.cores // max(cores_needed, 1))} neurons "
        "on this chip")


def _place_sequential(pieces: list[Slice], needs: list[dict[str, int]], netlist: Netlist, chip: Chip,
                      conv: str) -> list[int]:
    """Take slices in netlist order; each goes to the lowest-numbered core it fits on (first fit)."""
    cores = _Cores(chip)
    out = []
    for k, need in enumerate(needs):
        core = next((c for c in range(chip.cores) if cores.fits(c, need)), -1)
        if core < 0:
            raise _too_big(netlist, chip, k, pieces)
        cores.take(core, need)
        out.append(core)
    return out


def _talk(pieces: list[Slice], netlist: Netlist, chip: Chip, conv: str) -> np.ndarray:
    """Expected packets between every pair of pieces if every neuron spiked once (symmetric)."""
    n = len(pieces)
    talk = np.zeros((n, n))
    by_pop: dict[str, list[int]] = {}
    for k, s in enumerate(pieces):
        by_pop.setdefault(s.population, []).append(k)
    members = [s.members() for s in pieces]

    def common(i: int, j: int) -> int:
        a, b = pieces[i], pieces[j]
        if a.block is None and b.block is None:
            return max(0, min(a.stop, b.stop) - max(a.start, b.start))
        return len(np.intersect1d(members[i], members[j]))

    def add(src: str, dst: str, mode: str) -> None:
        """all: each src neuron to every dst slice; aligned: neuron k to the slice holding
        column k; one: one packet per slice pair (a column-read return)."""
        for i in by_pop[src]:
            for j in by_pop[dst]:
                if i != j:
                    talk[i, j] += len(members[i]) if mode == "all" else common(i, j) if mode == "aligned" else 1

    for proj in netlist.projections.values():
        if proj.is_tied:  # pre drives the base crossbar's columns; the read returns to post
            base = netlist.projections[proj.tied_to]
            add(proj.pre, base.post, "aligned")
            add(base.post, proj.post, "one")
            continue
        if map_shape(netlist, proj.post, conv) is not None and proj.kind in ("conv", "pool"):
            for j in by_pop[proj.post]:  # a map block hears only its receptive field
                for t in slice_tiles(netlist, chip, pieces[j], -1, conv):
                    if t.projection == proj.name:
                        field = tile_axons(netlist, t, pieces[j])
                        for i in by_pop[proj.pre]:
                            if i != j:
                                talk[i, j] += len(np.intersect1d(members[i], field))
            continue
        add(proj.pre, proj.post, "all")
        if proj.plastic is not None:  # learning pulses drive the crossbar's columns
            add(proj.plastic.up, proj.post, "aligned")
            add(proj.plastic.down, proj.post, "aligned")
    return talk + talk.T


def _place_traffic(pieces: list[Slice], needs: list[dict[str, int]], netlist: Netlist, chip: Chip,
                   conv: str) -> list[int]:
    """Greedy communication-aware placement: each slice goes to the free core that
    minimises (expected packets x mesh hops) to the slices already placed.

    Slices are taken in order of how much they talk to what is placed (the first one,
    the busiest, goes to the mesh centre).
    """
    hops = chip.hop_matrix()
    n = len(pieces)
    talk = _talk(pieces, netlist, chip, conv)
    cores = _Cores(chip)
    where = np.full(n, -1)
    centre = ((chip.mesh.height // 2) * chip.mesh.width + chip.mesh.width // 2) * chip.mesh.cores_per_tile
    order_done: list[int] = []
    remaining = set(range(n))
    while remaining:
        if order_done:
            pull = talk[sorted(remaining)][:, order_done].sum(axis=1)
            k = sorted(remaining)[int(np.argmax(pull))]
        else:
            k = int(np.argmax(talk.sum(axis=1))) if talk.any() else 0
        need = needs[k]
        best, best_cost = -1, np.inf
        for core in range(chip.cores):
            if not cores.fits(core, need):
                continue
            cost = sum(talk[k, j] * hops[core, where[j]] for j in order_done)
            cost += 1e-6 * hops[core, centre]
            if cost < best_cost:
                best, best_cost = core, cost
        if best < 0:
            raise _too_big(netlist, chip, len(order_done), pieces)
        cores.take(best, need)
        where[k] = best
        order_done.append(k)
        remaining.discard(k)
    return [int(c) for c in where]
