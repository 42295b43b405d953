"""A wheel (`pip install .`, not `-e`) carries the model files, and an installed wheel finds them by name."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from neurocore.errors import ConfigError
from neurocore.resolve import KINDS, known, model_file, models_dir

REPO = Path(__file__).resolve().parent.parent


def test_setup_cfg_lists_every_subpackage():
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    listed = set(cfg["options"]["packages"].split())
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "neurocore").rglob("__init__.py")}
    assert found - listed == set(), f"add these to [options] packages in setup.cfg: {sorted(found - listed)}"
    assert listed - found == {"neurocore.models"}


def test_the_resolver_finds_names_and_paths_and_lists_what_is_known(tmp_path):
    assert models_dir() == REPO / "models"  # a checkout: the top-level folder
    assert model_file("chips", "small") == REPO / "models" / "chips" / "small.toml"
    own = tmp_path / "mine.toml"
    own.write_text("")
    assert model_file("nets", own) == own
    assert model_file("chips", "mine.toml", near=tmp_path) == tmp_path / "mine.toml"
    assert set(known("experiments")) >= {"quick", "digits", "fmnist"}
    with pytest.raises(ConfigError, match=r"no experiment named 'quik'; known experiments: bats_digits, .*, digits, .*quick"):
        model_file("experiments", "quik")
    with pytest.raises(ConfigError, match=r"nope\.toml: file not found \(shipped sweeps, usable by name: .*fig6_ts"):
        model_file("sweeps", tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match=r"exp\.toml: key 'chip\.name': no chip named 'tiny'"):
        model_file("chips", "tiny", source="exp.toml", key="chip.name")


def _source_copy(dst: Path) -> Path:
    """The files a wheel is built from, copied out of the working tree (builds write into their source)."""
    for name in ("setup.cfg", "pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, dst / name)
    for name in ("neurocore", "models"):
        shutil.copytree(REPO / name, dst / name, ignore=shutil.ignore_patterns("__pycache__", "*.nb[ic]"))
    return dst


def test_a_wheel_install_finds_every_shipped_model_by_name(tmp_path):
    (tmp_path / "src").mkdir()
    src = _source_copy(tmp_path / "src")
    dist = tmp_path / "dist"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            "-w", str(dist), str(src)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next(dist.glob("neurocore-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"neurocore/models/{kind}/{n}.toml" for kind in KINDS for n in known(kind)}
    assert shipped <= names, sorted(shipped - names)

    # a venv that sees the installed dependencies, with neurocore from the wheel alone
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    inst = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                          capture_output=True, text=True, timeout=300)
    assert inst.returncode == 0, inst.stderr[-3000:]
    script = (
        "import neurocore, neurocore.resolve as r\n"
        "from neurocore.chip import load_chip\n"
        "from neurocore.netlist import load_netlist\n"
        "from neurocore.experiment import load_experiment\n"
        "from neurocore.sweep import load_sweep\n"
        "print(neurocore.__file__)\n"
        "print(r.models_dir())\n"
        "for c in r.known('chips'): load_chip(c)\n"
        "for n in r.known('nets'): load_netlist(n)\n"
        "for e in r.known('experiments'): load_experiment(e)\n"
        "for s in r.known('sweeps'): load_sweep(r.model_file('sweeps', s))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run([str(py), "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    where, models = run.stdout.split()[:2]
    assert Path(where).is_relative_to(venv) and Path(models).is_relative_to(venv), run.stdout
    cli = subprocess.run([str(py), "-m", "neurocore", "map", "ff_small", "--json"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300, env=env)
    assert cli.returncode == 0 and '"netlist": "ff_small"' in cli.stdout, cli.stderr[-3000:]


def _readme_blocks() -> list[str]:
    import re
    return re.findall(r"```bash\n(.*?)```", (REPO / "README.md").read_text(), re.S)


def test_the_readme_opens_with_two_command_lines_and_ci_runs_the_second():
    lines = [ln for ln in _readme_blocks()[0].splitlines() if ln.strip()]
    assert len(lines) == 2, lines
    assert lines[1] in (REPO / ".ci" / "run").read_text()
    assert "hdf5-tools" in lines[1]


def test_every_command_of_the_readme_parses():
    """Flags and subcommands the README shows exist (nothing runs)."""
    import shlex

    from neurocore.cli import build_parser

    commands = [ln.split("#")[0] for block in _readme_blocks() for ln in block.splitlines()
                if ln.startswith("neurocore ")]
    assert len(commands) >= 15
    parser = build_parser()
    for line in commands:
        parser.parse_args(shlex.split(line)[1:])
