"""An experiment: chip + training method + network + data + training + trace options, from one TOML file.

Layout of `models/experiments/*.toml`:

    name = "quick"
    seed = 1
    method = "ssnn-bp" a training method of `neurocore.registry` (ssnn-bp, the default; lee2020; bats)
    [chip]            name = "loihi_like", plus any chip field to override, e.g. [chip.device]
    [data]            dataset, train, test, root
    [net]             the method's network spec (SSNN-BP: SSNNSpec)
    [train]           the method's training spec (SSNN-BP: TrainSpec)
    [mapping]         strategy (how the trained or training network is placed on the chip)
    [trace]           TraceSelection fields (neurocore.traces; SSNN-BP only)

Every key of every table can be overridden by a dotted path (`train.ts`,
`chip.device.dw_min`, `chip.mesh.width`): that is what sweeps do.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .chip import Chip, chip_from_dict
from .config import ConfigError, build, check_keys, load_toml, name_override, set_key, spec
from .registry import DEFAULT_METHOD, get_method
from .resolve import folder, model_file

EXPERIMENTS_DIR = folder("experiments")  # where named experiments live (neurocore.resolve finds them)


@dataclass(frozen=True)
class DataSpec:
    """Which data to train and test on."""

    dataset: str = spec("mnist-5k", doc="dataset name (fashion-mnist, mnist-5k, digits, mnist, "
                                        "emnist-balanced, idx:FOLDER)")
    root: str = spec("", doc="folder of the IDX files (empty: the dataset's default)")
    train: int = spec(0, lo=0, doc="training samples to use (0 = all)")
    test: int = spec(0, lo=0, doc="test samples to use (0 = all)")


@dataclass(frozen=True)
class MappingSpec:
    strategy: str = spec("sequential", choices=("sequential", "traffic"), doc="placement strategy")
    placement: str = spec("", doc="placement TOML file pinning every slice to a core (empty: the strategy "
                                  "places; see `neurocore map --placement-out`)")


@dataclass(frozen=True)
class Experiment:
    """A whole, validated experiment; `net` and `train` are its method's specs (SSNN-BP: SSNNSpec, TrainSpec)."""

    name: str
    seed: int
    chip: Chip
    data: DataSpec
    net: Any
    train: Any
    mapping: MappingSpec
    trace: Any
    source: str
    raw: dict
    method: str = DEFAULT_METHOD

    @property
    def on_chip(self) -> bool:
        """Whether the method learns on the chip (else it trains off the chip and is deployed on it)."""
        return get_method(self.method).on_chip


@dataclass(frozen=True)
class _Top:
    name: str = spec("experiment", doc="experiment name")
    seed: int = spec(0, lo=0, doc="seed of everything random")
    method: str = spec(DEFAULT_METHOD, doc="training method (neurocore.registry): ssnn-bp, lee2020, bats")
    chip: dict = spec(factory=lambda: {"name": "loihi_like"}, doc="chip name and overrides")
    data: dict = spec(factory=dict, doc="[data]")
    net: dict = spec(factory=dict, doc="[net]")
    train: dict = spec(factory=dict, doc="[train]")
    mapping: dict = spec(factory=dict, doc="[mapping]")
    trace: dict = spec(factory=dict, doc="[trace]")


def _chip(table: Mapping[str, Any], source: str) -> Chip:
    table = dict(table)
    name = table.pop("name", "loihi_like")
    near = Path(source).parent if source != "<python>" else None
    path = model_file("chips", name, near=near, source=source, key="chip.name")
    base = load_toml(path)
    over = table.get("device")
    if isinstance(over, str) or (isinstance(over, Mapping) and "preset" in over):
        base.pop("device", None)  # a preset named in the overrides replaces the chip's device
    elif isinstance(base.get("device"), str):  # overrides of a chip's preset apply on top of it
        base["device"] = {"preset": base["device"]}
    merged = _deep_merge(base, table)
    return chip_from_dict(merged, f"{path} (with overrides from {source})" if table else str(path), file=True)


def _deep_merge(base: dict, over: Mapping) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def experiment_from_dict(data: Mapping[str, Any], source: str = "<python>") -> Experiment:
    """Validate a nested mapping laid out like an experiment TOML."""
    try:
        from .traces import TraceSelection
    except ImportError:  # traces not built yet
        TraceSelection = None
    method = get_method(data.get("method", DEFAULT_METHOD), source)
    net_spec, train_spec = method.specs()
    tables = {"data": DataSpec, "net": net_spec, "train": train_spec, "mapping": MappingSpec}
    if TraceSelection is not None:
        tables["trace"] = TraceSelection
    chip_table = {k: v for k, v in data.get("chip", {}).items() if k != "name"} \
        if isinstance(data.get("chip"), Mapping) else None
    check_keys([(_Top, data, "")] + [(cls, data.get(k), k) for k, cls in tables.items()]
               + [(Chip, chip_table, "chip")], source)  # every misspelt key at once
    top = build(_Top, data, source)
    trace = build(TraceSelection, top.trace, source, "trace") if TraceSelection else top.trace
    if not method.on_chip and getattr(trace, "enabled", False):
        raise ConfigError(f"= true: method '{method.name}' trains off the chip; spike traces record training on "
                          "the chip (ssnn-bp)", source, "trace.enabled")
    return Experiment(
        name=top.name, seed=top.seed, chip=_chip(top.chip, source),
        data=build(DataSpec, top.data, source, "data"), net=build(net_spec, top.net, source, "net"),
        train=build(train_spec, top.train, source, "train"),
        mapping=build(MappingSpec, top.mapping, source, "mapping"),
        trace=trace, source=source, raw=copy.deepcopy(dict(data)), method=method.name)


def load_experiment(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Experiment:
    """Load an experiment by path or by name from `models/experiments/`, applying dotted overrides."""
    p = model_file("experiments", path)
    data = load_toml(p)
    overrides = overrides if overrides is not None else {}  # (parsed --set keeps the text it was given)
    try:  # an error in an override names the override (`--set train.ts=0: ...`), not the file
        for key, value in overrides.items():
            set_key(data, key, value)
        return experiment_from_dict(data, str(p))
    except ConfigError as exc:
        raise name_override(exc, overrides) from None


def experiment_text(exp: Experiment) -> str:
    """The whole experiment as TOML, every default written out (so a run folder or trace still
    says what ran if defaults change), for run folders and traces. Unset optional keys are left out."""
    import tomli_w

    from .config import to_dict

    def drop_none(x):
        if isinstance(x, dict):
            return {k: drop_none(v) for k, v in x.items() if v is not None}
        return x

    chip = {k: v for k, v in dict(exp.raw.get("chip", {})).items()}
    chip.setdefault("name", exp.chip.name)
    full = {"name": exp.name, "seed": exp.seed, "method": exp.method, "chip": chip,
            **{k: to_dict(getattr(exp, k)) for k in ("data", "net", "train", "mapping")}}
    if not isinstance(exp.trace, dict):
        full["trace"] = to_dict(exp.trace)
    return tomli_w.dumps(drop_none(full))
