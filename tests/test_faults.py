"""Hostile inputs and faults (issue 23): every bad value refused in one line before it runs, every write
atomic and one line on a read-only folder or a full disk, a killed trace readable by standard tools.

Full disks are a 2 MB tmpfs where the tests may mount one (root), else a write that raises ENOSPC;
read-only folders a tmpfs remounted read-only (root: chmod does not stop root), else chmod 555."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neurocore.cli import main
from tests.helpers import one_line_error

REPO = Path(__file__).resolve().parents[1]
TINY = ["--set", "train.epochs=1", "--set", "data.train=40", "--set", "data.test=20", "--no-progress"]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg"}




def _mount_tmpfs(where: Path, size: str = "2m") -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    where.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True).returncode == 0


def _umount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB file system (skipped where the test cannot mount one)."""
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield disk
    _umount(disk)


class ReadOnly:
    """A folder that becomes read-only on `freeze()`: a tmpfs remounted ro as root, else chmod 555."""

    def __init__(self, root: Path):
        self.path = root / "ro"
        self.mounted = _mount_tmpfs(self.path, "4m")
        if not self.mounted:
            self.path.mkdir()

    def freeze(self) -> Path:
        if self.mounted:
            assert subprocess.run(["mount", "-o", "remount,ro", str(self.path)]).returncode == 0
        else:
            for p in [self.path, *self.path.rglob("*")]:
                if p.is_dir():
                    p.chmod(0o555)
        return self.path

    def close(self) -> None:
        if self.mounted:
            _umount(self.path)
        else:
            for p in [self.path, *self.path.rglob("*")]:
                if p.is_dir():
                    p.chmod(0o755)


@pytest.fixture
def read_only(tmp_path):
    ro = ReadOnly(tmp_path)
    yield ro
    ro.close()


def _no_temporary_files(folder: Path) -> None:
    left = [p.name for p in folder.rglob("*") if ".tmp" in p.name or p.name.startswith(".") and p.name != ".lock"]
    assert not left, left


# ---- bad values, refused before anything runs -----------------------------------------------

@pytest.mark.parametrize("override, says", [
    ("train.lr=inf", "--set train.lr=inf: key 'train.lr': expected a finite number, got inf"),
    ("train.lr=1e400", "--set train.lr=1e400: key 'train.lr': expected a finite number, got inf"),
    ("train.lr=-inf", "expected a finite number, got -inf"),
    ("net.wta=inf", "--set net.wta=inf: key 'net.wta': expected a finite number"),
    ("chip.device.dw_min=nan", "key 'chip.device.dw_min': expected a finite number, got nan"),
    ("train=5", "--set train=5: key 'train': expected a table, got 5"),
    ("chip.mesh.width=100000", "--set chip.mesh.width=100000: key 'chip.mesh.width' = 100000: a 100000 x 8 mesh "
                               "has 800000 cores; at most 4096"),
])
def test_bad_settings_are_one_line_naming_their_override(tmp_path, capsys, override, says):
    run = tmp_path / "r"
    line = one_line_error(capsys, ["train", "digits", "--run-dir", str(run), *TINY, "--set", override], says)
    assert "train.epochs=1" not in line  # never blamed on another --set
    assert not run.exists()


def test_data_sizes_larger_than_the_data_are_refused(tmp_path, capsys):
    run = tmp_path / "r"
    one_line_error(capsys, ["train", "digits", "--run-dir", str(run), "--no-progress", "--set", "train.epochs=1",
                             "--set", "data.train=100000000"],
                    "--set data.train=100000000: key 'data.train' = 100000000: dataset 'digits' has 1437 training "
                    "samples; must be 0 (all of them) to 1437")
    assert not run.exists()


def test_a_checkpoint_that_is_not_finite_is_refused(tmp_path, capsys):
    run = tmp_path / "r"
    assert main(["train", "digits", "--run-dir", str(run), *TINY]) == 0
    z = dict(np.load(run / "checkpoint.npz"))
    z["weights"] = np.full_like(z["weights"], np.nan)
    np.savez(run / "checkpoint.npz", **z)
    one_line_error(capsys, ["infer", str(run)], "not a usable checkpoint", "'weights' holds", "NaN or infinite")


def _nir_file(folder: Path) -> Path:
    path = folder / "ff.nir"
    assert main(["nir", "export", str(REPO / "models" / "nets" / "ff_small.toml"), str(path)]) == 0
    return path


def test_nir_runs_refuse_empty_inputs_non_finite_weights_and_a_nan_dt(tmp_path, capsys):
    import nir

    path = _nir_file(tmp_path)
    for name, shape, says in (("zero_samples", (0, 10, 48), "0 samples of 10 ticks"),
                              ("zero_ticks", (2, 0, 48), "2 samples of 0 ticks")):
        np.save(tmp_path / f"{name}.npy", np.zeros(shape, np.float32))
        one_line_error(capsys, ["run", str(path), "--dt", "1e-4", "--input", str(tmp_path / f"{name}.npy"), "--trace",
                                 str(tmp_path / f"{name}.h5")], says, "key '--input'")
        assert not (tmp_path / f"{name}.h5").exists()  # no empty trace left behind
    np.save(tmp_path / "one.npy", np.zeros((1, 5, 48), np.float32))
    one_line_error(capsys, ["run", str(path), "--input", str(tmp_path / "one.npy"), "--dt", "nan"],
                    "argument --dt", "'nan' is not a finite number")
    g = nir.read(path)
    name = next(k for k, n in g.nodes.items() if type(n).__name__ == "Linear")
    g.nodes[name].weight[0, 0] = np.inf
    nir.write(tmp_path / "bad.nir", g)
    one_line_error(capsys, ["run", str(tmp_path / "bad.nir"), "--dt", "1e-4", "--input", str(tmp_path / "one.npy")],
                    f"node '{name}'", "'weight' holds 1 of", "NaN or infinite")


# ---- sweeps: every point checked first ------------------------------------------------------

@pytest.mark.parametrize("grid, says", [
    ('"train.bogus" = [1]', "key 'train.bogus': unknown key"),
    ('"train.lr" = [0.05, 1e400]', "key 'train.lr': expected a finite number"),
    ('"data.train" = [40, 100000]', "key 'data.train' = 100000: dataset 'digits' has 1437"),
])
def test_a_sweep_checks_every_point_before_the_first_runs(tmp_path, capsys, grid, says):
    sweep = tmp_path / "s.toml"
    sweep.write_text(f'base = "{REPO / "models" / "experiments" / "digits.toml"}"\n[grid]\n'
                     f'"train.epochs" = [1]\n{grid}\n')
    out = tmp_path / "out"
    one_line_error(capsys, ["sweep", str(sweep), "-o", str(out), "--workers", "0", "--no-progress"],
                    str(sweep), says, "no point was run")
    assert not out.exists()  # nothing written


def test_an_unreachable_scheduler_is_one_line(tmp_path):
    from neurocore.errors import NeurocoreError
    from neurocore.sweep.run import connect

    with pytest.raises(NeurocoreError, match=r"--scheduler tcp://127.0.0.1:1: cannot reach a dask scheduler"):
        connect("tcp://127.0.0.1:1", timeout=1)


# ---- atomic writes: read-only folders and full disks -------------------------------------------

def test_a_read_only_folder_is_one_line_for_every_writer(tmp_path, capsys, read_only):
    done = read_only.path / "done"
    assert main(["train", "digits", "--run-dir", str(done), *TINY, "--set", "trace.enabled=true"]) == 0
    ro = read_only.freeze()
    one_line_error(capsys, ["train", "digits", "--run-dir", str(ro / "fresh"), *TINY],
                    str(ro / "fresh"), "cannot create the run folder")
    one_line_error(capsys, ["train", "digits", "--run-dir", str(done), *TINY, "--resume", "--set", "train.epochs=2"],
                    str(done), "cannot write in this run folder")
    one_line_error(capsys, ["nir", "export", str(REPO / "models" / "nets" / "ff_small.toml"), str(ro / "x.nir")],
                    str(ro / "x.nir"), "cannot write the NIR file")
    one_line_error(capsys, ["trace", "raster", str(done / "trace.h5"), "-o", str(ro / "r.png")],
                    str(ro / "r.png"), "cannot write the plot")


def test_a_plot_with_an_unknown_suffix_is_one_line(tmp_path, capsys):
    run = tmp_path / "r"
    assert main(["train", "digits", "--run-dir", str(run), *TINY, "--set", "trace.enabled=true"]) == 0
    one_line_error(capsys, ["trace", "raster", str(run / "trace.h5"), "-o", str(tmp_path / "r.xyz")],
                    "cannot write a plot as '.xyz'", ".png")
    assert not (tmp_path / "r.xyz").exists()


def test_a_trace_folder_that_cannot_be_made_writes_nothing(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    run = tmp_path / "r"
    one_line_error(capsys, ["train", "digits", "--run-dir", str(run), *TINY, "--set", "trace.enabled=true",
                             "--set", f'trace.folder="{tmp_path / "file" / "t"}"'], "is a file, not a folder")
    assert not run.exists()  # not even an empty run folder


def test_a_checkpoint_on_a_full_disk_keeps_the_old_one_and_no_temporary_file(tmp_path, capsys, monkeypatch):
    import neurocore.runs as runs

    run = tmp_path / "r"
    assert main(["train", "digits", "--run-dir", str(run), *TINY]) == 0
    before = (run / "checkpoint.npz").read_bytes()

    def full(fh, **arrays):
        fh.write(b"PK\x03\x04" + bytes(1000))  # part of it went to disk
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(runs.np, "savez", full)
    one_line_error(capsys, ["train", "digits", "--run-dir", str(run), *TINY, "--resume", "--set", "train.epochs=2"],
                    str(run / "checkpoint.npz"), "cannot write the checkpoint: No space left on device",
                    "the previous file is kept")
    assert (run / "checkpoint.npz").read_bytes() == before
    _no_temporary_files(run)


def test_a_checkpoint_on_a_real_full_disk(small_disk, capsys):
    run = small_disk / "r"
    assert main(["train", "digits", "--run-dir", str(run), *TINY]) == 0
    before = (run / "checkpoint.npz").read_bytes()
    st = os.statvfs(small_disk)
    (small_disk / "filler").write_bytes(bytes(st.f_bavail * st.f_frsize - 20_000))  # room for results, not weights
    line = one_line_error(capsys, ["train", "digits", "--run-dir", str(run), *TINY, "--resume", "--set",
                                    "train.epochs=2"], "No space left on device")
    assert "checkpoint" in line or "results" in line or "curve" in line, line
    assert (run / "checkpoint.npz").read_bytes() == before
    _no_temporary_files(run)


def _trace_run(run: Path, patch_room: bool = False) -> subprocess.CompletedProcess:
    code = ("import sys\n"
            + ("import neurocore.traces.writer as w; w._need_room = lambda *a: None\n" if patch_room else "")
            + "from neurocore.cli import main\n"
            f"sys.exit(main(['train', 'digits', '--run-dir', {str(run)!r}, '--no-progress', '--set', 'train.epochs=1',"
            " '--set', 'data.train=1400', '--set', 'trace.enabled=true', '--set', 'trace.every=1', '--set',"
            " 'trace.packets=true', '--set', 'trace.compression=\"none\"']))\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=600)


@pytest.mark.parametrize("hdf5_hits_it", [False, True], ids=["reserve", "hdf5-enospc"])
def test_a_trace_on_a_full_disk_is_one_line_no_segfault_and_readable(small_disk, hdf5_hits_it):
    """The writer keeps a reserve so that HDF5 never meets a full disk; when it does anyway (the reserve
    switched off here), the first TraceError still reaches the user and the process ends without HDF5's crash."""
    import neurocore.traces as traces

    run = small_disk / "r"
    res = _trace_run(run, patch_room=hdf5_hits_it)
    assert res.returncode == 2, (res.returncode, res.stderr[-3000:])
    assert "Traceback" not in res.stderr
    errors = [ln for ln in res.stderr.splitlines() if "error" in ln]
    assert len(errors) == 1 and "writing the trace failed: No space left on device" in errors[0], res.stderr
    with traces.open(run / "trace.h5") as tr:
        assert tr.status == ("open or killed" if hdf5_hits_it else "closed after error")
    if shutil.which("h5ls"):
        assert subprocess.run(["h5ls", "-r", str(run / "trace.h5")], capture_output=True).returncode == 0


# ---- a killed trace and standard tools --------------------------------------------------------

_WRITER = """
import sys, time
import numpy as np
from neurocore.traces import TraceSelection, TraceWriter
w = TraceWriter(sys.argv[1], {"run": "killed"}, {"pop": 20}, 1, TraceSelection(enabled=True, chunk_events=64))
rng = np.random.default_rng(0)
for s in range(50):
    n = 30
    w.add_spikes(s, "pop", np.sort(rng.integers(0, 10, n)), rng.integers(0, 20, n))
w.flush()
print("flushed", flush=True)
time.sleep(60)
"""


def test_lookup3_is_bob_jenkins_hashlittle():
    from neurocore.traces.repair import lookup3

    # the test vectors of lookup3.c's driver
    assert lookup3(b"") == 0xDEADBEEF
    assert lookup3(b"Four score and seven years ago", 0) == 0x17770551
    assert lookup3(b"Four score and seven years ago", 1) == 0xCD628161


def test_a_killed_trace_opens_in_hdf5_tools_after_repair(tmp_path, capsys):
    import neurocore.traces as traces
    from neurocore.traces.repair import open_flags

    path = tmp_path / "killed.h5"
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True, env=ENV)
    try:
        assert writer.stdout.readline().strip() == "flushed"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert open_flags(path) != 0  # the superblock still says "open for writing"
    h5ls = shutil.which("h5ls")
    if h5ls:
        assert subprocess.run([h5ls, "-r", str(path)], capture_output=True).returncode != 0
    twin = tmp_path / "twin.h5"
    shutil.copy(path, twin)
    capsys.readouterr()
    assert main(["trace", "info", str(path)]) == 0
    assert "--repair" in capsys.readouterr().err
    assert main(["trace", "info", "--repair", str(path)]) == 0
    assert "cleared the open-for-writing mark" in capsys.readouterr().out
    assert open_flags(path) == 0
    with traces.open(path) as tr:
        assert list(tr.samples("pop")) == list(range(50))
    if h5ls:
        out = subprocess.run([h5ls, "-r", str(path)], capture_output=True, text=True)
        assert out.returncode == 0 and "/spikes/pop/tick" in out.stdout, out
    if shutil.which("h5clear"):  # the same bytes as the standard tool's repair
        assert subprocess.run(["h5clear", "-s", str(twin)], capture_output=True).returncode == 0
        assert twin.read_bytes() == path.read_bytes()
    assert main(["trace", "info", "--repair", str(path)]) == 0
    assert "nothing to repair" in capsys.readouterr().out


def test_two_sweeps_into_one_folder_are_refused(tmp_path, capsys):
    from neurocore.runfolder import RunLock

    out = tmp_path / "out"
    out.mkdir()
    with RunLock(out):
        one_line_error(capsys, ["sweep", str(REPO / "models" / "sweeps" / "standin.toml"), "-o", str(out),
                                 "--workers", "0", "--no-progress"], "the sweep folder is in use by pid", "-o DIR")
    assert list(out.iterdir()) == []


def test_resume_without_a_run_folder_creates_none(tmp_path, capsys):
    one_line_error(capsys, ["train", "digits", "--run-dir", str(tmp_path / "none"), *TINY, "--resume"],
                    "no run folder to resume here")
    assert not (tmp_path / "none").exists()
