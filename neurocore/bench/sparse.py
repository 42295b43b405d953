"""Time per sample of the `bench conv` CNN against its input activity, with active sets and without.

The CNN of `bench conv` (2x34x34 events -> 3 conv -> 256 -> 10 IF, loihi_like, one sample per call,
counters on) at each input event rate of `--rates` (per pixel and tick); at each rate the engine runs
the same samples twice, in alternation: as shipped (a block of neurons at rest that no input reached is
skipped) and with every block forced awake (every neuron updated every tick, as before active sets).
Spikes and counters are identical both ways (checked); the figures are milliseconds per sample, best of
`--repeats`. With `--figure PATH` the curve is drawn to PATH (matplotlib).
"""

from __future__ import annotations

import argparse

import numpy as np


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..cliargs import add_chip, add_samples, add_ticks, integer

    add_samples(p, 20)
    add_ticks(p, 100)
    p.add_argument("--rates", default="0.001,0.003,0.01,0.03,0.1",
                   help="input event rates per pixel and tick, comma-separated (default: 0.001,0.003,0.01,0.03,0.1)")
    add_chip(p, "loihi_like")
    p.set_defaults(chip="loihi_like")
    p.add_argument("--repeats", type=integer(1), default=3, help="timed repeats; the best is kept (default: 3)")
    p.add_argument("--figure", default=None, help="write the curve to this image file (needs matplotlib)")


def _rates(text: str) -> list[float]:
    from ..errors import ConfigError

    try:
        rates = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        rates = []
    if not rates or any(not 0.0 < r <= 1.0 for r in rates):
        raise ConfigError(f"--rates = {text!r}: must be comma-separated probabilities in (0, 1]")
    return rates


def run(args: argparse.Namespace) -> dict:
    from ..chip import load_chip
    from ..engine import Engine, SpikeDrive
    from ..mapping import place
    from .conv import cnn
    from .engine import _timed

    rates = _rates(args.rates)
    eng = Engine(place(cnn(), load_chip(args.chip)), seed=1)
    shipped = eng.c.neurons
    awake = shipped._replace(blk_always=np.ones_like(shipped.blk_always))
    rows = []
    for rate in rates:
        spikes = np.random.default_rng(2).random((args.samples, args.ticks, 2, 34, 34)) < rate
        drives = [SpikeDrive({"events": spikes[s:s + 1]}) for s in range(args.samples)]
        eng.run(drives[0], args.ticks)  # compile / load the cached kernels outside the timing
        fig = {}
        for name, neurons in (("active_sets", shipped), ("every_neuron", awake)):
            eng.c.neurons = neurons
            fig[name] = _timed(eng, drives, args.ticks, args.repeats)
        eng.c.neurons = shipped
        (t_act, c_act), (t_all, c_all) = fig["active_sets"], fig["every_neuron"]
        if any(c_act[k] != c_all[k] for k in ("syn_events", "pop_spikes", "active_updates", "packets")):
            raise AssertionError(f"rate {rate}: active sets changed the spikes, events or counts")
        rows.append({"rate": rate, "ms_per_sample": 1e3 * t_act / args.samples,
                     "ms_per_sample_every_neuron": 1e3 * t_all / args.samples,
                     "speedup": t_all / t_act, "syn_events_per_sample": c_act["syn_events"] / args.samples,
                     "spikes_per_sample": sum(c_act["pop_spikes"].values()) / args.samples,
                     "active_updates_per_sample": c_act["active_updates"] / args.samples})
    if args.figure:
        _figure(rows, args.figure)
    return {"samples": args.samples, "ticks": args.ticks, "chip": args.chip, "neurons": int(eng.c.core_neurons.sum()),
            "curve": rows}


def _figure(rows: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = [x["rate"] for x in rows]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.loglog(r, [x["ms_per_sample"] for x in rows], "o-", label="active sets")
    ax.loglog(r, [x["ms_per_sample_every_neuron"] for x in rows], "s--", label="every neuron every tick")
    ax.set_xlabel("input events per pixel and tick")
    ax.set_ylabel("ms per sample (100 ticks)")
    ax.set_title("bench sparse: N-MNIST-sized CNN")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
