"""The compiled tick loop (numba). One call runs a batch of samples; Python is not entered per tick.

Per tick, in order (each phase a function of the records it touches):
1. `deliver`: the packets due now arrive. A forward arrival adds its crossbar (or kernel) rows
   to the neurons of its columns (contiguous vector adds: the event-driven hot path); a
   transposed arrival adds one crossbar column to its rows' neurons; a learning arrival marks
   a column pulse.
2. `write`: pulse-coincidence writes on plastic tiles (row pulse AND column pulse).
3. `integrate`: every neuron's update, one dispatch per model kind; source spikes.
4. `emit`: count, record, queue packets for their delivery tick.
At the end of a sample, per-neuron and per-entry counts become the spike, packet and
synaptic-event counters, and rate-based updates are written.
Samples of an inference batch are independent: the engine runs chunks of them on threads, each
a call of `run_batch` (which releases the GIL) with state and counters of its own.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, types
from numba.extending import overload

from ..crossbar.kernels import (coincidence_write, coincidence_write_uniform, quantize_read, rate_write, read_column,
                                read_row)
from ..neurons import KIND_PLAIN
from ..spikegen import draw_tick_some, new_key
from .cycles import DELIVER, EMIT, SAMPLE, SOURCES, UPDATE, WRITE, lap, stamp
from .memory import aligned_input
from .records import (KE_D, KE_M, KE_NX, KE_NY, KE_SLOT, KE_W, P_BIAS, P_CUR_GAIN, P_I_BIAS, P_IN_GAIN, P_KEEP_I,
                      P_KEEP_V, P_THETA, PK_S0, PK_S1, PK_SEG, PK_TILE, RUN_FIRE_MULTI, RUN_GENERAL, RUN_IF, RUN_LIF,
                      SEG_COL, SEG_DST, SEG_N, SEG_SLOT, SEG_W, Arithmetic, CounterArrays, Devices, Inputs, Learning,
                      Neurons, Outputs, Reads, Routes, Tiles, Weights)

LEARN_OFF, LEARN_COINCIDENCE, LEARN_RATE, LEARN_RATE_NOISE = 0, 1, 2, 3
#: CounterArrays.scalar slots
SYN, UPD, PKTS, HOPS, WRITES, ADC = 0, 1, 2, 3, 4, 5
#: refractory count of a neuron that spent its spike budget: longer than any sample
HOLD = 2 ** 30
#: neurons screened at once for a threshold crossing (fire_plain)
SCREEN = 32


class State(NamedTuple):
    """The working state of one thread: neurons, delay queues and learning buffers."""

    v: np.ndarray
    cur: np.ndarray
    iin: np.ndarray
    ref: np.ndarray
    ever: np.ndarray
    enabled: np.ndarray
    fired: np.ndarray
    spk_cnt: np.ndarray
    fq: np.ndarray         # delay rings of forward, transposed and learning entries
    fq_n: np.ndarray
    tq: np.ndarray
    tq_n: np.ndarray
    lq: np.ndarray
    lq_n: np.ndarray
    row_list: np.ndarray   # rows pulsed this tick, per tile
    row_n: np.ndarray
    col_list: np.ndarray   # columns pulsed up, then down, this tick
    col_nu: np.ndarray
    col_nd: np.ndarray
    row_cnt: np.ndarray    # per-sample pulse counts (rate modes)
    col_up: np.ndarray
    col_dn: np.ndarray
    acc: np.ndarray        # column sums of a tick per read slot (non-exact reads)
    touched: np.ndarray
    rd_mark: np.ndarray    # 1 + the last tick a read slot was read / a tile read transposed
    crd_mark: np.ndarray
    racc: np.ndarray
    hit: np.ndarray
    live: np.ndarray
    live_p: np.ndarray
    live_prof: np.ndarray
    wake: np.ndarray       # per active-set block: update it this tick: 2 input arrived, 1 not at rest; 0 skip
    blk_nz: np.ndarray     # per block: neurons with v != 0 after its last update (its active count while it rests)
    rm_mark: np.ndarray    # per rowmap offset: 1 + the last tick its rows' blocks were woken


def at(x, g):
    """x[g] for a per-neuron array, x itself for a run's single value (Neurons.run_par): one loop body
    compiled both ways."""
    return x[g]


@overload(at, inline="always")
def _at(x, g):
    if isinstance(x, types.Array):
        return lambda x, g: x[g]
    return lambda x, g: x


@njit(cache=True)
def _repeats(per_tick, ptr) -> int:
    """Extra queue room for neurons spiking several times a tick: (per_tick - 1) x their entries."""
    extra = 0
    for g in range(per_tick.shape[0]):
        if per_tick[g] > 1:
            extra += (per_tick[g] - 1) * (ptr[g + 1] - ptr[g])
    return extra


@njit(cache=True)
def new_state(nr: Neurons, tl: Tiles, rt: Routes) -> State:
    """Zeroed working state sized for these records."""
    n = nr.kind.shape[0]
    n_tiles = tl.core.shape[0]
    n_rowbuf = max(tl.rows.sum(), 1)
    n_colbuf = max(tl.cols.sum(), 1)
    md = rt.max_delay
    n_src = max(nr.src_gid.shape[0], 1)
    n_slots = rt.slot_tile.shape[0]
    acc_n = 1
    for sl in range(n_slots):
        acc_n += tl.cols[rt.slot_tile[sl]]
    n_fw = max(rt.fw_tile.shape[0] + _repeats(nr.per_tick, rt.fw_ptr), 1)  # a slot holds each entry once
    n_tr = max(rt.tr_tile.shape[0] + _repeats(nr.per_tick, rt.tr_ptr), 1)  # per spike of its neuron
    n_lp = max(rt.lp_tile.shape[0] + _repeats(nr.per_tick, rt.lp_ptr), 1)
    n_sl = max(n_slots, 1)
    n_t1 = max(n_tiles, 1)
    max_rows = 1
    for k in range(n_tiles):
        max_rows = max(max_rows, tl.rows[k])
    z32, z64 = np.float32, np.int64
    return State(
        np.zeros(n, z32), np.zeros(n, z32), aligned_input(n, rt), np.zeros(n, np.int32),
        np.zeros(n, np.uint8), np.ones(n, np.uint8), np.zeros(max(nr.fire_cap, 1), z64), np.zeros(n, z64),
        np.zeros((md, n_fw), z64), np.zeros(md, z64),
        np.zeros((md, n_tr), z64), np.zeros(md, z64),
        np.zeros((md, n_lp), z64), np.zeros(md, z64),
        np.zeros(n_rowbuf, z64), np.zeros(n_tiles, z64),
        np.zeros(2 * n_colbuf, z64), np.zeros(n_tiles, z64), np.zeros(n_tiles, z64),
        np.zeros(n_rowbuf, z64), np.zeros(n_colbuf, z64), np.zeros(n_colbuf, z64),
        np.zeros(acc_n, z32), np.zeros(n_sl, np.uint8),
        np.zeros(n_sl, z64), np.zeros(n_t1, z64),
        np.zeros(max_rows, z32),
        np.zeros(n_src, np.uint8), np.zeros(n_src, z64), np.zeros(n_src, z32),
        np.zeros(n_src, z64), np.zeros(max(nr.blk_start.shape[0], 1), np.uint8),
        np.zeros(max(nr.blk_start.shape[0], 1), z64), np.zeros(max(rt.rowmap.shape[0], 1), z64))


@njit(cache=True)
def sample_seed(seed: int, sample_id: int) -> int:
    """A 31-bit RNG seed for one sample from the run seed and the sample's global id (SplitMix64),
    so a sample's draws do not depend on how samples are batched."""
    x = np.uint64(sample_id) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    return np.int64(x & np.uint64(0x7FFFFFFF))


# -- 1. deliver ------------------------------------------------------------------------------

@njit(cache=True, _nrt=False, inline="always")
def add_weights(st: State, rw, qw, exact, g, qs, wo, n, d, a0):
    """n weights from wo (the int16 store where the tile has one, qs > 0) read into neurons d..d+n-1 with
    gain g (exact reads), or into the column buffer from a0 (non-exact reads: noise and ADC follow)."""
    if exact:
        if qs > 0.0:  # a static tile stored in 16-bit fixed point: half the memory traffic
            read_row(st.iin[d:d + n], qw[wo:wo + n], g * qs)
        else:
            read_row(st.iin[d:d + n], rw[wo:wo + n], g)
    elif qs > 0.0:
        read_row(st.acc[a0:a0 + n], qw[wo:wo + n], qs)
    else:
        read_row(st.acc[a0:a0 + n], rw[wo:wo + n], np.float32(1.0))


@njit(cache=True, _nrt=False, inline="always")
def read_segment(st: State, tl: Tiles, rt: Routes, rw, qw, exact, t, k, g, qs, wo, d, n, sl, col, ctr: CounterArrays,
                 blk_of):
    """One segment of a forward arrival: n weights from wo added to the neurons from gid d (exact reads), or
    to read slot sl's column buffer from column col (non-exact); the slot's first driven row this tick is
    one row-parallel read and wakes its neurons' active-set blocks."""
    add_weights(st, rw, qw, exact, g, qs, wo, n, d, rt.slot_buf0[sl] + col)
    if not exact:
        st.touched[sl] = 1
    if st.rd_mark[sl] != t + 1:
        st.rd_mark[sl] = t + 1
        ctr.slot_rd[sl] += 1
        d0 = rt.slot_dst[sl]
        for bk in range(blk_of[d0], blk_of[d0 + tl.cols[k] - 1] + 1):
            st.wake[bk] = 2
        if ctr.per_tick:
            ctr.tile_rd_t[t, k] += 1


@njit(cache=True, _nrt=False)
def deliver_forward(st: State, tl: Tiles, rt: Routes, rw, qw, rd: Reads, t, slot, learning, ctr: CounterArrays,
                    blk_of):
    """Forward arrivals: each adds its fan-out segments (crossbar or kernel rows) to their neurons, and
    wakes the active-set blocks of a read slot the first time it is driven in a tick."""
    per_tick = ctr.per_tick
    exact = rd.exact
    seg = rt.seg
    pack = rt.fw_pack
    for q in range(st.fq_n[slot]):
        e = st.fq[slot, q]
        k = pack[e, PK_TILE]
        if tl.col0[k] < 0:  # a shared kernel's runs over output positions
            deliver_kernel(st, tl, rt, rw, qw, exact, t, e, k, ctr, blk_of)
            continue
        g = tl.gain[k]
        qs = tl.qscale[k]
        s0, s1 = pack[e, PK_S0], pack[e, PK_S1]
        if s1 > s0:  # the first segment from the entry's own row, the others from the segment table
            read_segment(st, tl, rt, rw, qw, exact, t, k, g, qs, pack[e, PK_SEG + SEG_W], pack[e, PK_SEG + SEG_DST],
                         pack[e, PK_SEG + SEG_N], pack[e, PK_SEG + SEG_SLOT], pack[e, PK_SEG + SEG_COL], ctr, blk_of)
        for s in range(s0 + 1, s1):
            read_segment(st, tl, rt, rw, qw, exact, t, k, g, qs, seg[s, SEG_W], seg[s, SEG_DST], seg[s, SEG_N],
                         seg[s, SEG_SLOT], seg[s, SEG_COL], ctr, blk_of)
        if per_tick:  # the arrival's synaptic events, as end_of_sample counts them
            ctr.core_syn_t[t, tl.core[k]] += rt.fw_syn[e]
        if learning and tl.learn[k]:
            r = rt.fw_row[e]
            st.row_list[tl.row0[k] + st.row_n[k]] = r
            st.row_n[k] += 1
            st.row_cnt[tl.row0[k] + r] += 1
    st.fq_n[slot] = 0


@njit(cache=True, _nrt=False, inline="always")
def kernel_rows(st: State, rt: Routes, rw, qw, exact, g, qs, d, wo, n, q0, blk_of):
    """Kernel weights wo..wo+n-1 added to neurons d..d+n-1 (or, non-exact, to their column buffers, which run
    like them from slot q0's on), their active-set blocks woken."""
    add_weights(st, rw, qw, exact, g, qs, wo, n, d, rt.slot_buf0[q0] + d - rt.slot_dst[q0])
    b0, b1 = blk_of[d], blk_of[d + n - 1]
    st.wake[b0] = 2  # a run of a few positions: mostly one or two blocks
    st.wake[b1] = 2
    for bk in range(b0 + 1, b1):
        st.wake[bk] = 2


@njit(cache=True, _nrt=False, inline="always")
def kernel_reads(st: State, ctr: CounterArrays, exact, t, k, q0, nx, sx):
    """Output positions (read slots) q0, q0 + sx, ... (nx of them) driven at tick t: a row-parallel read
    counted for each one not driven before in this tick."""
    t1 = t + 1
    for q in range(q0, q0 + nx * sx, sx):
        if not exact:
            st.touched[q] = 1
        fresh = st.rd_mark[q] != t1
        st.rd_mark[q] = t1
        ctr.slot_rd[q] += fresh
        if ctr.per_tick:
            ctr.tile_rd_t[t, k] += fresh


@njit(cache=True, _nrt=False, inline="always")
def deliver_kernel(st: State, tl: Tiles, rt: Routes, rw, qw, exact, t, e, k, ctr: CounterArrays, blk_of):
    """An arrival of forward entry e on shared-kernel tile k, from its geometry (Routes.kern): per kernel
    row group, one vector add of a run of kernel rows onto consecutive output positions (or, when the
    run is not contiguous, one per position), and the positions' row-parallel reads counted."""
    kn = rt.kern
    g = tl.gain[k]
    qs = tl.qscale[k]
    nc = tl.cols[k]
    w0 = kn.ke[e, KE_W]
    d0 = kn.ke[e, KE_D]
    q0 = kn.ke[e, KE_SLOT]
    ny = kn.ke[e, KE_NY]
    nx = kn.ke[e, KE_NX]
    m = kn.ke[e, KE_M]
    sx = kn.step_x[k]
    sy = kn.step_y[k]
    ws = kn.row_step[k]
    if sx == 1 and m == nc:  # a row group's rows are one contiguous run (stride 1, or any stride without dilation)
        n = nx * nc
        for j in range(ny):
            kernel_rows(st, rt, rw, qw, exact, g, qs, d0, w0, n, q0, blk_of)
            kernel_reads(st, ctr, exact, t, k, q0, nx, 1)
            w0 += ws
            d0 += sy * nc
            q0 += sy
    else:  # one position at a time
        for j in range(ny):
            for i in range(nx):
                kernel_rows(st, rt, rw, qw, exact, g, qs, d0 + i * sx * nc, w0 + i * nc, m, q0, blk_of)
            kernel_reads(st, ctr, exact, t, k, q0, nx, sx)
            w0 += ws
            d0 += sy * nc
            q0 += sy
    if ctr.per_tick:  # the arrival's synaptic events, as end_of_sample counts them
        ctr.core_syn_t[t, tl.core[k]] += rt.fw_syn[e]


@njit(cache=True, _nrt=False)
def finish_reads(st: State, tl: Tiles, rt: Routes, rd: Reads, ctr: CounterArrays):
    """Non-exact reads: each slot read this tick goes through noise and the ADC, then to its neurons."""
    for sl in range(rt.slot_tile.shape[0]):
        if st.touched[sl]:
            k = rt.slot_tile[sl]
            a0 = rt.slot_buf0[sl]
            nc = tl.cols[k]
            quantize_read(st.acc[a0:a0 + nc], rd.noise_std, rd.adc_bits, rd.out_bound, rd.w_nominal)
            d = rt.slot_dst[sl]
            g = tl.gain[k]
            for c in range(nc):
                st.iin[d + c] += g * st.acc[a0 + c]
                st.acc[a0 + c] = 0.0
            ctr.scalar[ADC] += nc
            st.touched[sl] = 0


@njit(cache=True, _nrt=False)
def deliver_transposed(st: State, tl: Tiles, rt: Routes, rw, qw, rd: Reads, t, slot, ctr: CounterArrays, blk_of):
    """Transposed arrivals: one crossbar column read into its rows' neurons (waking their active-set
    blocks), a graded packet back."""
    t1 = t + 1
    for q in range(st.tq_n[slot]):
        e = st.tq[slot, q]
        k = rt.tr_tile[e]
        nr = tl.rows[k]
        nc = tl.cols[k]
        base = tl.woff[k] + rt.tr_col[e]
        rm = rt.tr_rmoff[e]
        s = rt.tr_sign[e]
        qs = tl.qscale[k]
        rows_to = rt.rowmap[rm:rm + nr]
        if st.rm_mark[rm] != t1:  # these rows' first transposed read this tick: wake their blocks
            st.rm_mark[rm] = t1
            for r in range(nr):
                st.wake[blk_of[rows_to[r]]] = 2
        if rd.exact:
            if qs > 0.0:
                read_column(st.iin, rows_to, qw, base, nc, nr, s * qs)
            else:
                read_column(st.iin, rows_to, rw, base, nc, nr, s)
        else:
            for r in range(nr):
                st.racc[r] = rw[base + r * nc] if qs == 0.0 else qs * qw[base + r * nc]
            quantize_read(st.racc[:nr], rd.noise_std, rd.adc_bits, rd.out_bound, rd.w_nominal)
            for r in range(nr):
                st.iin[rows_to[r]] += s * st.racc[r]
            ctr.scalar[ADC] += nr
        ctr.scalar[SYN] += nr
        ctr.core_syn[tl.core[k]] += nr
        ctr.tile_syn[k] += nr
        if st.crd_mark[k] != t1:  # the tile's first driven column this tick: one transposed read
            st.crd_mark[k] = t1
            ctr.tile_crd[k] += 1
            if ctr.per_tick:
                ctr.tile_crd_t[t, k] += 1
        if ctr.per_tick:
            ctr.core_syn_t[t, tl.core[k]] += nr
        src = tl.core[k]
        ri = rt.tr_ret[e]
        for x in range(rt.ret_ptr[ri], rt.ret_ptr[ri + 1]):
            dst = rt.ret_dst[x]
            ctr.scalar[PKTS] += 1
            ctr.scalar[HOPS] += rt.hops[src, dst]
            ctr.traffic[rt.port[src], rt.port[dst]] += 1
            if ctr.per_tick:
                ctr.traffic_t[t, rt.port[src], rt.port[dst]] += 1
    st.tq_n[slot] = 0


@njit(cache=True, _nrt=False)
def deliver_pulses(st: State, tl: Tiles, rt: Routes, slot, learning):
    """Learning arrivals: column pulses up or down on plastic tiles (dropped while writes are off)."""
    if learning:
        for q in range(st.lq_n[slot]):
            e = st.lq[slot, q]
            k = rt.lp_tile[e]
            col = rt.lp_col[e]
            if rt.lp_up[e]:
                st.col_list[2 * tl.cbuf0[k] + st.col_nu[k]] = col
                st.col_nu[k] += 1
                st.col_up[tl.cbuf0[k] + col] += 1
            else:
                st.col_list[2 * tl.cbuf0[k] + tl.cols[k] + st.col_nd[k]] = col
                st.col_nd[k] += 1
                st.col_dn[tl.cbuf0[k] + col] += 1
    st.lq_n[slot] = 0


# -- 2. write --------------------------------------------------------------------------------

@njit(cache=True, _nrt=False)
def round_to_grid(blk, rows, cols, grid, stochastic, w_min, w_max):
    """The crosspoints rows x cols of a tile back onto the weight grid after a write: to the nearest
    step, or stochastically (up with probability equal to the fraction of a step)."""
    for r in rows:
        for c in cols:
            x = blk[r, c] / grid
            lo = np.floor(x)
            if stochastic:
                q = lo + (1.0 if np.random.random() < x - lo else 0.0)
            else:
                q = np.floor(x + 0.5)
            blk[r, c] = min(max(q * grid, w_min), w_max)


@njit(cache=True, _nrt=False)
def write_coincidences(st: State, tl: Tiles, dev: Devices, weights, mode, t, ctr: CounterArrays, grid=0.0,
                       stochastic=False):
    """Each tick, a row pulse meeting a column pulse is one device pulse; a tile's pulses of a tick
    are one parallel write cycle. With a grid (Loihi's 8-bit plastic synapses) every written crosspoint
    is rounded back onto it."""
    for k in range(tl.core.shape[0]):
        if mode == LEARN_COINCIDENCE and st.row_n[k] > 0 and st.col_nu[k] + st.col_nd[k] > 0:
            u0 = 2 * tl.cbuf0[k]
            d0 = u0 + tl.cols[k]
            r0 = tl.row0[k]
            wk = tl.woff[k]
            shape = (tl.rows[k], tl.cols[k])
            we = wk + tl.rows[k] * tl.cols[k]
            rows = st.row_list[r0:r0 + st.row_n[k]]
            ups = st.col_list[u0:u0 + st.col_nu[k]]
            downs = st.col_list[d0:d0 + st.col_nd[k]]
            if dev.uniform:
                n_w = coincidence_write_uniform(weights[wk:we].reshape(shape), dev.tile_dw_up[k], dev.tile_dw_down[k],
                                                dev.tile_w_max[k], dev.tile_w_min[k], rows, ups, downs)
            else:
                n_w = coincidence_write(weights[wk:we].reshape(shape), dev.hidden[wk:we].reshape(shape),
                                        dev.dw_up[wk:we].reshape(shape), dev.dw_down[wk:we].reshape(shape),
                                        dev.w_max[wk:we].reshape(shape), dev.w_min[wk:we].reshape(shape),
                                        dev.g_up[wk:we].reshape(shape), dev.g_down[wk:we].reshape(shape),
                                        dev.ref[wk:we].reshape(shape), rows, ups, downs, dev.model, dev.params)
            if grid > 0.0 and n_w > 0:
                blk = weights[wk:we].reshape(shape)
                wlo, whi = dev.tile_w_min[k], dev.tile_w_max[k]
                round_to_grid(blk, rows, ups, grid, stochastic, wlo, whi)
                round_to_grid(blk, rows, downs, grid, stochastic, wlo, whi)
            ctr.scalar[WRITES] += n_w
            ctr.tile_wr[k] += n_w
            if n_w > 0:
                ctr.tile_wc[k] += 1
                if ctr.per_tick:
                    ctr.tile_wr_t[t, k] += n_w
                    ctr.tile_wc_t[t, k] += 1
        st.row_n[k] = 0
        st.col_nu[k] = 0
        st.col_nd[k] = 0


# -- 3. integrate ----------------------------------------------------------------------------

@njit(cache=True, _nrt=False)
def integrate(kind, cur, v, iin, ref, keep_i, keep_v, in_gain, cur_gain, i_bias, bias):
    """One tick of a contiguous range of neurons of one model kind (see neurocore.neurons.Coefficients):
    i = keep_i i + in_gain x + i_bias (no memory for KIND_PLAIN), v = keep_v v + cur_gain i + bias;
    refractory neurons hold v. Branch-free, so it vectorises. Returns the active neurons (`active`)."""
    n_act = 0
    if kind == KIND_PLAIN:
        for g in range(cur.shape[0]):
            n_act += (v[g] != 0.0) | (iin[g] != 0.0) | (at(bias, g) != 0.0) | (at(i_bias, g) != 0.0)
            c = at(in_gain, g) * iin[g] + at(i_bias, g)
            iin[g] = 0.0
            cur[g] = c
            vv = v[g] * at(keep_v, g) + at(cur_gain, g) * c + at(bias, g)
            v[g] = vv if ref[g] == 0 else v[g]
    else:
        for g in range(cur.shape[0]):
            n_act += ((v[g] != 0.0) | (iin[g] != 0.0) | (at(bias, g) != 0.0) | (at(i_bias, g) != 0.0)
                      | (cur[g] != 0.0))
            c = cur[g] * at(keep_i, g) + at(in_gain, g) * iin[g] + at(i_bias, g)
            iin[g] = 0.0
            cur[g] = c
            vv = v[g] * at(keep_v, g) + at(cur_gain, g) * c + at(bias, g)
            v[g] = vv if ref[g] == 0 else v[g]
    return n_act


@njit(cache=True, _nrt=False)
def integrate_plain(cur, v, iin, keep_v, bias, leak):
    """The update of IF (leak False) or LIF neurons with unit gains and no refractory period:
    v = keep_v v + x + bias (keep_v = 1 for IF); the current is the input. Returns the active neurons."""
    n_act = 0
    if leak:
        for g in range(v.shape[0]):
            x = iin[g]
            n_act += (v[g] != 0.0) | (x != 0.0) | (at(bias, g) != 0.0)
            iin[g] = 0.0
            cur[g] = x
            v[g] = v[g] * at(keep_v, g) + x + at(bias, g)
    else:
        for g in range(v.shape[0]):
            x = iin[g]
            n_act += (v[g] != 0.0) | (x != 0.0) | (at(bias, g) != 0.0)
            iin[g] = 0.0
            cur[g] = x
            v[g] = v[g] + x + at(bias, g)
    return n_act


@njit(cache=True, _nrt=False)
def fire_plain(lo, hi, v, theta, subtract, v_reset, gate, enabled, ever, fired, n_fired):
    """Threshold and reset of neurons without refractory period (see `fire`). Screened: a vectorised count
    of the neurons at threshold in all of them and, where they are sparse, in each run of SCREEN neurons;
    the scalar loop where it is not 0."""
    if hi - lo > SCREEN:
        n_at = at_threshold(v, theta, lo, hi)
        if n_at == 0:
            return n_fired
        if n_at * SCREEN > hi - lo:  # about one per screen or more: screening would not skip much
            return _fire_plain(lo, hi, v, theta, subtract, v_reset, gate, enabled, ever, fired, n_fired)
    for c0 in range(lo, hi, SCREEN):
        c1 = min(c0 + SCREEN, hi)
        if at_threshold(v, theta, c0, c1):
            n_fired = _fire_plain(c0, c1, v, theta, subtract, v_reset, gate, enabled, ever, fired, n_fired)
    return n_fired


@njit(cache=True, _nrt=False)
def count_at(v, theta) -> int:
    """How many of v are at or above threshold (theta per neuron, or one value); over slices from 0, so
    that the loop vectorises."""
    n_at = 0
    for g in range(v.shape[0]):
        n_at += v[g] >= at(theta, g)
    return n_at


def at_threshold(v, theta, lo, hi):
    """`count_at` of v[lo:hi] (theta per neuron, or one value)."""


@overload(at_threshold)
def _at_threshold(v, theta, lo, hi):
    if isinstance(theta, types.Array):
        return lambda v, theta, lo, hi: count_at(v[lo:hi], theta[lo:hi])
    return lambda v, theta, lo, hi: count_at(v[lo:hi], theta)


@njit(cache=True, _nrt=False, inline="always")
def _fire_plain(lo, hi, v, theta, subtract, v_reset, gate, enabled, ever, fired, n_fired):
    """The neurons at threshold are listed first without a branch (where they lie is random: a branch
    mispredicts), then reset, and those that may emit are kept in `fired`. The list is written into
    `fired` past n_fired, one slot beyond it at most: gids lo..hi-1 are not in it yet, so it has room."""
    n_c = n_fired
    vs = v[lo:hi]
    for j in range(vs.shape[0]):  # over a slice from 0: no negative-index wraparound per neuron
        fired[n_c] = lo + j
        n_c += vs[j] >= at(theta, lo + j)
    for x in range(n_fired, n_c):
        g = fired[x]
        v[g] = v[g] - at(theta, g) if subtract[g] else v_reset[g]
        gt = gate[g]
        if enabled[g] and (gt < 0 or ever[gt]):
            fired[n_fired] = g
            n_fired += 1
    return n_fired


@njit(cache=True, _nrt=False)
def fire(lo, hi, v, ref, theta, subtract, v_reset, refrac, max_spikes, spk_cnt, gate, enabled, ever, fired,
         n_fired):
    """Threshold, reset and refractory count of neurons lo..hi-1 after their update; spikes that may
    emit (not dropped out, gate open) are appended to `fired`; returns the new count. A neuron
    emitting the last spike of its budget (spk_cnt: spikes emitted before this tick) is held
    for the rest of the sample."""
    for g in range(lo, hi):
        if ref[g] > 0:
            ref[g] -= 1
        elif v[g] >= theta[g]:
            v[g] = v[g] - theta[g] if subtract[g] else v_reset[g]
            ref[g] = refrac[g]
            gt = gate[g]
            if enabled[g] and (gt < 0 or ever[gt]):
                fired[n_fired] = g
                n_fired += 1
                if max_spikes[g] > 0 and spk_cnt[g] + 1 >= max_spikes[g]:
                    ref[g] = HOLD
    return n_fired


@njit(cache=True, _nrt=False)
def fire_multi(lo, hi, v, ref, theta, subtract, v_reset, refrac, max_spikes, per_tick, v_min, spk_cnt, gate, enabled,
               ever, fired, n_fired):
    """`fire` for neurons that may spike several times in a tick or clamp v from below (Sinabs's IAF):
    n = min(floor(v / theta), per_tick) spikes when v >= theta (the quotient rounded as float32), each one
    appended to `fired` (each is a packet of its own), v lowered by n theta (or set to v_reset); then
    v = max(v - v_min, 0) + v_min, Sinabs's own arithmetic of its clamp."""
    for g in range(lo, hi):
        if ref[g] > 0:
            ref[g] -= 1
        elif v[g] >= theta[g]:
            k = np.int64(1)
            if per_tick[g] > 1:
                q = np.floor(np.float32(v[g] / theta[g]))
                k = min(max(np.int64(q), np.int64(1)), np.int64(per_tick[g]))
            if max_spikes[g] > 0:
                k = min(k, np.int64(max_spikes[g]) - spk_cnt[g])
            v[g] = v[g] - np.float32(k) * theta[g] if subtract[g] else v_reset[g]
            ref[g] = refrac[g]
            gt = gate[g]
            if enabled[g] and (gt < 0 or ever[gt]):
                for _ in range(k):
                    fired[n_fired] = g
                    n_fired += 1
                if max_spikes[g] > 0 and spk_cnt[g] + k >= max_spikes[g]:
                    ref[g] = HOLD
        if v_min[g] > -np.inf:
            d = v[g] - v_min[g]
            v[g] = (d if d > 0.0 else np.float32(0.0)) + v_min[g]
    return n_fired


@njit(cache=True, _nrt=False)
def integrate_fixed(cur, v, iin, ref, keep_i, keep_v, in_gain, cur_gain, i_bias, bias, scale, imax, vmax):
    """The same update with v and i rounded to the fixed-point grid and saturated; returns the active neurons."""
    n_act = 0
    for g in range(cur.shape[0]):
        n_act += (v[g] != 0.0) | (iin[g] != 0.0) | (bias[g] != 0.0) | (i_bias[g] != 0.0) | (cur[g] != 0.0)
        c = cur[g] * keep_i[g] + in_gain[g] * iin[g] + i_bias[g]
        iin[g] = 0.0
        c = min(max(np.round(c * scale) / scale, -imax), imax)
        cur[g] = c
        if ref[g] == 0:
            vv = v[g] * keep_v[g] + cur_gain[g] * c + bias[g]
            v[g] = min(max(np.round(vv * scale) / scale, -vmax), vmax)
    return n_act


@njit(cache=True, _nrt=False)
def integrate_loihi(cur, v, iin, ref, keep_i, keep_v, bias):
    """Loihi's integer update (neurocore.loihi; Lava's PyLifModelBitAcc): the summed input rounded down
    (negative weight exponents), u = decay(u) + (x << 6) wrapped to 24 bits, v = decay(v) + u + bias
    saturated to 24 bits; decay(y) = sign(y) ((|y| keep) >> 12), keep = 4096 - d. State is held in
    float32 (24-bit integers are exact in it); refractory neurons hold v. Returns the active neurons."""
    n_act = 0
    for g in range(cur.shape[0]):  # in float64, where these integers (< 2^36) are exact: it vectorises
        n_act += (v[g] != 0.0) | (iin[g] != 0.0) | (bias[g] != 0.0) | (cur[g] != 0.0)
        x = np.floor(np.float64(iin[g]))
        iin[g] = 0.0
        c = np.trunc(np.float64(cur[g]) * np.float64(keep_i[g]) * (1.0 / 4096.0)) + x * 64.0
        c = c - 16777216.0 * (c > 8388608.0) + 16777216.0 * (c <= -8388608.0)
        cur[g] = c
        vv = np.trunc(np.float64(v[g]) * np.float64(keep_v[g]) * (1.0 / 4096.0)) + c + np.float64(bias[g])
        vv = min(max(vv, -8388607.0), 8388607.0)
        v[g] = vv if ref[g] == 0 else v[g]
    return n_act


@njit(cache=True, _nrt=False)
def integrate_loihi_if(cur, v, iin, bias):
    """`integrate_loihi` of IF neurons without refractory period (du = 4095, dv = 0): u = x << 6 wrapped,
    v = v + u + bias saturated. Returns the active neurons."""
    n_act = 0
    for g in range(cur.shape[0]):
        n_act += (v[g] != 0.0) | (iin[g] != 0.0) | (bias[g] != 0.0)
        c = np.floor(np.float64(iin[g])) * 64.0
        iin[g] = 0.0
        c = c - 16777216.0 * (c > 8388608.0) + 16777216.0 * (c <= -8388608.0)
        cur[g] = c
        v[g] = min(max(np.float64(v[g]) + c + np.float64(bias[g]), -8388607.0), 8388607.0)
    return n_act


@njit(cache=True, _nrt=False)
def fire_sources(st: State, nr: Neurons, inp: Inputs, b, t, key, n_live) -> int:
    """This tick's source spikes into st.fired (dropped sources stay silent); returns their count."""
    n_fired = 0
    if inp.explicit:  # a scan of the tick's row, with the same branch-free append
        row = b * inp.ticks + t
        for j in range(inp.spk_gid.shape[0]):
            g = inp.spk_gid[j]
            st.fired[n_fired] = g
            n_fired += inp.spk[row, j] & st.enabled[g]
    else:
        draw_tick_some(key, t, nr.src_gid.shape[0], st.live_p, st.live_prof, inp.ticks, st.live, n_live, st.hit)
        for i in range(n_live):  # branch-free append: hits are random, a branch mispredicts
            g = nr.src_gid[st.live[i]]
            st.fired[n_fired] = g
            n_fired += st.hit[i] & st.enabled[g]
    return n_fired


@njit(cache=True, inline="always")
def count_active(ctr: CounterArrays, core, t, n_act):
    """Add a run's active neurons of this tick to its core's counters."""
    ctr.core_act[core] += n_act
    if ctr.per_tick:
        ctr.core_act_t[t, core] += n_act


@njit(cache=True, _nrt=False)
def block_state(v, cur, ref, theta, hold):
    """(neurons off rest, neurons with v != 0) of a block: off rest means i or a refractory count off
    zero, or v off zero (for an integrating block, `hold`: v at or above threshold). Over slices from 0
    and branch-free, so that it vectorises."""
    busy = 0
    nz = 0
    if hold:
        for g in range(v.shape[0]):
            busy += (cur[g] != 0.0) | (ref[g] != 0) | (v[g] >= theta[g])
            nz += v[g] != 0.0
    else:
        for g in range(v.shape[0]):
            busy += (cur[g] != 0.0) | (ref[g] != 0) | (v[g] != 0.0)
            nz += v[g] != 0.0
    return busy, nz


@njit(cache=True, inline="always")
def settle(st: State, nr: Neurons, bk, lo, hi):
    """After block bk's update: wake it next tick unless it rests (no neuron with i or a refractory count
    off zero, and every v zero, or for an integrating block below threshold), and note its neurons with
    v != 0 (what it counts as active while it rests)."""
    busy, nz = block_state(st.v[lo:hi], st.cur[lo:hi], st.ref[lo:hi], nr.theta[lo:hi], nr.blk_hold[bk])
    st.wake[bk] = nr.blk_always[bk] | np.uint8(busy > 0)
    st.blk_nz[bk] = nz


@njit(cache=True, _nrt=False)
def update_neurons(st: State, nr: Neurons, ar: Arithmetic, n_fired, ctr: CounterArrays, t) -> int:
    """Integrate the woken neurons, then threshold them; the ones that spike are appended to st.fired;
    returns the new count. Counts each core's active neurons (state not at rest, input arrived or a
    bias: what pays a neuron update beyond its access; runs never span two cores).

    Active sets: a run is updated by stretches of woken blocks (Neurons.blk_*), and a block that no input reached this
    tick and that was at rest after its last update (i and refractory counts zero, no bias, no threshold
    at or below zero, and v zero, or below threshold in a block of integrators: keep_v = 1, no clamp) is
    skipped: its update would leave it exactly as it is, and it counts its neurons with v != 0 as active,
    as their update would, so spikes, state and counts are those of updating every neuron. Leaky neurons
    at v != 0 are updated every tick: their float32 (or Loihi's truncating) decay has no exact closed form."""
    fx_scale, fx_vmax, fx_imax = ar.scale, ar.vmax, ar.imax  # scale 0: float32; > 0: fixed point; < 0: Loihi's
    cur, v, iin, ref = st.cur, st.v, st.iin, st.ref
    wake = st.wake
    for a in range(nr.run_start.shape[0]):
        mode = nr.run_mode[a]
        uni = nr.run_uniform[a] != 0
        par = nr.run_par[a]
        n_act = 0
        bk = nr.run_blk0[a]
        b_end = nr.run_blk1[a]
        while bk < b_end:
            if not wake[bk]:  # at rest, no input: its update would change nothing; its v != 0 count as active
                n_act += st.blk_nz[bk]
                bk += 1
                continue
            b1 = bk + 1  # a stretch of woken blocks, updated in one pass
            while b1 < b_end and wake[b1]:
                b1 += 1
            lo = nr.blk_start[bk]
            hi = nr.blk_stop[b1 - 1]
            if fx_scale == 0.0 and uni and (mode == RUN_IF or mode == RUN_LIF):
                n_act += integrate_plain(cur[lo:hi], v[lo:hi], iin[lo:hi], par[P_KEEP_V], par[P_BIAS],
                                         mode == RUN_LIF)
            elif fx_scale == 0.0 and (mode == RUN_IF or mode == RUN_LIF):
                n_act += integrate_plain(cur[lo:hi], v[lo:hi], iin[lo:hi], nr.keep_v[lo:hi], nr.bias[lo:hi],
                                         mode == RUN_LIF)
            elif fx_scale < 0.0 and mode == RUN_IF:  # Loihi's integers
                n_act += integrate_loihi_if(cur[lo:hi], v[lo:hi], iin[lo:hi], nr.bias[lo:hi])
            elif fx_scale < 0.0:
                n_act += integrate_loihi(cur[lo:hi], v[lo:hi], iin[lo:hi], ref[lo:hi], nr.keep_i[lo:hi],
                                         nr.keep_v[lo:hi], nr.bias[lo:hi])
            elif fx_scale == 0.0 and uni:
                n_act += integrate(nr.kind[lo], cur[lo:hi], v[lo:hi], iin[lo:hi], ref[lo:hi], par[P_KEEP_I],
                                   par[P_KEEP_V], par[P_IN_GAIN], par[P_CUR_GAIN], par[P_I_BIAS], par[P_BIAS])
            elif fx_scale == 0.0:
                n_act += integrate(nr.kind[lo], cur[lo:hi], v[lo:hi], iin[lo:hi], ref[lo:hi], nr.keep_i[lo:hi],
                                   nr.keep_v[lo:hi], nr.in_gain[lo:hi], nr.cur_gain[lo:hi], nr.i_bias[lo:hi],
                                   nr.bias[lo:hi])
            else:
                n_act += integrate_fixed(cur[lo:hi], v[lo:hi], iin[lo:hi], ref[lo:hi], nr.keep_i[lo:hi],
                                         nr.keep_v[lo:hi], nr.in_gain[lo:hi], nr.cur_gain[lo:hi],
                                         nr.i_bias[lo:hi], nr.bias[lo:hi], fx_scale, fx_imax, fx_vmax)
            if mode == RUN_FIRE_MULTI:
                n_fired = fire_multi(lo, hi, v, ref, nr.theta, nr.subtract, nr.v_reset, nr.refrac,
                                     nr.max_spikes, nr.per_tick, nr.v_min, st.spk_cnt, nr.gate, st.enabled,
                                     st.ever, st.fired, n_fired)
            elif mode != RUN_GENERAL and uni:  # RUN_IF, RUN_LIF and RUN_FIRE_PLAIN: the screened threshold loop
                n_fired = fire_plain(lo, hi, v, par[P_THETA], nr.subtract, nr.v_reset, nr.gate, st.enabled,
                                     st.ever, st.fired, n_fired)
            elif mode != RUN_GENERAL:
                n_fired = fire_plain(lo, hi, v, nr.theta, nr.subtract, nr.v_reset, nr.gate, st.enabled,
                                     st.ever, st.fired, n_fired)
            else:
                n_fired = fire(lo, hi, v, ref, nr.theta, nr.subtract, nr.v_reset, nr.refrac, nr.max_spikes,
                               st.spk_cnt, nr.gate, st.enabled, st.ever, st.fired, n_fired)
            for x in range(bk, b1):  # input arrived (wake 2): it stays awake, as it nearly always must
                if wake[x] == 2:
                    wake[x] = 1
                else:
                    settle(st, nr, x, nr.blk_start[x], nr.blk_stop[x])
            bk = b1
        if nr.run_blk1[a] > nr.run_blk0[a]:
            count_active(ctr, nr.core_of[nr.run_start[a]], t, n_act)
    return n_fired


# -- 4. emit ---------------------------------------------------------------------------------

@njit(cache=True, inline="always")
def enqueue(ptr, delay, queue, queue_n, g, slot, max_delay):
    """Queue neuron g's entries (ptr[g]..ptr[g+1]) for delivery `delay` ticks after `slot`."""
    for x in range(ptr[g], ptr[g + 1]):
        s2 = slot + delay[x]
        if s2 >= max_delay:  # a ring of max_delay slots; cheaper than a modulo per packet
            s2 -= max_delay
        queue[s2, queue_n[s2]] = x
        queue_n[s2] += 1


@njit(cache=True, inline="always")
def enqueue_all(ptr, delay, one, queue, queue_n, fired, n_fired, slot, max_delay):
    """Queue the entries of the n_fired neurons of `fired`, in order; with `one` > 0 (every entry has that
    delay) into one slot, its fill count kept in a register."""
    if one > 0:
        s2 = slot + one
        if s2 >= max_delay:
            s2 -= max_delay
        n = queue_n[s2]
        for f in range(n_fired):
            g = fired[f]
            for x in range(ptr[g], ptr[g + 1]):
                queue[s2, n] = x
                n += 1
        queue_n[s2] = n
    else:
        for f in range(n_fired):
            enqueue(ptr, delay, queue, queue_n, fired[f], slot, max_delay)


@njit(cache=True, _nrt=False)
def emit(st: State, nr: Neurons, rt: Routes, out: Outputs, ctr: CounterArrays, b, t, slot, n_fired, n_rec,
         rec_off) -> int:
    """Count, record and queue the packets of this tick's spikes; returns the records written."""
    cap = out.rec_buf.shape[0]
    for f in range(n_fired):
        g = st.fired[f]
        st.spk_cnt[g] += 1  # per-neuron counts: the per-spike counters are summed at the sample's end
        if out.record:
            if rec_off + n_rec >= cap:
                raise RuntimeError("spike recording buffer overflowed")
            r = rec_off + n_rec
            out.rec_buf[r, 0] = b
            out.rec_buf[r, 1] = t
            out.rec_buf[r, 2] = g
            n_rec += 1
        if ctr.per_tick:
            src = nr.core_of[g]
            ctr.core_spk_t[t, src] += 1
            for x in range(rt.pk_ptr[g], rt.pk_ptr[g + 1]):
                ctr.traffic_t[t, rt.port[src], rt.port[rt.pk_dst[x]]] += 1
    # one table at a time, and only the tables a chip has
    enqueue_all(rt.fw_ptr, rt.fw_delay, rt.one_delay[0], st.fq, st.fq_n, st.fired, n_fired, slot, rt.max_delay)
    if rt.tr_tile.shape[0]:
        enqueue_all(rt.tr_ptr, rt.tr_delay, rt.one_delay[1], st.tq, st.tq_n, st.fired, n_fired, slot, rt.max_delay)
    if rt.lp_tile.shape[0]:
        enqueue_all(rt.lp_ptr, rt.lp_delay, rt.one_delay[2], st.lq, st.lq_n, st.fired, n_fired, slot, rt.max_delay)
    for f in range(n_fired):
        st.ever[st.fired[f]] = 1
    return n_rec


# -- end of sample ---------------------------------------------------------------------------

@njit(cache=True, _nrt=False)
def end_of_sample(st: State, nr: Neurons, tl: Tiles, rt: Routes, out: Outputs, ctr: CounterArrays, b):
    """Spike, packet, traffic and synaptic-event counters from this sample's per-neuron and
    per-entry counts (cheaper than counting per spike)."""
    for x in range(nr.src_gid.shape[0]):
        g = nr.src_gid[x]
        ctr.core_src_spk[nr.core_of[g]] += st.spk_cnt[g]
    for g in range(st.spk_cnt.shape[0]):
        k = st.spk_cnt[g]
        if k == 0:
            continue
        ctr.pop_spikes[nr.pop_of[g]] += k
        src = nr.core_of[g]
        ctr.core_spk[src] += k
        if out.read_idx[g] >= 0:
            out.out_counts[b, out.read_idx[g]] += k
        for x in range(rt.pk_ptr[g], rt.pk_ptr[g + 1]):
            dst = rt.pk_dst[x]
            ctr.scalar[PKTS] += k
            ctr.scalar[HOPS] += k * rt.hops[src, dst]
            ctr.traffic[rt.port[src], rt.port[dst]] += k
        # an entry arrived once per spike of its neuron, but for the spikes still queued at the end (below)
        for e in range(rt.fw_ptr[g], rt.fw_ptr[g + 1]):
            add_arrivals(ctr, tl, rt, e, k)
        st.spk_cnt[g] = 0
    for slot in range(rt.max_delay):
        for q in range(st.fq_n[slot]):
            add_arrivals(ctr, tl, rt, st.fq[slot, q], -1)


@njit(cache=True, inline="always")
def add_arrivals(ctr: CounterArrays, tl: Tiles, rt: Routes, e, a):
    """The synaptic events of `a` arrivals of forward entry e."""
    syn = a * rt.fw_syn[e]
    ctr.scalar[SYN] += syn
    ctr.core_syn[tl.core[rt.fw_tile[e]]] += syn
    ctr.tile_syn[rt.fw_tile[e]] += syn


@njit(cache=True, _nrt=False)
def write_rates(st: State, tl: Tiles, dev: Devices, weights, learn: Learning, ticks, ctr: CounterArrays):
    """Rate-based updates of a sample (Eq. 9, optionally with the noise of a stochastic product)."""
    ns = learn.noise_scale if learn.mode == LEARN_RATE_NOISE else 0.0
    for k in range(tl.core.shape[0]):
        if not tl.learn[k]:
            continue
        wk = tl.woff[k]
        shape = (tl.rows[k], tl.cols[k])
        we = wk + tl.rows[k] * tl.cols[k]
        r0 = tl.row0[k]
        c0 = tl.cbuf0[k]
        total, peak = rate_write(weights[wk:we].reshape(shape), dev.hidden[wk:we].reshape(shape),
                                 dev.dw_up[wk:we].reshape(shape), dev.dw_down[wk:we].reshape(shape),
                                 dev.w_max[wk:we].reshape(shape), dev.w_min[wk:we].reshape(shape),
                                 dev.g_up[wk:we].reshape(shape), dev.g_down[wk:we].reshape(shape),
                                 dev.ref[wk:we].reshape(shape), st.row_cnt[r0:r0 + tl.rows[k]],
                                 st.col_up[c0:c0 + tl.cols[k]], st.col_dn[c0:c0 + tl.cols[k]], ticks, ns, ticks,
                                 dev.model, dev.params)
        ctr.scalar[WRITES] += np.int64(np.round(total))
        ctr.tile_wr[k] += np.int64(np.round(total))
        ctr.tile_wc[k] += np.int64(np.ceil(peak))  # a pulse train as long as the largest update


# -- the sample loop -------------------------------------------------------------------------

@njit(cache=True, _nrt=False)
def start_sample(st: State, nr: Neurons, tl: Tiles, inp: Inputs, weights, rw, learn: Learning, b) -> int:
    """Reset the state for sample b, draw its dropout mask and list its live sources; returns their count."""
    np.random.seed(sample_seed(inp.seed, inp.sample_ids[b]))
    st.v[:] = 0.0
    st.cur[:] = 0.0
    st.iin[:] = 0.0
    st.ref[:] = 0
    st.ever[:] = 0
    st.fq_n[:] = 0
    st.tq_n[:] = 0
    st.lq_n[:] = 0
    st.row_cnt[:] = 0
    st.rd_mark[:] = 0
    st.crd_mark[:] = 0
    st.rm_mark[:] = 0
    st.col_up[:] = 0
    st.col_dn[:] = 0
    st.spk_cnt[:] = 0  # normally zeroed by the last end_of_sample; a state reused after an error is not
    st.row_n[:] = 0
    st.col_nu[:] = 0
    st.col_nd[:] = 0
    st.touched[:] = 0
    st.acc[:] = 0.0
    for bk in range(nr.blk_always.shape[0]):  # all at rest but the restless blocks
        st.wake[bk] = nr.blk_always[bk]
        st.blk_nz[bk] = 0
    if learn.defer:  # neurons read the crossbars as they were when the sample began
        for k in range(tl.core.shape[0]):
            if tl.learn[k]:
                wk = tl.woff[k]
                we = wk + tl.rows[k] * tl.cols[k]
                for x in range(wk, we):  # an element loop: a slice copy would allocate
                    rw[x] = weights[x]
    for j in range(nr.order.shape[0]):
        g = nr.order[j]
        st.enabled[g] = 1
        if inp.dropout and nr.drop_p[g] > 0.0:
            if np.random.random() < nr.drop_p[g]:
                st.enabled[g] = 0
    p_b = inp.src_p[b]
    n_live = 0  # sources that can fire in this sample
    for j in range(nr.src_gid.shape[0]):
        if p_b[j] > 0.0:
            st.live[n_live] = j
            st.live_p[n_live] = p_b[j]
            st.live_prof[n_live] = inp.src_profile[j]
            n_live += 1
    return n_live


@njit(cache=True, _nrt=False)
def run_samples(st: State, nr: Neurons, tl: Tiles, rt: Routes, dev: Devices, rd: Reads, learn: Learning,
                inp: Inputs, out: Outputs, ctr: CounterArrays, mem: Weights, ar: Arithmetic, b0, b1,
                rec_off) -> int:
    """Samples b0..b1-1, one after another; returns the spike records written from rec_off on."""
    weights, rw, qw, syn_mask = mem.weights, mem.read, mem.quantised, mem.syn_mask
    n_rec = 0
    n_upd = np.int64(nr.kind.shape[0] - nr.src_gid.shape[0])
    n_probe = out.probe_gid.shape[0]
    pc = ctr.phase_cycles  # per-phase cycles of a profiled run (empty: not profiled)
    for b in range(b0, b1):
        c0 = stamp(pc)
        n_live = start_sample(st, nr, tl, inp, weights, rw, learn, b)
        key = new_key()
        c0 = lap(pc, SAMPLE, c0)
        for t in range(inp.ticks):
            slot = t % rt.max_delay
            learning = learn.mode != LEARN_OFF
            deliver_forward(st, tl, rt, rw, qw, rd, t, slot, learning, ctr, nr.blk_of)
            if not rd.exact:
                finish_reads(st, tl, rt, rd, ctr)
            deliver_transposed(st, tl, rt, rw, qw, rd, t, slot, ctr, nr.blk_of)
            deliver_pulses(st, tl, rt, slot, learning)
            c0 = lap(pc, DELIVER, c0)
            write_coincidences(st, tl, dev, weights, learn.mode, t, ctr, learn.grid, learn.stochastic)
            c0 = lap(pc, WRITE, c0)
            n_fired = fire_sources(st, nr, inp, b, t, key, n_live)
            if ctr.per_tick:  # source spikes come first in st.fired; sources pay no neuron stage
                for f in range(n_fired):
                    ctr.core_src_spk_t[t, nr.core_of[st.fired[f]]] += 1
            c0 = lap(pc, SOURCES, c0)
            n_fired = update_neurons(st, nr, ar, n_fired, ctr, t)
            ctr.scalar[UPD] += n_upd
            c0 = lap(pc, UPDATE, c0)
            for j in range(n_probe):
                out.probe_v[b, t, j] = st.v[out.probe_gid[j]]
                out.probe_i[b, t, j] = st.cur[out.probe_gid[j]]
            n_rec = emit(st, nr, rt, out, ctr, b, t, slot, n_fired, n_rec, rec_off)
            c0 = lap(pc, EMIT, c0)
        end_of_sample(st, nr, tl, rt, out, ctr, b)
        if learn.mode == LEARN_RATE or learn.mode == LEARN_RATE_NOISE:
            write_rates(st, tl, dev, weights, learn, inp.ticks, ctr)
        if learn.mode != LEARN_OFF and learn.sparse:
            for x in range(weights.shape[0]):  # absent synapses of sparse plastic tiles stay at zero
                if syn_mask[x] == 0:
                    weights[x] = 0.0
        lap(pc, SAMPLE, c0)
    return n_rec


@njit(cache=True, nogil=True)  # threads run chunks of a batch; a trace writer compresses meanwhile
def run_batch(st: State, nr: Neurons, tl: Tiles, rt: Routes, dev: Devices, rd: Reads, learn: Learning,
              inp: Inputs, out: Outputs, ctr: CounterArrays, mem: Weights, ar: Arithmetic) -> int:
    """Every sample of the batch on this thread, in the working state `st` (from `new_state`, reused
    from call to call: fresh allocations would cost the OS zeroing pages every call); returns the
    spike records written. The records by name: neurons, tiles, routes, devices, reads, learning,
    inputs, outputs, counters, the synaptic memory and the neuron arithmetic."""
    return run_samples(st, nr, tl, rt, dev, rd, learn, inp, out, ctr, mem, ar, 0, inp.sample_ids.shape[0], 0)


@njit(cache=True)
def group_events(events, pop_of, local_of, n_pops):
    """Counting sort of recorded (sample, tick, gid) rows by population, keeping tick order:
    returns (bounds[n_pops + 1], ticks, neuron indices within the population)."""
    n = events.shape[0]
    bounds = np.zeros(n_pops + 1, np.int64)
    for x in range(n):
        bounds[pop_of[events[x, 2]] + 1] += 1
    for k in range(n_pops):
        bounds[k + 1] += bounds[k]
    fill = bounds[:-1].copy()
    ticks = np.empty(n, np.int32)
    neurons = np.empty(n, np.int32)
    for x in range(n):
        g = events[x, 2]
        k = pop_of[g]
        ticks[fill[k]] = events[x, 1]
        neurons[fill[k]] = local_of[g]
        fill[k] += 1
    return bounds, ticks, neurons
