"""Sweep files: a base experiment, a grid or list of config overrides, the metrics to record.

    name = "fig6"                                # optional; default: the file's stem
    base = "quick"                               # an experiment's name, or a path relative
                                                 # to this file, else to the cwd
    runner = "neurocore.study:run_point"    # optional: module:function(config) -> metrics
    metrics = ["accuracy", "train_energy_pj"]    # what to record (default: every scalar returned)
    repeats = 3                                  # optional; or seeds = [1, 2, 3]
    seed_key = "seed"                            # the config key that receives the seed

    [grid]                                       # cartesian product of every key's values
    "train.ts" = [50, 100, 200]                  # dotted config keys; train.ts = [...] also works

    [[points]]                                   # or/and explicit override tables
    "chip.mesh.width" = 2

With both, every point is combined with every grid combination; with neither, the sweep
has the single base point. Each repeat is a separate point whose overrides include the
seed. A point's id is a hash of its overrides (seed included): results are matched to
points by it, so editing the grid keeps the results of points that stay.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..config import build, load_toml, set_key, spec
from ..errors import ConfigError

DEFAULT_RUNNER = "neurocore.study:run_point"


@dataclass(frozen=True)
class SweepFile:
    """The keys of a sweep TOML file, as written."""

    name: str = spec("", doc="sweep name (default: the file's stem)")
    description: str = spec("", doc="free text")
    base: str | None = spec(None, doc="base experiment: a name in models/experiments/, or a TOML path relative to "
                                      "the sweep file or the working directory")
    runner: str = spec(DEFAULT_RUNNER, doc="'module:function' called with each point's config dict")
    grid: dict = spec(factory=dict, doc="dotted config key -> list of values; the cartesian product is swept")
    points: list[dict] = spec(factory=list, doc="explicit override tables, one per point")
    metrics: list[str] = spec(factory=list, doc="metrics to record (default: every scalar the runner returns)")
    repeats: int = spec(1, lo=1, doc="runs per point, each with its own seed")
    seeds: list[int] | None = spec(None, doc="explicit seeds, one run each (default: 0 .. repeats-1)")
    seed_key: str = spec("seed", doc="config key that receives the seed")


@dataclass(frozen=True)
class Point:
    """One run of a sweep: overrides of the base config (seed included) and their hash."""

    overrides: dict
    id: str
    repeat: int = 0
    seed: int | None = None

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={_show(v)}" for k, v in self.overrides.items()) or "base"


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: base config, flattened grid and points, and run settings."""

    name: str
    source: str
    base_path: Path | None
    base_config: dict
    runner: str = DEFAULT_RUNNER
    grid: dict = field(default_factory=dict)        # dotted key -> list of values
    points: list = field(default_factory=list)      # list of {dotted key: value}
    metrics: tuple = ()
    seeds: tuple | None = None                      # None: no seed override
    seed_key: str = "seed"
    description: str = ""

    def expand(self) -> list[Point]:
        """Every point of the sweep in order: explicit points x grid combinations x seeds."""
        keys = list(self.grid)
        combos = [dict(zip(keys, vals)) for vals in itertools.product(*(self.grid[k] for k in keys))]
        out = []
        for explicit in (self.points or [{}]):
            for combo in combos:
                for r, seed in enumerate(self.seeds if self.seeds is not None else [None]):
                    ov = {**explicit, **combo}
                    if seed is not None:
                        ov[self.seed_key] = seed
                    out.append(Point(ov, point_id(ov), r, seed))
        seen: dict[str, Point] = {}
        for p in out:
            if p.id in seen:
                raise ConfigError(f"two points have the same overrides ({p.label}); use repeats or seeds "
                                  "for repeated runs", self.source, "points")
            seen[p.id] = p
        return out

    def config(self, point: Point) -> dict:
        """The config dict a point runs with: the base with the point's overrides applied."""
        return apply_overrides(self.base_config, point.overrides, self.source)

    @property
    def swept_keys(self) -> list[str]:
        """Override keys that take more than one value across the points (seed excluded)."""
        values: dict[str, list] = {}
        for p in self.expand():
            for k, v in p.overrides.items():
                if k != self.seed_key and _canon(v) not in values.setdefault(k, []):
                    values[k].append(_canon(v))
        return [k for k, vs in values.items() if len(vs) > 1]


def point_id(overrides: Mapping[str, Any]) -> str:
    """12-hex-digit hash of a point's overrides (order-independent)."""
    return hashlib.sha1(_canon(dict(overrides)).encode()).hexdigest()[:12]


def apply_overrides(base: Mapping, overrides: Mapping[str, Any], source: str = "<python>") -> dict:
    """A deep copy of `base` with dotted-key overrides set; a table value is merged into the table."""
    out = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        try:
            if isinstance(value, Mapping):
                for sub, v in _flatten(value, key, leaf=lambda x: not isinstance(x, Mapping)).items():
                    set_key(out, sub, copy.deepcopy(v))
            else:
                set_key(out, key, copy.deepcopy(value))
        except ConfigError as exc:
            raise ConfigError(str(exc).split(": ", 2)[-1], source, key) from None
    return out


def load_sweep(path: str | Path) -> SweepSpec:
    """Load and validate a sweep TOML file (the base experiment is read too)."""
    p = Path(path)
    return sweep_from_dict(load_toml(p), source=str(p), name=p.stem, base_dir=p.resolve().parent)


def sweep_from_dict(data: Mapping[str, Any], source: str = "<python>", name: str = "sweep",
                    base_dir: str | Path | None = None, base_config: Mapping | None = None) -> SweepSpec:
    """Build a SweepSpec from a mapping shaped like a sweep file.

    `base_config` gives the base experiment directly (then `base` must be absent).
    """
    f = build(SweepFile, data, source)
    if base_config is not None and f.base is not None:
        raise ConfigError("give the base experiment as a file or as a dict, not both", source, "base")
    base_path = None
    if f.base is not None:
        base_path = _find_base(f.base, base_dir, source)
        base_config = load_toml(base_path)
    grid = _flatten(f.grid, "grid", leaf=lambda v: isinstance(v, list))
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"expected a non-empty list of values, got {values!r}", source, key)
    grid = {k[len("grid."):]: v for k, v in grid.items()}
    points = []
    for i, table in enumerate(f.points):
        flat = _flatten(table, "", leaf=lambda v: not isinstance(v, Mapping))
        if not flat:
            raise ConfigError("an empty point table; give at least one override", source, f"points[{i}]")
        clash = sorted(set(flat) & set(grid))
        if clash:
            raise ConfigError(f"'{clash[0]}' is set both in [grid] and in a [[points]] table", source,
                              f"points[{i}].{clash[0]}")
        points.append(flat)
    seeds = None
    if f.seeds is not None:
        if "repeats" in data and f.repeats != len(f.seeds):
            raise ConfigError(f"repeats = {f.repeats} but {len(f.seeds)} seeds are given; give one of them",
                              source, "repeats")
        seeds = tuple(f.seeds)
    elif f.repeats > 1:
        seeds = tuple(range(f.repeats))
    if seeds is not None and (f.seed_key in grid or any(f.seed_key in pt for pt in points)):
        raise ConfigError(f"'{f.seed_key}' is swept in the grid or points and also set by repeats/seeds",
                          source, "seed_key")
    _check_runner_path(f.runner, source)
    spec_ = SweepSpec(name=f.name or name, source=source, base_path=base_path,
                      base_config=dict(base_config or {}), runner=f.runner, grid=grid, points=points,
                      metrics=tuple(f.metrics), seeds=seeds, seed_key=f.seed_key, description=f.description)
    spec_.expand()  # duplicate points are an error now, not at run time
    return spec_


def _find_base(base: str, base_dir: str | Path | None, source: str) -> Path:
    """The base experiment: a name in models/experiments/ (as every command takes), or a path relative
    to the sweep file, else to the working directory."""
    p = Path(base)
    if not p.suffix and len(p.parts) == 1 and not (Path(base_dir or ".") / p).is_file():
        from ..resolve import model_file
        return model_file("experiments", base, source=source, key="base").resolve()
    tried = [p] if p.is_absolute() else ([Path(base_dir) / p] if base_dir else []) + [Path.cwd() / p]
    for cand in tried:
        if cand.is_file():
            return cand.resolve()
    raise ConfigError(f"base experiment '{base}' not found; tried {', '.join(str(t) for t in tried)}",
                      source, "base")


def _check_runner_path(runner: str, source: str) -> None:
    mod, sep, fn = runner.partition(":")
    if not sep or not mod or not fn or ":" in fn:
        raise ConfigError(f"= {runner!r} is not 'module:function' (e.g. '{DEFAULT_RUNNER}')", source, "runner")


def _flatten(table: Mapping, prefix: str, leaf) -> dict:
    """Nested tables -> {dotted key: value}; `leaf(value)` says where to stop."""
    out = {}
    for k, v in table.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if not leaf(v) and isinstance(v, Mapping):
            out.update(_flatten(v, key, leaf))
        else:
            out[key] = v
    return out


def _canon(v: Any) -> str:
    return json.dumps(v, sort_keys=True, separators=(",", ":"), default=str)


def _show(v: Any) -> str:
    return v if isinstance(v, str) else _canon(v)
