"""A plain numpy reference of the tick, on the unmapped netlist (dense matrices, no cores).

For tests only: it defines what the compiled, mapped engine must reproduce spike for
spike. Every neuron model steps its own docstring equation (`step`, written from the model
classes, not from the engine's lowered coefficients); convolutions, pooling and scale run
as their unrolled dense matrices. Source spikes are given (the engine's draws are
replayed), learning is the ideal-device pulse-coincidence write, dropout is off.
"""

from __future__ import annotations

import numpy as np

from ..netlist import Netlist
from ..neurons import IF, LI, LIF, CubaLI, CubaLIF, Integrator, NeuronModel

f32 = np.float32


def _p(model: NeuronModel, name: str, size: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(getattr(model, name), f32), (size,))


def _keep(model: NeuronModel, name: str, size: int) -> np.ndarray:
    """1 - decay, rounded once to float32 as the chip stores it."""
    return np.broadcast_to((1.0 - np.asarray(getattr(model, name), np.float64)).astype(f32), (size,))


def step(model: NeuronModel, v: np.ndarray, i: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(v, i) after one tick of input x, before threshold and reset (refractoriness aside)."""
    n = len(v)
    g = _p(model, "input_gain", n)
    if isinstance(model, (CubaLIF, CubaLI)):
        i = i * _keep(model, "di", n) + g * x + _p(model, "i_bias", n)
        v = v * _keep(model, "dv", n) + _p(model, "current_gain", n) * i + _p(model, "bias", n)
    elif isinstance(model, (LIF, LI)):
        i = g * x
        v = v * _keep(model, "dv", n) + i + _p(model, "bias", n)
    elif isinstance(model, (IF, Integrator)):
        i = g * x
        v = v + i + _p(model, "bias", n)
    else:
        raise TypeError(f"no reference for {type(model).__name__}")
    return v.astype(f32), i.astype(f32)


def _decay(x: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Loihi's decay of an integer state by d / 4096: sign(x) ((|x| (4096 - d)) >> 12)."""
    return np.sign(x) * np.right_shift(np.abs(x) * (4096 - d), 12)


def loihi_step(q, v: np.ndarray, u: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(v, u) after one tick of Loihi arithmetic (int64), `q` a population's `neurocore.loihi.LoihiInts`,
    `a` the tick's summed input rounded down, before threshold and reset: Lava's PyLifModelBitAcc."""
    u = _decay(u, q.du + 1) + np.left_shift(a, 6)
    u = np.where(u > 2 ** 23, u - 2 ** 24, u)
    u = np.where(u <= -2 ** 23, u + 2 ** 24, u)
    v = np.clip(_decay(v, q.dv) + u + q.bias, -(2 ** 23 - 1), 2 ** 23 - 1)
    return v, u


def _reference_loihi(net: Netlist, sources: dict[str, np.ndarray], ticks: int,
                     probe: dict[str, list[int]]) -> dict:
    """`reference_run` in Loihi arithmetic: weights as neurocore.loihi stores them, states in int64."""
    from ..loihi import lava_weights, neuron_integers, quantise

    pops = net.populations
    spikes = {p: np.zeros((ticks, pops[p].size), bool) for p in pops}
    for p, s in sources.items():
        spikes[p][:] = s
    q = {p: neuron_integers(pop.params, pop.size) for p, pop in pops.items() if not pop.is_source}
    v = {p: np.zeros(pops[p].size, np.int64) for p in pops}
    u = {p: np.zeros(pops[p].size, np.int64) for p in pops}
    ref = {p: np.zeros(pops[p].size, np.int64) for p in pops}
    w = {}
    for name, pr in net.projections.items():
        eff = pr.dense()[0].astype(np.float64) * pr.gain
        mant, exp = (lava_weights(np.round(eff)), pr.weight_exp) if pr.weight_exp is not None else quantise(eff)
        w[name] = mant * 2.0 ** exp
    trace_v = {p: np.zeros((ticks, len(ix)), np.int64) for p, ix in probe.items()}
    trace_i = {p: np.zeros((ticks, len(ix)), np.int64) for p, ix in probe.items()}
    for t in range(ticks):
        iin = {p: np.zeros(pops[p].size) for p in pops}
        for name, pr in net.projections.items():
            if t - pr.delay >= 0:
                iin[pr.post] += w[name][spikes[pr.pre][t - pr.delay]].sum(axis=0)
        for p, pop in pops.items():
            if pop.is_source:
                continue
            qp = q[p]
            hold = ref[p] > 0
            v_new, u[p] = loihi_step(qp, v[p], u[p], np.floor(iin[p]).astype(np.int64))
            v[p] = np.where(hold, v[p], v_new)
            ref[p][hold] -= 1
            fire = ~hold & (v[p] > np.left_shift(qp.vth, 6)) if qp.spiking else np.zeros(pop.size, bool)
            if qp.subtract:
                v[p][fire] -= np.left_shift(qp.vth, 6)[fire] + 1
            else:
                v[p][fire] = qp.v_reset[fire]
            ref[p][fire] = getattr(pop.params, "refractory", 0)
            spikes[p][t] = fire
            if p in probe:
                trace_v[p][t] = v[p][probe[p]]
                trace_i[p][t] = u[p][probe[p]]
    return {"spikes": spikes, "weights": w, "v": trace_v, "i": trace_i}


def reference_run(net: Netlist, sources: dict[str, np.ndarray], ticks: int, *, learn: bool = False,
                  dw_min: float = 0.001, w_min: float = -0.6, w_max: float = 0.6,
                  probe: dict[str, list[int]] | None = None, arithmetic: str = "float32") -> dict:
    """Simulate `ticks` ticks. `sources[pop]` is bool (ticks, size). Returns spikes per
    population as bool (ticks, size), the final weights, and v/i traces of `probe` neurons.
    arithmetic "loihi": Loihi's integers (neurocore.loihi; dense projections, no learning, no gates)."""
    if arithmetic == "loihi":
        return _reference_loihi(net, sources, ticks, probe or {})
    f32 = np.float32
    pops = net.populations
    spikes = {p: np.zeros((ticks, pops[p].size), bool) for p in pops}
    for p, s in sources.items():
        spikes[p][:] = s
    v = {p: np.zeros(pops[p].size, f32) for p in pops}
    cur = {p: np.zeros(pops[p].size, f32) for p in pops}
    ref = {p: np.zeros(pops[p].size, np.int64) for p in pops}
    ever = {p: np.zeros(pops[p].size, bool) for p in pops}
    count = {p: np.zeros(pops[p].size, np.int64) for p in pops}  # spikes so far (spike budgets)
    w = {n: pr.dense()[0].copy() for n, pr in net.projections.items() if not pr.is_tied}
    probe = probe or {}
    trace_v = {p: np.zeros((ticks, len(ix)), f32) for p, ix in probe.items()}
    trace_i = {p: np.zeros((ticks, len(ix)), f32) for p, ix in probe.items()}

    def arrived(pop: str, t: int, d: int) -> np.ndarray:
        return spikes[pop][t - d] if t - d >= 0 else np.zeros(pops[pop].size, bool)

    for t in range(ticks):
        iin = {p: np.zeros(pops[p].size, f32) for p in pops}
        for name, pr in net.projections.items():
            if pr.is_tied:
                base = net.projections[pr.tied_to]
                x = arrived(pr.pre, t, pr.delay)
                iin[pr.post] += f32(pr.sign * base.gain) * w[pr.tied_to][:, x].sum(axis=1, dtype=f32)
            else:
                x = arrived(pr.pre, t, pr.delay)
                iin[pr.post] += f32(pr.gain) * w[name][x].sum(axis=0, dtype=f32)
        if learn:
            for name, pr in net.projections.items():
                if pr.plastic is None:
                    continue
                rows = arrived(pr.pre, t, pr.delay)
                up = arrived(pr.plastic.up, t, pr.delay)
                down = arrived(pr.plastic.down, t, pr.delay)
                m = np.ones_like(w[name], bool) if pr.mask is None else pr.mask
                blk = w[name]
                sel = np.outer(rows, up) & m
                blk[sel] = np.minimum(blk[sel] + f32(dw_min), f32(w_max))
                sel = np.outer(rows, down) & m
                blk[sel] = np.maximum(blk[sel] - f32(dw_min), f32(w_min))
        for p, pop in pops.items():
            if pop.is_source:
                continue
            prm = pop.params
            hold = ref[p] > 0
            v_new, cur[p] = step(prm, v[p], cur[p], iin[p])
            v[p] = np.where(hold, v[p], v_new).astype(f32)
            ref[p][hold] -= 1
            if prm.spiking:
                fire = ~hold & (v[p] >= _p(prm, "theta", pop.size))
                if prm.reset == "zero":
                    v[p][fire] = _p(prm, "v_reset", pop.size)[fire]
                else:
                    v[p][fire] -= _p(prm, "theta", pop.size)[fire]
                ref[p][fire] = prm.refractory
            else:
                fire = np.zeros(pop.size, bool)
            if pop.gate is not None:
                fire = fire & ever[pop.gate]
            if prm.spiking and getattr(prm, "max_spikes", 0):
                count[p] += fire
                ref[p][fire & (count[p] >= prm.max_spikes)] = 2 ** 30  # budget spent: held to the sample's end
            spikes[p][t] = fire
            if p in probe:
                trace_v[p][t] = v[p][probe[p]]
                trace_i[p][t] = cur[p][probe[p]]
        for p in pops:
            ever[p] |= spikes[p][t]
    return {"spikes": spikes, "weights": w, "v": trace_v, "i": trace_i}
