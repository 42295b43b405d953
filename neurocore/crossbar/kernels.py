"""Compiled kernels of an RPU crossbar: device pulses, noisy reads, coincidence and rate writes.

Every kernel is a plain `@njit(cache=True)` function that the engine may call from inside its
own compiled tick loop. Device parameters arrive as per-device float32 arrays (`dw_up`,
`dw_down`, `w_max`, `w_min`, see :mod:`neurocore.crossbar.devices`) plus four scalars shared by
the whole crossbar: `model` (an id of :data:`MODEL_IDS`), `gamma_up`, `gamma_down`, `c2c_std`.
Weights are float32 arrays of shape (rows, cols): rows are the pre-synaptic inputs, columns the
post-synaptic outputs.

Device models follow IBM aihwkit (`src/rpucuda/rpu_linearstep_device.cpp`, `update_once_mult`,
and `aihwkit.simulator.configs.devices`):

* ideal — aihwkit `ConstantStepDevice`: a pulse moves w by a constant step, hard bounds.
* linear_step — aihwkit `LinearStepDevice` with multiplicative noise (`mult_noise=True`, its
  default): the up step is `dw_up * (1 - gamma_up * w / w_max)`, the down step
  `dw_down * (1 - gamma_down * w / w_min)`. aihwkit's slope is `-gamma * scale / b`, so these are
  the same; we divide by the device's own bounds (aihwkit's `mean_bound_reference=False`).
* soft_bounds — aihwkit `SoftBoundsDevice` (= LinearStep with gamma 1 against the device's own
  bounds): up step `dw_up * (1 - w / w_max)`, down step `dw_down * (1 - w / w_min)`; the step
  vanishes at the bound. A bound of exactly 0 gives a constant step on that side (aihwkit sets
  the slope to 0 when the reference bound is 0).

Cycle-to-cycle noise is multiplicative, fresh per pulse: `step *= 1 + c2c_std * xi`, xi a
standard normal from numba's generator (seed it with :func:`seed_numba`); with `c2c_std == 0`
no random number is drawn. After every pulse the weight is clipped to the device's own bounds.

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


@njit(cache=True)
def seed_numba(seed: int) -> None:
    """Seed numba's own random generator (separate from numpy's), used by every noisy kernel."""
    np.random.seed(seed)


# ---------------------------------------------------------------------------------------------
# One device


@njit(cache=True, _nrt=False)
def device_step(w, up, dw_up, dw_down, w_max, w_min, model, gamma_up, gamma_down):
    """Noise-free size (>= 0 for gamma <= 1) of one pulse at weight `w`, before clipping."""
    w = np.float64(w)
    if up:
        step = np.float64(dw_up)
        if model == LINEAR_STEP and w_max != 0.0:
            step *= 1.0 - gamma_up * w / w_max
        elif model == SOFT_BOUNDS and w_max != 0.0:
            step *= 1.0 - w / w_max
    else:
        step = np.float64(dw_down)
        if model == LINEAR_STEP and w_min != 0.0:
            step *= 1.0 - gamma_down * w / w_min
        elif model == SOFT_BOUNDS and w_min != 0.0:
            step *= 1.0 - w / w_min
    return step


@njit(cache=True, _nrt=False)
def _clip(w, w_max, w_min):
    if w > w_max:
        return np.float64(w_max)
    if w < w_min:
        return np.float64(w_min)
    return w


@njit(cache=True, _nrt=False)
def device_pulse(w, up, dw_up, dw_down, w_max, w_min, model, gamma_up, gamma_down, c2c_std):
    """The weight after one write pulse (`up` True: potentiate, False: depress)."""
    step = device_step(w, up, dw_up, dw_down, w_max, w_min, model, gamma_up, gamma_down)
    if c2c_std > 0.0:
        step *= 1.0 + c2c_std * np.random.standard_normal()
    w_new = np.float64(w) + step if up else np.float64(w) - step
    return _clip(w_new, w_max, w_min)


@njit(cache=True, _nrt=False)
def device_pulses(w, n, up, dw_up, dw_down, w_max, w_min, model, gamma_up, gamma_down, c2c_std):
    """The weight after `n` pulses in a row in one direction (closed form for a noiseless ideal device)."""
    if n <= 0:
        return np.float64(w)
    if model == IDEAL and c2c_std == 0.0:
        if up:
            return _clip(np.float64(w) + n * np.float64(dw_up), w_max, w_min)
        return _clip(np.float64(w) - n * np.float64(dw_down), w_max, w_min)
    x = np.float64(w)
    for _ in range(n):
        x = device_pulse(x, up, dw_up, dw_down, w_max, w_min, model, gamma_up, gamma_down, c2c_std)
    return x


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
def coincidence_write(w, dw_up, dw_down, w_max, w_min, rows, up_cols, down_cols,
                      model, gamma_up, gamma_down, c2c_std):
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
            j = up_cols[b]
            w[i, j] = device_pulse(w[i, j], True, dw_up[i, j], dw_down[i, j], w_max[i, j], w_min[i, j],
                                   model, gamma_up, gamma_down, c2c_std)
        for b in range(down_cols.shape[0]):
            j = down_cols[b]
            w[i, j] = device_pulse(w[i, j], False, dw_up[i, j], dw_down[i, j], w_max[i, j], w_min[i, j],
                                   model, gamma_up, gamma_down, c2c_std)
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
def rate_write(w, dw_up, dw_down, w_max, w_min, pre_counts, post_up, post_down, ts,
               noise_scale, noise_ts, model, gamma_up, gamma_down, c2c_std):
    """Rate-based write (Eq. 9) applied through the device model; returns the equivalent pulse total.

    Crosspoint (i, j) receives p = pre_counts[i] * (post_up[j] - post_down[j]) / ts equivalent
    pulses, the expected number of coincidences of the two spike trains over `ts` ticks. With
    `noise_scale > 0`, p += ts * noise_scale / sqrt(noise_ts) * xi, i.e. the rate product
    pre*post/ts^2 gets zero-mean Gaussian noise of std noise_scale/sqrt(noise_ts) (the error of a
    stochastic product, paper Fig. 4); the noise is drawn only where pre_counts[i] > 0 and
    post_up[j] + post_down[j] > 0, because a silent train makes no coincidence at all.
    The weight moves by |p| device steps in the direction of sign(p), the step evaluated at the
    current weight; with c2c_std > 0 the move gets the spread of |p| independent pulses,
    std c2c_std * step * sqrt(|p|). The result is clipped to the device's bounds.
    Returns (total equivalent pulses, the largest |p| of any crosspoint: the length of the
    pulse train that applies the update in parallel).
    """
    total = 0.0
    peak = 0.0
    sig = 0.0
    if noise_scale > 0.0:
        sig = ts * noise_scale / np.sqrt(noise_ts)
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
            step = device_step(w[i, j], up, dw_up[i, j], dw_down[i, j], w_max[i, j], w_min[i, j],
                               model, gamma_up, gamma_down)
            dw = ap * step
            if c2c_std > 0.0:
                dw += c2c_std * step * np.sqrt(ap) * np.random.standard_normal()
            x = np.float64(w[i, j]) + dw if up else np.float64(w[i, j]) - dw
            w[i, j] = _clip(x, w_max[i, j], w_min[i, j])
            total += ap
            if ap > peak:
                peak = ap
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
