"""NIR graphs on the command line: `neurocore map MODEL.nir`, `neurocore run MODEL.nir --input
SPIKES.npy --dt DT` (both dispatch here) and `neurocore nir export RUN_DIR_OR_NET OUT.nir`."""

from __future__ import annotations

import argparse

DEFAULT_CHIP = "loihi_like"


def is_nir(model: str) -> bool:
    return str(model).lower().endswith(".nir")


def add_import_arguments(p: argparse.ArgumentParser, run: bool = False) -> None:
    """The flags of importing a NIR graph (for `map` and `run`)."""
    from ..neurons import SPIKE_INPUTS
    from ..nir.importer import BIASES, RESETS
    from ..nir.writers import WRITERS

    g = p.add_argument_group("NIR graphs (MODEL.nir)")
    if run:
        g.add_argument("--input", metavar="SPIKES", help="input spikes: .npy of (samples, ticks, *input shape), "
                                                         "or .npz with one such array per input node")
    g.add_argument("--from", dest="writer", choices=tuple(WRITERS), metavar="WRITER",
                   help="the library that wrote the graph (" + ", ".join(WRITERS) + "): read it as that library "
                        "simulates its own export (dt, discretisation, spikes, reset, input gain, output timing); "
                        "nir: the NIR paper's definitions; default: the writer the graph's metadata names, else nir")
    from ..cliargs import number

    g.add_argument("--dt", type=number(0, lo_open=True),
                   help="seconds per tick (NIR stores none; snnTorch exports assume 1e-4 with --discretisation euler)")
    g.add_argument("--discretisation", choices=("exact", "euler"),
                   help="exact (zero-order hold, the default) or forward Euler (what snnTorch and Norse step)")
    g.add_argument("--spikes", choices=SPIKE_INPUTS,
                   help="what an input spike is: step (the value 1 held over its tick: snnTorch's and Norse's "
                        "exports, the default) or dirac (a Dirac delta of unit area: NIR's definition, BATS's "
                        "exports); default: the graph's metadata 'spikes', else step")
    g.add_argument("--reset", choices=RESETS,
                   help="default: the writer's (--from), else nir. nir: as the file says (v_reset, or metadata reset=subtract); subtract: v -= threshold; "
                        "snntorch-subtract / snntorch-zero: snnTorch's reset_mechanism with its default "
                        "reset_delay=True, which its NIR export does not record")
    g.add_argument("--bias", choices=BIASES,
                   help="default: the writer's (--from), else neuron. neuron: biases on the neurons (the chip's own); source: from a source firing every "
                        "tick, starting at each layer's depth, as a layer-synchronous simulator does")


def _import(args: argparse.Namespace, require_dt: bool):
    from ..nir import from_nir

    return from_nir(args.model, dt=args.dt, discretisation=args.discretisation, reset=args.reset,
                    bias=args.bias, require_dt=require_dt, spikes=args.spikes, writer=args.writer)


def _notes(imp) -> None:
    import sys

    for n in imp.notes:
        print(f"note: {n}", file=sys.stderr)


# -- map ---------------------------------------------------------------------------------------

def map_nir(args: argparse.Namespace):
    """The placement of a NIR graph (the mapping report is printed by `neurocore map`)."""
    from ..mapping import place

    imp = _import(args, require_dt=False)
    _notes(imp)
    from .common import chip_of
    return place(imp.netlist, chip_of(args, DEFAULT_CHIP), args.strategy, given=getattr(args, "placement", None))


# -- run ---------------------------------------------------------------------------------------

def _load_spikes(path: str):
    from pathlib import Path

    import numpy as np

    from ..errors import ConfigError

    p = Path(path)
    if not p.is_file():
        raise ConfigError("file not found", source=str(p), key="--input")
    try:
        data = np.load(p, allow_pickle=False)
        if isinstance(data, np.lib.npyio.NpzFile):
            with data:
                return {k: data[k] for k in data.files}
        return data
    except (OSError, ValueError) as exc:
        raise ConfigError(f"not a .npy or .npz array file ({exc})", source=str(p), key="--input") from None


def run_nir(args: argparse.Namespace) -> int:
    """`neurocore run MODEL.nir --input SPIKES.npy --dt DT`."""
    import numpy as np

    from ..engine import Engine
    from ..errors import ConfigError
    from ..mapping import place
    from ..nir.run import as_inputs, run_spikes

    if not args.input:
        raise ConfigError("a NIR graph runs on given spikes: pass --input SPIKES.npy (samples, ticks, *input shape)",
                          key="--input")
    imp = _import(args, require_dt=True)
    _notes(imp)
    spikes = as_inputs(imp, _load_spikes(args.input), source=args.input)
    samples, steps = next(iter(spikes.values())).shape[:2]
    if not samples or not steps:
        raise ConfigError(f"the spikes are of shape {next(iter(spikes.values())).shape}: {samples} samples of "
                          f"{steps} ticks; give at least one sample of at least one tick", source=args.input,
                          key="--input")
    from .common import chip_of
    chip = chip_of(args, DEFAULT_CHIP)
    placement = place(imp.netlist, chip, args.strategy, given=getattr(args, "placement", None))
    engine = Engine(placement, seed=args.seed or 0)
    out_pops = dict(imp.outputs)
    from ..cost import format_summary
    from ..simulate import simulate

    ticks = steps + imp.latency

    def run(s, **kw):  # the batch (s None) or sample s alone
        nonlocal ticks
        res, ticks = run_spikes(imp, engine, spikes if s is None else {k: a[s:s + 1] for k, a in spikes.items()},
                                **kw)
        return res

    per_sample = {o: [] for o in out_pops}  # with a trace, each sample's counts

    def counted(s, res):
        for o, p in out_pops.items():
            per_sample[o].append(res.counts[p][0])

    meta = {"experiment_toml": "", "seed": args.seed or 0, "chip": chip.name, "run": imp.netlist.name}
    sim = simulate(engine, chip, samples, steps + imp.latency, run, trace=args.trace, meta=meta, on_sample=counted)
    c, cost = sim.counters, sim.cost
    if sim.batch is not None:
        counts = {o: sim.batch.counts[p] for o, p in out_pops.items()}
    else:
        counts = {o: np.stack(v) for o, v in per_sample.items()}
    out = {"network": imp.netlist.name, "chip": chip.name, "strategy": placement.strategy, "samples": int(samples),
           "steps": int(steps), "ticks": int(ticks), "latency_ticks": imp.latency, "dt": imp.dt,
           "discretisation": imp.discretisation, "spike_input": imp.spikes, "reset": imp.reset, "writer": imp.writer,
           "cores_used": len(placement.cores_used),
           "output_counts": {o: v.astype(int).tolist() for o, v in counts.items()},
           "spikes": c["pop_spikes"], "syn_events": c["syn_events"], "packets": c["packets"],
           "packet_hops": c["packet_hops"], "inter_core_packets": int(c["traffic"].sum() - np.trace(c["traffic"])),
           "notes": imp.notes}
    from ..nir.run import silent_outputs
    from .common import printed_json

    for line in silent_outputs(imp, counts):  # on stderr, so --json output stays one document
        import sys
        print(f"warning: {line}", file=sys.stderr)

    if printed_json(out, cost, args):
        return 0
    print(f"network {imp.netlist.name} on chip {chip.name} ({placement.strategy} placement): "
          f"{out['cores_used']} of {chip.cores} cores used; {samples} samples x {steps} steps "
          f"(+{imp.latency} ticks for the last step to reach the output), dt = {imp.dt:g} s, {imp.discretisation}, "
          f"{imp.spikes} spikes, {imp.writer} conventions")
    for o, v in counts.items():
        pop = imp.netlist.populations[out_pops[o]]
        if not pop.params or not pop.params.spiking:
            print(f"output '{o}' ({pop.size} non-spiking neurons: their membrane is the output; no spikes to count)")
            continue
        print(f"output '{o}' spike counts per sample ({pop.size} neurons):")
        for s in range(samples):
            row = v[s]
            shown = " ".join(str(int(x)) for x in row[:20]) + (" ..." if row.size > 20 else "")
            print(f"  sample {s:>4}: total {int(row.sum()):>6}  argmax {int(row.argmax()):>4}  [{shown}]")
    print(f"synaptic events {c['syn_events']}, packets {c['packets']} ({out['inter_core_packets']} between cores), "
          f"packet-hops {c['packet_hops']}, spikes {c['spikes']}")
    print(format_summary(cost))
    if args.trace:
        print(f"trace written to {args.trace}")
    return 0


# -- neurocore nir export ----------------------------------------------------------------------

def register(sub: argparse._SubParsersAction) -> None:
    from ..cliargs import number

    p = sub.add_parser("nir", help="NIR graphs: export a network or a trained run (map and run take .nir files)",
                       description="NIR graphs (the Neuromorphic Intermediate Representation: snnTorch, Norse, "
                                   "Sinabs, ... export them). `neurocore nir export` writes a network or a trained "
                                   "run as a .nir file; `neurocore map MODEL.nir` and `neurocore run MODEL.nir "
                                   "--input SPIKES.npy --dt DT` import one (see their --help).")
    nsub = p.add_subparsers(dest="nir_command", metavar="SUBCOMMAND")
    nsub.required = True
    e = nsub.add_parser("export", help="write a network (TOML net, or a training run's forward net) as NIR")
    e.add_argument("source", help="a run folder of `neurocore train` (its checkpoint's forward net; a method "
                                  "trained off the chip writes its own graph), or a network TOML file or name")
    e.add_argument("output", help="the .nir file to write")
    e.add_argument("--dt", type=number(0, lo_open=True), default=1e-4,
                   help="seconds per tick written into the graph (default 1e-4, the dt snnTorch's importer assumes)")
    e.add_argument("--discretisation", choices=("exact", "euler"), default="euler",
                   help="how the time constants are written (default euler, as snnTorch and Norse read them)")
    e.set_defaults(func=export)


def export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..netlist import load_netlist
    from ..nir import to_nir, write_nir

    src = Path(args.source)
    if src.is_dir():
        from ..registry import get_method
        from ..runs import run_experiment
        exp = run_experiment(src)
        print(get_method(exp.method).protocol().export(exp, src, args.output, args.dt, args.discretisation))
        return 0
    net = load_netlist(args.source).netlist
    path = write_nir(args.output, to_nir(net, dt=args.dt, discretisation=args.discretisation))
    pops = ", ".join(f"{p.name} {p.size}" for p in net.populations.values())
    print(f"wrote {path}: {net.name} ({pops}; {len(net.projections)} projections), dt = {args.dt:g} s, "
          f"{args.discretisation}")
    return 0
