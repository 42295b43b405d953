"""Shared builders for tests: random small netlists and chips of chosen shapes."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from pathlib import Path

from neurocore.chip import Chip, chip_from_dict
from neurocore.engine import Engine, SourceDrive
from neurocore.netlist import Netlist, NeuronParams


def make_chip(width: int = 2, height: int = 2, neurons: int = 32, axons: int = 64, rows: int = 64,
              cols: int = 32, crossbars: int = 16, routing: int = 4096, **extra) -> Chip:
    data = {"name": f"test{width}x{height}", "mesh": {"width": width, "height": height},
            "core": {"neurons": neurons, "axons": axons, "crossbar_rows": rows, "crossbar_cols": cols,
                     "crossbars": crossbars, "routing_entries": routing}}
    data.update(extra)
    return chip_from_dict(data)


def big_core() -> Chip:
    """One core that holds anything the tests build."""
    return make_chip(1, 1, neurons=100_000, axons=100_000, rows=100_000, cols=100_000, crossbars=1000,
                     routing=10**9)


def many_small_cores() -> Chip:
    return make_chip(6, 6, neurons=7, axons=4000, rows=5, cols=7, crossbars=400, routing=10**6)


@st.composite
def netlists(draw, max_pops: int = 3, max_size: int = 20) -> Netlist:
    """Random small netlists with dyadic weights (sums are exact in float32, whatever the order)."""
    net = Netlist("rand")
    n_src = draw(st.integers(1, 2))
    names = []
    for k in range(n_src):
        net.add_source(f"s{k}", draw(st.integers(1, max_size)))
        names.append(f"s{k}")
    n_pop = draw(st.integers(1, max_pops))
    for k in range(n_pop):
        params = NeuronParams(di=draw(st.sampled_from([1.0, 0.5, 0.25])), dv=draw(st.sampled_from([0.0, 0.5])),
                              theta=draw(st.sampled_from([0.5, 1.0, 2.0])),
                              reset=draw(st.sampled_from(["subtract", "zero"])),
                              bias=draw(st.sampled_from([0.0, 0.0625])), refractory=draw(st.integers(0, 2)))
        size = draw(st.integers(1, max_size))
        gate = None
        same = [p for p in names if net.populations[p].size == size and not net.populations[p].is_source]
        if same and draw(st.booleans()):
            gate = same[0]
        net.add_population(f"p{k}", size, params, gate=gate)
        names.append(f"p{k}")
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n_proj = draw(st.integers(1, 5))
    targets = [p for p in names if not net.populations[p].is_source]
    for k in range(n_proj):
        pre = names[rng.integers(len(names))]
        post = targets[rng.integers(len(targets))]
        a, b = net.populations[pre].size, net.populations[post].size
        w = rng.integers(-16, 33, (a, b)) / 32.0
        mask = rng.random((a, b)) < 0.5 if draw(st.booleans()) else None
        net.connect(f"w{k}", pre, post, w, mask=mask, delay=int(rng.integers(1, 4)))
    return net


def source_drive(net: Netlist, samples: int, p: float = 0.3) -> SourceDrive:
    return SourceDrive({n: np.full((samples, pop.size), p) for n, pop in net.populations.items() if pop.is_source})


def engine_spikes(engine: Engine, drive: SourceDrive, ticks: int, **kw) -> dict[str, np.ndarray]:
    """Run one sample with recording; spikes per population as bool (ticks, size)."""
    res = engine.run(drive, ticks, record=True, **kw)
    out = {}
    for name, pop in engine.placement.netlist.populations.items():
        m = np.zeros((ticks, pop.size), bool)
        t, n = res.spikes(name, 0)
        m[t, n] = True
        out[name] = m
    return out


#: results-row fields that measure wall time (they differ between otherwise identical runs)
TIMES = ("train_seconds", "eval_seconds", "chip_seconds", "samples_per_s")


def experiment_file(tmp_path_factory, name: str, text: str) -> Path:
    """An experiment TOML written to a fresh temporary folder."""
    path = tmp_path_factory.mktemp("exp") / name
    path.write_text(text)
    return path


def trained_run(tmp_path_factory, experiment: Path, name: str) -> Path:
    """The run folder of `neurocore train EXPERIMENT` in a fresh temporary folder."""
    from neurocore.cli import main

    run = tmp_path_factory.mktemp("run") / name
    assert main(["train", str(experiment), "--run-dir", str(run), "--no-progress"]) == 0
    return run


def without_times(row: dict) -> dict:
    """A results row without its wall times, for comparing runs."""
    return {k: v for k, v in row.items() if k not in TIMES}


def ctrl_c_in_batch(monkeypatch, trainer_class, n: int) -> None:
    """Make Ctrl-C (SIGINT) arrive while the n-th call of trainer_class.train_batch runs."""
    import signal

    calls = {"n": 0}
    original = trainer_class.train_batch

    def interrupted(self, *args):
        calls["n"] += 1
        if calls["n"] == n:
            signal.raise_signal(signal.SIGINT)
        return original(self, *args)

    monkeypatch.setattr(trainer_class, "train_batch", interrupted)


def one_line_error(capsys, argv: list[str], *fragments: str) -> str:
    """Run the CLI, expect exit 2 and a single error line (no traceback) holding every fragment; return it."""
    from neurocore.cli import main

    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as ex:  # argparse refuses flag values before the command runs
        code = ex.code
    out = capsys.readouterr()
    assert code == 2, (code, out.err, out.out)
    assert "Traceback" not in out.err + out.out
    lines = out.err.strip().splitlines()
    assert len(lines) == 1, out.err
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]
