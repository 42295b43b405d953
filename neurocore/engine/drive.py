"""What drives the chip's spike sources during a run: Bernoulli rates or explicit spike trains."""

from __future__ import annotations

from dataclasses import dataclass, field

import math

import numpy as np

from ..errors import ConfigError
from ..spikegen import PROFILES
from .compiled import Compiled
from .records import Inputs


@dataclass
class SourceDrive:
    """Per-sample spike probability per tick of every source neuron.

    `rates[pop]` is (samples, size); `profile[pop]` is "flat" (constant) or
    "frontloaded" (falling linearly over the sample, same mean). Missing sources stay silent.
    """

    rates: dict[str, np.ndarray]
    profile: dict[str, str] = field(default_factory=dict)

    @property
    def samples(self) -> int:
        return next(iter(self.rates.values())).shape[0] if self.rates else 0


@dataclass
class SpikeDrive:
    """Explicit input spikes: `spikes[pop]` is bool (samples, ticks, *shape of pop) (or (samples, ticks,
    size)); spike at [b, t, j] means source neuron j of sample b fires at tick t. Missing sources stay
    silent."""

    spikes: dict[str, np.ndarray]

    @property
    def samples(self) -> int:
        return next(iter(self.spikes.values())).shape[0] if self.spikes else 0


def drive_slice(drive: SourceDrive | SpikeDrive, b0: int, b1: int) -> SourceDrive | SpikeDrive:
    """The samples b0..b1-1 of a drive (views, no copies)."""
    if isinstance(drive, SpikeDrive):
        return SpikeDrive({p: a[b0:b1] for p, a in drive.spikes.items()})
    return SourceDrive({p: r[b0:b1] for p, r in drive.rates.items()}, drive.profile)


def _check_source(c: Compiled, pop: str, what: str) -> None:
    if pop not in c.src_offset:
        raise ConfigError(f"{what} for '{pop}': not a spike-source population; sources: "
                          f"{', '.join(c.src_offset) or 'none'}")


def inputs_for(c: Compiled, drive: SourceDrive | SpikeDrive, ticks: int, seed: int, sample_ids: np.ndarray,
               dropout: bool) -> Inputs:
    """The kernel's Inputs record of one run."""
    n_samples, n_src = len(sample_ids), len(c.neurons.src_gid)
    net = c.placement.netlist
    src_p = np.zeros((n_samples, n_src), np.float32)
    src_prof = np.zeros(n_src, np.int64)
    spk, spk_gid = np.zeros((0, 0), np.uint8), np.zeros(0, np.int64)
    if isinstance(drive, SpikeDrive):
        columns, gids = [], []
        for pop, spikes in drive.spikes.items():
            _check_source(c, pop, "spikes")
            p = net.populations[pop]
            a = np.asarray(spikes)
            if a.shape[:2] != (n_samples, ticks) or math.prod(a.shape[2:]) != p.size:
                raise ConfigError(f"spikes for '{pop}' have shape {a.shape}; expected ({n_samples}, {ticks}, "
                                  f"{', '.join(map(str, p.shape))}) (samples, ticks, neurons)")
            a = a.reshape(n_samples * ticks, p.size)
            columns.append(np.ascontiguousarray(a).view(np.uint8) if a.dtype == np.bool_ else (a != 0).view(np.uint8))
            o = c.src_offset[pop]
            gids.append(c.neurons.src_gid[o:o + p.size])
        if columns:
            spk = columns[0] if len(columns) == 1 else np.concatenate(columns, axis=1)
            spk_gid = gids[0] if len(gids) == 1 else np.concatenate(gids)  # int64, contiguous
    else:
        for pop, rates in drive.rates.items():
            _check_source(c, pop, "drive")
            size = net.populations[pop].size
            rates = np.asarray(rates, np.float32)
            if rates.shape != (n_samples, size):
                raise ConfigError(f"drive for '{pop}' has shape {rates.shape}, expected ({n_samples}, {size})")
            if rates.size and (rates.min() < 0 or rates.max() > 1):
                raise ConfigError(f"drive for '{pop}': spike probabilities must lie in [0, 1]")
            o = c.src_offset[pop]
            src_p[:, o:o + size] = rates
            prof = drive.profile.get(pop, "flat")
            if prof not in PROFILES:
                raise ConfigError(f"profile for '{pop}' = {prof!r}: must be one of {', '.join(PROFILES)}")
            src_prof[o:o + size] = PROFILES[prof]
    return Inputs(int(ticks), int(seed), np.asarray(sample_ids, np.int64), src_p, src_prof, bool(dropout),
                  isinstance(drive, SpikeDrive), spk, spk_gid)
