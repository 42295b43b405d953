"""The spiking network of a layer plan: its weights, the training pass and the inference pass.

Both passes work layer by layer over a whole block of time steps: layer l+1 at step t sees
layer l's spikes of the same step t (no delay), and nothing flows back, so each layer's
currents for all T steps come from one convolution or matrix product over T x B images and
only the neuron scans step through time. Training runs the whole sample at once (autograd
keeps one graph); inference runs blocks of steps, carrying the membranes from block to block,
so memory stays bounded at any T.

The output layer does not spike: 'integrate' accumulates v += W x, 'leaky' v = leak v + W x;
the network's output is v after the last step divided by (v_th * T).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .neurons import AvgPool, IFSpikes, LIFSpikes, scan
from .spec import Lee2020NetSpec, Stage

#: float32 values per inference block (a block's largest layer current), about 256 MB
BLOCK_VALUES = 64 * 2**20


class SpikingNet:
    """Weights (torch leaf tensors, one per stage with weights) and the two passes."""

    def __init__(self, plan: list[Stage], net: Lee2020NetSpec, generator: torch.Generator):
        self.plan = plan
        self.net = net
        self.weights: dict[str, torch.Tensor] = {}
        for st in plan:
            if st.weight_shape:  # He init: normal with std sqrt(2 / fan_in), as the authors
                w = torch.randn(st.weight_shape, generator=generator) * math.sqrt(2.0 / st.fan_in)
                self.weights[st.name] = w.requires_grad_(True)

    def parameters(self) -> list[torch.Tensor]:
        return list(self.weights.values())

    def _current(self, st: Stage, x: torch.Tensor, train: bool) -> torch.Tensor:
        """The input current of stage `st` from the spikes `x` (T, B, *st.in_shape) below it."""
        t, b = x.shape[:2]
        flat = x.reshape(t * b, *st.in_shape)
        if st.kind == "conv":
            cl = torch.channels_last
            cur = F.conv2d(flat.contiguous(memory_format=cl), self.weights[st.name].contiguous(memory_format=cl),
                           padding=st.kernel // 2)  # channels-last: the scans walk it in that order
        elif st.kind == "pool":
            cur = AvgPool.apply(flat, st.kernel) if train else F.avg_pool2d(flat, st.kernel)
        else:
            cur = flat.reshape(t * b, -1) @ self.weights[st.name].t()
        return cur.reshape(t, b, *st.out_shape)

    def forward_train(self, x: torch.Tensor, masks: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict]:
        """Output (B, classes) of input spikes `x` (T, B, C, H, W) with dropout `masks` (per LIF
        stage, (B, *out_shape)); also the spike count of each stage, summed over the batch."""
        counts = {}
        h = x
        for st in self.plan[:-1]:
            cur = self._current(st, h, train=True)
            mask = masks.get(st.name)
            if st.lif:
                h, count = LIFSpikes.apply(cur, self.net.leak, self.net.v_th, mask)
            else:
                h, count = IFSpikes.apply(cur, self.net.pool_threshold)
            counts[st.name] = float((count if mask is None else count * (mask > 0)).sum())
        return self._readout_train(h), counts

    def _readout_train(self, h: torch.Tensor) -> torch.Tensor:
        st = self.plan[-1]
        t, b = h.shape[:2]
        x = h.reshape(t, b, -1)
        summed = x.sum(0)
        if self.net.readout == "leaky":  # the leak shapes the value, not the gradient (as the authors)
            decay = self.net.leak ** torch.arange(t - 1, -1, -1, dtype=torch.float64)
            leaky = torch.einsum("t,tbn->bn", decay.to(x.dtype), x)
            summed = summed + (leaky - summed).detach()
        return summed @ self.weights[st.name].t() / (self.net.v_th * t)

    @torch.no_grad()
    def run(self, x: torch.Tensor, record: bool = False) -> dict:
        """Inference on input spikes `x` (T, B, C, H, W), in blocks of time steps.

        Returns 'v' (B, classes), the output membranes after the last step (the chip's
        accumulated values; the network output is v / (v_th T)), 'counts' (stage -> spikes
        per sample, (B,)) and with `record` 'spikes' (stage -> bool (T, B, *out_shape))."""
        t_all, b = x.shape[:2]
        widest = max(math.prod(st.out_shape) for st in self.plan)
        block = max(1, min(t_all, BLOCK_VALUES // max(1, widest * b)))
        net = self.net
        out = self.plan[-1]
        lam_out = torch.tensor(net.leak if net.readout == "leaky" else 1.0, dtype=torch.float32)
        v = {st.name: None for st in self.plan[:-1]}
        v_out = torch.zeros(b, out.out_shape[0])
        counts = {st.name: torch.zeros(b) for st in self.plan[:-1]}
        trains: dict[str, list[torch.Tensor]] = {st.name: [] for st in self.plan[:-1]}
        for start in range(0, t_all, block):
            h = x[start:start + block]
            for st in self.plan[:-1]:
                cur = self._current(st, h, train=False)
                leak = net.leak if st.lif else 1.0
                th = net.v_th if st.lif else net.pool_threshold
                res = scan(cur, leak, th, v[st.name])
                v[st.name] = res["v"]
                counts[st.name] += res["count"].reshape(b, -1).sum(1)
                if record:
                    trains[st.name].append(res["spikes"])
                h = res["out"]
            cur = h.reshape(h.shape[0], b, -1) @ self.weights[out.name].t()
            for step in range(cur.shape[0]):  # per step, as the chip accumulates
                v_out = v_out * lam_out + cur[step]
        res = {"v": v_out, "counts": counts}
        if record:
            res["spikes"] = {k: torch.cat(s) for k, s in trains.items()}
        return res
