"""Symmetry points of drawn devices: the weight where an up and a down pulse cancel.

Under alternating or zero-mean updates an asymmetric device drifts to the state x* where
s_up(x*) = s_down(x*) (aihwkit's symmetry point; Gokmen and Haensch 2020). For each device this
finds it by bisection on s_up(x) - s_down(x) over [w_min, w_max] with the model's own step
function (kernels.step_size), and returns it as a weight, x* - ref. A device whose difference
keeps one sign (a constant-step device with unequal steps, or equal steps everywhere) has none:
NaN for the first; for the second (exactly symmetric everywhere) also NaN.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..devices import DeviceSpec
from . import kernels as K
from .devices import DeviceArrays, device_params


@njit(cache=True)
def _bisect(dw_up, dw_down, w_max, w_min, g_up, g_down, ref, model, P, out):
    for k in range(out.shape[0]):
        lo = np.float64(w_min[k])
        hi = np.float64(w_max[k])
        f_lo = (K.step_size(model, lo, True, dw_up[k], dw_down[k], w_max[k], w_min[k], g_up[k], g_down[k], P)
                - K.step_size(model, lo, False, dw_up[k], dw_down[k], w_max[k], w_min[k], g_up[k], g_down[k], P))
        f_hi = (K.step_size(model, hi, True, dw_up[k], dw_down[k], w_max[k], w_min[k], g_up[k], g_down[k], P)
                - K.step_size(model, hi, False, dw_up[k], dw_down[k], w_max[k], w_min[k], g_up[k], g_down[k], P))
        if not hi > lo or f_lo * f_hi > 0.0 or (f_lo == 0.0 and f_hi == 0.0):
            out[k] = np.nan
            continue
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            f = (K.step_size(model, mid, True, dw_up[k], dw_down[k], w_max[k], w_min[k], g_up[k], g_down[k], P)
                 - K.step_size(model, mid, False, dw_up[k], dw_down[k], w_max[k], w_min[k], g_up[k], g_down[k], P))
            if (f > 0.0) == (f_lo > 0.0):
                lo = mid
                f_lo = f
            else:
                hi = mid
        out[k] = 0.5 * (lo + hi) - ref[k]


def symmetry_points(spec: DeviceSpec, dev: DeviceArrays) -> np.ndarray:
    """Each device's symmetry point as a weight (NaN where it has none), float64 of the devices' shape."""
    flat = [np.ascontiguousarray(a, dtype=np.float32).reshape(-1) for a in dev[:7]]
    out = np.empty(flat[0].shape[0])
    _bisect(*flat, spec.model_id, device_params(spec), out)
    return out.reshape(dev.dw_up.shape)
