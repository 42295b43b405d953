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


def _build_isolation_flags() -> list[str]:
    """`--no-build-isolation` when this interpreter has what pyproject.toml's build needs (no download),
    else nothing: pip then builds in an isolated environment of its own (a fresh venv's bundled
    setuptools 65 has no `bdist_wheel` without the `wheel` package)."""
    from importlib.metadata import PackageNotFoundError, version

    def ver(name: str) -> tuple[int, ...]:
        try:
            return tuple(int(x) for x in version(name).split(".")[:2] if x.isdigit())
        except PackageNotFoundError:
            return ()
    setuptools = ver("setuptools")
    return ["--no-build-isolation"] if setuptools >= (64,) and (ver("wheel") or setuptools >= (70, 1)) else []


def wheel_install(dst: Path) -> tuple[Path, Path]:
    """Build a wheel from a copy of the checkout and install it (alone, no dependencies) into the
    folder `dst/site`; returns (wheel, site folder). The running interpreter then runs with
    PYTHONPATH=site: it sees neurocore from the wheel first and every dependency where it found it
    (a venv's, a user's or the system's site-packages alike), whatever the interpreter's layout.
    (A venv made with --system-site-packages from a venv's interpreter sees the base interpreter's
    packages, not the venv's: this check used to fail inside a venv for that reason.)"""
    (dst / "src").mkdir()
    src = _source_copy(dst / "src")
    dist = dst / "dist"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *_build_isolation_flags(),
                            "-w", str(dist), str(src)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next(dist.glob("neurocore-*.whl"))
    site = dst / "site"
    inst = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                           "--target", str(site), str(wheel)], capture_output=True, text=True, timeout=300)
    assert inst.returncode == 0, inst.stderr[-3000:]
    return wheel, site


def test_a_wheel_install_finds_every_shipped_model_by_name(tmp_path):
    wheel, site = wheel_install(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"neurocore/models/{kind}/{n}.toml" for kind in KINDS for n in known(kind)}
    assert shipped <= names, sorted(shipped - names)

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
    env = dict(os.environ, PYTHONPATH=str(site))  # the wheel's neurocore before any other (an editable install)
    run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    where, models = run.stdout.split()[:2]
    assert Path(where).is_relative_to(site) and Path(models).is_relative_to(site), run.stdout
    cli = subprocess.run([sys.executable, "-m", "neurocore", "map", "ff_small", "--json"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300, env=env)
    assert cli.returncode == 0 and '"netlist": "ff_small"' in cli.stdout, cli.stderr[-3000:]


def test_the_packaging_check_passes_inside_a_venv_made_from_a_venv(tmp_path):
    """The README's second command, run in a venv (as a newcomer does): a venv `outer` that sees this
    interpreter's packages (a .pth file naming its site folders), and from *its* interpreter a second
    venv `inner` made with --system-site-packages, as the old check made its scratch venv. The packaging
    check run by `outer`'s interpreter passes, and `inner` shows why the old one failed in a venv: it
    sees the base interpreter's packages, not `outer`'s."""
    import site
    import venv as venv_mod

    outer = tmp_path / "outer"
    venv_mod.create(outer, with_pip=False)  # from the base interpreter: sees none of this one's packages
    outer_py = outer / "bin" / "python"
    outer_site = Path(subprocess.run([str(outer_py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                     capture_output=True, text=True, check=True).stdout.strip())
    ours = [p for p in [*site.getsitepackages(), site.getusersitepackages()] if Path(p).is_dir()]
    (outer_site / "zz_outer.pth").write_text("".join(f"import site; site.addsitedir({p!r})\n" for p in ours))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(REPO)  # the checkout under test, as `pip install -e .` would give
    probe = "import sys; print(sys.prefix != sys.base_prefix); import numba, pytest; print('deps ok')"
    seen = subprocess.run([str(outer_py), "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert seen.stdout.split() == ["True", "deps", "ok"], seen.stderr[-2000:]

    inner = tmp_path / "inner"
    subprocess.run([str(outer_py), "-m", "venv", "--system-site-packages", "--without-pip", str(inner)], check=True,
                   env=env, timeout=120)
    where = ("import sys, sysconfig; base = sysconfig.get_path('purelib', vars={{'base': sys.base_prefix}}); "
             "print(base in sys.path, {!r} in sys.path)")
    inner_sees = subprocess.run([str(inner / "bin" / "python"), "-c", where.format(str(outer_site))],
                                capture_output=True, text=True, timeout=120, env=env)
    assert inner_sees.stdout.split() == ["True", "False"], inner_sees  # the base's packages, not outer's

    check = subprocess.run([str(outer_py), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(REPO),
                            f"{Path(__file__)}::test_a_wheel_install_finds_every_shipped_model_by_name"],
                           cwd=tmp_path, capture_output=True, text=True, env=env, timeout=900)
    assert check.returncode == 0, (check.stdout + check.stderr)[-3000:]
    assert "1 passed" in check.stdout, check.stdout[-2000:]


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
