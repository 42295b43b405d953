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
    p.add_argument("model", help="network file (models/nets/*.toml) or its name, an experiment file "
                                 "(models/experiments/*.toml: its SSNN-BP training netlist), or a NIR graph (.nir)")
    p.add_argument("--chip", help="chip name in models/chips/ or a chip .toml path (default: the one the "
                                   "network file names)")
    p.add_argument("--strategy", choices=STRATEGIES, default=None,
                   help="placement strategy (default: sequential, or the experiment's own)")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("-o", "--output", metavar="FILE", help="also write the report as JSON to FILE")
    from .nir import add_import_arguments
    add_import_arguments(p)
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


def _experiment_placement(path: str, args: argparse.Namespace):
    """The SSNN-BP training netlist of an experiment file, placed on its chip (or --chip)."""
    import numpy as np

    from ..chip import load_chip
    from ..experiment import load_experiment
    from ..learning.ssnn import build_ssnn, init_weights
    from ..mapping import place

    exp = load_experiment(path)
    chip = load_chip(args.chip) if args.chip else exp.chip
    net = build_ssnn(exp.net, exp.train.ts, init_weights(exp.net, np.random.default_rng(exp.seed)))
    return place(net, chip, args.strategy if args.strategy_given else exp.mapping.strategy)


def handle(args: argparse.Namespace) -> int:
    args.strategy_given = args.strategy is not None
    args.strategy = args.strategy or "sequential"
    from ..chip import load_chip
    from ..errors import ConfigError
    from ..mapping import place
    from ..netlist import load_netlist
    from ..report import format_report, mapping_report

    from .nir import is_nir, map_nir
    try:
        nf = None if is_nir(args.model) else load_netlist(args.model)
    except ConfigError as exc:
        if exc.key not in _EXPERIMENT_TABLES:
            raise
        placement = _experiment_placement(exc.source, args)
    else:
        chip = None if nf is None else load_chip(args.chip if args.chip else _chip_ref(nf.chip, nf.path))
        placement = map_nir(args) if nf is None else place(nf.netlist, chip, args.strategy)
    report = mapping_report(placement)
    if args.output:
        try:
            out = Path(args.output)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(report, indent=1) + "\n")
        except OSError as exc:
            raise ConfigError(f"cannot write the report: {exc.strerror}", source=str(args.output)) from None
    print(json.dumps(report) if args.json else format_report(report))
    return 0
