"""`neurocore trace info|raster|traffic FILE`: inspect an HDF5 spike trace."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("trace", help="inspect an HDF5 trace: summary, spike raster, traffic heat map",
                       description="Inspect an HDF5 spike trace written by `neurocore run --trace FILE` or by a "
                                   "training whose experiment asks for one: `info` prints what it holds, `raster` "
                                   "draws one population's spikes in one sample, `traffic` the core-to-core packet "
                                   "heat map (PNG files beside the trace unless -o says where).")
    tsub = p.add_subparsers(dest="trace_command", metavar="ACTION")
    tsub.required = True

    info = tsub.add_parser("info", help="contents, sizes and span of a trace")
    info.add_argument("file", help="trace file (.h5)")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.add_argument("--repair", action="store_true",
                      help="a trace whose writer was killed (or hit a full disk): clear its open-for-writing mark, as "
                           "`h5clear -s` does, so that HDF5 tools (h5ls, h5dump, h5py) open every sample written")
    info.set_defaults(func=_info)

    raster = tsub.add_parser("raster", help="spike raster of one population in one sample (PNG)")
    raster.add_argument("file", help="trace file (.h5)")
    raster.add_argument("--population", "-p", help="population (default: the first recorded)")
    raster.add_argument("--sample", "-s", type=int, help="sample index (default: the first recorded)")
    raster.add_argument("-o", "--output", metavar="FILE",
                        help="image file to write (default: beside the trace, <trace>_raster_<population>_<sample>.png)")
    raster.set_defaults(func=_raster)

    traffic = tsub.add_parser("traffic", help="core-to-core packet heat map (PNG)")
    traffic.add_argument("file", help="trace file (.h5)")
    traffic.add_argument("--sample", "-s", type=int, help="one sample (default: sum over all recorded samples)")
    traffic.add_argument("--log", action="store_true", help="logarithmic colour scale")
    traffic.add_argument("--all-cores", action="store_true", help="show every core, not only up to the last busy one")
    traffic.add_argument("-o", "--output", metavar="FILE",
                         help="image file to write (default: beside the trace, <trace>_traffic[_<sample>].png)")
    traffic.set_defaults(func=_traffic)


def _info(args: argparse.Namespace) -> int:
    from ..traces import open as open_trace

    repaired = _repair(args.file) if args.repair else None
    with open_trace(args.file) as tr:
        info = tr.info()
    if repaired is not None and not args.json:
        print(f"{args.file}: " + ("cleared the open-for-writing mark a killed writer left; HDF5 tools open it now"
                                  if repaired else "nothing to repair: HDF5 tools open it as it is"))
    elif not args.repair and info.get("status") == "open or killed" and not args.json and _flagged(args.file):
        print(f"note: HDF5 tools open this file only after `neurocore trace info --repair {args.file}` "
              "(or `h5clear -s`), unless its writer is still running", file=__import__("sys").stderr)
    if args.json:
        print(json.dumps(info))
    else:
        print(format_info(info))
    return 0


def _flagged(path: str) -> bool:
    from ..traces.repair import open_flags

    try:
        return open_flags(path) != 0
    except Exception:  # noqa: BLE001 - only decides whether to print a note
        return False


def _repair(path: str) -> bool:
    """Clear a killed trace's open-for-writing mark; refused while a run holds the trace's run folder."""
    from pathlib import Path

    from ..errors import TraceError
    from ..runfolder import RunLock
    from ..traces import open as open_trace
    from ..traces.repair import clear_open_flag

    p = Path(path)
    with open_trace(p):  # a neurocore trace (else the reader's one-line error)
        pass
    if (p.parent / ".lock").exists():
        try:
            with RunLock(p.parent):  # its run is over (or was killed): the lock is free
                pass
        except Exception:
            raise TraceError(f"{p}: its run folder is in use by a running command; repair it once that run "
                             "has ended") from None
    return clear_open_flag(p)


def format_info(info: dict[str, Any]) -> str:
    """Human summary of `Trace.info()`."""
    meta = info["metadata"]
    span = info["span"]
    lines = [
        f"{info['path']}: neurocore trace, schema {info['schema_version']}, {_size(info['bytes'])}, {info['status']}",
        f"  written by neurocore {meta.get('neurocore_version')} on {meta.get('created')}; "
        f"chip {meta.get('chip', '?')} ({info['n_cores']} cores), seed {meta.get('seed', '?')}; "
        f"{info['flushes']} flushes",
        f"  samples {_span(span['samples'])}, ticks {_span(span['ticks'])}",
    ]
    if info["populations"]:
        lines.append("  spikes:")
        for name, p in info["populations"].items():
            per = f", {p['bytes'] / p['spikes']:.2f} B/spike" if p["spikes"] else ""
            lines.append(f"    {name:<16} {p['size']:>7} neurons {p['samples']:>7} samples "
                         f"{p['spikes']:>11} spikes {_size(p['bytes']):>10}{per}")
    else:
        lines.append("  spikes: none recorded")
    for name, p in info["probes"].items():
        lines.append(f"  membrane probe {name}: neurons {p['neurons']}, {p['samples']} samples, {p['rows']} ticks, "
                     f"{_size(p['bytes'])}")
    if info["packets"]:
        p = info["packets"]
        lines.append(f"  AER packets: {p['rows']} in {p['samples']} samples, {_size(p['bytes'])}")
    if info["traffic"]:
        t = info["traffic"]
        lines.append(f"  traffic ({t['mode']}): {t['packets']} packets in {t['samples']} samples, "
                     f"{t['rows']} non-zero entries, {_size(t['bytes'])}")
    if info["snapshots"]:
        labels = list(dict.fromkeys(s["label"] for s in info["snapshots"]))
        names = sorted({f"{s['name']} {s['dtype']}{tuple(s['shape'])}" for s in info["snapshots"]})
        shown = ", ".join(labels[:5]) + (", ..." if len(labels) > 5 else "")
        lines.append(f"  snapshots at {len(labels)} points ({shown}): " + "; ".join(names))
    if info["counters"]:
        lines.append(f"  counters at: {', '.join(info['counters'])}")
    return "\n".join(lines)


def _span(pair: list[int] | None) -> str:
    return "none" if pair is None else f"{pair[0]}..{pair[1]}"


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def _raster(args: argparse.Namespace) -> int:
    from ..errors import TraceError
    from ..traces import open as open_trace
    from ..traces.plots import raster

    with open_trace(args.file) as tr:
        population = args.population
        if population is None:
            if not tr.populations:
                raise TraceError(f"{args.file}: no population's spikes are recorded")
            population = next(iter(tr.populations))
        sample = args.sample
        if sample is None:
            samples = tr.samples(population)
            if not len(samples):
                raise TraceError(f"{args.file}: no sample of '{population}' is recorded")
            sample = int(samples[0])
        out = raster(tr, population, sample, args.output or _beside(args.file, f"raster_{population}_{sample}"))
    print(f"wrote {out}")
    return 0


def _traffic(args: argparse.Namespace) -> int:
    from ..traces import open as open_trace
    from ..traces.plots import traffic

    with open_trace(args.file) as tr:
        default = _beside(args.file, "traffic" if args.sample is None else f"traffic_{args.sample}")
        out = traffic(tr, args.output or default, sample=args.sample, log=args.log, all_cores=args.all_cores)
    print(f"wrote {out}")
    return 0


def _beside(trace: str, what: str) -> str:
    """Default image path: next to the trace file, named after it and what the image shows."""
    import re
    from pathlib import Path

    p = Path(trace)
    return str(p.with_name(f"{p.stem}_{re.sub(r'[^A-Za-z0-9_.-]', '_', what)}.png"))
