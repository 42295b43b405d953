"""The netlist: populations, projections and probes, with no hardware in it.

Built from Python (:class:`Netlist` methods) or from a TOML file in `models/nets/`
(:func:`load_netlist`). A projection's weights are a dense pre x post matrix; a sparse
projection also carries a boolean mask of the synapses that exist (absent ones stay 0
and never learn). A *tied* projection has no weights of its own: it reads another
projection's crossbar transposed (columns -> rows), with a sign, as SSNN-BP's backward
pass does.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .config import ConfigError, build, load_toml, spec
from .connections import Connection, Conv2d, Pool2d, Scale
from .neurons import MODELS, CubaLIF, NeuronModel, model_name
from .resolve import folder, model_file

NETS_DIR = folder("nets")  # where named networks live (neurocore.resolve finds them)


#: the chip's native compartment (CUBA LIF); the name older code and files use
NeuronParams = CubaLIF


@dataclass(frozen=True)
class Population:
    """A group of neurons of one model (`neurocore.neurons`); `params=None` makes it an external
    spike source.

    `shape` is (size,) or, for maps, e.g. (channels, height, width); neurons are numbered in C
    order. `gate` names a population of the same size whose neuron k must have spiked in the
    current sample before neuron k here may emit (SSNN-BP's ReLU-derivative switch).
    `dropout` is the per-sample probability that a neuron is silenced (training only).
    """

    name: str
    size: int
    params: NeuronModel | None = None
    gate: str | None = None
    dropout: float = 0.0
    shape: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not self.shape:
            object.__setattr__(self, "shape", (self.size,))

    @property
    def is_source(self) -> bool:
        return self.params is None


@dataclass(frozen=True)
class Plasticity:
    """On-chip learning of a projection's crossbar: columns are pulsed up by spikes of
    population `up` and down by spikes of `down` (both sized like the post population);
    `step_scale` scales this crossbar's pulse amplitude (its device steps)."""

    up: str
    down: str
    step_scale: float = 1.0  # this crossbar's write pulses move weights by step_scale * dw_min


@dataclass
class Projection:
    """Synapses from `pre` to `post`, living in crossbars on the post neurons' cores."""

    name: str
    pre: str
    post: str
    weights: np.ndarray | None  # (pre, post) float32; None for a tied projection
    mask: np.ndarray | None = None  # (pre, post) bool: which synapses exist (sparse); None = dense
    delay: int = 1
    gain: float = 1.0
    plastic: Plasticity | None = None
    tied_to: str | None = None  # read this projection's crossbar transposed
    sign: float = 1.0
    conn: Connection | None = None  # a convolution, pooling or scale instead of a weight matrix
    pre_shape: tuple[int, ...] = ()
    weight_exp: int | None = None  # Loihi arithmetic: weights are Lava's integers, shifted by this (neurocore.loihi)
    _dense: tuple | None = field(default=None, repr=False)

    @property
    def is_tied(self) -> bool:
        return self.tied_to is not None

    @property
    def synapse_kind(self) -> str:
        """How a digital core stores its synapses (what a synaptic event costs): 'conv' (shared
        weights: convolution or pooling), 'sparse' (a mask) or 'dense'."""
        if self.conn is not None and self.kind in ("conv", "pool"):
            return "conv"
        return "sparse" if self.mask is not None else "dense"

    @property
    def kind(self) -> str:
        """dense, tied, conv, pool or scale."""
        if self.is_tied:
            return "tied"
        if self.conn is None:
            return "dense"
        return {Conv2d: "conv", Pool2d: "pool", Scale: "scale"}[type(self.conn)]

    def dense(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(weights, mask) as a (pre, post) matrix: the unrolled form of a convolution, pooling or
        scale (mask: which synapses exist), or the projection's own weights and mask."""
        if self.conn is None:
            return self.weights, self.mask
        if self._dense is None:
            w = self.conn.unrolled(self.pre_shape)
            ref = type(self.conn).unrolled(_unit(self.conn), self.pre_shape)  # existence, even of zero weights
            self._dense = (w, ref != 0)
        return self._dense


def _unit(conn: Connection) -> Connection:
    """The same connection with every weight 1: its nonzeros are the synapses that exist."""
    if isinstance(conn, Conv2d):
        return Conv2d(np.ones_like(conn.weight), conn.stride, conn.padding, conn.dilation, conn.groups)
    if isinstance(conn, Scale):
        return Scale(np.ones_like(conn.factor))
    return conn


@dataclass(frozen=True)
class Probe:
    """Record membrane voltage and current of chosen neurons (spikes are always counted)."""

    population: str
    neurons: tuple[int, ...]


@dataclass
class Netlist:
    """A graph of populations and projections; validated on every change."""

    name: str = "net"
    populations: dict[str, Population] = field(default_factory=dict)
    projections: dict[str, Projection] = field(default_factory=dict)
    probes: list[Probe] = field(default_factory=list)

    # -- building ---------------------------------------------------------------------
    def add_source(self, name: str, size: int | tuple[int, ...], dropout: float = 0.0) -> Population:
        """An external spike-source population (input spikes come from the host); `size` may be a
        shape such as (2, 34, 34) for an event camera's polarity frames."""
        n, shape = _check_shape(name, size)
        return self._add(Population(name, n, None, None, _check_p(name, dropout), shape))

    def add_population(self, name: str, size: int | tuple[int, ...], params: NeuronModel | Mapping | None = None,
                       gate: str | None = None, dropout: float = 0.0) -> Population:
        """A population of neurons of one model (`neurocore.neurons`: CubaLIF by default); `params` a model
        instance or a mapping of CubaLIF's fields (with an optional `model` key naming another model)."""
        n, shape = _check_shape(name, size)
        if params is None:
            params = CubaLIF()
        elif isinstance(params, Mapping):
            params = dict(params)
            kind = params.pop("model", "cuba_lif")
            if kind not in MODELS:
                raise ConfigError(f"= {kind!r} is not allowed; must be one of {', '.join(map(repr, MODELS))}",
                                  key=f"population.{name}.model")
            params = build(MODELS[kind], params, prefix=f"population.{name}")
        elif type(params) not in MODELS.values():
            raise ConfigError(f"params of '{name}' must be a neuron model of neurocore.neurons, got "
                              f"{type(params).__name__}", key=f"population.{name}")
        try:
            params.validate()
        except ConfigError as exc:
            raise ConfigError(str(exc).split(": ", 1)[-1], key=f"population.{name}.{exc.key}") from None
        bad = [k for k in params.sizes() if k not in (1, n)]
        if bad:
            raise ConfigError(f"a per-neuron parameter has {bad[0]} values for {n} neurons",
                              key=f"population.{name}")
        if gate is not None:
            g = self._pop(gate, f"gate of population '{name}'")
            if g.size != size:
                raise ConfigError(f"gate population '{gate}' has {g.size} neurons, '{name}' has {size}; "
                                  "they must match", key=f"population.{name}.gate")
        return self._add(Population(name, n, params, gate, _check_p(name, dropout), shape))

    def connect(self, name: str, pre: str, post: str, weights: Any, *, mask: Any = None,
                delay: int = 1, gain: float = 1.0, plastic: Plasticity | None = None,
                weight_exp: int | None = None) -> Projection:
        """A projection with a dense (pre, post) weight matrix (sparse via `mask`), or a
        `neurocore.connections` Conv2d, Pool2d or Scale between shaped populations. `weight_exp`
        (chips in Loihi arithmetic): the weights are Lava's integer weights with this exponent."""
        a, b = self._pop(pre, f"pre of '{name}'"), self._pop(post, f"post of '{name}'")
        if b.is_source:
            raise ConfigError(f"'{post}' is a spike source and cannot receive synapses",
                              key=f"projection.{name}.post")
        if isinstance(weights, (Conv2d, Pool2d, Scale)):
            return self._connect_map(name, a, b, weights, delay, gain, plastic)
        w = np.asarray(weights, dtype=np.float32)
        if w.shape != (a.size, b.size):
            raise ConfigError(f"weights have shape {w.shape}, expected (pre, post) = ({a.size}, {b.size})",
                              key=f"projection.{name}.weights")
        if not np.all(np.isfinite(w)):
            raise ConfigError("weights contain NaN or infinity", key=f"projection.{name}.weights")
        m = None
        if mask is not None:
            m = np.asarray(mask, dtype=bool)
            if m.shape != w.shape:
                raise ConfigError(f"mask has shape {m.shape}, expected {w.shape}", key=f"projection.{name}.mask")
            w = np.where(m, w, np.float32(0))
        if plastic is not None:
            for role, pop in (("up", plastic.up), ("down", plastic.down)):
                p = self._pop(pop, f"plasticity {role} of '{name}'")
                if p.size != b.size:
                    raise ConfigError(f"plasticity {role} population '{pop}' has {p.size} neurons, "
                                      f"post '{post}' has {b.size}", key=f"projection.{name}.plastic")
        proj = Projection(name, pre, post, np.ascontiguousarray(w), m, _check_delay(name, delay),
                          float(gain), plastic)
        if weight_exp is not None:
            from .loihi import check_weight_exp
            proj.weight_exp = check_weight_exp(weight_exp, f"projection.{name}.weight_exp")
        return self._add_proj(proj)

    def _connect_map(self, name: str, a: Population, b: Population, conn: Connection, delay: int, gain: float,
                     plastic: Plasticity | None) -> Projection:
        if plastic is not None:
            raise ConfigError("only dense projections can be plastic", key=f"projection.{name}.plastic")
        try:
            out = conn.out_shape(a.shape)
        except ConfigError as exc:
            raise ConfigError(f"{type(conn).__name__} from '{a.name}' {a.shape}: " + str(exc).split(": ", 2)[-1],
                              key=f"projection.{name}") from None
        if int(np.prod(out)) != b.size or (len(b.shape) > 1 and tuple(b.shape) != tuple(out)):
            raise ConfigError(f"{type(conn).__name__} of '{a.name}' {a.shape} gives shape {tuple(out)}, but "
                              f"'{b.name}' has shape {b.shape}", key=f"projection.{name}")
        return self._add_proj(Projection(name, a.name, b.name, None, None, _check_delay(name, delay), float(gain),
                                         None, conn=conn, pre_shape=tuple(a.shape)))

    def connect_transposed(self, name: str, of: str, pre: str, post: str, sign: float = 1.0,
                           delay: int = 1) -> Projection:
        """Drive `post` from `pre` through projection `of`'s crossbar read transposed.

        `pre` must be sized like `of`'s post (it drives the columns), `post` like its pre.
        """
        base = self.projections.get(of)
        if base is None or base.is_tied:
            raise ConfigError(f"'{of}' is not a weight-carrying projection", key=f"projection.{name}.tied_to")
        a, b = self._pop(pre, f"pre of '{name}'"), self._pop(post, f"post of '{name}'")
        if a.size != self.populations[base.post].size or b.size != self.populations[base.pre].size:
            raise ConfigError(f"transposed read of '{of}' needs pre of size {self.populations[base.post].size} "
                              f"and post of size {self.populations[base.pre].size}", key=f"projection.{name}")
        if b.is_source:
            raise ConfigError(f"'{post}' is a spike source and cannot receive synapses", key=f"projection.{name}")
        return self._add_proj(Projection(name, pre, post, None, None, _check_delay(name, delay), 1.0, None,
                                         of, float(sign)))

    def add_probe(self, population: str, neurons: Any) -> Probe:
        """Record v and i of the given neuron indices of a population."""
        p = self._pop(population, "probe")
        idx = tuple(int(n) for n in np.atleast_1d(neurons))
        bad = [n for n in idx if not 0 <= n < p.size]
        if bad:
            raise ConfigError(f"probe neuron {bad[0]} out of range [0, {p.size})", key=f"probe.{population}")
        probe = Probe(population, idx)
        self.probes.append(probe)
        return probe

    # -- queries ----------------------------------------------------------------------
    def incoming(self, post: str) -> list[Projection]:
        """Weight-carrying projections whose synapses sit with `post`'s neurons."""
        return [p for p in self.projections.values() if p.post == post and not p.is_tied]

    def weights_of(self, proj: Projection) -> np.ndarray:
        """The (pre, post) weights `proj` applies, transposed and signed for a tied one."""
        if proj.is_tied:
            base = self.projections[proj.tied_to]
            return (base.weights.T * np.float32(proj.sign * base.gain)).astype(np.float32)
        return proj.dense()[0] * np.float32(proj.gain)

    @property
    def n_neurons(self) -> int:
        return sum(p.size for p in self.populations.values())

    # -- internals --------------------------------------------------------------------
    def _pop(self, name: str, what: str) -> Population:
        try:
            return self.populations[name]
        except KeyError:
            known = ", ".join(self.populations) or "none yet"
            raise ConfigError(f"{what}: unknown population '{name}'; known: {known}") from None

    def _add(self, pop: Population) -> Population:
        if pop.name in self.populations:
            raise ConfigError(f"population '{pop.name}' defined twice", key=f"population.{pop.name}")
        self.populations[pop.name] = pop
        return pop

    def _add_proj(self, proj: Projection) -> Projection:
        if proj.name in self.projections:
            raise ConfigError(f"projection '{proj.name}' defined twice", key=f"projection.{proj.name}")
        self.projections[proj.name] = proj
        return proj


def _check_size(name: str, size: Any) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ConfigError(f"size = {size!r}: must be an integer >= 1", key=f"population.{name}.size")
    return int(size)


def _check_shape(name: str, size: Any) -> tuple[int, tuple[int, ...]]:
    """(neurons, shape) from a size or a shape tuple."""
    if isinstance(size, (tuple, list)):
        dims = tuple(_check_size(name, d) for d in size)
        if not dims:
            raise ConfigError("shape = (): must have at least one dimension", key=f"population.{name}.size")
        return int(np.prod(dims)), dims
    n = _check_size(name, size)
    return n, (n,)


def _check_p(name: str, p: float) -> float:
    if not 0.0 <= float(p) < 1.0:
        raise ConfigError(f"dropout = {p!r}: must be in [0, 1)", key=f"population.{name}.dropout")
    return float(p)


def _check_delay(name: str, delay: Any) -> int:
    if isinstance(delay, bool) or not isinstance(delay, (int, np.integer)) or not 1 <= delay <= 64:
        raise ConfigError(f"delay = {delay!r}: must be an integer tick count in [1, 64]",
                          key=f"projection.{name}.delay")
    return int(delay)


# -- TOML --------------------------------------------------------------------------------

@dataclass(frozen=True)
class _PopEntry:
    name: str = spec(doc="population name")
    size: int = spec(doc="number of neurons", lo=1)
    kind: str = spec("if", choices=("if", "source"), doc="neurons or an external spike source")
    model: str = spec("cuba_lif", choices=tuple(MODELS), doc="neuron model (neurocore.neurons)")
    rate: float = spec(0.1, lo=0.0, hi=1.0, doc="source: Bernoulli spike probability per tick for `run`")
    dropout: float = spec(0.0, lo=0.0, hi=0.99, doc="per-sample dropout probability")


@dataclass(frozen=True)
class _ProjEntry:
    name: str = spec(doc="projection name")
    pre: str = spec(doc="source population")
    post: str = spec(doc="target population (same as pre for a lateral projection)")
    init: str = spec("normal", choices=("normal", "uniform", "constant", "explicit"),
                     doc="how weights are drawn")
    mean: float = spec(0.0, doc="normal: mean; constant: the value")
    std: float = spec(-1.0, doc="normal: std; < 0 means He, sqrt(2 / fan_in)")
    low: float = spec(0.0, doc="uniform: low bound")
    high: float = spec(1.0, doc="uniform: high bound")
    weights: list[list[float]] = spec(factory=list, doc="explicit: a pre x post list of lists")
    p_connect: float = spec(1.0, lo=0.0, hi=1.0, lo_open=True, doc="probability a synapse exists (< 1: sparse)")
    no_self: bool = spec(False, doc="lateral: no synapse from a neuron onto itself")
    delay: int = spec(1, lo=1, hi=64, doc="axon delay in ticks")
    gain: float = spec(1.0, doc="crossbar read gain: synaptic weight = gain * device weight")
    weight_exp: int | None = spec(None, lo=-8, hi=7, doc="chips in Loihi arithmetic: the weights are Lava's integer "
                                                          "weights shifted by this exponent (unset: the chip "
                                                          "quantises them; neurocore.loihi)")

    def validate(self) -> None:
        if self.init == "uniform" and self.high < self.low:
            raise ConfigError(f"uniform: high = {self.high} is below low = {self.low}", key="high")


@dataclass(frozen=True)
class _ProbeEntry:
    population: str = spec(doc="population to probe")
    neurons: list[int] = spec(factory=list, doc="neuron indices to record v and i of")


@dataclass(frozen=True)
class _NetFile:
    name: str = spec("net", doc="network name")
    seed: int = spec(0, lo=0, doc="seed for weight initialisation")
    ticks: int = spec(100, lo=1, doc="ticks per sample for `run`")
    samples: int = spec(1, lo=1, doc="samples for `run`")
    chip: str = spec("small", doc="chip name or file for `run` and `map`")
    population: list = spec(factory=list, doc="[[population]] tables")
    projection: list = spec(factory=list, doc="[[projection]] tables")
    probe: list = spec(factory=list, doc="[[probe]] tables")


@dataclass
class NetFile:
    """A network file: the netlist plus the run settings stored with it."""

    netlist: Netlist
    seed: int
    ticks: int
    samples: int
    chip: str
    source_rates: dict[str, float]
    path: str


def netlist_from_dict(data: Mapping[str, Any], source: str = "<python>") -> NetFile:
    """Build a network from a mapping laid out like a `models/nets/*.toml` file."""
    f = build(_NetFile, data, source)
    rng = np.random.default_rng(f.seed)
    net = Netlist(f.name)
    rates: dict[str, float] = {}
    for k, raw in enumerate(f.population):
        if not isinstance(raw, Mapping):
            raise ConfigError(f"expected a table, got {raw!r}", source, f"population[{k}]")
        # a [[population]] table holds the entry's own keys plus its neuron model's fields, flat
        kind = raw.get("model", "cuba_lif")
        model = MODELS.get(kind) if isinstance(kind, str) else None
        if model is None:
            raise ConfigError(f"= {kind!r} is not allowed; must be one of {', '.join(map(repr, MODELS))}", source,
                              f"population[{k}].model")
        neuron_keys = {fl.name for fl in dataclasses.fields(model)}
        allowed = neuron_keys | {fl.name for fl in dataclasses.fields(_PopEntry)}
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise ConfigError(f"unknown key; allowed keys here: {', '.join(sorted(allowed))}", source,
                              f"population[{k}].{unknown[0]}")
        entry = build(_PopEntry, {key: v for key, v in raw.items() if key not in neuron_keys}, source,
                      f"population[{k}]")
        params = build(model, {key: v for key, v in raw.items() if key in neuron_keys}, source,
                       f"population[{k}]")
        e = entry
        try:
            if e.kind == "source":
                net.add_source(e.name, e.size, e.dropout)
                rates[e.name] = e.rate
            else:
                net.add_population(e.name, e.size, params, dropout=e.dropout)
        except ConfigError as exc:
            raise ConfigError(str(exc).split(": ", 1)[-1], source, f"population[{k}]") from None
    for k, raw in enumerate(f.projection):
        e = build(_ProjEntry, raw, source, f"projection[{k}]")
        try:
            pre = net._pop(e.pre, f"projection '{e.name}' pre")
            post = net._pop(e.post, f"projection '{e.name}' post")
            w = _draw_weights(e, pre.size, post.size, rng)
            mask = None
            if e.p_connect < 1.0 or e.no_self:
                mask = rng.random((pre.size, post.size)) < e.p_connect
                if e.no_self and e.pre == e.post:
                    np.fill_diagonal(mask, False)
            net.connect(e.name, e.pre, e.post, w, mask=mask, delay=e.delay, gain=e.gain, weight_exp=e.weight_exp)
        except ConfigError as exc:
            raise ConfigError(str(exc).split(": ", 1)[-1], source, f"projection[{k}]") from None
    for k, raw in enumerate(f.probe):
        e = build(_ProbeEntry, raw, source, f"probe[{k}]")
        try:
            net.add_probe(e.population, e.neurons)
        except ConfigError as exc:
            raise ConfigError(str(exc).split(": ", 1)[-1], source, f"probe[{k}]") from None
    return NetFile(net, f.seed, f.ticks, f.samples, f.chip, rates, source)


def _draw_weights(e: _ProjEntry, n_pre: int, n_post: int, rng: np.random.Generator) -> np.ndarray:
    shape = (n_pre, n_post)
    if e.init == "explicit":
        lengths = sorted({len(row) for row in e.weights})
        if len(lengths) > 1:
            raise ConfigError(f"explicit weights have rows of different lengths {lengths}, expected "
                              f"{n_pre} rows of {n_post}")
        w = np.asarray(e.weights, dtype=np.float32)
        if w.shape != shape:
            raise ConfigError(f"explicit weights have shape {w.shape}, expected (pre, post) = {shape}")
        return w
    if e.init == "constant":
        return np.full(shape, e.mean, np.float32)
    if e.init == "uniform":
        return rng.uniform(e.low, e.high, shape).astype(np.float32)
    std = np.sqrt(2.0 / n_pre) if e.std < 0 else e.std
    return rng.normal(e.mean, std, shape).astype(np.float32)


def load_netlist(name_or_path: str | Path, overrides: Mapping[str, Any] | None = None) -> NetFile:
    """Load a network by path or by name from `models/nets/`, applying dotted overrides of its keys
    (`ticks`, `population[1].theta`, ...); an error in one names the override."""
    from .config import name_override, set_key

    p = model_file("nets", name_or_path)
    data = load_toml(p)
    overrides = dict(overrides or {})
    try:
        for key, value in overrides.items():
            m = re.fullmatch(r"(population|projection|probe)\[(\d+)\]\.(.+)", key)
            if m:  # an entry of an array of tables
                entries = data.get(m[1])
                if not isinstance(entries, list) or int(m[2]) >= len(entries):
                    raise ConfigError(f"no such entry; the file has {len(entries or [])} [[{m[1]}]] tables",
                                      str(p), key)
                set_key(entries[int(m[2])], m[3], value)
            else:
                set_key(data, key, value)
        return netlist_from_dict(data, str(p))
    except ConfigError as exc:
        raise name_override(exc, overrides) from None
