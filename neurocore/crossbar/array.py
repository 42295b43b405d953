"""One RPU crossbar: a float32 weight per crosspoint, its devices, reads and writes.

Weight scheme: ONE device per crosspoint, read against a fixed reference (weight = g - g_ref,
in normalised units), as in aihwkit's single-device tiles (`SingleRPUConfig`); the device's
bounds w_min < 0 < w_max are those of the weight itself. The neurons see `gain * w`, the gain
applied digitally after the ADC.

Rows are the pre-synaptic inputs, columns the post-synaptic outputs: `forward` reads rows ->
columns (the forward pass), `backward` reads the same devices columns -> rows (the backward
pass). Writes are pulse coincidences (`pulse_coincidence`) or, for comparison, rate-based
outer products of spike counts (`rate_update`, `rate_noise_update`). This class is the Python
face for tests and tools; the engine calls the kernels of :mod:`neurocore.crossbar.kernels`
directly with `self.w`, `self.dev` and :meth:`kernel_scalars`.

Randomness: device-to-device spreads come from a numpy Generator (`rng`); cycle-to-cycle
step noise, read noise and the noise of `rate_noise_update` come from numba's own generator,
seeded with :func:`neurocore.crossbar.kernels.seed_numba`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..devices import DeviceSpec, ReadSpec
from . import kernels as K
from .devices import DeviceArrays, device_params, draw_devices, init_weights


def _index(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64).reshape(-1)


def _counts(a: Any, n: int, what: str) -> np.ndarray:
    arr = np.ascontiguousarray(a, dtype=np.float64).reshape(-1)
    if arr.shape[0] != n:
        raise ValueError(f"{what} has {arr.shape[0]} entries, the crossbar needs {n}")
    return arr


class Crossbar:
    """A rows x cols crossbar of RPU devices with seeded device spreads.

    `w0` is the initial weight matrix (or a (rows, cols) shape for all-zero weights); it is
    clipped into each device's bounds. `rng` is a numpy Generator or an int seed.
    """

    def __init__(self, w0: np.ndarray | tuple[int, int], device: DeviceSpec | None = None,
                 read: ReadSpec | None = None, gain: float = 1.0,
                 rng: np.random.Generator | int | None = None) -> None:
        self.device = device if device is not None else DeviceSpec()
        self.read = read if read is not None else ReadSpec()
        self.gain = float(gain)
        if not isinstance(rng, np.random.Generator):
            rng = np.random.default_rng(rng)
        if isinstance(w0, tuple):
            shape, w0 = w0, 0.0
        else:
            w0 = np.asarray(w0)
            if w0.ndim != 2:
                raise ValueError(f"w0 must be a 2-D (rows, cols) matrix, got shape {w0.shape}")
            shape = w0.shape
        self.dev: DeviceArrays = draw_devices(self.device, shape, rng)
        self.w: np.ndarray = init_weights(w0, self.dev)
        #: the devices' persistent states: the weights themselves unless there is write noise
        self.hidden: np.ndarray = self.w
        if self.device.write_noise > 0:  # aihwkit's apply_write_noise_on_set
            self.hidden = self.w.copy()
            self.w += (self.device.write_noise * rng.standard_normal(self.w.shape)).astype(np.float32)
        self._params = device_params(self.device)
        self.write_pulses: int = 0

    @classmethod
    def from_chip(cls, chip: Any, w0: np.ndarray | tuple[int, int], gain: float = 1.0,
                  rng: np.random.Generator | int | None = None) -> "Crossbar":
        """A crossbar with the `device` and `read` specs of a loaded Chip."""
        return cls(w0, chip.device, chip.read, gain, rng)

    @property
    def shape(self) -> tuple[int, int]:
        return self.w.shape

    @property
    def weights(self) -> np.ndarray:
        """The weights the neurons see: gain * w (float64 copy)."""
        return self.gain * self.w.astype(np.float64)

    def kernel_scalars(self) -> tuple[int, np.ndarray]:
        """(model id, shared parameter vector) for the write kernels."""
        return self.device.model_id, self._params

    def _devs(self) -> tuple:
        d = self.dev
        return (self.w, self.hidden, d.dw_up, d.dw_down, d.w_max, d.w_min, d.g_up, d.g_down, d.ref)

    # -- reads ---------------------------------------------------------------------------------

    def _finish(self, out: np.ndarray) -> np.ndarray:
        r = self.read
        if not r.is_exact:
            K.quantize_read(out, r.noise_std, r.adc_bits, r.out_bound, self.device.w_max)
        if self.gain != 1.0:
            out *= self.gain
        return out

    def _inputs(self, x: Any, n: int, what: str) -> np.ndarray:
        x = _counts(x, n, what)
        if self.read.dac_bits > 0:
            x = K.dac(x, self.read.dac_bits, self.read.in_bound)
        return x

    def forward(self, x_rows: Any) -> np.ndarray:
        """Forward read: column outputs gain * ADC(noise(DAC(x) @ w)), float64 of length cols."""
        x = self._inputs(x_rows, self.shape[0], "x_rows")
        out = np.zeros(self.shape[1], dtype=np.float64)
        K.mvm_forward(self.w, x, out)
        return self._finish(out)

    def backward(self, d_cols: Any) -> np.ndarray:
        """Transposed read of the same devices: row outputs gain * ADC(noise(w @ DAC(d))), length rows."""
        d = self._inputs(d_cols, self.shape[1], "d_cols")
        out = np.zeros(self.shape[0], dtype=np.float64)
        K.mvm_backward(self.w, d, out)
        return self._finish(out)

    # -- writes --------------------------------------------------------------------------------

    def pulse_coincidence(self, rows: Any, up_cols: Any, down_cols: Any) -> int:
        """One tick of pulse-coincidence writes (see `kernels.coincidence_write`); returns its pulse count."""
        n = K.coincidence_write(*self._devs(), _index(rows), _index(up_cols), _index(down_cols),
                                *self.kernel_scalars())
        self.write_pulses += int(n)
        return int(n)

    def rate_update(self, pre_counts: Any, post_up_counts: Any, post_down_counts: Any, ts: float) -> float:
        """Rate-based write of one sample (paper Eq. 9): dw_min * (n_up - n_down)[j] * n_pre[i] / ts,
        applied through the device model as equivalent pulses; returns their total (also added,
        rounded, to `write_pulses`)."""
        return self._rate(pre_counts, post_up_counts, post_down_counts, ts, 0.0, ts)

    def rate_noise_update(self, pre_counts: Any, post_up_counts: Any, post_down_counts: Any, ts: float,
                          noise_scale: float, noise_ts: float | None = None) -> float:
        """`rate_update` plus zero-mean Gaussian noise of std noise_scale / sqrt(noise_ts) on each rate
        product (noise_ts defaults to ts), drawn only where the pre count and the post count
        (up + down) are both > 0: a silent train makes no coincidence, so its product is exact.
        `noise_ts` lets a short rate simulation stand in for longer stochastic trains (paper Fig. 8);
        `noise_scale` is the `noise_scale` figure of `neurocore bench product` (about 0.37)."""
        if noise_scale < 0:
            raise ValueError(f"noise_scale must be >= 0, got {noise_scale}")
        return self._rate(pre_counts, post_up_counts, post_down_counts, ts, float(noise_scale),
                          float(ts if noise_ts is None else noise_ts))

    def _rate(self, pre: Any, up: Any, down: Any, ts: float, noise_scale: float, noise_ts: float) -> float:
        if not ts > 0 or not noise_ts > 0:
            raise ValueError(f"ts and noise_ts must be > 0, got {ts}, {noise_ts}")
        rows, cols = self.shape
        total, _ = K.rate_write(*self._devs(), _counts(pre, rows, "pre_counts"), _counts(up, cols, "post_up_counts"),
                             _counts(down, cols, "post_down_counts"), float(ts), noise_scale, noise_ts,
                             *self.kernel_scalars())
        self.write_pulses += int(round(total))
        return float(total)

    def decay(self) -> None:
        """One decay and diffusion step of every device (aihwkit applies it once per mini-batch);
        nothing happens unless the spec has a lifetime or diffusion."""
        d = self.dev
        if d.decay.size:
            K.decay_devices(self.w.reshape(-1), self.hidden.reshape(-1), d.decay.reshape(-1),
                            d.diffusion.reshape(-1), d.reset.reshape(-1), d.w_max.reshape(-1),
                            d.w_min.reshape(-1), self._params)
