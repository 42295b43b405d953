"""The hardware description: cores on a 2-D mesh, per-core limits, router, precision, costs.

Plain, validated data, loaded from `models/chips/*.toml`. Nothing here runs.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
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
    """Routers sit on a width x height grid, each serving a tile of `cores_per_tile` cores; core id =
    (y * width + x) * cores_per_tile + k. A packet between two cores of one tile crosses no hop."""

    width: int = spec(doc="tiles (routers) along x; with one core per tile, cores along x", lo=1)
    height: int = spec(doc="tiles (routers) along y", lo=1)
    cores_per_tile: int = spec(1, doc="cores sharing one router (Loihi: 4)", lo=1)

    MAX_CORES = 4096  # the engine keeps cores x cores traffic counters: 128 MB of them at this size

    def validate(self) -> None:
        n = self.width * self.height
        if n > self.MAX_CORES:
            key = "width" if self.width >= self.height else "height"
            raise ConfigError(f"= {getattr(self, key)}: a {self.width} x {self.height} mesh has {n} cores; at most "
                              f"{self.MAX_CORES} are simulated (the engine counts traffic per pair of cores)", key=key)


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
    """Neuron state arithmetic: float32, fixed point with the given bit widths, or Loihi's own
    integers (`arithmetic = "loihi"`: see neurocore.loihi)."""

    arithmetic: str = spec("float32", choices=("float32", "loihi"),
                           doc="'loihi': integer u and v in Loihi's update order, 8-bit weight mantissas with "
                               "an exponent per projection (neurocore.loihi; checked bit for bit against Lava)")
    state: str = spec("float32", choices=("float32", "fixed"), doc="neuron state number format")
    v_bits: int = spec(24, lo=2, hi=32, doc="fixed: membrane voltage width, bits including sign")
    i_bits: int = spec(24, lo=2, hi=32, doc="fixed: synaptic current width, bits including sign")
    frac_bits: int = spec(12, lo=0, hi=30, doc="fixed: fractional bits of v and i")
    static_weight_bits: int = spec(0, choices=(0, 16),
                                   doc="storage of crossbar tiles that do not learn: 0 = float32 (exact), 16 = "
                                       "16-bit fixed point with a power-of-two scale per tile (dyadic weights "
                                       "stay exact; Loihi stores 8-9 bit weights)")

    plastic_weight_bits: int = spec(0, choices=(0, 8),
                                    doc="weights of crossbars that learn: 0 = float32, 8 = Loihi's 8-bit synapses "
                                        "(a signed mantissa on a power-of-two grid spanning the device bounds; every "
                                        "write rounds back onto it)")
    plastic_rounding: str = spec("stochastic", choices=("stochastic", "nearest"),
                                 doc="8-bit plastic weights: how a write off the grid rounds (Loihi's learning "
                                     "engine rounds stochastically)")

    def validate(self) -> None:
        if self.arithmetic == "loihi" and self.state != "float32":
            raise ConfigError("arithmetic = 'loihi' fixes the state format itself (24-bit integers); leave state "
                              "at 'float32'", key="arithmetic")
        if self.state == "fixed" and self.frac_bits >= min(self.v_bits, self.i_bits):
            raise ConfigError("frac_bits must be smaller than v_bits and i_bits", key="frac_bits")


@dataclass(frozen=True)
class Router:
    """The AER mesh network: dimension-order routing between neighbouring cores."""

    hop_latency_ns: float = spec(2.0, lo=0.0, doc="router pipeline latency per hop")
    link_bandwidth: float = spec(1.0, lo=0.0, lo_open=True, doc="packets per nanosecond a link carries")
    tick_ns: float = spec(1000.0, lo=0.0, lo_open=True, doc="real-time deadline of one tick (barrier period)")


# what a cited figure is: fitted to measurements of silicon, measured on silicon, simulated before
# silicon (SPICE, SDF), or estimated (scaled, derived or assumed)
SOURCE_KINDS = ("fit to silicon", "measured", "pre-silicon simulation", "estimate")
BARRIER_NOTE = "[[tiles, ns], ...]: from each tile count on, the barrier takes ns"


def _check_sources(table: Any) -> None:
    """Every key of a cost table's `sources` and `source_kinds` must name one of its figures, and
    every kind be one of SOURCE_KINDS."""
    figures = [f.name for f in fields(table) if f.name not in ("sources", "source_kinds")
               and f.type in ("float", "int", "list", float, int, list)]
    for table_name in ("sources", "source_kinds"):
        for key in getattr(table, table_name, {}):
            if key not in figures:
                raise ConfigError(f"names no figure of this table; figures: {', '.join(figures)}",
                                  key=f"{table_name}.{key}")
    for key, kind in getattr(table, "source_kinds", {}).items():
        if kind not in SOURCE_KINDS:
            raise ConfigError(f"= {kind!r}; allowed: {', '.join(SOURCE_KINDS)}", key=f"source_kinds.{key}")


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
    neuron_active_pj: float = spec(0.0, lo=0.0, doc="energy an active neuron (state not at rest, input "
                                                      "arrived, or a bias) pays beyond neuron_update_pj")
    neuron_active_ns: float = spec(0.0, lo=0.0, doc="time an active neuron takes beyond neuron_update_ns")
    syn_sparse_pj: float = spec(0.0, lo=0.0, doc="energy of one synaptic event of a sparse projection "
                                                   "(0: as syn_read_pj, the dense figure)")
    syn_sparse_ns: float = spec(0.0, lo=0.0, doc="time of one sparse synaptic event (0: as syn_read_ns)")
    syn_conv_pj: float = spec(0.0, lo=0.0, doc="energy of one synaptic event of a convolution or pooling "
                                                 "(shared weights; 0: as syn_read_pj)")
    syn_conv_ns: float = spec(0.0, lo=0.0, doc="time of one convolution synaptic event (0: as syn_read_ns)")
    core_area_mm2: float = spec(0.0, lo=0.0, doc="silicon area of one digital core")
    sources: dict = spec(factory=dict, doc="where each figure comes from: figure -> citation")
    source_kinds: dict = spec(factory=dict, doc="what each cited figure is: figure -> one of SOURCE_KINDS")

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
    core_area_mm2: float = spec(0.0, lo=0.0, doc="silicon area of one analogue core (arrays, ADCs, neurons)")
    sources: dict = spec(factory=dict, doc="where each figure comes from: figure -> citation")
    source_kinds: dict = spec(factory=dict, doc="what each cited figure is: figure -> one of SOURCE_KINDS")

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

    spike_pj: float = spec(0.0, lo=0.0, doc="energy of emitting one spike from a core (spike out; input "
                                              "neurons pay it only when source_spikes_pay)")
    spike_ns: float = spec(0.0, lo=0.0, doc="time to emit one spike (serial within a core)")
    packet_hop_pj: float = spec(0.0, lo=0.0, doc="energy of one packet crossing one router hop (both "
                                                   "directions, unless hop_x_pj / hop_y_pj are given)")
    hop_x_pj: float = spec(0.0, lo=0.0, doc="energy of one east-west hop (0: packet_hop_pj)")
    hop_y_pj: float = spec(0.0, lo=0.0, doc="energy of one north-south hop (0: packet_hop_pj)")
    hop_x_ns: float = spec(0.0, lo=0.0, doc="latency of one east-west hop (0: router.hop_latency_ns)")
    hop_y_ns: float = spec(0.0, lo=0.0, doc="latency of one north-south hop (0: router.hop_latency_ns)")
    message_out_pj: float = spec(0.0, lo=0.0, doc="energy of sending one packet (one per destination core)")
    message_out_ns: float = spec(0.0, lo=0.0, doc="time the sending core spends per packet (neuron stage)")
    message_in_pj: float = spec(0.0, lo=0.0, doc="energy of receiving one packet")
    message_in_ns: float = spec(0.0, lo=0.0, doc="time the receiving core spends per packet (synapse stage)")
    source_spikes_pay: bool = spec(True, doc="input (source) neurons pay spike_pj / spike_ns (false: they are "
                                             "free, as SANA-FE's Loihi inputs; their packets still pay)")
    barrier_ns: list = spec(factory=list, doc=f"barrier synchronisation at the end of each tick, by tiles in use: "
                                              f"{BARRIER_NOTE} (empty: none)")
    timing: str = spec("serial", choices=("serial", "overlap"),
                       doc="a core's time per tick: 'serial' (every operation one after another) or 'overlap' "
                           "(SANA-FE's pipeline: max of the neuron stage - updates, spikes, packets sent - and "
                           "the synapse stage - packets received, synaptic events)")
    static_mw: float = spec(0.0, lo=0.0, doc="leakage power of the whole chip while it runs (mW)")
    chip_area_mm2: float = spec(0.0, lo=0.0, doc="silicon area of the whole chip")
    digital: DigitalCosts = spec(factory=DigitalCosts, doc="costs on digital cores")
    analog: AnalogCosts = spec(factory=AnalogCosts, doc="costs on analogue crossbar cores")
    sources: dict = spec(factory=dict, doc="where each figure comes from: figure -> citation")
    source_kinds: dict = spec(factory=dict, doc="what each cited figure is: figure -> one of SOURCE_KINDS")

    def validate(self) -> None:
        _check_sources(self)
        last = 0
        for k, step in enumerate(self.barrier_ns):
            ok = (isinstance(step, (list, tuple)) and len(step) == 2 and isinstance(step[0], int)
                  and isinstance(step[1], (int, float)) and step[0] > last and step[1] >= 0)
            if not ok:
                raise ConfigError(f"= {step!r}: expected {BARRIER_NOTE}, tile counts rising from 1",
                                  key=f"barrier_ns[{k}]")
            last = step[0]

    def barrier(self, tiles: int) -> float:
        """Barrier time (ns) of a tick on `tiles` tiles in use: the last step at or below it."""
        out = 0.0
        for n, ns in self.barrier_ns:
            if tiles >= n:
                out = float(ns)
        return out

    def priced(self) -> bool:
        """True when any figure is given (chips for functional tests may price nothing)."""
        tables = (self, self.digital, self.analog)
        return any(getattr(t, f.name) for t in tables for f in fields(t)
                   if f.name not in ("sources", "source_kinds", "timing", "source_spikes_pay")
                   and not is_dataclass(getattr(t, f.name)))


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
        n = self.mesh.width * self.mesh.height * self.mesh.cores_per_tile
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
                if not any(getattr(table, f.name) for f in fields(table)
                           if f.name not in ("sources", "source_kinds")):
                    raise ConfigError(f"the chip has {kind} cores but [costs.{kind}] gives none of their costs "
                                      f"(see models/chips/loihi_like.toml for digital, analog_rpu.toml for analog)",
                                      key=f"costs.{kind}")

    def kind_of(self, core: int) -> str:
        """'digital' or 'analog': what kind of core `core` is."""
        return self.kinds[core]

    def xy(self, core: int) -> tuple[int, int]:
        """Mesh coordinates of a core's tile (router)."""
        tile = core // self.mesh.cores_per_tile
        return tile % self.mesh.width, tile // self.mesh.width

    def hop_xy(self) -> "tuple[np.ndarray, np.ndarray]":
        """(cores, cores) int64 each: east-west and north-south hops between every pair of cores under
        dimension-order routing (cores of one tile are 0 hops apart)."""
        import numpy as np

        tile = np.arange(self.cores) // self.mesh.cores_per_tile
        x, y = tile % self.mesh.width, tile // self.mesh.width
        return (np.abs(x[:, None] - x[None, :]).astype(np.int64), np.abs(y[:, None] - y[None, :]).astype(np.int64))

    def hop_matrix(self) -> "np.ndarray":
        """(cores, cores) int64: router hops between every pair of cores under dimension-order routing
        (the Manhattan distance between their tiles on the mesh)."""
        dx, dy = self.hop_xy()
        return dx + dy

    def with_overrides(self, **kw: Any) -> "Chip":
        """A copy with top-level fields replaced (e.g. mesh=Mesh(4, 4))."""
        return replace(self, **kw)


# What a chip file must give, checked in one place (`missing_keys`) and reported all at once: without
# them a chip would price every operation at 0 or run to a deadline nobody chose. Write 0 to price
# an operation at nothing. The costs of a kind of core are required when the chip has such cores.
REQUIRED_KEYS = ("router.hop_latency_ns", "router.link_bandwidth", "router.tick_ns",
                 "costs.spike_pj", "costs.spike_ns", "costs.packet_hop_pj")
# a required key that another set of keys may stand in for: hops priced by direction need no mean price
ALTERNATIVES = {"costs.packet_hop_pj": ("costs.hop_x_pj", "costs.hop_y_pj")}
REQUIRED_BY_KIND = {
    "digital": tuple(f"costs.digital.{k}" for k in ("syn_read_pj", "syn_read_ns", "neuron_update_pj",
                                                    "neuron_update_ns", "write_pulse_pj", "write_pulse_ns")),
    "analog": tuple(f"costs.analog.{k}" for k in ("cell_read_pj", "row_read_ns", "adc_pj", "adc_ns",
                                                  "neuron_update_pj", "neuron_update_ns", "write_pulse_pj",
                                                  "write_cycle_ns")),
}


def _structural_keys(cls: type, prefix: str = "") -> list[str]:
    """Dotted keys of `cls` (and of its nested dataclass tables) that have no default."""
    import typing

    hints = typing.get_type_hints(cls)
    out = []
    for f in fields(cls):
        if not f.init or f.default is not MISSING or f.default_factory is not MISSING:
            continue
        key = f"{prefix}{f.name}"
        out += _structural_keys(hints[f.name], f"{key}.") if is_dataclass(hints[f.name]) else [key]
    return out


def missing_keys(data: Mapping[str, Any], file: bool = True) -> list[str]:
    """The required keys `data` (a chip table) lacks: those without a default, and for a chip file
    (`file`) also REQUIRED_KEYS and the costs of each kind of core it has."""
    def has(key: str) -> bool:
        node: Any = data
        for part in key.split("."):
            if not isinstance(node, Mapping):
                return True  # not a table: the type check says so
            if part not in node:
                return False
            node = node[part]
        return True

    required = _structural_keys(Chip)
    if file:
        core = data.get("core") if isinstance(data.get("core"), Mapping) else {}
        kinds = {core.get("kind", "digital")}
        extra = data.get("core_kinds") if isinstance(data.get("core_kinds"), Mapping) else {}
        kinds |= {k for k, ids in extra.items() if ids}
        required += list(REQUIRED_KEYS) + [k for kind in sorted(kinds) for k in REQUIRED_BY_KIND.get(kind, ())]
    return [k for k in required if not has(k) and not (k in ALTERNATIVES and all(map(has, ALTERNATIVES[k])))]


def _refuse_missing(missing: list[str], source: str) -> None:
    """One error naming every missing key, grouped by table."""
    if not missing:
        return
    tables: dict[str, list[str]] = {}
    for k in missing:
        table, _, name = k.rpartition(".")
        if k in ALTERNATIVES:
            name += " (or " + " and ".join(a.rpartition(".")[2] for a in ALTERNATIVES[k]) + ")"
        tables.setdefault(f"[{table}]" if table else "top level", []).append(name)
    listed = "; ".join(f"{t} {', '.join(names)}" for t, names in tables.items())
    priced = any(k.startswith("costs.") for k in missing)
    hint = (" (a chip file gives its router's figures and the price of every operation: write 0 to price one "
            "at nothing; see models/chips/loihi_like.toml)") if priced or any(k.startswith("router.") for k in missing) else ""
    if len(missing) == 1:
        raise ConfigError(f"required key is missing{hint}", source, missing[0])
    raise ConfigError(f"{len(missing)} required keys are missing: {listed}{hint}", source, None, keys=tuple(missing))


def chip_from_dict(data: Mapping[str, Any], source: str = "<python>", file: bool = False) -> Chip:
    """Build and validate a Chip from a nested mapping (as read from TOML). Every missing required key
    is reported at once; with `file` (a chip file, as `load_chip` reads) the router and the price of
    every operation are required too (REQUIRED_KEYS), so that nothing is silently priced at 0."""
    if isinstance(data, Mapping):
        _refuse_missing(missing_keys(data, file), source)
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


def load_chip(name_or_path: str | Path, near: str | Path | None = None,
              overrides: Mapping[str, Any] | None = None) -> Chip:
    """Load a chip by file path, or by name from `models/chips/` (e.g. "small", "loihi_like");
    a relative path that is not found from here is looked for in the folder `near`. `overrides`:
    dotted keys of the chip file ("core.neurons": 16), as `--set chip.core.neurons=16` gives them;
    an error in one names the override."""
    from .config import name_override, set_key

    p = model_file("chips", name_or_path, near=near)
    data = load_toml(p)
    if not overrides:
        return chip_from_dict(data, str(p), file=True)
    source = f"{p} (with overrides from --set)"  # keys relative to the chip: errors name chip.<key>
    try:
        for key, value in overrides.items():
            try:
                set_key(data, key, value)
            except ConfigError as exc:
                raise ConfigError(exc.message, source, key) from None
        return chip_from_dict(data, source, file=True)
    except ConfigError as exc:
        raise name_override(exc, {f"chip.{k}": v for k, v in overrides.items()}) from None
