"""Goldens of NIR writers: each library's own export of small nets, random input spikes, and that
library's own simulation of the same net on them (spike counts per step), so CI checks
`from_nir(..., writer=...)` without the libraries (tests/test_nir_writers.py replays them).

Rerun (about two minutes), from the repository root: the snntorch_* cases with the main interpreter
(`python tests/reference/make_nir_writer_goldens.py snntorch_lif snntorch_cubalif snntorch_conv`:
snnTorch 1.0 writes LIF.v_reset, which the nir 1.0.4 that Sinabs pins in the venv lacks), the others in a venv beside the main interpreter so the
pinned CPU torch stays (Norse's plain install would pull a CUDA torch; lava-dl needs Python 3.10):

    python -m venv /tmp/nir-venv --system-site-packages
    echo torch==2.13.0 > /tmp/torch-pin.txt
    /tmp/nir-venv/bin/pip install -c /tmp/torch-pin.txt sinabs rockpool spyx
    /tmp/nir-venv/bin/pip install --no-deps norse
    /tmp/nir-venv/bin/python tests/reference/make_nir_writer_goldens.py [case ...]

It writes tests/reference/nir_writers/<case>.nir (the library's export, through nir.write) and
<case>.npz: x (bool: samples, steps, *input shape), ref (float32: samples, steps, outputs: the
library's output spikes per step, a count where it sends several), writer, versions. The live tests
import the builders below (CASES) and rerun whichever the interpreter has. Measured 2026-12-05 with
snntorch 1.0.0, norse 1.1.0, sinabs 3.1.3, rockpool 3.1.0, spyx 1.0.0, nir 1.0.4 in the venv.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import warnings
from pathlib import Path

import numpy as np

OUT = Path(__file__).parent / "nir_writers"
SAMPLES, STEPS = 4, 40


def _conv_inputs(graph, sizes, flat=None) -> None:
    """Sinabs and Norse leave Conv2d.input_shape (and Sinabs Flatten.input_type) None, which nir.write cannot
    store: the (H, W) each convolution reads, the shape the Flatten reads."""
    convs = [n for n in graph.nodes.values() if type(n).__name__ == "Conv2d"]
    for node, hw in zip(convs, sizes):
        node.input_shape = np.array(hw)
    for node in graph.nodes.values():
        if type(node).__name__ == "Flatten" and (node.input_type or {}).get("input") is None:
            node.input_type = {"input": np.array(flat)}


def _x(shape, seed, p=0.3, steps=STEPS, samples=SAMPLES):
    return np.random.default_rng(seed).random((samples, steps, *shape)) < p


def _quiet():
    stack = contextlib.ExitStack()
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
    return stack


# -- snnTorch --------------------------------------------------------------------------------------

def _snntorch(net, shape, seed, **kw):
    import snntorch.utils
    import torch
    from snntorch.export_nir import export_to_nir

    with _quiet():
        graph = export_to_nir(net, torch.zeros(1, *shape), ignore_dims=[0])
    x = _x(shape, seed, **kw)
    snntorch.utils.reset(net)
    out = []
    with torch.no_grad():
        for t in range(x.shape[1]):
            o = net(torch.tensor(x[:, t], dtype=torch.float32))
            out.append((o[0] if isinstance(o, tuple) else o).reshape(x.shape[0], -1).numpy())
    return graph, x, np.stack(out, 1)


def snntorch_lif():
    import snntorch as snn
    import torch

    torch.manual_seed(0)
    f = lambda n, v: torch.full((n,), float(v))  # noqa: E731
    net = torch.nn.Sequential(torch.nn.Linear(20, 30), snn.Leaky(beta=f(30, 0.9), threshold=f(30, 1.0), init_hidden=True),
                              torch.nn.Linear(30, 10), snn.Leaky(beta=f(10, 0.8), threshold=f(10, 0.5), init_hidden=True))
    return _snntorch(net, (20,), 1)


def snntorch_cubalif():
    import snntorch as snn
    import torch

    torch.manual_seed(1)
    f = lambda n, v: torch.full((n,), float(v))  # noqa: E731
    net = torch.nn.Sequential(
        torch.nn.Linear(20, 30), snn.Synaptic(alpha=f(30, 0.7), beta=f(30, 0.9), threshold=f(30, 1.0), init_hidden=True),
        torch.nn.Linear(30, 10), snn.Synaptic(alpha=f(10, 0.5), beta=f(10, 0.8), threshold=f(10, 0.5), init_hidden=True))
    return _snntorch(net, (20,), 2)


def snntorch_conv():
    import snntorch as snn
    import torch

    torch.manual_seed(2)
    c = lambda shape, v: torch.full(shape, float(v))  # noqa: E731
    net = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 5, stride=2), snn.Leaky(beta=c((4, 15, 15), 0.9), threshold=c((4, 15, 15), 1.0),
                                                      init_hidden=True),
        torch.nn.AvgPool2d(3), torch.nn.Flatten(), torch.nn.Linear(4 * 5 * 5, 10),
        snn.Leaky(beta=c((10,), 0.8), threshold=c((10,), 0.3), init_hidden=True))
    with torch.no_grad():
        net[0].weight.mul_(4.0)
        net[4].weight.mul_(6.0)
    return _snntorch(net, (2, 34, 34), 3, p=0.2, steps=30, samples=2)


# -- Norse -----------------------------------------------------------------------------------------

def _norse(model, shape, seed, scale=3.0, conv_in=(), **kw):
    import norse.torch as nt
    import torch

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)):
                m.weight.mul_(scale)
    with _quiet():
        graph = nt.to_nir(model, torch.zeros(1, *shape))
    _conv_inputs(graph, conv_in)
    x = _x(shape, seed, **kw)
    outs, state = [], None
    with torch.no_grad():
        for t in range(x.shape[1]):
            o, state = model(torch.tensor(x[:, t], dtype=torch.float32), state)
            outs.append(o.reshape(x.shape[0], -1).numpy())
    return graph, x, np.stack(outs, 1)


def _box(n, tau_inv, th):
    import norse.torch as nt
    import torch

    return nt.LIFBoxCell(nt.LIFBoxParameters(tau_mem_inv=torch.full((n,), tau_inv), v_th=torch.full((n,), th),
                                             v_leak=torch.zeros(n), v_reset=torch.zeros(n)))


def norse_lif():
    import norse.torch as nt
    import torch

    torch.manual_seed(0)
    model = nt.SequentialState(torch.nn.Linear(20, 30, bias=False), _box(30, 100.0, 0.3),
                               torch.nn.Linear(30, 10, bias=False), _box(10, 200.0, 0.2))
    return _norse(model, (20,), 4)


def norse_cubalif():
    import norse.torch as nt
    import torch

    torch.manual_seed(1)

    def cell(n, syn, mem, th):
        return nt.LIFCell(nt.LIFParameters(tau_syn_inv=torch.full((n,), syn), tau_mem_inv=torch.full((n,), mem),
                                           v_th=torch.full((n,), th), v_leak=torch.zeros(n), v_reset=torch.zeros(n)))

    model = nt.SequentialState(torch.nn.Linear(20, 30, bias=False), cell(30, 200.0, 100.0, 0.1),
                               torch.nn.Linear(30, 10, bias=False), cell(10, 300.0, 150.0, 0.05))
    return _norse(model, (20,), 5)


def norse_conv():
    """Conv2d, LIFBox, a second Conv2d over the whole map (Norse's exporter maps no Flatten), LIFBox."""
    import norse.torch as nt
    import torch

    torch.manual_seed(2)

    def box(shape, tau_inv, th):
        return nt.LIFBoxCell(nt.LIFBoxParameters(tau_mem_inv=torch.full(shape, tau_inv), v_th=torch.full(shape, th),
                                                 v_leak=torch.zeros(shape), v_reset=torch.zeros(shape)))

    model = nt.SequentialState(torch.nn.Conv2d(2, 4, 5, stride=2), box((4, 15, 15), 100.0, 0.3),
                               torch.nn.Conv2d(4, 10, 15), box((10, 1, 1), 200.0, 0.2))
    with torch.no_grad():
        model[0].bias.zero_()  # (Norse's exporter needs a bias)
        model[2].bias.zero_()
    return _norse(model, (2, 34, 34), 6, scale=6.0, conv_in=[(34, 34), (15, 15)], p=0.2, steps=30, samples=2)


# -- Sinabs: its own reading of its export (sinabs.from_nir) is the reference -----------------------

def _sinabs(model, shape, seed, conv_in=(), flat=None, **kw):
    import sinabs
    import torch

    with _quiet():
        graph = sinabs.to_nir(model, torch.zeros(1, *shape))
    _conv_inputs(graph, conv_in, flat)
    x = _x(shape, seed, **kw)
    samples, steps = x.shape[:2]
    with _quiet():
        back = sinabs.from_nir(graph, batch_size=samples)
    with torch.no_grad():
        out = back(torch.tensor(x.reshape(samples * steps, *shape), dtype=torch.float32))
    out = out[0] if isinstance(out, tuple) else out  # nirtorch's executor returns (output, state)
    return graph, x, out.reshape(samples, steps, -1).numpy()


def sinabs_if():
    import sinabs.layers as sl
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(20, 30), sl.IAFSqueeze(batch_size=1, min_v_mem=-1.0),
                                torch.nn.Linear(30, 10), sl.IAFSqueeze(batch_size=1, min_v_mem=-1.0))
    with torch.no_grad():
        model[0].weight.mul_(3)
        model[2].weight.mul_(3)
    return _sinabs(model, (20,), 7)


def sinabs_lif():
    import sinabs.layers as sl
    import torch

    torch.manual_seed(1)
    # per-neuron thresholds too: Sinabs 3.1 writes a per-neuron tau beside a scalar threshold, which nir refuses
    f = lambda n, v: torch.full((n,), float(v))  # noqa: E731
    model = torch.nn.Sequential(
        torch.nn.Linear(20, 30), sl.LIFSqueeze(tau_mem=f(30, 10.0), spike_threshold=f(30, 1.0), batch_size=1),
        torch.nn.Linear(30, 10), sl.LIFSqueeze(tau_mem=f(10, 5.0), spike_threshold=f(10, 1.0), batch_size=1))
    with torch.no_grad():
        model[0].weight.mul_(2)
        model[2].weight.mul_(2)
    return _sinabs(model, (20,), 8)


def sinabs_conv():
    """The NIR paper's N-MNIST CNN in miniature: Conv2d, IAF, SumPool2d, Flatten, Linear, IAF."""
    import sinabs.layers as sl
    import torch

    torch.manual_seed(2)
    # (a zero bias: nir.write cannot store Sinabs's bias=None)
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 5, stride=2), sl.IAFSqueeze(batch_size=1, min_v_mem=-1.0),
                                sl.SumPool2d(3), torch.nn.Flatten(), torch.nn.Linear(4 * 5 * 5, 10, bias=False),
                                sl.IAFSqueeze(batch_size=1, min_v_mem=-1.0))
    with torch.no_grad():
        model[0].bias.zero_()
        model[0].weight.mul_(4.0)
        model[4].weight.mul_(3.0)
    return _sinabs(model, (2, 34, 34), 9, conv_in=[(34, 34)], flat=(4, 5, 5), p=0.2, steps=30, samples=2)


# -- Rockpool ----------------------------------------------------------------------------------------

def rockpool_cubalif():
    import torch
    from rockpool.nn.combinators import Sequential
    from rockpool.nn.modules import LIFTorch, LinearTorch
    from rockpool.nn.modules.torch.nir import to_nir

    torch.manual_seed(0)
    dt = 1e-3
    model = Sequential(LinearTorch((20, 30)), LIFTorch(30, tau_mem=0.02, tau_syn=0.01, threshold=1.0, dt=dt),
                       LinearTorch((30, 10)), LIFTorch(10, tau_mem=0.01, tau_syn=0.005, threshold=0.5, dt=dt))
    with torch.no_grad():
        model[0].weight.mul_(0.3)
        model[2].weight.mul_(0.3)
    with _quiet():
        graph = to_nir(model, torch.zeros(1, 20))
    x = _x((20,), 10)
    model.reset_state()
    with torch.no_grad():
        out, _, _ = model(torch.tensor(x, dtype=torch.float32))
    return graph, x, out.numpy()


# -- Spyx ------------------------------------------------------------------------------------------

def _spyx(layers, shape, n_out, seed):
    import jax.numpy as jnp
    import spyx.nn as snn
    from spyx.nir import to_nir

    model = snn.Sequential(*layers)
    x = _x(shape, seed)
    out, _ = snn.run(model, jnp.asarray(x, jnp.float32), batch_major=True)
    with _quiet():
        graph = to_nir(model, {"input": np.array(shape)}, {"output": np.array([n_out])}, dt=1)
    return graph, x, np.asarray(out)


def _scaled_linear(n_in, n_out, rngs, scale):
    from flax import nnx

    lin = nnx.Linear(n_in, n_out, rngs=rngs)
    lin.kernel[...] = lin.kernel[...] * scale
    return lin


def spyx_lif():
    import spyx.nn as snn
    from flax import nnx

    r = nnx.Rngs(0)
    return _spyx([_scaled_linear(20, 30, r, 3.0), snn.LIF((30,), beta=0.9, rngs=r),
                  _scaled_linear(30, 10, r, 3.0), snn.LIF((10,), beta=0.8, threshold=0.5, rngs=r)], (20,), 10, 11)


def spyx_cubalif():
    import spyx.nn as snn
    from flax import nnx

    r = nnx.Rngs(1)
    return _spyx([_scaled_linear(20, 30, r, 2.0), snn.CuBaLIF((30,), alpha=0.7, beta=0.9, rngs=r),
                  _scaled_linear(30, 10, r, 2.0), snn.CuBaLIF((10,), alpha=0.5, beta=0.8, threshold=0.5, rngs=r)],
                 (20,), 10, 12)


def spyx_conv():
    """Conv (VALID, stride 2), LIF, Flatten, Linear, LIF; Spyx runs channels-last, NIR is channels-first."""
    import jax.numpy as jnp
    import spyx.nn as snn
    from flax import nnx
    from spyx.nir import to_nir

    r = nnx.Rngs(2)
    conv = nnx.Conv(2, 4, kernel_size=(5, 5), strides=(2, 2), padding="VALID", rngs=r)
    conv.kernel[...] = conv.kernel[...] * 4.0
    model = snn.Sequential(conv, snn.LIF((15, 15, 4), beta=0.9, rngs=r), snn.Flatten(),
                           _scaled_linear(900, 10, r, 4.0), snn.LIF((10,), beta=0.8, threshold=0.5, rngs=r))
    x = _x((2, 34, 34), 13, p=0.2, steps=30, samples=2)
    out, _ = snn.run(model, jnp.asarray(np.moveaxis(x, 2, -1), jnp.float32), batch_major=True)
    with _quiet():
        graph = to_nir(model, {"input": np.array((2, 34, 34))}, {"output": np.array([10])}, dt=1)
    return graph, x, np.asarray(out)


CASES = {
    "snntorch_lif": ("snntorch", snntorch_lif), "snntorch_cubalif": ("snntorch", snntorch_cubalif),
    "snntorch_conv": ("snntorch", snntorch_conv),
    "norse_lif": ("norse", norse_lif), "norse_cubalif": ("norse", norse_cubalif), "norse_conv": ("norse", norse_conv),
    "sinabs_if": ("sinabs", sinabs_if), "sinabs_lif": ("sinabs", sinabs_lif), "sinabs_conv": ("sinabs", sinabs_conv),
    "rockpool_cubalif": ("rockpool", rockpool_cubalif),
    "spyx_lif": ("spyx", spyx_lif), "spyx_cubalif": ("spyx", spyx_cubalif), "spyx_conv": ("spyx", spyx_conv),
}
MODULES = {"snntorch": "snntorch", "norse": "norse", "sinabs": "sinabs", "rockpool": "rockpool", "spyx": "spyx"}


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for p in ("nir", "nirtorch", "torch", "snntorch", "norse", "sinabs", "rockpool", "spyx", "jax"):
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            pass
    return out


def main(names: list[str]) -> None:
    import nir

    OUT.mkdir(parents=True, exist_ok=True)
    for name in names or CASES:
        writer, build = CASES[name]
        graph, x, ref = build()
        graph.metadata = {}  # the conventions are named by the test (--from), not by the file
        nir.write(OUT / f"{name}.nir", graph)
        np.savez_compressed(OUT / f"{name}.npz", x=x, ref=np.asarray(ref, np.float32), writer=writer,
                            versions=json.dumps(versions()))
        print(f"{name}: {int(np.asarray(ref).sum())} reference spikes, {x.shape}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
