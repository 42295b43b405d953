"""Input spikes of a batch of images, as CSR arrays (ptr, times in s, input neuron).

- ttfs: one spike per pixel at ``window * (1 - pixel)`` (brighter is earlier), black
  (pixel <= 0) silent: the authors' coding with window 0.1 s;
- rate: the chip's front-loaded Bernoulli trains (:func:`neurocore.spikegen.source_trains`,
  mean probability ``k * pixel`` per tick over ``ticks`` ticks), tick t at time
  ``t * window / ticks``. Each sample's train is drawn under its own key, derived from
  (seed, stream, sample index), so it does not depend on the batch it sits in.

`on_ticks` puts either on a chip's tick grid (the input the chip is driven with).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class InputSpikes:
    """Sample b's spikes: times[ptr[b]:ptr[b+1]] (s) of neurons neuron[ptr[b]:ptr[b+1]]."""

    ptr: np.ndarray
    times: np.ndarray
    neuron: np.ndarray

    def __len__(self) -> int:
        return int(self.ptr.shape[0] - 1)

    def sample(self, b: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.ptr[b], self.ptr[b + 1]
        return self.times[lo:hi], self.neuron[lo:hi]

    @staticmethod
    def from_lists(times: list[np.ndarray], neuron: list[np.ndarray]) -> "InputSpikes":
        """From one (times, neurons) pair of arrays per sample."""
        ptr = np.zeros(len(times) + 1, np.int64)
        ptr[1:] = np.cumsum([len(t) for t in times])
        cat_t = np.concatenate(times).astype(np.float64) if times else np.zeros(0)
        cat_i = np.concatenate(neuron).astype(np.int64) if neuron else np.zeros(0, np.int64)
        return InputSpikes(ptr, cat_t, cat_i)


def ttfs_spikes(images: np.ndarray, window: float) -> InputSpikes:
    """Time-to-first-spike coding of images (B, n) in [0, 1]."""
    x = np.asarray(images, dtype=np.float64)
    on = x > 0
    ptr = np.zeros(x.shape[0] + 1, np.int64)
    ptr[1:] = np.cumsum(on.sum(axis=1))
    rows, cols = np.nonzero(on)  # row-major: grouped by sample
    return InputSpikes(ptr, window * (1.0 - x[rows, cols]), cols.astype(np.int64))


def rate_spikes(images: np.ndarray, ticks: int, window: float, k: float, seed: int, stream: int,
                first_index: int) -> InputSpikes:
    """The chip's front-loaded rate trains of images (B, n), sample b keyed by
    (seed, stream, first_index + b)."""
    from ...spikegen import PROFILE_FRONTLOADED, source_trains

    times, neuron = [], []
    dt = window / ticks
    for b, img in enumerate(np.asarray(images)):
        key = int(np.random.SeedSequence([seed, stream, first_index + b]).generate_state(1)[0]) & 0x7FFFFFFFFFFFFFFF
        train = source_trains(key, np.clip(k * np.asarray(img, np.float64), 0, 1), PROFILE_FRONTLOADED, ticks)
        t, j = np.nonzero(train)
        times.append(t * dt)
        neuron.append(j)
    return InputSpikes.from_lists(times, neuron)


def on_ticks(spikes: InputSpikes, ticks: int, dt: float, n_inputs: int) -> np.ndarray:
    """bool (ticks, samples, n_inputs): each spike at the nearest tick (tick k is time k dt), clipped
    to the last; two spikes of one input on one tick are one spike (a source fires once a tick)."""
    out = np.zeros((ticks, len(spikes), n_inputs), bool)
    k = np.clip(np.floor(spikes.times / dt + 0.5).astype(np.int64), 0, ticks - 1)
    sample = np.repeat(np.arange(len(spikes)), np.diff(spikes.ptr))
    out[k, sample, spikes.neuron] = True
    return out
