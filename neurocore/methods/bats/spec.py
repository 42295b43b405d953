"""What a BATS network is and how it trains: the `[net]` and `[train]` tables of a BATS experiment.

Times are in seconds (the authors' code: tau_s = 0.13 s, samples of 0.2 s, pixels coded in
the first 0.1 s); weights are current jumps (a spike of weight w raises the synaptic current
I by w), thresholds are membrane potentials, in the units of `kernels.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ...config import build, spec
from ...errors import ConfigError

CODINGS = ("ttfs", "rate")
LOSSES = ("count_mse", "ttfs_ce")
OPTIMISERS = ("adam", "sgd")
INITS = ("uniform", "normal")
#: exp(duration / tau_s) must stay far from float64 overflow (e^709) in the closed form's sums.
MAX_DURATION_OVER_TAU_S = 300.0
#: ticks per sample on the chip by default: a 1 ms tick for the default 0.2 s sample (loihi_like's
#: real-time tick). Measured on MNIST-5k (784-800-10, 10 epochs): a spike-count readout is at its
#: event-based accuracy from ~20 ticks on (35.8 uJ per sample at 10 ticks, 45 at 200, 79 at 1000);
#: a first-spike readout (single-spike, 1 s samples) wants its 1 ms too: 1000 ticks.
CHIP_TICKS = 200


@dataclass(frozen=True)
class BatsNetSpec:
    """The network and its input coding (the `[net]` table)."""

    inputs: int = spec(784, lo=1, doc="input neurons (pixels)")
    hidden: list[int] = spec(factory=lambda: [400, 400], doc="hidden layer sizes, e.g. [400, 400] ([] = no hidden layer)")
    classes: int = spec(10, lo=2, doc="output neurons")
    tau_s: float = spec(0.13, lo=0.0, lo_open=True, doc="synaptic time constant in s; the membrane's is 2 tau_s")
    theta: list[float] = spec(factory=lambda: [0.13, 0.45, 0.7],
                       doc="threshold of each layer (hidden..., output); one value = every layer")
    budget: list[int] = spec(factory=lambda: [5, 5, 20],
                        doc="most spikes per neuron and sample, per layer (hidden..., output); one value = "
                            "every layer; 1 everywhere = single-spike (Fast & Deep)")
    duration: float = spec(0.2, lo=0.0, lo_open=True, doc="sample length in s: spikes after it are not simulated")
    coding: str = spec("ttfs", choices=CODINGS,
                       doc="ttfs: one spike per pixel at ttfs_window * (1 - pixel), black silent; rate: the "
                           "chip's front-loaded Bernoulli trains (neurocore.spikegen), tick t at "
                           "t * rate_window / rate_ticks")
    ttfs_window: float = spec(0.1, lo=0.0, lo_open=True, doc="ttfs: time of the darkest non-black pixel, in s")
    rate_ticks: int = spec(100, lo=1, hi=100000, doc="rate: ticks of the input train")
    rate_window: float = spec(0.1, lo=0.0, lo_open=True, doc="rate: length of the input train in s")
    rate_k: float = spec(0.5, lo=0.0, lo_open=True, hi=1.0, doc="rate: mean spike probability per tick per unit pixel")
    chip_ticks: int = spec(CHIP_TICKS, lo=2, hi=100000,
                           doc="ticks per sample when deployed on the chip: its tick is duration / chip_ticks "
                               "(the NIR graph's dt); input spikes go to the nearest tick")

    def validate(self) -> None:
        if any(h < 1 for h in self.hidden):
            raise ConfigError(f"= {self.hidden!r}: must be a list of integers >= 1", key="hidden")
        n = len(self.hidden) + 1
        for key in ("theta", "budget"):
            vals = getattr(self, key)
            if len(vals) not in (1, n):
                need = "1 value" if n == 1 else f"1 or {n} values (one per layer: hidden..., output)"
                raise ConfigError(f"= {vals!r}: needs {need}", key=key)
        if any(not t > 0 for t in self.theta):
            raise ConfigError(f"= {self.theta!r}: thresholds must be numbers > 0", key="theta")
        if any(b < 1 for b in self.budget):
            raise ConfigError(f"= {self.budget!r}: budgets must be integers >= 1", key="budget")
        if self.duration / self.tau_s > MAX_DURATION_OVER_TAU_S:
            raise ConfigError(f"= {self.duration!r}: duration / tau_s must be <= {MAX_DURATION_OVER_TAU_S:g} "
                              f"(the closed form sums exp(t / tau_s)); tau_s = {self.tau_s!r}", key="duration")
        window = self.ttfs_window if self.coding == "ttfs" else self.rate_window
        if window > self.duration:
            raise ConfigError(f"= {window!r}: the input window must fit in the sample (duration = {self.duration!r})",
                              key="ttfs_window" if self.coding == "ttfs" else "rate_window")

    @property
    def layers(self) -> list[int]:
        """Sizes of every layer, input first."""
        return [self.inputs, *self.hidden, self.classes]

    @property
    def thresholds(self) -> list[float]:
        n = len(self.hidden) + 1
        return [float(t) for t in (self.theta * n if len(self.theta) == 1 else self.theta)]

    @property
    def budgets(self) -> list[int]:
        n = len(self.hidden) + 1
        return [int(b) for b in (self.budget * n if len(self.budget) == 1 else self.budget)]

    @property
    def single_spike(self) -> bool:
        return all(b == 1 for b in self.budgets)


@dataclass(frozen=True)
class BatsTrainSpec:
    """How to train (the `[train]` table)."""

    loss: str = spec("count_mse", choices=LOSSES,
                     doc="count_mse: output spike counts against target_true / target_false (error "
                         "target - count on every output spike); ttfs_ce: softmax cross-entropy of -t_first / tau_loss")
    target_true: float = spec(15.0, lo=0.0, doc="count_mse: target spikes of the true class")
    target_false: float = spec(3.0, lo=0.0, doc="count_mse: target spikes of the other classes")
    tau_loss: float = spec(0.005, lo=0.0, lo_open=True, doc="ttfs_ce: temperature of the softmax over first-spike times, in s")
    optimiser: str = spec("adam", choices=OPTIMISERS, doc="adam (beta 0.9 / 0.999, eps 1e-8, as the authors) or sgd")
    lr: float = spec(5e-4, lo=0.0, lo_open=True, doc="learning rate")
    lr_decay: float = spec(1.0, lo=0.0, lo_open=True, hi=1.0, doc="lr multiplier every lr_decay_epochs epochs")
    lr_decay_epochs: int = spec(10, lo=1, doc="epochs between lr decays")
    lr_min: float = spec(0.0, lo=0.0, doc="lr never decays below this")
    batch: int = spec(5, lo=1, doc="samples per gradient step (the gradient is their mean)")
    epochs: int = spec(100, lo=1, doc="passes over the training set")
    init: str = spec("uniform", choices=INITS, doc="initial weights: uniform in [init_a, init_b] or normal(init_a, init_b)")
    init_a: list[float] = spec(factory=lambda: [-1.0], doc="uniform: low; normal: mean; one value = every layer, "
                                                           "or one per weight layer (the authors: -1)")
    init_b: list[float] = spec(factory=lambda: [1.0], doc="uniform: high; normal: std; one value = every layer, "
                                                          "or one per weight layer (the authors: 1)")
    grad_groups: int = spec(2, lo=1, hi=1024,
                            doc="a batch is cut into this many fixed groups, each summed by one thread, then "
                                "summed in order: results do not depend on the thread count; more groups than "
                                "threads only cost memory traffic (one gradient buffer per group)")
    threads: int = spec(0, lo=0, doc="numba threads (0 = numba's default, all cores)")
    eval_batch: int = spec(500, lo=1, doc="samples per kernel call at test time")

    def validate(self) -> None:
        for key in ("init_a", "init_b"):
            if not getattr(self, key):
                raise ConfigError("= []: needs one value, or one per weight layer", key=key)
        if len(self.init_a) > 1 and len(self.init_b) > 1 and len(self.init_a) != len(self.init_b):
            raise ConfigError(f"= {self.init_b!r}: as many values as init_a = {self.init_a!r}, or one", key="init_b")
        n = max(len(self.init_a), len(self.init_b))
        for a, b in zip(self.init_a * n if len(self.init_a) == 1 else self.init_a,
                        self.init_b * n if len(self.init_b) == 1 else self.init_b):
            if self.init == "uniform" and b < a:
                raise ConfigError(f"= {self.init_b!r}: uniform init needs init_b >= init_a = {self.init_a!r}",
                                  key="init_b")
            if self.init == "normal" and b < 0:
                raise ConfigError(f"= {self.init_b!r}: normal init needs a std >= 0", key="init_b")

    def init_ranges(self, n_layers: int, source: str = "<python>") -> list[tuple[float, float]]:
        """(init_a, init_b) of each weight layer; a list of the wrong length is a ConfigError."""
        out = []
        for key in ("init_a", "init_b"):
            vals = getattr(self, key)
            if len(vals) not in (1, n_layers):
                raise ConfigError(f"= {vals!r}: needs 1 or {n_layers} values (one per weight layer)", source,
                                  f"train.{key}")
            out.append(vals * n_layers if len(vals) == 1 else vals)
        return list(zip(*out))


def specs_from_tables(net: Mapping[str, Any] | None, train: Mapping[str, Any] | None,
                      source: str = "<python>") -> tuple[BatsNetSpec, BatsTrainSpec]:
    """Validated (net, train) specs from an experiment's `[net]` and `[train]` tables."""
    net_spec, train_spec = build(BatsNetSpec, net, source, "net"), build(BatsTrainSpec, train, source, "train")
    train_spec.init_ranges(len(net_spec.hidden) + 1, source)
    return net_spec, train_spec
