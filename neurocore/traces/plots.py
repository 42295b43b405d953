"""Pictures of a trace: a spike raster of one sample, a core-to-core traffic heat map."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .reader import Trace


def raster(trace: Trace, population: str, sample: int, path: str | Path) -> Path:
    """Save a raster (tick against neuron, one mark per spike) of one population in one sample."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ticks, neurons = trace.spikes(population, sample)
    size = trace.populations[population]
    fig, ax = plt.subplots(figsize=(8, min(8.0, 2.5 + size / 40)), constrained_layout=True)
    ax.scatter(ticks, neurons, marker="|", s=max(4.0, min(60.0, 4000.0 / max(size, 1))), linewidths=0.8, color="k")
    ax.set_xlabel("tick")
    ax.set_ylabel(f"neuron of '{population}'")
    ax.set_ylim(-0.5, size - 0.5)
    last = int(ticks.max()) if len(ticks) else 0
    ax.set_xlim(-0.5, max(last, 1) + 0.5)
    ax.set_title(f"{population}, sample {sample}: {len(ticks)} spikes from {len(np.unique(neurons))} of {size} neurons")
    if size <= 20:
        ax.set_yticks(range(size))
    ax.grid(axis="x", alpha=0.3)
    from ..files import save_figure
    return save_figure(fig, path, "plot", dpi=120)


def traffic(trace: Trace, path: str | Path, sample: int | None = None, log: bool = False,
            all_cores: bool = False) -> Path:
    """Save a heat map of packets sent from each source core (rows) to each destination core (columns).

    Unless `all_cores`, the map stops at the highest-numbered core that sent or received a packet.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    m = trace.traffic(sample)
    total = m.shape[0]
    active = np.flatnonzero(m.any(axis=0) | m.any(axis=1))
    if not all_cores and len(active):
        m = m[:active[-1] + 1, :active[-1] + 1]
    n = m.shape[0]
    side = min(10.0, 4.0 + n / 8)
    fig, ax = plt.subplots(figsize=(side + 1.5, side), constrained_layout=True)
    norm = LogNorm(vmin=1, vmax=max(int(m.max()), 2)) if log else None
    shown = np.ma.masked_equal(m, 0) if log else m
    im = ax.imshow(shown, cmap="viridis", norm=norm, origin="upper", interpolation="nearest")
    cbar = fig.colorbar(im, ax=ax, shrink=0.85)
    cbar.set_label("packets" + (" (log scale, blank = 0)" if log else ""))
    ax.set_xlabel("destination core")
    ax.set_ylabel("source core")
    step = max(1, int(np.ceil(n / 16)))
    ax.set_xticks(range(0, n, step))
    ax.set_yticks(range(0, n, step))
    if n <= 12:
        for (r, c), value in np.ndenumerate(m):
            dark = (value > 0 or not log) and float(im.norm(value)) < 0.6  # light text on dark cells
            ax.text(c, r, str(value), ha="center", va="center", fontsize=9, color="white" if dark else "black")
    what = "all recorded samples" if sample is None else f"sample {sample}"
    ax.set_title(f"core-to-core traffic, {what}: {int(m.sum())} packets")
    if n < total:
        ax.set_xlabel(f"destination core (cores {n}..{total - 1} of {total} carry no packets, not shown)")
    from ..files import save_figure
    return save_figure(fig, path, "plot", dpi=120)
