"""Tiles: how a projection's synapses sit in the crossbars of its post neurons' cores.

A *crossbar* tile holds rows [row_start, row_stop) of a weight matrix (pre neurons, at most a
crossbar's rows) x the post slice's neurons (its columns); a block of rows without any synapse
gets no tile. A *kernel* tile holds the shared kernel of a convolution or pooling once per post
slice: one row per (input channel of a group, ky, kx), one column per output channel of the
slice, taking as many crossbars as its rows need. `slice_tiles` is the one place that
enumerates them; `tile_axons` says which pre neurons land on a tile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..chip import Chip
from ..netlist import Netlist
from .slices import Slice, kernel_conv

CROSSBAR, KERNEL = "crossbar", "kernel"


@dataclass(frozen=True)
class Tile:
    """Rows [row_start, row_stop) of `projection` x the columns of post slice `slice`, on `core`."""

    projection: str
    core: int
    row_start: int
    row_stop: int
    slice: int
    kind: str = CROSSBAR
    cols: int = 0
    arrays: int = 1  # crossbars it takes

    @property
    def rows(self) -> int:
        return self.row_stop - self.row_start


def slice_tiles(netlist: Netlist, chip: Chip, s: Slice, k: int, conv: str) -> list[Tile]:
    """Every tile the incoming projections of slice `s` (index k) put on its core."""
    rows_max = chip.core.crossbar_rows
    out = []
    for proj in netlist.incoming(s.population):
        kern = kernel_conv(netlist, proj.name) if conv == "shared" else None
        if kern is not None:
            n_rows = kern.in_channels_per_group() * kern.kernel[0] * kern.kernel[1]
            out.append(Tile(proj.name, s.core, 0, n_rows, k, KERNEL, s.block.channels, -(-n_rows // rows_max)))
            continue
        n_pre = netlist.populations[proj.pre].size
        mask = proj.dense()[1]
        cols = s.members()
        for r0 in range(0, n_pre, rows_max):
            r1 = min(n_pre, r0 + rows_max)
            if mask is not None and not mask[r0:r1][:, cols].any():
                continue
            out.append(Tile(proj.name, s.core, r0, r1, k, CROSSBAR, s.size))
    return out


def tile_axons(netlist: Netlist, tile: Tile, s: Slice) -> np.ndarray:
    """Pre-population indices of the neurons whose spikes land on `tile` (its input axons)."""
    if tile.kind == CROSSBAR:
        return np.arange(tile.row_start, tile.row_stop, dtype=np.int64)
    proj = netlist.projections[tile.projection]
    kern = kernel_conv(netlist, tile.projection)
    c_in, h, w = proj.pre_shape
    b = s.block
    cpg_in, cpg_out = kern.in_channels_per_group(), kern.out_channels // kern.groups
    g0, g1 = b.c0 // cpg_out, (b.c1 - 1) // cpg_out
    ci = np.arange(g0 * cpg_in, (g1 + 1) * cpg_in)
    (kh, kw), (sy, sx), (py, px), (dy, dx) = kern.kernel, kern.stride, kern.padding, kern.dilation
    iy = np.unique(np.add.outer(np.arange(b.y0, b.y1) * sy - py, np.arange(kh) * dy))
    ix = np.unique(np.add.outer(np.arange(b.shape[2]) * sx - px, np.arange(kw) * dx))
    iy, ix = iy[(iy >= 0) & (iy < h)], ix[(ix >= 0) & (ix < w)]
    return ((ci[:, None, None] * h + iy[None, :, None]) * w + ix[None, None, :]).ravel()


def kernel_segments(netlist: Netlist, tile: Tile, s: Slice) -> tuple[np.ndarray, ...]:
    """Fan-out of a kernel tile: for every (axon, kernel row) that reaches an output position of
    the slice, (axon pre index, kernel row, position in the block, first column, columns).

    The columns of a segment are the slice's channels in the axon's channel group: an arriving
    spike adds kernel row `row`, columns [col, col + n), to the neurons of that position."""
    proj = netlist.projections[tile.projection]
    kern = kernel_conv(netlist, tile.projection)
    c_in, h, w = proj.pre_shape
    b = s.block
    wo = b.shape[2]
    axons = tile_axons(netlist, tile, s)
    ci, rem = np.divmod(axons, h * w)
    iy, ix = np.divmod(rem, w)
    (kh, kw), (sy, sx), (py, px), (dy, dx) = kern.kernel, kern.stride, kern.padding, kern.dilation
    cpg_in, cpg_out = kern.in_channels_per_group(), kern.out_channels // kern.groups
    a, ky, kx = np.meshgrid(np.arange(len(axons)), np.arange(kh), np.arange(kw), indexing="ij")
    a, ky, kx = a.ravel(), ky.ravel(), kx.ravel()
    ny, nx = iy[a] + py - ky * dy, ix[a] + px - kx * dx
    ok = (ny % sy == 0) & (nx % sx == 0)
    oy, ox = ny // sy, nx // sx
    ok &= (oy >= b.y0) & (oy < b.y1) & (ox >= 0) & (ox < wo)
    a, ky, kx, oy, ox = a[ok], ky[ok], kx[ok], oy[ok], ox[ok]
    grp = ci[a] // cpg_in
    lo = np.maximum(grp * cpg_out, b.c0)
    hi = np.minimum((grp + 1) * cpg_out, b.c1)
    keep = hi > lo
    a, ky, kx, oy, ox, grp, lo, hi = (x[keep] for x in (a, ky, kx, oy, ox, grp, lo, hi))
    row = ((ci[a] - grp * cpg_in) * kh + ky) * kw + kx
    pos = (oy - b.y0) * wo + ox
    return axons[a], row, pos, lo - b.c0, hi - lo


def kernel_block(netlist: Netlist, tile: Tile, s: Slice) -> np.ndarray:
    """The (kernel rows, slice channels) weights a kernel tile stores."""
    kern = kernel_conv(netlist, tile.projection)
    b = s.block
    return np.ascontiguousarray(kern.weight[b.c0:b.c1].reshape(b.channels, -1).T)
