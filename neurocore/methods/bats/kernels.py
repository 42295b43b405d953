"""Event-based simulation of BATS networks and its exact backward pass (numba, CPU, float64).

The neuron (Bacho and Chu; times in seconds, tau = 2 tau_s):

    tau_s dI/dt = -I             I jumps by w at an input spike of weight w
    tau   du/dt = -u + tau I     a spike when u reaches theta, then u -= theta

With x = exp(t / tau) (so exp(t / tau_s) = x^2) and sums over the input spikes seen so far,
a = sum w_i exp(t_i / tau_s) and b = sum w_i exp(t_i / tau) - c * sum_k x_k over the
neuron's own earlier spikes k, c = theta / tau, the membrane is u = tau (b / x - a / x^2)
and u = theta is c x^2 - b x + a = 0: the next crossing is x = 2a / (b + sqrt(b^2 - 4ac)),
valid when the discriminant is >= 0, a > 0, b > 0 and x falls after the current input
(or the neuron's last spike) and before the next input and the end of the sample. A spike
lowers b by c x and the interval is searched again, up to the layer's budget of spikes.

Backward (exact through every spike, linear in spikes per neuron): implicit
differentiation of c x_k^2 - b_k x_k + a_k = 0 gives dt_k = f1_k da_k - f2_k db_k with
f1 = tau / a (1 + c x / sqrt(D)) and f2 = tau / sqrt(D). A reset makes b_k depend on the
earlier spikes of the same neuron (db_m / dt_k = -c x_k / tau for m > k), so the adjoint of
spike k is E_k = e_k + x_k * sum_{m > k} E_m c / sqrt(D_m): one backward sweep per neuron.
Then dL/dw_ij = sum over input spikes t_i of i and output spikes k of j with t_i before
t_k of E_k (f1_k exp(t_i/tau_s) - f2_k exp(t_i/tau)), and the error handed to input spike
i is sum_k w_ij E_k (f1_k exp(t_i/tau_s) / tau_s - f2_k exp(t_i/tau) / tau). Suffix sums
over each neuron's spikes make both one pass over the input spikes.

Layout. `net` is a tuple (sizes, budget, theta, w_off, slot_off, nrn_off, list_off,
times): layer l (1..L) has sizes[l] neurons, reads weights w[w_off[l-1]:w_off[l]] as a
(sizes[l-1], sizes[l]) row-major matrix (pre-major: one input spike reads one row), keeps
spike k of neuron j in slot slot_off[l-1] + j * budget[l-1] + k and its spike count at
nrn_off[l-1] + j. List l (0..L-1) holds the spikes entering layer l+1, sorted by time,
from list_off[l]; times = (tau_s, duration). Inputs of a batch are CSR: sample b's spikes
are in_t[in_ptr[b]:in_ptr[b+1]] (times) and in_i[...] (input neuron), in any order.
"""

from __future__ import annotations

import os

# OpenMP threads spin at the end of a parallel region by default; on a machine shared with other
# busy processes a region then waits for a descheduled thread's time slice (measured here: 2-8 ms
# per region with both cores busy, against 10 us with passive waiting: training at batch 5 ran
# 2.7x slower). Read when numba's OpenMP layer starts (the first parallel call); a setting of
# the user's own wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
from numba import njit, prange  # noqa: E402

COUNT_MSE, TTFS_CE = 0, 1
# rows of the float scratch per slot
_T, _A, _SQ, _X, _ERR, _S1, _S2 = range(7)
# rows of the float scratch per list entry
_LT, _LES, _LE, _PERR = range(4)
# rows of the integer scratch per list entry
_SRC, _SLOT = range(2)


@njit(cache=True)
def alloc_scratch(net, max_in: int):
    """Per-worker buffers for one sample at a time (reused across samples)."""
    sizes, budget, _theta, _w_off, slot_off, nrn_off, list_off, _times = net
    n_layers = budget.shape[0]
    n_slots = slot_off[n_layers]
    n_list = list_off[n_layers - 1] + max(max_in, 1)
    widest = 1
    most_slots = 1
    for l in range(n_layers):
        widest = max(widest, sizes[l + 1])
        most_slots = max(most_slots, sizes[l + 1] * budget[l])
    fs = np.zeros((7, n_slots), np.float64)
    sm = np.zeros(n_slots, np.int64)
    cnt = np.zeros(nrn_off[n_layers], np.int64)
    lf = np.zeros((4, n_list), np.float64)
    li = np.zeros((2, n_list), np.int64)
    ab = np.zeros((2, widest), np.float64)
    hit = np.zeros(widest, np.int64)
    key = np.zeros(most_slots, np.float64)
    kidx = np.zeros(most_slots, np.int64)
    return fs, sm, cnt, lf, li, ab, hit, key, kidx


@njit(cache=True)
def _list_start(net, l: int) -> int:
    """Offset of list l; list 0 (the inputs) sits after the hidden lists, sized max_in."""
    list_off = net[6]
    if l == 0:
        return list_off[net[1].shape[0] - 1]
    return list_off[l - 1]


@njit(cache=True)
def _load_inputs(net, scr, t_in, i_in) -> int:
    """Sort a sample's input spikes by time into list 0 with their two exponentials."""
    tau_s = net[7][0]
    lf, li = scr[3], scr[4]
    off = _list_start(net, 0)
    order = np.argsort(t_in, kind="mergesort")
    n = t_in.shape[0]
    for q in range(n):
        p = order[q]
        t = t_in[p]
        lf[_LT, off + q] = t
        lf[_LES, off + q] = np.exp(t / tau_s)
        lf[_LE, off + q] = np.exp(t / (2.0 * tau_s))
        lf[_PERR, off + q] = 0.0
        li[_SRC, off + q] = i_in[p]
        li[_SLOT, off + q] = -1
    return n


@njit(cache=True)
def _layer_forward(net, scr, w, l: int, loff: int, n_in: int) -> None:
    """Spikes of layer l (1-based) from the n_in sorted spikes of the list at loff."""
    sizes, budget, theta, w_off, slot_off, nrn_off, _lo, times = net
    fs, sm, cnt, lf, li, ab = scr[0], scr[1], scr[2], scr[3], scr[4], scr[5]
    hit = scr[6]
    n_pre, n_post = sizes[l - 1], sizes[l]
    bud = budget[l - 1]
    tau = 2.0 * times[0]
    c = theta[l - 1] / tau
    x_end = np.exp(times[1] / tau)
    W = w[w_off[l - 1]:w_off[l]].reshape((n_pre, n_post))
    soff, coff = slot_off[l - 1], nrn_off[l - 1]
    a, b = ab[0], ab[1]
    for j in range(n_post):
        a[j] = 0.0
        b[j] = 0.0
        cnt[coff + j] = 0
    for i in range(n_in):
        row = W[li[_SRC, loff + i]]
        es = lf[_LES, loff + i]
        e = lf[_LE, loff + i]
        for j in range(n_post):
            a[j] += row[j] * es
            b[j] += row[j] * e
        if i + 1 < n_in and lf[_LT, loff + i + 1] == lf[_LT, loff + i]:
            continue  # simultaneous inputs: search once the last of them is in
        x_hi = min(lf[_LE, loff + i + 1], x_end) if i + 1 < n_in else x_end
        # screen without sqrt or division (vectorises): u stands below theta at x = e, so the first
        # crossing c x^2 - b x + a = 0 lies in (e, x_hi] iff the parabola is <= 0 at x_hi or dips
        # below 0 at its vertex b / 2c inside the interval; the exact solve below decides
        lo2, hi2 = 2.0 * c * e, 2.0 * c * x_hi
        n_hit = 0
        for j in range(n_post):
            aj, bj = a[j], b[j]
            f_hi = (c * x_hi - bj) * x_hi + aj
            ok = (f_hi <= 0.0) | ((bj > lo2) & (bj < hi2) & (bj * bj >= 4.0 * aj * c))
            hit[n_hit] = j
            n_hit += ok
        for q in range(n_hit):
            j = hit[q]
            k = cnt[coff + j]
            aj, bj = a[j], b[j]
            if k >= bud or aj <= 0.0 or bj <= 0.0:
                continue  # a crossing needs a > 0 and b > 0
            x_last = e
            while True:
                disc = bj * bj - 4.0 * aj * c
                if disc < 0.0:
                    break
                sq = np.sqrt(disc)
                x = 2.0 * aj / (bj + sq)
                if x <= x_last or x > x_hi:
                    break
                s = soff + j * bud + k
                fs[_T, s] = tau * np.log(x)
                fs[_A, s] = aj
                fs[_SQ, s] = sq
                fs[_X, s] = x
                sm[s] = i + 1  # inputs 0..i shaped this spike
                bj -= c * x
                k += 1
                x_last = x
                if k >= bud or bj <= 0.0:
                    break
            b[j] = bj
            cnt[coff + j] = k


@njit(cache=True)
def _gather(net, scr, l: int, loff: int) -> int:
    """Layer l's spikes sorted by time into the list at loff (the input of layer l+1)."""
    sizes, budget, _t, _w, slot_off, nrn_off, _lo, _times = net
    fs, cnt, lf, li, key, kidx = scr[0], scr[2], scr[3], scr[4], scr[7], scr[8]
    bud = budget[l - 1]
    soff, coff = slot_off[l - 1], nrn_off[l - 1]
    m = 0
    for j in range(sizes[l]):
        for k in range(cnt[coff + j]):
            s = soff + j * bud + k
            key[m] = fs[_T, s]
            kidx[m] = s
            m += 1
    order = np.argsort(key[:m], kind="mergesort")
    for q in range(m):
        s = kidx[order[q]]
        x = fs[_X, s]
        lf[_LT, loff + q] = fs[_T, s]
        lf[_LES, loff + q] = x * x
        lf[_LE, loff + q] = x
        lf[_PERR, loff + q] = 0.0
        li[_SRC, loff + q] = (s - soff) // bud
        li[_SLOT, loff + q] = s
    return m


@njit(cache=True)
def _output_errors(net, scr, label: int, loss_kind: int, lparams) -> tuple:
    """dL/dt of every output spike into the error row; returns (loss, surrogate, prediction,
    first output spike time). `surrogate` is the function whose gradient the backward pass
    returns exactly: for count_mse sum_j (target_j - count_j) * sum_k t_jk (the authors'
    error target - count on every spike, so a neuron short of spikes moves them earlier);
    for ttfs_ce t_y / tau_loss + logsumexp over spiking j of -t_j / tau_loss (silent
    neurons carry no gradient). `loss` is what is reported: 0.5 sum (target - count)^2, or
    the cross-entropy with silent neurons placed at the sample's end."""
    sizes, budget, _t, _w, slot_off, nrn_off, _lo, times = net
    fs, cnt = scr[0], scr[2]
    L = budget.shape[0]
    n_out, bud = sizes[L], budget[L - 1]
    soff, coff = slot_off[L - 1], nrn_off[L - 1]
    first = np.inf
    for j in range(n_out):
        if cnt[coff + j] > 0:
            first = min(first, fs[_T, soff + j * bud])
    loss = 0.0
    surr = 0.0
    pred = -1
    if loss_kind == COUNT_MSE:
        best = 0
        for j in range(n_out):
            n = cnt[coff + j]
            if n > best:
                best = n
                pred = j
            err = (lparams[0] if j == label else lparams[1]) - n
            loss += 0.5 * err * err
            for k in range(n):
                s = soff + j * bud + k
                fs[_ERR, s] = err
                surr += err * fs[_T, s]
        return loss, surr, pred, first
    tau_l = lparams[2]
    duration = times[1]
    zmax = -np.inf
    zall = -duration / tau_l  # report: silent neurons at the sample's end
    for j in range(n_out):
        if cnt[coff + j] > 0:
            z = -fs[_T, soff + j * bud] / tau_l
            if z > zmax:
                zmax = z
                pred = j
            zall = max(zall, z)
    tot = 0.0
    tot_all = 0.0
    for j in range(n_out):
        if cnt[coff + j] > 0:
            z = -fs[_T, soff + j * bud] / tau_l
            tot += np.exp(z - zmax)
            tot_all += np.exp(z - zall)
        else:
            tot_all += np.exp(-duration / tau_l - zall)
    zy = -fs[_T, soff + label * bud] / tau_l if cnt[coff + label] > 0 else -duration / tau_l
    loss = -(zy - zall - np.log(tot_all))
    if pred < 0:
        return loss, 0.0, pred, first
    surr = zmax + np.log(tot)
    for j in range(n_out):
        if cnt[coff + j] == 0:
            continue
        s = soff + j * bud
        p = np.exp(-fs[_T, s] / tau_l - zmax) / tot
        fs[_ERR, s] = ((1.0 if j == label else 0.0) - p) / tau_l
        for k in range(1, cnt[coff + j]):
            fs[_ERR, soff + j * bud + k] = 0.0
    if cnt[coff + label] > 0:
        surr += fs[_T, soff + label * bud] / tau_l
    return loss, surr, pred, first


@njit(cache=True)
def _layer_backward(net, scr, w, grad, l: int, loff: int, n_in: int, need_pre: bool) -> None:
    """Gradient of layer l's weights into grad (flat, like w), and with need_pre the error of
    each input spike into the list's error row. The error row of layer l's slots holds
    dL/dt_k from above on entry and the full adjoints E_k on exit."""
    sizes, budget, theta, w_off, slot_off, nrn_off, _lo, times = net
    fs, sm, cnt, lf, li, ab, key, kidx = scr[0], scr[1], scr[2], scr[3], scr[4], scr[5], scr[7], scr[8]
    tau_s = times[0]
    tau = 2.0 * tau_s
    n_pre, n_post = sizes[l - 1], sizes[l]
    bud = budget[l - 1]
    c = theta[l - 1] / tau
    soff, coff = slot_off[l - 1], nrn_off[l - 1]
    W = w[w_off[l - 1]:w_off[l]].reshape((n_pre, n_post))
    G = grad[w_off[l - 1]:w_off[l]].reshape((n_pre, n_post))
    # S1[j], S2[j]: sums of E_k f1_k and E_k f2_k over neuron j's spikes that the current input
    # shaped (suffix sums over its spikes); every spike k drops out once the inputs pass sm[k]
    S1, S2 = ab[0], ab[1]
    n_ev = 0
    i_max = 0
    for j in range(n_post):
        S1[j] = 0.0
        S2[j] = 0.0
        K = cnt[coff + j]
        if K == 0:
            continue
        base = soff + j * bud
        cum = 0.0
        s1 = 0.0
        s2 = 0.0
        for k in range(K - 1, -1, -1):
            s = base + k
            sq = fs[_SQ, s]
            e_k = fs[_ERR, s] + fs[_X, s] * cum
            fs[_ERR, s] = e_k
            cum += e_k * c / sq
            s1 += e_k * tau / fs[_A, s] * (1.0 + c * fs[_X, s] / sq)
            s2 += e_k * tau / sq
            fs[_S1, s] = s1
            fs[_S2, s] = s2
        S1[j] = s1
        S2[j] = s2
        for k in range(K):
            key[n_ev] = sm[base + k]
            kidx[n_ev] = base + k
            n_ev += 1
        i_max = max(i_max, sm[base + K - 1])
    order = np.argsort(key[:n_ev], kind="mergesort")  # stable: a neuron's spikes stay in order
    for i in range(n_in):
        lf[_PERR, loff + i] = 0.0
    q = 0
    for i in range(i_max):
        while q < n_ev and key[order[q]] <= i:  # spike s no longer depends on input i
            s = kidx[order[q]]
            j = (s - soff) // bud
            last = (s - soff) % bud == cnt[coff + j] - 1
            S1[j] = 0.0 if last else fs[_S1, s + 1]
            S2[j] = 0.0 if last else fs[_S2, s + 1]
            q += 1
        p = li[_SRC, loff + i]
        es = lf[_LES, loff + i]
        e = lf[_LE, loff + i]
        row_g = G[p]
        for j in range(n_post):
            row_g[j] += es * S1[j] - e * S2[j]
        if need_pre:
            row_w = W[p]
            es_s = es / tau_s
            e_t = e / tau
            acc = 0.0
            for j in range(n_post):
                acc += row_w[j] * (S1[j] * es_s - S2[j] * e_t)
            lf[_PERR, loff + i] = acc


@njit(cache=True)
def _sample(net, scr, w, grad, t_in, i_in, label: int, loss_kind: int, lparams,
            backward: bool) -> tuple:
    """Forward (and backward, adding dL/dw into grad) of one sample. Returns (loss,
    surrogate, prediction, first output spike time)."""
    budget = net[1]
    L = budget.shape[0]
    n = _load_inputs(net, scr, t_in, i_in)
    n_list = np.zeros(L, np.int64)
    n_list[0] = n
    for l in range(1, L + 1):
        _layer_forward(net, scr, w, l, _list_start(net, l - 1), n_list[l - 1])
        if l < L:
            n_list[l] = _gather(net, scr, l, _list_start(net, l))
    loss, surr, pred, first = _output_errors(net, scr, label, loss_kind, lparams)
    if not backward:
        return loss, surr, pred, first
    fs, lf, li = scr[0], scr[3], scr[4]
    for l in range(L, 0, -1):
        loff = _list_start(net, l - 1)
        _layer_backward(net, scr, w, grad, l, loff, n_list[l - 1], l > 1)
        if l > 1:
            for i in range(n_list[l - 1]):  # each spike of layer l-1 is in the list once
                fs[_ERR, li[_SLOT, loff + i]] = lf[_PERR, loff + i]
    return loss, surr, pred, first


@njit(cache=True, parallel=True)
def run_batch(net, w, in_ptr, in_t, in_i, labels, loss_kind: int, lparams, backward: bool, grads,
              n_groups: int, out_f, out_pred, counts, record: bool, times_out) -> None:
    """Samples of a batch in parallel: the batch is cut into n_groups contiguous groups, one
    prange iteration each; group g adds its samples' gradients, in order, into grads[g].
    out_f[b] = (loss, surrogate, first output spike time); out_pred[b] the prediction;
    counts[b] the spike count of every neuron (layers in order); with record, times_out[b]
    every slot's spike time (inf where none)."""
    B = labels.shape[0]
    slot_off, nrn_off = net[4], net[5]
    L = net[1].shape[0]
    n_nrn = nrn_off[L]
    max_in = 1
    for b in range(B):
        max_in = max(max_in, in_ptr[b + 1] - in_ptr[b])
    for g in prange(n_groups):
        scr = alloc_scratch(net, max_in)
        cnt, fs = scr[2], scr[0]
        for b in range(g * B // n_groups, (g + 1) * B // n_groups):
            lo, hi = in_ptr[b], in_ptr[b + 1]
            loss, surr, pred, first = _sample(net, scr, w, grads[g], in_t[lo:hi], in_i[lo:hi],
                                              labels[b], loss_kind, lparams, backward)
            out_f[b, 0] = loss
            out_f[b, 1] = surr
            out_f[b, 2] = first
            out_pred[b] = pred
            for q in range(n_nrn):
                counts[b, q] = cnt[q]
            if record:
                for l in range(L):
                    bud = net[1][l]
                    for j in range(net[0][l + 1]):
                        for k in range(bud):
                            s = slot_off[l] + j * bud + k
                            times_out[b, s] = fs[_T, s] if k < cnt[nrn_off[l] + j] else np.inf


# The optimiser steps run on one thread: they are memory-bound, and a parallel region waits for
# its slowest thread, which on a shared machine can be a whole time slice of another process.
@njit(cache=True)
def _mean_gradient(grads, n_used: int, scale: float) -> np.ndarray:
    """grads[0] = scale * sum(grads[:n_used]) summed in row order; the other rows zeroed."""
    g = grads[0]
    for q in range(1, n_used):
        row = grads[q]
        for i in range(g.shape[0]):
            g[i] += row[i]
            row[i] = 0.0
    for i in range(g.shape[0]):
        g[i] *= scale
    return g


@njit(cache=True)
def adam_step(w, m, v, grads, n_used: int, scale: float, lr: float, b1: float, b2: float, eps: float,
              step: int) -> None:
    """One Adam step on the mean gradient scale * sum(grads[:n_used]) (rows summed in order),
    bias-corrected as the authors' code, in Kingma and Ba's form with the correction folded
    into the step and epsilon; zeroes those rows for the next batch."""
    c1 = 1.0 - b1 ** step
    c2 = np.sqrt(1.0 - b2 ** step)
    lr_t = lr * c2 / c1
    eps_t = eps * c2
    g = _mean_gradient(grads, n_used, scale)
    for i in range(w.shape[0]):
        gi = g[i]
        m[i] = b1 * m[i] + (1.0 - b1) * gi
        v[i] = b2 * v[i] + (1.0 - b2) * gi * gi
        w[i] -= lr_t * m[i] / (np.sqrt(v[i]) + eps_t)
        g[i] = 0.0


@njit(cache=True)
def sgd_step(w, grads, n_used: int, scale: float, lr: float) -> None:
    """w -= lr * scale * sum(grads[:n_used]) (rows summed in order); zeroes those rows."""
    g = _mean_gradient(grads, n_used, scale)
    for i in range(w.shape[0]):
        w[i] -= lr * g[i]
        g[i] = 0.0
