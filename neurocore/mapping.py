"""Mapping a netlist onto a chip: slices on cores, crossbar tiles, multicast routes.

A population is split into *slices* (contiguous neuron ranges) that each fit one core.
A weight-carrying projection becomes *tiles*: one per (post slice, block of at most
`crossbar_rows` pre neurons), each on the post slice's core and taking one crossbar
array there. A spike travels as one packet per destination core (multicast), fanned
out on arrival to the axons (= crossbar rows) of every tile that holds its row.

SSNN-BP's backward pass reads a tile transposed: a spike of a tied projection's
pre neuron is one packet to each core holding its column; the column read is one
graded packet from that core to each core holding the rows' target neurons.

`place` refuses a netlist that does not fit, naming the limit, where, by how much,
and what would fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np

from .chip import Chip
from .errors import MappingError
from .netlist import Netlist

Strategy = Literal["sequential", "traffic"]
STRATEGIES = ("sequential", "traffic")
LIMITS = ("neurons", "axons", "crossbars", "routing_entries")


@dataclass(frozen=True)
class Slice:
    """Neurons [start, stop) of `population`, placed on `core`."""

    population: str
    start: int
    stop: int
    core: int

    @property
    def size(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class Tile:
    """Rows [row_start, row_stop) of `projection`'s pre population x the post slice `slice`."""

    projection: str
    core: int
    row_start: int
    row_stop: int
    slice: int

    @property
    def rows(self) -> int:
        return self.row_stop - self.row_start


@dataclass
class Placement:
    """Where everything sits. Derived tables (routes, usage) are computed on demand."""

    chip: Chip
    netlist: Netlist
    strategy: str
    slices: list[Slice]
    tiles: list[Tile] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.slices = sorted(self.slices, key=lambda s: (s.core, self._pop_order(s.population), s.start))
        self._core_of = {}
        for name, pop in self.netlist.populations.items():
            self._core_of[name] = np.full(pop.size, -1, np.int64)
        for s in self.slices:
            self._core_of[s.population][s.start:s.stop] = s.core
        if not self.tiles:
            self.tiles = _make_tiles(self)

    def _pop_order(self, name: str) -> int:
        return list(self.netlist.populations).index(name)

    def core_of(self, population: str) -> np.ndarray:
        """Core of every neuron of a population."""
        return self._core_of[population]

    def slices_of(self, population: str) -> list[int]:
        return [k for k, s in enumerate(self.slices) if s.population == population]

    @property
    def cores_used(self) -> list[int]:
        return sorted({s.core for s in self.slices})

    # -- routing ----------------------------------------------------------------------
    def forward_routes(self) -> dict[str, np.ndarray]:
        """Per source population, a (n_neurons, n_cores) bool table: which cores a spike reaches."""
        n_cores = self.chip.cores
        out = {name: np.zeros((p.size, n_cores), bool) for name, p in self.netlist.populations.items()}
        for t in self.tiles:
            proj = self.netlist.projections[t.projection]
            out[proj.pre][t.row_start:t.row_stop, t.core] = True
        for name in self.netlist.projections:
            base = self._column_base(name)
            if base is None:
                continue
            for pre in self._column_drivers(name):
                for t in self.tiles:
                    if t.projection == base:
                        s = self.slices[t.slice]
                        out[pre][s.start:s.stop, t.core] = True
        return out

    def _column_base(self, name: str) -> str | None:
        proj = self.netlist.projections[name]
        if proj.is_tied:
            return proj.tied_to
        return name if proj.plastic is not None else None

    def _column_drivers(self, name: str) -> list[str]:
        proj = self.netlist.projections[name]
        if proj.is_tied:
            return [proj.pre]
        return [proj.plastic.up, proj.plastic.down]

    def return_routes(self) -> list[tuple[int, str, np.ndarray]]:
        """Graded column-read returns: (tile index, tied projection, bool[n_cores] destinations)."""
        out = []
        for name, proj in self.netlist.projections.items():
            if not proj.is_tied:
                continue
            dst_core = self.core_of(proj.post)
            for k, t in enumerate(self.tiles):
                if t.projection == proj.tied_to:
                    dst = np.zeros(self.chip.cores, bool)
                    dst[dst_core[t.row_start:t.row_stop]] = True
                    out.append((k, name, dst))
        return out

    # -- usage ------------------------------------------------------------------------
    def usage(self) -> dict[str, np.ndarray]:
        """Per-core use of every limit (arrays of length n_cores)."""
        n = self.chip.cores
        use = {k: np.zeros(n, np.int64) for k in LIMITS}
        for s in self.slices:
            use["neurons"][s.core] += s.size
        for t in self.tiles:
            use["crossbars"][t.core] += 1
        axons: set[tuple[int, str, int]] = set()
        for t in self.tiles:
            for r in range(t.row_start, t.row_stop):
                axons.add((t.core, t.projection, r))
        for core, _, _ in axons:
            use["axons"][core] += 1
        for name, table in self.forward_routes().items():
            src = self.core_of(name)
            use["routing_entries"] += np.bincount(np.repeat(src, table.sum(axis=1)), minlength=n)
        for k, _, dst in self.return_routes():
            use["routing_entries"][self.tiles[k].core] += int(dst.sum())
        return use

    def limits(self) -> dict[str, int]:
        c = self.chip.core
        return {"neurons": min(c.neurons, c.crossbar_cols), "axons": c.axons, "crossbars": c.crossbars,
                "routing_entries": c.routing_entries}

    def expected_traffic(self) -> tuple[np.ndarray, np.ndarray]:
        """(packets, hops) core-to-core matrices if every neuron spiked once."""
        n = self.chip.cores
        pk = np.zeros((n, n), np.int64)
        for name, table in self.forward_routes().items():
            src = self.core_of(name)
            for core in np.unique(src):
                pk[core] += table[src == core].sum(axis=0)
        for k, _, dst in self.return_routes():
            pk[self.tiles[k].core] += dst
        hops = pk * hop_matrix(self.chip)
        return pk, hops


def hop_matrix(chip: Chip) -> np.ndarray:
    """Router hops between every pair of cores (dimension-order routing)."""
    x = np.arange(chip.cores) % chip.mesh.width
    y = np.arange(chip.cores) // chip.mesh.width
    return np.abs(x[:, None] - x[None, :]) + np.abs(y[:, None] - y[None, :])


def _make_tiles(pl: Placement) -> list[Tile]:
    rows_max = pl.chip.core.crossbar_rows
    tiles = []
    for name, proj in pl.netlist.projections.items():
        if proj.is_tied:
            continue
        n_pre = pl.netlist.populations[proj.pre].size
        for k in pl.slices_of(proj.post):
            s = pl.slices[k]
            for r0 in range(0, n_pre, rows_max):
                r1 = min(n_pre, r0 + rows_max)
                mask = proj.dense()[1]
                if mask is not None and not mask[r0:r1, s.start:s.stop].any():
                    continue
                tiles.append(Tile(name, s.core, r0, r1, k))
    return tiles


# -- placement -----------------------------------------------------------------------------

def place(netlist: Netlist, chip: Chip, strategy: Strategy = "sequential") -> Placement:
    """Map `netlist` onto `chip`; raise MappingError if it cannot fit."""
    if strategy not in STRATEGIES:
        raise MappingError(f"unknown placement strategy '{strategy}'; allowed: {', '.join(STRATEGIES)}")
    cap = min(chip.core.neurons, chip.core.crossbar_cols)
    if netlist.n_neurons > chip.cores * cap:  # refuse before cutting: a huge population would exhaust memory
        _cut(netlist, chip, receivers_only=True)  # but name a slice over the axon or crossbar limit first
        raise _too_big(netlist, chip, None, range(sum(-(-p.size // cap) for p in netlist.populations.values())))
    pieces = _cut(netlist, chip)
    if strategy == "sequential":
        slices = _place_sequential(pieces, netlist, chip)
    else:
        slices = _place_traffic(pieces, netlist, chip)
    pl = Placement(chip, netlist, strategy, slices)
    check_fits(pl)
    return pl


def _slice_demand(netlist: Netlist, chip: Chip, pop: str, start: int, stop: int) -> dict[str, int]:
    """Neurons, axons and crossbars one slice needs on its core."""
    rows_max = chip.core.crossbar_rows
    axons = crossbars = 0
    for proj in netlist.incoming(pop):
        n_pre = netlist.populations[proj.pre].size
        for r0 in range(0, n_pre, rows_max):
            r1 = min(n_pre, r0 + rows_max)
            mask = proj.dense()[1]
            if mask is not None and not mask[r0:r1, start:stop].any():
                continue
            axons += r1 - r0
            crossbars += 1
    return {"neurons": stop - start, "axons": axons, "crossbars": crossbars}


def _cut(netlist: Netlist, chip: Chip, receivers_only: bool = False) -> list[tuple[str, int, int]]:
    """Split every population (or only those with incoming synapses) into equal slices no
    larger than a core allows; refuse a slice that needs more axons or crossbars than a core has."""
    cap = min(chip.core.neurons, chip.core.crossbar_cols)
    pieces = []
    for name, pop in netlist.populations.items():
        if receivers_only and not netlist.incoming(name):
            continue
        n_slices = -(-pop.size // cap)
        bounds = np.linspace(0, pop.size, n_slices + 1).round().astype(int)
        for a, b in zip(bounds[:-1], bounds[1:]):
            need = _slice_demand(netlist, chip, name, int(a), int(b))
            for lim in ("axons", "crossbars"):
                have = getattr(chip.core, lim)
                if need[lim] > have:
                    raise MappingError(
                        f"limit '{lim}': a slice of population '{name}' (neurons {a}..{b - 1}) needs "
                        f"{need[lim]} {lim} from its incoming projections "
                        f"({', '.join(p.name for p in netlist.incoming(name))}) but a core of chip "
                        f"'{chip.name}' has {have} (over by {need[lim] - have}); what would fit: a chip "
                        f"with >= {need[lim]} {lim} per core, or fewer pre-synaptic neurons"
                        + (" or larger crossbars" if lim == "crossbars" else ""))
            pieces.append((name, int(a), int(b)))
    return pieces


class _Cores:
    """Remaining capacity of every core while placing."""

    def __init__(self, chip: Chip):
        c = chip.core
        self.free = {"neurons": np.full(chip.cores, min(c.neurons, c.crossbar_cols)),
                     "axons": np.full(chip.cores, c.axons), "crossbars": np.full(chip.cores, c.crossbars)}

    def fits(self, core: int, need: dict[str, int]) -> bool:
        return all(self.free[k][core] >= v for k, v in need.items())

    def take(self, core: int, need: dict[str, int]) -> None:
        for k, v in need.items():
            self.free[k][core] -= v


def _too_big(netlist: Netlist, chip: Chip, placed: int | None, pieces: Sequence) -> MappingError:
    total = netlist.n_neurons
    per_core = min(chip.core.neurons, chip.core.crossbar_cols)
    cores_needed = len(pieces)
    if placed is None:
        short = f"its cores hold at most {chip.cores * per_core} neurons (over by {total - chip.cores * per_core})"
    else:
        short = f"only {placed} slices could be placed, {len(pieces) - placed} left over"
    return MappingError(
        f"limit 'cores': netlist '{netlist.name}' ({total} neurons in {len(pieces)} slices) does not fit on "
        f"chip '{chip.name}' ({chip.cores} cores of {per_core} neurons, {chip.core.axons} axons, "
        f"{chip.core.crossbars} crossbars): {short}; what would fit: a mesh of at least {cores_needed} cores (e.g. "
        f"{_mesh_hint(cores_needed)}), or about {max(1, total * chip.cores // max(cores_needed, 1))} neurons "
        "on this chip")


def _mesh_hint(n: int) -> str:
    w = int(np.ceil(np.sqrt(n)))
    return f"{w} x {-(-n // w)}"


def _place_sequential(pieces, netlist: Netlist, chip: Chip) -> list[Slice]:
    """Take slices in netlist order; each goes to the lowest-numbered core it fits on (first fit)."""
    cores = _Cores(chip)
    out = []
    for k, (name, a, b) in enumerate(pieces):
        need = _slice_demand(netlist, chip, name, a, b)
        core = next((c for c in range(chip.cores) if cores.fits(c, need)), -1)
        if core < 0:
            raise _too_big(netlist, chip, k, pieces)
        cores.take(core, need)
        out.append(Slice(name, a, b, core))
    return out


def _place_traffic(pieces, netlist: Netlist, chip: Chip) -> list[Slice]:
    """Greedy communication-aware placement: each slice goes to the free core that
    minimises (expected packets x mesh hops) to the slices already placed.

    Slices are taken in order of how much they talk to what is placed (the first one,
    the busiest, goes to the mesh centre).
    """
    hops = hop_matrix(chip)
    n = len(pieces)
    talk = np.zeros((n, n))
    by_pop: dict[str, list[int]] = {}
    for k, (name, _, _) in enumerate(pieces):
        by_pop.setdefault(name, []).append(k)

    def add(src: str, dst: str, mode: str) -> None:
        """all: each src neuron to every dst slice; aligned: neuron k to the slice holding
        column k; one: one packet per slice pair (a column-read return)."""
        for i in by_pop[src]:
            for j in by_pop[dst]:
                if i != j:
                    (_, a0, a1), (_, b0, b1) = pieces[i], pieces[j]
                    talk[i, j] += {"all": a1 - a0, "aligned": max(0, min(a1, b1) - max(a0, b0)), "one": 1}[mode]

    for proj in netlist.projections.values():
        if proj.is_tied:  # pre drives the base crossbar's columns; the read returns to post
            base = netlist.projections[proj.tied_to]
            add(proj.pre, base.post, "aligned")
            add(base.post, proj.post, "one")
            continue
        add(proj.pre, proj.post, "all")
        if proj.plastic is not None:  # learning pulses drive the crossbar's columns
            add(proj.plastic.up, proj.post, "aligned")
            add(proj.plastic.down, proj.post, "aligned")
    talk = talk + talk.T
    cores = _Cores(chip)
    where = np.full(n, -1)
    centre = (chip.mesh.height // 2) * chip.mesh.width + chip.mesh.width // 2
    order_done: list[int] = []
    remaining = set(range(n))
    while remaining:
        if order_done:
            pull = talk[sorted(remaining)][:, order_done].sum(axis=1)
            k = sorted(remaining)[int(np.argmax(pull))]
        else:
            k = int(np.argmax(talk.sum(axis=1))) if talk.any() else 0
        name, a, b = pieces[k]
        need = _slice_demand(netlist, chip, name, a, b)
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
    return [Slice(name, a, b, int(where[k])) for k, (name, a, b) in enumerate(pieces)]


def check_fits(pl: Placement) -> None:
    """Raise MappingError naming the first core limit a placement breaks."""
    use, lim = pl.usage(), pl.limits()
    for key in LIMITS:
        over = np.nonzero(use[key] > lim[key])[0]
        if len(over):
            c = int(over[0])
            pops = sorted({s.population for s in pl.slices if s.core == c})
            raise MappingError(
                f"limit '{key}': core {c} (populations {', '.join(pops)}) needs {use[key][c]} {key}, the chip "
                f"'{pl.chip.name}' allows {lim[key]} (over by {use[key][c] - lim[key]}); what would fit: a chip "
                f"with >= {use[key].max()} {key} per core, or the '{'sequential' if pl.strategy == 'traffic' else 'traffic'}' "
                "strategy, or smaller populations")
