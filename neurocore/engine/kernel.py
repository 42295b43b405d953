"""The compiled tick loop (numba). One call runs a batch of samples; Python is not entered per tick.

Per tick, in order:
1. deliver the packets due now: each forward arrival adds one crossbar row to its
   tile's column neurons (a contiguous vector add, the event-driven hot path); each
   transposed arrival adds one crossbar column to its rows' target neurons; each
   learning arrival marks a column pulse;
2. pulse-coincidence writes on plastic tiles (row pulse AND column pulse);
3. update every neuron (CUBA integrate-and-fire), draw source spikes;
4. emit: count, record, queue packets for their delivery tick.
Counters are plain array increments in the same loop.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..crossbar.kernels import coincidence_write, quantize_read, rate_write
from ..neurons import KIND_PLAIN
from ..spikegen import draw_tick_some, new_key

LEARN_OFF, LEARN_COINCIDENCE, LEARN_RATE, LEARN_RATE_NOISE = 0, 1, 2, 3


@njit(cache=True)
def integrate(kind, cur, v, iin, ref, keep_i, keep_v, in_gain, cur_gain, i_bias, bias):
    """One tick of a contiguous range of neurons of one model kind (see neurocore.neurons.Coefficients):
    i = keep_i i + in_gain x + i_bias (no memory for KIND_PLAIN), v = keep_v v + cur_gain i + bias;
    refractory neurons hold v."""
    if kind == KIND_PLAIN:
        for g in range(cur.shape[0]):
            c = in_gain[g] * iin[g] + i_bias[g]
            iin[g] = 0.0
            cur[g] = c
            vv = v[g] * keep_v[g] + cur_gain[g] * c + bias[g]
            v[g] = vv if ref[g] == 0 else v[g]
    else:
        for g in range(cur.shape[0]):
            c = cur[g] * keep_i[g] + in_gain[g] * iin[g] + i_bias[g]
            iin[g] = 0.0
            cur[g] = c
            vv = v[g] * keep_v[g] + cur_gain[g] * c + bias[g]
            v[g] = vv if ref[g] == 0 else v[g]


@njit(cache=True)
def integrate_fixed(cur, v, iin, ref, keep_i, keep_v, in_gain, cur_gain, i_bias, bias, scale, imax, vmax):
    """The same update with v and i rounded to the fixed-point grid and saturated."""
    for g in range(cur.shape[0]):
        c = cur[g] * keep_i[g] + in_gain[g] * iin[g] + i_bias[g]
        iin[g] = 0.0
        c = min(max(np.round(c * scale) / scale, -imax), imax)
        cur[g] = c
        if ref[g] == 0:
            vv = v[g] * keep_v[g] + cur_gain[g] * c + bias[g]
            v[g] = min(max(np.round(vv * scale) / scale, -vmax), vmax)


@njit(cache=True)
def sample_seed(seed: int, sample_id: int) -> int:
    """A 31-bit RNG seed for one sample from the run seed and the sample's global id (SplitMix64),
    so a sample's draws do not depend on how samples are batched."""
    x = np.uint64(sample_id) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    return np.int64(x & np.uint64(0x7FFFFFFF))


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
def add_row(dst, src, g):
    """dst += g * src: one crossbar row read into its columns' neurons. As a function of two
    slices it compiles to a vectorised loop (LLVM cannot prove non-aliasing of a single array's
    offsets otherwise: 10x slower)."""
    for c in range(dst.shape[0]):
        dst[c] += g * src[c]


@njit(cache=True, nogil=True)  # lets a trace writer compress on the other core meanwhile
def run_batch(
    # sample inputs: Bernoulli sources (src_p, src_profile) or explicit spike events (explicit: the sources
    # firing at tick t of sample b are ev_src[ev_ptr[b * ts + t]:ev_ptr[b * ts + t + 1]])
    ts, seed, sample_ids, src_p, src_profile, drop_on, explicit, ev_ptr, ev_src,
    # neurons
    n, order, nr_start, nr_stop, kind, keep_i, keep_v, in_gain, cur_gain, i_bias, theta, bias, v_reset, subtract,
    refrac, gate, drop_p, pop_of, core_of,
    src_gid,
    # fixed point: scale (0 = float32), v and i saturation
    fx_scale, fx_vmax, fx_imax,
    # tiles
    t_core, t_rows, t_cols, t_col0, t_woff, t_row0, t_cbuf0, t_gain, t_learn, weights, rweights, defer,
    syn_mask, t_qscale, qweights, has_sparse_plastic,
    # forward, transposed, learning entries
    fw_ptr, fw_tile, fw_row, fw_base, fw_delay,
    tr_ptr, tr_tile, tr_col, tr_sign, tr_rmoff, tr_delay, tr_ret, rowmap, ret_ptr, ret_dst,
    lp_ptr, lp_tile, lp_col, lp_up, lp_delay,
    pk_ptr, pk_dst, hops, max_delay,
    # devices and reads
    learn_mode, learn_t0, dev_up, dev_down, dev_max, dev_min, dev_model, gamma_up, gamma_down, c2c_std, noise_scale,
    read_exact, read_noise, adc_bits, out_bound, w_nominal,
    # outputs
    read_idx, out_counts, rec_spikes, rec_buf, probe_gid, probe_v, probe_i,
    c_scalar, c_pop_spikes, c_core_syn, c_core_spk, c_tile_wr, c_traffic,
    per_tick, c_traffic_t, c_core_syn_t,
    c_tile_rd, c_tile_crd, c_tile_wc, c_core_spk_t, c_tile_rd_t, c_tile_crd_t, c_tile_wr_t, c_tile_wc_t,
):
    n_samples = sample_ids.shape[0]
    n_tiles = t_core.shape[0]
    v = np.zeros(n, np.float32)
    cur = np.zeros(n, np.float32)
    iin = np.zeros(n, np.float32)
    ref = np.zeros(n, np.int32)
    ever = np.zeros(n, np.uint8)
    enabled = np.ones(n, np.uint8)
    fired = np.zeros(n, np.int64)
    spk_cnt = np.zeros(n, np.int64)
    n_fw = fw_tile.shape[0]
    n_tr = tr_tile.shape[0]
    n_lp = lp_tile.shape[0]
    fq = np.zeros((max_delay, max(n_fw, 1)), np.int64)
    fq_n = np.zeros(max_delay, np.int64)
    tq = np.zeros((max_delay, max(n_tr, 1)), np.int64)
    tq_n = np.zeros(max_delay, np.int64)
    lq = np.zeros((max_delay, max(n_lp, 1)), np.int64)
    lq_n = np.zeros(max_delay, np.int64)
    n_rowbuf = 0
    n_colbuf = 0
    for k in range(n_tiles):
        n_rowbuf += t_rows[k]
        n_colbuf += t_cols[k]
    row_list = np.zeros(max(n_rowbuf, 1), np.int64)  # rows pulsed this tick, per tile
    row_n = np.zeros(n_tiles, np.int64)
    col_list = np.zeros(max(2 * n_colbuf, 1), np.int64)  # columns pulsed up, then down, this tick
    col_nu = np.zeros(n_tiles, np.int64)
    col_nd = np.zeros(n_tiles, np.int64)
    row_cnt = np.zeros(max(n_rowbuf, 1), np.int64)  # per-sample row pulse counts (rate modes)
    col_up = np.zeros(max(n_colbuf, 1), np.int64)
    col_dn = np.zeros(max(n_colbuf, 1), np.int64)
    acc = np.zeros(max(n_colbuf, 1), np.float32)  # column sums of a tick (non-exact reads)
    touched = np.zeros(n_tiles, np.uint8)
    rd_mark = np.zeros(n_tiles, np.int64)  # 1 + the last tick tile k was read forward / transposed
    crd_mark = np.zeros(n_tiles, np.int64)
    max_rows = 1
    for k in range(n_tiles):
        if t_rows[k] > max_rows:
            max_rows = t_rows[k]
    racc = np.zeros(max_rows, np.float32)
    n_probe = probe_gid.shape[0]
    n_src = src_gid.shape[0]
    hit = np.zeros(max(n_src, 1), np.uint8)
    live = np.zeros(max(n_src, 1), np.int64)
    live_p = np.zeros(max(n_src, 1), src_p.dtype)
    live_prof = np.zeros(max(n_src, 1), np.int64)
    n_rec = 0
    syn = np.int64(0)
    upd = np.int64(0)
    pkts = np.int64(0)
    hop_sum = np.int64(0)
    writes = np.int64(0)
    adc = np.int64(0)
    overflow = 0
    fixed = fx_scale > 0.0
    for b in range(n_samples):
        np.random.seed(sample_seed(seed, sample_ids[b]))
        v[:] = 0.0
        cur[:] = 0.0
        iin[:] = 0.0
        ref[:] = 0
        ever[:] = 0
        fq_n[:] = 0
        tq_n[:] = 0
        lq_n[:] = 0
        row_cnt[:] = 0
        rd_mark[:] = 0
        crd_mark[:] = 0
        col_up[:] = 0
        col_dn[:] = 0
        if defer:  # neurons read the crossbars as they were when the sample began
            for k in range(n_tiles):
                if t_learn[k]:
                    wk = t_woff[k]
                    we = wk + t_rows[k] * t_cols[k]
                    rweights[wk:we] = weights[wk:we]
        for j in range(n):
            g = order[j]
            enabled[g] = 1
            if drop_on and drop_p[g] > 0.0:
                if np.random.random() < drop_p[g]:
                    enabled[g] = 0
        key = new_key()
        p_b = src_p[b]
        n_live = 0  # sources that can fire in this sample
        for j in range(n_src):
            if p_b[j] > 0.0:
                live[n_live] = j
                live_p[n_live] = p_b[j]
                live_prof[n_live] = src_profile[j]
                n_live += 1
        for t in range(ts):
            slot = t % max_delay
            # -- 1. deliveries -----------------------------------------------------------
            for q in range(fq_n[slot]):
                e = fq[slot, q]
                k = fw_tile[e]
                nc = t_cols[k]
                base = fw_base[e]
                qs = t_qscale[k]
                if read_exact:
                    c0 = t_col0[k]
                    if qs > 0.0:  # a static tile stored in 16-bit fixed point: half the memory traffic
                        add_row(iin[c0:c0 + nc], qweights[base:base + nc], t_gain[k] * qs)
                    else:
                        add_row(iin[c0:c0 + nc], rweights[base:base + nc], t_gain[k])
                else:
                    a0 = t_cbuf0[k]
                    if qs > 0.0:
                        add_row(acc[a0:a0 + nc], qweights[base:base + nc], qs)
                    else:
                        add_row(acc[a0:a0 + nc], rweights[base:base + nc], np.float32(1.0))
                    touched[k] = 1
                syn += nc
                c_core_syn[t_core[k]] += nc
                if rd_mark[k] != t + 1:  # the tile's first driven row this tick: one row-parallel read
                    rd_mark[k] = t + 1
                    c_tile_rd[k] += 1
                    if per_tick:
                        c_tile_rd_t[t, k] += 1
                if per_tick:
                    c_core_syn_t[t, t_core[k]] += nc
                if t_learn[k] and t >= learn_t0:
                    r = fw_row[e]
                    row_list[t_row0[k] + row_n[k]] = r
                    row_n[k] += 1
                    row_cnt[t_row0[k] + r] += 1
            fq_n[slot] = 0
            if not read_exact:
                for k in range(n_tiles):
                    if touched[k]:
                        a0 = t_cbuf0[k]
                        nc = t_cols[k]
                        quantize_read(acc[a0:a0 + nc], read_noise, adc_bits, out_bound, w_nominal)
                        c0 = t_col0[k]
                        for c in range(nc):
                            iin[c0 + c] += t_gain[k] * acc[a0 + c]
                            acc[a0 + c] = 0.0
                        adc += nc
                        touched[k] = 0
            for q in range(tq_n[slot]):
                e = tq[slot, q]
                k = tr_tile[e]
                col = tr_col[e]
                nr = t_rows[k]
                nc = t_cols[k]
                base = t_woff[k] + col
                rm = tr_rmoff[e]
                s = tr_sign[e]
                qs = t_qscale[k]
                if read_exact:
                    if qs > 0.0:
                        for r in range(nr):
                            iin[rowmap[rm + r]] += (s * qs) * qweights[base + r * nc]
                    else:
                        for r in range(nr):
                            iin[rowmap[rm + r]] += s * rweights[base + r * nc]
                else:
                    for r in range(nr):
                        racc[r] = rweights[base + r * nc] if qs == 0.0 else qs * qweights[base + r * nc]
                    quantize_read(racc[:nr], read_noise, adc_bits, out_bound, w_nominal)
                    for r in range(nr):
                        iin[rowmap[rm + r]] += s * racc[r]
                    adc += nr
                syn += nr
                c_core_syn[t_core[k]] += nr
                if crd_mark[k] != t + 1:  # the tile's first driven column this tick: one transposed read
                    crd_mark[k] = t + 1
                    c_tile_crd[k] += 1
                    if per_tick:
                        c_tile_crd_t[t, k] += 1
                if per_tick:
                    c_core_syn_t[t, t_core[k]] += nr
                src = t_core[k]
                ri = tr_ret[e]
                for x in range(ret_ptr[ri], ret_ptr[ri + 1]):
                    dst = ret_dst[x]
                    pkts += 1
                    hop_sum += hops[src, dst]
                    c_traffic[src, dst] += 1
                    if per_tick:
                        c_traffic_t[t, src, dst] += 1
            tq_n[slot] = 0
            for q in range(lq_n[slot] if t >= learn_t0 else 0):
                e = lq[slot, q]
                k = lp_tile[e]
                col = lp_col[e]
                if lp_up[e]:
                    col_list[2 * t_cbuf0[k] + col_nu[k]] = col
                    col_nu[k] += 1
                    col_up[t_cbuf0[k] + col] += 1
                else:
                    col_list[2 * t_cbuf0[k] + t_cols[k] + col_nd[k]] = col
                    col_nd[k] += 1
                    col_dn[t_cbuf0[k] + col] += 1
            lq_n[slot] = 0
            # -- 2. pulse-coincidence writes ----------------------------------------------
            for k in range(n_tiles):
                if learn_mode == LEARN_COINCIDENCE and row_n[k] > 0 and col_nu[k] + col_nd[k] > 0:
                    u0 = 2 * t_cbuf0[k]
                    d0 = u0 + t_cols[k]
                    r0 = t_row0[k]
                    wk = t_woff[k]
                    shape = (t_rows[k], t_cols[k])
                    we = wk + t_rows[k] * t_cols[k]
                    n_w = coincidence_write(weights[wk:we].reshape(shape), dev_up[wk:we].reshape(shape),
                                            dev_down[wk:we].reshape(shape), dev_max[wk:we].reshape(shape),
                                            dev_min[wk:we].reshape(shape), row_list[r0:r0 + row_n[k]],
                                            col_list[u0:u0 + col_nu[k]], col_list[d0:d0 + col_nd[k]],
                                            dev_model, gamma_up, gamma_down, c2c_std)
                    writes += n_w
                    c_tile_wr[k] += n_w
                    if n_w > 0:  # all of a tick's coincidences land in one parallel write cycle
                        c_tile_wc[k] += 1
                        if per_tick:
                            c_tile_wr_t[t, k] += n_w
                            c_tile_wc_t[t, k] += 1
                row_n[k] = 0
                col_nu[k] = 0
                col_nd[k] = 0
            # -- 3. neuron update -----------------------------------------------------------
            n_fired = 0
            if explicit:
                e0 = ev_ptr[b * ts + t]
                for x in range(e0, ev_ptr[b * ts + t + 1]):
                    g = src_gid[ev_src[x]]
                    fired[n_fired] = g
                    n_fired += enabled[g]
            else:
                draw_tick_some(key, t, n_src, live_p, live_prof, ts, live, n_live, hit)
                for i in range(n_live):  # branch-free append: hits are random, a branch mispredicts
                    g = src_gid[live[i]]
                    fired[n_fired] = g
                    n_fired += hit[i] & enabled[g]
            for a in range(nr_start.shape[0]):
                lo = nr_start[a]
                hi = nr_stop[a]
                if fixed:
                    integrate_fixed(cur[lo:hi], v[lo:hi], iin[lo:hi], ref[lo:hi], keep_i[lo:hi], keep_v[lo:hi],
                                    in_gain[lo:hi], cur_gain[lo:hi], i_bias[lo:hi], bias[lo:hi], fx_scale, fx_imax,
                                    fx_vmax)
                else:
                    integrate(kind[lo], cur[lo:hi], v[lo:hi], iin[lo:hi], ref[lo:hi], keep_i[lo:hi], keep_v[lo:hi],
                              in_gain[lo:hi], cur_gain[lo:hi], i_bias[lo:hi], bias[lo:hi])
                for g in range(lo, hi):
                    if ref[g] > 0:
                        ref[g] -= 1
                    elif v[g] >= theta[g]:
                        v[g] = v[g] - theta[g] if subtract[g] else v_reset[g]
                        ref[g] = refrac[g]
                        if enabled[g] and (gate[g] < 0 or ever[gate[g]]):
                            fired[n_fired] = g
                            n_fired += 1
            upd += n - src_gid.shape[0]
            for j in range(n_probe):
                probe_v[b, t, j] = v[probe_gid[j]]
                probe_i[b, t, j] = cur[probe_gid[j]]
            # -- 4. emit --------------------------------------------------------------------
            for f in range(n_fired):
                g = fired[f]
                spk_cnt[g] += 1  # per-neuron counts: the per-spike counters are summed at the sample's end
                if rec_spikes:
                    if n_rec < rec_buf.shape[0]:
                        rec_buf[n_rec, 0] = b
                        rec_buf[n_rec, 1] = t
                        rec_buf[n_rec, 2] = g
                        n_rec += 1
                    else:
                        overflow = 1
                if per_tick:
                    src = core_of[g]
                    c_core_spk_t[t, src] += 1
                    for x in range(pk_ptr[g], pk_ptr[g + 1]):
                        c_traffic_t[t, src, pk_dst[x]] += 1
                enqueue(fw_ptr, fw_delay, fq, fq_n, g, slot, max_delay)
                enqueue(tr_ptr, tr_delay, tq, tq_n, g, slot, max_delay)
                enqueue(lp_ptr, lp_delay, lq, lq_n, g, slot, max_delay)
            for f in range(n_fired):
                ever[fired[f]] = 1
        # -- end of sample: spike, packet and traffic counters from per-neuron counts ---------
        for g in range(n):
            k = spk_cnt[g]
            if k == 0:
                continue
            spk_cnt[g] = 0
            c_pop_spikes[pop_of[g]] += k
            src = core_of[g]
            c_core_spk[src] += k
            if read_idx[g] >= 0:
                out_counts[b, read_idx[g]] += k
            for x in range(pk_ptr[g], pk_ptr[g + 1]):
                dst = pk_dst[x]
                pkts += k
                hop_sum += k * hops[src, dst]
                c_traffic[src, dst] += k
        # -- end of sample: rate-based updates ----------------------------------------------
        if learn_mode == LEARN_RATE or learn_mode == LEARN_RATE_NOISE:
            ns = noise_scale if learn_mode == LEARN_RATE_NOISE else 0.0
            for k in range(n_tiles):
                if not t_learn[k]:
                    continue
                wk = t_woff[k]
                shape = (t_rows[k], t_cols[k])
                we = wk + t_rows[k] * t_cols[k]
                r0 = t_row0[k]
                c0 = t_cbuf0[k]
                total, peak = rate_write(weights[wk:we].reshape(shape), dev_up[wk:we].reshape(shape),
                                   dev_down[wk:we].reshape(shape), dev_max[wk:we].reshape(shape),
                                   dev_min[wk:we].reshape(shape), row_cnt[r0:r0 + t_rows[k]],
                                   col_up[c0:c0 + t_cols[k]], col_dn[c0:c0 + t_cols[k]], ts, ns, ts,
                                   dev_model, gamma_up, gamma_down, c2c_std)
                writes += np.int64(np.round(total))
                c_tile_wr[k] += np.int64(np.round(total))
                c_tile_wc[k] += np.int64(np.ceil(peak))  # a pulse train as long as the largest update
        if learn_mode != LEARN_OFF and has_sparse_plastic:
            for x in range(weights.shape[0]):  # absent synapses of sparse plastic tiles stay at zero
                if syn_mask[x] == 0:
                    weights[x] = 0.0
    c_scalar[0] += syn
    c_scalar[1] += upd
    c_scalar[2] += pkts
    c_scalar[3] += hop_sum
    c_scalar[4] += writes
    c_scalar[5] += adc
    return n_rec, overflow


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

