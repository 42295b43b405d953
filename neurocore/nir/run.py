"""Driving an imported NIR graph on the chip with explicit input spikes, and reading its
output back on the reference's clock (tick t + depth = step t)."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..engine import Engine, RunResult, SpikeDrive
from ..errors import ConfigError
from .importer import Imported


def as_inputs(imp: Imported, spikes: np.ndarray | Mapping[str, np.ndarray], source: str = "input") -> dict:
    """{input node: bool (samples, ticks, *shape)} from one array (a single-input graph) or a mapping."""
    if not isinstance(spikes, Mapping):
        if len(imp.inputs) != 1:
            raise ConfigError(f"the graph has {len(imp.inputs)} inputs ({', '.join(imp.inputs)}): give one array "
                              "per input (an .npz keyed by input name)", source=source)
        spikes = {next(iter(imp.inputs)): spikes}
    out = {}
    for name, a in spikes.items():
        if name not in imp.inputs:
            raise ConfigError(f"'{name}' is not an input of the graph; inputs: {', '.join(imp.inputs)}", source=source)
        a = np.asarray(a)
        shape = imp.netlist.populations[imp.inputs[name]].shape
        if a.ndim < 2 or int(np.prod(a.shape[2:])) != int(np.prod(shape)):
            raise ConfigError(f"input '{name}' has shape {a.shape}; expected (samples, ticks, "
                              f"{', '.join(map(str, shape))})", source=source)
        if a.dtype != bool and not np.all((a == 0) | (a == 1)):
            raise ConfigError(f"input '{name}' must hold spikes (booleans, or 0 and 1)", source=source)
        out[name] = a.astype(bool).reshape(a.shape[0], a.shape[1], *shape)
    lengths = {a.shape[:2] for a in out.values()}
    if len(lengths) > 1:
        raise ConfigError(f"inputs differ in (samples, ticks): {sorted(lengths)}", source=source)
    return out


def run_spikes(imp: Imported, engine: Engine, spikes: np.ndarray | Mapping[str, np.ndarray], *,
               record: bool = False, sample_ids=None, traffic: str = "sum", probes: bool = False,
               ) -> tuple[RunResult, int]:
    """Run the input spikes (samples, steps, *shape), then `imp.latency` ticks more so the last step
    reaches the deepest output; returns the result (output populations read out) and the ticks run."""
    inputs = as_inputs(imp, spikes)
    samples, steps = next(iter(inputs.values())).shape[:2]
    ticks = steps + imp.latency
    drive = {imp.inputs[k]: np.concatenate([a, np.zeros((samples, ticks - steps, *a.shape[2:]), bool)], axis=1)
             for k, a in inputs.items()}
    if imp.bias_source:
        drive[imp.bias_source] = np.ones((samples, ticks, 1), bool)
    res = engine.run(SpikeDrive(drive), ticks, readout=list(dict.fromkeys(imp.outputs.values())), record=record,
                     sample_ids=sample_ids, traffic=traffic, probes=probes)
    return res, ticks


def aligned_spikes(imp: Imported, res: RunResult, population: str, sample: int, steps: int) -> np.ndarray:
    """bool (steps, size): the chip's spikes of `population` at ticks depth .. depth + steps, i.e. on the
    clock of a layer-synchronous simulator (needs record=True)."""
    t, j = res.spikes(population, sample)
    d = imp.depth[population]
    out = np.zeros((steps, imp.netlist.populations[population].size), bool)
    keep = (t >= d) & (t < d + steps)
    out[t[keep] - d, j[keep]] = True
    return out


def silent_outputs(imp: Imported, counts: Mapping[str, np.ndarray]) -> list[str]:
    """One line per spiking output that spiked in no sample, naming the likely cause when a population's
    gains and thresholds make one plain: one that can never reach its threshold, or whose input moves v
    by under 1 % of it a tick (as a graph read with another library's dt does)."""
    from .. import neurons as nm

    silent = [o for o, p in imp.outputs.items() if imp.netlist.populations[p].params is not None
              and imp.netlist.populations[p].params.spiking and not np.any(counts[o])]
    if not silent:
        return []
    cause = _likely_cause(imp, nm)
    return [f"output '{o}' never spiked in any of {len(counts[o])} samples" + (f": {cause}" if cause else "")
            for o in silent]


def _likely_cause(imp: Imported, nm) -> str:
    net = imp.netlist
    drive: dict[str, np.ndarray] = {}
    for pr in net.projections.values():  # the most a tick of every input spiking adds, per neuron
        if pr.pre == pr.post:
            continue
        w = np.asarray(pr.dense()[0], np.float64) * float(getattr(pr, "gain", 1.0))
        drive[pr.post] = drive.get(pr.post, 0.0) + np.clip(w, 0, None).sum(axis=0)
    worst = None
    for name, pop in net.populations.items():
        m = pop.params
        if pop.is_source or m is None or not m.spiking or name not in drive:
            continue
        co = nm.lower(m, pop.size)
        step = drive[name] * co.input_gain * (co.current_gain if m.has_current else 1.0)
        leak_i = 1.0 - co.keep_i.astype(np.float64) if m.has_current else np.ones(pop.size)
        leak_v = 1.0 - co.keep_v.astype(np.float64)
        theta = co.theta.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            ceiling = np.where(leak_v > 0, step / np.maximum(leak_i, 1e-30) / np.where(leak_v > 0, leak_v, 1.0), np.inf)
        if np.all(ceiling < theta):
            return (f"population '{name}' can never reach its threshold (at most {float(ceiling.max()):.3g} with every "
                    f"input spiking every tick, threshold {float(theta.min()):.3g}; input gain "
                    f"{float(co.input_gain.max()):.3g} at dt = {imp.dt:g} s, {imp.discretisation}): {_hint(imp)}")
        frac = float((step / theta).max())
        if frac < 0.01 and (worst is None or frac < worst[1]):
            worst = (name, frac, float(co.input_gain.max()))
    if worst:
        return (f"in population '{worst[0]}' a tick of every input spiking moves v by at most {100 * worst[1]:.2g} % "
                f"of its threshold (input gain {worst[2]:.3g} at dt = {imp.dt:g} s, {imp.discretisation}): {_hint(imp)}")
    return ""


def _hint(imp: Imported) -> str:
    return ("is dt the one the graph was written for? name its writer with --from" if imp.writer == "nir"
            else f"the graph may not come from {imp.writer}")
