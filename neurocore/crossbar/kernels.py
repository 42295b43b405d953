"""Compiled kernels of an RPU crossbar: device pulses, noisy reads, coincidence and rate writes.

Every kernel is a plain `@njit(cache=True)` function that the engine may call from inside its
own compiled tick loop. Device parameters arrive as per-device float32 arrays (`dw_up`,
`dw_down`, `w_max`, `w_min`, `g_up`, `g_down`, `ref`, see :mod:`neurocore.crossbar.devices`)
plus `model` (an id of :data:`MODEL_IDS`) and `P`, the float64 vector of parameters shared by
the crossbar (indices P_* below, built by `devices.device_params`). Weights are float32 arrays
of shape (rows, cols): rows are the pre-synaptic inputs, columns the post-synaptic outputs.

Device models (equations in the model classes of :mod:`neurocore.devices`) follow IBM aihwkit's
C++ (`src/rpucuda/rpu_*_device.cpp`, `update_once`): one step function per model
(`step_constant`, `step_linear` (linear_step and soft_bounds), `step_exp`, `step_pow`,
`step_piecewise`, `step_soft_bounds_reference`), chosen in one place, `step_size`, by model id.
`device_pulse` applies a step with its cycle-to-cycle noise and the bounds; the writes
(`coincidence_write`, `rate_write`) keep a device's persistent state in `hidden` and give the
weight read the write noise on top (`hidden` is the weight array itself when there is none).

Randomness comes from numba's generator (seed it with :func:`seed_numba`); with every noise
at 0 no random number is drawn.

Reads (aihwkit `IOParameters`: inp_res, out_noise, out_bound, out_res): a DAC on the inputs,
additive Gaussian noise on each output, then an ADC that clips and quantises each output. A
`bits`-bit converter here is a symmetric mid-tread quantiser over [-bound, bound] with step
`bound / (2**(bits-1) - 1)` (2**bits - 1 levels, zero exact: aihwkit's resolution
`1 / (2**bits - 2)` of the full range); 1 bit means the three levels {-bound, 0, bound}.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..devices import MODEL_IDS

IDEAL, LINEAR_STEP, SOFT_BOUNDS = MODEL_IDS["ideal"], MODEL_IDS["linear_step"], MODEL_IDS["soft_bounds"]
EXP_STEP, POW_STEP = MODEL_IDS["exp_step"], MODEL_IDS["pow_step"]
PIECEWISE_STEP, SOFT_BOUNDS_REFERENCE = MODEL_IDS["piecewise_step"], MODEL_IDS["soft_bounds_reference"]

# indices into P, the shared parameter vector of a crossbar's devices
P_C2C, P_MULT, P_ADD, P_SLOPE, P_WRITE = 0, 1, 2, 3, 4          # c2c std, multiplicative?, complex noise, write noise
P_A, P_B, P_AUP, P_ADN, P_GUP, P_GDN = 5, 6, 7, 8, 9, 10        # exp_step
P_NPW, P_PW = 11, 12                                            # piecewise: nodes per direction, up nodes, down nodes


@njit(cache=True)
def seed_numba(seed: int) -> None:
    """Seed numba's own random generator (separate from numpy's), used by every noisy kernel."""
    np.random.seed(seed)


# ---------------------------------------------------------------------------------------------
# One device: the step of each model


@njit(cache=True, _nrt=False, inline="always")
def step_constant(s):
    """ideal: the device's own step."""
    return s


@njit(cache=True, _nrt=False, inline="always")
def step_linear(x, s, g):
    """linear_step and soft_bounds: s (1 - g x), g = gamma / reference bound (drawn per device)."""
    return s * (1.0 - g * x)


@njit(cache=True, _nrt=False)
def step_exp(x, up, s, w_max, w_min, P):
    """exp_step: s max(1 - A_up exp(gamma_up z), 0) up, s max(1 - A_down exp(-gamma_down z), 0) down,
    z = 2 a x / (w_max - w_min) + b."""
    z = 2.0 * x / (np.float64(w_max) - np.float64(w_min)) * P[P_A] + P[P_B]
    if up:
        y = 1.0 - P[P_AUP] * np.exp(P[P_GUP] * z)
    else:
        y = 1.0 - P[P_ADN] * np.exp(-P[P_GDN] * z)
    return s * y if y > 0.0 else 0.0


@njit(cache=True, _nrt=False)
def step_pow(x, up, s, g, w_max, w_min):
    """pow_step: s ((w_max - x) / range)^g up, s ((x - w_min) / range)^g down."""
    rng = np.float64(w_max) - np.float64(w_min)
    d = (np.float64(w_max) - x) if up else (x - np.float64(w_min))
    if d <= 0.0:
        return 0.0 if g > 0.0 else s
    return s * (d / rng) ** np.float64(g)


@njit(cache=True, _nrt=False)
def step_piecewise(x, up, s, w_max, w_min, P):
    """piecewise_step: s times the node factors interpolated linearly at x."""
    n = np.int64(P[P_NPW])
    base = P_PW if up else P_PW + n
    sections = n - 1
    if sections <= 0 or w_max <= w_min:
        return s * P[base]
    u = (x - np.float64(w_min)) / (np.float64(w_max) - np.float64(w_min)) * sections
    if u < 0.0:
        u = 0.0
    k = np.int64(np.floor(u))
    if k > sections - 1:
        k = sections - 1
    t = u - k
    if t > 1.0:
        t = 1.0
    return s * ((1.0 - t) * P[base + k] + t * P[base + k + 1])


@njit(cache=True, _nrt=False)
def step_soft_bounds_reference(x, up, s, w_max, w_min):
    """soft_bounds_reference: s (1 - x / w_max) up, s (1 - x / w_min) down (x = w + ref)."""
    if up:
        return s * (1.0 - x / w_max) if w_max > 0.0 else s
    return s * (1.0 - x / w_min) if w_min < 0.0 else s


@njit(cache=True, _nrt=False)
def step_size(model, x, up, dw_up, dw_down, w_max, w_min, g_up, g_down, P):
    """THE dispatch by model id: the noise-free step (>= 0 in the usual range) of one pulse at state x."""
    s = np.float64(dw_up) if up else np.float64(dw_down)
    if model == IDEAL:
        return step_constant(s)
    if model == LINEAR_STEP or model == SOFT_BOUNDS:
        return step_linear(x, s, np.float64(g_up) if up else np.float64(g_down))
    if model == EXP_STEP:
        return step_exp(x, up, s, w_max, w_min, P)
    if model == POW_STEP:
        return step_pow(x, up, s, g_up if up else g_down, w_max, w_min)
    if model == PIECEWISE_STEP:
        return step_piecewise(x, up, s, w_max, w_min, P)
    return step_soft_bounds_reference(x, up, s, w_max, w_min)


@njit(cache=True, _nrt=False)
def device_step(w, up, dw_up, dw_down, w_max, w_min, g_up, g_down, ref, model, P):
    """Noise-free size of one pulse on a device whose weight is w (state x = w + ref), before clipping."""
    return step_size(model, np.float64(w) + np.float64(ref), up, dw_up, dw_down, w_max, w_min, g_up, g_down, P)


@njit(cache=True, _nrt=False)
def _clip(w, w_max, w_min):
    if w > w_max:
        return np.float64(w_max)
    if w < w_min:
        return np.float64(w_min)
    return w


@njit(cache=True, _nrt=False)
def _frozen(model, w_max, w_min):
    """aihwkit's exp_step and pow_step leave a device of zero range untouched."""
    return (model == EXP_STEP or model == POW_STEP) and not w_max > w_min


@njit(cache=True, _nrt=False)
def device_pulse(w, up, dw_up, dw_down, w_max, w_min, g_up, g_down, ref, model, P):
    """The persistent weight after one write pulse (`up` True: potentiate, False: depress):
    x = w + ref; x +- (step(x) + sigma xi), clipped to [w_min, w_max]; minus ref (see neurocore.devices)."""
    if _frozen(model, w_max, w_min):
        return np.float64(w)
    r = np.float64(ref)
    x = np.float64(w) + r
    step = step_size(model, x, up, dw_up, dw_down, w_max, w_min, g_up, g_down, P)
    std = P[P_C2C]
    if std > 0.0:
        base = abs(step) if P[P_MULT] > 0.0 else (np.float64(dw_up) if up else np.float64(dw_down))
        step += std * (base + P[P_ADD] + P[P_SLOPE] * abs(x)) * np.random.standard_normal()
    x = x + step if up else x - step
    return _clip(x, w_max, w_min) - r


@njit(cache=True, _nrt=False)
def device_pulses(w, n, up, dw_up, dw_down, w_max, w_min, g_up, g_down, ref, model, P):
    """The persistent weight after `n` pulses in a row in one direction (closed form for a noiseless
    ideal device)."""
    if n <= 0:
        return np.float64(w)
    if model == IDEAL and P[P_C2C] == 0.0:
        if up:
            return _clip(np.float64(w) + n * np.float64(dw_up), w_max, w_min)
        return _clip(np.float64(w) - n * np.float64(dw_down), w_max, w_min)
    x = np.float64(w)
    for _ in range(n):
        x = device_pulse(x, up, dw_up, dw_down, w_max, w_min, g_up, g_down, ref, model, P)
    return x


@njit(cache=True, _nrt=False)
def write_pulse(w, hidden, i, j, up, dw_up, dw_down, w_max, w_min, g_up, g_down, ref, model, P):
    """One pulse on device (i, j): its persistent state `hidden[i, j]` moves, the weight read
    `w[i, j]` is that state plus fresh write noise (hidden may be w itself when there is none)."""
    if _frozen(model, w_max[i, j], w_min[i, j]):
        return
    x = device_pulse(hidden[i, j], up, dw_up[i, j], dw_down[i, j], w_max[i, j], w_min[i, j], g_up[i, j],
                     g_down[i, j], ref[i, j], model, P)
    hidden[i, j] = x
    wn = P[P_WRITE]
    w[i, j] = x + wn * np.random.standard_normal() if wn > 0.0 else x


@njit(cache=True, _nrt=False)
def decay_devices(w, hidden, decay, diffusion, reset, w_max, w_min, P):
    """Once per batch (aihwkit's decay and diffusion after an update): every device's persistent state
    moves to (x - reset) decay + reset + diffusion xi, clipped to its bounds; the weight read gets
    fresh write noise. Flat arrays; nothing to do when `decay` is empty."""
    if decay.shape[0] == 0:
        return
    wn = P[P_WRITE]
    for k in range(decay.shape[0]):
        x = (np.float64(hidden[k]) - reset[k]) * decay[k] + reset[k]
        if diffusion[k] > 0.0:
            x += diffusion[k] * np.random.standard_normal()
        x = _clip(x, w_max[k], w_min[k])
        hidden[k] = x
        w[k] = x + wn * np.random.standard_normal() if wn > 0.0 else x


# ---------------------------------------------------------------------------------------------
# Reads


@njit(cache=True, _nrt=False)
def quantize_value(v, bits, bound):
    """Clip `v` to [-bound, bound] and round it to the `bits`-bit symmetric grid (bits 0: exact)."""
    if bits <= 0:
        return v
    if v > bound:
        v = bound
    elif v < -bound:
        v = -bound
    half = (1 << (bits - 1)) - 1
    if half < 1:
        half = 1
    delta = bound / half
    return np.round(v / delta) * delta


@njit(cache=True)
def dac(x, bits, bound):
    """A new float64 array: row inputs `x` through a `bits`-bit DAC clipping at +-bound (bits 0: a copy)."""
    out = np.empty(x.shape[0], dtype=np.float64)
    for i in range(x.shape[0]):
        out[i] = quantize_value(np.float64(x[i]), bits, bound)
    return out


@njit(cache=True, _nrt=False)
def quantize_read(out, noise_std, adc_bits, out_bound, w_max):
    """In place on read outputs `out`: add N(0, (noise_std*w_max)^2) noise, then the ADC.

    The ADC clips to +-out_bound*w_max and quantises (adc_bits 0: no ADC, no clipping);
    `w_max` is the nominal bound of the device spec. With noise_std 0 and adc_bits 0 nothing
    changes and no random number is drawn.
    """
    if noise_std > 0.0:
        s = noise_std * w_max
        for j in range(out.shape[0]):
            out[j] += s * np.random.standard_normal()
    if adc_bits > 0:
        bound = out_bound * w_max
        for j in range(out.shape[0]):
            out[j] = quantize_value(out[j], adc_bits, bound)


@njit(cache=True)
def mvm_forward(w, x, out):
    """Forward read, rows -> columns: adds x @ w into `out` (skips rows whose input is 0)."""
    for i in range(w.shape[0]):
        xi = x[i]
        if xi != 0:
            for j in range(w.shape[1]):
                out[j] += xi * w[i, j]


@njit(cache=True)
def mvm_backward(w, d, out):
    """Transposed read of the same devices, columns -> rows: adds w @ d into `out`."""
    for i in range(w.shape[0]):
        acc = 0.0
        for j in range(w.shape[1]):
            dj = d[j]
            if dj != 0:
                acc += w[i, j] * dj
        out[i] += acc


@njit(cache=True, inline="always")
def read_row(dst, row, gain):
    """One driven row of a crossbar read into its columns: dst += gain * row. As a function of two
    slices it compiles to a vectorised loop (LLVM cannot prove non-aliasing of offsets into one
    array otherwise: 10x slower). The engine's forward read and `mvm_rows` are this."""
    for c in range(dst.shape[0]):
        dst[c] += gain * row[c]


@njit(cache=True, inline="always")
def read_column(dst, rows_to, w, base, stride, n, gain):
    """One driven column of a crossbar read transposed into its rows' neurons:
    dst[rows_to[r]] += gain * w[base + r * stride] for r < n (w flat, row-major). The engine's
    transposed read and `mvm_cols` are this."""
    for r in range(n):
        dst[rows_to[r]] += gain * w[base + r * stride]


@njit(cache=True)
def mvm_rows(w, rows, out):
    """Forward read of binary spikes on `rows` (indices): adds the sum of those rows into `out`."""
    for k in range(rows.shape[0]):
        read_row(out, w[rows[k]], 1.0)


@njit(cache=True)
def mvm_cols(w, cols, out):
    """Transposed read of binary spikes on `cols` (indices): adds the sum of those columns into `out`."""
    flat = w.ravel()
    rows_to = np.arange(w.shape[0])
    for k in range(cols.shape[0]):
        read_column(out, rows_to, flat, cols[k], w.shape[1], w.shape[0], 1.0)


# ---------------------------------------------------------------------------------------------
# Writes


@njit(cache=True, _nrt=False)
def coincidence_write(w, hidden, dw_up, dw_down, w_max, w_min, g_up, g_down, ref, rows, up_cols, down_cols,
                      model, P):
    """Apply one device pulse per coincidence of a row pulse with a column pulse; return the pulse count.

    `rows`, `up_cols`, `down_cols` are index arrays of the rows pulsed this tick and the columns
    pulsed up / down. Crosspoint (i, j) with i in rows gets an up pulse if j is in up_cols and a
    down pulse if j is in down_cols; if it is in both it gets both, up first, then down (two
    physical pulses, both counted). Work is proportional to the number of coincidences.
    """
    n = 0
    for a in range(rows.shape[0]):
        i = rows[a]
        for b in range(up_cols.shape[0]):
            write_pulse(w, hidden, i, up_cols[b], True, dw_up, dw_down, w_max, w_min, g_up, g_down, ref, model, P)
        for b in range(down_cols.shape[0]):
            write_pulse(w, hidden, i, down_cols[b], False, dw_up, dw_down, w_max, w_min, g_up, g_down, ref,
                        model, P)
        n += up_cols.shape[0] + down_cols.shape[0]
    return n


@njit(cache=True, _nrt=False)
def coincidence_write_uniform(w, dw_up, dw_down, w_max, w_min, rows, up_cols, down_cols):
    """`coincidence_write` for a crossbar of identical ideal devices (one step and one pair of bounds,
    no cycle-to-cycle noise): the same arithmetic, touching only the weights (a pulse is one memory
    access instead of five)."""
    up = np.float64(dw_up)
    down = np.float64(dw_down)
    hi = np.float64(w_max)
    lo = np.float64(w_min)
    n = 0
    for a in range(rows.shape[0]):
        i = rows[a]
        for b in range(up_cols.shape[0]):
            j = up_cols[b]
            x = np.float64(w[i, j]) + up
            w[i, j] = hi if x > hi else (lo if x < lo else x)
        for b in range(down_cols.shape[0]):
            j = down_cols[b]
            x = np.float64(w[i, j]) - down
            w[i, j] = hi if x > hi else (lo if x < lo else x)
        n += up_cols.shape[0] + down_cols.shape[0]
    return n


@njit(cache=True, _nrt=False)
def rate_write(w, hidden, dw_up, dw_down, w_max, w_min, g_up, g_down, ref, pre_counts, post_up, post_down, ts,
               noise_scale, noise_ts, model, P):
    """Rate-based write (Eq. 9) applied through the device model; returns the equivalent pulse total.

    Crosspoint (i, j) receives p = pre_counts[i] * (post_up[j] - post_down[j]) / ts equivalent
    pulses, the expected number of coincidences of the two spike trains over `ts` ticks. With
    `noise_scale > 0`, p += ts * noise_scale / sqrt(noise_ts) * xi, i.e. the rate product
    pre*post/ts^2 gets zero-mean Gaussian noise of std noise_scale/sqrt(noise_ts) (the error of a
    stochastic product, paper Fig. 4); the noise is drawn only where pre_counts[i] > 0 and
    post_up[j] + post_down[j] > 0, because a silent train makes no coincidence at all.
    The persistent state moves by |p| device steps in the direction of sign(p), the step evaluated
    at the current state; with cycle-to-cycle noise the move gets the spread of |p| independent
    pulses, sqrt(|p|) times one pulse's sigma. The result is clipped to the device's bounds and
    the weight read gets fresh write noise.
    Returns (total equivalent pulses, the largest |p| of any crosspoint: the length of the
    pulse train that applies the update in parallel).
    """
    total = 0.0
    peak = 0.0
    sig = 0.0
    if noise_scale > 0.0:
        sig = ts * noise_scale / np.sqrt(noise_ts)
    std = P[P_C2C]
    wn = P[P_WRITE]
    for i in range(w.shape[0]):
        pi = pre_counts[i]
        if pi <= 0:
            continue
        for j in range(w.shape[1]):
            up_j = post_up[j]
            dn_j = post_down[j]
            if up_j + dn_j <= 0:
                continue
            p = np.float64(pi) * np.float64(up_j - dn_j) / ts
            if sig > 0.0:
                p += sig * np.random.standard_normal()
            if p == 0.0:
                continue
            up = p > 0.0
            ap = abs(p)
            total += ap
            if ap > peak:
                peak = ap
            if _frozen(model, w_max[i, j], w_min[i, j]):
                continue
            r = np.float64(ref[i, j])
            x = np.float64(hidden[i, j]) + r
            step = step_size(model, x, up, dw_up[i, j], dw_down[i, j], w_max[i, j], w_min[i, j], g_up[i, j],
                             g_down[i, j], P)
            dw = ap * step
            if std > 0.0:
                base = abs(step) if P[P_MULT] > 0.0 else (np.float64(dw_up[i, j]) if up else np.float64(dw_down[i, j]))
                dw += std * (base + P[P_ADD] + P[P_SLOPE] * abs(x)) * np.sqrt(ap) * np.random.standard_normal()
            x = x + dw if up else x - dw
            x = _clip(x, w_max[i, j], w_min[i, j]) - r
            hidden[i, j] = x
            w[i, j] = x + wn * np.random.standard_normal() if wn > 0.0 else x
    return total, peak


@njit(cache=True)
def coincidence_products(values, ts, repeats):
    """Estimates of values[i] * values[j] by coincidences of two Bernoulli trains of length ts,
    shape (repeats, n, n), drawn from numba's generator."""
    n = values.shape[0]
    est = np.empty((repeats, n, n), dtype=np.float64)
    for r in range(repeats):
        for i in range(n):
            a = values[i]
            for j in range(n):
                b = values[j]
                c = 0
                for _ in range(ts):
                    # both draws every tick: the two trains are independent
                    x = np.random.random() < a
                    y = np.random.random() < b
                    if x and y:
                        c += 1
                est[r, i, j] = c / ts
    return est
