"""Tiles: how a projection's synapses sit in the crossbars of its post neurons' cores.

A *crossbar* tile holds rows [row_start, row_stop) of a weight matrix (pre neurons, at most a
crossbar's rows) x the post slice's neurons (its columns); a block of rows without any synapse
gets no tile. A *kernel* tile holds the shared kernel of a convolution or pooling once per post
slice: one row per (input channel of a group, ky, kx), one column per output channel of the
slice, taking as many crossbars as its rows need. `slice_tiles` is the one place that
enumerates them; `tile_axons` says which pre neurons land on a tile.

A kernel tile stores each (input channel, ky) row group with its kx in `kernel_x_order`: by phase
(kx dilation mod stride), kx descending within a phase. An input spike reaches, along x, the
output positions of one phase, at ascending x' as kx descends; the slice's neurons sit position by
position with channels innermost, so with dilation dividing the stride (dilation 1: every stride)
the rows it adds to a row band of outputs are one contiguous run of weights onto one contiguous
run of neurons (`kernel_segments`): one vector add per (spike, ky) instead of one per (spike, ky,
kx). The natural (ci, ky, kx) order stays the order of the netlist's kernel, for every reader.
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


def kernel_x_order(kw: int, sx: int, dx: int) -> np.ndarray:
    """The kx of each stored row of a (ci, ky) row group: by phase (kx dx mod sx), then kx descending."""
    kx = np.arange(kw)
    return np.lexsort((-kx, (kx * dx) % sx)).astype(np.int64)


def kernel_segments(netlist: Netlist, tile: Tile, s: Slice) -> tuple[np.ndarray, ...]:
    """Fan-out of a kernel tile: for every (axon, kernel row) that reaches an output position of
    the slice, (axon pre index, stored kernel row, position in the block, first column, columns).

    The columns of a segment are the slice's channels in the axon's channel group: an arriving
    spike adds kernel row `row` (in the tile's stored order, `kernel_block`), columns
    [col, col + n), to the neurons of that position."""
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
    stored = np.empty(kw, np.int64)
    stored[kernel_x_order(kw, sx, dx)] = np.arange(kw)
    row = ((ci[a] - grp * cpg_in) * kh + ky) * kw + stored[kx]
    pos = (oy - b.y0) * wo + ox
    return axons[a], row, pos, lo - b.c0, hi - lo


@dataclass(frozen=True)
class KernelRuns:
    """The fan-out of a kernel tile as geometry, the compact form of `kernel_segments` that the engine
    delivers from. An input spike at (ci, iy, ix) adds, for each of y_n[iy] kernel row groups ky (j-th:
    stored rows ch_row[ci] + y_row[iy] + j row_step_y), the x_n[ix] stored rows from + x_row[ix] on, each
    to one output position, columns [ch_col[ci], ch_col[ci] + ch_n[ci]) of the slice's channels: the i-th
    row to position y_pos[iy] + j pos_step_y + x_pos[ix] + i pos_step_x of the block (positions row by
    row, wo per row). With pos_step_x = 1 and all of a position's channels, a ky's rows are one
    contiguous run of weights onto one contiguous run of neurons."""

    ch_row: np.ndarray  # per input channel: first stored row of its (ci, ky = 0) group
    ch_col: np.ndarray  # first slice channel it reaches
    ch_n: np.ndarray    # slice channels it reaches (0: none, another group)
    y_n: np.ndarray     # per input row iy: kernel rows ky that reach the band
    y_row: np.ndarray   # stored row offset of the first (ky0 kw)
    y_pos: np.ndarray   # its output row's first position in the block ((oy0 - y0) wo)
    x_n: np.ndarray     # per input column ix: output columns it reaches
    x_row: np.ndarray   # stored row offset of the first (within a (ci, ky) group)
    x_pos: np.ndarray   # the first (smallest) output column
    row_step_y: int     # stored rows between consecutive ky that reach the band
    pos_step_y: int     # positions between their output rows (negative: ky up, y' down)
    pos_step_x: int     # positions between consecutive output columns of a run


def kernel_runs(netlist: Netlist, tile: Tile, s: Slice) -> KernelRuns:
    """The geometry of kernel tile `tile` on slice `s` (see KernelRuns)."""
    proj = netlist.projections[tile.projection]
    kern = kernel_conv(netlist, tile.projection)
    c_in, h, w = proj.pre_shape
    b = s.block
    wo = b.shape[2]
    (kh, kw), (sy, sx), (py, px), (dy, dx) = kern.kernel, kern.stride, kern.padding, kern.dilation
    cpg_in, cpg_out = kern.in_channels_per_group(), kern.out_channels // kern.groups
    ci = np.arange(c_in)
    grp = ci // cpg_in
    lo, hi = np.maximum(grp * cpg_out, b.c0), np.minimum((grp + 1) * cpg_out, b.c1)
    ch_n = np.maximum(hi - lo, 0)

    def reach(n_in: int, k: int, st: int, pad: int, dil: int, o0: int, o1: int) -> tuple[np.ndarray, ...]:
        """Per input index: the kernel taps (ascending) that reach outputs [o0, o1), as (count, first tap,
        its output) arrays; the taps reaching one input are spaced st / gcd(st, dil) apart."""
        i = np.arange(n_in)[:, None]
        tap = np.arange(k)[None, :]
        num = i + pad - tap * dil
        o = num // st
        ok = (num % st == 0) & (o >= o0) & (o < o1)
        count = ok.sum(axis=1)
        first = np.where(count > 0, ok.argmax(axis=1), 0)
        return count, first, np.take_along_axis(o, first[:, None], 1)[:, 0]

    y_n, ky0, oy0 = reach(h, kh, sy, py, dy, b.y0, b.y1)
    x_n, kx_lo, _ = reach(w, kw, sx, px, dx, 0, wo)
    # along x the stored rows run kx descending (kernel_x_order): a run starts at its largest tap
    kx_hi = np.where(x_n > 0, kx_lo + (x_n - 1) * (sx // np.gcd(sx, dx)), 0)
    stored = np.empty(kw, np.int64)
    stored[kernel_x_order(kw, sx, dx)] = np.arange(kw)
    ox_lo = np.where(x_n > 0, (np.arange(w) + px - kx_hi * dx) // sx, 0)
    g_y, g_x = np.gcd(sy, dy), np.gcd(sx, dx)
    i64 = np.int64
    return KernelRuns((ci - grp * cpg_in).astype(i64) * kh * kw, (lo - b.c0).astype(i64) * (ch_n > 0), ch_n.astype(i64),
                      y_n.astype(i64), (ky0 * kw).astype(i64), ((oy0 - b.y0) * wo * (y_n > 0)).astype(i64),
                      x_n.astype(i64), stored[kx_hi], ox_lo.astype(i64), (sy // g_y) * kw, -(dy // g_y) * wo,
                      dx // g_x)


def kernel_block(netlist: Netlist, tile: Tile, s: Slice) -> np.ndarray:
    """The (kernel rows, slice channels) weights a kernel tile stores: rows (ci, ky, kx) with kx in
    `kernel_x_order` within each (ci, ky)."""
    kern = kernel_conv(netlist, tile.projection)
    b = s.block
    w = kern.weight[b.c0:b.c1][..., kernel_x_order(kern.kernel[1], kern.stride[1], kern.dilation[1])]
    return np.ascontiguousarray(w.reshape(b.channels, -1).T)
