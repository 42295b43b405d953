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
CASES = sorted(p.stem for p in GOLDENS.glob("*.npz"))


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


def test_goldens_are_there() -> None:
    assert len(CASES) >= 12, CASES
