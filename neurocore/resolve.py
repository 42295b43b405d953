"""Where model files are: chips, networks, experiments and sweeps, given by name or by path.

The files live in `models/<kind>/` at the top of a source checkout; a wheel carries the same
tree inside the package as `neurocore/models/` (setup.cfg maps it there), so a name such as
`small` or `quick` is found either way. Every loader finds its files through `model_file`.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ConfigError

KINDS = {"chips": "chip", "nets": "network", "experiments": "experiment", "sweeps": "sweep", "devices": "device"}


def models_dir() -> Path:
    """The `models/` folder: inside the installed package (a wheel), else beside the package (a checkout)."""
    here = Path(__file__).resolve().parent
    packaged = here / "models"
    return packaged if packaged.is_dir() else here.parent / "models"


def folder(kind: str) -> Path:
    """The folder of one kind of model file ("chips", "nets", "experiments", "sweeps", "devices")."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of model file {kind!r}; kinds: {', '.join(KINDS)}")
    return models_dir() / kind


def known(kind: str) -> list[str]:
    """Names of the shipped files of one kind, sorted."""
    return sorted(f.stem for f in folder(kind).glob("*.toml"))


def model_file(kind: str, name_or_path: str | Path, *, near: str | Path | None = None,
               source: str | None = None, key: str | None = None) -> Path:
    """The file a name (`small`, `quick`) or a path stands for.

    A path that exists is taken as it is; a relative path that does not is looked for in the
    folder `near` (where the file naming it lives); a bare name is looked up in
    `models/<kind>/`. Anything else is a ConfigError naming what was asked for (in `source` at
    `key`, when given) and listing the shipped names.
    """
    base = folder(kind)
    p = Path(name_or_path)
    if p.is_file():
        return p
    if near is not None and not p.is_absolute() and (Path(near) / p).is_file():
        return Path(near) / p
    names = ", ".join(known(kind)) or "none"
    if not p.suffix and len(p.parts) == 1:
        cand = base / f"{p.name}.toml"
        if cand.is_file():
            return cand
        message = f"no {KINDS[kind]} named '{name_or_path}'; known {kind}: {names} (or give a .toml path)"
        where = source if source is not None else str(base)
    else:
        message = f"file not found (shipped {kind}, usable by name: {names})"
        if source is not None:
            message = f"'{p}': {message}"
        where = source if source is not None else str(p)
    raise ConfigError(message, where, key)


def kinds_present() -> list[str]:
    """The kinds of model file this install has: KINDS, and any other folder of models/ holding .toml files
    (e.g. devices)."""
    extra = sorted(d.name for d in models_dir().iterdir() if d.is_dir() and d.name not in KINDS
                   and any(d.glob("*.toml"))) if models_dir().is_dir() else []
    return [*KINDS, *extra]


def description(path: str | Path, width: int = 110) -> str:
    """One line saying what a model file is: its `description` key, else the first sentence of the
    comment block it opens with ("" when it has neither)."""
    import re
    import tomllib

    text = Path(path).read_text(encoding="utf-8")
    try:
        found = tomllib.loads(text).get("description")
    except tomllib.TOMLDecodeError:
        found = None
    if not (isinstance(found, str) and found.strip()):
        lines = []
        for line in text.splitlines():
            if not line.startswith("#"):
                break
            words = line.lstrip("#").strip()
            if not words:
                if lines:
                    break
                continue
            lines.append(words)
        found = re.split(r"(?<=[.;])\s+(?=[A-Z(])", " ".join(lines))[0] if lines else ""
    found = " ".join(str(found).split())
    return found if len(found) <= width else found[:width - 1].rstrip() + "…"
