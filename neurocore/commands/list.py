"""`neurocore list [KIND]`: the shipped chips, networks, experiments, sweeps (and devices), each with
the line saying what it is; every command takes these names."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list the shipped chips, networks, experiments and sweeps by name",
                       description="List the model files shipped with neurocore, by kind, each with its "
                                   "description line. Every command takes these names (or a .toml file of "
                                   "your own): e.g. neurocore run ff_small, neurocore train quick, "
                                   "neurocore sweep fig6_ts, --chip analog_rpu.")
    p.add_argument("kind", nargs="?", metavar="KIND",
                   help="only this kind: chips, nets, experiments, sweeps (or devices, where shipped)")
    p.add_argument("--json", action="store_true", help="print one JSON object: kind -> name -> description")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    import json

    from ..errors import ConfigError
    from ..resolve import description, models_dir

    kinds = _kinds()
    if args.kind is not None and args.kind not in kinds:
        raise ConfigError(f"unknown kind '{args.kind}'; kinds: {', '.join(kinds)}", "KIND")
    shown = [args.kind] if args.kind else kinds
    table = {k: {f.stem: description(f) for f in sorted((models_dir() / k).glob("*.toml"))} for k in shown}
    if args.json:
        print(json.dumps(table))
        return 0
    for i, (kind, entries) in enumerate(table.items()):
        if i:
            print()
        print(f"{kind} (models/{kind}/):")
        width = max((len(n) for n in entries), default=0)
        for name, text in entries.items():
            print(f"  {name:<{width}}  {text}".rstrip())
    return 0


def _kinds() -> list[str]:
    from ..resolve import kinds_present
    return kinds_present()
