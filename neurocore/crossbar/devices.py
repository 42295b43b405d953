"""Per-device parameters of a crossbar, drawn once from a DeviceSpec and a seeded generator.

Device-to-device spreads follow aihwkit's `PulsedDevice` (`src/rpucuda/rpu_pulsed_device.cpp`,
`PulsedRPUDevice::populate`), each xi an independent standard normal per device:

* step:      dw = dw_min * (1 + dw_min_dtod * xi)
* asymmetry: ud = up_down + up_down_dtod * xi;  dw_up = |dw * (1 + ud)|,  dw_down = |dw * (1 - ud)|
* bounds:    w_max = |w_max * (1 + w_max_dtod * xi)|,  w_min = -|w_min * (1 + w_min_dtod * xi)|

Taking absolute values is aihwkit's `enforce_consistency=True`: steps are never negative, the
upper bound never below 0 and the lower bound never above 0. Two differences from aihwkit,
both kept on purpose: the asymmetry is split evenly between the directions (aihwkit puts a
positive up_down entirely on the down step), so the mean step stays dw_min; and the spread of
the asymmetry multiplies the device's step rather than adding to its gain.
A spread of 0 draws no random numbers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..devices import DeviceSpec


class DeviceArrays(NamedTuple):
    """Per-crosspoint device parameters, float32 arrays of the crossbar's shape (rows, cols)."""

    dw_up: np.ndarray    #: step of one up pulse (before the model's weight dependence)
    dw_down: np.ndarray  #: step of one down pulse
    w_max: np.ndarray    #: this device's upper bound (> 0, or 0 if the spec's is 0)
    w_min: np.ndarray    #: this device's lower bound (< 0, or 0 if the spec's is 0)


def _spread(rng: np.random.Generator, std: float, shape: tuple[int, ...]) -> np.ndarray | float:
    return std * rng.standard_normal(shape) if std > 0 else 0.0


def draw_devices(spec: DeviceSpec, shape: tuple[int, int], rng: np.random.Generator) -> DeviceArrays:
    """Draw every device of a (rows, cols) crossbar from `spec`'s means and spreads, using `rng`."""
    shape = tuple(int(s) for s in shape)
    full = np.ones(shape, dtype=np.float64)
    dw = spec.dw_min * (1.0 + _spread(rng, spec.dw_min_dtod, shape)) * full
    ud = spec.up_down + _spread(rng, spec.up_down_dtod, shape)
    dw_up = np.abs(dw * (1.0 + ud))
    dw_down = np.abs(dw * (1.0 - ud))
    w_max = np.abs(spec.w_max * (1.0 + _spread(rng, spec.w_max_dtod, shape)) * full)
    w_min = -np.abs(spec.w_min * (1.0 + _spread(rng, spec.w_min_dtod, shape)) * full)
    f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
    return DeviceArrays(f32(dw_up), f32(dw_down), f32(w_max), f32(w_min))


def init_weights(w0: np.ndarray | float, devices: DeviceArrays) -> np.ndarray:
    """Initial weights (scalar or array broadcast to the crossbar's shape), clipped into each device's bounds."""
    w = np.broadcast_to(np.asarray(w0, dtype=np.float64), devices.w_max.shape)
    return np.ascontiguousarray(np.clip(w, devices.w_min, devices.w_max), dtype=np.float32)


def device_scalars(spec: DeviceSpec) -> tuple[int, float, float, float]:
    """(model id, gamma_up, gamma_down, c2c_std): the scalar kernel arguments shared by a crossbar."""
    return spec.model_id, float(spec.gamma_up), float(spec.gamma_down), float(spec.dw_min_std)
