"""A BATS network as flat arrays for the kernels, and the batch runs over them.

`Layout` is what the kernels need to know about the network (sizes, budgets, thresholds,
offsets, tau_s and duration); weights are one flat float64 array, layer l's matrix being
``w[layout.w_off[l]:layout.w_off[l+1]].reshape(n_pre, n_post)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .coding import InputSpikes
from .spec import BatsNetSpec

LOSS_CODES = {"count_mse": 0, "ttfs_ce": 1}
_FORWARD_GROUPS = 64  # prange iterations of a forward-only batch (each allocates its own buffers)


@dataclass(frozen=True)
class Layout:
    sizes: np.ndarray
    budget: np.ndarray
    theta: np.ndarray
    w_off: np.ndarray
    slot_off: np.ndarray
    nrn_off: np.ndarray
    list_off: np.ndarray
    times: np.ndarray  # (tau_s, duration)

    @staticmethod
    def of(net: BatsNetSpec) -> "Layout":
        sizes = np.array(net.layers, np.int64)
        budget = np.array(net.budgets, np.int64)
        slots = sizes[1:] * budget
        zero = np.zeros(1, np.int64)
        return Layout(
            sizes=sizes, budget=budget, theta=np.array(net.thresholds, np.float64),
            w_off=np.concatenate([zero, np.cumsum(sizes[:-1] * sizes[1:])]),
            slot_off=np.concatenate([zero, np.cumsum(slots)]),
            nrn_off=np.concatenate([zero, np.cumsum(sizes[1:])]),
            list_off=np.concatenate([zero, np.cumsum(slots[:-1])]),
            times=np.array([net.tau_s, net.duration], np.float64))

    @property
    def arrays(self) -> tuple:
        return (self.sizes, self.budget, self.theta, self.w_off, self.slot_off, self.nrn_off, self.list_off,
                self.times)

    @property
    def n_weights(self) -> int:
        return int(self.w_off[-1])

    @property
    def n_layers(self) -> int:
        return int(self.budget.shape[0])

    def matrices(self, w: np.ndarray) -> list[np.ndarray]:
        """Views (n_pre, n_post) of each layer's weights in the flat array."""
        return [w[self.w_off[k]:self.w_off[k + 1]].reshape(int(self.sizes[k]), int(self.sizes[k + 1]))
                for k in range(self.n_layers)]


@dataclass(frozen=True)
class BatchResult:
    """Per sample: loss, surrogate (the function whose gradient is exact), prediction (-1: no
    output spike), first output spike time (inf: none), spike counts of every neuron."""

    loss: np.ndarray
    surrogate: np.ndarray
    prediction: np.ndarray
    first_spike: np.ndarray
    counts: np.ndarray
    layout: Layout
    slot_times: np.ndarray | None = None

    def layer_counts(self, l: int) -> np.ndarray:
        """(B, n_l) spike counts of layer l (1 = first hidden layer, n_layers = output)."""
        off = self.layout.nrn_off
        return self.counts[:, off[l - 1]:off[l]]

    def spike_times(self) -> list[np.ndarray]:
        """Per layer (hidden..., output): (B, n_l, budget_l) spike times in s, inf-padded."""
        if self.slot_times is None:
            raise ValueError("spike times were not recorded (run with record=True)")
        lay, out = self.layout, []
        for l in range(lay.n_layers):
            block = self.slot_times[:, lay.slot_off[l]:lay.slot_off[l + 1]]
            out.append(block.reshape(block.shape[0], int(lay.sizes[l + 1]), int(lay.budget[l])))
        return out


def run(layout: Layout, w: np.ndarray, spikes: InputSpikes, labels: np.ndarray | None = None, *,
        loss: str = "count_mse", targets: tuple[float, float] = (15.0, 3.0), tau_loss: float = 0.005,
        grads: np.ndarray | None = None, groups: int = 1, record: bool = False) -> BatchResult:
    """Simulate a batch; with `grads` (groups, n_weights), add each group's summed dL/dw into
    its row (the backward pass). Without labels, losses are computed against class 0."""
    from .kernels import run_batch

    B = len(spikes)
    labels = np.zeros(B, np.int64) if labels is None else np.ascontiguousarray(labels, np.int64)
    backward = grads is not None
    # without a backward pass nothing is summed across samples: any grouping gives the same results
    n_groups = max(1, min(groups, B)) if backward else max(1, min(B, _FORWARD_GROUPS))
    if grads is None:
        grads = np.zeros((n_groups, 0), np.float64)
    out_f = np.zeros((B, 3), np.float64)
    pred = np.zeros(B, np.int64)
    counts = np.zeros((B, int(layout.nrn_off[-1])), np.int32)
    times = np.zeros((B, int(layout.slot_off[-1])) if record else (1, 1), np.float64)
    lparams = np.array([targets[0], targets[1], tau_loss], np.float64)
    run_batch(layout.arrays, w, spikes.ptr, spikes.times, spikes.neuron, labels, LOSS_CODES[loss], lparams,
              backward, grads, n_groups, out_f, pred, counts, record, times)
    return BatchResult(loss=out_f[:, 0], surrogate=out_f[:, 1], prediction=pred, first_spike=out_f[:, 2],
                       counts=counts, layout=layout, slot_times=times if record else None)


def spike_times(net: BatsNetSpec, weights: list[np.ndarray], spikes: InputSpikes) -> list[np.ndarray]:
    """Per layer (hidden..., output) the (B, n_l, budget_l) spike times in s (inf-padded) of
    the network with these (n_pre, n_post) weight matrices: for comparing with other simulators."""
    layout = Layout.of(net)
    w = np.concatenate([np.ascontiguousarray(m, np.float64).ravel() for m in weights])
    if w.shape[0] != layout.n_weights:
        raise ValueError(f"weights hold {w.shape[0]} values, the network {layout.n_weights}")
    return run(layout, w, spikes, record=True).spike_times()
