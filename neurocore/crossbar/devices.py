"""Per-device parameters of a crossbar, drawn once from a DeviceSpec and a seeded generator.

Device-to-device spreads follow aihwkit's `PulsedRPUDevice::populate`
(`src/rpucuda/rpu_pulsed_device.cpp`) and the models' own `populate`, each xi an independent
standard normal per device:

* bounds:    w_max = w_max (1 + w_max_dtod xi), w_min = w_min (1 + w_min_dtod xi); swapped if
             w_min > w_max, then w_max = |w_max|, w_min = -|w_min| (aihwkit's enforce_consistency)
* gain:      g = 1 + dw_min_dtod xi, or exp(dw_min_dtod xi) with dw_min_dtod_log_normal
* steps, up_down_convention 'aihwkit' (aihwkit's C++), r = up_down_dtod xi:
             dw_up = |dw_min (g + min(up_down, 0) + r)|,  dw_down = |dw_min (g - max(up_down, 0) - r)|
* steps, 'symmetric' (neurocore's first convention, the mean step stays dw_min):
             ud = up_down + r;  dw_up = |dw_min g (1 + ud)|,  dw_down = |dw_min g (1 - ud)|
* model terms (g_up, g_down, ref): see the model classes of neurocore.devices
  - linear_step: g_up = |gamma_up + gamma_up_dtod xi| / r_up (0 if r_up = 0), g_down likewise
  - soft_bounds: g_up = 1 / r_up, g_down = 1 / r_down (own bounds)
  - pow_step: g_up, g_down the device's exponents
  - soft_bounds_reference: bounds rescaled by the slope spreads, ref = the reference
* decay = 1 - 1/t with t = lifetime (1 + lifetime_dtod xi) (0 if t <= 1), diffusion =
  |diffusion (1 + diffusion_dtod xi)|, reset = reset + reset_dtod xi (drawn only when the device
  decays or diffuses; else these arrays are empty).

A spread of 0 draws no random numbers. Not modelled: aihwkit's corrupt devices, perfect bias,
adjust_bounds_with_up_down, drift (no preset uses them).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..devices import DeviceSpec


class DeviceArrays(NamedTuple):
    """Per-crosspoint device parameters, float32 arrays of the crossbar's shape (rows, cols)."""

    dw_up: np.ndarray    #: step of one up pulse (before the model's weight dependence)
    dw_down: np.ndarray  #: step of one down pulse
    w_max: np.ndarray    #: this device's upper bound (>= 0)
    w_min: np.ndarray    #: this device's lower bound (<= 0)
    g_up: np.ndarray     #: model term of the up step (linear: slope / reference; pow: exponent)
    g_down: np.ndarray   #: model term of the down step
    ref: np.ndarray      #: offset of the device state: x = w + ref (soft_bounds_reference; else 0)
    decay: np.ndarray    #: per-batch decay factor toward `reset` (empty when nothing decays)
    diffusion: np.ndarray  #: per-batch diffusion std (empty when nothing decays)
    reset: np.ndarray    #: reset value, the target of decay (empty when nothing decays)


def _spread(rng: np.random.Generator, std: float, shape: tuple[int, ...]) -> np.ndarray | float:
    return std * rng.standard_normal(shape) if std > 0 else 0.0


def _ratio(num: np.ndarray | float, den: np.ndarray | float, full: np.ndarray) -> np.ndarray:
    num = num * full
    den = den * full
    out = np.zeros_like(full)
    np.divide(num, den, out=out, where=den != 0)
    return out


def draw_devices(spec: DeviceSpec, shape: tuple[int, ...], rng: np.random.Generator) -> DeviceArrays:
    """Draw every device of a crossbar (any shape) from `spec`'s means and spreads, using `rng`."""
    shape = tuple(int(s) for s in shape)
    full = np.ones(shape, dtype=np.float64)
    w_max = spec.w_max * (1.0 + _spread(rng, spec.w_max_dtod, shape)) * full
    w_min = spec.w_min * (1.0 + _spread(rng, spec.w_min_dtod, shape)) * full
    swap = w_min > w_max
    w_max, w_min = np.where(swap, w_min, w_max), np.where(swap, w_max, w_min)
    w_max, w_min = np.abs(w_max), -np.abs(w_min)
    if spec.dw_min_dtod_log_normal:
        gain = np.exp(_spread(rng, spec.dw_min_dtod, shape)) * full
    else:
        gain = (1.0 + _spread(rng, spec.dw_min_dtod, shape)) * full
    r = _spread(rng, spec.up_down_dtod, shape)
    ud = spec.up_down
    if spec.up_down_convention == "aihwkit":
        dw_up = np.abs(spec.dw_min * (gain + min(ud, 0.0) + r))
        dw_down = np.abs(spec.dw_min * (gain - max(ud, 0.0) - r))
    else:
        dw_up = np.abs(spec.dw_min * gain * (1.0 + ud + r))
        dw_down = np.abs(spec.dw_min * gain * (1.0 - ud - r))
    g_up = np.zeros(shape)
    g_down = np.zeros(shape)
    ref = np.zeros(shape)
    m = spec.model
    if m in ("linear_step", "soft_bounds"):
        if m == "linear_step":
            gu = np.abs(spec.gamma_up + _spread(rng, spec.gamma_up_dtod, shape)) * full
            gd = np.abs(spec.gamma_down + _spread(rng, spec.gamma_down_dtod, shape)) * full
            hi, lo = (spec.w_max, spec.w_min) if spec.mean_bound_reference else (w_max, w_min)
        else:
            gu = gd = full
            hi, lo = w_max, w_min
        r_up = (lo - spec.reverse_offset) if spec.reverse_up else hi
        r_down = (hi + spec.reverse_offset) if spec.reverse_down else lo
        g_up = _ratio(gu, r_up, full)
        g_down = _ratio(gd, r_down, full)
    elif m == "pow_step":
        pg = (1.0 + _spread(rng, spec.pow_gamma_dtod, shape)) * full
        pr = _spread(rng, spec.pow_up_down_dtod, shape)
        pud = spec.pow_up_down
        if spec.up_down_convention == "aihwkit":
            g_up = np.abs((min(pud, 0.0) + pg + pr) * spec.pow_gamma)
            g_down = np.abs((-max(pud, 0.0) + pg - pr) * spec.pow_gamma)
        else:
            g_up = np.abs(pg * (1.0 + pud + pr) * spec.pow_gamma)
            g_down = np.abs(pg * (1.0 - pud - pr) * spec.pow_gamma)
    reset = (spec.reset + _spread(rng, spec.reset_dtod, shape)) * full if spec.decays else None
    if m == "soft_bounds_reference":
        ok = (w_max > 0) & (w_min < 0)
        su = _ratio(dw_up, w_max, full) * np.abs(1.0 + _spread(rng, spec.slope_up_dtod, shape))
        sd = _ratio(-dw_down, w_min, full) * np.abs(1.0 + _spread(rng, spec.slope_down_dtod, shape))
        w_max = np.where(ok & (su > 0), _ratio(dw_up, su, full), w_max)
        w_min = np.where(ok & (sd > 0), -_ratio(dw_down, sd, full), w_min)
        ref = (spec.reference_mean + _spread(rng, spec.reference_std, shape)) * full
        if spec.subtract_symmetry_point:
            den = _ratio(dw_up, w_max, full) - _ratio(dw_down, w_min, full)
            sp = np.where(ok, _ratio(dw_up - dw_down, den, full), 0.0)
            ref = ref + sp
            if reset is not None:
                reset = reset + sp
    if spec.decays:
        if spec.lifetime > 0:
            t = spec.lifetime * (1.0 + _spread(rng, spec.lifetime_dtod, shape)) * full
            decay = np.where(t > 1.0, 1.0 - 1.0 / np.where(t > 1.0, t, 2.0), 0.0)
        else:
            decay = full
        diffusion = np.abs(spec.diffusion * (1.0 + _spread(rng, spec.diffusion_dtod, shape))) * full
    else:
        decay = diffusion = reset = np.zeros(0)
    f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
    return DeviceArrays(f32(dw_up), f32(dw_down), f32(w_max), f32(w_min), f32(g_up), f32(g_down), f32(ref),
                        f32(decay), f32(diffusion), f32(reset))


def init_weights(w0: np.ndarray | float, devices: DeviceArrays) -> np.ndarray:
    """Initial weights (scalar or array broadcast to the crossbar's shape), clipped into each device's
    bounds (the weight itself, not w + ref: aihwkit's `onSetWeights`)."""
    w = np.broadcast_to(np.asarray(w0, dtype=np.float64), devices.w_max.shape)
    return np.ascontiguousarray(np.clip(w, devices.w_min, devices.w_max), dtype=np.float32)


def device_params(spec: DeviceSpec) -> np.ndarray:
    """The float64 vector of parameters shared by every device of a crossbar (see kernels.P_*)."""
    from . import kernels as K

    n = len(spec.piecewise_up) if spec.model == "piecewise_step" else 0
    p = np.zeros(K.P_PW + 2 * n, dtype=np.float64)
    p[K.P_C2C] = spec.dw_min_std
    # aihwkit's mult_noise switch exists for the linear and soft-bounds models; the others are multiplicative
    additive = not spec.mult_noise and spec.model in ("linear_step", "soft_bounds", "soft_bounds_reference")
    p[K.P_MULT] = 0.0 if additive else 1.0
    p[K.P_ADD] = spec.dw_min_std_add
    p[K.P_SLOPE] = spec.dw_min_std_slope
    p[K.P_WRITE] = spec.write_noise
    if spec.model == "exp_step":
        p[K.P_A], p[K.P_B] = spec.a, spec.b
        p[K.P_AUP], p[K.P_ADN] = spec.A_up, spec.A_down
        p[K.P_GUP], p[K.P_GDN] = spec.gamma_up, spec.gamma_down
    p[K.P_NPW] = n
    if n:
        p[K.P_PW:K.P_PW + n] = spec.piecewise_up
        p[K.P_PW + n:] = spec.piecewise_down
    return p


def device_scalars(spec: DeviceSpec) -> tuple[int, np.ndarray]:
    """(model id, shared parameter vector): the scalar kernel arguments shared by a crossbar."""
    return spec.model_id, device_params(spec)
