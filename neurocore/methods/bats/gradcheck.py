"""Are BATS gradients exact? Central finite differences on a small net with a few spikes per neuron.

For every weight w, (S(w + h) - S(w - h)) / 2h of the surrogate loss S (the function whose
gradient the backward pass returns: see `kernels._output_errors`) is compared with the
analytic dL/dw. A weight whose perturbation makes any spike appear or vanish is skipped
(the loss is not differentiable there), as are weights whose two gradients are both below
`floor` times the largest (zero, or rounding noise). The relative error is |analytic - fd| / max(|analytic|, |fd|).
"""

from __future__ import annotations

import numpy as np

from .coding import InputSpikes
from .network import Layout, run
from .spec import BatsNetSpec

#: the small net: 12 inputs spiking 3 times each, two hidden layers of 8, 4 outputs; time unit tau_s
SMALL_NET = {"inputs": 12, "hidden": [8, 8], "classes": 4, "tau_s": 1.0, "theta": [1.0], "budget": [5, 5, 6],
             "duration": 8.0, "ttfs_window": 4.0}
#: its single-spike twin (budget 1; lower thresholds so that most neurons do spike)
SMALL_SINGLE_NET = SMALL_NET | {"theta": [0.3], "budget": [1]}


def small_problem(seed: int = 0, samples: int = 3, net: dict | None = None,
                  spikes_per_input: int = 3) -> tuple[BatsNetSpec, np.ndarray, InputSpikes, np.ndarray]:
    """(net, flat weights, input spikes, labels) of a random small problem whose neurons spike
    a few times each: inputs at uniform times in the first half of the sample, mostly
    excitatory weights."""
    from ...config import build

    spec = build(BatsNetSpec, net or SMALL_NET)
    rng = np.random.default_rng(seed)
    layout = Layout.of(spec)
    w = np.concatenate([rng.normal(0.4, 0.6, int(a * b)) * (1.5 / np.sqrt(a))
                        for a, b in zip(layout.sizes[:-1], layout.sizes[1:])])
    times = [rng.uniform(0.0, spec.ttfs_window, spec.inputs * spikes_per_input) for _ in range(samples)]
    neurons = [np.repeat(np.arange(spec.inputs), spikes_per_input) for _ in range(samples)]
    labels = rng.integers(0, spec.classes, samples)
    return spec, w, InputSpikes.from_lists(times, neurons), labels


def gradient_check(seed: int = 0, samples: int = 3, loss: str = "count_mse", h: float = 1e-5,
                   floor: float = 1e-6, net: dict | None = None) -> dict:
    """Compare analytic and finite-difference gradients of the summed surrogate loss; gradients
    below floor * max |analytic| are not compared (their differences are rounding noise)."""
    spec, w, spikes, labels = small_problem(seed, samples, net)
    layout = Layout.of(spec)
    kw = {"loss": loss, "targets": (4.0, 1.0), "tau_loss": 0.5}
    grads = np.zeros((1, layout.n_weights))
    base = run(layout, w, spikes, labels, grads=grads, **kw)
    analytic = grads[0]
    fd = np.zeros_like(analytic)
    stable = np.zeros(analytic.shape, bool)
    for q in range(layout.n_weights):
        wp, wm = w.copy(), w.copy()
        wp[q] += h
        wm[q] -= h
        rp, rm = run(layout, wp, spikes, labels, **kw), run(layout, wm, spikes, labels, **kw)
        stable[q] = np.array_equal(rp.counts, base.counts) and np.array_equal(rm.counts, base.counts)
        fd[q] = (rp.surrogate.sum() - rm.surrogate.sum()) / (2 * h)
    big = np.maximum(np.abs(analytic), np.abs(fd))
    nonzero = big > floor * np.abs(analytic).max()
    checked = stable & nonzero
    rel = np.abs(analytic - fd)[checked] / big[checked]
    n_neurons = int(layout.nrn_off[-1])
    return {"loss": loss, "weights": layout.n_weights, "checked": int(checked.sum()),
            "skipped_spike_change": int((~stable).sum()), "skipped_small": int((stable & ~nonzero).sum()),
            "max_rel_error": float(rel.max()) if rel.size else float("nan"),
            "median_rel_error": float(np.median(rel)) if rel.size else float("nan"),
            "spikes_per_neuron": float(base.counts.sum() / (samples * n_neurons)),
            "silent_neurons": float((base.counts.sum(axis=0) == 0).mean())}
