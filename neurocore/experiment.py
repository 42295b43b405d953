"""An experiment: chip + SSNN-BP network + data + training + trace options, from one TOML file.

Layout of `models/experiments/*.toml`:

    name = "quick"
    seed = 1
    [chip]            name = "loihi_like", plus any chip field to override, e.g. [chip.device]
    [data]            dataset, train, test, root
    [net]             SSNNSpec fields
    [train]           TrainSpec fields
    [mapping]         strategy
    [trace]           TraceSelection fields (neurocore.traces)

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
from .learning.ssnn import SSNNSpec
from .resolve import folder, model_file

EXPERIMENTS_DIR = folder("experiments")  # where named experiments live (neurocore.resolve finds them)
UPDATE_MODES = ("coincidence", "rate", "rate_noise")


@dataclass(frozen=True)
class DataSpec:
    """Which data to train and test on."""

    dataset: str = spec("mnist-5k", doc="dataset name (fashion-mnist, mnist-5k, digits, mnist, "
                                        "emnist-balanced, idx:FOLDER)")
    root: str = spec("", doc="folder of the IDX files (empty: the dataset's default)")
    train: int = spec(0, lo=0, doc="training samples to use (0 = all)")
    test: int = spec(0, lo=0, doc="test samples to use (0 = all)")


@dataclass(frozen=True)
class TrainSpec:
    """How to train: train length, epochs, learning rate, update mode."""

    ts: int = spec(100, lo=2, hi=100000, doc="ticks per sample (the spike-train length Ts)")
    epochs: int = spec(1, lo=1, doc="passes over the training set")
    lr: float = spec(0.01, lo=0.0, doc="ANN-equivalent learning rate; the device step is dw_min = lr / Ts "
                                       "(0: keep the chip's own device dw_min, e.g. to sweep chip.device.dw_min)")
    lr_decay: float = spec(1.0, lo=0.0, lo_open=True, hi=1.0, doc="lr multiplier per epoch (1 = constant)")
    update: str = spec("coincidence", choices=UPDATE_MODES,
                       doc="coincidence: on-chip stochastic pulses (Eq. 10); rate: outer product of counts "
                           "(Eq. 9); rate_noise: rate plus Gaussian noise ~ 1/sqrt(Ts)")
    noise_scale: float = spec(0.373, lo=0.0, doc="rate_noise: std of the product error times sqrt(Ts) "
                                                 "(0.373 from `neurocore bench product`)")
    learn_start: float = spec(0.0, lo=0.0, hi=0.9, doc="write enable from this fraction of Ts on (0 = the "
                                                        "paper: learn from the first tick); later writes "
                                                        "skip the settling of the synaptic kernel")
    defer_writes: bool = spec(False, doc="coincidence: neurons read the crossbars as they were when the sample "
                                         "began, so the sample's pulses take effect from the next sample on (a "
                                         "write-back buffer per crossbar); off = the paper: writes act at once")
    batch: int = spec(100, lo=1, doc="samples per engine call (learning stays online, sample by sample)")
    eval_batch: int = spec(500, lo=1, doc="samples per engine call at test time")


@dataclass(frozen=True)
class MappingSpec:
    strategy: str = spec("sequential", choices=("sequential", "traffic"), doc="placement strategy")


@dataclass(frozen=True)
class Experiment:
    """A whole, validated experiment. `text` is the TOML it came from (kept in traces)."""

    name: str
    seed: int
    chip: Chip
    data: DataSpec
    net: SSNNSpec
    train: TrainSpec
    mapping: MappingSpec
    trace: Any
    source: str
    raw: dict


@dataclass(frozen=True)
class _Top:
    name: str = spec("experiment", doc="experiment name")
    seed: int = spec(0, lo=0, doc="seed of everything random")
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
    merged = _deep_merge(base, table)
    return chip_from_dict(merged, f"{path} (with overrides from {source})" if table else str(path))


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
    tables = {"data": DataSpec, "net": SSNNSpec, "train": TrainSpec, "mapping": MappingSpec}
    if TraceSelection is not None:
        tables["trace"] = TraceSelection
    chip_table = {k: v for k, v in data.get("chip", {}).items() if k != "name"} \
        if isinstance(data.get("chip"), Mapping) else None
    check_keys([(_Top, data, "")] + [(cls, data.get(k), k) for k, cls in tables.items()]
               + [(Chip, chip_table, "chip")], source)  # every misspelt key at once
    top = build(_Top, data, source)
    return Experiment(
        name=top.name, seed=top.seed, chip=_chip(top.chip, source),
        data=build(DataSpec, top.data, source, "data"), net=build(SSNNSpec, top.net, source, "net"),
        train=build(TrainSpec, top.train, source, "train"),
        mapping=build(MappingSpec, top.mapping, source, "mapping"),
        trace=build(TraceSelection, top.trace, source, "trace") if TraceSelection else top.trace, source=source, raw=copy.deepcopy(dict(data)))


def load_experiment(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Experiment:
    """Load an experiment by path or by name from `models/experiments/`, applying dotted overrides."""
    p = model_file("experiments", path)
    data = load_toml(p)
    overrides = dict(overrides or {})
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
    full = {"name": exp.name, "seed": exp.seed, "chip": chip,
            **{k: to_dict(getattr(exp, k)) for k in ("data", "net", "train", "mapping")}}
    if not isinstance(exp.trace, dict):
        full["trace"] = to_dict(exp.trace)
    return tomli_w.dumps(drop_none(full))
