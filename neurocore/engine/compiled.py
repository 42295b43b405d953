"""Compile a Placement into the records the tick kernel runs over (`neurocore.engine.records`).

Random draws (source spikes, dropout masks) follow netlist order, never gid order, so the
same seed gives the same spikes however the netlist is mapped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..mapping import CROSSBAR, Placement
from ..mapping.tiles import KernelRuns, kernel_block, kernel_runs, kernel_segments
from ..errors import ConfigError
from ..loihi import lower_loihi
from ..neurons import KIND_PLAIN, lower
from .memory import aligned_copy
from .records import (ACTIVE_BLOCK, KE_D, KE_M, KE_NX, KE_NY, KE_SLOT, KE_W, PK_S0, PK_S1, PK_SEG, PK_TILE,
                      RUN_FIRE_MULTI, RUN_FIRE_PLAIN, RUN_IF, RUN_LIF, RUN_PARS, Kernels, Neurons, Routes, Tiles)

i32, i64, f32 = np.int32, np.int64, np.float32
KE_COLS = (KE_W, KE_D, KE_SLOT, KE_NY, KE_NX, KE_M)


def _pack(rt: Routes) -> np.ndarray:
    """Routes.fw_pack: each forward entry's tile, segment range and first segment in one 64-byte row."""
    n = len(rt.fw_tile)
    pack = np.zeros((n, 8), i64)
    pack[:, PK_TILE] = rt.fw_tile
    pack[:, PK_S0] = rt.seg_ptr[:-1]
    pack[:, PK_S1] = rt.seg_ptr[1:]
    has = rt.seg_ptr[1:] > rt.seg_ptr[:-1]
    pack[has, PK_SEG:PK_SEG + rt.seg.shape[1]] = rt.seg[rt.seg_ptr[:-1][has]]
    return pack


def _ports(n_cores: int, nr: Neurons, tl: Tiles, rt: Routes) -> np.ndarray:
    """Routes.port: the cores a packet can leave or reach (of neurons, tiles and destinations) numbered in
    order, -1 for the others, so that traffic is counted over used cores, not the whole mesh."""
    used = np.unique(np.concatenate([nr.core_of, tl.core, rt.pk_dst, rt.ret_dst]).astype(i64))
    port = np.full(n_cores, -1, i64)
    port[used] = np.arange(len(used))
    return port


def _one_delay(delay: np.ndarray) -> int:
    """The delay all entries of a table share (0 if they do not, or there are none)."""
    return int(delay[0]) if delay.size and (delay == delay[0]).all() else 0


def _csr(n: int, keys: np.ndarray, *cols: np.ndarray) -> tuple:
    """Group parallel arrays by key into (ptr, cols sorted by key, stable)."""
    keys = np.asarray(keys, i64)
    order = np.argsort(keys, kind="stable")
    ptr = np.zeros(n + 1, i64)
    np.add.at(ptr, keys + 1, 1)
    return (np.cumsum(ptr), *[np.asarray(c)[order] for c in cols])


def _cat(parts: list, dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


@dataclass
class Compiled:
    """The records of a placement plus the maps back to populations and tiles."""

    placement: Placement
    n: int
    gid: dict[str, np.ndarray]   # population -> gid of each of its neurons (population order)
    pop_names: list[str]
    local_of: np.ndarray         # gid -> index in its population
    src_offset: dict[str, int]   # source population -> its first index among the sources
    neurons: Neurons
    tiles: Tiles
    routes: Routes
    weights: np.ndarray          # flat device weights of all tiles (the chip's synaptic state)
    syn_mask: np.ndarray         # flat uint8: 1 where a synapse exists
    tile_proj: list[str]
    tile_kind: list[str]
    slot_width: np.ndarray       # columns of each read slot (ADC conversions of one read)
    core_neurons: np.ndarray     # neurons (not sources) per core
    probe_gid: np.ndarray
    sparse_plastic: bool

    @property
    def n_cores(self) -> int:
        return self.placement.chip.cores

    @property
    def ports(self) -> np.ndarray:
        """The chip cores of the traffic counters' rows and columns (Routes.port), in order."""
        return np.flatnonzero(self.routes.port >= 0)

    @property
    def n_tiles(self) -> int:
        return len(self.tile_proj)

    @property
    def n_slots(self) -> int:
        return len(self.slot_width)

    def tile_slice(self, k: int) -> slice:
        """Where tile k's crosspoints sit in the flat weight (and device) arrays."""
        t = self.tiles
        return slice(int(t.woff[k]), int(t.woff[k] + t.rows[k] * t.cols[k]))

    def tile_block(self, k: int) -> np.ndarray:
        """View of tile k's device weights as (rows, cols)."""
        return self.weights[self.tile_slice(k)].reshape(int(self.tiles.rows[k]), int(self.tiles.cols[k]))


def _neurons(pl: Placement, gid: dict[str, np.ndarray], n: int) -> Neurons:
    net = pl.netlist
    loihi = pl.chip.precision.arithmetic == "loihi"
    kind = np.zeros(n, np.int8)
    ones, zeros = (lambda: np.ones(n, f32)), (lambda: np.zeros(n, f32))
    keep_i, keep_v, in_gain, cur_gain = ones(), ones(), ones(), ones()
    theta, bias, i_bias, v_reset = ones(), zeros(), zeros(), zeros()
    subtract, refrac, max_spikes = np.zeros(n, np.uint8), np.zeros(n, i32), np.zeros(n, i32)
    gate, drop_p = np.full(n, -1, i64), zeros()
    per_tick, v_min = np.ones(n, i32), np.full(n, -np.inf, f32)
    pop_of, core_of, is_src = np.zeros(n, i32), np.zeros(n, i32), np.zeros(n, np.uint8)
    for k, (name, pop) in enumerate(net.populations.items()):
        g = gid[name]
        pop_of[g] = k
        core_of[g] = pl.core_of(name)
        drop_p[g] = pop.dropout
        if pop.is_source:
            is_src[g] = 1
            continue
        try:
            co = lower_loihi(pop.params, pop.size) if loihi else lower(pop.params, pop.size)
        except ConfigError as e:
            raise ConfigError(e.message, key=f"population.{name}.{e.key}") from None
        kind[g], keep_i[g], keep_v[g], in_gain[g], cur_gain[g] = (co.kind, co.keep_i, co.keep_v, co.input_gain,
                                                                  co.current_gain)
        theta[g], bias[g], i_bias[g], v_reset[g] = co.theta, co.bias, co.i_bias, co.v_reset
        subtract[g], refrac[g], max_spikes[g] = co.subtract, co.refractory, co.max_spikes
        per_tick[g], v_min[g] = co.max_per_tick, co.v_min
        if pop.gate is not None:
            gate[g] = gid[pop.gate]
    # contiguous gid ranges of one model kind (sources excluded): the neuron update loops over these
    # (split at core boundaries too, so that a run's active-neuron count belongs to one core)
    # (and at population boundaries, so that a run's coefficients are usually one value each: see run_par)
    run_id = np.where(is_src == 1, -1, kind.astype(i64) + 256 * (core_of.astype(i64) + (1 << 20) * pop_of))
    cut = np.nonzero(np.diff(run_id))[0] + 1
    starts, stops = np.concatenate([[0], cut]).astype(i64), np.concatenate([cut, [n]]).astype(i64)
    live = run_id[starts] >= 0 if n else np.zeros(0, bool)
    starts, stops = starts[live], stops[live]
    modes = np.zeros(len(starts), np.int8)
    for r, (a, b) in enumerate(zip(starts, stops)):
        free = (refrac[a:b] == 0).all() and (max_spikes[a:b] == 0).all()  # the screened threshold loop
        plain = (free and (gate[a:b] < 0).all() and kind[a] == KIND_PLAIN and (in_gain[a:b] == 1).all() and (cur_gain[a:b] == 1).all()
                 and (i_bias[a:b] == 0).all())
        if (per_tick[a:b] > 1).any() or (v_min[a:b] > -np.inf).any():
            modes[r] = RUN_FIRE_MULTI
        elif loihi and free and (gate[a:b] < 0).all() and (keep_i[a:b] == 0).all() and (keep_v[a:b] == 4096).all():
            modes[r] = RUN_IF  # Loihi's IF: du = 4095, dv = 0 (kernel.integrate_loihi_if)
        elif plain and not loihi:
            modes[r] = RUN_IF if (keep_v[a:b] == 1).all() else RUN_LIF
        elif free:
            modes[r] = RUN_FIRE_PLAIN
    # a run whose coefficients are one value each is updated with scalars: the same arithmetic, fewer loads
    coef = np.stack([keep_i, keep_v, in_gain, cur_gain, i_bias, bias, theta], axis=1) if n else np.zeros((0, 7), f32)
    run_par = np.zeros((len(starts), RUN_PARS), f32)
    run_uniform = np.zeros(len(starts), np.uint8)
    for r, (a, b) in enumerate(zip(starts, stops)):
        run_par[r] = coef[a]
        run_uniform[r] = (coef[a:b] == coef[a]).all()
    order = np.concatenate([gid[p] for p in net.populations]) if n else np.zeros(0, i64)
    src = [gid[p] for p, pop in net.populations.items() if pop.is_source]
    # active sets: blocks of at most ACTIVE_BLOCK neurons within a run. A block that never rests: some
    # bias, a threshold at or below 0 (fires at v = 0) or a lower clamp above 0 (moves v off 0)
    b_start = [np.arange(a, b, ACTIVE_BLOCK, dtype=i64) for a, b in zip(starts, stops)]
    counts = np.array([len(x) for x in b_start], i64)
    run_blk1 = np.cumsum(counts).astype(i64)
    run_blk0 = (run_blk1 - counts).astype(i64)
    blk_start = _cat(b_start, i64)
    blk_stop = _cat([np.minimum(x + ACTIVE_BLOCK, b) for x, b in zip(b_start, stops)], i64)
    blk_of = np.zeros(n, i64)
    restless = (bias != 0) | (i_bias != 0) | (theta <= 0) | (v_min > 0)
    # an integrator (IF: v = v + x + bias, no clamp) with no input and i = 0 keeps its v exactly (not in
    # fixed point: a reset by subtraction may leave v off the grid, and the next update rounds it)
    fixed = pl.chip.precision.state == "fixed" and not loihi
    holds = (keep_v == (4096.0 if loihi else 1.0)) & (v_min == -np.inf) & (not fixed)
    blk_always, blk_hold = np.zeros(len(blk_start), np.uint8), np.zeros(len(blk_start), np.uint8)
    for j, (a, b) in enumerate(zip(blk_start, blk_stop)):
        blk_of[a:b] = j
        blk_always[j] = restless[a:b].any()
        blk_hold[j] = holds[a:b].all()
    return Neurons(kind, keep_i, keep_v, in_gain, cur_gain, i_bias, bias, theta, v_reset, subtract, refrac, max_spikes, gate,
                   drop_p, pop_of, core_of, order.astype(i64), _cat(src, i64), starts, stops, modes, per_tick, v_min,
                   int(n + np.maximum(per_tick.astype(i64) - 1, 0).sum()), blk_start, blk_stop, blk_always, blk_hold, blk_of,
                   run_blk0, run_blk1, run_uniform, run_par)


def _gids(pl: Placement) -> tuple[dict[str, np.ndarray], list[int], list[np.ndarray], int]:
    """Global ids slice by slice in placement order: population -> gids, each slice's first gid and
    members, and the neuron count."""
    net = pl.netlist
    gid = {p: np.zeros(net.populations[p].size, i64) for p in net.populations}
    n = 0
    slice_gid0, members = [], []
    for s in pl.slices:
        m = s.members()
        gid[s.population][m] = np.arange(n, n + len(m))
        slice_gid0.append(n)
        members.append(m)
        n += len(m)
    return gid, slice_gid0, members, n


def _kernel_entries(kr: KernelRuns, pre_shape: tuple[int, int, int], axons: np.ndarray, w0: np.ndarray,
                    d0: np.ndarray, slot0: int, cols: int) -> np.ndarray:
    """Kernels.ke rows of a kernel tile's entries (its input neurons `axons`, pre-population indices) from
    its geometry; w0 and d0 per input channel: the weight and neuron of its first column at row 0,
    position 0."""
    _, h, w = pre_shape
    ci, rem = np.divmod(axons, h * w)
    iy, ix = np.divmod(rem, w)
    p0 = kr.y_pos[iy] + kr.x_pos[ix]
    rows = np.zeros((len(axons), len(KE_COLS)), i64)
    rows[:, KE_W] = w0[ci] + (kr.ch_row[ci] + kr.y_row[iy] + kr.x_row[ix]) * cols
    rows[:, KE_D] = d0[ci] + p0 * cols
    rows[:, KE_SLOT] = slot0 + p0
    rows[:, KE_NY], rows[:, KE_NX], rows[:, KE_M] = kr.y_n[iy], kr.x_n[ix], kr.ch_n[ci]
    return rows


class _Forward(NamedTuple):
    """What `_forward` compiles: tiles, their weights, forward entries with fan-out segments, read slots."""

    tiles: Tiles
    weights: np.ndarray
    syn_mask: np.ndarray
    fields: tuple  # the forward and read-slot fields of Routes, in order
    slot_width: np.ndarray
    kern: Kernels


def _forward(pl: Placement, gid: dict, slice_gid0: list, members: list, n: int) -> _Forward:
    """Tiles, their weights, entries and fan-out segments (crossbars) or geometry (kernels), read slots."""
    net = pl.netlist
    nt = len(pl.tiles)
    t_core, t_rows, t_cols, t_woff, t_col0, t_row0, t_cbuf0 = (np.zeros(nt, i64) for _ in range(7))
    t_gain, t_learn = np.ones(nt, f32), np.zeros(nt, np.uint8)
    k_row_step, k_step_y, k_step_x = (np.zeros(nt, i64) for _ in range(3))
    blocks, masks = [], []
    e_key, e_tile, e_row, e_delay, e_syn, e_ke = [], [], [], [], [], []
    s_entry, s_w, s_dst, s_n, s_slot, s_col = [], [], [], [], [], []
    slot_tile, slot_dst, slot_width = [], [], []
    woff = row0 = cbuf0 = n_entries = 0
    for k, t in enumerate(pl.tiles):
        proj, s = net.projections[t.projection], pl.slices[t.slice]
        cols, g0 = t.cols, slice_gid0[t.slice]
        t_core[k], t_rows[k], t_cols[k], t_woff[k], t_row0[k], t_cbuf0[k] = t.core, t.rows, cols, woff, row0, cbuf0
        t_gain[k], t_learn[k] = proj.gain, proj.plastic is not None
        slot0 = len(slot_tile)
        if t.kind == CROSSBAR:
            pw, pm = proj.dense()
            blk = pw[t.row_start:t.row_stop][:, members[t.slice]]
            m = np.ones(blk.shape, np.uint8) if pm is None else pm[t.row_start:t.row_stop][:, members[t.slice]]
            rows = np.nonzero(m.any(axis=1))[0]
            t_col0[k] = g0
            slot_tile.append(k), slot_dst.append(g0), slot_width.append(cols)
            ne = len(rows)
            e_key.append(gid[proj.pre][t.row_start + rows])
            e_row.append(rows)
            # synaptic events of one arrival: a digital core touches the synapses that exist (SRAM), an
            # analogue one drives every crosspoint of the row
            digital = pl.chip.kind_of(t.core) == "digital"
            e_syn.append(m[rows].sum(axis=1).astype(i64) if digital else np.full(ne, cols))
            s_entry.append(n_entries + np.arange(ne))
            s_w.append(woff + rows * cols)
            s_dst.append(np.full(ne, g0))
            s_n.append(np.full(ne, cols))
            s_slot.append(np.full(ne, slot0))
            s_col.append(np.zeros(ne))
            e_ke.append(np.zeros((ne, len(KE_COLS)), i64))
        else:
            blk = kernel_block(net, t, s)
            m = np.ones(blk.shape, np.uint8)
            t_col0[k] = -1
            positions = s.size // cols
            slot_tile += [k] * positions
            slot_dst += list(g0 + np.arange(positions) * cols)
            slot_width += [cols] * positions
            axon, _, _, _, cnt = kernel_segments(net, t, s)
            uniq, first = np.unique(axon, return_inverse=True)
            ne = len(uniq)
            e_key.append(gid[proj.pre][uniq])
            e_row.append(np.full(ne, -1))
            e_syn.append(np.bincount(first, weights=cnt, minlength=ne))
            kr = kernel_runs(net, t, s)
            e_ke.append(_kernel_entries(kr, proj.pre_shape, uniq, woff + kr.ch_col, g0 + kr.ch_col, slot0, cols))
            k_row_step[k], k_step_y[k], k_step_x[k] = kr.row_step_y * cols, kr.pos_step_y, kr.pos_step_x
        e_tile.append(np.full(ne, k))
        e_delay.append(np.full(ne, proj.delay))
        n_entries += ne
        blocks.append(np.asarray(blk, f32).ravel())
        masks.append(np.asarray(m, np.uint8).ravel())
        woff += t.rows * cols
        row0 += t.rows
        cbuf0 += cols
    keys = _cat(e_key, i64)
    fw_ptr, fw_tile, fw_row, fw_delay, fw_syn, fw_ke, perm = _csr(
        n, keys, _cat(e_tile, i64), _cat(e_row, i64), _cat(e_delay, i64), _cat(e_syn, i64),
        np.concatenate(e_ke) if e_ke else np.zeros((0, len(KE_COLS)), i64), np.arange(len(keys)))
    where = np.empty(len(keys), i64)
    where[perm] = np.arange(len(keys))  # old entry id -> position in gid order
    seg_cols = np.stack([_cat(x, i64) for x in (s_w, s_dst, s_n, s_slot, s_col)], axis=1) if s_w else \
        np.zeros((0, 5), i64)
    seg_ptr, seg = _csr(len(keys), where[_cat(s_entry, i64)], seg_cols)
    seg = np.ascontiguousarray(seg)
    slot_width = np.asarray(slot_width, i64)
    slot_buf0 = np.concatenate([[0], np.cumsum(slot_width)[:-1]]).astype(i64) if len(slot_width) else \
        np.zeros(0, i64)
    tiles = Tiles(t_core, t_rows, t_cols, t_woff, t_col0, t_row0, t_cbuf0, t_gain, t_learn, np.zeros(nt, f32))
    fields = (fw_ptr, fw_tile, fw_row, fw_delay, fw_syn, seg_ptr, seg, np.asarray(slot_tile, i64),
              np.asarray(slot_dst, i64), slot_buf0)
    if (t_col0 >= 0).all():  # no kernel tile: no rows
        fw_ke = np.zeros((0, len(KE_COLS)), i64)
    kern = Kernels(np.ascontiguousarray(fw_ke), k_row_step, k_step_y, k_step_x)
    return _Forward(tiles, aligned_copy(_cat(blocks, f32)), _cat(masks, np.uint8), fields, slot_width, kern)


def _transposed(pl: Placement, gid: dict, members: list, n: int) -> tuple:
    """Transposed reads of tied projections and their graded returns: the tr_* fields, rowmap, ret_ptr, ret_dst."""
    net = pl.netlist
    rk, rt, rc, rs, rm, rd, rr = [], [], [], [], [], [], []
    rowmap_parts, rm_off = [], 0
    returns = pl.return_routes()
    ret_index = {(k, name): j for j, (k, name, _) in enumerate(returns)}
    ret_lists = [np.nonzero(dst)[0] for _, _, dst in returns]
    for name, proj in net.projections.items():
        if not proj.is_tied:
            continue
        base = net.projections[proj.tied_to]
        for k in pl.tiles_of(proj.tied_to):
            t = pl.tiles[k]
            cols = members[t.slice]
            rowmap_parts.append(gid[proj.post][t.row_start:t.row_stop])
            rk.append(gid[proj.pre][cols])
            rt.append(np.full(len(cols), k))
            rc.append(np.arange(len(cols)))
            rs.append(np.full(len(cols), proj.sign * base.gain))
            rm.append(np.full(len(cols), rm_off))
            rd.append(np.full(len(cols), proj.delay))
            rr.append(np.full(len(cols), ret_index[(k, name)]))
            rm_off += t.rows
    tr = _csr(n, _cat(rk, i64), _cat(rt, i64), _cat(rc, i64), _cat(rs, f32), _cat(rm, i64), _cat(rd, i64),
              _cat(rr, i64))
    ret_ptr = np.zeros(len(ret_lists) + 1, i64)
    ret_ptr[1:] = np.cumsum([len(r) for r in ret_lists])
    return (*tr, _cat(rowmap_parts, i64), ret_ptr, _cat(ret_lists, i64))


def _pulses(pl: Placement, gid: dict, members: list, n: int) -> tuple:
    """Learning column pulses of plastic projections: the lp_* fields."""
    net = pl.netlist
    lk, lt, lc, lu, ld = [], [], [], [], []
    for name, proj in net.projections.items():
        if proj.plastic is None:
            continue
        for k in pl.tiles_of(name):
            cols = members[pl.tiles[k].slice]
            for pop, up in ((proj.plastic.up, 1), (proj.plastic.down, 0)):
                lk.append(gid[pop][cols])
                lt.append(np.full(len(cols), k))
                lc.append(np.arange(len(cols)))
                lu.append(np.full(len(cols), up))
                ld.append(np.full(len(cols), proj.delay))
    return _csr(n, _cat(lk, i64), _cat(lt, i64), _cat(lc, i64), _cat(lu, np.uint8), _cat(ld, i64))


def _packets(pl: Placement, gid: dict, n: int) -> tuple:
    """Packets: one per (spiking neuron, destination core), as pk_ptr, pk_dst."""
    pkk, pkd = [], []
    for name, table in pl.forward_routes().items():
        nz = np.nonzero(table)
        pkk.append(gid[name][nz[0]])
        pkd.append(nz[1])
    return _csr(n, _cat(pkk, i64), _cat(pkd, i64))


def compile_placement(pl: Placement) -> Compiled:
    """Flatten a placement into kernel records: gids, neurons, forward tiles, transposed reads, learning
    pulses, packets (one function each)."""
    net = pl.netlist
    gid, slice_gid0, members, n = _gids(pl)
    neurons = _neurons(pl, gid, n)
    local_of = np.zeros(n, i64)
    for g in gid.values():
        local_of[g] = np.arange(len(g))
    src_offset, off = {}, 0
    for p, pop in net.populations.items():
        if pop.is_source:
            src_offset[p] = off
            off += pop.size
    fw = _forward(pl, gid, slice_gid0, members, n)
    delays = [p.delay for p in net.projections.values()] or [1]
    routes = Routes(*fw.fields, *_transposed(pl, gid, members, n), *_pulses(pl, gid, members, n),
                    *_packets(pl, gid, n), pl.chip.hop_matrix(), max(delays) + 1, fw.kern, np.zeros(3, i64),
                    np.zeros((0, 8), i64), np.zeros(0, i64))
    routes = routes._replace(fw_pack=_pack(routes), port=_ports(pl.chip.cores, neurons, fw.tiles, routes))
    routes.one_delay[:] = [_one_delay(routes.fw_delay), _one_delay(routes.tr_delay), _one_delay(routes.lp_delay)]
    tiles = fw.tiles
    probe_gid = np.asarray([gid[p.population][i] for p in net.probes for i in p.neurons], i64)
    is_src = np.zeros(n, bool)
    is_src[neurons.src_gid] = True
    core_neurons = np.bincount(neurons.core_of[~is_src], minlength=pl.chip.cores)
    t_learn, t_woff, t_rows, t_cols = tiles.learn, tiles.woff, tiles.rows, tiles.cols
    sparse_plastic = bool(any(t_learn[k] and not fw.syn_mask[slice(t_woff[k], t_woff[k] + t_rows[k] * t_cols[k])].all()
                              for k in range(len(pl.tiles))))
    return Compiled(pl, n, gid, list(net.populations), local_of, src_offset, neurons, tiles, routes, fw.weights,
                    fw.syn_mask, [t.projection for t in pl.tiles], [t.kind for t in pl.tiles], fw.slot_width,
                    core_neurons, probe_gid, sparse_plastic)
