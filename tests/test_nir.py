"""NIR import and export without torch: closed forms, the kinds of graph NIR's own test suite builds,
round trips, bad input and the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

nir = pytest.importorskip("nir")

from neurocore import neurons as nm  # noqa: E402
from neurocore.connections import Conv2d, Pool2d, Scale  # noqa: E402
from neurocore.engine import Engine, SpikeDrive  # noqa: E402
from neurocore.errors import ConfigError, NeurocoreError  # noqa: E402
from neurocore.mapping import place  # noqa: E402
from neurocore.netlist import Netlist  # noqa: E402
from neurocore.nir import aligned_spikes, from_nir, maps, run_spikes, to_nir, write_nir  # noqa: E402

from .helpers import big_core  # noqa: E402

CHIP = big_core()


def a(*v):
    return np.array(v, dtype=np.float64)


def lif(n, tau=10.0, thr=1.0, **meta):
    return nir.LIF(tau=np.full(n, tau), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.full(n, thr),
                   v_reset=np.zeros(n), metadata=meta)


def affine(n_in, n_out, rng, bias=True):
    w = rng.normal(0, 1, (n_out, n_in))
    return nir.Affine(weight=w, bias=rng.normal(0, 1, n_out)) if bias else nir.Linear(weight=w)


def graph(nodes, edges, **meta):
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta, type_check=False)


def run(imp, x):
    res, ticks = run_spikes(imp, Engine(place(imp.netlist, CHIP)), x, record=True)
    return res, ticks


# -- semantics against closed forms ---------------------------------------------------------

def test_lif_spike_time_matches_the_closed_form() -> None:
    """tau dv/dt = -v + r I under a constant input (an input spike every tick through weight w):
    exact discretisation gives v(k) = r w (1 - exp(-k dt / tau)); the first spike is the first k
    with v(k) > v_threshold."""
    tau, r, w, thr, dt = 0.02, 2.0, 0.75, 1.0, 1e-3
    g = graph({"in": nir.Input(input_type={"input": np.array([1])}), "w": nir.Linear(weight=np.array([[w]])),
               "n": nir.LIF(tau=a(tau), r=a(r), v_leak=a(0.0), v_threshold=a(thr), v_reset=a(0.0)),
               "out": nir.Output(output_type={"output": np.array([1])})},
              [("in", "w"), ("w", "n"), ("n", "out")])
    imp = from_nir(g, dt=dt)
    res, _ = run(imp, np.ones((1, 60, 1), bool))
    got = aligned_spikes(imp, res, "n", 0, 60)[:, 0]
    k = np.arange(1, 61)
    first = int(np.argmax(r * w * (1 - np.exp(-k * dt / tau)) > thr))  # step index of the first crossing
    assert got.argmax() == first and not got[:first].any()


def test_strict_threshold_and_subtractive_reset_metadata() -> None:
    """NIR spikes on v > v_threshold: an input landing exactly on it must not fire; metadata
    {"reset": "subtract"} keeps the overshoot."""
    g = graph({"in": nir.Input(input_type={"input": np.array([1])}), "w": nir.Linear(weight=np.array([[0.5]])),
               "n": nir.IF(r=a(1e3), v_threshold=a(1.0), v_reset=a(0.0), metadata={"reset": "subtract"}),
               "out": nir.Output(output_type={"output": np.array([1])})},
              [("in", "w"), ("w", "n"), ("n", "out")])
    imp = from_nir(g, dt=1e-3)  # r dt = 1: v grows by 0.5 per input spike
    res, _ = run(imp, np.ones((1, 8, 1), bool))
    # v: 0.5, 1.0 (not > 1), 1.5 spike -> 0.5, 1.0, 1.5 spike ...
    assert aligned_spikes(imp, res, "n", 0, 8)[:, 0].tolist() == [False, False, True, False, True, False, True,
                                                                  False]


def test_conv_after_pool_folds_into_one_convolution() -> None:
    rng = np.random.default_rng(0)
    pool = maps.Conv(Pool2d("avg", 2), (3, 8, 8))
    conv = maps.Conv(Conv2d(rng.normal(size=(5, 3, 3, 3)).astype(np.float32), stride=1), (3, 4, 4))
    both = maps.compose(pool, conv)
    assert isinstance(both, maps.Conv) and both.out_shape == (5, 2, 2)
    np.testing.assert_allclose(maps.unrolled(both), maps.unrolled(pool) @ maps.unrolled(conv), atol=1e-6)
    x = rng.normal(size=3 * 8 * 8)
    np.testing.assert_allclose(maps.apply(both, x), x @ maps.unrolled(pool) @ maps.unrolled(conv), atol=1e-5)


# -- graphs of the shapes NIR's own test suite builds -----------------------------------------

def _nir_suite_graphs():
    """Graphs like those of NIR's tests (sequential with Delay, recurrence on the first and second
    node, independent and merging branches, split and merge, residual, complex, a subgraph with two
    inputs and outputs), built here with our own parameters."""
    rng = np.random.default_rng(0)
    seq = lambda *ns: nir.NIRGraph.from_list(*ns, type_check=False)  # noqa: E731
    out = {}
    out["sequential"] = seq(affine(2, 3, rng), nir.Delay(a(0.5, 0.1, 0.2)), lif(3), affine(3, 2, rng))
    out["recurrent_on_first_node"] = graph(
        {"input": nir.Input(input_type={"input": np.array([2])}), "affine": affine(2, 2, rng),
         "integrator": nir.I(r=rng.normal(size=2)), "output": nir.Output(output_type={"output": np.array([2])})},
        [("input", "affine"), ("affine", "integrator"), ("integrator", "affine"), ("integrator", "output")])
    out["recurrent_on_second_node"] = graph(
        {"affine1": affine(2, 2, rng), "affine2": affine(2, 2, rng), "lif": lif(2), "affine3": affine(2, 2, rng),
         "output": nir.Output(output_type={"output": np.array([2])})},
        [("affine1", "affine2"), ("affine2", "lif"), ("lif", "affine2"), ("lif", "affine3"), ("affine3", "output")])
    b1 = seq(affine(2, 3, rng), nir.Delay(a(0.5, 0.1, 0.2)), lif(3), affine(3, 3, rng))
    b2 = seq(affine(2, 2, rng), lif(2), affine(2, 3, rng))
    out["independent_branches"] = graph({"b1": b1, "b2": seq(affine(2, 2, rng), lif(2), affine(2, 2, rng))}, [])
    out["merging_branches"] = graph({"b1": b1, "b2": b2, "junction": lif(3)},
                                    [("b1", "junction"), ("b2", "junction")])
    pre = seq(affine(2, 3, rng), lif(3))
    out["split_and_merge_bad_bias"] = graph(
        {"pre": pre, "b1": seq(affine(3, 2, rng), lif(2)), "b2": seq(affine(3, 2, rng), lif(2)),
         "junction": nir.Affine(weight=np.array([[2, 0], [1, 3], [4, 1.0]]), bias=a(0, 1))},
        [("pre", "b1"), ("pre", "b2"), ("b1", "junction"), ("b2", "junction")])
    out["residual"] = graph({"a": affine(2, 2, rng), "b": lif(2), "c": affine(2, 2, rng), "d": lif(2),
                             "e": affine(2, 2, rng), "f": lif(2)},
                            [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("a", "e"), ("e", "f")])
    out["complex"] = graph({"a": nir.Affine(weight=np.array([[1.0], [2], [3]]), bias=np.zeros((1, 3))),
                            "b": lif(3), "c": lif(3, tau=5.0), "d": nir.Affine(weight=rng.normal(size=(2, 3)),
                                                                               bias=np.zeros(2)),
                            "e": nir.Affine(weight=rng.normal(size=(2, 3)), bias=np.zeros(2)),
                            "f": nir.Affine(weight=rng.normal(size=(2, 2)), bias=np.zeros(2))},
                           [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("c", "e"), ("d", "f"), ("e", "f")])
    sub = graph({"b": lif(3), "c": lif(3), "bi": nir.Input(input_type={"input": np.array([3])}),
                 "ci": nir.Input(input_type={"input": np.array([3])}),
                 "bo": nir.Output(output_type={"output": np.array([3])}),
                 "co": nir.Output(output_type={"output": np.array([3])})},
                [("bi", "b"), ("b", "bo"), ("ci", "c"), ("c", "co")])
    out["subgraph_two_inputs_outputs"] = graph(
        {"in": nir.Input(input_type={"input": np.array([1])}), "a": affine(1, 3, rng), "g": sub, "d": affine(3, 1, rng),
         "out": nir.Output(output_type={"output": np.array([1])})},
        [("in", "a"), ("a", "g.bi"), ("a", "g.ci"), ("g.bo", "d"), ("g.co", "d"), ("d", "out")])
    return out


@pytest.mark.parametrize("name", list(_nir_suite_graphs()))
def test_nir_suite_graphs_import_or_are_refused_in_one_line(name, tmp_path) -> None:
    g = _nir_suite_graphs()[name]
    path = tmp_path / f"{name}.nir"
    nir.write(path, g)
    for source in (g, path):
        try:
            imp = from_nir(source, dt=0.1)
        except ConfigError as exc:
            msg = str(exc)
            assert "\n" not in msg and "node '" in msg, msg
            assert name in ("recurrent_on_first_node", "split_and_merge_bad_bias"), msg
            continue
        assert name not in ("recurrent_on_first_node", "split_and_merge_bad_bias")
        x = {k: np.random.default_rng(1).random((1, 20, *imp.netlist.populations[p].shape)) < 0.5
             for k, p in imp.inputs.items()}
        res, ticks = run(imp, x)
        assert ticks == 20 + imp.latency and res.counters["neuron_updates"] > 0


def test_suite_graph_details() -> None:
    gs = _nir_suite_graphs()
    imp = from_nir(gs["sequential"], dt=0.1)  # Delay 0.5, 0.1, 0.2 s: one projection per tick count
    assert sorted(p.delay for p in imp.netlist.projections.values() if p.post == "lif") == [1 + 1, 1 + 2, 1 + 5]
    imp = from_nir(gs["residual"], dt=0.1)  # the skip a -> e reaches f two populations later
    assert imp.depth == {"input_a": 0, "b": 1, "d": 2, "f": 3}
    assert imp.netlist.projections["input_a->f"].delay == 3
    imp = from_nir(gs["recurrent_on_second_node"], dt=0.1)
    assert imp.netlist.projections["lif->lif"].delay == 1  # a recurrent edge sees the previous step
    with pytest.raises(ConfigError, match=r"node 'integrator' \(I\): is not spiking"):
        from_nir(gs["recurrent_on_first_node"], dt=0.1)
    with pytest.raises(ConfigError, match=r"node 'junction' \(Affine\): bias has 2 values for 3 outputs"):
        from_nir(gs["split_and_merge_bad_bias"], dt=0.1)


# -- round trip ---------------------------------------------------------------------------------

@st.composite
def netlists(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    net = Netlist("rt")
    c, h = draw(st.integers(1, 3)), draw(st.integers(4, 7))
    net.add_source("in", (c, h, h))
    kinds = draw(st.lists(st.sampled_from(["cuba_lif", "lif", "if"]), min_size=3, max_size=3))

    def model(kind, n):
        theta = float(draw(st.floats(0.3, 2.0)))
        common = dict(theta=theta, reset=draw(st.sampled_from(["subtract", "zero"])),
                      refractory=draw(st.integers(0, 2)), max_spikes=draw(st.sampled_from([0, 1, 4])))
        if kind == "cuba_lif":
            return nm.CubaLIF(di=draw(st.floats(0.05, 1.0)), dv=draw(st.sampled_from([0.0, 0.1, 0.5])),
                              i_bias=draw(st.sampled_from([0.0, 0.02])), bias=draw(st.sampled_from([0.0, 0.01])),
                              **common)
        if kind == "lif":
            return nm.LIF(dv=draw(st.floats(0.01, 1.0)), bias=rng.normal(0, 0.01, n).astype(np.float32), **common)
        return nm.IF(v_reset=float(draw(st.floats(-0.5, 0.0))), **common)

    k = draw(st.integers(1, 3))
    conv = Conv2d(rng.normal(0, 0.6, (2, c, k, k)).astype(np.float32), stride=draw(st.integers(1, 2)))
    out_shape = conv.out_shape((c, h, h))
    net.add_population("c", out_shape, model(kinds[0], int(np.prod(out_shape))))
    net.connect("in_c", "in", "c", conv, gain=float(draw(st.floats(0.5, 2.0))))
    n_h = draw(st.integers(1, 12))
    net.add_population("h", n_h, model(kinds[1], n_h))
    net.connect("c_h", "c", "h", rng.normal(0, 0.7, (int(np.prod(out_shape)), n_h)).astype(np.float32),
                delay=draw(st.integers(1, 4)), gain=float(draw(st.floats(0.5, 1.5))))
    net.add_population("o", 3, model(kinds[2], 3))
    net.connect("h_o", "h", "o", rng.normal(0, 0.8, (n_h, 3)).astype(np.float32))
    net.connect("o_o", "o", "o", -0.4 * (1 - np.eye(3, dtype=np.float32)))
    net.connect("h_h", "h", "h", Scale(rng.normal(0, 0.3, n_h).astype(np.float32)))
    return net


def _spikes(net, x):
    e = Engine(place(net, CHIP), seed=0)
    r = e.run(SpikeDrive({"in": x}), x.shape[1], record=True)
    return {p: [tuple(map(tuple, r.spikes(p, s))) for s in range(x.shape[0])] for p in net.populations}


@settings(max_examples=15, deadline=None)
@given(net=netlists(), method=st.sampled_from(["euler", "exact"]), seed=st.integers(0, 1000))
def test_round_trip_through_a_nir_file_is_exact(net, method, seed, tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("rt") / "net.nir"
    write_nir(path, to_nir(net, dt=1e-3, discretisation=method))
    imp = from_nir(path)
    back = imp.netlist
    for name, pop in net.populations.items():
        if pop.is_source:
            continue
        x, y = nm.lower(pop.params, pop.size), nm.lower(back.populations[name].params, pop.size)
        for f in ("kind", "keep_i", "keep_v", "input_gain", "current_gain", "i_bias", "bias", "theta", "v_reset",
                  "subtract", "refractory", "max_spikes"):
            assert np.array_equal(getattr(x, f), getattr(y, f)), (name, f)
    applied = {(p.pre, p.post): net.weights_of(p) for p in net.projections.values()}
    for p in back.projections.values():
        np.testing.assert_array_equal(back.weights_of(p), applied[(p.pre, p.post)])
    assert {(p.pre, p.post, p.delay) for p in back.projections.values()} == \
        {(p.pre, p.post, p.delay) for p in net.projections.values()}
    x = np.random.default_rng(seed).random((2, 30, *net.populations["in"].shape)) < 0.4
    assert _spikes(net, x) == _spikes(back, x)


def test_export_refuses_training_machinery() -> None:
    from neurocore.methods.ssnn_bp.netlist import SSNNSpec, build_ssnn, init_weights

    spec = SSNNSpec(inputs=4, hidden=[3], classes=2)
    net = build_ssnn(spec, 10, init_weights(spec, np.random.default_rng(0)), train=True)
    with pytest.raises(ConfigError, match="transposed"):
        to_nir(net)
    fwd = build_ssnn(spec, 10, init_weights(spec, np.random.default_rng(0)), train=False)
    assert isinstance(to_nir(fwd), nir.NIRGraph)


# -- bad input ---------------------------------------------------------------------------------

def _simple(tmp_path):
    g = graph({"in": nir.Input(input_type={"input": np.array([3])}), "fc": nir.Linear(weight=np.ones((4, 3))),
               "n": lif(4), "out": nir.Output(output_type={"output": np.array([4])})},
              [("in", "fc"), ("fc", "n"), ("n", "out")])
    path = tmp_path / "ok.nir"
    nir.write(path, g)
    return path


def test_bad_inputs_are_one_line_errors(tmp_path) -> None:
    import h5py

    cases = {}
    cases["missing"] = tmp_path / "nowhere.nir"
    plain = tmp_path / "plain.nir"
    with h5py.File(plain, "w") as f:
        f["x"] = np.arange(3)
    cases["not NIR"] = plain
    text = tmp_path / "text.nir"
    text.write_text("hello")
    cases["not HDF5"] = text
    unknown = tmp_path / "unknown.nir"
    unknown.write_bytes(_simple(tmp_path).read_bytes())
    with h5py.File(unknown, "a") as f:
        del f["node/nodes/fc/type"]
        f["node/nodes/fc/type"] = "MaxPool2d"
    cases["unknown type"] = unknown
    bad_shape = tmp_path / "shape.nir"
    nir.write(bad_shape, graph({"in": nir.Input(input_type={"input": np.array([3])}),
                                "fc": nir.Linear(weight=np.ones((4, 3))), "n": lif(5),
                                "out": nir.Output(output_type={"output": np.array([5])})},
                               [("in", "fc"), ("fc", "n"), ("n", "out")]))
    cases["inconsistent shapes"] = bad_shape
    expect = {"missing": "file not found", "not NIR": "no 'node' group", "not HDF5": "not a NIR file",
              "unknown type": "node 'fc' has type 'MaxPool2d'", "inconsistent shapes": "gives 4 values"}
    for what, path in cases.items():
        with pytest.raises(ConfigError) as exc:
            from_nir(path, dt=1e-3)
        assert expect[what] in str(exc.value) and "\n" not in str(exc.value), (what, str(exc.value))
    with pytest.raises(ConfigError, match="does not record its time step"):
        from_nir(_simple(tmp_path))


def test_a_graph_too_large_for_the_chip_is_refused(tmp_path) -> None:
    from neurocore.chip import load_chip

    g = graph({"in": nir.Input(input_type={"input": np.array([10])}), "fc": nir.Linear(weight=np.ones((5000, 10))),
               "n": lif(5000), "out": nir.Output(output_type={"output": np.array([5000])})},
              [("in", "fc"), ("fc", "n"), ("n", "out")])
    imp = from_nir(g, dt=1e-3)
    with pytest.raises(NeurocoreError) as exc:
        place(imp.netlist, load_chip("small"))
    assert "\n" not in str(exc.value)


# -- command line ------------------------------------------------------------------------------

def test_map_run_and_export_commands(tmp_path, capsys) -> None:
    from neurocore.cli import main

    path = _simple(tmp_path)
    assert main(["map", str(path)]) == 0
    out = capsys.readouterr().out
    assert "on chip 'loihi_like'" in out and "projections:" in out
    np.save(tmp_path / "x.npy", np.ones((2, 10, 3), bool))
    assert main(["run", str(path), "--input", str(tmp_path / "x.npy"), "--dt", "1e-3", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert np.array(res["output_counts"]["out"]).shape == (2, 4) and res["latency_ticks"] == 1
    assert res["energy_uj_per_sample"] > 0 and set(res["energy_uj_by_kind"]) >= {"crossbar_read", "neuron_update"}
    assert res["tick_latency_ns_max"] >= res["tick_latency_ns_mean"] > 0 and res["deadline_misses"] >= 0
    assert main(["run", str(path), "--input", str(tmp_path / "x.npy"), "--dt", "1e-3"]) == 0
    text = capsys.readouterr().out
    assert "spike counts per sample" in text and "J per sample" in text and "worst" in text  # uJ or nJ
    assert main(["run", str(path), "--input", str(tmp_path / "x.npy")]) == 2
    assert "--dt" in capsys.readouterr().err
    assert main(["run", str(path), "--input", str(tmp_path / "nothing.npy"), "--dt", "1e-3"]) == 2
    assert main(["map", str(tmp_path / "nowhere.nir")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("error:" in e for e in err)
    out_nir = tmp_path / "ff.nir"
    assert main(["nir", "export", "ff_small", str(out_nir)]) == 0
    assert from_nir(out_nir).netlist.n_neurons > 0


def test_export_of_a_training_run_deploys_with_its_spikes(tmp_path, capsys) -> None:
    """neurocore train -> nir export -> import: the forward SSNN-BP net (CUBA neurons, projection gains,
    WTA inhibition) gives the same spikes as the checkpoint's own forward net."""
    from neurocore.cli import main
    from neurocore.methods.ssnn_bp.export import forward_netlist

    run_dir = tmp_path / "run"
    assert main(["train", "digits", "--run-dir", str(run_dir), "--no-progress", "--set", "train.epochs=1",
                 "--set", "data.train=100", "--set", "data.test=20"]) == 0
    out = tmp_path / "digits.nir"
    assert main(["nir", "export", str(run_dir), str(out)]) == 0
    capsys.readouterr()
    net = forward_netlist(str(run_dir))
    imp = from_nir(out)
    assert imp.netlist.projections["output->output"].delay == 1
    x = np.random.default_rng(0).random((2, 50, 64)) < 0.3
    ours = Engine(place(net, CHIP)).run(SpikeDrive({"input": x}), 50, readout=["output"]).counts["output"]
    theirs = Engine(place(imp.netlist, CHIP)).run(SpikeDrive({"input": x}), 50, readout=["output"]).counts["output"]
    assert ours.sum() > 0 and np.array_equal(ours, theirs)


def test_import_needs_no_torch() -> None:
    code = ("import sys, numpy as np, nir; from neurocore.nir import from_nir, to_nir;"
            "g = nir.NIRGraph.from_list(nir.Linear(weight=np.ones((2, 3))), nir.LIF(tau=np.ones(2), r=np.ones(2),"
            " v_leak=np.zeros(2), v_threshold=np.ones(2), v_reset=np.zeros(2)));"
            "from_nir(g, dt=0.1); assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(__import__("pathlib").Path(__file__).parent.parent))
