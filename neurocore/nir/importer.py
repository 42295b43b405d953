"""NIR graph -> netlist: neuron nodes become populations, chains of operator nodes between them
fold into projections, Input nodes become spike sources.

The conventions (timing, thresholds, resets, biases) are documented in `neurocore.nir`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path
from typing import Any

import numpy as np

from .. import neurons as nm
from ..connections import Conv2d, Pool2d
from ..errors import ConfigError
from ..netlist import Netlist
from . import maps as M
from .graph import flatten, read_graph
from .writers import MULTI_SPIKE_CAP, WRITERS, Writer, from_metadata, rockpool_dt, writer_named

RESETS = ("nir", "subtract", "snntorch-subtract", "snntorch-zero")
BIASES = ("neuron", "source")
TIMINGS = ("synchronous", "per-edge")
NEURON_TYPES = ("LIF", "CubaLIF", "IF", "LI", "CubaLI", "I", "Threshold")
NON_SPIKING = ("LI", "CubaLI", "I")
OP_TYPES = ("Affine", "Linear", "Scale", "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d", "Delay", "Flatten",
            "Identity")
SUPPORTED = ("Input", "Output", *NEURON_TYPES, *OP_TYPES, "NIRGraph")
#: what to do about a graph without dt: name its writer (whose conventions set dt), or give dt
EXPORTER_DT = (f"give --dt, or name the library that wrote it with --from "
               f"{'|'.join(k for k, w in WRITERS.items() if k != 'nir' and not w.refuse)}, "
               "which sets dt and the rest of its conventions")


@dataclass
class Imported:
    """A NIR graph as a netlist, with what is needed to drive and read it.

    `depth[pop]` is how many ticks the chip's population runs behind the graph's input:
    the chip's spikes of `pop` at tick t + depth[pop] are the reference's at step t.
    """

    netlist: Netlist
    inputs: dict[str, str]  # NIR input node -> source population
    outputs: dict[str, str]  # NIR output node -> population read out
    depth: dict[str, int]
    dt: float
    discretisation: str
    reset: str
    timing: str
    notes: list[str] = field(default_factory=list)
    bias_source: str | None = None  # with bias="source": the source that must fire every tick
    spikes: str = "step"  # what an input spike is (neurocore.neurons.SPIKE_INPUTS)
    writer: str = "nir"  # whose conventions the graph was read with (neurocore.nir.writers)

    @property
    def latency(self) -> int:
        """Ticks from the input to the deepest output (how long to run past the last input spike)."""
        return max((self.depth[p] for p in self.outputs.values()), default=0)


@dataclass
class _Ctx:
    source: str
    dt: float
    method: str
    reset: str
    bias: str
    spikes: str
    nodes: dict[str, Any]
    preds: dict[str, list[str]]
    shape: dict[str, tuple[int, ...]] = field(default_factory=dict)
    in_shape: dict[str, tuple[int, ...]] = field(default_factory=dict)
    writer: Writer = WRITERS["nir"]
    multi: list = field(default_factory=list)  # populations that may spike several times a tick

    def fail(self, name: str, msg: str) -> ConfigError:
        return ConfigError(f"node '{name}' ({type(self.nodes[name]).__name__}): {msg}", source=self.source)


def from_nir(graph_or_path: Any, dt: float | None = None, discretisation: str | None = None,
             reset: str | None = None, bias: str | None = None, require_dt: bool = True, spikes: str | None = None,
             writer: str | None = None) -> Imported:
    """Import a NIR graph (an in-memory nir.NIRGraph or a file path) as a netlist.

    dt (seconds per tick) and the discretisation ("exact" zero-order hold, or "euler") default to
    what the graph's metadata records (neurocore's exports do), and so does what an input spike is
    (`spikes`: "step", held over its tick, the default; or "dirac"; metadata "spikes"); `reset` chooses how spiking nodes
    reset (see `neurocore.nir`). bias="neuron" puts the biases of operator chains on the neurons;
    "source" feeds them from a source neuron firing every tick, delayed to each population's depth,
    so that they start when the reference's step 0 reaches it. With require_dt=False a graph without dt imports with dt = 1 (its
    mapping does not depend on dt unless it has Delay nodes). `writer` (one of neurocore.nir.writers.WRITERS: "snntorch",
    "norse", "sinabs", "rockpool", "spyx", or "nir", NIR's own definitions) reads the graph as that library simulates
    it, defaulting to the writer the graph's metadata names; arguments given explicitly win over its conventions."""
    import nir

    if isinstance(graph_or_path, (str, Path)):
        source = str(graph_or_path)
        graph = read_graph(graph_or_path)
    elif isinstance(graph_or_path, nir.NIRGraph):
        source, graph = "<NIR graph>", graph_or_path
    else:
        raise ConfigError(f"expected a NIR file or a nir.NIRGraph, got {type(graph_or_path).__name__}")
    meta = graph.metadata if isinstance(graph.metadata, dict) else {}
    notes: list[str] = []
    named = from_metadata(meta)
    if writer is None and named is not None:
        notes.append(f"read with {named}'s conventions: the graph's metadata names it as its writer")
    w = writer_named(writer or named or "nir", source)
    reset = reset or w.reset
    bias = bias or w.bias
    if reset not in RESETS:
        raise ConfigError(f"= {reset!r} is not allowed; must be one of {', '.join(RESETS)}", key="reset")
    if bias not in BIASES:
        raise ConfigError(f"= {bias!r} is not allowed; must be one of {', '.join(BIASES)}", key="bias")
    dt_given = dt is not None
    if dt is None and "dt" in meta:
        dt = float(meta["dt"])
    method = discretisation or str(meta.get("discretisation", w.discretisation))
    if method not in nm.DISCRETISATIONS:
        raise ConfigError(f"= {method!r} is not allowed; must be 'exact' or 'euler'", key="discretisation")
    spikes = spikes or str(meta.get("spikes", w.spikes))
    if spikes not in nm.SPIKE_INPUTS:
        raise ConfigError(f"= {spikes!r} is not allowed; must be one of {', '.join(nm.SPIKE_INPUTS)}"
                          + ("" if "spikes" not in meta else " (graph metadata 'spikes')"), key="spikes")
    timing = str(meta.get("timing", "synchronous"))
    if timing not in TIMINGS:
        raise ConfigError(f"graph metadata timing = {timing!r}: must be one of {', '.join(TIMINGS)}", source=source)
    nodes, edges = flatten(graph, source)
    if dt is None and w.dt_from_r:
        cuba = [n for n in nodes.values() if type(n).__name__ in ("CubaLIF", "LIF")]
        if cuba:
            dt = rockpool_dt(np.concatenate([np.ravel(getattr(n, "tau_mem", getattr(n, "tau", None))) for n in cuba]),
                             np.concatenate([np.ravel(n.r) for n in cuba]))
            notes.append(f"dt = {dt:.6g} s, solved from {w.name}'s r = tau exp(-dt/tau) / dt")
    if dt is None and w.dt is not None:
        dt = w.dt
        notes.append(f"dt = {dt:g} s, {method}: {w.name}'s conventions")
    if dt is None:
        if require_dt or any(type(n).__name__ == "Delay" for n in nodes.values()):
            raise ConfigError(f"the graph does not record its time step (NIR stores continuous time): {EXPORTER_DT}",
                              source=source, key="dt")
        dt = 1.0
    if not (isinstance(dt, (int, float)) and dt > 0 and np.isfinite(dt)):
        raise ConfigError(f"= {dt!r} must be a positive number of seconds", key="dt")
    if not dt_given and "dt" in meta:
        notes.append(f"dt = {dt:g} s, as the graph's metadata records")
    return _Builder(nodes, edges, _Ctx(source, float(dt), method, reset, bias, spikes, nodes, {}, writer=w), timing,
                    notes).build(
        meta.get("name", Path(source).stem if source != "<NIR graph>" else "nir"))


class _Builder:
    def __init__(self, nodes: dict, edges: list, ctx: _Ctx, timing: str, notes: list[str]):
        self.nodes, self.ctx, self.timing, self.notes = nodes, ctx, timing, notes
        for name, node in nodes.items():
            kind = type(node).__name__
            if kind not in SUPPORTED:
                raise ctx.fail(name, f"not supported (supported node types: {', '.join(SUPPORTED)})")
            for attr in ("weight", "bias"):  # a diverged export would run, silently, to all-zero outputs
                a = getattr(node, attr, None)
                if isinstance(a, np.ndarray) and a.dtype.kind in "fc" and not np.isfinite(a).all():
                    raise ctx.fail(name, f"'{attr}' holds {int(a.size - np.isfinite(a).sum())} of {a.size} values "
                                         "that are NaN or infinite")
        self.preds: dict[str, list[str]] = {n: [] for n in nodes}
        self.succs: dict[str, list[str]] = {n: [] for n in nodes}
        for a, b in dict.fromkeys(edges):
            self.preds[b].append(a)
            self.succs[a].append(b)
        ctx.preds = self.preds
        self._terms: dict[str, tuple[list, np.ndarray | None]] = {}
        self._lag: dict[str, int] = {}
        self._open: set[str] = set()

    # -- roles ----------------------------------------------------------------------------
    def kind(self, name: str) -> str:
        return type(self.nodes[name]).__name__

    def role(self, name: str) -> str:
        """source, readout, neuron, pass (identity) or op."""
        k = self.kind(name)
        if k == "Input":
            return "pass" if self.preds[name] else "source"
        if k == "Output":
            return "pass" if self.succs[name] else "readout"
        if k in NEURON_TYPES:
            return "neuron"
        if k == "Flatten" and self.ctx.writer.channels_last:
            return "op"  # a permutation: the writer flattens (H, W, C)
        return "pass" if k in ("Flatten", "Identity") else "op"

    def spiking(self, name: str) -> bool:
        return self.role(name) == "source" or (self.role(name) == "neuron" and self.kind(name) not in NON_SPIKING)

    # -- build ----------------------------------------------------------------------------
    def build(self, name: str) -> Imported:
        ctx = self.ctx
        self._implicit_inputs()
        self._implicit_outputs()
        self._shapes()
        net = Netlist(str(name))
        inputs, outputs, terms = {}, {}, {}
        for n in self.nodes:
            if self.role(n) == "source":
                net.add_source(n, ctx.shape[n])
                inputs[n] = n
        for n in self.nodes:
            if self.role(n) == "neuron":
                terms[n] = self._inputs_of(n)
            elif self.role(n) == "readout":
                (pre,) = self.preds[n] if len(self.preds[n]) == 1 else (None,)
                if pre is not None and self._pop_of(pre) is not None:
                    outputs[n] = self._pop_of(pre)
                elif self.preds[n]:
                    terms[n] = self._inputs_of(n)
                    outputs[n] = n
        if not inputs:
            raise ConfigError("the graph has no Input node (nothing to drive it with)", source=ctx.source)
        if not outputs:
            raise ConfigError("the graph has no Output node fed by anything (nothing to read out)", source=ctx.source)
        feeds = {p: [t[0] for t in ts] for p, (ts, _) in terms.items()}
        lag = {p: 1 for p in terms if self.kind(p) in ctx.writer.current_lag}
        depth, back = _depths(list(inputs), feeds, lag)
        self._lag = lag
        biases = {n: b for n, (_, b) in terms.items() if b is not None and np.any(b)}
        bias_src = None
        if ctx.bias == "source" and biases:
            bias_src = next(f"bias{k or ''}" for k in range(len(self.nodes) + 1) if f"bias{k or ''}" not in self.nodes)
            net.add_source(bias_src, 1)
        for n, (ts, bias) in terms.items():
            recurrent = any(t[0] == n for t in ts)
            model, extra = _model(self.ctx, n, self.nodes[n], int(np.prod(ctx.shape[n])),
                                  None if bias_src else bias, recurrent)
            try:
                net.add_population(n, ctx.shape[n], model)
            except ConfigError as exc:
                raise ctx.fail(n, str(exc).split(": ", 1)[-1]) from None
            terms[n] = ts + extra
        for post, ts in terms.items():
            self._connect(net, post, ts, depth, back)
        if bias_src:
            for n, b in biases.items():
                net.connect(f"{bias_src}->{n}", bias_src, n, b[None, :].astype(np.float32),
                            delay=_check_delay(max(1, depth[n]), bias_src, n, ctx.source))
        if ctx.multi:
            self.notes.append(f"{len(ctx.multi)} population(s) may spike up to {MULTI_SPIKE_CAP} times a tick, as "
                              f"{ctx.writer.name}'s neurons do (each spike one packet per destination core)")
        if self.timing == "per-edge":  # each population runs behind the input by its longest path of delays
            depth = _latency(net, list(inputs), back)
        elif ctx.writer.late:  # each spiking layer reports a step late: as late as the chip's hop to the next
            depth = _late(depth, feeds, back, {p for p in terms if net.populations[p].params.spiking})
        return Imported(net, inputs, outputs, depth, ctx.dt, ctx.method, ctx.reset, self.timing, self.notes, bias_src,
                        ctx.spikes, ctx.writer.name)

    def _pop_of(self, name: str) -> str | None:
        """The population whose spikes node `name` passes on unchanged, if any."""
        seen = set()
        while self.role(name) == "pass" and len(self.preds[name]) == 1 and name not in seen:
            seen.add(name)
            name = self.preds[name][0]
        return name if self.role(name) in ("source", "neuron") else None

    def _implicit_inputs(self) -> None:
        """A root operator node (no Input before it) is driven by an Input of its input size, as NIR's
        own type inference adds one."""
        import nir

        for n in list(self.nodes):
            if self.preds[n] or self.role(n) != "op":
                continue
            node = self.nodes[n]
            w = getattr(node, "weight", None)
            w = None if w is None else np.asarray(w)
            if self.kind(n) in ("Affine", "Linear") and w is not None and w.ndim == 2:
                shape = (int(w.shape[1]),)
            elif getattr(node, "input_type", None) and node.input_type.get("input") is not None:
                shape = tuple(int(x) for x in np.ravel(node.input_type["input"]))
            else:
                raise self.ctx.fail(n, "has no input and no input shape: add an Input node before it")
            src = f"input_{n}"
            self.nodes[src] = nir.Input(input_type={"input": np.array(shape)})
            self.preds[src], self.succs[src] = [], [n]
            self.preds[n].append(src)

    def _implicit_outputs(self) -> None:
        """A leaf neuron or operator node (nothing after it) is read out, as NIR's type inference
        adds an Output after it."""
        import nir

        for n in list(self.nodes):
            if self.succs[n] or self.role(n) not in ("neuron", "op"):
                continue
            out = next(f"output_{n}{k or ''}" for k in range(len(self.nodes) + 1)
                       if f"output_{n}{k or ''}" not in self.nodes)
            self.nodes[out] = nir.Output(output_type={"output": None})
            self.preds[out], self.succs[out] = [n], []
            self.succs[n].append(out)

    # -- shapes ---------------------------------------------------------------------------
    def _shapes(self) -> None:
        ctx = self.ctx
        todo = list(self.nodes)
        for _ in range(len(todo) + 1):
            left = []
            for n in todo:
                s = self._shape_of(n)
                if s is None:
                    left.append(n)
                else:
                    ctx.shape[n] = s
            if len(left) == len(todo):
                break
            todo = left
        if todo:
            raise ctx.fail(todo[0], "cannot infer its shape (no shaped node feeds it)")
        for n in self.nodes:
            want = self._size_in(n)
            for p in self.preds[n]:
                got = int(np.prod(ctx.shape[p]))
                if want is not None and got != want:
                    raise ConfigError(f"inconsistent shapes: node '{p}' ({self.kind(p)}) gives {got} values "
                                      f"{tuple(ctx.shape[p])}, node '{n}' ({self.kind(n)}) takes {want}",
                                      source=ctx.source)

    def _pred_shape(self, n: str) -> tuple[int, ...] | None:
        return next((self.ctx.shape[p] for p in self.preds[n] if p in self.ctx.shape), None)

    def _size_in(self, n: str) -> int | None:
        k, node = self.kind(n), self.nodes[n]
        if k in ("Affine", "Linear"):
            return int(node.weight.shape[1])
        if k in ("Conv1d", "Conv2d", "SumPool2d", "AvgPool2d"):
            return int(np.prod(self.ctx.in_shape[n]))
        return int(np.prod(self.ctx.shape[n])) if self.role(n) != "source" else None

    def _shape_of(self, n: str) -> tuple[int, ...] | None:
        k, node, ctx = self.kind(n), self.nodes[n], self.ctx
        pred = self._pred_shape(n)
        if k == "Input":
            if self.role(n) == "source":
                return _ints(node.input_type["input"], ctx.fail(n, "has no shape"))
            return pred
        if k in ("Output", "Flatten", "Identity"):
            if pred is None:
                return None
            return (int(np.prod(pred)),) if k == "Flatten" and len(pred) > 1 else pred
        if k in ("Affine", "Linear"):
            w = np.asarray(node.weight)
            if w.ndim != 2:
                raise ctx.fail(n, f"weight has shape {w.shape}; the chip takes a 2-D (out, in) matrix")
            return (int(w.shape[0]),)
        if k in NEURON_TYPES or k in ("Scale", "Delay"):
            own = _own_shape(node, k)
            if own is not None:
                return own
            return pred if pred is not None else (None if self.preds[n] else (1,))
        if k in ("Conv2d", "SumPool2d", "AvgPool2d", "Conv1d"):
            if pred is None:
                return None
            ctx.in_shape[n] = self._conv_input(n, pred)
            try:
                return self._op_map(n).out_shape if k != "Conv1d" else _conv1d_out(self._op_map(n))
            except ConfigError as exc:
                if str(exc).startswith(ctx.source + ": node"):
                    raise
                raise ctx.fail(n, str(exc).split(": ", 1)[-1]) from None
        return None

    def _conv_input(self, n: str, pred: tuple[int, ...]) -> tuple[int, ...]:
        k, node, ctx = self.kind(n), self.nodes[n], self.ctx
        if k == "Conv1d":
            c = int(node.weight.shape[1]) * int(node.groups)
            if int(np.prod(pred)) % c:
                raise ctx.fail(n, f"input {pred} does not split into {c} channels")
            return c, 1, int(np.prod(pred)) // c
        if len(pred) == 3:
            return tuple(pred)
        hw = getattr(node, "input_shape", None)
        if k == "Conv2d" and hw is not None:
            c = int(node.weight.shape[1]) * int(node.groups)
            shape = (c, *(int(x) for x in np.ravel(hw)))
            if len(shape) == 3 and int(np.prod(shape)) == int(np.prod(pred)):
                return shape
        raise ctx.fail(n, f"needs a (channels, height, width) input, got shape {tuple(pred)}")

    # -- maps -----------------------------------------------------------------------------
    def _op_map(self, n: str) -> M.Map:
        k, node, ctx = self.kind(n), self.nodes[n], self.ctx
        try:
            if k in ("Affine", "Linear"):
                return M.Dense(np.asarray(node.weight, np.float64).T)
            if k == "Scale":
                size = int(np.prod(ctx.shape[n]))
                return M.Elementwise(_per_neuron(node.scale, size, ctx.fail(n, "scale")))
            if k == "Conv2d":
                w = np.asarray(node.weight, np.float32)
                return M.Conv(Conv2d(w, node.stride, _padding(node.padding, w.shape[2:], node.dilation, ctx.fail(n, "")),
                                     node.dilation, int(node.groups)), ctx.in_shape[n])
            if k == "Conv1d":
                w = np.asarray(node.weight, np.float32)
                if w.ndim != 3:
                    raise ctx.fail(n, f"weight has shape {w.shape}; expected (C_out, C_in/groups, k)")
                pad = _padding(node.padding, w.shape[2:], node.dilation, ctx.fail(n, ""))
                return M.Conv(Conv2d(w[:, :, None, :], (1, int(np.ravel(node.stride)[0])), (0, pad[0]),
                                     (1, int(np.ravel(node.dilation)[0])), int(node.groups)), ctx.in_shape[n])
            if k == "Flatten":  # (channels_last writers) position of NIR's (C, H, W) element in their (H, W, C) order
                pre = self._pred_shape(n)
                size = int(np.prod(pre))
                if len(pre) != 3:
                    return M.Elementwise(np.ones(size))
                order = np.arange(size).reshape(pre[1], pre[2], pre[0]).transpose(2, 0, 1).ravel()
                perm = np.zeros((size, size))
                perm[np.arange(size), order] = 1.0  # CHW element i lands where the writer's flatten puts it
                return M.Dense(perm)
            if k in ("SumPool2d", "AvgPool2d"):
                return M.Conv(Pool2d("sum" if k == "SumPool2d" else "avg", _pair(node.kernel_size),
                                     _pair(node.stride), _pair(node.padding)), ctx.in_shape[n])
        except ConfigError as exc:
            if str(exc).startswith(ctx.source + ": node"):
                raise
            raise ctx.fail(n, str(exc).split(": ", 1)[-1]) from None
        raise ctx.fail(n, "is not a linear map")

    def _op_bias(self, n: str) -> np.ndarray | None:
        k, node, ctx = self.kind(n), self.nodes[n], self.ctx
        size = int(np.prod(ctx.shape[n]))
        if k == "Affine":
            b = np.asarray(node.bias, np.float64)
            if b.size == 1:
                return np.full(size, float(b.ravel()[0]))
            if b.size != size:
                raise ctx.fail(n, f"bias has {b.size} values for {size} outputs")
            return b.ravel()
        if k in ("Conv1d", "Conv2d") and getattr(node, "bias", None) is not None:
            b = np.asarray(node.bias, np.float64).ravel()
            c_out = int(node.weight.shape[0])
            if b.size == 1:
                b = np.full(c_out, b[0])
            if b.size != c_out:
                raise ctx.fail(n, f"bias has {b.size} values for {c_out} output channels")
            return np.repeat(b, size // c_out)
        return None

    # -- inputs of a population -----------------------------------------------------------
    def _inputs_of(self, target: str) -> tuple[list, np.ndarray | None]:
        """(terms, bias): the spiking populations feeding `target` through operator chains, as
        (pre, [maps], extra delay ticks), and the sum of the biases those chains add."""
        terms, bias = [], None
        for p in self.preds[target]:
            t, b = self._signal(p, target)
            terms += t
            if b is not None:
                bias = b if bias is None else bias + b
        return terms, bias

    def _signal(self, p: str, consumer: str) -> tuple[list, np.ndarray | None]:
        role = self.role(p)
        if role == "source" or (role == "neuron" and self.spiking(p)):
            return [(p, [], 0)], None
        if role == "neuron":
            raise self.ctx.fail(p, f"is not spiking: it drives '{consumer}', but the chip's neurons send only "
                                   "spikes; a non-spiking node (LI, CubaLI, I) can only be read out (feed an Output)")
        if p in self._terms:
            return self._terms[p]
        if p in self._open:
            raise self.ctx.fail(p, "is on a loop of operator nodes with no neuron on it (an algebraic loop)")
        self._open.add(p)
        terms, bias = self._inputs_of(p)
        if self.role(p) == "op":
            terms, bias = self._through(p, terms, bias)
        self._open.discard(p)
        self._terms[p] = (terms, bias)
        return terms, bias

    def _through(self, n: str, terms: list, bias: np.ndarray | None) -> tuple[list, np.ndarray | None]:
        """Append operator node n to every term; a Delay splits a term by its distinct tick counts."""
        ctx = self.ctx
        if self.kind(n) == "Delay":
            size = int(np.prod(ctx.shape[n]))
            d = _per_neuron(self.nodes[n].delay, size, ctx.fail(n, "delay")) / ctx.dt
            ticks = np.round(d)
            if np.any(np.abs(d - ticks) > 1e-6 * np.maximum(1.0, np.abs(d))) or np.any(ticks < 0):
                raise ctx.fail(n, f"delays {_show(d * ctx.dt)} s are not whole numbers of ticks of dt = {ctx.dt:g} s")
            out = []
            for k in np.unique(ticks):
                sel = (ticks == k).astype(np.float64)
                extra = [] if np.all(sel) else [M.Elementwise(sel)]
                out += [(pre, ms + extra, dk + int(k)) for pre, ms, dk in terms]
            return out, bias
        m = self._op_map(n)
        own = self._op_bias(n)
        if bias is not None:
            bias = M.apply(m, bias)
        if own is not None:
            bias = own if bias is None else bias + own
        return [(pre, ms + [m], dk) for pre, ms, dk in terms], bias

    # -- projections ----------------------------------------------------------------------
    def _connect(self, net: Netlist, post: str, terms: list, depth: dict, back: set) -> None:
        """One projection per (pre, extra delay) of `post`'s terms (parallel chains are summed)."""
        groups: dict[tuple, list] = {}
        for pre, ms, dk, *tag in terms:
            groups.setdefault((pre, dk, *tag), []).append(ms)
        for (pre, dk, *tag), chains in groups.items():
            pre_shape, post_shape = net.populations[pre].shape, net.populations[post].shape
            mapped = [reduce(M.compose, ms) if ms else M.Elementwise(np.ones(int(np.prod(pre_shape))))
                      for ms in chains]
            conn = (M.connection(mapped[0], pre_shape, post_shape) if len(mapped) == 1
                    else sum(M.unrolled(m) for m in mapped).astype(np.float32))
            if isinstance(conn, np.ndarray) and not np.any(conn):
                self.notes.append(f"'{pre}' -> '{post}': all weights are zero; no projection made")
                continue
            split = any(isinstance(m, M.Elementwise) and not np.all(m.factor) for ms in chains for m in ms)
            mask = conn != 0 if isinstance(conn, np.ndarray) and split else None  # a Delay's share only
            if tag:  # the reset's own self-synapses: one and two ticks
                delay, name = 1 + dk, f"{post}:reset{1 + dk}"
            else:
                delay, name = self._delay(pre, post, dk, depth, back), f"{pre}->{post}" + (f"@{dk}" if dk else "")
            try:
                net.connect(name, pre, post, conn, delay=delay, mask=mask)
            except ConfigError as exc:
                raise ConfigError(f"projection {name}: {str(exc).split(': ', 2)[-1]}", source=self.ctx.source) from None

    def _delay(self, pre: str, post: str, extra: int, depth: dict, back: set) -> int:
        if self.timing == "per-edge":
            d = 1 + extra
        else:
            d = depth[post] - depth[pre] + ((1 + self._lag.get(post, 0)) if (pre, post) in back else 0) + extra
            if d < 1:
                self.notes.append(f"'{pre}' -> '{post}' closes a loop through {depth[pre] - depth[post] + 1} "
                                  f"populations: the chip takes {1 - d + (1 if extra == 0 else 0)} more tick(s) "
                                  "around it than a layer-synchronous simulator's one step")
                d = 1 + extra
        return _check_delay(d, pre, post, self.ctx.source)


def _check_delay(d: int, pre: str, post: str, source: str) -> int:
    if d > 64:
        raise ConfigError(f"'{pre}' -> '{post}' needs a delay of {d} ticks; the chip allows 1 to 64", source=source)
    return int(d)


# -- depth ------------------------------------------------------------------------------------

def _depths(sources: list[str], feeds: dict[str, list[str]], lag: dict[str, int] | None = None
            ) -> tuple[dict[str, int], set]:
    """Layer-synchronous depth of every population (longest path from an input over forward edges, plus
    `lag` ticks at populations whose input reaches v that much later) and the back edges (those closing a
    loop, found by depth-first search from the inputs)."""
    lag = lag or {}
    succ: dict[str, list[str]] = {s: [] for s in sources}
    for post, pres in feeds.items():
        succ.setdefault(post, [])
        for pre in dict.fromkeys(pres):
            succ.setdefault(pre, []).append(post)
    state: dict[str, int] = {}
    back: set = set()
    for root in sources + [p for p in succ if p not in sources]:
        if root in state:
            continue
        stack = [(root, iter(succ[root]))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(succ[nxt])))
    fwd_preds = {p: [q for q in dict.fromkeys(feeds.get(p, [])) if (q, p) not in back] for p in succ}
    depth: dict[str, int] = {}

    def d(p: str) -> int:
        if p not in depth:
            if p in sources:
                depth[p] = 0
            else:
                depth[p] = 1 + lag.get(p, 0) + max((d(q) for q in fwd_preds[p]), default=0)
        return depth[p]

    for p in succ:
        d(p)
    return depth, back


def _late(depth: dict[str, int], feeds: dict[str, list[str]], back: set, spiking: set) -> dict[str, int]:
    """Depths when every spiking layer emits a step late (Spyx): less the late layers on the longest path."""
    late: dict[str, int] = {}

    def n(p: str) -> int:
        if p not in late:
            late[p] = 0
            late[p] = (p in spiking) + max((n(q) for q in feeds.get(p, []) if (q, p) not in back), default=0)
        return late[p]

    return {p: d - n(p) for p, d in depth.items()}


def _latency(net: Netlist, sources: list[str], back: set) -> dict[str, int]:
    """Longest path in ticks from an input to every population over the forward projections."""
    fwd: dict[str, list] = {p: [] for p in net.populations}
    for pr in net.projections.values():
        if pr.pre != pr.post and (pr.pre, pr.post) not in back and pr.pre in fwd:
            fwd[pr.post].append((pr.pre, pr.delay))
    out: dict[str, int] = {}

    def lat(p: str) -> int:
        if p not in out:
            out[p] = 0 if p in sources else max((lat(q) + d for q, d in fwd[p]), default=1)
        return out[p]

    for p in net.populations:
        lat(p)
    return out


# -- neuron models ----------------------------------------------------------------------------

def _model(ctx: _Ctx, name: str, node: Any, size: int, bias: np.ndarray | None, recurrent: bool):
    """The chip's neuron model of a NIR neuron node (or of a read-out Output fed by operators), and
    any self-synapses its reset needs (terms tagged "reset": (name, [map], delay - 1, "reset"))."""
    k = type(node).__name__
    meta = node.metadata if isinstance(getattr(node, "metadata", None), dict) else {}

    def p(attr: str) -> np.ndarray:  # (nir before 1.0.5 has no LIF.v_reset; older writers leave out w_in)
        return _per_neuron(getattr(node, attr, _DEFAULTS.get(attr)), size, ctx.fail(name, attr))

    def build(spikes: str):
        dt, method = ctx.dt, ctx.method
        if k == "LIF":
            return nm.lif_from_continuous(p("tau"), p("r"), p("v_leak"), p("v_threshold"), p("v_reset"), dt, method,
                                          spikes)
        if k == "CubaLIF":
            return nm.cuba_from_continuous(p("tau_syn"), p("tau_mem"), p("r"), p("v_leak"), p("w_in"), dt, method,
                                           p("v_threshold"), p("v_reset"), spikes)
        if k == "IF":
            return nm.integrator_from_continuous(p("r"), dt, p("v_threshold"), p("v_reset"), spikes)
        if k == "I":
            return nm.integrator_from_continuous(p("r"), dt, spikes=spikes)
        if k == "LI":
            return nm.li_from_continuous(p("tau"), p("r"), p("v_leak"), dt, method, spikes)
        if k == "CubaLI":
            return nm.cuba_from_continuous(p("tau_syn"), p("tau_mem"), p("r"), p("v_leak"), p("w_in"), dt, method,
                                           spikes=spikes)
        if k == "Threshold":  # z = x > threshold, no memory: v = x every tick
            return nm.LIF(dv=1.0, theta=_compact(p("threshold")), reset="zero")
        return nm.LI(dv=1.0)  # an Output read out from operators: its membrane is the operators' output y = W s + b

    try:
        m = _as_writer(ctx.writer, k, build(ctx.spikes), p)
        # a bias is a constant input, held over the tick whatever a spike is
        held = m if bias is None or ctx.spikes == "step" else _as_writer(ctx.writer, k, build("step"), p)
    except ConfigError as exc:
        raise ctx.fail(name, f"{exc.key or ''} {str(exc).split(': ', 1)[-1]}".strip()) from None
    changes: dict[str, Any] = {}
    if bias is not None:
        gain = np.asarray(held.input_gain, np.float64)
        changes["i_bias" if m.has_current else "bias"] = _compact(np.asarray(m.bias if not m.has_current else 0.0)
                                                                   + gain * bias)
    extra = []
    if m.spiking:
        # NIR spikes when v > v_threshold; the chip when v >= theta: theta is the next float32 up
        if not ctx.writer.inclusive:
            changes["theta"] = _compact(np.nextafter(np.asarray(m.theta, np.float32), np.float32(np.inf)))
        if k in ctx.writer.multi_spike:
            changes["max_per_tick"] = MULTI_SPIKE_CAP
            ctx.multi.append(name)
        if k in ctx.writer.clamp:
            changes["v_min"] = _compact(-ctx.writer.clamp[k] * np.asarray(m.theta, np.float64))
        if "max_per_tick" in meta:  # neurocore's own exports: the chip's options as they were
            changes["max_per_tick"] = int(np.ravel(meta["max_per_tick"])[0])
        if "v_min" in meta:
            changes["v_min"] = _compact(_per_neuron(meta["v_min"], size, ctx.fail(name, "metadata v_min")))
        reset = meta.get("reset", "zero") if ctx.reset == "nir" else ctx.reset
        if ctx.reset == ctx.writer.reset:
            reset = ctx.writer.reset_of.get(k, reset)
        if isinstance(reset, bytes):
            reset = reset.decode()
        if reset not in ("zero", "subtract", "snntorch-subtract", "snntorch-zero"):
            raise ctx.fail(name, f"metadata reset = {reset!r}: must be 'subtract' or 'zero'")
        changes["reset"] = "zero" if reset in ("zero", "snntorch-zero") else "subtract"
        refractory = meta.get("refractory", 0)
        if reset == "snntorch-zero" and (k == "CubaLIF" or recurrent):
            refractory = max(int(refractory), 1)  # snnTorch zeroes v one step late, dropping that step's input
        changes["refractory"] = int(refractory)
        changes["max_spikes"] = int(meta.get("spike_budget", 0))
        m = dataclasses.replace(m, **changes)
        if reset == "snntorch-subtract":
            extra = _delayed_subtraction(ctx, name, m, size)
        elif reset == "subtract" and ctx.spikes == "dirac":
            extra = _tick_end_reset(ctx, name, m, size)
    elif changes:
        m = dataclasses.replace(m, **changes)
    return m, extra


def _as_writer(w: Writer, k: str, m, p):
    """A neuron model built from NIR's equations, changed where writer `w` simulates them otherwise
    (neurocore.nir.writers): undiscounted input gains, current gain 1, decay from r, input after decay."""
    changes: dict[str, Any] = {}
    if k in w.keep_from_r:
        changes["dv"] = _compact(1.0 - p("r"))
    if w.gain.get(k) == "unit":
        changes["input_gain"] = _compact(p("w_in") if m.has_current else
                                         (np.ones_like(p("r")) if k in w.keep_from_r else p("r")))
    if k in w.current_gain_one:
        changes["current_gain"] = 1.0
    if k in w.input_after_decay:
        changes["input_gain"] = _compact((1.0 - np.asarray(m.di, np.float64)) * p("w_in"))
    return dataclasses.replace(m, **changes) if changes else m


_DEFAULTS = {"v_reset": 0.0, "w_in": 1.0, "v_leak": 0.0}


def _delayed_subtraction(ctx: _Ctx, name: str, m, size: int) -> list:
    """snnTorch's default reset subtracts the threshold one step after the spike, after that step's
    decay; the chip subtracts at the spike, before it. Self-synapses add back what the decay took."""
    co = nm.lower(m, size)
    leak = 1.0 - co.keep_v.astype(np.float64)
    return _next_tick_on_v(ctx, name, m, co, -leak * co.theta.astype(np.float64), "reset 'snntorch-subtract'")


def _tick_end_reset(ctx: _Ctx, name: str, m, size: int) -> list:
    """With Dirac spikes a subtractive reset belongs at the crossing, inside the tick; by the tick's end,
    where the chip subtracts theta, it would have decayed by exp(-delta / tau_mem) for a crossing delta
    before the end. Self-synapses add back theta (1 - that decay's mean over the tick) one tick later:
    the reset is then right on average (without them each reset leaves v up to theta dt / tau_mem low,
    and a neuron's k-th spike comes about k/2 ticks late)."""
    co = nm.lower(m, size)
    # an IF has no dv: no leak, nothing to add back
    keep = np.asarray(1.0 - np.asarray(getattr(m, "dv", 0.0), np.float64), np.float64) * np.ones(size)
    leak = 1.0 - keep
    if not np.any(leak):
        return []
    with np.errstate(divide="ignore"):
        # the mean of exp(-delta / tau) over delta in [0, dt): (tau / dt) (1 - keep), with dt / tau = -ln keep
        mean_decay = np.where(leak > 0, leak / -np.log1p(-np.minimum(leak, 1.0)), 1.0)
    back = co.theta.astype(np.float64) * (1.0 - mean_decay) * keep
    return _next_tick_on_v(ctx, name, m, co, back, "a subtractive reset with Dirac spikes")


def _next_tick_on_v(ctx: _Ctx, name: str, m, co, amount: np.ndarray, why: str) -> list:
    """Self-synapses by which a neuron's spike at tick t adds `amount` to its own v at t + 1 (and, for a
    current-based neuron, a second one at t + 2 cancelling the current the first leaves behind)."""
    if not np.any(amount):
        return []
    g = co.input_gain.astype(np.float64) * (co.current_gain.astype(np.float64) if m.has_current else 1.0)
    if np.any(g == 0):
        raise ctx.fail(name, f"{why} needs a nonzero input gain")
    first = amount / g
    out = [(name, [M.Elementwise(first)], 0, "reset")]
    if m.has_current:
        out.append((name, [M.Elementwise(-co.keep_i.astype(np.float64) * first)], 1, "reset"))
    return out


# -- small helpers ----------------------------------------------------------------------------

def _ints(a: Any, err: ConfigError) -> tuple[int, ...]:
    if a is None:
        raise err
    return tuple(int(x) for x in np.ravel(a))


def _own_shape(node: Any, kind: str) -> tuple[int, ...] | None:
    """A node's shape from its parameter arrays (None when they are all scalars)."""
    names = {"Scale": ("scale",), "Delay": ("delay",), "Threshold": ("threshold",)}.get(
        kind, ("v_threshold", "r", "tau", "tau_mem", "tau_syn", "v_leak"))
    for a in names:
        v = getattr(node, a, None)
        if v is not None and np.asarray(v).size > 1:  # np.asarray: exporters may leave torch tensors here
            return tuple(int(x) for x in np.asarray(v).shape)
    return None


def _per_neuron(a: Any, size: int, err: ConfigError) -> np.ndarray:
    v = np.asarray(a, np.float64).ravel()
    if v.size == 1:
        return np.full(size, v[0])
    if v.size != size:
        raise ConfigError(f"{str(err).rstrip(': ')} has {v.size} values for {size} neurons", source=err.source)
    return v


def _compact(a: np.ndarray) -> float | np.ndarray:
    a = np.asarray(a, np.float64).ravel()
    return float(a[0]) if a.size == 1 or np.all(a == a[0]) else a.astype(np.float32)


def _pair(v: Any) -> tuple[int, int]:
    t = np.ravel(v)
    return (int(t[0]), int(t[0])) if t.size == 1 else (int(t[0]), int(t[1]))


def _padding(pad: Any, kernel: tuple, dilation: Any, err: ConfigError) -> tuple[int, ...]:
    dil = np.broadcast_to(np.ravel(dilation), (len(kernel),))
    if isinstance(pad, (str, bytes)):
        pad = pad.decode() if isinstance(pad, bytes) else pad
        if pad == "valid":
            return (0,) * len(kernel)
        if pad == "same" and all((d * (k - 1)) % 2 == 0 for k, d in zip(kernel, dil)):
            return tuple(int(d * (k - 1) // 2) for k, d in zip(kernel, dil))
        raise ConfigError(f"{str(err).rstrip(': ')} padding {pad!r} is not supported (integers, 'valid', or "
                          "'same' with an odd kernel)", source=err.source)
    t = np.ravel(pad)
    return tuple(int(x) for x in (np.repeat(t, len(kernel)) if t.size == 1 else t))


def _conv1d_out(m: M.Conv) -> tuple[int, int]:
    c, _, w = m.out_shape
    return c, w


def _show(a: np.ndarray) -> str:
    u = np.unique(a)
    return ", ".join(f"{x:g}" for x in u[:6]) + (", ..." if u.size > 6 else "")
