"""Linear maps between spiking populations: what a chain of NIR operator nodes folds into.

A chain such as AvgPool2d -> Conv2d or Conv2d -> Flatten -> Affine between two neuron nodes is one
linear map of the spikes below it, so the chip holds it as one projection. The maps here are
the three forms a projection can take (`neurocore.connections`): a convolution (pooling is a
depthwise convolution), an elementwise scale, or a dense (pre, post) matrix. :func:`compose`
keeps a convolution a convolution where that is exact (no padding between the two), and
falls back to the dense product otherwise; :func:`apply` pushes a bias vector through a map.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..connections import Conv2d, Pool2d, Scale

Shape = tuple[int, ...]


@dataclass(frozen=True, eq=False)
class Dense:
    """y = x @ matrix, matrix (n_in, n_out)."""

    matrix: np.ndarray


@dataclass(frozen=True, eq=False)
class Conv:
    """A 2-D convolution or pooling of an input of shape in_shape (C, H, W)."""

    conn: Conv2d | Pool2d
    in_shape: Shape

    @property
    def conv(self) -> Conv2d:
        return self.conn.as_conv(self.in_shape[0]) if isinstance(self.conn, Pool2d) else self.conn

    @property
    def out_shape(self) -> Shape:
        return tuple(self.conn.out_shape(self.in_shape))


@dataclass(frozen=True, eq=False)
class Elementwise:
    """y = x * factor (one factor per neuron)."""

    factor: np.ndarray


Map = Dense | Conv | Elementwise


def size_in(m: Map) -> int:
    if isinstance(m, Dense):
        return m.matrix.shape[0]
    if isinstance(m, Conv):
        return int(np.prod(m.in_shape))
    return m.factor.size


def unrolled(m: Map) -> np.ndarray:
    """The (n_in, n_out) matrix of a map (float64, so products of chains round once at the end)."""
    if isinstance(m, Dense):
        return np.asarray(m.matrix, np.float64)
    if isinstance(m, Elementwise):
        return np.diag(np.asarray(m.factor, np.float64))
    conv = m.conv
    c_out, ho, wo = conv.out_shape(m.in_shape)
    pre, post, cig, ky, kx, co = conv.synapses(m.in_shape)
    out = np.zeros((int(np.prod(m.in_shape)), c_out * ho * wo))
    np.add.at(out, (pre, post), conv.weight.astype(np.float64)[co, cig, ky, kx])
    return out


def apply(m: Map, x: np.ndarray) -> np.ndarray:
    """m applied to one vector x (n_in,): a bias pushed through the map."""
    x = np.asarray(x, np.float64).ravel()
    if isinstance(m, Dense):
        return x @ np.asarray(m.matrix, np.float64)
    if isinstance(m, Elementwise):
        return x * m.factor
    conv = m.conv
    c_out, ho, wo = conv.out_shape(m.in_shape)
    pre, post, cig, ky, kx, co = conv.synapses(m.in_shape)
    out = np.zeros(c_out * ho * wo)
    np.add.at(out, post, conv.weight.astype(np.float64)[co, cig, ky, kx] * x[pre])
    return out


def compose(a: Map, b: Map) -> Map:
    """The map `b after a` (a applied first)."""
    if isinstance(a, Elementwise) and isinstance(b, Elementwise):
        return Elementwise(a.factor * b.factor)
    if isinstance(a, Elementwise) and isinstance(b, Dense):
        return Dense(a.factor[:, None] * np.asarray(b.matrix, np.float64))
    if isinstance(a, Dense) and isinstance(b, Elementwise):
        return Dense(np.asarray(a.matrix, np.float64) * b.factor[None, :])
    if isinstance(a, Conv) and isinstance(b, Elementwise) and np.all(b.factor == b.factor[0]):
        return Conv(_scaled(a.conv, b.factor[0]), a.in_shape)
    if isinstance(a, Elementwise) and isinstance(b, Conv) and np.all(a.factor == a.factor[0]):
        return Conv(_scaled(b.conv, a.factor[0]), b.in_shape)
    if isinstance(a, Conv) and isinstance(b, Conv):
        c = _conv_after_conv(a, b)
        if c is not None:
            return c
    return Dense(unrolled(a) @ unrolled(b))


def _scaled(conv: Conv2d, s: float) -> Conv2d:
    return Conv2d(conv.weight * np.float32(s), conv.stride, conv.padding, conv.dilation, conv.groups)


def _full_weight(conv: Conv2d) -> np.ndarray:
    """The kernel as (C_out, C_in, kh, kw), zeros between groups."""
    w = conv.weight.astype(np.float64)
    c_out, cpg, kh, kw = w.shape
    g = conv.groups
    full = np.zeros((c_out, cpg * g, kh, kw))
    opg = c_out // g
    for k in range(g):
        full[k * opg:(k + 1) * opg, k * cpg:(k + 1) * cpg] = w[k * opg:(k + 1) * opg]
    return full


def _grouped(full: np.ndarray, candidates: list[int]) -> tuple[np.ndarray, int]:
    """Back to (C_out, C_in / g, kh, kw) with the largest candidate g whose off-group blocks are zero."""
    c_out, c_in = full.shape[:2]
    for g in sorted(set(candidates), reverse=True):
        if c_out % g or c_in % g:
            continue
        opg, ipg = c_out // g, c_in // g
        blocks = [full[k * opg:(k + 1) * opg, k * ipg:(k + 1) * ipg] for k in range(g)]
        mask = np.ones_like(full, bool)
        for k in range(g):
            mask[k * opg:(k + 1) * opg, k * ipg:(k + 1) * ipg] = False
        if not np.any(full[mask]):
            return np.concatenate(blocks, axis=0), g
    return full, 1


def _conv_after_conv(a: Conv, b: Conv) -> Conv | None:
    """One convolution equal to b after a, when b adds no padding (padding between the two would
    read zeros that the merged kernel would read as inputs)."""
    ca, cb = a.conv, b.conv
    if any(cb.padding):
        return None
    wa, wb = _full_weight(ca), _full_weight(cb)
    kh = (cb.kernel[0] - 1) * cb.dilation[0] * ca.stride[0] + (ca.kernel[0] - 1) * ca.dilation[0] + 1
    kw = (cb.kernel[1] - 1) * cb.dilation[1] * ca.stride[1] + (ca.kernel[1] - 1) * ca.dilation[1] + 1
    if kh * kw > 64 * max(ca.kernel[0] * ca.kernel[1], cb.kernel[0] * cb.kernel[1]):
        return None
    w = np.zeros((wb.shape[0], wa.shape[1], kh, kw))
    mix = np.einsum("om...,mi...->oi...", wb[:, :, :, :, None, None], wa[:, :, None, None, :, :])
    for jy in range(cb.kernel[0]):
        for jx in range(cb.kernel[1]):
            for iy in range(ca.kernel[0]):
                for ix in range(ca.kernel[1]):
                    uy = jy * cb.dilation[0] * ca.stride[0] + iy * ca.dilation[0]
                    ux = jx * cb.dilation[1] * ca.stride[1] + ix * ca.dilation[1]
                    w[:, :, uy, ux] += mix[:, :, jy, jx, iy, ix]
    weight, groups = _grouped(w, [ca.groups, cb.groups, 1])
    merged = Conv2d(weight.astype(np.float32), (ca.stride[0] * cb.stride[0], ca.stride[1] * cb.stride[1]),
                    ca.padding, (1, 1), groups)
    if merged.out_shape(a.in_shape) != b.out_shape:
        return None
    return Conv(merged, a.in_shape)


def connection(m: Map, pre_shape: Shape, post_shape: Shape) -> Conv2d | Pool2d | Scale | np.ndarray:
    """What `Netlist.connect` takes for this map between populations of these shapes: the structured
    connection when the shapes fit it, else the dense (pre, post) float32 matrix."""
    if isinstance(m, Conv) and tuple(pre_shape) == tuple(m.in_shape) and tuple(post_shape) == m.out_shape:
        return m.conn
    if isinstance(m, Elementwise):
        return Scale(m.factor.astype(np.float32))
    return unrolled(m).astype(np.float32)
