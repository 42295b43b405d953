"""The `[net]` and `[train]` tables of a lee2020 experiment, and the layer plan built from them.

Plain data, no torch: the plan (every stage with its shapes and parameter names) is what the
trainer builds its tensors from and what the NIR export and its tests walk.

Architecture tokens, in order (the output layer of `classes` accumulating neurons is added last):

- ``"20c5"``: convolution, 20 output channels, 5x5 kernel, stride 1, zero padding 2 ("same"),
  no bias, then LIF neurons;
- ``"a2"``: 2x2 average pooling, stride 2, then non-leaky IF neurons (threshold `pool_threshold`);
- ``"200"``: fully connected layer of 200 LIF neurons (the first one flattens its input, C-major).

Presets: ``"lenet"`` is the authors' MNIST network 28x28-20c5-a2-50c5-a2-200-10 (their
``mnist_LeNet.py``: padding 2, average pooling); ``"vgg-small"`` a small VGG-style
32c3-32c3-a2-64c3-64c3-a2-256.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ...config import spec
from ...errors import ConfigError

PRESETS: dict[str, tuple[str, ...]] = {
    "lenet": ("20c5", "a2", "50c5", "a2", "200"),
    "vgg-small": ("32c3", "32c3", "a2", "64c3", "64c3", "a2", "256"),
}
_CONV = re.compile(r"^([1-9]\d*)c([1-9]\d*)$")
_POOL = re.compile(r"^a([1-9]\d*)$")
_FC = re.compile(r"^([1-9]\d*)$")


@dataclass(frozen=True)
class Lee2020NetSpec:
    """The network and its neurons (the `[net]` table of a lee2020 experiment)."""

    layers: list | str = spec(factory=lambda: list(PRESETS["lenet"]),
                              doc="hidden layers as tokens ('20c5' conv, 'a2' avg pool + IF, '200' fully "
                                  "connected) or a preset name ('lenet', 'vgg-small')")
    classes: int = spec(0, lo=0, doc="output neurons (0 = the dataset's number of classes)")
    input_shape: list = spec(factory=list, doc="[C, H, W] or [H, W] of one image ([] = the dataset's)")
    v_th: float = spec(1.0, lo=0.0, lo_open=True, doc="threshold of the LIF neurons (paper 1)")
    leak: float = spec(0.99, lo=0.0, lo_open=True, hi=1.0,
                       doc="lambda, the LIF membrane kept per step (paper 0.99; 1 = no leak)")
    pool_threshold: float = spec(0.75, lo=0.0, lo_open=True,
                                 doc="threshold of the IF neurons after average pooling (paper 0.75; with "
                                     "the strict 'v > threshold' a 2x2 pool fires at 4 quarter-spikes)")
    readout: str = spec("integrate", choices=("integrate", "leaky"),
                        doc="output neurons: 'integrate' v += W x (the issue, the seed's 'accumulates'); "
                            "'leaky' v = leak * v + W x (the authors' code), the leak out of autograd")
    input_rate: float = spec(1.0, lo=0.0, lo_open=True, hi=1.0,
                             doc="input spike probability per unit |pixel| (authors' CIFAR code 1, their "
                                 "MNIST code 0.5)")

    def validate(self) -> None:
        tokens(self)
        if len(self.input_shape) not in (0, 2, 3) or any(
                isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in self.input_shape):
            raise ConfigError(f"= {self.input_shape!r}: must be [], [H, W] or [C, H, W] of "
                              "positive integers", key="input_shape")


@dataclass(frozen=True)
class Lee2020TrainSpec:
    """How to train (the `[train]` table of a lee2020 experiment). Defaults are the paper's."""

    ts: int = spec(100, lo=1, hi=100000, doc="time steps per sample T (paper 100)")
    eval_ts: int = spec(0, lo=0, hi=100000, doc="time steps per sample at test time (0 = ts)")
    epochs: int = spec(150, lo=1, doc="passes over the training set (paper 150)")
    batch: int = spec(64, lo=1, doc="samples per optimiser step (authors' code 64)")
    eval_batch: int = spec(100, lo=1, doc="samples per forward pass at test time")
    threads: int = spec(0, lo=0, doc="torch threads (0 = one per core, at most 2); 1 when other jobs share the cores")
    optimizer: str = spec("sgd", choices=("sgd", "adam"), doc="'sgd' (the paper) or 'adam'")
    lr: float = spec(0.0085, lo=0.0, lo_open=True,
                     doc="learning rate on the summed squared error of a batch (authors' MNIST 0.0085)")
    momentum: float = spec(0.0, lo=0.0, hi=0.999, doc="SGD momentum (the authors' SGD has none)")
    weight_decay: float = spec(5e-4, lo=0.0, doc="L2 weight decay (paper 5e-4)")
    lr_steps: list = spec(factory=lambda: [70, 100, 125], doc="epochs (0-based) at which lr is multiplied "
                                                               "by lr_gamma (paper 70, 100, 125)")
    lr_gamma: float = spec(0.2, lo=0.0, lo_open=True, hi=1.0, doc="lr factor at each of lr_steps (paper 0.2)")
    dropout: float = spec(0.2, lo=0.0, hi=0.95,
                          doc="dropout of each hidden LIF layer's spikes, one mask per sample for all its "
                              "time steps, kept spikes scaled by 1/(1-p) (paper 0.2)")
    shuffle: bool = spec(True, doc="visit the training set in a fresh order each epoch, fixed by (seed, epoch)")

    def validate(self) -> None:
        steps = self.lr_steps
        if any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in steps) or steps != sorted(steps):
            raise ConfigError(f"= {steps!r}: must be ascending epoch numbers >= 0", key="lr_steps")

    @property
    def test_ts(self) -> int:
        return self.eval_ts or self.ts

    def lr_at(self, epoch: int) -> float:
        """The step-decayed learning rate of `epoch` (0-based)."""
        return self.lr * self.lr_gamma ** sum(1 for s in self.lr_steps if epoch >= s)


@dataclass(frozen=True)
class Stage:
    """One layer of the plan. `kind` is 'conv' or 'fc' (LIF neurons), 'pool' (IF neurons) or
    'output' (accumulating neurons); shapes exclude the batch and time axes."""

    name: str
    kind: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    kernel: int = 0

    @property
    def weight_shape(self) -> tuple[int, ...]:
        """(C_out, C_in, k, k) for conv, (N_out, N_in) for fc and output, () for pool."""
        if self.kind == "conv":
            return (self.out_shape[0], self.in_shape[0], self.kernel, self.kernel)
        if self.kind in ("fc", "output"):
            return (self.out_shape[0], math.prod(self.in_shape))
        return ()

    @property
    def fan_in(self) -> int:
        return math.prod(self.weight_shape[1:])

    @property
    def spiking(self) -> bool:
        return self.kind != "output"

    @property
    def lif(self) -> bool:
        return self.kind in ("conv", "fc")


def tokens(net: Lee2020NetSpec) -> tuple[str, ...]:
    """The architecture tokens of `net` (a preset expanded), each checked."""
    layers = net.layers
    if isinstance(layers, str):
        if layers not in PRESETS:
            raise ConfigError(f"= {layers!r}: not a preset; presets: {', '.join(PRESETS)} "
                              "(or give a list of tokens such as ['20c5', 'a2', '200'])", key="layers")
        return PRESETS[layers]
    seen_fc = False
    for i, tok in enumerate(layers):
        if not isinstance(tok, str):
            raise ConfigError(f"= {tok!r}: layer tokens are strings such as '20c5', 'a2' or '200'",
                              key=f"layers[{i}]")
        if _CONV.match(tok) or _POOL.match(tok):
            conv = _CONV.match(tok)
            if conv and int(conv.group(2)) % 2 == 0:
                raise ConfigError(f"= {tok!r}: kernels must be odd (padding keeps the size)", key=f"layers[{i}]")
            if seen_fc:
                raise ConfigError(f"= {tok!r}: convolution and pooling must come before fully connected "
                                  "layers", key=f"layers[{i}]")
        elif _FC.match(tok):
            seen_fc = True
        else:
            raise ConfigError(f"= {tok!r}: not a layer; use '<channels>c<kernel>' (conv), 'a<k>' (average "
                              "pooling) or '<neurons>' (fully connected)", key=f"layers[{i}]")
    return tuple(layers)


def image_shape(net: Lee2020NetSpec, data_shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(C, H, W) of one image: the spec's input_shape if given (it must hold as many values as the
    data's images), else the data's shape with one channel added to (H, W)."""
    shape = tuple(net.input_shape) or tuple(data_shape)
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3:
        raise ConfigError(f"= {list(shape)}: images must be [H, W] or [C, H, W]; give "
                          "net.input_shape for flat data", key="input_shape")
    if data_shape and math.prod(shape) != math.prod(data_shape):
        raise ConfigError(f"= {list(shape)} holds {math.prod(shape)} values but the data's images "
                          f"{list(data_shape)} hold {math.prod(data_shape)}", key="input_shape")
    return shape  # type: ignore[return-value]


def build_plan(net: Lee2020NetSpec, data_shape: tuple[int, ...], n_classes: int) -> list[Stage]:
    """The stages of `net` for images of `data_shape` and `n_classes` classes."""
    if net.classes and net.classes != n_classes:
        raise ConfigError(f"= {net.classes}: the data has {n_classes} classes", key="classes")
    shape: tuple[int, ...] = image_shape(net, data_shape)
    stages: list[Stage] = []
    count = {"conv": 0, "pool": 0, "fc": 0}
    for i, tok in enumerate(tokens(net)):
        if m := _CONV.match(tok):
            count["conv"] += 1
            out = (int(m.group(1)), *shape[1:])
            stages.append(Stage(f"conv{count['conv']}", "conv", shape, out, int(m.group(2))))
        elif m := _POOL.match(tok):
            k = int(m.group(1))
            if shape[1] % k or shape[2] % k:
                raise ConfigError(f"= {tok!r}: a {k}x{k} pool does not tile the {shape[1]}x{shape[2]} maps "
                                  "that reach it", key=f"layers[{i}]")
            count["pool"] += 1
            stages.append(Stage(f"pool{count['pool']}", "pool", shape, (shape[0], shape[1] // k, shape[2] // k), k))
        else:
            count["fc"] += 1
            stages.append(Stage(f"fc{count['fc']}", "fc", shape, (int(tok),)))
        shape = stages[-1].out_shape
    stages.append(Stage("output", "output", shape, (n_classes,)))
    return stages
