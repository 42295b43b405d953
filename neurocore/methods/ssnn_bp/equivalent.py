"""The rate-equivalent ANN of an SSNN-BP experiment: what the chip computes when every spike
count is replaced by its expectation (the units of `netlist.py`).

* forward: h = clip(x W, 0, 1) per layer (an IF rate is a ReLU capped at one spike per
  tick), x = input_rate * pixel; the output is the fixed point of WTA lateral inhibition,
  o_i = clip(a_i - wta * sum_{j != i} o_j, 0, 1);
* backward: delta_out = target - o, delta_l = (W delta_{l+1}) * (h_l > 0) (the spiked gate;
  none with gate = "none"); update dW = eta * x delta^T (Eq. 9), eta = lr for every crossbar
  but the last (lr * output_lr_scale), times lr_decay per epoch; training dropout masks
  without rescaling, inference reads scaled by (1 - dropout) as `dropout_scaling` does.

Two uses: `neurocore infer --equivalent` tells whether a trained chip loses accuracy in
spiking inference or in learning (the same weights through this forward), and
`neurocore equivalent EXPERIMENT` trains this network with exact gradients in seconds per
epoch: the ceiling the chip's hyperparameters allow, for searching them before a long run.
Not modelled: spike-count quantisation, the kernel's delay, stochastic pulses, device
nonlinearity.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from ...data import Dataset
from .netlist import SSNNSpec, init_weights, weight_names

_WTA_ITERS = 30
_CHUNK = 2000


def wta(a: np.ndarray, strength: float) -> np.ndarray:
    """Fixed point of lateral inhibition among outputs (rows are samples), rates in [0, 1]."""
    y = np.clip(a, 0.0, 1.0)
    if strength <= 0:
        return y
    for _ in range(_WTA_ITERS):  # damped iteration: the undamped map oscillates
        y = 0.5 * y + 0.5 * np.clip(a - strength * (y.sum(1, keepdims=True) - y), 0.0, 1.0)
    return y


def forward(spec: SSNNSpec, weights: list[np.ndarray], x: np.ndarray, *, train: bool = False,
            rng: np.random.Generator | None = None) -> tuple[list[np.ndarray], np.ndarray]:
    """(rates of every layer below the output, output rates) for input rates `x`; with
    `train`, dropout masks are drawn from `rng`."""
    acts = [x * (rng.random(x.shape) >= spec.dropout_input) if train and spec.dropout_input else x]
    for k, w in enumerate(weights):
        keep = 1.0
        if not train and spec.dropout_scaling:
            keep = 1.0 - (spec.dropout_input if k == 0 else spec.dropout_hidden)
        a = (acts[-1] @ w) * np.float32(keep)
        if k == len(weights) - 1:
            return acts, wta(a, spec.wta)
        h = np.clip(a, 0.0, 1.0)
        if train and spec.dropout_hidden:
            h *= rng.random(h.shape) >= spec.dropout_hidden
        acts.append(h.astype(np.float32))
    raise ValueError("no weights")


def accuracy(spec: SSNNSpec, weights: list[np.ndarray], data: Dataset) -> float:
    """Test accuracy of the equivalent network (argmax of output rates; all-silent is wrong)."""
    right = 0
    for s in range(0, len(data), _CHUNK):
        _, o = forward(spec, weights, data.images[s:s + _CHUNK] * np.float32(spec.input_rate))
        pred = np.where(o.max(1) > 0, o.argmax(1), -1)
        right += int((pred == data.labels[s:s + _CHUNK]).sum())
    return right / max(len(data), 1)


def updates(spec: SSNNSpec, weights: list[np.ndarray], acts: list[np.ndarray], out: np.ndarray,
            labels: np.ndarray) -> list[np.ndarray]:
    """Eq. 9 per crossbar for unit learning rate, summed over the rows of `acts` (the output
    crossbar's carries output_lr_scale): x delta^T, delta backpropagated through the gate."""
    delta = -out
    delta[np.arange(len(labels)), labels] += np.float32(spec.target_rate)
    grads = [np.empty(0)] * len(weights)
    for k in range(len(weights) - 1, -1, -1):
        scale = spec.output_lr_scale if k == len(weights) - 1 else 1.0
        grads[k] = np.float32(scale) * (acts[k].T @ delta)
        if k:
            delta = delta @ weights[k].T
            delta *= acts[k] > 0  # the delta gate: x must have spiked
    return grads


def train_equivalent(spec: SSNNSpec, train: Dataset, test: Dataset, *, lr: float, epochs: int,
                     lr_decay: float = 1.0, batch: int = 16, seed: int = 0,
                     log: Callable[[str], None] = print) -> list[dict]:
    """Exact-gradient training of the equivalent network; per epoch test accuracy and seconds.
    Updates are summed over `batch` samples (1 = sample by sample, as on the chip)."""
    rng = np.random.default_rng([seed, 1])
    w = [init_weights(spec, rng)[n] for n in weight_names(spec)]
    order_rng = np.random.default_rng([seed, 2])
    rows = []
    for epoch in range(epochs):
        t0 = time.perf_counter()
        eta = np.float32(lr * lr_decay ** epoch)
        order = order_rng.permutation(len(train))
        for s in range(0, len(train), batch):
            idx = order[s:s + batch]
            x = train.images[idx] * np.float32(spec.input_rate)
            acts, o = forward(spec, w, x, train=True, rng=rng)
            for k, g in enumerate(updates(spec, w, acts, o, train.labels[idx])):
                w[k] += eta * g
        acc = accuracy(spec, w, test)
        rows.append({"epoch": epoch + 1, "test_acc": acc, "seconds": time.perf_counter() - t0, "lr": float(eta)})
        log(f"epoch {epoch + 1}: test {100 * acc:.2f} % (lr {eta:.3g}, {rows[-1]['seconds']:.1f} s)")
    return rows
