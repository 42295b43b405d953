"""The example scripts run as written (in a scratch folder, since they write traces/)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


@pytest.mark.parametrize("name", ["map_and_run.py", "train_in_python.py", "inspect_trace.py", "cost_model.py"])
def test_example_runs(name: str, tmp_path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}  # this checkout
    out = subprocess.run([sys.executable, str(EXAMPLES / name)], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip()


def test_snntorch_cnn_example_feeds_the_tours_nir_commands(tmp_path) -> None:
    """examples/snntorch_cnn.py writes the cnn.nir and spikes.npy that the README's map and run lines take."""
    pytest.importorskip("snntorch")
    pytest.importorskip("nirtorch")
    import json

    from neurocore.cli import main

    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, str(EXAMPLES / "snntorch_cnn.py"), "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    flags = ["--dt", "1e-4", "--discretisation", "euler", "--reset", "snntorch-subtract"]
    assert main(["map", str(tmp_path / "cnn.nir"), *flags]) == 0
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["run", str(tmp_path / "cnn.nir"), "--input", str(tmp_path / "spikes.npy"), *flags, "--json"]) == 0
    res = json.loads(buf.getvalue())
    counts = res["output_counts"]["output"]  # per output node: (samples, neurons)
    assert len(counts) == 4 and sum(map(sum, counts)) > 0
    assert res["energy_uj_per_sample"] > 0


def test_seed_spread_reports_mean_and_sample_std_per_group(tmp_path) -> None:
    """examples/seed_spread.py: per label, the mean and the (n - 1) std of the runs' test accuracy."""
    import json

    def run(name: str, accs: list[float]) -> Path:
        d = tmp_path / name
        d.mkdir()
        rows = [{"epoch": i + 1, "test_acc": a, "train_acc": a} for i, a in enumerate(accs)]
        (d / "results.json").write_text(json.dumps({"experiment": "x", "results": rows}))
        return d

    a1, a2 = run("a1", [0.5, 0.80]), run("a2", [0.6, 0.84])
    b1 = run("b1", [0.7, 0.9, 0.95])
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, str(EXAMPLES / "seed_spread.py"), f"a={a1}", f"a={a2}", f"b={b1 / 'results.json'}",
           "--name", "t", "--out", str(tmp_path / "out")]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    table = {r["group"]: r for r in json.loads((tmp_path / "out" / "t_spread.json").read_text())}
    assert table["a"]["mean"] == pytest.approx(82.0) and table["a"]["std"] == pytest.approx(2 * 2 ** 0.5, abs=1e-3)
    assert table["b"]["mean"] == pytest.approx(95.0) and table["b"]["std"] == 0.0
    assert (tmp_path / "out" / "t_spread.png").stat().st_size > 1000
    at1 = subprocess.run(cmd + ["--epoch", "1"], capture_output=True, text=True, timeout=120, env=env)
    assert at1.returncode == 0, at1.stderr[-2000:]
    assert json.loads((tmp_path / "out" / "t_spread.json").read_text())[0]["mean"] == pytest.approx(55.0)
    bad = subprocess.run(cmd + ["--epoch", "3"], capture_output=True, text=True, timeout=120, env=env)
    assert bad.returncode == 2 and "--epoch 3" in bad.stderr and "Traceback" not in bad.stderr
