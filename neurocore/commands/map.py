"""`neurocore map MODEL`: place a network (or an experiment's SSNN-BP netlist) on a chip and print
the mapping report: cores used against their limits, routing entries, packets and hops."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..cliargs import add_set_argument
from ..config import parse_overrides


def register(sub: argparse._SubParsersAction) -> None:
    from ..mapping import STRATEGIES
    from ..cliargs import add_chip, add_placement

    p = sub.add_parser("map", help="map a network onto a chip and report core use, routing and traffic",
                       description="Place a network, the SSNN-BP training netlist of an experiment (or the network "
                                   "an off-chip method deploys), onto a "
                                   "chip and report cores used against their limits, routing entries and "
                                   "traffic. A netlist that cannot fit is refused with the limit it breaks.")
    p.add_argument("model", help="network (a name in models/nets/ or a .toml file) or experiment (a name in "
                                 "models/experiments/ or a .toml file: its SSNN-BP training netlist, or the "
                                 "network an off-chip method deploys), or a NIR graph (.nir)")
    add_chip(p, "the one the network or experiment names")
    p.add_argument("--strategy", choices=STRATEGIES, default=None,
                   help="placement strategy (default: sequential, or the experiment's own)")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("-o", "--output", metavar="FILE", help="also write the report as JSON to FILE")
    add_placement(p)
    p.add_argument("--placement-out", metavar="FILE",
                   help="also write the placement as a TOML file to edit and give back with --placement FILE")
    add_set_argument(p)
    from .nir import add_import_arguments
    add_import_arguments(p)
    p.set_defaults(func=handle)


_EXPERIMENT_TABLES = ("data", "net", "train", "mapping", "trace")


def _is_experiment(model: str) -> bool:
    """True when MODEL names an experiment (by name, or a file with experiment tables) rather than a network."""
    from ..config import load_toml
    from ..errors import ConfigError
    from ..resolve import known, model_file

    p = Path(model)
    if not p.is_file() and not p.suffix and len(p.parts) == 1:
        return model not in known("nets") and model in known("experiments")
    try:
        return any(k in load_toml(model_file("nets", model)) for k in _EXPERIMENT_TABLES)
    except ConfigError:
        return False  # missing or malformed: the network loader reports it


def _experiment_placement(path: str, args: argparse.Namespace):
    """The SSNN-BP training netlist of an experiment file, placed on its chip (or --chip); for a method
    that trains off the chip, the network it deploys (with its initial weights)."""
    from ..chip import load_chip
    from ..experiment import load_experiment
    from ..registry import get_method

    overrides = parse_overrides(args.set)
    if args.placement:
        overrides["mapping.placement"] = args.placement
    exp = load_experiment(path, overrides)
    chip = load_chip(args.chip) if args.chip else exp.chip
    strategy = args.strategy if args.strategy_given else exp.mapping.strategy
    return get_method(exp.method).protocol().placement(exp, chip, strategy)


def handle(args: argparse.Namespace) -> int:
    args.strategy_given = args.strategy is not None
    args.strategy = args.strategy or "sequential"
    from ..errors import ConfigError
    from ..mapping import place
    from ..report import format_report, mapping_report

    from .nir import is_nir, map_nir
    if is_nir(args.model):
        placement = map_nir(args)
    elif _is_experiment(args.model):
        placement = _experiment_placement(args.model, args)
    else:
        from .common import network_on_chip
        nf, chip = network_on_chip(args)
        placement = place(nf.netlist, chip, args.strategy, given=args.placement)
    report = mapping_report(placement)
    if args.placement_out:
        from ..files import write_text
        from ..mapping import placement_toml
        write_text(args.placement_out, placement_toml(placement), "placement file")
    if args.output:
        try:
            out = Path(args.output)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(report, indent=1) + "\n")
        except OSError as exc:
            raise ConfigError(f"cannot write the report: {exc.strerror}", source=str(args.output)) from None
    print(json.dumps(report) if args.json else format_report(report))
    return 0
