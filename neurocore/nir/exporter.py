"""Netlist -> NIR graph: populations as neuron nodes, projections as operator nodes.

Every number is taken from what the chip computes (`neurocore.neurons.lower`: float32
coefficients; a projection's weights times its gain), and written so that importing the
graph with the dt and discretisation it records gives those float32 numbers back exactly:

* a decay `keep` becomes tau (Euler: tau = dt / (1 - keep)); no decay (keep = 1) is written
  as tau = 2^40 dt, which rounds back to keep = 1 in float32 (NIR has no infinite tau);
* gains become r and w_in by dividing by the drive the importer will compute from that tau;
* a membrane bias becomes v_leak; a current bias (CubaLIF's i_bias) the bias of the Affine or
  Conv2d feeding the population (else of an Affine of zero weights from an input); theta becomes v_threshold = the float32 below it (NIR's v > v_thr);
* reset, refractory ticks and spike budget go into node metadata ({"reset": "subtract"|"zero",
  "refractory": k, "spike_budget": n if any}), dt, discretisation and timing = "per-edge" into the graph's;
* a projection is Linear (dense; a mask is written as zeros), Conv2d, SumPool2d / AvgPool2d
  (gain 1; else the equal Conv2d) or Scale, followed by a Delay node of (delay - 1) dt when its
  delay exceeds one tick.

Transposed (tied) reads and gates are training machinery with no NIR form: export the forward
network (`build_ssnn(..., train=False)`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import neurons as nm
from ..connections import Conv2d, Pool2d, Scale
from ..errors import ConfigError
from ..netlist import Netlist

NO_DECAY_TAU = 2.0 ** 40  # in ticks: tau of a decay of 0 (keep = 1)


def to_nir(net: Netlist, dt: float = 1e-4, discretisation: str = "euler", outputs: list[str] | None = None):
    """The netlist as a nir.NIRGraph (dt in seconds per tick, recorded in the graph's metadata)."""
    import nir

    nm.discretise(1.0, dt, "exact")  # validates dt
    if discretisation not in nm.DISCRETISATIONS:
        raise ConfigError(f"= {discretisation!r} is not allowed; must be 'exact' or 'euler'", key="discretisation")
    for proj in net.projections.values():
        if proj.is_tied:
            raise ConfigError(f"projection '{proj.name}' reads '{proj.tied_to}' transposed, which NIR cannot "
                              "express: export the forward network", key=f"projection.{proj.name}")
    for pop in net.populations.values():
        if pop.gate is not None:
            raise ConfigError(f"population '{pop.name}' is gated by '{pop.gate}', which NIR cannot express",
                              key=f"population.{pop.name}")
    names = {p: p.replace("/", "_") for p in net.populations}
    nodes, edges = {}, []
    affine_bias: dict[str, np.ndarray] = {}
    for name, pop in net.populations.items():
        if pop.is_source:
            nodes[names[name]] = nir.Input(input_type={"input": np.array(pop.shape)})
        else:
            nodes[names[name]], ib = _neuron(pop, dt, discretisation)
            if ib is not None:
                affine_bias[name] = ib
    for proj in net.projections.values():
        op = _free(f"{proj.name}".replace("/", "_"), nodes)
        bias = affine_bias.get(proj.post)
        if bias is not None and (proj.kind == "dense" or (proj.kind in ("conv", "pool") and _per_channel(
                bias, net.populations[proj.post].shape) is not None)):
            del affine_bias[proj.post]
        else:
            bias = None
        nodes[op] = _operator(net, proj, bias)
        edges.append((names[proj.pre], op))
        last = op
        if proj.delay > 1:
            post_shape = net.populations[proj.post].shape
            last = _free(f"{op}.delay", nodes)
            nodes[last] = nir.Delay(delay=np.full(post_shape, (proj.delay - 1) * dt))
            edges.append((op, last))
        edges.append((last, names[proj.post]))
    sources = sorted((p for p in net.populations.values() if p.is_source), key=lambda p: p.size)
    for pop, bias in affine_bias.items():  # no projection can carry it: an Affine of zero weights from an input
        if not sources:
            raise ConfigError(f"population '{pop}' has a current bias (i_bias) but the net has no input to hang "
                              "the Affine carrying it on", key=f"population.{pop}")
        op = _free(f"{names[pop]}.bias", nodes)
        nodes[op] = nir.Affine(weight=np.zeros((bias.size, sources[0].size), np.float32), bias=bias)
        edges += [(names[sources[0].name], op), (op, names[pop])]
    feeds = {p.pre for p in net.projections.values() if p.pre != p.post}
    outs = outputs if outputs is not None else [p for p in net.populations if p not in feeds
                                                and not net.populations[p].is_source]
    for p in outs:
        if p not in net.populations:
            raise ConfigError(f"output '{p}' is not a population; populations: {', '.join(net.populations)}")
        o = _free("output" if len(outs) == 1 else f"{names[p]}_output", nodes)
        nodes[o] = nir.Output(output_type={"output": np.array(net.populations[p].shape)})
        edges.append((names[p], o))
    meta = {"dt": float(dt), "discretisation": discretisation, "timing": "per-edge", "source": "neurocore",
            "name": net.name}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta, type_check=False)


def write_nir(path: str | Path, graph) -> Path:
    """Write a NIR graph to `path` atomically (`neurocore.files`: a temporary file, then a rename; a full disk
    or a read-only folder is a one-line error and leaves any previous file whole)."""
    import nir

    from ..files import atomic_output

    p = Path(path)
    with atomic_output(p, "NIR file") as tmp:
        nir.write(tmp, graph)
    return p


# -- neurons --------------------------------------------------------------------------------

def _tau(keep: np.ndarray, dt: float, method: str) -> np.ndarray:
    """The time constant whose discretisation gives back `keep` (float32 values)."""
    keep = np.asarray(keep, np.float64)
    leak = 1.0 - keep
    tau = np.empty_like(keep)
    none = leak <= 0
    tau[none] = NO_DECAY_TAU * dt
    if method == "euler":
        tau[~none] = dt / leak[~none]
    else:
        full = keep <= 0
        tau[full & ~none] = dt / 800.0  # exp(-800) is 0
        part = ~none & ~full
        tau[part] = -dt / np.log(keep[part])
    return tau


def _neuron(pop, dt: float, method: str):
    """(NIR node, current bias to put on an Affine or None) of a population."""
    import nir

    m, n, shape = pop.params, pop.size, pop.shape
    co = nm.lower(m, n)
    f64 = lambda a: np.asarray(a, np.float64).reshape(shape)  # noqa: E731
    kind = nm.model_name(m)
    tau_v = _tau(co.keep_v, dt, method)
    _, drive_v = nm.discretise(tau_v, dt, method)
    meta = {}
    if m.spiking:
        meta = {"reset": m.reset, "refractory": int(m.refractory),
                **({"spike_budget": int(m.max_spikes)} if m.max_spikes else {}),
                **({"max_per_tick": int(m.max_per_tick)} if m.max_per_tick > 1 else {}),
                **({"v_min": f64(co.v_min)} if np.any(co.v_min > -np.inf) else {})}
        v_thr = f64(np.nextafter(co.theta, np.float32(-np.inf)))
        v_reset = f64(co.v_reset)
    gain, bias = co.input_gain.astype(np.float64), co.bias.astype(np.float64)
    if kind in ("if", "integrator") and not np.any(bias):  # dv/dt = r I: gain = dt r
        if kind == "if":
            return nir.IF(r=f64(gain / dt), v_threshold=v_thr, v_reset=v_reset, metadata=meta), None
        return nir.I(r=f64(gain / dt)), None
    if kind in ("lif", "if"):
        return nir.LIF(tau=f64(tau_v), r=f64(gain / drive_v), v_leak=f64(bias / drive_v), v_threshold=v_thr,
                       v_reset=v_reset, metadata=meta), None
    if kind in ("li", "integrator"):
        return nir.LI(tau=f64(tau_v), r=f64(gain / drive_v), v_leak=f64(bias / drive_v)), None
    tau_i = _tau(co.keep_i, dt, method)
    _, drive_i = nm.discretise(tau_i, dt, method)
    cur = dict(tau_syn=f64(tau_i), tau_mem=f64(tau_v), r=f64(co.current_gain / drive_v), v_leak=f64(bias / drive_v),
               w_in=f64(gain / drive_i))
    i_bias = co.i_bias.astype(np.float64)
    ib = None
    if np.any(i_bias):
        if np.any(gain == 0):
            raise ConfigError(f"population '{pop.name}' has a current bias but a zero input gain",
                              key=f"population.{pop.name}")
        ib = (i_bias / gain).ravel()
    if kind == "cuba_li":
        return nir.CubaLI(**cur), ib
    return nir.CubaLIF(**cur, v_threshold=v_thr, v_reset=v_reset, metadata=meta), ib


# -- projections ----------------------------------------------------------------------------

def _operator(net: Netlist, proj, bias: np.ndarray | None):
    import nir

    g = np.float32(proj.gain)
    conn = proj.conn
    pre_shape = net.populations[proj.pre].shape
    if conn is None:
        w = (proj.weights * g).astype(np.float32).T  # what the chip applies: gain x weight, in float32
        if bias is not None:
            return nir.Affine(weight=w, bias=bias.astype(np.float64))
        return nir.Linear(weight=w)
    if isinstance(conn, Pool2d) and g == 1 and bias is None:
        cls = nir.SumPool2d if conn.mode == "sum" else nir.AvgPool2d
        return cls(kernel_size=np.array(conn.kernel), stride=np.array(conn.stride), padding=np.array(conn.padding))
    if isinstance(conn, (Conv2d, Pool2d)):
        c = conn.as_conv(pre_shape[0]) if isinstance(conn, Pool2d) else conn
        b = np.zeros(c.out_channels) if bias is None else _per_channel(bias, net.populations[proj.post].shape)
        return nir.Conv2d(input_shape=tuple(pre_shape[1:]), weight=(c.weight * g).astype(np.float32),
                          stride=c.stride, padding=c.padding, dilation=c.dilation, groups=c.groups, bias=b)
    if isinstance(conn, Scale):
        shape = net.populations[proj.post].shape
        return nir.Scale(scale=(conn.factors(int(np.prod(shape))) * g).astype(np.float32).reshape(shape))
    raise ConfigError(f"projection '{proj.name}': no NIR form for {type(conn).__name__}")


def _per_channel(bias: np.ndarray, shape: tuple) -> np.ndarray | None:
    """One value per channel of a (C, H, W) population's per-neuron bias, if it is one."""
    if len(shape) != 3:
        return None
    b = np.asarray(bias, np.float64).reshape(shape[0], -1)
    return b[:, 0].copy() if np.all(b == b[:, :1]) else None


def _free(name: str, taken: dict) -> str:
    out, k = name, 1
    while out in taken:
        out, k = f"{name}_{k}", k + 1
    return out
