"""What a run records in its trace: populations, samples, ticks, probes and extras.

Loaded from the `[trace]` table of an experiment TOML file with `neurocore.config.build`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..config import spec
from ..errors import ConfigError

COMPRESSIONS = ("gzip", "lzf", "none")
TRAFFIC_MODES = ("off", "sum", "per_tick")


@dataclass(frozen=True)
class TraceSelection:
    """Which parts of a run go into the HDF5 trace.

    A sample is recorded when it passes every sample rule: it lies in [start, stop),
    (sample - start) is a multiple of `every`, and it is listed in `samples` unless that
    is "all". Events outside the `ticks` window [start, stop) of a sample are dropped.
    """

    enabled: bool = spec(False, doc="write a trace for this run")
    folder: str = spec("", doc="folder of trace files (created if missing); empty: the run folder "
                               "(traces/ for a run without one)")
    file: str = spec("", doc="file name inside folder; empty: trace.h5 in the run folder, else <run name>.h5")
    populations: list[str] = spec(factory=list, doc="populations whose spikes are recorded; empty: all")
    samples: str | list[int] = spec("all", doc='"all" or an explicit list of sample indices')
    every: int = spec(1, lo=1, doc="record every k-th sample, counted from start")
    start: int = spec(0, lo=0, doc="first sample recorded")
    stop: int | None = spec(None, lo=0, doc="samples from here on are not recorded; unset: no end")
    ticks: list[int] = spec(factory=list, doc="[start, stop) window of ticks within each sample; empty: all")
    membrane: dict = spec(factory=dict, doc="population -> neuron indices whose v and i are probed every tick")
    packets: bool = spec(False, doc="record every AER packet (tick, source core, destination core, address)")
    traffic: str = spec("sum", choices=TRAFFIC_MODES, doc="core-to-core packet counts: per sample, per tick, or none")
    snapshots: bool = spec(False, doc="record weight / device-state snapshots (e.g. every epoch)")
    chunk_events: int = spec(1 << 16, lo=16, hi=1 << 24, doc="events buffered per stream before a flush to disk")
    compression: str = spec("gzip", choices=COMPRESSIONS, doc="HDF5 compression filter of every dataset")
    background: bool = spec(True, doc="compress and write chunks on a background thread while the run goes on")
    compression_level: int = spec(1, lo=0, hi=9, doc="gzip level (1: fastest; 4 saves ~10 % space at 1.5x the time)")

    @cached_property
    def _sample_set(self) -> frozenset | None:
        return None if isinstance(self.samples, str) else frozenset(int(s) for s in self.samples)

    def validate(self) -> None:
        """Cross-field rules; `build` calls this after the per-field checks."""
        if isinstance(self.samples, str) and self.samples != "all":
            raise ConfigError(f'= {self.samples!r} is not allowed; must be "all" or a list of sample indices',
                              key="samples")
        if not isinstance(self.samples, str) and any(s < 0 for s in self.samples):
            raise ConfigError("sample indices must be >= 0", key="samples")
        if self.stop is not None and self.stop <= self.start:
            raise ConfigError(f"= {self.stop} must be greater than start ({self.start})", key="stop")
        if self.ticks:
            if len(self.ticks) != 2 or not 0 <= self.ticks[0] < self.ticks[1]:
                raise ConfigError(f"= {self.ticks!r} is not allowed; must be [start, stop] with 0 <= start < stop",
                                  key="ticks")
        for pop, neurons in self.membrane.items():
            key = f"membrane.{pop}"
            if not isinstance(neurons, (list, tuple)) or not neurons:
                raise ConfigError(f"expected a non-empty list of neuron indices, got {neurons!r}", key=key)
            if any(isinstance(n, bool) or not isinstance(n, int) or n < 0 for n in neurons):
                raise ConfigError(f"neuron indices must be integers >= 0, got {list(neurons)!r}", key=key)
            if len(set(neurons)) != len(neurons):
                raise ConfigError(f"neuron indices repeat in {list(neurons)!r}", key=key)
        if "/" in self.file:
            raise ConfigError(f"= {self.file!r}: give a file name; put the folder in 'folder'", key="file")

    def wants_sample(self, sample_index: int) -> bool:
        """True when this sample is recorded."""
        if sample_index < self.start or (self.stop is not None and sample_index >= self.stop):
            return False
        if (sample_index - self.start) % self.every:
            return False
        return self._sample_set is None or sample_index in self._sample_set

    def wants_population(self, name: str) -> bool:
        """True when this population's spikes are recorded."""
        return not self.populations or name in self.populations

    @property
    def tick_window(self) -> tuple[int, int | None]:
        """(first tick, stop tick or None) recorded within a sample."""
        return (self.ticks[0], self.ticks[1]) if self.ticks else (0, None)

    def trace_path(self, run_name: str) -> Path:
        """Where the trace of a run called `run_name` goes outside a run folder: folder (default traces/) /
        (file or <run_name>.h5). A training run puts it in its run folder (`neurocore.runs.trace_file`)."""
        return Path(self.folder or "traces") / (self.file or f"{run_name}.h5")
