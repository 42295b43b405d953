"""NIR from every library that writes it here, spike for spike with that library's own simulation.

Each case is a library's own export of a small net (tests/reference/make_nir_writer_goldens.py) and
that library's output spikes on random input; neurocore reads the graph with `writer=` (`--from`) and
must give 0 differing spikes on a float-weight chip. The goldens run without the libraries (CI); the
live tests rebuild a case with the installed library and skip where it is not installed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("nir")

from neurocore.chip import load_chip  # noqa: E402
from neurocore.engine import Engine  # noqa: E402
from neurocore.mapping import place  # noqa: E402
from neurocore.nir import from_nir, run_spikes  # noqa: E402

from .helpers import big_core  # noqa: E402

REF = Path(__file__).parent / "reference"
GOLD = REF / "nir_writers"
CHIP = big_core()  # float32 weights


def _script():
    spec = importlib.util.spec_from_file_location("make_nir_writer_goldens", REF / "make_nir_writer_goldens.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_nir_writer_goldens", mod)
    spec.loader.exec_module(mod)
    return mod


GOLDENS = sorted(p.stem for p in GOLD.glob("*.npz"))


def chip_counts(graph, x: np.ndarray, writer: str, chip=CHIP) -> np.ndarray:
    """The chip's output spikes per step (samples, steps, outputs), on the writer's clock."""
    imp = from_nir(graph, writer=writer)
    res, _ = run_spikes(imp, Engine(place(imp.netlist, chip), seed=0), x, record=True)
    (out,) = set(imp.outputs.values())
    d, n, steps = imp.depth[out], imp.netlist.populations[out].size, x.shape[1]
    got = np.zeros((x.shape[0], steps, n), np.float32)
    for s in range(x.shape[0]):
        t, j = res.spikes(out, s)
        keep = (t >= d) & (t < d + steps)
        np.add.at(got[s], (t[keep] - d, j[keep]), 1)  # a neuron may spike several times a tick
    return got


def differing(ref: np.ndarray, got: np.ndarray) -> int:
    """Spikes that differ: |reference count - chip count| summed over samples, steps and neurons."""
    return int(np.abs(np.asarray(ref, np.float64).reshape(got.shape) - got).sum())


def golden(name: str):
    z = np.load(GOLD / f"{name}.npz")
    return GOLD / f"{name}.nir", z["x"], z["ref"], str(z["writer"])


@pytest.mark.parametrize("name", GOLDENS)
def test_golden_writer_export_matches_its_own_simulation(name) -> None:
    path, x, ref, writer = golden(name)
    got = chip_counts(path, x, writer)
    assert ref.sum() > 10 and differing(ref, got) == 0, (name, differing(ref, got), int(ref.sum()))


LIBS = {"snntorch": "snntorch", "norse": "norse.torch", "sinabs": "sinabs", "rockpool": "rockpool.nn.modules",
        "spyx": "spyx.nn"}


@pytest.mark.parametrize("name", GOLDENS)
def test_live_writer_export_matches_its_own_simulation(name) -> None:
    """The same case rebuilt with the installed library (skips where it is not installed)."""
    writer = str(np.load(GOLD / f"{name}.npz")["writer"])
    pytest.importorskip(LIBS[writer])
    graph, x, ref = _script().CASES[name][1]()
    got = chip_counts(graph, x, writer)
    assert np.asarray(ref).sum() > 10 and differing(ref, got) == 0, (name, differing(ref, got))
