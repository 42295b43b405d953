"""SSNN-BP's export: the forward (inference) net of a trained run, with its checkpoint's weights
and homeostatic biases, as a netlist and as a NIR file (`neurocore nir export RUN_DIR`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from .trainer import Trainer

if TYPE_CHECKING:
    from ...experiment import Experiment
    from ...netlist import Netlist


def forward_netlist(run_dir: str | Path, exp: "Experiment | None" = None) -> "Netlist":
    """The forward (inference) SSNN-BP netlist of a training run, with its checkpoint's weights and biases."""
    from ...runs import run_experiment
    from .netlist import build_ssnn, hidden_names, weight_names

    run = Path(run_dir)
    exp = exp or run_experiment(run)
    tr = Trainer(exp, run)
    tr.restore(run)
    net = build_ssnn(exp.net, exp.train.ts, {w: tr.engine.weights(w) for w in weight_names(exp.net)}, train=False)
    for pop in hidden_names(exp.net):  # homeostatic biases travel with the weights
        bias = tr.engine.bias(pop)
        if bias.any():
            p = net.populations[pop]
            net.populations[pop] = dataclasses.replace(p, params=dataclasses.replace(p.params, bias=bias))
    return net


def export(exp: "Experiment", run: Path, output: str, dt: float, discretisation: str) -> str:
    """The run's forward net written as a NIR file; the line that says what was written."""
    from ...nir import to_nir, write_nir

    net = forward_netlist(run, exp)
    path = write_nir(output, to_nir(net, dt=dt, discretisation=discretisation))
    pops = ", ".join(f"{p.name} {p.size}" for p in net.populations.values())
    return (f"wrote {path}: {net.name} ({pops}; {len(net.projections)} projections), dt = {dt:g} s, "
            f"{discretisation}")
