"""What `run`, `run MODEL.nir` and `map` share: the chip of a network or NIR graph from --chip and
--set, and a run's result printed as JSON."""

from __future__ import annotations

import argparse
from pathlib import Path


def split_overrides(sets: list[str]) -> tuple[dict, dict]:
    """--set of a network: (overrides of the network file's keys, overrides of its chip's keys).
    `chip.name=X` picks the chip (the network file's `chip`), `chip.KEY=V` sets a key of the chip file."""
    from ..config import parse_overrides

    net, chip = {}, {}
    for key, value in parse_overrides(sets).items():
        if key == "chip.name":
            net["chip"] = value
        elif key.startswith("chip."):
            chip[key[len("chip."):]] = value
        else:
            net[key] = value
    return net, chip


def chip_of(args: argparse.Namespace, default: str, near=None):
    """The chip of a NIR graph: --chip (else `default`), with the chip.* keys of --set applied."""
    from ..chip import load_chip
    from ..errors import ConfigError

    net, chip = split_overrides(getattr(args, "set", []) or [])
    if args.chip and "chip" in net:
        raise ConfigError("give the chip once: --chip or --set chip.name", "--set chip.name")
    if set(net) - {"chip"}:
        key = sorted(set(net) - {"chip"})[0]
        raise ConfigError("a NIR graph takes chip.* overrides only (e.g. --set chip.core.neurons=16)", f"--set {key}")
    return load_chip(args.chip or net.get("chip") or default, near=near, overrides=chip)


def network_on_chip(args: argparse.Namespace):
    """(network file, chip) of a network MODEL, --chip and --set (network keys, chip.name, chip.KEY)."""
    from ..chip import load_chip
    from ..errors import ConfigError
    from ..netlist import load_netlist

    net, chip = split_overrides(args.set or [])
    if args.chip and "chip" in net:
        raise ConfigError("give the chip once: --chip or --set chip.name", "--set chip.name")
    nf = load_netlist(args.model, net)
    if args.chip:
        return nf, load_chip(args.chip, overrides=chip)
    return nf, load_chip(nf.chip, near=Path(nf.path).parent, overrides=chip)


def printed_json(out: dict, cost: dict, args: argparse.Namespace) -> bool:
    """Complete a run's result with its cost summary and trace path; print it as JSON if asked."""
    import json

    out.update({k: v for k, v in cost.items() if k not in out})
    if args.trace:
        out["trace"] = args.trace
    if args.json:
        print(json.dumps(out))
    return bool(args.json)
