"""The hardware description: cores on a 2-D mesh, per-core limits, router, precision, costs.

Plain, validated data, loaded from `models/chips/*.toml`. Nothing here runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from .config import build, load_toml, spec
from .devices import DeviceSpec, ReadSpec
from .errors import ConfigError
from .resolve import folder, model_file

CHIPS_DIR = folder("chips")  # where named chips live (neurocore.resolve finds them)


@dataclass(frozen=True)
class Mesh:
    """Cores sit on a width x height grid; core id = y * width + x."""

    width: int = spec(doc="cores along x", lo=1)
    height: int = spec(doc="cores along y", lo=1)


@dataclass(frozen=True)
class CoreLimits:
    """What one core can hold. A mapping that breaks any of these is refused."""

    neurons: int = spec(doc="neuron compartments per core", lo=1)
    axons: int = spec(doc="input axons per core: distinct (projection, source neuron) pairs landing here", lo=1)
    crossbar_rows: int = spec(doc="rows of one crossbar array", lo=1)
    crossbar_cols: int = spec(doc="columns of one crossbar array", lo=1)
    routing_entries: int = spec(doc="outgoing routing-table entries: (local neuron, destination core) pairs", lo=1)
    crossbars: int = spec(1, doc="crossbar arrays per core; each crossbar tile of a projection takes one", lo=1)

    @property
    def neuron_cap(self) -> int:
        """Neurons one core can hold: its compartments, and no more than one crossbar has columns
        (every neuron of a core is a column of each crossbar feeding it)."""
        return min(self.neurons, self.crossbar_cols)


@dataclass(frozen=True)
class Precision:
    """Neuron state arithmetic: float32, or fixed point with the given bit widths."""

    state: str = spec("float32", choices=("float32", "fixed"), doc="neuron state number format")
    v_bits: int = spec(24, lo=2, hi=32, doc="fixed: membrane voltage width, bits including sign")
    i_bits: int = spec(24, lo=2, hi=32, doc="fixed: synaptic current width, bits including sign")
    frac_bits: int = spec(12, lo=0, hi=30, doc="fixed: fractional bits of v and i")
    static_weight_bits: int = spec(0, choices=(0, 16),
                                   doc="storage of crossbar tiles that do not learn: 0 = float32 (exact), 16 = "
                                       "16-bit fixed point with a power-of-two scale per tile (dyadic weights "
                                       "stay exact; Loihi stores 8-9 bit weights)")

    def validate(self) -> None:
        if self.state == "fixed" and self.frac_bits >= min(self.v_bits, self.i_bits):
            raise ConfigError("frac_bits must be smaller than v_bits and i_bits", key="frac_bits")


@dataclass(frozen=True)
class Router:
    """The AER mesh network: dimension-order routing between neighbouring cores."""

    hop_latency_ns: float = spec(2.0, lo=0.0, doc="router pipeline latency per hop")
    link_bandwidth: float = spec(1.0, lo=0.0, lo_open=True, doc="packets per nanosecond a link carries")
    tick_ns: float = spec(1000.0, lo=0.0, lo_open=True, doc="real-time deadline of one tick (barrier period)")


@dataclass(frozen=True)
class OpCosts:
    """Energy (pJ) and time (ns) of each operation; each chip file cites its sources."""

    syn_read_pj: float = spec(0.0, lo=0.0, doc="energy of one crosspoint read (synaptic event)")
    adc_pj: float = spec(0.0, lo=0.0, doc="energy of one column ADC conversion")
    neuron_update_pj: float = spec(0.0, lo=0.0, doc="energy of one neuron update (per neuron per tick)")
    spike_pj: float = spec(0.0, lo=0.0, doc="energy of generating one spike")
    packet_hop_pj: float = spec(0.0, lo=0.0, doc="energy of one packet crossing one router hop")
    write_pulse_pj: float = spec(0.0, lo=0.0, doc="energy of one device write pulse")
    syn_read_ns: float = spec(0.0, lo=0.0, doc="time of one crosspoint read (per core, serial)")
    neuron_update_ns: float = spec(0.0, lo=0.0, doc="time of one neuron update")
    spike_ns: float = spec(0.0, lo=0.0, doc="time to emit one spike")
    write_pulse_ns: float = spec(0.0, lo=0.0, doc="time of one write pulse")
    sources: dict = spec(factory=dict, doc="where each figure comes from: key -> citation")


@dataclass(frozen=True)
class Chip:
    """A whole chip. `device` and `read` describe the RPU crossbars every core carries."""

    name: str = spec(doc="chip name")
    mesh: Mesh = spec(doc="the 2-D mesh of cores")
    core: CoreLimits = spec(doc="per-core limits")
    precision: Precision = spec(factory=Precision, doc="neuron state precision")
    router: Router = spec(factory=Router, doc="mesh router")
    costs: OpCosts = spec(factory=OpCosts, doc="per-operation energy and time")
    device: DeviceSpec = spec(factory=DeviceSpec, doc="RPU device model of the crossbars")
    read: ReadSpec = spec(factory=ReadSpec, doc="crossbar read non-idealities")
    description: str = spec("", doc="free text")
    cores: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cores", self.mesh.width * self.mesh.height)

    def xy(self, core: int) -> tuple[int, int]:
        """Mesh coordinates of a core."""
        return core % self.mesh.width, core // self.mesh.width

    def hops(self, a: int, b: int) -> int:
        """Router hops between two cores under dimension-order routing (Manhattan distance)."""
        ax, ay = self.xy(a)
        bx, by = self.xy(b)
        return abs(ax - bx) + abs(ay - by)

    def hop_matrix(self) -> "np.ndarray":
        """(cores, cores) int64: router hops between every pair of cores."""
        import numpy as np

        x = np.arange(self.cores) % self.mesh.width
        y = np.arange(self.cores) // self.mesh.width
        return (np.abs(x[:, None] - x[None, :]) + np.abs(y[:, None] - y[None, :])).astype(np.int64)

    def with_overrides(self, **kw: Any) -> "Chip":
        """A copy with top-level fields replaced (e.g. mesh=Mesh(4, 4))."""
        return replace(self, **kw)


def chip_from_dict(data: Mapping[str, Any], source: str = "<python>") -> Chip:
    """Build and validate a Chip from a nested mapping (as read from TOML)."""
    return build(Chip, data, source)


def load_chip(name_or_path: str | Path, near: str | Path | None = None) -> Chip:
    """Load a chip by file path, or by name from `models/chips/` (e.g. "small", "loihi_like");
    a relative path that is not found from here is looked for in the folder `near`."""
    p = model_file("chips", name_or_path, near=near)
    return chip_from_dict(load_toml(p), str(p))
