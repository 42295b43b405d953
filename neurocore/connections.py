"""Connection types beside dense weight matrices: convolution, pooling and elementwise scale.

Populations with a shape hold their neurons in C order: neuron (c, y, x) of a (C, H, W)
population is number (c * H + y) * W + x. Flatten is therefore no connection at all: a dense
projection from a shaped population indexes its rows in that same order.

Each type is plain data with its equation as docstring; `unrolled(pre_shape)` gives the dense
(pre, post) matrix it equals, which is what the numpy reference runs and what the mapped
engine must reproduce. How the chip stores one (a shared-weight crossbar per core, or every
synapse unrolled) is the mapper's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np

from .errors import ConfigError

Pair = tuple[int, int]


def pair(v: int | tuple | list, name: str) -> Pair:
    """(a, b) from an int or a pair of non-negative ints."""
    t = (int(v), int(v)) if np.ndim(v) == 0 else tuple(int(x) for x in v)
    if len(t) != 2 or min(t) < 0:
        raise ConfigError(f"= {v!r} must be a non-negative int or a pair of them", key=name)
    return t  # type: ignore[return-value]


@dataclass(frozen=True, eq=False)
class Conv2d:
    """2-D convolution (cross-correlation, as PyTorch and NIR define it) of a (C_in, H, W) input:

        y[co, oy, ox] = sum over ci in co's group, ky, kx of
                        weight[co, ci - first channel of the group, ky, kx]
                        * x[ci, oy * sy - py + ky * dy, ox * sx - px + kx * dx]

    (positions outside the input are zero padding). weight: (C_out, C_in / groups, kh, kw).
    A bias is not a synapse: it belongs on the post neurons.
    """

    weight: np.ndarray
    stride: Pair = (1, 1)
    padding: Pair = (0, 0)
    dilation: Pair = (1, 1)
    groups: int = 1

    def __post_init__(self) -> None:
        w = np.ascontiguousarray(self.weight, np.float32)
        if w.ndim != 4:
            raise ConfigError(f"conv weight has shape {w.shape}; expected (C_out, C_in/groups, kh, kw)", key="weight")
        if not np.all(np.isfinite(w)):
            raise ConfigError("conv weight contains NaN or infinity", key="weight")
        object.__setattr__(self, "weight", w)
        object.__setattr__(self, "stride", pair(self.stride, "stride"))
        object.__setattr__(self, "padding", pair(self.padding, "padding"))
        object.__setattr__(self, "dilation", pair(self.dilation, "dilation"))
        if min(self.stride) < 1 or min(self.dilation) < 1:
            raise ConfigError(f"stride {self.stride} and dilation {self.dilation} must be >= 1", key="stride")
        if self.groups < 1 or w.shape[0] % self.groups:
            raise ConfigError(f"groups = {self.groups} must divide C_out = {w.shape[0]}", key="groups")

    @property
    def out_channels(self) -> int:
        return self.weight.shape[0]

    @property
    def kernel(self) -> Pair:
        return self.weight.shape[2], self.weight.shape[3]

    def in_channels_per_group(self) -> int:
        return self.weight.shape[1]

    def out_shape(self, in_shape: tuple[int, ...]) -> tuple[int, int, int]:
        """(C_out, H_out, W_out) for an input of shape (C_in, H, W); refuses a mismatch."""
        if len(in_shape) != 3:
            raise ConfigError(f"a 2-D convolution needs an input of shape (C, H, W), got {tuple(in_shape)}",
                              key="input_shape")
        c, h, w = in_shape
        if c != self.weight.shape[1] * self.groups:
            raise ConfigError(f"input has {c} channels; the kernel expects {self.weight.shape[1]} per group x "
                              f"{self.groups} groups = {self.weight.shape[1] * self.groups}", key="weight")
        out = []
        for size, k, s, p, d in zip((h, w), self.kernel, self.stride, self.padding, self.dilation):
            n = (size + 2 * p - d * (k - 1) - 1) // s + 1
            if n < 1:
                raise ConfigError(f"input {tuple(in_shape)} is smaller than the kernel {self.kernel} "
                                  f"(padding {self.padding}, dilation {self.dilation})", key="input_shape")
            out.append(n)
        return self.out_channels, out[0], out[1]

    def group_of(self, out_channel: int | np.ndarray) -> int | np.ndarray:
        return out_channel // (self.out_channels // self.groups)

    def n_synapses(self, in_shape: tuple[int, int, int]) -> int:
        """How many synapses there are (taps that land inside the input), counted axis by axis."""
        c_out, ho, wo = self.out_shape(in_shape)
        count = c_out * self.weight.shape[1]
        for size, n_out, k, s, p, d in zip(in_shape[1:], (ho, wo), self.kernel, self.stride, self.padding,
                                           self.dilation):
            pos = np.add.outer(np.arange(n_out) * s - p, np.arange(k) * d)
            count *= int(((pos >= 0) & (pos < size)).sum())
        return count

    def synapses(self, in_shape: tuple[int, int, int]) -> tuple[np.ndarray, ...]:
        """Every synapse as parallel arrays (pre index, post index, ci, ky, kx, co) in C order."""
        c_in, h, w = in_shape
        c_out, ho, wo = self.out_shape(in_shape)
        cpg_in, kh, kw = self.weight.shape[1:]
        cpg_out = c_out // self.groups
        co, oy, ox, cig, ky, kx = np.meshgrid(np.arange(c_out), np.arange(ho), np.arange(wo), np.arange(cpg_in),
                                              np.arange(kh), np.arange(kw), indexing="ij")
        ci = (co // cpg_out) * cpg_in + cig
        iy = oy * self.stride[0] - self.padding[0] + ky * self.dilation[0]
        ix = ox * self.stride[1] - self.padding[1] + kx * self.dilation[1]
        ok = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
        pre = (ci * h + iy) * w + ix
        post = (co * ho + oy) * wo + ox
        return pre[ok], post[ok], cig[ok], ky[ok], kx[ok], co[ok]

    def unrolled(self, in_shape: tuple[int, int, int]) -> np.ndarray:
        """The dense (pre, post) float32 matrix this convolution equals."""
        c_out, ho, wo = self.out_shape(in_shape)
        pre, post, cig, ky, kx, co = self.synapses(in_shape)
        m = np.zeros((int(np.prod(in_shape)), c_out * ho * wo), np.float32)
        np.add.at(m, (pre, post), self.weight[co, cig, ky, kx])
        return m


@dataclass(frozen=True, eq=False)
class Pool2d:
    """Sum or average pooling of each channel over kernel windows (no learned weights):

        y[c, oy, ox] = scale * sum over ky < kh, kx < kw of x[c, oy * sy - py + ky, ox * sx - px + kx]

    with scale 1 ("sum") or 1 / (kh kw) ("avg"; padding counts as zeros, as PyTorch's default).
    It is a depthwise convolution with a constant kernel (:meth:`as_conv`).
    """

    mode: str
    kernel: Pair
    stride: Pair | None = None  # None: the kernel size
    padding: Pair = (0, 0)

    def __post_init__(self) -> None:
        if self.mode not in ("sum", "avg"):
            raise ConfigError(f"= {self.mode!r} is not allowed; must be 'sum' or 'avg'", key="mode")
        object.__setattr__(self, "kernel", pair(self.kernel, "kernel"))
        object.__setattr__(self, "stride", pair(self.kernel if self.stride is None else self.stride, "stride"))
        object.__setattr__(self, "padding", pair(self.padding, "padding"))
        if min(self.kernel) < 1 or min(self.stride) < 1:
            raise ConfigError(f"kernel {self.kernel} and stride {self.stride} must be >= 1", key="kernel")

    def as_conv(self, channels: int) -> Conv2d:
        """The same map as a depthwise Conv2d (groups = channels)."""
        value = 1.0 if self.mode == "sum" else 1.0 / (self.kernel[0] * self.kernel[1])
        w = np.full((channels, 1, *self.kernel), value, np.float32)
        return Conv2d(w, self.stride, self.padding, (1, 1), channels)

    def out_shape(self, in_shape: tuple[int, ...]) -> tuple[int, int, int]:
        if len(in_shape) != 3:
            raise ConfigError(f"2-D pooling needs an input of shape (C, H, W), got {tuple(in_shape)}",
                              key="input_shape")
        return self.as_conv(in_shape[0]).out_shape(in_shape)

    def unrolled(self, in_shape: tuple[int, int, int]) -> np.ndarray:
        return self.as_conv(in_shape[0]).unrolled(in_shape)

    def n_synapses(self, in_shape: tuple[int, int, int]) -> int:
        return self.as_conv(in_shape[0]).n_synapses(in_shape)


@dataclass(frozen=True, eq=False)
class Scale:
    """Elementwise scale, one synapse per neuron: y[j] = factor[j] * x[j] (pre and post the same size)."""

    factor: np.ndarray

    def __post_init__(self) -> None:
        f = np.ascontiguousarray(np.ravel(self.factor), np.float32)
        if not np.all(np.isfinite(f)):
            raise ConfigError("scale factors contain NaN or infinity", key="factor")
        object.__setattr__(self, "factor", f)

    def out_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        if self.factor.size not in (1, int(np.prod(in_shape))):
            raise ConfigError(f"{self.factor.size} scale factors for {int(np.prod(in_shape))} neurons",
                              key="factor")
        return tuple(in_shape)

    def factors(self, n: int) -> np.ndarray:
        return np.broadcast_to(self.factor, (n,)).astype(np.float32)

    def unrolled(self, in_shape: tuple[int, ...]) -> np.ndarray:
        n = int(np.prod(in_shape))
        return np.diag(self.factors(n))

    def n_synapses(self, in_shape: tuple[int, ...]) -> int:
        return int(np.prod(in_shape))


Connection = Union[Conv2d, Pool2d, Scale]
