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
