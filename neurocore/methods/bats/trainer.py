"""Training a BATS network: the trainer object the shared `train` loop drives, and an epoch driver.

Reproducibility. Initial weights come from (seed); the epoch's sample order from
(seed, 2, epoch), as the chip's trainer; rate-coded inputs from (seed, epoch, sample index).
A batch is cut into `train.grad_groups` fixed groups, each summed by one thread in sample
order, the groups then summed in order: a run is bit-identical for a given seed, whatever
the number of threads. `state()` holds everything a resumed run needs.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from ...errors import ConfigError, NeurocoreError
from .coding import InputSpikes, on_ticks, rate_spikes, ttfs_spikes
from .network import Layout, run
from .spec import BatsNetSpec, BatsTrainSpec

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
_TEST_STREAM = 1 << 20  # rate-coding key stream of evaluations (training uses the epoch)


class BatsTrainer:
    """Weights, optimiser state and the batch runs of one BATS network."""

    def __init__(self, net_spec: BatsNetSpec, train_spec: BatsTrainSpec, seed: int, n_classes: int, n_inputs: int):
        if n_inputs != net_spec.inputs:
            raise ConfigError(f"= {net_spec.inputs}: the data has {n_inputs} features", key="net.inputs")
        if n_classes > net_spec.classes:
            raise ConfigError(f"= {net_spec.classes}: the data has {n_classes} classes", key="net.classes")
        self.net, self.train, self.seed = net_spec, train_spec, int(seed)
        self.layout = Layout.of(net_spec)
        rng = np.random.default_rng([self.seed, 1])
        sizes = self.layout.sizes
        t = train_spec
        ranges = t.init_ranges(self.layout.n_layers)
        parts = [rng.uniform(lo, hi, int(a * b)) if t.init == "uniform" else rng.normal(lo, hi, int(a * b))
                 for a, b, (lo, hi) in zip(sizes[:-1], sizes[1:], ranges)]
        self.w = np.concatenate(parts).astype(np.float64)
        self.m = np.zeros_like(self.w)
        self.v = np.zeros_like(self.w)
        self.step = 0
        self._grads = np.zeros((max(1, min(t.grad_groups, t.batch)), self.w.shape[0]))

    # -- weights and coding ------------------------------------------------------------
    @property
    def weights(self) -> list[np.ndarray]:
        """(n_pre, n_post) views of each layer's weights (input -> hidden ... -> output)."""
        return self.layout.matrices(self.w)

    def encode(self, images: np.ndarray, stream: int, first_index: int) -> InputSpikes:
        """Input spikes of images (B, n_inputs) in [0, 1]."""
        n = self.net
        if n.coding == "ttfs":
            return ttfs_spikes(images, n.ttfs_window)
        return rate_spikes(images, n.rate_ticks, n.rate_window, n.rate_k, self.seed, stream, first_index)

    def lr(self, epoch: int) -> float:
        """Learning rate of an epoch: lr * lr_decay^(epoch // lr_decay_epochs), not below lr_min."""
        t = self.train
        decays = epoch // t.lr_decay_epochs
        return t.lr if decays == 0 else max(t.lr * t.lr_decay ** decays, t.lr_min)

    def _run(self, images, labels, stream, first_index, grads=None, record=False):
        t = self.train
        if t.threads:
            import numba
            numba.set_num_threads(min(t.threads, numba.config.NUMBA_NUM_THREADS))
        return run(self.layout, self.w, self.encode(images, stream, first_index), labels, loss=t.loss,
                   targets=(t.target_true, t.target_false), tau_loss=t.tau_loss, grads=grads,
                   groups=t.grad_groups, record=record)

    # -- training ----------------------------------------------------------------------
    def train_batch(self, images: np.ndarray, labels: np.ndarray, epoch: int, first_index: int) -> dict:
        """One gradient step on the mean gradient of the batch; returns its loss, correct
        predictions and spikes per sample per layer (hidden..., output)."""
        from .kernels import adam_step, sgd_step

        B = len(labels)
        groups = max(1, min(self.train.grad_groups, B))
        if self._grads.shape[0] < groups:
            self._grads = np.zeros((groups, self.w.shape[0]))
        res = self._run(images, labels, epoch, first_index, grads=self._grads)
        self.step += 1
        lr = self.lr(epoch)
        if self.train.optimiser == "adam":
            adam_step(self.w, self.m, self.v, self._grads, groups, 1.0 / B, lr, ADAM_BETAS[0], ADAM_BETAS[1],
                      ADAM_EPS, self.step)
        else:
            sgd_step(self.w, self._grads, groups, 1.0 / B, lr)
        return {"samples": B, "loss": float(res.loss.mean()), "correct": int((res.prediction == labels).sum()),
                "spikes_per_sample": self._spikes_per_layer(res), "lr": lr}

    def _spikes_per_layer(self, res) -> list[float]:
        return [float(res.layer_counts(l).sum(axis=1).mean()) for l in range(1, self.layout.n_layers + 1)]

    # -- evaluation --------------------------------------------------------------------
    def evaluate(self, images: np.ndarray, labels: np.ndarray) -> dict:
        """Accuracy, mean loss, spikes per sample per layer (hidden..., output), time to decision
        (mean first output spike time in s over samples with an output spike), the share of
        samples with no output spike, and the share of dead neurons per layer (no spike on
        any of these samples)."""
        n, step = len(labels), self.train.eval_batch
        L = self.layout.n_layers
        correct, loss, spikes, first, silent = 0, 0.0, np.zeros(L), [], 0
        ever = np.zeros(int(self.layout.nrn_off[-1]), bool)
        for s in range(0, n, step):
            res = self._run(images[s:s + step], labels[s:s + step], _TEST_STREAM, s)
            correct += int((res.prediction == labels[s:s + step]).sum())
            loss += float(res.loss.sum())
            spikes += res.counts.reshape(len(res.loss), -1).sum(axis=0) @ self._layer_indicator()
            fin = np.isfinite(res.first_spike)
            first.append(res.first_spike[fin])
            silent += int((~fin).sum())
            ever |= res.counts.any(axis=0)
        first = np.concatenate(first) if first else np.zeros(0)
        off = self.layout.nrn_off
        dead = [float(1.0 - ever[off[l]:off[l + 1]].mean()) for l in range(L)]
        hidden = ever[:off[L - 1]]
        return {"samples": n, "accuracy": correct / max(n, 1), "loss": loss / max(n, 1),
                "spikes_per_sample": (spikes / max(n, 1)).tolist(),
                "time_to_decision": float(first.mean()) if first.size else float("nan"),
                "no_output_share": silent / max(n, 1), "dead_share": dead,
                "dead_share_hidden": float(1.0 - hidden.mean()) if hidden.size else 0.0}

    def _layer_indicator(self) -> np.ndarray:
        """(n_neurons, n_layers) 0/1 matrix: which layer each neuron is in."""
        off = self.layout.nrn_off
        m = np.zeros((int(off[-1]), self.layout.n_layers))
        for l in range(self.layout.n_layers):
            m[off[l]:off[l + 1], l] = 1.0
        return m

    def input_spikes(self, images: np.ndarray, first_index: int = 0) -> np.ndarray:
        """bool (chip_ticks, B, n_inputs): the input spikes `evaluate` draws for these images (at
        positions first_index... of the evaluated set), each at the nearest tick of the chip's
        (duration / chip_ticks): what the chip is driven with."""
        n = self.net
        return on_ticks(self.encode(images, _TEST_STREAM, first_index), n.chip_ticks, n.duration / n.chip_ticks,
                        n.inputs)

    def spike_times(self, images: np.ndarray) -> list[np.ndarray]:
        """Per layer (hidden..., output) the (B, n_l, budget_l) spike times in s of these images
        (inf-padded): for comparing with the chip's engine."""
        res = self._run(images, np.zeros(len(images), np.int64), _TEST_STREAM, 0, record=True)
        return res.spike_times()

    # -- state -------------------------------------------------------------------------
    def state(self) -> dict[str, np.ndarray]:
        """Weights per layer, Adam moments and the step count: a resumed run continues bit-identically."""
        out = {}
        for k, (w, m, v) in enumerate(zip(self.weights, self.layout.matrices(self.m), self.layout.matrices(self.v))):
            out[f"w{k}"], out[f"adam_m{k}"], out[f"adam_v{k}"] = w.copy(), m.copy(), v.copy()
        out["step"] = np.array(self.step, np.int64)
        return out

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        for k, shape in enumerate(zip(self.layout.sizes[:-1], self.layout.sizes[1:])):
            for name, flat in ((f"w{k}", self.w), (f"adam_m{k}", self.m), (f"adam_v{k}", self.v)):
                if name not in state:
                    raise NeurocoreError(f"BATS state: '{name}' is missing (not a BATS checkpoint of this net?)")
                a = np.asarray(state[name])
                if a.shape != tuple(int(s) for s in shape):
                    raise NeurocoreError(f"BATS state: '{name}' has shape {a.shape}, this net needs "
                                         f"{tuple(int(s) for s in shape)}")
                flat[self.layout.w_off[k]:self.layout.w_off[k + 1]] = a.ravel()
        self.step = int(state["step"])

    def to_nir(self):
        """The trained network as a NIR graph (see `nir_export`); the readout follows the loss."""
        from .nir_export import to_nir
        return to_nir(self.net, self.weights, "first_spike" if self.train.loss == "ttfs_ce" else "spike_count")


def train_epoch(trainer: BatsTrainer, train_set, epoch: int, start: int = 0, *, progress: bool = True,
                on_batch: Callable[[int, dict], None] | None = None, stop: Callable[[], bool] | None = None) -> dict:
    """Train on a neurocore.data.Dataset from sample `start` of epoch `epoch` (order fixed by
    (seed, 2, epoch)) to its end, or until `stop()` says so between batches. Returns the
    position reached, the mean training loss and accuracy, and seconds spent."""
    from tqdm.auto import tqdm

    n, batch = len(train_set), trainer.train.batch
    order = np.random.default_rng([trainer.seed, 2, epoch]).permutation(n)
    pos, seen, correct, loss = start, 0, 0, 0.0
    t0 = time.perf_counter()
    bar = tqdm(total=n, initial=start, disable=not progress, unit="sample", dynamic_ncols=True,
               desc=f"bats epoch {epoch + 1}")
    try:
        while pos < n:
            if stop is not None and stop():
                break
            idx = order[pos:pos + batch]
            out = trainer.train_batch(train_set.images[idx], train_set.labels[idx], epoch, epoch * n + pos)
            pos += len(idx)
            seen += out["samples"]
            correct += out["correct"]
            loss += out["loss"] * out["samples"]
            bar.update(len(idx))
            bar.set_postfix(train_acc=f"{correct / seen:.3f}", loss=f"{loss / seen:.3g}")
            if on_batch is not None:
                on_batch(pos, out)
    finally:
        bar.close()
    return {"epoch": epoch, "position": pos, "samples": seen, "train_acc": correct / max(seen, 1),
            "train_loss": loss / max(seen, 1), "seconds": time.perf_counter() - t0}
