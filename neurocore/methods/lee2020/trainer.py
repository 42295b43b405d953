"""The lee2020 trainer: one optimiser step per batch, evaluation, checkpoint state as numpy arrays.

The loss is the summed squared error of the outputs against one-hot targets over the batch
(the authors' MSELoss(size_average=False)); SGD (or Adam) with L2 weight decay and a step
decay of the learning rate by epoch. Everything random is drawn per sample from generators
seeded by (seed, epoch, position) (see `encoding`), so the state is weights, optimiser
buffers and the step count: nothing else is needed to resume bit-identically.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import torch

from ...errors import NeurocoreError
from . import encoding
from .model import SpikingNet
from .spec import Lee2020NetSpec, Lee2020TrainSpec, build_plan

STATE_FORMAT = 1


class Lee2020Trainer:
    """Trains a spiking network of `net_spec` with spike-based backpropagation (Lee et al. 2020).

    `input_shape` is one image's shape as the data gives it ((H, W), (C, H, W), or (n,) with
    net_spec.input_shape naming the image); `threads` sets torch's intra-op threads (None: at
    most 2, this machine's cores; torch's setting is process-wide)."""

    def __init__(self, net_spec: Lee2020NetSpec, train_spec: Lee2020TrainSpec, seed: int, n_classes: int,
                 input_shape: tuple[int, ...], threads: int | None = None):
        torch.set_num_threads(threads or min(2, os.cpu_count() or 1))
        self.net_spec = net_spec
        self.train_spec = train_spec
        self.seed = int(seed)
        self.n_classes = int(n_classes)
        self.plan = build_plan(net_spec, tuple(input_shape), self.n_classes)
        self.image_shape = self.plan[0].in_shape
        self.model = SpikingNet(self.plan, net_spec, encoding.generator(self.seed, encoding.INIT))
        params = self.model.parameters()
        if train_spec.optimizer == "sgd":
            self.optimizer: torch.optim.Optimizer = torch.optim.SGD(
                params, lr=train_spec.lr, momentum=train_spec.momentum, weight_decay=train_spec.weight_decay)
        else:
            self.optimizer = torch.optim.Adam(params, lr=train_spec.lr, weight_decay=train_spec.weight_decay)
        self.steps = 0
        self._dropout_shapes = {st.name: st.out_shape for st in self.plan if st.lif}

    # ---- data in ----
    def _images(self, images: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.array(images, dtype=np.float32))  # a copy: torch wants writable memory
        return x.reshape(x.shape[0], *self.image_shape)

    # ---- training ----
    def epoch_order(self, epoch: int, n: int) -> np.ndarray:
        """The order in which `epoch` visits n training samples (see `epoch_order`)."""
        return epoch_order(self.seed, epoch, n, self.train_spec.shuffle)

    def train_batch(self, images: np.ndarray, labels: np.ndarray, epoch: int, first_index: int) -> dict:
        """One optimiser step on one batch whose first sample sits at `first_index` of `epoch`'s
        order. Returns loss (summed squared error per sample), correct, n, lr and spikes per
        sample of each layer."""
        ts, n = self.train_spec.ts, len(labels)
        lr = self.train_spec.lr_at(epoch)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        gens = [encoding.generator(self.seed, encoding.TRAIN, epoch, first_index + i) for i in range(n)]
        x = encoding.poisson(self._images(images), ts, self.net_spec.input_rate, gens)
        masks = encoding.dropout_masks(self._dropout_shapes, self.train_spec.dropout, gens)
        out, counts = self.model.forward_train(x, masks)
        target = torch.nn.functional.one_hot(torch.from_numpy(np.array(labels, np.int64)), self.n_classes)
        loss = ((out - target.to(out.dtype)) ** 2).sum()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.steps += 1
        correct = int((out.detach().argmax(1).numpy() == np.asarray(labels)).sum())
        return {"loss": float(loss.detach()) / n, "correct": correct, "n": n, "lr": lr,
                "spikes": {"input": float(x.abs().sum()) / n, **{k: c / n for k, c in counts.items()}}}

    # ---- inference ----
    def simulate(self, input_spikes: np.ndarray | torch.Tensor, record: bool = True) -> dict:
        """Inference on given input spikes (T, B, C, H, W): 'v' (B, classes) the accumulated output
        membranes, 'spikes' (layer -> bool (T, B, ...)) and 'counts' (layer -> (B,)), as numpy.
        This is the reference the chip's run of `to_nir()` must reproduce."""
        x = torch.as_tensor(np.asarray(input_spikes, np.float32))
        res = self.model.run(x, record=record)
        out = {"v": res["v"].numpy(), "counts": {k: c.numpy() for k, c in res["counts"].items()}}
        if record:
            out["spikes"] = {k: s.numpy() for k, s in res["spikes"].items()}
        return out

    def input_spikes(self, images: np.ndarray, first_index: int = 0, ts: int | None = None) -> np.ndarray:
        """The test-time input spikes (T, B, C, H, W) of `images` at positions first_index... of
        the evaluated set (what `evaluate` draws for them)."""
        ts = ts or self.train_spec.test_ts
        gens = [encoding.generator(self.seed, encoding.EVAL, 0, first_index + i) for i in range(len(images))]
        return encoding.poisson(self._images(images), ts, self.net_spec.input_rate, gens).numpy()

    def evaluate(self, images: np.ndarray, labels: np.ndarray, batch: int | None = None,
                 ts: int | None = None) -> dict:
        """Accuracy (argmax of the output), loss (summed squared error per sample) and spikes per
        sample of each layer ('input' and every spiking stage) over `images`."""
        batch = batch or self.train_spec.eval_batch
        ts = ts or self.train_spec.test_ts
        labels = np.array(labels, np.int64)  # a copy: torch wants writable memory
        correct, loss = 0, 0.0
        spikes: dict[str, float] = {}
        for start in range(0, len(labels), batch):
            imgs, labs = images[start:start + batch], labels[start:start + batch]
            x = self.input_spikes(imgs, start, ts)
            res = self.model.run(torch.from_numpy(x))
            out = res["v"] / (self.net_spec.v_th * ts)
            correct += int((out.argmax(1).numpy() == labs).sum())
            target = torch.nn.functional.one_hot(torch.from_numpy(labs), self.n_classes).to(out.dtype)
            loss += float(((out - target) ** 2).sum())
            for name, c in {"input": torch.from_numpy(np.abs(x)).sum((0, 2, 3, 4)), **res["counts"]}.items():
                spikes[name] = spikes.get(name, 0.0) + float(c.sum())
        n = max(1, len(labels))
        return {"accuracy": correct / n, "correct": correct, "n": len(labels), "loss": loss / n,
                "spikes": {k: v / n for k, v in spikes.items()}}

    # ---- checkpoints ----
    def state(self) -> dict[str, np.ndarray]:
        """Weights ('weight.<layer>'), optimiser buffers ('optimizer.<layer>.<buffer>') and the step
        count, as numpy arrays (checkpoints are never pickled)."""
        out: dict[str, np.ndarray] = {"format": np.array(STATE_FORMAT, np.int64),
                                      "steps": np.array(self.steps, np.int64)}
        for name, w in self.model.weights.items():
            out[f"weight.{name}"] = w.detach().numpy().copy()
            for key, val in self.optimizer.state.get(w, {}).items():
                if isinstance(val, torch.Tensor):
                    out[f"optimizer.{name}.{key}"] = val.detach().numpy().copy()
        return out

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what `state()` returned; shapes must match this trainer's network."""
        fmt = int(np.asarray(state.get("format", -1)))
        if fmt != STATE_FORMAT:
            raise NeurocoreError(f"lee2020 checkpoint: format {fmt} is not {STATE_FORMAT}; it was written by "
                                 "another version")
        with torch.no_grad():
            for name, w in self.model.weights.items():
                arr = state.get(f"weight.{name}")
                if arr is None or tuple(arr.shape) != tuple(w.shape):
                    got = "missing" if arr is None else f"shape {tuple(arr.shape)}"
                    raise NeurocoreError(f"lee2020 checkpoint: weight.{name} is {got}; this network needs "
                                         f"shape {tuple(w.shape)} (another [net]?)")
                w.copy_(torch.from_numpy(np.asarray(arr, np.float32)))
                prefix = f"optimizer.{name}."
                buffers = {k[len(prefix):]: torch.from_numpy(np.array(v)) for k, v in state.items()
                           if k.startswith(prefix)}
                self.optimizer.state.pop(w, None)
                if buffers:
                    self.optimizer.state[w] = buffers
        self.steps = int(np.asarray(state["steps"]))

    # ---- deployment ----
    def to_nir(self, dt: float = 1.0) -> Any:
        """The trained network as a nir.NIRGraph (see the package docstring for the contract)."""
        from .export import to_nir
        return to_nir(self.plan, self.net_spec, {k: w.detach().numpy() for k, w in self.model.weights.items()},
                      dt=dt, ts=self.train_spec.test_ts)


def epoch_order(seed: int, epoch: int, n: int, shuffle: bool = True) -> np.ndarray:
    """The order in which `epoch` visits n training samples (fixed by seed and epoch)."""
    if not shuffle:
        return np.arange(n)
    return np.random.default_rng(np.random.SeedSequence([seed, 3, epoch])).permutation(n)


def train_epoch(trainer: Lee2020Trainer, train_set: Any, epoch: int, start: int = 0, *, stop: int | None = None,
                progress: bool = True, on_batch: Any = None) -> dict:
    """Train `trainer` on `train_set` (a neurocore.data.Dataset) for epoch `epoch` from position
    `start` (a multiple of the batch size: where an interrupted epoch stopped) up to `stop`
    (default: the end). `on_batch(position_after, result)` is called after each step (e.g. to
    checkpoint). Returns mean loss and accuracy over the samples seen, their count and seconds."""
    from tqdm import tqdm

    batch = trainer.train_spec.batch
    n = len(train_set)
    stop = n if stop is None else min(stop, n)
    if start % batch or not 0 <= start <= n:
        raise NeurocoreError(f"train_epoch: start = {start} must be a multiple of the batch size {batch} in "
                             f"[0, {n}] (an epoch is resumed where a batch ended)")
    order = epoch_order(trainer.seed, epoch, n, trainer.train_spec.shuffle)
    loss = correct = seen = 0
    t0 = time.perf_counter()
    with tqdm(total=stop, initial=start, unit="sample", desc=f"lee2020 epoch {epoch}", disable=not progress,
              leave=False) as bar:
        for pos in range(start, stop, batch):
            idx = order[pos:min(pos + batch, n)]
            res = trainer.train_batch(train_set.images[idx], train_set.labels[idx], epoch, pos)
            loss += res["loss"] * res["n"]
            correct += res["correct"]
            seen += res["n"]
            bar.update(res["n"])
            bar.set_postfix(loss=f"{loss / seen:.3f}", acc=f"{correct / seen:.3f}")
            if on_batch is not None:
                on_batch(pos + res["n"], res)
    return {"loss": loss / max(1, seen), "accuracy": correct / max(1, seen), "samples": seen,
            "seconds": time.perf_counter() - t0}
