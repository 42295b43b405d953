"""`neurocore run NET.toml`: map a network onto its chip, run it, print spikes, cores, traffic and cost."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    from ..cliargs import add_chip, add_samples, add_set_argument, add_ticks, integer

    p = sub.add_parser("run", help="map a network onto a chip and run it",
                       description="Map a network onto a chip, run it on constant-rate input and print spikes "
                                   "per population, synaptic events, packets and core-to-core traffic.")
    p.add_argument("model", help="network: a name in models/nets/, a network .toml file, or a NIR graph (.nir)")
    add_chip(p, "the one the network file names")
    p.add_argument("--strategy", default="sequential", choices=("sequential", "traffic"),
                   help="placement strategy (default: sequential)")
    add_samples(p, "the network file's")
    add_ticks(p, "the network file's")
    p.add_argument("--seed", type=integer(0), help="seed (default: the network file's)")
    p.add_argument("--trace", metavar="FILE", help="write an HDF5 spike trace to FILE (e.g. traces/run.h5)")
    p.add_argument("--json", action="store_true", help="print one JSON object of the results")
    add_set_argument(p)
    from .nir import add_import_arguments
    add_import_arguments(p, run=True)
    p.set_defaults(func=main)


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


def main(args: argparse.Namespace) -> int:
    from .nir import is_nir, run_nir
    if is_nir(args.model):
        return run_nir(args)
    import numpy as np

    from ..compile_notice import compile_notice
    from ..cost import TIMING_SAMPLES, cost_record, cost_summary, format_summary, replay_samples, tile_shapes
    from ..engine import Engine, SourceDrive
    from ..mapping import place
    from ..words import plural

    nf, chip = network_on_chip(args)
    samples = args.samples if args.samples is not None else nf.samples
    ticks = args.ticks if args.ticks is not None else nf.ticks
    seed = args.seed if args.seed is not None else nf.seed
    placement = place(nf.netlist, chip, args.strategy)
    engine = Engine(placement, seed=seed)
    drive = SourceDrive({p: np.full((samples, nf.netlist.populations[p].size), r, np.float32)
                         for p, r in nf.source_rates.items()})
    pops = list(nf.netlist.populations)
    with compile_notice():  # the first call may compile the kernels: say so on stderr (also under --json)
        engine.run(SourceDrive({p: r[:1] for p, r in drive.rates.items()}), 1)
    shapes = tile_shapes(placement)
    timed = []  # per-tick counters of the first samples, one each, for the mesh replay
    if not args.trace:
        c = engine.run(drive, ticks, readout=pops).counters
        for s in range(min(samples, TIMING_SAMPLES)):  # the same samples again (same ids, same spikes)
            one = SourceDrive({p: r[s:s + 1] for p, r in drive.rates.items()})
            timed.append(engine.run(one, ticks, sample_ids=[s], traffic="per_tick").counters | shapes)
    else:  # one sample per call, so each sample's traffic is its own
        from ..recording import Recorder
        from ..traces import TraceSelection

        meta = {"experiment_toml": open(nf.path).read() if nf.path != "<python>" else "", "seed": seed,
                "chip": chip.name, "run": nf.netlist.name}
        rec = Recorder(engine, TraceSelection(enabled=True, traffic="per_tick"), args.trace, meta)
        try:
            engine.reset_counters(ticks, per_tick=True)
            for s in range(samples):
                one = SourceDrive({p: r[s:s + 1] for p, r in drive.rates.items()})
                res = engine.run(one, ticks, sample_ids=[s], record=True, probes=True, traffic="per_tick")
                rec.record(s, res)
                if s < TIMING_SAMPLES:
                    timed.append(res.counters | shapes)
            c = engine.counters()
            rec.counters("run", c)
        finally:
            rec.close()
    out = {
        "network": nf.netlist.name, "chip": chip.name, "strategy": args.strategy, "samples": samples,
        "ticks": ticks, "cores_used": len(placement.cores_used),
        "spikes": c["pop_spikes"],
        "rate_per_neuron_per_tick": {p: c["pop_spikes"][p] / (nf.netlist.populations[p].size * ticks * samples)
                                     for p in pops},
        "syn_events": c["syn_events"], "packets": c["packets"], "packet_hops": c["packet_hops"],
        "inter_core_packets": int(c["traffic"].sum() - np.trace(c["traffic"])),
    }
    if args.set:  # what ran: the overrides beside the file's name
        from ..config import parse_overrides
        out["set"] = parse_overrides(args.set)
    # energy from every sample, tick latency from a mesh replay of the first TIMING_SAMPLES
    cost = cost_summary(cost_record(c, placement), chip, "inference", replay_samples(chip, timed))
    if printed_json(out, cost, args):
        return 0
    print(f"network {out['network']} on chip {chip.name} ({args.strategy} placement): "
          f"{out['cores_used']} of {chip.cores} cores used; {plural(samples, 'sample')} x {plural(ticks, 'tick')}")
    print(f"{'population':>14} {'neurons':>8} {'spikes':>9} {'rate/tick':>10}")
    for p in pops:
        print(f"{p:>14} {nf.netlist.populations[p].size:>8} {c['pop_spikes'][p]:>9} "
              f"{out['rate_per_neuron_per_tick'][p]:>10.4f}")
    print(f"synaptic events {c['syn_events']}, packets {c['packets']} "
          f"({out['inter_core_packets']} between cores), packet-hops {c['packet_hops']}")
    print("core-to-core packets (rows: from, columns: to; used cores only):")
    used = placement.cores_used
    print("      " + "".join(f"{d:>8}" for d in used))
    for s in used:
        print(f"{s:>6}" + "".join(f"{c['traffic'][s, d]:>8}" for d in used))
    print(format_summary(cost))
    if args.trace:
        print(f"trace written to {args.trace}")
    return 0

