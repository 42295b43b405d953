"""`neurocore run NET.toml`: map a network onto its chip, run it, print spikes, cores, traffic and cost."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from ..cliargs import add_chip, add_placement, add_samples, add_set_argument, add_ticks, integer

    p = sub.add_parser("run", help="map a network onto a chip and run it",
                       description="Map a network onto a chip, run it on constant-rate input and print spikes "
                                   "per population, synaptic events, packets and core-to-core traffic.")
    p.add_argument("model", help="network: a name in models/nets/, a network .toml file, or a NIR graph (.nir)")
    add_chip(p, "the one the network file names")
    p.add_argument("--strategy", default="sequential", choices=("sequential", "traffic"),
                   help="placement strategy (default: sequential)")
    add_placement(p)
    add_samples(p, "the network file's")
    add_ticks(p, "the network file's")
    p.add_argument("--seed", type=integer(0), help="seed (default: the network file's)")
    p.add_argument("--trace", metavar="FILE", help="write an HDF5 spike trace to FILE (e.g. traces/run.h5)")
    p.add_argument("--json", action="store_true", help="print one JSON object of the results")
    add_set_argument(p)
    from .nir import add_import_arguments
    add_import_arguments(p, run=True)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from .nir import is_nir, run_nir
    if is_nir(args.model):
        return run_nir(args)
    import numpy as np

    from ..cost import format_summary
    from ..engine import Engine, SourceDrive
    from ..mapping import place
    from ..simulate import simulate, warm_up
    from ..words import plural
    from .common import network_on_chip, printed_json

    nf, chip = network_on_chip(args)
    samples = args.samples if args.samples is not None else nf.samples
    ticks = args.ticks if args.ticks is not None else nf.ticks
    seed = args.seed if args.seed is not None else nf.seed
    placement = place(nf.netlist, chip, args.strategy, given=args.placement)
    engine = Engine(placement, seed=seed)
    drive = SourceDrive({p: np.full((samples, nf.netlist.populations[p].size), r, np.float32)
                         for p, r in nf.source_rates.items()})
    pops = list(nf.netlist.populations)
    warm_up(lambda: engine.run(SourceDrive({p: r[:1] for p, r in drive.rates.items()}), 1))

    def run(s, **kw):  # the batch (s None) or sample s alone, the same ids and spikes
        if s is None:
            return engine.run(drive, ticks, readout=pops)
        return engine.run(SourceDrive({p: r[s:s + 1] for p, r in drive.rates.items()}), ticks, **kw)

    meta = None
    if args.trace:
        meta = {"experiment_toml": open(nf.path).read() if nf.path != "<python>" else "", "seed": seed,
                "chip": chip.name, "run": nf.netlist.name}
    sim = simulate(engine, chip, samples, ticks, run, trace=args.trace, meta=meta)
    c = sim.counters
    out = {
        "network": nf.netlist.name, "chip": chip.name, "strategy": placement.strategy, "samples": samples,
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
    cost = sim.cost
    if printed_json(out, cost, args):
        return 0
    print(f"network {out['network']} on chip {chip.name} ({placement.strategy} placement): "
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

