"""HDF5 traces: round trips under random selections, crash safety, SWMR reading, bad files, CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neurocore.traces as traces
from neurocore.cli import main
from neurocore.config import build
from neurocore.errors import ConfigError, TraceError
from neurocore.traces import TraceSelection, TraceWriter

REPO = Path(__file__).resolve().parent.parent
META = {"experiment_toml": "[trace]\nenabled = true\n", "seed": 7, "chip": "small", "mapping": {"cores": 4}}

# Deterministic events of a sample, shared by the test and the writer subprocess.
EVENTS_SRC = textwrap.dedent("""
    import numpy as np
    def events(sample, size=50):
        rng = np.random.default_rng(sample)
        n = int(rng.integers(0, 120))
        return np.sort(rng.integers(0, 100, n)).astype(np.int32), rng.integers(0, size, n).astype(np.int32)
""")
_ns: dict = {}
exec(EVENTS_SRC, _ns)
events = _ns["events"]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _write(path: Path, n_samples: int = 10, **sel) -> dict:
    """A small trace of one population 'pop' (50 neurons) on 4 cores; returns what was given."""
    selection = TraceSelection(enabled=True, **sel)
    given = {}
    with TraceWriter(path, META, {"pop": 50}, 4, selection) as w:
        for s in range(n_samples):
            given[s] = events(s)
            w.add_spikes(s, "pop", *given[s])
            w.add_traffic(s, np.arange(16).reshape(4, 4) * (s + 1))
    return given


# ---- selection ----------------------------------------------------------------------

def test_selection_builds_from_a_toml_table_and_selects_samples():
    sel = build(TraceSelection, {"enabled": True, "samples": [1, 2, 3, 5, 7], "every": 2, "start": 1, "stop": 7,
                                 "ticks": [5, 10], "membrane": {"out": [0, 2]}, "populations": ["out"]},
                "exp.toml", "trace")
    assert [s for s in range(10) if sel.wants_sample(s)] == [1, 3, 5]
    assert sel.wants_population("out") and not sel.wants_population("in")
    assert sel.tick_window == (5, 10)
    assert sel.trace_path("run1") == Path("traces/run1.h5")
    assert TraceSelection().wants_population("anything") and TraceSelection().wants_sample(10**6)


@pytest.mark.parametrize("table, key", [
    ({"samples": "some"}, "trace.samples"),
    ({"ticks": [5]}, "trace.ticks"),
    ({"ticks": [5, 5]}, "trace.ticks"),
    ({"every": 0}, "trace.every"),
    ({"stop": 0, "start": 3}, "trace.stop"),
    ({"traffic": "dense"}, "trace.traffic"),
    ({"compression": "zstd"}, "trace.compression"),
    ({"membrane": {"out": [1, 1]}}, "trace.membrane.out"),
    ({"membrane": {"out": [-1]}}, "trace.membrane.out"),
    ({"bogus": 1}, "trace.bogus"),
])
def test_selection_errors_name_file_and_key(table, key):
    with pytest.raises(ConfigError) as exc:
        build(TraceSelection, table, "exp.toml", "trace")
    assert exc.value.source == "exp.toml" and exc.value.key == key


def test_writer_refuses_selection_naming_unknown_populations(tmp_path):
    with pytest.raises(ConfigError, match="unknown population 'nope'.*has: pop"):
        TraceWriter(tmp_path / "t.h5", META, {"pop": 5}, 1, TraceSelection(populations=["nope"]))
    with pytest.raises(ConfigError, match="out of range"):
        TraceWriter(tmp_path / "t.h5", META, {"pop": 5}, 1, TraceSelection(membrane={"pop": [5]}))


# ---- round trip ---------------------------------------------------------------------

NAMES = ("in", "hidden.x", "out/δ+")


@st.composite
def runs(draw):
    pops = {name: draw(st.integers(1, 40)) for name in draw(st.lists(st.sampled_from(NAMES), min_size=1,
                                                                       max_size=3, unique=True))}
    n_samples = draw(st.integers(1, 8))
    spikes = {}
    for s in range(n_samples):
        for p, size in pops.items():
            n = draw(st.integers(0, 60))
            ticks = draw(st.lists(st.integers(0, 30), min_size=n, max_size=n))
            neurons = draw(st.lists(st.integers(0, size - 1), min_size=n, max_size=n))
            spikes[s, p] = (np.array(ticks, np.int64), np.array(neurons, np.int64))
    start = draw(st.integers(0, 3))
    t0 = draw(st.integers(0, 20))
    table = {
        "enabled": True,
        "populations": draw(st.lists(st.sampled_from(sorted(pops)), unique=True)),
        "samples": draw(st.one_of(st.just("all"), st.lists(st.integers(0, 9), unique=True))),
        "every": draw(st.integers(1, 3)),
        "start": start,
        "ticks": draw(st.one_of(st.just([]), st.just([t0, t0 + draw(st.integers(1, 15))]))),
        "chunk_events": draw(st.integers(16, 64)),
        "compression": draw(st.sampled_from(["gzip", "lzf", "none"])),
        "background": draw(st.booleans()),
    }
    if draw(st.booleans()):
        table["stop"] = start + draw(st.integers(1, 8))
    return pops, spikes, build(TraceSelection, table, "<test>", "trace")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs())
def test_round_trip_reads_back_exactly_the_selected_spikes(run):
    pops, spikes, sel = run
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.h5"
        with TraceWriter(path, META, pops, 2, sel) as w:
            for (s, p), (t, n) in spikes.items():
                w.add_spikes(s, p, t, n)
        lo, hi = sel.tick_window
        with traces.open(path) as tr:
            assert set(tr.populations) == {p for p in pops if sel.wants_population(p)}
            for p in pops:
                if not sel.wants_population(p):
                    with pytest.raises(TraceError, match="not in this trace"):
                        tr.samples(p)
                    continue
                assert tr.populations[p] == pops[p]
                wanted = sorted({s for s, q in spikes if q == p and sel.wants_sample(s)})
                assert tr.samples(p).tolist() == wanted
                total = np.zeros(pops[p], np.int64)
                for (s, q), (t, n) in spikes.items():
                    if q != p:
                        continue
                    if not sel.wants_sample(s):
                        with pytest.raises(TraceError, match="was not recorded"):
                            tr.spikes(p, s)
                        continue
                    keep = (t >= lo) & (t < (hi if hi is not None else np.inf))
                    got_t, got_n = tr.spikes(p, s)
                    np.testing.assert_array_equal(got_t, t[keep])
                    np.testing.assert_array_equal(got_n, n[keep])
                    np.testing.assert_array_equal(tr.spike_counts(p, s), np.bincount(n[keep], minlength=pops[p]))
                    total += np.bincount(n[keep], minlength=pops[p])
                np.testing.assert_array_equal(tr.spike_counts(p), total)
            assert tr.status == "complete"
            assert tr.metadata["seed"] == 7 and tr.metadata["mapping"] == {"cores": 4}
            assert tr.metadata["experiment_toml"] == META["experiment_toml"]
            assert tr.metadata["schema_version"] == traces.SCHEMA_VERSION


def test_probes_packets_traffic_snapshots_and_counters_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    sel = TraceSelection(enabled=True, membrane={"h": [4, 1]}, packets=True, traffic="per_tick", snapshots=True,
                         ticks=[2, 8], chunk_events=16, every=2)
    path = tmp_path / "t.h5"
    v = rng.random((10, 6)).astype(np.float32)
    i = rng.random((10, 6)).astype(np.float32)
    per_tick = rng.integers(0, 4, (10, 3, 3))
    w_snap = rng.random((5, 7)).astype(np.float32)
    states = rng.integers(-30, 30, (2, 3, 4)).astype(np.int16)
    with TraceWriter(path, META, {"h": 6}, 3, sel) as w:
        for s in range(4):
            w.add_probe(s, "h", np.arange(6), v * (s + 1), i)
            w.add_packets(s, np.arange(10), np.zeros(10), np.ones(10), np.arange(10) + 100 * s)
            w.add_traffic(s, per_tick)
        w.snapshot("epoch 0", "W1", w_snap)
        w.snapshot("epoch 1", "states", states)
        w.add_counters("epoch 1", {"spikes": 42, "per_core": np.array([1, 2, 3]), "energy_pj": 1.5})
    with traces.open(path) as tr:
        ticks, neurons, pv, pi = tr.probe("h", 2)
        assert ticks.tolist() == list(range(2, 8)) and neurons.tolist() == [4, 1]
        np.testing.assert_array_equal(pv, (v * 3)[2:8][:, [4, 1]])
        np.testing.assert_array_equal(pi, i[2:8][:, [4, 1]])
        with pytest.raises(TraceError, match="sample 1 of probe 'h' was not recorded"):
            tr.probe("h", 1)
        pk = tr.packets(2)
        assert pk["tick"].tolist() == list(range(2, 8)) and pk["address"].tolist() == list(range(202, 208))
        np.testing.assert_array_equal(tr.traffic_per_tick(0)[2:], per_tick[2:8])
        assert not tr.traffic_per_tick(0)[:2].any()
        np.testing.assert_array_equal(tr.traffic(2), per_tick[2:8].sum(axis=0))
        np.testing.assert_array_equal(tr.traffic(), 2 * per_tick[2:8].sum(axis=0))
        assert tr.snapshot_labels() == ["epoch 0", "epoch 1"]
        got = tr.snapshot("epoch 1", "states")
        assert got.dtype == np.int16 and got.shape == (2, 3, 4)
        np.testing.assert_array_equal(got, states)
        np.testing.assert_array_equal(tr.snapshot("epoch 0", "W1"), w_snap)
        with pytest.raises(TraceError, match="no snapshot 'W2'"):
            tr.snapshot("epoch 0", "W2")
        c = tr.counters()["epoch 1"]
        assert c["spikes"] == 42 and c["energy_pj"] == 1.5 and c["per_core"].tolist() == [1, 2, 3]
        info = tr.info()
        assert info["span"] == {"samples": [0, 2], "ticks": [2, 7]}
        assert info["traffic"]["packets"] == int(2 * per_tick[2:8].sum())
        assert info["probes"]["h"]["rows"] == 12


def test_traffic_sum_mode_and_off(tmp_path):
    m = np.arange(9).reshape(3, 3)
    with TraceWriter(tmp_path / "a.h5", META, {"p": 1}, 3, TraceSelection(traffic="sum")) as w:
        w.add_traffic(0, np.stack([m, m]))  # per-tick input is summed
        w.add_traffic(1, m)
    with TraceWriter(tmp_path / "b.h5", META, {"p": 1}, 3, TraceSelection(traffic="off")) as w:
        w.add_traffic(0, m)  # ignored
    with traces.open(tmp_path / "a.h5") as tr:
        np.testing.assert_array_equal(tr.traffic(0), 2 * m)
        np.testing.assert_array_equal(tr.traffic(), 3 * m)
    with traces.open(tmp_path / "b.h5") as tr, pytest.raises(TraceError, match="no traffic"):
        tr.traffic()


# ---- bounded memory -----------------------------------------------------------------

def test_buffers_never_exceed_chunk_events(tmp_path):
    chunk = 32
    sel = TraceSelection(enabled=True, chunk_events=chunk, membrane={"a": [0, 1, 2]}, packets=True)
    rng = np.random.default_rng(0)
    given = {}
    with TraceWriter(tmp_path / "t.h5", META, {"a": 10, "b": 10}, 2, sel) as w:
        caps = w.buffer_capacities()
        arrays_bytes = sum(a.nbytes for b in w._buffers().values() for a in b.arrays.values())
        for s in range(200):
            n = 1000 if s == 7 else int(rng.integers(0, 50))  # one sample far above the chunk size
            given[s] = (np.sort(rng.integers(0, 20, n)), rng.integers(0, 10, n))
            w.add_spikes(s, "a", *given[s])
            w.add_spikes(s, "b", *given[s])
            w.add_packets(s, *(rng.integers(0, 5, (4, n))))
            w.add_traffic(s, rng.integers(0, 3, (2, 2)))
            w.add_probe(s, "a", np.arange(10), np.ones((20, 10)), np.ones((20, 10)))
            sizes = w.buffer_sizes()
            assert all(sizes[k] <= caps[k] for k in sizes)
        for k, cap in caps.items():
            if not k.endswith("index"):
                assert cap <= chunk  # probes: chunk // 3 rows of 3 values
        assert w.buffer_capacities() == caps
        assert sum(a.nbytes for b in w._buffers().values() for a in b.arrays.values()) == arrays_bytes
    with traces.open(tmp_path / "t.h5") as tr:
        for s in (0, 7, 199):
            np.testing.assert_array_equal(tr.spikes("b", s)[1], given[s][1])


# ---- crash safety and SWMR ----------------------------------------------------------

WRITER_SRC = EVENTS_SRC + textwrap.dedent("""
    import sys
    from neurocore.traces import TraceSelection, TraceWriter
    sel = TraceSelection(enabled=True, chunk_events=256)
    w = TraceWriter(sys.argv[1], {"seed": 0}, {"pop": 50, "few": 50}, 4, sel)
    s = 0
    while True:  # 'pop' fills its buffer often, 'few' (a tenth of the events) rarely
        w.add_spikes(s, "pop", *events(s))
        w.add_spikes(s, "few", *(a[::10] for a in events(s)))
        w.add_traffic(s, np.ones((4, 4), int))
        if s % 5 == 4:
            w.flush()
            print(s, flush=True)
        s += 1
""")


def test_sigkilled_writer_leaves_a_readable_file_with_every_flushed_event(tmp_path):
    path = tmp_path / "killed.h5"
    proc = subprocess.Popen([sys.executable, "-c", WRITER_SRC, str(path)], stdout=subprocess.PIPE, text=True,
                            env=_env())
    try:
        for _ in range(12):
            line = proc.stdout.readline()
            assert line, "writer died before flushing"
        last_flushed = int(line)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    with traces.open(path) as tr:
        assert tr.status == "open or killed"
        for pop, step in (("pop", 1), ("few", 10)):
            samples = tr.samples(pop)
            assert samples.tolist() == list(range(len(samples))) and samples[-1] >= last_flushed
            for s in samples:  # every committed sample is whole
                t, n = tr.spikes(pop, s)
                np.testing.assert_array_equal(t, events(s)[0][::step])
                np.testing.assert_array_equal(n, events(s)[1][::step])
        info = tr.info()
        assert info["traffic"]["samples"] >= last_flushed + 1
        assert tr.traffic().sum() == 16 * info["traffic"]["samples"]
    # A copy cut short is refused, and quickly (HDF5's SWMR reader alone would retry for minutes).
    raw = path.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(raw[: len(raw) * 2 // 3])
    with pytest.raises(TraceError, match="truncated"):
        traces.open(cut)


READER_SRC = textwrap.dedent("""
    import sys
    import neurocore.traces as traces
    tr = traces.open(sys.argv[1])
    for line in sys.stdin:
        print(len(tr.samples("pop")), int(tr.spike_counts("pop").sum()), int(tr.traffic().sum()), flush=True)
""")


def test_reader_in_another_process_sees_data_while_the_writer_runs(tmp_path):
    path = tmp_path / "live.h5"
    sel = TraceSelection(enabled=True, chunk_events=64)
    with TraceWriter(path, META, {"pop": 50}, 4, sel) as w:
        for s in range(5):
            w.add_spikes(s, "pop", *events(s))
            w.add_traffic(s, np.ones((4, 4), int))
        w.flush()
        reader = subprocess.Popen([sys.executable, "-c", READER_SRC, str(path)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, env=_env())
        try:
            reader.stdin.write("\n")
            reader.stdin.flush()
            first = reader.stdout.readline().split()
            assert first == ["5", str(sum(len(events(s)[0]) for s in range(5))), "80"]
            for s in range(5, 12):
                w.add_spikes(s, "pop", *events(s))
                w.add_traffic(s, np.ones((4, 4), int))
            w.flush()
            reader.stdin.write("\n")
            reader.stdin.flush()
            second = reader.stdout.readline().split()
            assert second == ["12", str(sum(len(events(s)[0]) for s in range(12))), str(16 * 12)]
        finally:
            reader.stdin.close()
            reader.wait(timeout=30)


# ---- bad files ----------------------------------------------------------------------

def test_bad_files_raise_trace_errors_saying_what_is_wrong(tmp_path):
    good = tmp_path / "good.h5"
    _write(good)
    cases = {}
    cases["missing.h5"] = ("no such trace file", None)
    (tmp_path / "random.h5").write_bytes(np.random.default_rng(0).bytes(4096))
    cases["random.h5"] = ("not an HDF5 file", None)
    (tmp_path / "empty.h5").write_bytes(b"")
    cases["empty.h5"] = ("not an HDF5 file", None)
    raw = good.read_bytes()
    (tmp_path / "truncated.h5").write_bytes(raw[: len(raw) // 2])
    cases["truncated.h5"] = ("truncated", None)
    scrambled = bytearray(raw)
    scrambled[48:2048] = np.random.default_rng(1).bytes(2000)  # object headers right after the superblock
    (tmp_path / "scrambled.h5").write_bytes(bytes(scrambled))
    cases["scrambled.h5"] = ("corrupt|damaged", None)
    with h5py.File(tmp_path / "foreign.h5", "w") as f:
        f["data"] = np.arange(3)
    cases["foreign.h5"] = ("not a neurocore trace.*neurocore_schema.*holds: data", None)
    newer = tmp_path / "newer.h5"
    _write(newer)
    with h5py.File(newer, "r+") as f:
        f.attrs["neurocore_schema"] = 99
    cases["newer.h5"] = ("schema version 99 is newer", None)
    for name, (pattern, _) in cases.items():
        with pytest.raises(TraceError, match=pattern) as exc:
            traces.open(tmp_path / name).close()
        assert name in str(exc.value)
    with pytest.raises(TraceError, match="not a file"):
        traces.open(tmp_path)
    with traces.open(good) as tr:
        with pytest.raises(TraceError, match="population 'x' is not in this trace; recorded: pop"):
            tr.spikes("x", 0)
        with pytest.raises(TraceError, match=r"sample 99 of 'pop' was not recorded; recorded samples: "
                                             r"0, 1, \.\.\., 9 \(stride 1, 10 samples\)"):
            tr.spikes("pop", 99)
        with pytest.raises(TraceError, match="no AER packets"):
            tr.packets(0)


def test_writer_checks_its_inputs(tmp_path):
    with TraceWriter(tmp_path / "t.h5", META, {"pop": 5}, 2) as w:
        with pytest.raises(ValueError, match="out of range"):
            w.add_spikes(0, "pop", [1], [5])
        with pytest.raises(ValueError, match="one length"):
            w.add_spikes(0, "pop", [1, 2], [1])
        with pytest.raises(ValueError, match="unknown population"):
            w.add_spikes(0, "nope", [1], [1])
        with pytest.raises(ValueError, match=r"\(2, 2\)"):
            w.add_traffic(0, np.ones((3, 3)))
        with pytest.raises(ValueError, match="1..64 bytes"):
            w.add_counters("x" * 65, {"a": 1})
    with pytest.raises(RuntimeError, match="closed"):
        w.add_spikes(0, "pop", [1], [1])
    with pytest.raises(ZeroDivisionError), TraceWriter(tmp_path / "e.h5", META, {"pop": 5}, 2) as w:
        w.add_spikes(0, "pop", [1], [1])
        1 / 0
    with traces.open(tmp_path / "e.h5") as tr:
        assert tr.status == "closed after error" and tr.spikes("pop", 0)[1].tolist() == [1]


def test_a_failed_background_write_surfaces_as_a_trace_error(tmp_path, monkeypatch):
    from neurocore.traces import writer as writer_module

    def broken(self):
        raise OSError("No space left on device")

    w = TraceWriter(tmp_path / "t.h5", META, {"pop": 50}, 1, TraceSelection(chunk_events=16))
    monkeypatch.setattr(writer_module._Chunk, "write", broken)
    with pytest.raises(TraceError, match="writing the trace failed: No space left on device"):
        for s in range(100):
            w.add_spikes(s, "pop", *events(s))
        w.flush()
    monkeypatch.undo()
    w.close()  # the caller has had the TraceError: closing does not raise it again over whatever comes next
    assert w.closed
    with traces.open(tmp_path / "t.h5") as tr:  # readable, by neurocore and (flags cleared) by HDF5 tools
        assert tr.status in ("open or killed", "closed after error")
    # never told (the failure comes to light at close): close raises it, once
    w = TraceWriter(tmp_path / "u.h5", META, {"pop": 50}, 1, TraceSelection(chunk_events=1 << 20))
    w.add_spikes(0, "pop", *events(0))
    monkeypatch.setattr(writer_module._Chunk, "write", broken)
    with pytest.raises(TraceError, match="No space left on device"):
        w.close()
    w.close()


# ---- CLI ----------------------------------------------------------------------------

def test_cli_info_raster_and_traffic_write_their_outputs(tmp_path, capsys):
    path = tmp_path / "t.h5"
    given = _write(path)
    assert main(["trace", "info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "neurocore trace, schema 1" in out and "pop" in out and "samples 0..9" in out
    assert main(["trace", "info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["populations"]["pop"]["spikes"] == sum(len(t) for t, _ in given.values())
    png = b"\x89PNG\r\n\x1a\n"
    assert main(["trace", "raster", str(path), "--population", "pop", "--sample", "3",
                 "-o", str(tmp_path / "r.png")]) == 0
    assert (tmp_path / "r.png").read_bytes()[:8] == png
    assert main(["trace", "traffic", str(path), "-o", str(tmp_path / "t.png")]) == 0
    assert (tmp_path / "t.png").read_bytes()[:8] == png
    assert main(["trace", "traffic", str(path), "--sample", "2", "--log", "-o", str(tmp_path / "t2.png")]) == 0
    assert (tmp_path / "t2.png").stat().st_size > 1000
    capsys.readouterr()
    assert main(["trace", "info", str(tmp_path / "none.h5")]) == 2
    assert "no such trace file" in capsys.readouterr().err


def test_scrambled_data_in_a_trace_raises_trace_error(tmp_path):
    path = tmp_path / "t.h5"
    rng = np.random.default_rng(0)
    with TraceWriter(path, META, {"pop": 50}, 4, TraceSelection(chunk_events=1024)) as w:
        for s in range(60):
            w.add_spikes(s, "pop", np.sort(rng.integers(0, 100, 300)), rng.integers(0, 50, 300))
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2:len(raw) // 2 + 2000] = rng.bytes(2000)  # compressed event chunks
    path.write_bytes(bytes(raw))
    with pytest.raises(TraceError, match="damaged|corrupt"):
        with traces.open(path) as tr:
            for s in tr.samples("pop"):
                tr.spikes("pop", s)


# ---- standard HDF5 tools -------------------------------------------------------------

H5LS, H5DUMP = shutil.which("h5ls"), shutil.which("h5dump")


@pytest.mark.skipif(not (H5LS and H5DUMP), reason="needs h5ls and h5dump (Debian's hdf5-tools; .ci/run installs it)")
def test_hdf5_tools_of_debian_read_every_dataset_of_a_trace(tmp_path):
    """h5ls/h5dump 1.10, built by others against an older HDF5, list and read what the writer wrote."""
    path = tmp_path / "t.h5"
    sel = TraceSelection(enabled=True, membrane={"pop": [1, 3]}, packets=True, traffic="per_tick",
                         snapshots=True, chunk_events=64)
    given = {}
    with TraceWriter(path, META, {"pop": 50}, 4, sel) as w:
        for s in range(5):
            given[s] = events(s)
            w.add_spikes(s, "pop", *given[s])
            w.add_probe(s, "pop", np.arange(50), np.ones((3, 50)), np.zeros((3, 50)))
            w.add_packets(s, np.arange(4), np.zeros(4), np.ones(4), np.arange(4))
            w.add_traffic(s, np.ones((2, 4, 4), np.int64))
        w.snapshot("epoch 1", "W1", np.eye(3, dtype=np.float32))
        w.add_counters("epoch 1", {"spikes": 5})
    listing = subprocess.run([H5LS, "-r", str(path)], capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0, listing.stderr
    assert "*ERROR*" not in listing.stdout, listing.stdout
    for name in ("/spikes/pop/tick", "/spikes/pop/neuron", "/spikes/pop/index", "/probes/pop/v", "/packets/address",
                 "/traffic/count", "/traffic/total", "/snapshots/data32", "/counters/index", "/run/status",
                 "/meta/seed"):
        assert name in listing.stdout, (name, listing.stdout)
    header = subprocess.run([H5DUMP, "-H", str(path)], capture_output=True, text=True, timeout=60)
    assert header.returncode == 0 and "error" not in header.stderr.lower(), header.stderr
    assert 'DATASET "tick"' in header.stdout and "H5T_STD_U16LE" in header.stdout  # narrow neuron column
    # h5dump writes a dataset's values as raw little-endian bytes: they are the ticks written, in order
    raw = tmp_path / "tick.bin"
    dump = subprocess.run([H5DUMP, "-d", "/spikes/pop/tick", "-b", "LE", "-o", str(raw), str(path)],
                          capture_output=True, text=True, timeout=60)
    assert dump.returncode == 0, dump.stderr
    np.testing.assert_array_equal(np.fromfile(raw, "<i4"), np.concatenate([given[s][0] for s in range(5)]))


def test_an_unrecorded_sample_is_refused_naming_the_stride_recorded(tmp_path):
    path = tmp_path / "t.h5"
    _write(path, n_samples=30, every=10)
    with traces.open(path) as tr:
        assert tr.samples("pop").tolist() == [0, 10, 20]
        with pytest.raises(TraceError, match=r"sample 3 of 'pop' was not recorded; recorded samples: 0, 10, 20$"):
            tr.spikes("pop", 3)
    _write(path, n_samples=100, every=20)
    with traces.open(path) as tr, pytest.raises(TraceError, match=r"0, 20, \.\.\., 80 \(stride 20, 5 samples\)"):
        tr.spikes("pop", 3)


def test_the_schema_page_names_populations_an_experiment_trace_holds():
    """traces/README.md's examples use the population names, labels and samples a quick run records."""
    import re
    import tomllib

    from neurocore.experiment import load_experiment
    from neurocore.methods.ssnn_bp.netlist import build_ssnn, init_weights

    text = (REPO / "traces" / "README.md").read_text()
    exp = load_experiment("quick")
    net = build_ssnn(exp.net, exp.train.ts, init_weights(exp.net, np.random.default_rng(0)))
    table = tomllib.loads(re.search(r"```toml\n(.*?)```", text, re.S).group(1))["trace"]
    sel = build(TraceSelection, table, "traces/README.md", "trace")
    assert set(sel.populations) | set(sel.membrane) <= set(net.populations)
    named = set(re.findall(r'tr\.(?:spikes|samples|spike_counts|probe)\("(\w+)"', text))
    named |= set(re.findall(r"--population (\w+)", text))
    assert named and named <= set(net.populations), named - set(net.populations)
    for sample in map(int, re.findall(r"sample[= ](\d+)", text)):
        assert exp.trace.wants_sample(sample), sample
