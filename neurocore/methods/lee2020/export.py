"""Export of a trained lee2020 network to a NIR graph (through the `nir` package).

The nodes, parameters and the discrete update they stand for are listed in the package
docstring (`neurocore.methods.lee2020`); this module writes exactly those.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .spec import Lee2020NetSpec, Stage


def _full(shape: tuple[int, ...], value: float) -> np.ndarray:
    return np.full(shape, value, dtype=np.float64)


def neuron_node(shape: tuple[int, ...], leak: float, v_th: float | None, dt: float) -> Any:
    """The NIR neuron whose forward-Euler step of length dt is v = leak * v + I, then (if v_th is
    given) a spike where v > v_th and v = 0 there: LIF/LI for leak < 1, IF/I for leak = 1."""
    import nir

    if leak < 1.0:
        tau = dt / (1.0 - leak)  # dt / tau = 1 - leak
        r = tau / dt  # (dt / tau) * r = 1: the input enters unscaled
        if v_th is None:
            return nir.LI(tau=_full(shape, tau), r=_full(shape, r), v_leak=_full(shape, 0.0))
        return nir.LIF(tau=_full(shape, tau), r=_full(shape, r), v_leak=_full(shape, 0.0),
                       v_threshold=_full(shape, v_th), v_reset=_full(shape, 0.0))
    if v_th is None:
        return nir.I(r=_full(shape, 1.0 / dt))
    return nir.IF(r=_full(shape, 1.0 / dt), v_threshold=_full(shape, v_th), v_reset=_full(shape, 0.0))


def to_nir(plan: list[Stage], net: Lee2020NetSpec, weights: dict[str, np.ndarray], dt: float = 1.0,
           ts: int | None = None) -> Any:
    """The NIR graph of `plan` with `weights` (float32 arrays by stage name)."""
    import nir

    if not dt > 0:
        raise ValueError(f"dt = {dt!r}: must be > 0")
    nodes: dict[str, Any] = {"input": nir.Input(input_type={"input": np.array(plan[0].in_shape)})}
    chain = ["input"]

    def add(name: str, node: Any) -> None:
        nodes[name] = node
        chain.append(name)

    flat = False
    for st in plan:
        w = np.asarray(weights.get(st.name, np.zeros(0)), dtype=np.float32)
        if st.kind == "conv":
            add(st.name, nir.Conv2d(input_shape=tuple(st.in_shape[1:]), weight=w, stride=1, padding=st.kernel // 2,
                                    dilation=1, groups=1, bias=np.zeros(st.out_shape[0], np.float32)))
            add(f"{st.name}_lif", neuron_node(st.out_shape, net.leak, net.v_th, dt))
        elif st.kind == "pool":
            k = np.array([st.kernel, st.kernel])
            add(st.name, nir.AvgPool2d(kernel_size=k, stride=k.copy(), padding=np.array([0, 0])))
            add(f"{st.name}_if", neuron_node(st.out_shape, 1.0, net.pool_threshold, dt))
        else:
            if not flat and len(st.in_shape) > 1:
                add("flatten", nir.Flatten(input_type={"input": np.array(st.in_shape)}, start_dim=0, end_dim=-1))
            flat = True
            if st.kind == "fc":
                add(st.name, nir.Linear(weight=w))
                add(f"{st.name}_lif", neuron_node(st.out_shape, net.leak, net.v_th, dt))
            else:
                add("output_linear", nir.Linear(weight=w))
                leak = net.leak if net.readout == "leaky" else 1.0
                add("output_integrator", neuron_node(st.out_shape, leak, None, dt))
    add("output", nir.Output(output_type={"output": np.array(plan[-1].out_shape)}))
    edges = list(zip(chain[:-1], chain[1:]))
    metadata = {"producer": "neurocore.methods.lee2020", "dt": float(dt), "discretisation": "euler",
                "spike": "v > v_threshold, then v = v_reset", "delay": "none: a node sees its input of the same step",
                "output_scale": 1.0 / (net.v_th * ts) if ts else 0.0, "time_steps": int(ts or 0)}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)
