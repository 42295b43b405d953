"""Poisson rate coding of images and per-sample dropout masks, each drawn from its own generator.

Every sample's random numbers come from a torch.Generator seeded from (seed, stream, epoch,
position in the epoch) only, so a sample's input spikes and masks do not depend on the batch
it is in or on where a run was resumed: an interrupted and resumed epoch draws exactly what an
uninterrupted one draws.
"""

from __future__ import annotations

import numpy as np
import torch

#: streams of random numbers (the second seed word)
TRAIN, EVAL, INIT = 0, 1, 2


def generator(seed: int, stream: int, epoch: int = 0, index: int = 0) -> torch.Generator:
    """A generator seeded from (seed, stream, epoch, index) through numpy's SeedSequence."""
    word = np.random.SeedSequence([seed, stream, epoch, index]).generate_state(1, np.uint64)[0]
    return torch.Generator().manual_seed(int(word))


def poisson(images: torch.Tensor, ts: int, rate: float, gens: list[torch.Generator]) -> torch.Tensor:
    """Input spikes (ts, B, *image) of `images` (B, *image): at each step a pixel spikes with
    probability rate * |pixel|, carrying its sign; sample b draws from gens[b]."""
    u = torch.empty((len(gens), ts, *images.shape[1:]))
    for b, g in enumerate(gens):
        torch.rand(u.shape[1:], generator=g, out=u[b])
    p = (images.abs() * rate).unsqueeze(1)
    spikes = (u < p).to(torch.float32) * torch.sign(images).unsqueeze(1)
    return spikes.transpose(0, 1).contiguous()


def dropout_masks(shapes: dict[str, tuple[int, ...]], p: float, gens: list[torch.Generator]) -> dict[str, torch.Tensor]:
    """Per named layer, masks (B, *shape) of 0 (dropped, probability p) or 1/(1-p); sample b draws
    from gens[b] after its input spikes, one mask for all its time steps."""
    if p <= 0.0:
        return {}
    u = {name: torch.empty((len(gens), *shape)) for name, shape in shapes.items()}
    for b, g in enumerate(gens):
        for name, shape in shapes.items():
            torch.rand(shape, generator=g, out=u[name][b])
    return {name: (x >= p).to(torch.float32) / (1.0 - p) for name, x in u.items()}
