"""Compile a Placement into the flat arrays the tick kernel runs over.

Global neuron ids (gids) number the neurons core by core in placement order, so a
slice is a contiguous gid range and a crossbar tile's columns are contiguous too:
the forward read of one row is one contiguous vector add. Random draws (source
spikes, dropout masks) follow netlist order, never gid order, so the same seed gives
the same spikes however the netlist is mapped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..mapping import Placement, hop_matrix
from ..neurons import lower

i32, i64, f32 = np.int32, np.int64, np.float32


def _csr(n: int, keys: list[int], *cols: list) -> tuple:
    """Group parallel lists by key into (ptr, col arrays...) sorted by key."""
    keys_a = np.asarray(keys, i64)
    order = np.argsort(keys_a, kind="stable")
    ptr = np.zeros(n + 1, i64)
    np.add.at(ptr, keys_a + 1, 1)
    ptr = np.cumsum(ptr)
    return (ptr, *[np.asarray(c)[order] if len(c) else np.asarray(c) for c in cols])


@dataclass
class Compiled:
    """Every array the kernel needs, plus the maps back to populations."""

    placement: Placement
    n: int
    gid: dict[str, np.ndarray]  # population -> gids of its neurons
    pop_names: list[str]
    pop_of: np.ndarray
    core_of: np.ndarray
    order: np.ndarray  # gids in netlist order
    is_src: np.ndarray
    kind: np.ndarray  # neuron model dispatch id (neurocore.neurons.KIND_*)
    keep_i: np.ndarray
    keep_v: np.ndarray
    in_gain: np.ndarray
    cur_gain: np.ndarray
    i_bias: np.ndarray
    theta: np.ndarray
    bias: np.ndarray
    v_reset: np.ndarray
    subtract: np.ndarray
    refrac: np.ndarray
    gate: np.ndarray
    drop_p: np.ndarray
    src_gid: np.ndarray
    src_offset: dict[str, int]
    # crossbar tiles
    t_core: np.ndarray
    t_rows: np.ndarray
    t_cols: np.ndarray
    t_col0: np.ndarray
    t_woff: np.ndarray
    t_row0: np.ndarray  # offset into per-row buffers
    t_cbuf0: np.ndarray  # offset into per-column buffers
    t_gain: np.ndarray
    t_learn: np.ndarray  # 1 if the tile is plastic
    t_proj: list[str]
    weights: np.ndarray  # flat device weights of all tiles
    syn_mask: np.ndarray  # flat uint8: 1 where a synapse exists
    # forward entries (pre gid -> tile row)
    fw_ptr: np.ndarray
    fw_tile: np.ndarray
    fw_row: np.ndarray
    fw_delay: np.ndarray
    # transposed reads (pre gid -> tile column, signed, rows mapped to target gids)
    tr_ptr: np.ndarray
    tr_tile: np.ndarray
    tr_col: np.ndarray
    tr_sign: np.ndarray
    tr_rmoff: np.ndarray
    tr_delay: np.ndarray
    tr_ret: np.ndarray  # index into ret_ptr
    rowmap: np.ndarray
    ret_ptr: np.ndarray
    ret_dst: np.ndarray
    # learning column pulses (gid -> tile column, direction)
    lp_ptr: np.ndarray
    lp_tile: np.ndarray
    lp_col: np.ndarray
    lp_up: np.ndarray
    lp_delay: np.ndarray
    # multicast packets of each spike
    pk_ptr: np.ndarray
    pk_dst: np.ndarray
    hops: np.ndarray
    max_delay: int
    probe_gid: np.ndarray = field(default_factory=lambda: np.zeros(0, i64))
    local_of: np.ndarray = field(default_factory=lambda: np.zeros(0, i64))  # gid -> index in its population
    core_neurons: np.ndarray = field(default_factory=lambda: np.zeros(0, i64))  # IF neurons per core
    sparse_plastic: bool = False  # some plastic tile has absent synapses (held at zero after writes)
    fw_base: np.ndarray = field(default_factory=lambda: np.zeros(0, i64))  # weight offset of each forward row
    nr_start: np.ndarray = field(default_factory=lambda: np.zeros(0, i64))
    nr_stop: np.ndarray = field(default_factory=lambda: np.zeros(0, i64))

    def __post_init__(self) -> None:
        # contiguous gid ranges of neurons of one model kind (sources excluded): the update loops over these
        run_id = np.where(self.is_src == 1, -1, self.kind.astype(i64))
        cut = np.nonzero(np.diff(run_id))[0] + 1
        starts = np.concatenate([[0], cut]).astype(i64)
        stops = np.concatenate([cut, [self.n]]).astype(i64)
        keep = run_id[starts] >= 0 if self.n else np.zeros(0, bool)
        self.nr_start, self.nr_stop = starts[keep], stops[keep]
        self.fw_base = self.t_woff[self.fw_tile] + self.fw_row * self.t_cols[self.fw_tile]
        self.sparse_plastic = bool(any(
            self.t_learn[k] and not self.syn_mask[self.tile_slice(k)].all()
            for k in range(len(self.t_core))))
        self.core_neurons = np.bincount(self.core_of[self.is_src == 0], minlength=self.placement.chip.cores)
        self.local_of = np.zeros(self.n, i64)
        for g in self.gid.values():
            self.local_of[g] = np.arange(len(g))

    @property
    def n_cores(self) -> int:
        return self.placement.chip.cores

    def tile_slice(self, k: int) -> slice:
        """Where tile k's crosspoints sit in the flat weight (and device) arrays."""
        return slice(self.t_woff[k], self.t_woff[k] + self.t_rows[k] * self.t_cols[k])

    def tile_block(self, k: int) -> np.ndarray:
        """View of tile k's device weights as (rows, cols)."""
        return self.weights[self.tile_slice(k)].reshape(
            self.t_rows[k], self.t_cols[k])


def compile_placement(pl: Placement) -> Compiled:
    """Flatten a placement into kernel arrays."""
    net = pl.netlist
    pop_names = list(net.populations)
    gid: dict[str, np.ndarray] = {p: np.zeros(net.populations[p].size, i64) for p in pop_names}
    n = 0
    slice_gid0 = []
    for s in pl.slices:
        gid[s.population][s.start:s.stop] = np.arange(n, n + s.size)
        slice_gid0.append(n)
        n += s.size
    pop_of = np.zeros(n, i32)
    core_of = np.zeros(n, i32)
    kind = np.zeros(n, np.int8)
    keep_i, keep_v, in_gain, cur_gain = np.ones(n, f32), np.ones(n, f32), np.ones(n, f32), np.ones(n, f32)
    theta, bias, i_bias, v_reset = np.ones(n, f32), np.zeros(n, f32), np.zeros(n, f32), np.zeros(n, f32)
    subtract, refrac = np.zeros(n, np.uint8), np.zeros(n, i32)
    is_src, gate, drop_p = np.zeros(n, np.uint8), np.full(n, -1, i64), np.zeros(n, f32)
    for k, name in enumerate(pop_names):
        pop, g = net.populations[name], gid[name]
        pop_of[g] = k
        core_of[g] = pl.core_of(name)
        drop_p[g] = pop.dropout
        if pop.is_source:
            is_src[g] = 1
            continue
        co = lower(pop.params, pop.size)
        kind[g], keep_i[g], keep_v[g], in_gain[g], cur_gain[g] = co.kind, co.keep_i, co.keep_v, co.input_gain, \
            co.current_gain
        theta[g], bias[g], i_bias[g], v_reset[g] = co.theta, co.bias, co.i_bias, co.v_reset
        subtract[g], refrac[g] = co.subtract, co.refractory
        if pop.gate is not None:
            gate[g] = gid[pop.gate]
    order = np.concatenate([gid[p] for p in pop_names])
    src_pops = [p for p in pop_names if net.populations[p].is_source]
    src_gid = np.concatenate([gid[p] for p in src_pops]) if src_pops else np.zeros(0, i64)
    src_offset, off = {}, 0
    for p in src_pops:
        src_offset[p] = off
        off += net.populations[p].size

    # tiles
    tiles = pl.tiles
    nt = len(tiles)
    t_core, t_rows, t_cols = (np.zeros(nt, i64) for _ in range(3))
    t_col0, t_woff, t_row0, t_cbuf0 = (np.zeros(nt, i64) for _ in range(4))
    t_gain, t_learn = np.ones(nt, f32), np.zeros(nt, np.uint8)
    blocks, masks = [], []
    woff = row0 = cbuf0 = 0
    for k, t in enumerate(tiles):
        proj = net.projections[t.projection]
        s = pl.slices[t.slice]
        t_core[k], t_rows[k], t_cols[k] = t.core, t.rows, s.size
        t_col0[k], t_woff[k], t_row0[k], t_cbuf0[k] = slice_gid0[t.slice], woff, row0, cbuf0
        t_gain[k], t_learn[k] = proj.gain, proj.plastic is not None
        pw, pm = proj.dense()
        blocks.append(pw[t.row_start:t.row_stop, s.start:s.stop].ravel())
        m = np.ones(t.rows * s.size, np.uint8) if pm is None else \
            pm[t.row_start:t.row_stop, s.start:s.stop].ravel().astype(np.uint8)
        masks.append(m)
        woff += t.rows * s.size
        row0 += t.rows
        cbuf0 += s.size
    weights = np.concatenate(blocks).astype(f32) if blocks else np.zeros(0, f32)
    syn_mask = np.concatenate(masks) if masks else np.zeros(0, np.uint8)

    # forward entries
    fk, ft, fr, fd = [], [], [], []
    for k, t in enumerate(tiles):
        proj = net.projections[t.projection]
        s = pl.slices[t.slice]
        rows = np.arange(t.row_start, t.row_stop)
        pm = proj.dense()[1]
        if pm is not None:
            rows = rows[pm[t.row_start:t.row_stop, s.start:s.stop].any(axis=1)]
        fk += gid[proj.pre][rows].tolist()
        ft += [k] * len(rows)
        fr += (rows - t.row_start).tolist()
        fd += [proj.delay] * len(rows)
    fw_ptr, fw_tile, fw_row, fw_delay = _csr(n, fk, np.asarray(ft, i64), np.asarray(fr, i64), np.asarray(fd, i64))

    # transposed reads and their graded returns
    tiles_of: dict[str, list[int]] = {}
    for k, t in enumerate(tiles):
        tiles_of.setdefault(t.projection, []).append(k)
    rk, rt, rc, rs, rm, rd, rr = [], [], [], [], [], [], []
    rowmap_parts, rm_off = [], 0
    returns = pl.return_routes()
    ret_index = {(k, name): j for j, (k, name, _) in enumerate(returns)}
    ret_lists = [np.nonzero(dst)[0] for _, _, dst in returns]
    for name, proj in net.projections.items():
        if not proj.is_tied:
            continue
        base = net.projections[proj.tied_to]
        for k in tiles_of.get(proj.tied_to, []):
            t = tiles[k]
            s = pl.slices[t.slice]
            rowmap_parts.append(gid[proj.post][t.row_start:t.row_stop])
            cols = np.arange(s.size)
            rk += gid[proj.pre][s.start + cols].tolist()
            rt += [k] * s.size
            rc += cols.tolist()
            rs += [proj.sign * base.gain] * s.size
            rm += [rm_off] * s.size
            rd += [proj.delay] * s.size
            rr += [ret_index[(k, name)]] * s.size
            rm_off += t.rows
    rowmap = np.concatenate(rowmap_parts).astype(i64) if rowmap_parts else np.zeros(0, i64)
    tr = _csr(n, rk, np.asarray(rt, i64), np.asarray(rc, i64), np.asarray(rs, f32), np.asarray(rm, i64),
              np.asarray(rd, i64), np.asarray(rr, i64))
    ret_ptr = np.zeros(len(ret_lists) + 1, i64)
    ret_ptr[1:] = np.cumsum([len(r) for r in ret_lists])
    ret_dst = np.concatenate(ret_lists).astype(i64) if ret_lists else np.zeros(0, i64)

    # learning column pulses
    lk, lt, lc, lu, ld = [], [], [], [], []
    for name, proj in net.projections.items():
        if proj.plastic is None:
            continue
        for k in tiles_of.get(name, []):
            s = pl.slices[tiles[k].slice]
            cols = np.arange(s.size)
            for pop, up in ((proj.plastic.up, 1), (proj.plastic.down, 0)):
                lk += gid[pop][s.start + cols].tolist()
                lt += [k] * s.size
                lc += cols.tolist()
                lu += [up] * s.size
                ld += [proj.delay] * s.size
    lp = _csr(n, lk, np.asarray(lt, i64), np.asarray(lc, i64), np.asarray(lu, np.uint8), np.asarray(ld, i64))

    # packets: one per (spiking neuron, destination core)
    pkk, pkd = [], []
    for name, table in pl.forward_routes().items():
        nz = np.nonzero(table)
        pkk += gid[name][nz[0]].tolist()
        pkd += nz[1].tolist()
    pk_ptr, pk_dst = _csr(n, pkk, np.asarray(pkd, i64))

    delays = [p.delay for p in net.projections.values()] or [1]
    probe_gid = np.asarray([gid[p.population][i] for p in net.probes for i in p.neurons], i64)
    return Compiled(
        pl, n, gid, pop_names, pop_of, core_of, order, is_src, kind, keep_i, keep_v, in_gain, cur_gain, i_bias,
        theta, bias, v_reset, subtract, refrac, gate, drop_p, src_gid, src_offset,
        t_core, t_rows, t_cols, t_col0, t_woff, t_row0, t_cbuf0, t_gain, t_learn,
        [t.projection for t in tiles], weights, syn_mask,
        fw_ptr, fw_tile, fw_row, fw_delay, *tr, rowmap, ret_ptr, ret_dst, *lp, pk_ptr, pk_dst,
        hop_matrix(pl.chip).astype(i64), max(delays) + 1, probe_gid)
