"""The hardware description: cores on a 2-D mesh, per-core limits, router, precision, costs.

Plain, validated data, loaded from `models/chips/*.toml`. Nothing here runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Mapping

from .config import build, load_toml, spec
from .devices import DeviceSpec, ReadSpec, resolve_device
from .errors import ConfigError
from .resolve import folder, model_file

CHIPS_DIR = folder("chips")  # where named chips live (neurocore.resolve finds them)
CORE_KINDS = ("digital", "analog")


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
    kind: str = spec("digital", choices=CORE_KINDS,
                     doc="how the core's crossbars compute (and so what their operations cost): 'digital' "
                         "(Loihi-style SRAM synapses, one operation after another) or 'analog' (RPU arrays: "
                         "row-parallel reads through ADCs, parallel write cycles)")

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


def _check_sources(table: Any) -> None:
    """Every key of a cost table's `sources` must name one of its figures."""
    figures = [f.name for f in fields(table) if f.name != "sources" and f.type in ("float", "int", float, int)]
    for key in table.sources:
        if key not in figures:
            raise ConfigError(f"names no figure of this table; figures: {', '.join(figures)}",
                              key=f"sources.{key}")


@dataclass(frozen=True)
class DigitalCosts:
    """A Loihi-style digital core: the synapses sit in SRAM and the core handles one operation
    after another (each synaptic event, each neuron, each weight update in turn)."""

    syn_read_pj: float = spec(0.0, lo=0.0, doc="energy of one synaptic event (one synapse read and accumulated)")
    syn_read_ns: float = spec(0.0, lo=0.0, doc="time of one synaptic event (serial within a core)")
    neuron_update_pj: float = spec(0.0, lo=0.0, doc="energy of one neuron update (per neuron per tick)")
    neuron_update_ns: float = spec(0.0, lo=0.0, doc="time of one neuron update (serial within a core)")
    write_pulse_pj: float = spec(0.0, lo=0.0, doc="energy of one weight update step (one write pulse)")
    write_pulse_ns: float = spec(0.0, lo=0.0, doc="time of one weight update step (serial within a core)")
    sources: dict = spec(factory=dict, doc="where each figure comes from: figure -> citation")

    def validate(self) -> None:
        _check_sources(self)


@dataclass(frozen=True)
class AnalogCosts:
    """An analogue RPU crossbar core. In a tick in which any row of a tile is driven the tile is
    read once, row-parallel, and every one of its columns is converted by an ADC (a transposed read
    likewise converts every row); all of a tick's coincidence pulses on a tile land in one parallel
    write cycle. A core's tiles are read one after another; its neurons update in parallel."""

    cell_read_pj: float = spec(0.0, lo=0.0, doc="energy per driven crosspoint of a read (device current and "
                                                  "line charge; undriven rows draw nothing)")
    row_read_ns: float = spec(0.0, lo=0.0, doc="time of one row-parallel (or transposed) read of a tile, "
                                                 "before its conversions")
    adc_pj: float = spec(0.0, lo=0.0, doc="energy of one ADC conversion (one column of a read, one row of a "
                                            "transposed read)")
    adc_ns: float = spec(0.0, lo=0.0, doc="time of one ADC conversion")
    adcs_per_crossbar: int = spec(0, lo=0, doc="ADCs a crossbar's outputs share; a read of n outputs takes "
                                                "ceil(n / adcs) conversion times (0: one ADC per output line)")
    neuron_update_pj: float = spec(0.0, lo=0.0, doc="energy of one neuron update (per neuron per tick)")
    neuron_update_ns: float = spec(0.0, lo=0.0, doc="time to update all of a core's neurons (one circuit per "
                                                      "neuron, in parallel)")
    write_pulse_pj: float = spec(0.0, lo=0.0, doc="energy of one coincidence pulse on a device")
    write_cycle_ns: float = spec(0.0, lo=0.0, doc="time of one parallel write cycle of a tile (all of a tick's "
                                                    "pulses on it at once)")
    sources: dict = spec(factory=dict, doc="where each figure comes from: figure -> citation")

    def validate(self) -> None:
        _check_sources(self)


# figures of the old flat [costs] table and where they live now
_MOVED = {k: "digital" for k in ("syn_read_pj", "syn_read_ns", "neuron_update_pj", "neuron_update_ns",
                                 "write_pulse_pj", "write_pulse_ns")} | {"adc_pj": "analog"}


@dataclass(frozen=True)
class OpCosts:
    """Energy (pJ) and time (ns) of each operation. Spikes and packet hops cost the same on every
    core; synaptic reads, neuron updates and writes depend on the core's kind ([costs.digital],
    [costs.analog]). Each table's `sources` cites where its figures come from."""

    spike_pj: float = spec(0.0, lo=0.0, doc="energy of emitting one spike from a core")
    spike_ns: float = spec(0.0, lo=0.0, doc="time to emit one spike (serial within a core)")
    packet_hop_pj: float = spec(0.0, lo=0.0, doc="energy of one packet crossing one router hop")
    digital: DigitalCosts = spec(factory=DigitalCosts, doc="costs on digital cores")
    analog: AnalogCosts = spec(factory=AnalogCosts, doc="costs on analogue crossbar cores")
    sources: dict = spec(factory=dict, doc="where each figure comes from: figure -> citation")

    def validate(self) -> None:
        _check_sources(self)

    def priced(self) -> bool:
        """True when any figure is given (chips for functional tests may price nothing)."""
        tables = (self, self.digital, self.analog)
        return any(getattr(t, f.name) for t in tables for f in fields(t)
                   if f.name != "sources" and not is_dataclass(getattr(t, f.name)))


@dataclass(frozen=True)
class Chip:
    """A whole chip. `device` and `read` describe the RPU crossbars every core carries."""

    name: str = spec(doc="chip name")
    mesh: Mesh = spec(doc="the 2-D mesh of cores")
    core: CoreLimits = spec(doc="per-core limits")
    precision: Precision = spec(factory=Precision, doc="neuron state precision")
    router: Router = spec(factory=Router, doc="mesh router")
    costs: OpCosts = spec(factory=OpCosts, doc="per-operation energy and time")
    device: DeviceSpec = spec(factory=DeviceSpec, doc="RPU device model of the crossbars: a [device] table, or a "
                                                      "preset of models/devices/ by name (device = \"reram_es\")")
    read: ReadSpec = spec(factory=ReadSpec, doc="crossbar read non-idealities")
    core_kinds: dict = spec(factory=dict, doc="cores of another kind than [core] kind: kind -> list of core ids, "
                                              "e.g. analog = [0, 1]")
    description: str = spec("", doc="free text")
    cores: int = field(init=False, default=0)
    kinds: tuple = field(init=False, default=())  # the kind of every core, in core order

    def __post_init__(self) -> None:
        n = self.mesh.width * self.mesh.height
        object.__setattr__(self, "cores", n)
        kinds = [self.core.kind] * n
        for kind, ids in self.core_kinds.items():
            for c in ids if isinstance(ids, (list, tuple)) else ():
                if isinstance(c, int) and 0 <= c < n:
                    kinds[c] = kind
        object.__setattr__(self, "kinds", tuple(kinds))

    def validate(self) -> None:
        seen: set[int] = set()
        for kind, ids in self.core_kinds.items():
            key = f"core_kinds.{kind}"
            if kind not in CORE_KINDS:
                raise ConfigError(f"unknown core kind; kinds: {', '.join(CORE_KINDS)}", key=key)
            if not isinstance(ids, (list, tuple)) or not all(isinstance(c, int) and not isinstance(c, bool)
                                                             for c in ids):
                raise ConfigError(f"= {ids!r}: expected a list of core ids", key=key)
            bad = [c for c in ids if not 0 <= c < self.cores or c in seen]
            if bad:
                raise ConfigError(f"core {bad[0]} is outside the {self.cores} cores or listed twice", key=key)
            seen.update(ids)
        if self.costs.priced():
            for kind in sorted(set(self.kinds)):
                table = getattr(self.costs, kind)
                if not any(getattr(table, f.name) for f in fields(table) if f.name != "sources"):
                    raise ConfigError(f"the chip has {kind} cores but [costs.{kind}] gives none of their costs "
                                      f"(see models/chips/loihi_like.toml for digital, analog_rpu.toml for analog)",
                                      key=f"costs.{kind}")

    def kind_of(self, core: int) -> str:
        """'digital' or 'analog': what kind of core `core` is."""
        return self.kinds[core]

    def xy(self, core: int) -> tuple[int, int]:
        """Mesh coordinates of a core."""
        return core % self.mesh.width, core // self.mesh.width

    def hop_matrix(self) -> "np.ndarray":
        """(cores, cores) int64: router hops between every pair of cores under dimension-order routing
        (the Manhattan distance on the mesh)."""
        import numpy as np

        x = np.arange(self.cores) % self.mesh.width
        y = np.arange(self.cores) // self.mesh.width
        return (np.abs(x[:, None] - x[None, :]) + np.abs(y[:, None] - y[None, :])).astype(np.int64)

    def with_overrides(self, **kw: Any) -> "Chip":
        """A copy with top-level fields replaced (e.g. mesh=Mesh(4, 4))."""
        return replace(self, **kw)


def chip_from_dict(data: Mapping[str, Any], source: str = "<python>") -> Chip:
    """Build and validate a Chip from a nested mapping (as read from TOML)."""
    costs = data.get("costs") if isinstance(data, Mapping) else None
    if isinstance(costs, Mapping):
        moved = [k for k in costs if k in _MOVED]
        if moved:
            k = moved[0]
            raise ConfigError(f"moved to [costs.{_MOVED[k]}]: costs of synaptic reads, neuron updates, writes "
                              f"and ADCs depend on the core's kind ([core] kind)", source, f"costs.{k}")
    if isinstance(data, Mapping) and "device" in data:  # a preset by name (models/devices/)
        data = {**data, "device": resolve_device(data["device"], source)}
    return build(Chip, data, source)


def load_chip(name_or_path: str | Path, near: str | Path | None = None) -> Chip:
    """Load a chip by file path, or by name from `models/chips/` (e.g. "small", "loihi_like");
    a relative path that is not found from here is looked for in the folder `near`."""
    p = model_file("chips", name_or_path, near=near)
    return chip_from_dict(load_toml(p), str(p))
