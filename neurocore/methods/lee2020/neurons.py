"""The spiking neurons over a whole sample, with Lee et al.'s approximate derivative as autograd Functions.

Forward, per time step t = 0..T-1, on each neuron (the order the chip runs, DESIGN.md's
v[t] = v[t-1] * (1 - dv) + i[t] with 1 - dv = leak and i = the input current):

    v = leak * v + I[t];  s[t] = (v > v_th);  where s[t]: v = 0

Backward (the paper's Eq. for d a / d net, as the authors' code computes it): the spike at t
passes the gradient to its membrane with the approximate derivative

    d = (1 / v_th) * (1 + ln(leak) * sum_k leak^(T-1-t_k) / N)     (t_k the neuron's N spike steps)

and the membrane carries it back unchanged through the steps since the previous spike (the leak
kept out of autograd: dv[t]/dv[t-1] = 1, not leak; a reset cuts the path). So

    delta[t] = d * g[t]  where s[t],  else delta[t+1];   dL/dI[t] = delta[t]

with g[t] = dL/ds[t]. With leak = 1 the derivative is the straight-through 1 / v_th.
The IF neurons after pooling use the same scan with leak 1 and d = 1 (the authors pass the
gradient through them unscaled).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from numba import njit


@njit(cache=True, nogil=True)
def _scan_kernel(cur, v, leak, v_th, gain, spikes, out, lf, count):
    """cur (T, N) -> spikes (T, N) and out = spikes * gain (floats); v (N,) is the membrane,
    updated in place; lf and count (N,) accumulate sum_k leak^(T-1-t_k) and N."""
    zero = np.float32(0.0)
    for t in range(cur.shape[0]):
        for n in range(cur.shape[1]):
            x = v[n] * leak  # two float32 roundings, multiply then add: as the chip and the NIR contract
            x = x + cur[t, n]
            s = x > v_th
            spikes[t, n] = s
            out[t, n] = gain[n] if s else zero
            v[n] = zero if s else x
            lf[n] = lf[n] * leak + (np.float32(1.0) if s else zero)
            if s:
                count[n] += np.float32(1.0)


@njit(cache=True, nogil=True)
def _backward_kernel(spikes, grad_spikes, deriv, grad):
    """delta[t] = deriv * g[t] where the neuron spiked at t, else delta[t+1]; grad[t] = delta[t]."""
    delta = np.zeros(spikes.shape[1], np.float32)
    for t in range(spikes.shape[0] - 1, -1, -1):
        for n in range(spikes.shape[1]):
            if spikes[t, n]:
                delta[n] = grad_spikes[t, n] * deriv[n]
            grad[t, n] = delta[n]


def _channels_last(x: torch.Tensor) -> bool:
    """Whether the feature maps (T, B, C, H, W) `x` are held channels-last (as convolutions of
    channels-last inputs return them): the scans then walk them in that order, without a copy."""
    return x.dim() == 5 and not x.is_contiguous()


def _physical(x: torch.Tensor, maps: bool, lead: int) -> torch.Tensor:
    """`x` (lead axes, C, H, W) viewed as (lead axes, H, W, C) when `maps`."""
    if not maps:
        return x
    return x.permute(*range(lead), lead + 1, lead + 2, lead)


def _logical(x: torch.Tensor, maps: bool, lead: int) -> torch.Tensor:
    if not maps:
        return x
    return x.permute(*range(lead), lead + 2, lead, lead + 1)


def scan(current: torch.Tensor, leak: float, v_th: float, v0: torch.Tensor | None = None,
         gain: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Run neurons driven by `current` (T, B, ...) from membranes `v0` (zeros if None).

    Returns 'spikes' (bool, like current), 'out' (spikes * gain as float32; gain (B, ...) is a
    dropout mask, ones if None), 'v' (membranes after the last step, post-reset), 'lf'
    (sum_k leak^(T-1-t_k)) and 'count' (spikes per neuron). Feature maps (T, B, C, H, W) held
    channels-last are walked in that order and returned as channels-last views (the layout is
    only a matter of speed: any other is copied into one of the two)."""
    shape = current.shape
    maps = _channels_last(current)
    phys = _physical(current.detach().to(torch.float32), maps, 2).contiguous()
    cur = phys.reshape(shape[0], -1).numpy()
    n = cur.shape[1]
    v = np.zeros(n, np.float32) if v0 is None else \
        _physical(v0.detach(), maps, 1).contiguous().reshape(-1).numpy().astype(np.float32)
    g = np.ones(n, np.float32) if gain is None else \
        _physical(gain.to(torch.float32), maps, 1).contiguous().reshape(-1).numpy()
    spikes = np.empty(cur.shape, np.bool_)
    out = np.empty(cur.shape, np.float32)
    lf = np.zeros(n, np.float32)
    count = np.zeros(n, np.float32)
    _scan_kernel(cur, v, np.float32(leak), np.float32(v_th), g, spikes, out, lf, count)

    def back(a: np.ndarray, lead: int) -> torch.Tensor:
        return _logical(torch.from_numpy(a).reshape(phys.shape[2 - lead:]), maps, lead)

    return {"spikes": back(spikes, 2), "out": back(out, 2), "v": back(v, 1), "lf": back(lf, 1),
            "count": back(count, 1)}


def spike_trace(spikes: torch.Tensor, leak: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(sum_k leak^(T-1-t_k), N) per neuron of a spike train `spikes` (T, ...), in closed form."""
    t = spikes.shape[0]
    decay = torch.tensor(leak, dtype=torch.float64) ** torch.arange(t - 1, -1, -1, dtype=torch.float64)
    lf = torch.tensordot(decay, spikes.to(torch.float64), dims=1)
    return lf.to(torch.float32), spikes.sum(0, dtype=torch.float32)


def leak_corrected_derivative(lf: torch.Tensor, count: torch.Tensor, leak: float, v_th: float) -> torch.Tensor:
    """The paper's d a / d net = (1 / v_th) (1 + ln(leak) lf / N); 0 for neurons that never spiked."""
    ratio = lf / count.clamp(min=1.0)
    return torch.where(count > 0, (1.0 + math.log(leak) * ratio) / v_th, torch.zeros_like(lf))


def approx_derivative(spikes: torch.Tensor, leak: float, v_th: float) -> torch.Tensor:
    """The approximate derivative of each neuron of the spike train `spikes` (T, ...)."""
    return leak_corrected_derivative(*spike_trace(spikes, leak), leak, v_th)


def _backward_scan(spikes: torch.Tensor, grad_spikes: torch.Tensor, deriv: torch.Tensor) -> torch.Tensor:
    maps = _channels_last(spikes)
    t = spikes.shape[0]
    s = _physical(spikes, maps, 2).contiguous()  # no copy: saved from the forward scan in this order
    g = _physical(grad_spikes.to(torch.float32), maps, 2).contiguous().reshape(t, -1).numpy()
    d = _physical(deriv.to(torch.float32), maps, 1).contiguous().reshape(-1).numpy()
    grad = np.empty_like(g)
    _backward_kernel(s.reshape(t, -1).numpy(), g, d, grad)
    return _logical(torch.from_numpy(grad).reshape(s.shape), maps, 2)


class LIFSpikes(torch.autograd.Function):
    """LIF spikes over T steps from input currents (T, B, ...), times a per-sample dropout `mask`
    (B, ...) or None; backward with the leak-corrected approximate derivative."""

    @staticmethod
    def forward(ctx, current: torch.Tensor, leak: float, v_th: float,  # type: ignore[override]
                mask: torch.Tensor | None = None) -> torch.Tensor:
        res = scan(current, leak, v_th, gain=mask)
        deriv = leak_corrected_derivative(res["lf"], res["count"], leak, v_th)
        if mask is not None:
            deriv = deriv * mask  # a dropped neuron passes no gradient, a kept one 1/(1-p) times more
        ctx.save_for_backward(res["spikes"], deriv)
        ctx.mark_non_differentiable(res["count"])
        return res["out"], res["count"]

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor, _grad_count: torch.Tensor):  # type: ignore[override]
        spikes, deriv = ctx.saved_tensors
        return _backward_scan(spikes, grad_out, deriv), None, None, None


class IFSpikes(torch.autograd.Function):
    """Non-leaky IF spikes over T steps (the neurons after pooling); backward passes the gradient
    of each spike to the inputs since the previous spike, unscaled."""

    @staticmethod
    def forward(ctx, current: torch.Tensor, v_th: float) -> torch.Tensor:  # type: ignore[override]
        res = scan(current, 1.0, v_th)
        ctx.save_for_backward(res["spikes"])
        ctx.mark_non_differentiable(res["count"])
        return res["out"], res["count"]

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor, _grad_count: torch.Tensor):  # type: ignore[override]
        (spikes,) = ctx.saved_tensors
        ones = torch.ones(spikes.shape[1:], dtype=torch.float32)
        return _backward_scan(spikes, grad_out, ones), None


class AvgPool(torch.autograd.Function):
    """k x k average pooling, stride k, of (N, C, H, W) that keeps only shapes for backward
    (torch's own saves its input: a whole sample's spikes of the layer below)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, k: int) -> torch.Tensor:  # type: ignore[override]
        ctx.k = k
        ctx.channels_last = not x.is_contiguous()
        return torch.nn.functional.avg_pool2d(x, k)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        k = ctx.k
        n, c, h, w = grad.shape
        g = grad / (k * k)
        if ctx.channels_last:  # hand the gradient back in the layout the input had
            g = g.permute(0, 2, 3, 1)
            up = g.reshape(n, h, 1, w, 1, c).expand(n, h, k, w, k, c).reshape(n, h * k, w * k, c)
            return up.permute(0, 3, 1, 2), None
        up = g.reshape(n, c, h, 1, w, 1).expand(n, c, h, k, w, k)
        return up.reshape(n, c, h * k, w * k), None
