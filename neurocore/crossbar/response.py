"""aihwkit's pulse-response protocol on a crossbar: every device gets one pulse per step.

`directions(n_up, n_down, n_pairs)` is the sequence of the comparison with aihwkit
(tests/reference/make_aihwkit_goldens.py): n_up up pulses, n_down down pulses, then n_pairs
alternating (up, down) pairs. `pulse_response` applies it to a (rows, cols) crossbar of one
DeviceSpec, all rows and all columns pulsed together (one coincidence per device per step, the
engine's write kernel), and returns the mean and std over the devices of the weight read
(apparent weights, write noise included) at every `every`-th step, step 0 being the start.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..devices import DeviceSpec
from . import kernels as K
from .array import Crossbar


def directions(n_up: int = 1000, n_down: int = 1000, n_pairs: int = 1000) -> np.ndarray:
    """+1 (up) / -1 (down) per step: n_up ups, n_down downs, n_pairs (up, down) pairs."""
    return np.concatenate([np.ones(n_up), -np.ones(n_down), np.tile([1.0, -1.0], n_pairs)]).astype(np.int8)


@njit(cache=True)
def _run(w, hidden, dw_up, dw_down, w_max, w_min, g_up, g_down, ref, model, P, dirs, every, mean, std):
    rows = np.arange(w.shape[0])
    cols = np.arange(w.shape[1])
    none = np.empty(0, np.int64)
    n = w.size
    k = 0
    for t in range(dirs.shape[0] + 1):
        if t > 0:
            if dirs[t - 1] > 0:
                K.coincidence_write(w, hidden, dw_up, dw_down, w_max, w_min, g_up, g_down, ref, rows, cols, none,
                                    model, P)
            else:
                K.coincidence_write(w, hidden, dw_up, dw_down, w_max, w_min, g_up, g_down, ref, rows, none, cols,
                                    model, P)
        if t % every == 0:
            s = 0.0
            for i in range(w.shape[0]):
                for j in range(w.shape[1]):
                    s += w[i, j]
            m = s / n
            v = 0.0
            for i in range(w.shape[0]):
                for j in range(w.shape[1]):
                    v += (w[i, j] - m) ** 2
            mean[k] = m
            std[k] = np.sqrt(v / n)
            k += 1


def pulse_response(spec: DeviceSpec, seed: int, dirs: np.ndarray | None = None, shape: tuple[int, int] = (64, 64),
                   w0: float = 0.0, every: int = 20) -> dict[str, np.ndarray]:
    """Run `dirs` (default `directions()`) on a fresh crossbar seeded with `seed`; returns
    {"step", "mean", "std"} at steps 0, every, 2 every, ... (the mean and std over devices)."""
    dirs = directions() if dirs is None else np.asarray(dirs, np.int8)
    K.seed_numba(int(seed))
    xb = Crossbar(shape, spec, rng=np.random.default_rng([int(seed), 27]))
    if w0 != 0.0:
        xb.w[:] = np.clip(np.float32(w0), xb.dev.w_min, xb.dev.w_max)
        xb.hidden[:] = xb.w
    steps = np.arange(0, len(dirs) + 1, every)
    mean = np.zeros(len(steps))
    std = np.zeros(len(steps))
    d = xb.dev
    model, params = xb.kernel_scalars()
    _run(xb.w, xb.hidden, d.dw_up, d.dw_down, d.w_max, d.w_min, d.g_up, d.g_down, d.ref, model, params, dirs,
         int(every), mean, std)
    return {"step": steps, "mean": mean, "std": std}
