"""Golden runs of Intel Lava's bit-accurate Loihi models, replayed on the chip by tests/test_loihi.py.

Builds small random networks in Lava (lava-nc 0.10: `PyLifModelBitAcc`, `PyLifResetModelBitAcc` and
`PyDenseModelBitAcc`, selected with Loihi1SimCfg(select_tag="fixed_pt")), drives them with random
input spike trains and records u, v and the spikes of every LIF layer at every tick. Each case is one
small npz in tests/reference/lava/ holding the inputs, every integer parameter and the traces.

Lava 0.10 has no bit-accurate model of its LIFRefractory process, only a float one; the case
"refractory" runs that float model where float arithmetic is exact (du = 1 and dv = 0 in Lava's float
units, integer weights and thresholds scaled by 2^6, no saturation), which is the same as the integer
model with du = 4095, dv = 0 (its float Dense gets the weights Lava's bit-accurate Dense would store,
through Lava's own clip_weights and truncate_weights).

Rerun (Lava needs Python < 3.11; a few minutes):

    $(pyenv prefix 3.10.13)/bin/python3 -m venv /tmp/lava-venv
    /tmp/lava-venv/bin/pip install lava-nc==0.10.0
    /tmp/lava-venv/bin/python tests/reference/make_lava_goldens.py     # from the repository root

The draws are seeded: a rerun writes the same arrays. One case alone: add its name(s) as arguments.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "lava"
T = 120


def _run(case: str, rng: np.random.Generator, layers: list[dict], n_in: int, p_in: float = 0.25,
         recurrent: dict | None = None, variant: str = "plain", reset: tuple[int, int] = (0, 0),
         refractory: int = 0, ticks: int = T) -> None:
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi1SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF, LIFRefractory, LIFReset
    from lava.proc.monitor.process import Monitor

    inputs = rng.random((ticks, n_in)) < p_in
    if variant == "reset":  # the chip resets per sample: nothing may be in flight across a window's end
        inputs[reset[0] - 1::reset[0]] = False
    src = RingBuffer(data=inputs.T.astype(np.int32))
    pre, size_pre = src.s_out, n_in
    monitors, lifs, out = [], [], {"inputs": inputs, "layers": np.int64(len(layers)),
                                    "variant": np.array(variant), "reset_interval": np.int64(reset[0]),
                                    "reset_offset": np.int64(reset[1]), "refractory": np.int64(refractory)}
    scale = 64 if variant == "refractory" else 1  # the float model has no << 6: weights and vth x 2^6
    for k, L in enumerate(layers):
        n = L["n"]
        bias_mant = np.asarray(L.get("bias_mant", np.zeros(n, np.int64)), np.int64)
        bias_exp = np.asarray(L.get("bias_exp", np.zeros(n, np.int64)), np.int64)
        common = dict(shape=(n,), du=L["du"], dv=L["dv"], vth=L["vth"] * scale)
        if variant == "refractory":
            # float units: du = 1 clears the current, as du = 4095 does
            lif = LIFRefractory(shape=(n,), du=1.0, dv=0.0, vth=float(L["vth"] * scale),
                                bias_mant=(bias_mant << bias_exp).astype(float), bias_exp=0,
                                refractory_period=refractory)
        elif variant == "reset":
            lif = LIFReset(**common, bias_mant=bias_mant, bias_exp=bias_exp, reset_interval=reset[0],
                           reset_offset=reset[1])
        else:
            lif = LIF(**common, bias_mant=bias_mant, bias_exp=bias_exp)
        w = np.asarray(L["w"], np.int64)  # (pre, post)
        stored = w
        if variant == "refractory":  # the float Dense gets the weights the bit-accurate one would store
            from lava.utils.weightutils import clip_weights, determine_sign_mode, truncate_weights
            mode = determine_sign_mode(w)
            stored = truncate_weights(clip_weights(w, mode, num_bits=8), mode, 8)
        dense = Dense(weights=(stored.T * scale).astype(float if scale > 1 else np.int32),
                      weight_exp=int(L.get("weight_exp", 0)))
        pre.connect(dense.s_in)
        dense.a_out.connect(lif.a_in)
        for name in ("w", "du", "dv", "vth", "weight_exp"):
            out[f"{name}{k}"] = np.asarray(L.get(name, 0), np.int64)
        out[f"du{k}"] = np.int64(4095 if variant == "refractory" else L["du"])
        out[f"dv{k}"] = np.int64(0 if variant == "refractory" else L["dv"])
        out[f"bias_mant{k}"], out[f"bias_exp{k}"] = bias_mant, bias_exp
        mons = []
        for var in (lif.u, lif.v, lif.s_out):
            m = Monitor()
            m.probe(var, ticks)
            mons.append(m)
        monitors.append(mons)
        lifs.append(lif)
        pre, size_pre = lif.s_out, n
    if recurrent is not None:
        w = np.asarray(recurrent["w"], np.int64)
        dense = Dense(weights=w.T.astype(np.int32), weight_exp=int(recurrent.get("weight_exp", 0)))
        lifs[-1].s_out.connect(dense.s_in)
        dense.a_out.connect(lifs[-1].a_in)
        out["rec_w"] = w
        out["rec_weight_exp"] = np.int64(recurrent.get("weight_exp", 0))
    cfg = Loihi1SimCfg(select_tag="floating_pt" if variant == "refractory" else "fixed_pt")
    src.run(condition=RunSteps(num_steps=ticks), run_cfg=cfg)
    for k, (mu, mv, ms) in enumerate(monitors):
        for key, m, var in (("u", mu, lifs[k].u), ("v", mv, lifs[k].v), ("s", ms, lifs[k].s_out)):
            data = m.get_data()[lifs[k].name][var.name]
            out[f"{key}{k}"] = np.asarray(data).round().astype(np.int64)  # exact integers in either model
    src.stop()
    OUT.mkdir(exist_ok=True)
    np.savez_compressed(OUT / f"{case}.npz", **out)
    s = [int(out[f"s{k}"].sum()) for k in range(len(layers))]
    print(f"{case}: spikes per layer {s}", flush=True)


def _w(rng, n_pre, n_post, lo, hi, density=0.5):
    w = rng.integers(lo, hi + 1, (n_pre, n_post))
    return np.where(rng.random((n_pre, n_post)) < density, w, 0)


def main() -> None:
    import lava  # noqa: F401  (fails early outside the Lava venv)

    only = set(sys.argv[1:])
    cases = {
        "plain": lambda r: _run("plain", r, [dict(n=30, w=_w(r, 20, 30, -60, 120), du=409, dv=204, vth=1200)], 20),
        "slow_decay": lambda r: _run("slow_decay", r, [dict(n=30, w=_w(r, 20, 30, -40, 100), du=20, dv=7, vth=6000)],
                                     20),
        "if": lambda r: _run("if", r, [dict(n=30, w=_w(r, 20, 30, -50, 120), du=4095, dv=0, vth=150)], 20),
        "du0_saturating": lambda r: _run("du0_saturating", r, [dict(
            n=30, w=_w(r, 20, 30, -255, 60, 0.8), du=0, dv=0, vth=131071, weight_exp=7)], 20, 0.4),
        "bias": lambda r: _run("bias", r, [dict(
            n=30, w=_w(r, 20, 30, -40, 90), du=600, dv=300, vth=1500, bias_mant=r.integers(-300, 600, 30),
            bias_exp=r.integers(0, 8, 30))], 20),
        "weight_exp_plus1": lambda r: _run("weight_exp_plus1", r, [dict(
            n=30, w=_w(r, 20, 30, -60, 120), du=500, dv=100, vth=2000, weight_exp=1)], 20),
        "weight_exp_minus2": lambda r: _run("weight_exp_minus2", r, [dict(
            n=30, w=_w(r, 20, 30, -100, 200), du=500, dv=100, vth=350, weight_exp=-2)], 20),
        "odd_mixed": lambda r: _run("odd_mixed", r, [dict(
            n=30, w=2 * _w(r, 20, 30, -60, 60) + 1, du=300, dv=150, vth=60, weight_exp=-1)], 20),
        "odd_excitatory": lambda r: _run("odd_excitatory", r, [dict(
            n=30, w=2 * _w(r, 20, 30, 0, 60) + 1, du=300, dv=150, vth=700, weight_exp=-3)], 20),
        "reset": lambda r: _run("reset", r, [dict(n=30, w=_w(r, 20, 30, -60, 120), du=300, dv=200, vth=700,
                                                  bias_mant=r.integers(0, 200, 30))], 20, variant="reset",
                                reset=(20, 1)),
        "refractory": lambda r: _run("refractory", r, [dict(n=30, w=_w(r, 20, 30, -60, 120), du=4095, dv=0,
                                                            vth=150, bias_mant=r.integers(0, 40, 30))], 20,
                                     variant="refractory", refractory=3),
        "two_layer": lambda r: _run("two_layer", r, [
            dict(n=30, w=_w(r, 20, 30, -60, 120), du=409, dv=204, vth=700, bias_mant=r.integers(0, 100, 30)),
            dict(n=10, w=_w(r, 30, 10, -80, 127), du=1000, dv=500, vth=1500, weight_exp=1)], 20),
        "recurrent": lambda r: _run("recurrent", r, [dict(n=30, w=_w(r, 20, 30, -60, 120), du=409, dv=204,
                                                          vth=80)], 20,
                                    recurrent=dict(w=_w(r, 30, 30, -100, 60, 0.3))),
    }
    for k, (case, make) in enumerate(cases.items()):
        if not only or case in only:
            make(np.random.default_rng(1000 + k))


if __name__ == "__main__":
    main()
