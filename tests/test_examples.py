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
