"""Where everything sits: slices on cores, tiles in their crossbars, and the routes and core use
they imply.

A spike travels as one packet per destination core (multicast), fanned out on arrival to
the axons of every tile that holds it. SSNN-BP's backward pass reads a crossbar transposed:
a spike of a tied projection's pre neuron is one packet to each core holding its column;
the column read is one graded packet from that core to each core holding the rows' target
neurons.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..chip import Chip
from ..errors import MappingError
from ..netlist import Netlist
from .routes import return_reach, spike_reach, to_cores
from .slices import Slice
from .tiles import Tile, slice_tiles, tile_axons

LIMITS = ("neurons", "axons", "crossbars", "routing_entries")
CONV_MODES = ("shared", "unrolled")


@dataclass
class Placement:
    """Slices on cores and their tiles. Derived tables (routes, usage) are computed on demand.

    `conv` is how convolutions and pooling are stored: "shared" (one kernel per post slice's
    core, as analogue conv accelerators and Loihi's shared synapses do) or "unrolled" (every
    synapse in crossbar rows, as any sparse projection)."""

    chip: Chip
    netlist: Netlist
    strategy: str
    slices: list[Slice]
    tiles: list[Tile] = field(default_factory=list)
    conv: str = "shared"

    def __post_init__(self) -> None:
        order = {name: k for k, name in enumerate(self.netlist.populations)}
        self.slices = sorted(self.slices, key=lambda s: (s.core, order[s.population], s.start,
                                                         (s.block.c0, s.block.y0) if s.block else (0, 0)))
        self._core_of = {name: np.full(p.size, -1, np.int64) for name, p in self.netlist.populations.items()}
        for s in self.slices:
            self._core_of[s.population][s.members()] = s.core
        if not self.tiles:
            self.tiles = [t for k, s in enumerate(self.slices)
                          for t in slice_tiles(self.netlist, self.chip, s, k, self.conv)]
        self._axons: dict[int, np.ndarray] = {}

    def core_of(self, population: str) -> np.ndarray:
        """Core of every neuron of a population."""
        return self._core_of[population]

    def slices_of(self, population: str) -> list[int]:
        return [k for k, s in enumerate(self.slices) if s.population == population]

    @property
    def cores_used(self) -> list[int]:
        return sorted({s.core for s in self.slices})

    def tiles_of(self, projection: str) -> list[int]:
        return [k for k, t in enumerate(self.tiles) if t.projection == projection]

    def axons(self, k: int) -> np.ndarray:
        """Pre-population indices of the neurons whose spikes land on tile k."""
        if k not in self._axons:
            t = self.tiles[k]
            self._axons[k] = tile_axons(self.netlist, t, self.slices[t.slice])
        return self._axons[k]

    # -- routing ----------------------------------------------------------------------
    def _slice_cores(self) -> np.ndarray:
        return np.array([s.core for s in self.slices], np.int64)

    def forward_routes(self) -> dict[str, np.ndarray]:
        """Per source population, a (n_neurons, n_cores) bool table: which cores a spike reaches."""
        cores = self._slice_cores()
        return {name: to_cores(table, cores, self.chip.cores)
                for name, table in spike_reach(self.netlist, self.slices, self.tiles, self.axons).items()}

    def return_routes(self) -> list[tuple[int, str, np.ndarray]]:
        """Graded column-read returns: (tile index, tied projection, bool[n_cores] destinations)."""
        cores = self._slice_cores()
        return [(k, name, to_cores(dst, cores, self.chip.cores))
                for k, name, dst in return_reach(self.netlist, self.slices, self.tiles)]

    # -- usage ------------------------------------------------------------------------
    def usage(self) -> dict[str, np.ndarray]:
        """Per-core use of every limit (arrays of length n_cores)."""
        n = self.chip.cores
        use = {k: np.zeros(n, np.int64) for k in LIMITS}
        for s in self.slices:
            use["neurons"][s.core] += s.size
        axons: dict[tuple[int, str], list[np.ndarray]] = {}
        for k, t in enumerate(self.tiles):
            use["crossbars"][t.core] += t.arrays
            axons.setdefault((t.core, t.projection), []).append(self.axons(k))
        for (core, _), parts in axons.items():
            use["axons"][core] += len(np.unique(np.concatenate(parts)))
        for name, table in self.forward_routes().items():
            src = self.core_of(name)
            use["routing_entries"] += np.bincount(np.repeat(src, table.sum(axis=1)), minlength=n)
        for k, _, dst in self.return_routes():
            use["routing_entries"][self.tiles[k].core] += int(dst.sum())
        return use

    def limits(self) -> dict[str, int]:
        c = self.chip.core
        return {"neurons": c.neuron_cap, "axons": c.axons, "crossbars": c.crossbars,
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
        return pk, pk * self.chip.hop_matrix()


def check_fits(pl: Placement) -> None:
    """Raise MappingError naming the first core limit a placement breaks."""
    use, lim = pl.usage(), pl.limits()
    for key in LIMITS:
        over = np.nonzero(use[key] > lim[key])[0]
        if len(over):
            c = int(over[0])
            pops = sorted({s.population for s in pl.slices if s.core == c})
            other = "sequential" if pl.strategy == "traffic" else "traffic"
            raise MappingError(
                f"limit '{key}': core {c} (populations {', '.join(pops)}) needs {use[key][c]} {key}, the chip "
                f"'{pl.chip.name}' allows {lim[key]} (over by {use[key][c] - lim[key]}); what would fit: a chip "
                f"with >= {use[key].max()} {key} per core, or the '{other}' strategy, or smaller populations")
