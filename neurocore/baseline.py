"""The paper's non-spiking baseline: an ANN of the SSNN-BP shape trained by plain numpy SGD.

n_features - hidden (ReLU) - n_classes, softmax cross-entropy, inverted dropout on the input
and hidden layers, He initialisation, minibatch SGD (optional momentum), float32, seeded:
the same seed gives the same run. The paper's baseline is 784-1280-10 with dropout 0.2 / 0.3
(MNIST 98.67 %, Fashion-MNIST 90.8 %, EMNIST balanced 86.0 %).
"""

from __future__ import annotations

import time

import numpy as np

from .data.datasets import Dataset

_EVAL_CHUNK = 2000


def _forward(w: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    h = x @ w["W1"] + w["b1"]
    np.maximum(h, 0, out=h)
    return h @ w["W2"] + w["b2"]


def accuracy(weights: dict[str, np.ndarray], data: Dataset) -> float:
    """Share of `data` whose largest output is the label (no dropout)."""
    right = 0
    for s in range(0, len(data), _EVAL_CHUNK):
        logits = _forward(weights, data.images[s:s + _EVAL_CHUNK])
        right += int(np.count_nonzero(logits.argmax(1) == data.labels[s:s + _EVAL_CHUNK]))
    return right / max(len(data), 1)


def init_weights(n_in: int, hidden: int, n_out: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """He-initialised weights N(0, 2 / fan_in), zero biases, float32."""
    f32 = np.float32
    return {
        "W1": (rng.standard_normal((n_in, hidden)) * np.sqrt(2.0 / n_in)).astype(f32),
        "b1": np.zeros(hidden, f32),
        "W2": (rng.standard_normal((hidden, n_out)) * np.sqrt(2.0 / hidden)).astype(f32),
        "b2": np.zeros(n_out, f32),
    }


def loss_and_grads(w: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, dropout_in: float = 0.0,
                   dropout_hidden: float = 0.0, rng: np.random.Generator | None = None
                   ) -> tuple[float, int, dict[str, np.ndarray]]:
    """(summed cross-entropy, number right, gradients of the mean loss) for one minibatch,
    with inverted-dropout masks drawn from `rng` when the rates are > 0."""
    f32 = np.float32
    keep_in, keep_h = f32(1 - dropout_in), f32(1 - dropout_hidden)
    x = np.asarray(x, dtype=f32)
    if dropout_in > 0:
        x = x * ((rng.random(x.shape, dtype=f32) < keep_in) / keep_in)
    h = x @ w["W1"] + w["b1"]
    np.maximum(h, 0, out=h)
    if dropout_hidden > 0:
        h *= (rng.random(h.shape, dtype=f32) < keep_h) / keep_h
    logits = h @ w["W2"] + w["b2"]
    logits -= logits.max(1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(1, keepdims=True)
    rows = np.arange(len(y))
    loss = float(-np.log(p[rows, y] + f32(1e-30)).sum())
    right = int(np.count_nonzero(p.argmax(1) == y))
    g = p
    g[rows, y] -= 1
    g /= f32(len(y))
    dh = g @ w["W2"].T
    dh *= h > 0  # the ReLU derivative and the dropout mask (dropped units have h == 0)
    if dropout_hidden > 0:
        dh /= keep_h
    grads = {"W2": h.T @ g, "b2": g.sum(0), "W1": x.T @ dh, "b1": dh.sum(0)}
    return loss, right, grads


def train_baseline(train: Dataset, test: Dataset, hidden: int = 1280, epochs: int = 20, lr: float = 0.2,
                   batch: int = 32, dropout_in: float = 0.2, dropout_hidden: float = 0.3, seed: int = 0,
                   progress: bool = True, momentum: float = 0.0, lr_decay: float = 0.9, bias: bool = True,
                   eval_train: bool = True) -> dict:
    """Train the baseline ANN on `train`, evaluating on `test` after every epoch; the learning
    rate of epoch e (from 1) is lr * lr_decay ** (e - 1).

    Returns {"history": [{"epoch", "train_acc", "train_acc_running", "test_acc", "loss",
    "seconds"}, ...], "test_acc", "best_test_acc", "seconds", "params": {...},
    "weights": {"W1", "b1", "W2", "b2"}}. `train_acc` is measured without dropout after the
    epoch (None when `eval_train` is False); `train_acc_running` during it, with dropout.
    """
    if train.n_features != test.n_features:
        raise ValueError(f"train has {train.n_features} features, test {test.n_features}")
    if not (0 <= dropout_in < 1 and 0 <= dropout_hidden < 1):
        raise ValueError("dropout rates must be in [0, 1)")
    from tqdm.auto import tqdm

    f32 = np.float32
    n_out = max(train.n_classes, test.n_classes)
    rng = np.random.default_rng(seed)
    w = init_weights(train.n_features, hidden, n_out, rng)
    vel = {k: np.zeros_like(v) for k, v in w.items()}
    n = len(train)
    history = []
    t_start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        order = rng.permutation(n)
        rate = f32(lr * lr_decay ** (epoch - 1))
        right, loss_sum = 0, 0.0
        bar = tqdm(range(0, n, batch), desc=f"epoch {epoch}/{epochs}", unit="batch", disable=not progress,
                   leave=False, mininterval=0.5)
        for s in bar:
            idx = order[s:s + batch]
            x, y = train.images[idx], train.labels[idx]
            loss, n_right, grads = loss_and_grads(w, x, y, dropout_in, dropout_hidden, rng)
            loss_sum += loss
            right += n_right
            if not bias:
                del grads["b1"], grads["b2"]
            for k, gk in grads.items():
                if momentum:
                    vel[k] *= f32(momentum)
                    vel[k] -= rate * gk
                    w[k] += vel[k]
                else:
                    w[k] -= rate * gk
            seen = min(s + batch, n)
            if progress and (s // batch) % 50 == 0:
                bar.set_postfix(acc=f"{right / seen:.3f}", loss=f"{loss_sum / seen:.3f}", refresh=False)
        bar.close()
        test_acc = accuracy(w, test)
        row = {"epoch": epoch, "train_acc": accuracy(w, train) if eval_train else None,
               "train_acc_running": right / n, "test_acc": test_acc, "loss": loss_sum / n,
               "seconds": time.perf_counter() - t0}
        history.append(row)
        if progress:
            tqdm.write(f"epoch {epoch}: loss {row['loss']:.4f}  train {row['train_acc_running']:.4f} (running)"
                       f"  test {test_acc:.4f}  {row['seconds']:.1f} s")
    params = {"dataset": train.name, "n_train": n, "n_test": len(test), "hidden": hidden, "epochs": epochs,
              "lr": lr, "batch": batch, "dropout_in": dropout_in, "dropout_hidden": dropout_hidden,
              "seed": seed, "momentum": momentum, "lr_decay": lr_decay, "bias": bias}
    return {"history": history, "test_acc": history[-1]["test_acc"] if history else accuracy(w, test),
            "best_test_acc": max((r["test_acc"] for r in history), default=None),
            "seconds": time.perf_counter() - t_start, "params": params, "weights": w}
