"""The one loader of TOML files and the validation of plain-data configs built from them.

A config section is a frozen dataclass whose fields carry their own rules in
`field(metadata=...)`, written with :func:`spec`. :func:`build` turns a mapping read
from TOML (or given from Python) into that dataclass, rejecting unknown keys, wrong
types and out-of-range values with a :class:`ConfigError` naming the file and key.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Mapping, TypeVar

import numpy as np

from .errors import ConfigError

T = TypeVar("T")

_MISSING = dataclasses.MISSING


def spec(default: Any = _MISSING, *, doc: str = "", lo: float | None = None, hi: float | None = None,
         lo_open: bool = False, choices: tuple | None = None, factory: Any = _MISSING) -> Any:
    """A dataclass field with its documentation and allowed range or choices."""
    meta = {"doc": doc, "lo": lo, "hi": hi, "lo_open": lo_open, "choices": choices}
    if factory is not _MISSING:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def load_toml(path: str | Path) -> dict:
    """Read a TOML file; a missing or malformed file is a ConfigError naming it."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError("file not found", source=str(p))
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", source=str(p)) from None


def _allowed(meta: Mapping) -> str:
    if meta.get("choices"):
        return "one of " + ", ".join(repr(c) for c in meta["choices"])
    lo, hi = meta.get("lo"), meta.get("hi")
    op = ">" if meta.get("lo_open") else ">="
    if lo is not None and hi is not None:
        return f"in [{lo}, {hi}]" if not meta.get("lo_open") else f"in ({lo}, {hi}]"
    if lo is not None:
        return f"{op} {lo}"
    if hi is not None:
        return f"<= {hi}"
    return "any value"


def _coerce(value: Any, tp: Any, source: str, key: str) -> Any:
    """Check `value` against the annotation `tp`; ints are accepted where floats are."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, source, key)
            except ConfigError as exc:
                errors.append(exc)
        raise errors[0]
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"expected a list, got {value!r}", source, key)
        (inner, *rest) = typing.get_args(tp) or (Any,)
        items = [_coerce(v, inner, source, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if tp in (list, tuple):  # a bare `list` annotation: any items, but a list it must be
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"expected a list, got {value!r}", source, key)
        return list(value) if tp is list else tuple(value)
    if origin is dict or tp is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"expected a table, got {value!r}", source, key)
        return dict(value)
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"expected a table, got {value!r}", source, key)
        return build(tp, value, source, key)
    if tp is Any:
        return value
    if tp is np.ndarray:  # per-neuron parameters, from Python only (TOML gives numbers)
        if not isinstance(value, np.ndarray):
            raise ConfigError(f"expected an array, got {value!r}", source, key)
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"expected true or false, got {value!r}", source, key)
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"expected an integer, got {value!r}", source, key)
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"expected a number, got {value!r}", source, key)
        if isinstance(value, float) and not math.isfinite(value):  # TOML's nan, inf, or 1e400 read as inf
            raise ConfigError(f"expected a finite number, got {value!r}", source, key)
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"expected a string, got {value!r}", source, key)
        return value
    return value


def build(cls: type[T], data: Mapping[str, Any] | None, source: str = "<python>", prefix: str = "") -> T:
    """Build dataclass `cls` from `data`, validating every key against the field specs."""
    if data is not None and not isinstance(data, Mapping):
        raise ConfigError(f"expected a table, got {data!r}", source, prefix or None)
    data = dict(data or {})
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    check_keys([(cls, data, prefix)], source)
    kwargs = {}
    for name, f in fields.items():
        key = f"{prefix}.{name}" if prefix else name
        if name not in data:
            if f.default is _MISSING and f.default_factory is _MISSING:
                doc = f.metadata.get("doc", "")
                raise ConfigError("required key is missing" + (f" ({doc})" if doc else ""), source, key)
            continue
        value = _coerce(data[name], hints[name], source, key)
        check_value(value, f.metadata, source, key)
        kwargs[name] = value
    obj = cls(**kwargs)
    post = getattr(obj, "validate", None)
    if post is not None:
        try:
            post()
        except ConfigError as exc:
            if exc.source == "<python>" and source != "<python>":
                k = f"{prefix}.{exc.key}" if prefix and exc.key else (exc.key or prefix or None)
                raise ConfigError(exc.message, source, k) from None
            raise
    return obj


def unknown_keys(cls: type, data: Any, prefix: str = "") -> list[tuple[str, list[str]]]:
    """(dotted key, keys allowed beside it) of every key of `data` that `cls` does not have,
    looking into the tables of nested dataclass fields too."""
    if not isinstance(data, Mapping):
        return []
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    hints = typing.get_type_hints(cls)
    out = []
    for name in sorted(data, key=str):
        key = f"{prefix}.{name}" if prefix else str(name)
        if name not in fields:
            out.append((key, sorted(fields)))
        elif dataclasses.is_dataclass(hints[name]) and isinstance(data[name], Mapping):
            out += unknown_keys(hints[name], data[name], key)
    return out


def check_keys(tables: list[tuple[type, Any, str]], source: str) -> None:
    """Refuse every unknown key of these (dataclass, table, key prefix) at once, in one error."""
    found = [u for cls, data, prefix in tables for u in unknown_keys(cls, data, prefix)]
    if len(found) == 1:
        key, allowed = found[0]
        raise ConfigError(f"unknown key; allowed keys here: {', '.join(allowed)}", source, key)
    if found:
        allowed = {}
        for key, names in found:
            table = key.rpartition(".")[0]
            allowed[f"[{table}]" if table else "top level"] = ", ".join(names)
        keys = ", ".join(f"'{k}'" for k, _ in found)
        raise ConfigError(f"unknown keys {keys}; allowed: " + "; ".join(f"{t} {a}" for t, a in allowed.items()),
                          source, None, keys=tuple(k for k, _ in found))


def name_override(exc: ConfigError, overrides: Mapping[str, Any], flag: str = "--set") -> ConfigError:
    """`exc` restated as an error of the override it comes from (`--set train.ts=0: key 'train.ts' = 0 ...`),
    or `exc` itself when no override set its key."""
    chip_relative = "(with overrides from" in exc.source  # chip files report keys relative to [chip]

    def full(key: str) -> str:
        return f"chip.{key}" if chip_relative else key

    def culprit(key: str) -> str | None:  # the override that set this key, else one that set a table it is in,
        key = full(key)                    # else one that set a key inside it
        return next((k for k in overrides if key == k), None) or \
            next((k for k in overrides if key.startswith((f"{k}.", f"{k}["))), None) or \
            next((k for k in overrides if k.startswith(f"{key}.")), None)

    hits = list(dict.fromkeys(k for k in map(culprit, exc.keys) if k is not None))
    if not hits:
        return exc
    if len(exc.keys) == 1:
        return ConfigError(exc.message, f"{flag} {hits[0]}={_as_given(overrides, hits[0])}", full(exc.keys[0]))
    named = ", ".join(f"{flag} {k}={_as_given(overrides, k)}" for k in hits)
    return ConfigError(f"{exc.message} (from {named})", exc.source, exc.key, keys=exc.keys)


def _as_given(overrides: Mapping[str, Any], key: str) -> str:
    """An override's value as TOML spells it, but a number as the user typed it (`1e400`, not the inf it was
    read as; `parse_overrides` keeps the text)."""
    raw = getattr(overrides, "raw", {})
    value = overrides[key]
    return raw[key] if key in raw and isinstance(value, float) else format_value(value)


class Overrides(dict):
    """Parsed `--set` overrides ({dotted key: value}) that remember the text each value was given as
    (`raw`), so an error can quote `--set train.lr=1e400` rather than the inf it was read as."""

    raw: dict[str, str]


def format_value(value: Any) -> str:
    """A value spelt as in TOML (strings quoted, true/false, [lists]), for messages about overrides."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {format_value(v)}" for k, v in value.items()) + "}"
    return repr(value)


def check_value(value: Any, meta: Mapping, source: str, key: str) -> None:
    """Raise ConfigError when `value` breaks the range or choices in `meta`."""
    if value is None:
        return
    choices = meta.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"= {value!r} is not allowed; must be {_allowed(meta)}", source, key)
    lo, hi = meta.get("lo"), meta.get("hi")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        bad = (lo is not None and (value < lo or (meta.get("lo_open") and value == lo))) or \
              (hi is not None and value > hi)
        if bad:
            raise ConfigError(f"= {value!r} is out of range; must be {_allowed(meta)}", source, key)


def to_dict(obj: Any) -> Any:
    """Plain nested dict of a config dataclass (for JSON, TOML and run metadata)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def set_key(tree: dict, dotted: str, value: Any) -> None:
    """Set `a.b.c` in a nested dict, creating tables on the way (used for overrides)."""
    parts = dotted.split(".")
    node = tree
    for p in parts[:-1]:
        nxt = node.setdefault(p, {})
        if not isinstance(nxt, dict):
            raise ConfigError(f"cannot set '{dotted}': '{p}' is a value, not a table", key=dotted)
        node = nxt
    node[parts[-1]] = value


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """Turn ["a.b=1", "c=\"x\""] into {"a.b": 1, "c": "x"}; bare words are strings."""
    out = Overrides()
    out.raw = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"expected KEY=VALUE, e.g. --set train.epochs=1", source=f"--set {item}")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        out[key.strip()] = value
        out.raw[key.strip()] = raw.strip()
    return out
