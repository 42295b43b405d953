"""`neurocore map MODEL.toml`: place a network on a chip and print the mapping report.

Options: --chip NAME_OR_PATH, --strategy sequential|traffic, --json, -o FILE.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    from ..mapping import STRATEGIES
    p = sub.add_parser("map", help="map a network onto a chip and report core use, routing and traffic",
                       description=__doc__.split("\n", 1)[0])
    p.add_argument("model", help="network file (models/nets/*.toml) or the name of one in models/nets/")
    p.add_argument("--chip", help="chip name in models/chips/ or a chip .toml path (default: the one the "
                                   "network file names)")
    p.add_argument("--strategy", choices=STRATEGIES, default="sequential", help="placement strategy")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("-o", "--output", metavar="FILE", help="also write the report as JSON to FILE")
    p.set_defaults(func=handle)


_EXPERIMENT_TABLES = ("data", "net", "train", "mapping", "trace")


def _chip_ref(chip: str, net_path: str) -> str:
    """A chip path written in a network file is relative to that file when it exists there."""
    p = Path(chip)
    if p.suffix and not p.is_absolute() and not p.exists():
        beside = Path(net_path).parent / p
        if beside.exists():
            return str(beside)
    return chip


def handle(args: argparse.Namespace) -> int:
    from ..chip import load_chip
    from ..errors import ConfigError
    from ..mapping import place
    from ..netlist import load_netlist
    from ..report import format_report, mapping_report

    try:
        nf = load_netlist(args.model)
    except ConfigError as exc:
        if exc.key in _EXPERIMENT_TABLES:
            raise ConfigError("this looks like an experiment file; `neurocore map` takes a network file "
                              "(models/nets/*.toml): mapping an experiment's SSNN-BP net is not supported yet",
                              exc.source) from None
        raise
    chip = load_chip(args.chip if args.chip else _chip_ref(nf.chip, nf.path))
    report = mapping_report(place(nf.netlist, chip, args.strategy))
    if args.output:
        try:
            out = Path(args.output)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(report, indent=1) + "\n")
        except OSError as exc:
            raise ConfigError(f"cannot write the report: {exc.strerror}", source=str(args.output)) from None
    print(json.dumps(report) if args.json else format_report(report))
    return 0
