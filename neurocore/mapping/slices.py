"""Slices: the pieces of a population that each fit one core.

A population is cut into contiguous neuron ranges no larger than a core holds. The output
map of a shared-kernel convolution or pooling (shape (C, H, W)) is cut instead into blocks
of (a range of channels) x (a band of rows) x (every column), taking as many channels as a
crossbar has columns: an arriving spike then adds one kernel row to all of a position's
channels at once. Inside a block the neurons sit position by position, channels innermost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..connections import Conv2d
from ..errors import MappingError
from ..netlist import Netlist


@dataclass(frozen=True)
class Block:
    """Channels [c0, c1) x rows [y0, y1) x all columns of a (C, H, W) map."""

    shape: tuple[int, int, int]
    c0: int
    c1: int
    y0: int
    y1: int

    @property
    def channels(self) -> int:
        return self.c1 - self.c0

    def members(self) -> np.ndarray:
        """Population-local neuron indices, position by position, channels innermost."""
        _, h, w = self.shape
        y, x, c = np.meshgrid(np.arange(self.y0, self.y1), np.arange(w), np.arange(self.c0, self.c1), indexing="ij")
        return ((c * h + y) * w + x).ravel().astype(np.int64)


@dataclass(frozen=True)
class Slice:
    """Neurons of `population` placed on `core`: the range [start, stop), or a map `block`."""

    population: str
    start: int
    stop: int
    core: int
    block: Block | None = None

    @property
    def size(self) -> int:
        if self.block is not None:
            return self.block.channels * (self.block.y1 - self.block.y0) * self.block.shape[2]
        return self.stop - self.start

    def members(self) -> np.ndarray:
        """Population-local indices of the slice's neurons, in the order they sit on the core."""
        return self.block.members() if self.block is not None else np.arange(self.start, self.stop, dtype=np.int64)

    def span(self) -> str:
        """A short label: pop[start:stop] or pop[c0:c1, y0:y1]."""
        b = self.block
        if b is None:
            return f"{self.population}[{self.start}:{self.stop}]"
        return f"{self.population}[c{b.c0}:{b.c1}, y{b.y0}:{b.y1}]"


def kernel_conv(netlist: Netlist, proj_name: str) -> Conv2d | None:
    """The shared kernel of a convolution or pooling projection (None for other kinds)."""
    proj = netlist.projections[proj_name]
    if proj.kind == "conv":
        return proj.conn
    if proj.kind == "pool":
        return proj.conn.as_conv(proj.pre_shape[0])
    return None


def map_shape(netlist: Netlist, pop: str, conv: str) -> tuple[int, int, int] | None:
    """The (C, H, W) output map of `pop` when a shared-kernel projection feeds it, else None."""
    if conv != "shared":
        return None
    for proj in netlist.incoming(pop):
        k = kernel_conv(netlist, proj.name)
        if k is not None:
            return k.out_shape(proj.pre_shape)
    return None


def cut_population(netlist: Netlist, pop: str, cap: int, cols: int, conv: str,
                   rows_per_band: int | None = None) -> list[Slice]:
    """Equal pieces of at most `cap` neurons (core -1: not placed yet). A map is cut into blocks of
    up to `cols` channels and `rows_per_band` rows (default: as many as fit `cap`)."""
    size = netlist.populations[pop].size
    shape = map_shape(netlist, pop, conv)
    if shape is None:
        n = -(-size // cap)
        bounds = np.linspace(0, size, n + 1).round().astype(int)
        return [Slice(pop, int(a), int(b), -1) for a, b in zip(bounds[:-1], bounds[1:])]
    c, h, w = shape
    cb = min(c, cols, cap // w)
    if cb < 1:
        raise MappingError(f"limit 'neurons': one row of one channel of population '{pop}' (shape {shape}) has "
                           f"{w} neurons, over a core's {cap} by {w - cap}; what would fit: a chip with >= {w} "
                           "neurons per core, or a narrower map")
    rows = min(h, cap // (cb * w), rows_per_band or h)
    cbounds = np.linspace(0, c, -(-c // cb) + 1).round().astype(int)
    rbounds = np.linspace(0, h, -(-h // rows) + 1).round().astype(int)
    return [Slice(pop, -1, -1, -1, Block(shape, int(c0), int(c1), int(y0), int(y1)))
            for c0, c1 in zip(cbounds[:-1], cbounds[1:]) for y0, y1 in zip(rbounds[:-1], rbounds[1:])]
