"""Loihi arithmetic (`[precision] arithmetic = "loihi"`): bit for bit against Intel Lava's bit-accurate
models (goldens made by tests/reference/make_lava_goldens.py), and mapped == numpy reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurocore.engine import Engine, SpikeDrive
from neurocore.engine.reference import reference_run
from neurocore.errors import ConfigError
from neurocore.loihi import lava_weights, neuron_integers, quantise, weight_exponent
from neurocore.mapping import place
from neurocore.netlist import Netlist
from neurocore.neurons import CubaLIF, LoihiLIF

from .helpers import make_chip

GOLDENS = Path(__file__).parent / "reference" / "lava"
CASES = ["plain", "slow_decay", "if", "du0_saturating", "bias", "weight_exp_plus1", "weight_exp_minus2", "odd_mixed",
         "odd_excitatory", "reset", "refractory", "two_layer", "recurrent"]


def loihi_chip(width: int = 1, height: int = 1, **kw):
    big = dict(neurons=100_000, axons=100_000, rows=100_000, cols=100_000, crossbars=1000, routing=10**9)
    big.update(kw)
    return make_chip(width, height, precision={"arithmetic": "loihi"}, **big)


def golden_net(g) -> Netlist:
    """The golden's network with its integers given directly (LoihiLIF, weight_exp)."""
    net = Netlist("lava")
    net.add_source("in", g["inputs"].shape[1])
    pre = "in"
    for k in range(int(g["layers"])):
        n = g[f"w{k}"].shape[1]
        net.add_population(f"l{k}", n, LoihiLIF(du=int(g[f"du{k}"]), dv=int(g[f"dv{k}"]), vth=int(g[f"vth{k}"]),
                                                bias_mant=g[f"bias_mant{k}"], bias_exp=g[f"bias_exp{k}"],
                                                refractory=int(g["refractory"])))
        net.connect(f"w{k}", pre, f"l{k}", g[f"w{k}"], weight_exp=int(g[f"weight_exp{k}"]))
        net.add_probe(f"l{k}", list(range(n)))
        pre = f"l{k}"
    if "rec_w" in g:
        last = f"l{int(g['layers']) - 1}"
        net.connect("rec", last, last, g["rec_w"], weight_exp=int(g["rec_weight_exp"]))
    return net


def replay(g, chip=None) -> dict[str, np.ndarray]:
    """Run the golden on the chip: u, v and spikes of every layer as (ticks, n) int64. A LIFReset golden
    runs as samples of reset_interval ticks (the chip resets its state per sample)."""
    net = golden_net(g)
    eng = Engine(place(net, chip or loihi_chip()))
    inputs = g["inputs"]
    ticks = len(inputs)
    interval = int(g["reset_interval"]) or ticks
    # Lava's LIFReset zeroes u and v when time_step (1-based) % interval == offset: windows start there
    start = (int(g["reset_offset"]) - 1) % interval if int(g["reset_interval"]) else 0
    assert start == 0, "goldens reset at tick 0"
    n_win = -(-ticks // interval)
    padded = np.zeros((n_win * interval, inputs.shape[1]), bool)
    padded[:ticks] = inputs
    res = eng.run(SpikeDrive({"in": padded.reshape(n_win, interval, -1)}), interval, probes=True, record=True)
    out, o = {}, 0
    for k in range(int(g["layers"])):
        n = g[f"w{k}"].shape[1]
        out[f"v{k}"] = res.probe_v[:, :, o:o + n].reshape(-1, n)[:ticks].astype(np.int64)
        out[f"u{k}"] = res.probe_i[:, :, o:o + n].reshape(-1, n)[:ticks].astype(np.int64)
        s = np.zeros((n_win, interval, n), bool)
        for b in range(n_win):
            t, j = res.spikes(f"l{k}", b)
            s[b, t, j] = True
        out[f"s{k}"] = s.reshape(-1, n)[:ticks].astype(np.int64)
        o += n
    return out


@pytest.mark.parametrize("case", CASES)
def test_chip_equals_lava_bit_for_bit(case: str) -> None:
    """v, u and spikes of every neuron identical to Lava's at every tick."""
    g = np.load(GOLDENS / f"{case}.npz")
    got = replay(g)
    for k in range(int(g["layers"])):
        for key in ("s", "u", "v"):
            want = g[f"{key}{k}"].reshape(len(g["inputs"]), -1)
            bad = np.argwhere(got[f"{key}{k}"] != want)
            assert not len(bad), (f"{case}: layer {k} {key} differs at {len(bad)} entries, first (tick, neuron) "
                                  f"{tuple(bad[0])}: chip {got[f'{key}{k}'][tuple(bad[0])]}, "
                                  f"Lava {want[tuple(bad[0])]}")


def test_goldens_are_committed() -> None:
    assert sorted(CASES) == sorted(p.stem for p in GOLDENS.glob("*.npz"))


@st.composite
def loihi_nets(draw) -> tuple[Netlist, int]:
    """Small random nets of per-tick models with weights of any scale (quantised by the chip)."""
    net = Netlist("rand")
    n_in = draw(st.integers(1, 12))
    net.add_source("in", n_in)
    names = ["in"]
    for k in range(draw(st.integers(1, 3))):
        size = draw(st.integers(1, 15))
        kind = draw(st.sampled_from(["cuba", "loihi"]))
        if kind == "cuba":
            params = CubaLIF(di=draw(st.sampled_from([1.0, 0.5, 0.1, 0.01])), dv=draw(st.sampled_from([0.0, 0.05, 0.3])),
                             theta=draw(st.sampled_from([50.0, 300.0, 2000.0])), reset=draw(st.sampled_from(["zero", "subtract"])),
                             bias=draw(st.sampled_from([0.0, 3.0, -7.5])), refractory=draw(st.integers(0, 2)))
        else:
            params = LoihiLIF(du=draw(st.integers(0, 4095)), dv=draw(st.integers(0, 4095)), vth=draw(st.integers(0, 3000)),
                              bias_mant=draw(st.integers(-4096, 4095)), bias_exp=draw(st.integers(0, 7)),
                              refractory=draw(st.integers(0, 2)))
        net.add_population(f"p{k}", size, params)
        names.append(f"p{k}")
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    for k in range(draw(st.integers(1, 4))):
        pre = names[rng.integers(len(names))]
        post = names[1:][rng.integers(len(names) - 1)]
        w = rng.normal(0, draw(st.sampled_from([0.3, 40.0, 3000.0])), (net.populations[pre].size,
                                                                        net.populations[post].size))
        if draw(st.booleans()):
            w = np.abs(w)
        exp = draw(st.sampled_from([None, None, -2, 0, 1]))
        net.connect(f"c{k}", pre, post, np.round(w) if exp is not None else w, delay=int(rng.integers(1, 3)),
                    weight_exp=exp)
    return net, draw(st.integers(0, 1000))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=loihi_nets())
def test_mapped_equals_reference_in_loihi_arithmetic(case) -> None:
    """The mapped engine (one core and many small ones) equals the numpy reference, spike for spike and
    state for state, in Loihi arithmetic."""
    net, seed = case
    ticks = 40
    rng = np.random.default_rng(seed)
    src = rng.random((ticks, net.populations["in"].size)) < 0.3
    for p, pop in net.populations.items():
        if not pop.is_source:
            net.add_probe(p, list(range(pop.size)))
    ref = reference_run(net, {"in": src}, ticks, arithmetic="loihi",
                        probe={p: list(range(pop.size)) for p, pop in net.populations.items() if not pop.is_source})
    for chip in (loihi_chip(), loihi_chip(4, 4, neurons=6, cols=6, rows=7, axons=4000)):
        eng = Engine(place(net, chip))
        res = eng.run(SpikeDrive({"in": src[None]}), ticks, record=True, probes=True)
        o = 0
        for p, pop in net.populations.items():
            if pop.is_source:
                continue
            t, j = res.spikes(p, 0)
            got = np.zeros((ticks, pop.size), bool)
            got[t, j] = True
            np.testing.assert_array_equal(got, ref["spikes"][p], err_msg=f"{p}: spikes")
            np.testing.assert_array_equal(res.probe_v[0, :, o:o + pop.size], ref["v"][p], err_msg=f"{p}: v")
            np.testing.assert_array_equal(res.probe_i[0, :, o:o + pop.size], ref["i"][p], err_msg=f"{p}: u")
            o += pop.size


def test_translation_rules() -> None:
    q = neuron_integers(CubaLIF(di=1.0, dv=0.0, theta=100.4, bias=2.0), 3)
    assert (q.du == 4095).all() and (q.dv == 0).all() and (q.vth == 100).all() and (q.bias == 128).all()
    q = neuron_integers(CubaLIF(di=0.1, dv=0.05, theta=7.0, bias=1000.0), 1)
    assert q.du[0] == 409 and q.dv[0] == 205 and q.bias[0] == 64000  # 64000 = 2000 x 2^5, 13-bit mantissa
    with pytest.raises(ConfigError, match="input_gain"):
        neuron_integers(CubaLIF(input_gain=0.5), 1)
    assert weight_exponent(np.array([300.0, 10.0])) == 1 and weight_exponent(np.array([-0.5, 0.25])) == -8
    mant, exp = quantise(np.array([[3.0, -5.0], [254.0, -256.0]]))
    assert exp == 0 and mant.tolist() == [[4, -4], [254, -256]]  # mixed-sign: even mantissas
    assert lava_weights(np.array([3, -3, 255, -300])).tolist() == [2, -4, 254, -256]
    assert lava_weights(np.array([3, 300])).tolist() == [3, 255]


def test_loihi_refuses_other_state_formats() -> None:
    with pytest.raises(ConfigError, match="arithmetic"):
        make_chip(1, 1, precision={"arithmetic": "loihi", "state": "fixed"})


def _plastic(bits: int, rounding: str, dw: float):
    from neurocore.netlist import Plasticity
    net = Netlist("learn")
    for p, n in (("x", 12), ("up", 9), ("down", 9)):
        net.add_source(p, n)
    net.add_population("y", 9, CubaLIF(theta=1.0))
    w = np.random.default_rng(3).uniform(-0.5, 0.5, (12, 9))
    net.connect("w", "x", "y", w, plastic=Plasticity("up", "down"))
    chip = make_chip(1, 1, neurons=100, axons=100, rows=100, cols=100, precision={"plastic_weight_bits": bits, "plastic_rounding": rounding},
                     device={"dw_min": dw, "w_max": 0.6, "w_min": -0.6})
    eng = Engine(place(net, chip), seed=5)
    return eng, eng.weights("w").copy()


@pytest.mark.parametrize("rounding", ["nearest", "stochastic"])
def test_eight_bit_plastic_weights_stay_on_their_grid(rounding: str) -> None:
    """8-bit plastic synapses (grid 2^-7 for bounds +-0.6): weights start and stay on the grid; a step
    below half the grid is lost when rounded to nearest, kept on average when rounded stochastically."""
    from neurocore.engine import SourceDrive

    dw = 0.001
    eng, w0 = _plastic(8, rounding, dw)
    grid = eng.plastic_grid()
    assert grid == 2.0 ** -7
    assert np.all(w0 / grid == np.round(w0 / grid))
    drive = SourceDrive({"x": np.full((20, 12), 0.5), "up": np.full((20, 9), 0.4), "down": np.zeros((20, 9))})
    eng.run(drive, 30, learn="coincidence")
    w1 = eng.weights("w")
    assert np.all(w1 / grid == np.round(w1 / grid))
    pulses = eng.counters()["write_pulses"]
    moved = float((w1 - w0).sum())
    if rounding == "nearest":
        assert moved == 0.0
    else:  # each pulse moves a weight by one grid step with probability dw / grid: on average dw
        assert abs(moved - pulses * dw) < 5 * np.sqrt(pulses * dw * grid), (moved, pulses * dw)


def test_scaled_float_net_runs_close_to_float32_in_loihi_arithmetic() -> None:
    """A float network (input gains, biases, small weights) rescaled by scale_for_loihi keeps nearly
    every spike of its float32 run when run in Loihi's integers."""
    import copy

    from neurocore.loihi import scale_for_loihi
    from neurocore.neurons import IF

    rng = np.random.default_rng(0)
    net = Netlist("f")
    net.add_source("in", 40)
    net.add_population("h", 60, CubaLIF(di=0.25, dv=0.02, theta=1.0, input_gain=0.3, bias=0.01, reset="zero"))
    net.add_population("o", 10, IF(theta=2.0, reset="subtract"))
    net.connect("w1", "in", "h", rng.normal(0.1, 0.3, (40, 60)))
    net.connect("w2", "h", "o", rng.normal(0.05, 0.2, (60, 10)), gain=0.5)
    src = rng.random((1, 200, 40)) < 0.2
    runs = {}
    for arith in ("float32", "loihi"):
        n = copy.deepcopy(net)
        if arith == "loihi":
            scales = scale_for_loihi(n)
            assert set(scales) == {"h", "o"} and all(s > 100 for s in scales.values())
        eng = Engine(place(n, make_chip(1, 1, neurons=200, axons=200, rows=200, cols=200,
                                        precision={"arithmetic": arith})))
        res = eng.run(SpikeDrive({"in": src}), 200, readout=["h", "o"])
        runs[arith] = np.concatenate([res.counts["h"], res.counts["o"]], axis=1)[0]
    f, q = runs["float32"], runs["loihi"]
    assert f.sum() > 500
    assert np.abs(f - q).sum() <= 0.03 * f.sum(), (f, q)


def test_state_round_trip_keeps_the_integers() -> None:
    """Engine.state() / load_state() in Loihi arithmetic leave mantissas and exponents as they were."""
    g = np.load(GOLDENS / "weight_exp_minus2.npz")
    eng = Engine(place(golden_net(g), loihi_chip()))
    before = eng.state()["weights"].copy(), dict(eng.weight_exp), eng._qweights.copy()
    eng.load_state(eng.state())
    assert np.array_equal(eng.state()["weights"], before[0]) and eng.weight_exp == before[1]
    assert np.array_equal(eng._qweights, before[2])


def test_netlist_file_gives_the_integers_directly() -> None:
    """A network file: model = "loihi_lif" with its integers, a projection's weight_exp; bad ones named."""
    from neurocore.netlist import netlist_from_dict

    d = {"name": "t", "population": [{"name": "in", "size": 3, "kind": "source"},
                                     {"name": "n", "size": 2, "model": "loihi_lif", "du": 4095, "dv": 0, "vth": 10,
                                      "bias_mant": 5}],
         "projection": [{"name": "w", "pre": "in", "post": "n", "init": "explicit",
                         "weights": [[3, 1], [200, -5], [0, 7]], "weight_exp": -2}]}
    net = netlist_from_dict(d, "x.toml").netlist
    assert net.projections["w"].weight_exp == -2 and net.populations["n"].params.vth == 10
    d["projection"][0]["weight_exp"] = 9
    with pytest.raises(ConfigError, match=r"projection\[0\].weight_exp' = 9 is out of range"):
        netlist_from_dict(d, "x.toml")
    d["projection"][0]["weight_exp"] = 0
    d["population"][1]["du"] = 5000
    with pytest.raises(ConfigError, match=r"population\[1\].du' = 5000 is out of range"):
        netlist_from_dict(d, "x.toml")
