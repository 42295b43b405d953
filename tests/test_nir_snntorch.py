"""NIR against snnTorch, the reference no one here wrote: networks built in snnTorch, exported with
its own `export_to_nir`, imported into neurocore and driven with the same input spikes; the chip's
output spikes at tick t + depth must equal snnTorch's at step t."""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")
pytest.importorskip("nirtorch")
import snntorch.utils  # noqa: E402
from snntorch.export_nir import export_to_nir  # noqa: E402

from neurocore.engine import Engine  # noqa: E402
from neurocore.mapping import place  # noqa: E402
from neurocore.nir import aligned_spikes, from_nir, run_spikes, to_nir  # noqa: E402

from .helpers import big_core  # noqa: E402

CHIP = big_core()  # float32 weights: loihi_like stores static weights in 16 bits


def export(net, shape):
    """snnTorch's own export (its 1.0 tracer needs the batch dimension ignored)."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return export_to_nir(net, torch.zeros(1, *shape), ignore_dims=[0])


def reference(net, x: np.ndarray) -> np.ndarray:
    """snnTorch's output spikes, bool (samples, steps, outputs)."""
    snntorch.utils.reset(net)
    out = []
    with torch.no_grad():
        for t in range(x.shape[1]):
            o = net(torch.tensor(x[:, t], dtype=torch.float32))
            out.append((o[0] if isinstance(o, tuple) else o).reshape(x.shape[0], -1).numpy() > 0)
    return np.stack(out, 1)


def chip(graph, x: np.ndarray, reset: str, bias: str = "source") -> np.ndarray:
    imp = from_nir(graph, dt=1e-4, discretisation="euler", reset=reset, bias=bias)
    res, _ = run_spikes(imp, Engine(place(imp.netlist, CHIP), seed=0), x, record=True)
    (out,) = set(imp.outputs.values())
    return np.stack([aligned_spikes(imp, res, out, s, x.shape[1]) for s in range(x.shape[0])])


def agreement(net, shape, reset, steps=50, samples=4, p=0.3, seed=0, bias="source") -> tuple[int, int, int]:
    """(differing output spikes, reference spikes, output neuron-steps)."""
    x = np.random.default_rng(seed).random((samples, steps, *shape)) < p
    ref, got = reference(net, x), chip(export(net, shape), x, reset, bias)
    return int((ref != got).sum()), int(ref.sum()), ref.size


def full(n, v):
    return torch.full((n,), float(v))  # snnTorch 1.0 exports scalar beta/threshold with shape (), which NIR rejects


# (snnTorch reset_mechanism, reset_delay) -> neurocore's reset option (see neurocore.nir)
CASES = [("zero", False, "nir"), ("zero", True, "nir"), ("subtract", True, "snntorch-subtract")]


@pytest.mark.parametrize("mech,delay,reset", CASES)
def test_leaky_mlp_matches_snntorch(mech, delay, reset) -> None:
    torch.manual_seed(0)
    kw = dict(init_hidden=True, reset_mechanism=mech, reset_delay=delay)
    net = torch.nn.Sequential(torch.nn.Linear(20, 30), snn.Leaky(beta=full(30, 0.9), threshold=full(30, 1.0), **kw),
                              torch.nn.Linear(30, 10), snn.Leaky(beta=full(10, 0.8), threshold=full(10, 0.5), **kw))
    bad, spikes, _ = agreement(net, (20,), reset)
    assert spikes > 20 and bad <= spikes // 1000, (bad, spikes)


@pytest.mark.parametrize("mech,delay,reset", [("zero", False, "nir"), ("zero", True, "snntorch-zero"),
                                              ("subtract", True, "snntorch-subtract")])
def test_synaptic_mlp_matches_snntorch(mech, delay, reset) -> None:
    torch.manual_seed(1)
    kw = dict(init_hidden=True, reset_mechanism=mech, reset_delay=delay)
    net = torch.nn.Sequential(
        torch.nn.Linear(20, 30), snn.Synaptic(alpha=full(30, 0.7), beta=full(30, 0.9), threshold=full(30, 1.0), **kw),
        torch.nn.Linear(30, 10), snn.Synaptic(alpha=full(10, 0.5), beta=full(10, 0.8), threshold=full(10, 0.5), **kw))
    bad, spikes, _ = agreement(net, (20,), reset)
    assert spikes > 20 and bad <= spikes // 1000, (bad, spikes)


def test_synaptic_subtract_without_reset_delay_is_snntorchs_own_quirk() -> None:
    """snnTorch's Synaptic with reset_delay=False subtracts the threshold once more before the next
    threshold test when v stays above it after a reset (its reset signal is taken from the reset
    membrane): no chip neuron computes that, so agreement is only approximate."""
    torch.manual_seed(1)
    kw = dict(init_hidden=True, reset_mechanism="subtract", reset_delay=False)
    net = torch.nn.Sequential(
        torch.nn.Linear(20, 30), snn.Synaptic(alpha=full(30, 0.7), beta=full(30, 0.9), threshold=full(30, 1), **kw),
        torch.nn.Linear(30, 10), snn.Synaptic(alpha=full(10, 0.5), beta=full(10, 0.8), threshold=full(10, 1), **kw))
    bad, spikes, size = agreement(net, (20,), "subtract")
    assert bad > 0 and bad < 0.2 * size


def test_leaky_subtract_without_reset_delay_agrees_until_a_membrane_outlasts_its_reset() -> None:
    """The same quirk in snnTorch's Leaky (see neurocore.nir): with inputs too weak for any membrane
    to reach 2 theta every spike agrees; with strong ones, spikes drift once one does."""
    kw = dict(init_hidden=True, reset_mechanism="subtract", reset_delay=False)

    def net(out_threshold):
        torch.manual_seed(0)
        return torch.nn.Sequential(
            torch.nn.Linear(20, 30), snn.Leaky(beta=full(30, 0.9), threshold=full(30, 1.0), **kw),
            torch.nn.Linear(30, 10), snn.Leaky(beta=full(10, 0.8), threshold=full(10, out_threshold), **kw))

    bad, spikes, _ = agreement(net(0.5), (20,), "subtract", steps=200, samples=20)
    assert bad > 0 and bad < 0.2 * spikes
    weak = net(1.0)
    with torch.no_grad():
        for layer in (weak[0], weak[2]):
            layer.weight.mul_(0.5)
    bad, spikes, _ = agreement(weak, (20,), "subtract", steps=200, samples=20)
    assert spikes > 20 and bad == 0, (bad, spikes)


def test_conv_avgpool_flatten_on_event_camera_frames_matches_snntorch() -> None:
    """N-MNIST-shaped input: 2 x 34 x 34 polarity frames as a shaped spike source."""
    torch.manual_seed(2)
    c = lambda shape, v: torch.full(shape, float(v))  # noqa: E731
    net = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 5, stride=2), snn.Leaky(beta=c((4, 15, 15), 0.9), threshold=c((4, 15, 15), 1.0),
                                                      init_hidden=True),
        torch.nn.AvgPool2d(3), torch.nn.Flatten(), torch.nn.Linear(4 * 5 * 5, 10),
        snn.Leaky(beta=full(10, 0.8), threshold=full(10, 0.3), init_hidden=True))
    with torch.no_grad():
        net[0].weight.mul_(4.0)
        net[4].weight.mul_(6.0)
    graph = export(net, (2, 34, 34))
    imp = from_nir(graph, dt=1e-4, discretisation="euler", reset="snntorch-subtract")
    assert imp.netlist.populations[imp.inputs["input"]].shape == (2, 34, 34)
    assert imp.netlist.projections["input->1"].kind == "conv"
    bad, spikes, _ = agreement(net, (2, 34, 34), "snntorch-subtract", steps=30, samples=2, p=0.2)
    assert spikes > 10 and bad <= spikes // 1000, (bad, spikes)


@pytest.mark.parametrize("mech,reset", [("subtract", "snntorch-subtract"), ("zero", "snntorch-zero")])
def test_rleaky_recurrent_net_matches_snntorch(mech, reset) -> None:
    torch.manual_seed(3)
    kw = dict(init_hidden=True, reset_mechanism=mech)
    net = torch.nn.Sequential(
        torch.nn.Linear(10, 12), snn.RLeaky(beta=full(12, 0.9), threshold=full(12, 1.0), linear_features=12, **kw),
        torch.nn.Linear(12, 4), snn.Leaky(beta=full(4, 0.8), threshold=full(4, 0.5), **kw))
    bad, spikes, _ = agreement(net, (10,), reset)
    assert spikes > 20 and bad <= spikes // 1000, (bad, spikes)


def test_neuron_biases_start_early_on_the_chip() -> None:
    """With the chip's own neuron biases a layer at depth d integrates its bias for d ticks before the
    reference's step 0 reaches it: spikes drift. bias='source' (above) removes exactly that."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(20, 30), snn.Leaky(beta=full(30, 0.9), threshold=full(30, 1),
                                                                 init_hidden=True),
                              torch.nn.Linear(30, 10), snn.Leaky(beta=full(10, 0.8), threshold=full(10, 0.5),
                                                                 init_hidden=True))
    exact, _, _ = agreement(net, (20,), "snntorch-subtract")
    drift, spikes, _ = agreement(net, (20,), "snntorch-subtract", bias="neuron")
    assert exact == 0 and drift > 0


@settings(max_examples=12, deadline=None)
@given(n_in=st.integers(1, 24), n_hid=st.integers(1, 32), n_out=st.integers(1, 8), scale=st.floats(0.3, 1.5),
       synaptic=st.booleans(), mech=st.sampled_from(["zero", "subtract"]), seed=st.integers(0, 2**16))
def test_random_snntorch_nets_agree(n_in, n_hid, n_out, scale, synaptic, mech, seed) -> None:
    """Random sizes, weights, per-neuron decays and thresholds: >= 99.9 % of output spikes agree."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)

    def neuron(n):
        beta = 0.5 + 0.5 * torch.rand(n, generator=g)
        thr = 0.3 + torch.rand(n, generator=g)
        kw = dict(threshold=thr, init_hidden=True, reset_mechanism=mech)
        if synaptic:
            return snn.Synaptic(alpha=0.3 + 0.6 * torch.rand(n, generator=g), beta=beta, **kw)
        return snn.Leaky(beta=beta, **kw)

    l1, l2 = torch.nn.Linear(n_in, n_hid), torch.nn.Linear(n_hid, n_out)
    with torch.no_grad():
        for layer in (l1, l2):
            layer.weight.mul_(scale * 3)
    net = torch.nn.Sequential(l1, neuron(n_hid), l2, neuron(n_out))
    reset = {"zero": "snntorch-zero" if synaptic else "nir", "subtract": "snntorch-subtract"}[mech]
    bad, spikes, size = agreement(net, (n_in,), reset, steps=40, samples=2, seed=seed)
    assert bad <= max(1, spikes // 1000), (bad, spikes, size)


def test_snntorch_reads_our_export_back() -> None:
    """neurocore -> NIR -> snnTorch's import_from_nir: its spikes equal the chip's (zero reset, the only
    reset snnTorch's importer builds)."""
    from snntorch.import_nir import import_from_nir

    from neurocore import neurons as nm
    from neurocore.netlist import Netlist

    rng = np.random.default_rng(1)
    net = Netlist("ff")
    net.add_source("in", 12)
    net.add_population("h", 16, nm.LIF(dv=0.1, theta=1.0, reset="zero"))
    net.add_population("o", 4, nm.CubaLIF(di=0.4, dv=0.2, theta=0.8, reset="zero"))
    net.connect("a", "in", "h", rng.normal(0, 0.6, (12, 16)).astype(np.float32))
    net.connect("b", "h", "o", rng.normal(0, 0.6, (16, 4)).astype(np.float32), gain=0.9)
    graph = to_nir(net, dt=1e-4)
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = import_from_nir(graph)
    x = rng.random((3, 40, 12)) < 0.3
    ref = reference(module, x)
    imp = from_nir(graph)
    res, _ = run_spikes(imp, Engine(place(imp.netlist, CHIP)), x, record=True)
    got = np.stack([aligned_spikes(imp, res, "o", s, 40) for s in range(3)])
    assert ref.sum() > 5 and np.array_equal(ref, got)


def test_norse_lifbox_matches_norse() -> None:
    """Norse as a second reference (when installed: `pip install --no-deps norse`). Norse 1.1 writes
    tau = dt / tau_mem_inv (dt x tau, with its dt = 1e-3) and r = 1: its LIFBox nodes come back with
    forward Euler at dt = 1e-6."""
    nt = pytest.importorskip("norse.torch")
    torch.manual_seed(0)
    p = nt.LIFBoxParameters(tau_mem_inv=torch.full((8,), 100.0), v_th=torch.full((8,), 0.3), v_leak=torch.zeros(8),
                            v_reset=torch.zeros(8))
    lin = torch.nn.Linear(5, 8, bias=False)
    with torch.no_grad():
        lin.weight.mul_(3)
    model = nt.SequentialState(lin, nt.LIFBoxCell(p))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = nt.to_nir(model, torch.zeros(1, 5))
    x = np.random.default_rng(0).random((2, 60, 5)) < 0.4
    outs, state = [], None
    with torch.no_grad():
        for t in range(60):
            o, state = model(torch.tensor(x[:, t], dtype=torch.float32), state)
            outs.append(o.numpy() > 0)
    ref = np.stack(outs, 1)
    imp = from_nir(graph, dt=1e-6, discretisation="euler")
    res, _ = run_spikes(imp, Engine(place(imp.netlist, CHIP)), x, record=True)
    (out,) = set(imp.outputs.values())
    got = np.stack([aligned_spikes(imp, res, out, s, 60) for s in range(2)])
    assert ref.sum() > 10 and np.array_equal(ref, got)
