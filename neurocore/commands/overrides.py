"""`--set key=value` overrides shared by the commands that load an experiment."""

from __future__ import annotations

import argparse
import tomllib
from typing import Any

from ..errors import ConfigError


def add_set_argument(p: argparse.ArgumentParser) -> None:
    """--set KEY=VALUE (repeatable), the one way commands take overrides of an experiment."""
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key of the experiment, repeatable: e.g. --set train.epochs=1 --set data.train=2000 "
                        "--set chip.device.dw_min=0.002 (VALUE is read as TOML: numbers, true/false, "
                        "\"strings\", [lists]; a bare word is a string)")


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """Turn ["a.b=1", "c=\"x\""] into {"a.b": 1, "c": "x"}; bare words are strings."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"expected KEY=VALUE, e.g. --set train.epochs=1", source=f"--set {item}")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        out[key.strip()] = value
    return out
