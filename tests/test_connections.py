"""Convolution, pooling and scale connections: their unrolled matrices against PyTorch, and mapped
runs against the numpy reference spike for spike."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurocore.connections import Conv2d, Pool2d, Scale
from neurocore.engine import Engine, SourceDrive
from neurocore.engine.reference import reference_run
from neurocore.errors import ConfigError
from neurocore.mapping import place
from neurocore.netlist import Netlist
from neurocore.neurons import IF, LIF

from .helpers import engine_spikes, make_chip


@st.composite
def convs(draw) -> tuple[Conv2d, tuple[int, int, int]]:
    groups = draw(st.sampled_from([1, 2]))
    c_in = groups * draw(st.integers(1, 2))
    c_out = groups * draw(st.integers(1, 3))
    k = draw(st.integers(1, 3))
    d = draw(st.integers(1, 2))
    s = draw(st.integers(1, 2))
    p = draw(st.integers(0, 1))
    h = draw(st.integers(d * (k - 1) + 1, 7))
    w = draw(st.integers(d * (k - 1) + 1, 7))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    weight = rng.integers(-8, 9, (c_out, c_in // groups, k, k)) / 8.0
    return Conv2d(weight, s, p, d, groups), (c_in, h, w)


@settings(max_examples=40, deadline=None)
@given(cv=convs())
def test_unrolled_conv_equals_torch(cv) -> None:
    torch = pytest.importorskip("torch")
    conv, shape = cv
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    want = torch.nn.functional.conv2d(torch.tensor(x)[None], torch.tensor(conv.weight), stride=conv.stride,
                                      padding=conv.padding, dilation=conv.dilation, groups=conv.groups)[0].numpy()
    got = (x.ravel() @ conv.unrolled(shape)).reshape(conv.out_shape(shape))
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert conv.n_synapses(shape) == len(conv.synapses(shape)[0])


@pytest.mark.parametrize("mode,k,s,p", [("avg", 2, 2, 0), ("sum", 3, 2, 1), ("avg", 3, 1, 1)])
def test_unrolled_pooling_equals_torch(mode: str, k: int, s: int, p: int) -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).normal(size=(3, 7, 6)).astype(np.float32)
    pool = Pool2d(mode, k, s, p)
    want = torch.nn.functional.avg_pool2d(torch.tensor(x)[None], k, s, p)[0].numpy()
    if mode == "sum":
        want = want * k * k
    got = (x.ravel() @ pool.unrolled(x.shape)).reshape(pool.out_shape(x.shape))
    np.testing.assert_allclose(got, want, atol=1e-5)


def _conv_net(conv: Conv2d, shape: tuple[int, int, int]) -> Netlist:
    """source (C, H, W) -> conv -> IF map -> 2x2 sum pool (when it fits) -> scale -> flatten -> dense -> LIF."""
    net = Netlist("conv")
    net.add_source("in", shape)
    out = conv.out_shape(shape)
    net.add_population("c1", out, IF(theta=1.0, reset="subtract"))
    net.connect("conv", "in", "c1", conv)
    last = "c1"
    if out[1] >= 2 and out[2] >= 2:
        pool = Pool2d("sum", 2)
        net.add_population("p1", pool.out_shape(out), IF(theta=0.5))
        net.connect("pool", "c1", "p1", pool)
        last = "p1"
    size = net.populations[last].size
    net.add_population("sc", net.populations[last].shape, LIF(dv=0.25, theta=0.5))
    net.connect("scale", last, "sc", Scale(np.linspace(0.5, 1.5, size)))
    net.add_population("out", 3, LIF(dv=0.5, theta=1.0))
    net.connect("fc", "sc", "out", np.random.default_rng(size).integers(-4, 9, (size, 3)) / 4.0)  # flatten: C order
    return net


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cv=convs(), seed=st.integers(0, 100))
def test_mapped_conv_net_equals_reference(cv, seed: int) -> None:
    conv, shape = cv
    net = _conv_net(conv, shape)
    chip = make_chip(8, 8, neurons=16, axons=4000, rows=64, cols=16, crossbars=400, routing=10**6)
    drive = SourceDrive({"in": np.full((1, net.populations["in"].size), 0.3)})
    shared = place(net, chip)
    assert {shared.tiles[k].kind for k in shared.tiles_of("conv")} == {"kernel"}
    mapped = engine_spikes(Engine(shared, seed=seed), drive, 25)
    unrolled = engine_spikes(Engine(place(net, chip, conv="unrolled"), seed=seed), drive, 25)
    ref = reference_run(net, {"in": mapped["in"]}, 25)["spikes"]
    for p in net.populations:
        np.testing.assert_array_equal(mapped[p], ref[p], err_msg=f"population {p}: shared kernels")
        np.testing.assert_array_equal(unrolled[p], ref[p], err_msg=f"population {p}: unrolled")


def test_maps_cut_finer_for_the_routing_table_still_equal_the_reference() -> None:
    """A routing table too small for the natural cut: the mapper cuts the sources and maps into
    smaller slices until every core's table fits, and the spikes do not change."""
    conv = Conv2d(np.random.default_rng(0).normal(0, 1, (4, 2, 3, 3)), padding=(1, 1))
    net = _conv_net(conv, (2, 8, 8))
    kw = dict(neurons=64, axons=4000, rows=64, cols=16, crossbars=400)
    roomy, tight = place(net, make_chip(8, 8, **kw, routing=10**6)), place(net, make_chip(8, 8, **kw, routing=40))
    assert roomy.usage()["routing_entries"].max() > 40 >= tight.usage()["routing_entries"].max()
    assert len(tight.slices_of("in")) > len(roomy.slices_of("in")) and len(tight.slices_of("p1")) > len(roomy.slices_of("p1"))
    drive = SourceDrive({"in": np.full((1, net.populations["in"].size), 0.3)})
    mapped = engine_spikes(Engine(tight, seed=3), drive, 25)
    ref = reference_run(net, {"in": mapped["in"]}, 25)["spikes"]
    for p in net.populations:
        np.testing.assert_array_equal(mapped[p], ref[p], err_msg=f"population {p}")


def test_shape_errors_name_the_projection_and_the_shapes() -> None:
    net = Netlist("bad")
    net.add_source("in", (2, 5, 5))
    net.add_population("c", (4, 3, 3), IF())
    with pytest.raises(ConfigError, match=r"projection.conv.*gives shape \(4, 4, 4\).*'c' has shape \(4, 3, 3\)"):
        net.connect("conv", "in", "c", Conv2d(np.ones((4, 2, 2, 2))))
    with pytest.raises(ConfigError, match="input has 2 channels; the kernel expects 3"):
        net.connect("conv", "in", "c", Conv2d(np.ones((4, 3, 3, 3))))
    net.add_source("flat", 50)
    with pytest.raises(ConfigError, match=r"input of shape \(C, H, W\)"):
        net.connect("conv2", "flat", "c", Conv2d(np.ones((4, 2, 3, 3))))
    with pytest.raises(ConfigError, match="groups = 3 must divide C_out = 4"):
        Conv2d(np.ones((4, 2, 3, 3)), groups=3)


def test_map_report_shows_shared_kernel_tiles() -> None:
    from neurocore.bench.conv import cnn
    from neurocore.chip import load_chip
    from neurocore.report import format_report, mapping_report

    rep = mapping_report(place(cnn(), load_chip("loihi_like")))
    conv1 = next(p for p in rep["projections"] if p["name"] == "conv1")
    assert conv1["kind"] == "conv" and conv1["tile_kind"] == ["kernel"]
    assert conv1["kernel"] == {"rows": 2 * 5 * 5, "columns": [16]} and conv1["synapses"] == 16 * 2 * 15 * 15 * 25
    assert 0 < conv1["crossbar_use"] < 1
    text = format_report(rep)
    assert "shared 50 x 16 kernel" in text and "c1[c0:16, y0:4]" in text
