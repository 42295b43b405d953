"""The mapping report: what a Placement uses of its chip, and the traffic it implies.

:func:`mapping_report` gives plain JSON-serialisable data (for `neurocore map --json`,
sweeps and traces); :func:`format_report` renders it as a terminal table that stays
compact on a 128-core chip (used cores only, one summary line per limit).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .mapping import LIMITS, Placement
from .words import plural


def _pct(used: int, allowed: int) -> float:
    return round(100.0 * used / allowed, 1) if allowed else 0.0


def mapping_report(placement: Placement) -> dict[str, Any]:
    """Chip, strategy, per-core use of every limit, slices, tiles, routing tables and
    expected traffic if every neuron spikes once, as plain data."""
    pl, chip, net = placement, placement.chip, placement.netlist
    use, lim = pl.usage(), pl.limits()
    used = pl.cores_used

    cores = []
    for c in used:
        x, y = chip.xy(c)
        row: dict[str, Any] = {"core": c, "xy": [x, y]}
        for k in LIMITS:
            row[k] = {"used": int(use[k][c]), "allowed": int(lim[k]), "percent": _pct(int(use[k][c]), lim[k])}
        row["slices"] = [{"population": s.population, "start": s.start, "stop": s.stop, "size": s.size,
                          "span": s.span()} for s in pl.slices if s.core == c]
        cores.append(row)

    utilisation = {}
    for k in LIMITS:
        u = use[k][used] if used else np.zeros(1, np.int64)
        top = int(np.argmax(u))
        utilisation[k] = {"allowed": int(lim[k]), "total": int(u.sum()), "max": int(u[top]),
                          "max_core": int(used[top]) if used else None,
                          "max_percent": _pct(int(u[top]), lim[k]),
                          "mean_percent": round(float(100.0 * u.mean() / lim[k]), 1)}

    populations = []
    for name, pop in net.populations.items():
        ks = pl.slices_of(name)
        populations.append({"name": name, "size": pop.size, "kind": "source" if pop.is_source else "if",
                            "slices": len(ks), "cores": sorted({pl.slices[k].core for k in ks})})

    projections = []
    rows_max, cols_max = chip.core.crossbar_rows, chip.core.crossbar_cols
    for name, proj in net.projections.items():
        tiles = [t for t in pl.tiles if t.projection == name]
        arrays = sum(t.arrays for t in tiles)
        entry: dict[str, Any] = {"name": name, "pre": proj.pre, "post": proj.post, "kind": proj.kind,
                                 "tiles": len(tiles), "tile_kind": sorted({t.kind for t in tiles}),
                                 "crossbars": arrays, "cores": sorted({t.core for t in tiles}),
                                 # crosspoints its tiles span of the crossbars they take (a tile's area)
                                 "tile_area_use": round(sum(t.rows * t.cols for t in tiles)
                                                        / (arrays * rows_max * cols_max), 4) if arrays else 0.0}
        if tiles and tiles[0].kind == "kernel":
            entry["kernel"] = {"rows": tiles[0].rows, "columns": sorted({t.cols for t in tiles})}
        if proj.is_tied:
            entry["tied_to"] = proj.tied_to
            entry["synapses"] = 0
        else:
            n_pre, n_post = net.populations[proj.pre].size, net.populations[proj.post].size
            if proj.conn is not None:  # from the geometry: unrolling a large convolution would not fit in memory
                entry["synapses"] = proj.conn.n_synapses(proj.pre_shape)
            else:
                entry["synapses"] = int(proj.mask.sum()) if proj.mask is not None else n_pre * n_post
        # crosspoints that hold a synapse, of the crossbars taken (a shared kernel: its own weights)
        if "kernel" in entry:  # a shared kernel: each of its weights is one crosspoint of its tile
            held = entry["tile_area_use"]
        else:
            held = entry["synapses"] / (arrays * rows_max * cols_max) if arrays else 0.0
        entry["crossbar_use"] = round(held, 4)
        projections.append(entry)

    routes = pl.forward_routes()
    per_pop = {name: int(t.sum()) for name, t in routes.items()}
    returns = sum(int(dst.sum()) for _, _, dst in pl.return_routes())
    routing = {"total": int(use["routing_entries"].sum()), "per_population": per_pop, "column_returns": returns,
               "max_per_core": utilisation["routing_entries"]["max"]}

    pk, hops = pl.expected_traffic()
    total = int(pk.sum())
    local = int(np.trace(pk))
    inter = total - local
    off = pk.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None, kind="stable")[::-1][:5]
    busiest = [{"src": int(i // chip.cores), "dst": int(i % chip.cores), "packets": int(off.flat[i]),
                "hops": int(hops.flat[i] // max(off.flat[i], 1))} for i in order if off.flat[i] > 0]
    traffic = {"packets": total, "local_packets": local, "inter_core_packets": inter,
               "packet_hops": int(hops.sum()), "leave_share": round(inter / total, 4) if total else 0.0,
               "mean_hops": round(float(hops.sum()) / inter, 3) if inter else 0.0, "busiest": busiest}

    return {"netlist": net.name, "chip": chip.name, "mesh": [chip.mesh.width, chip.mesh.height],
            "cores_total": chip.cores, "strategy": pl.strategy, "cores_used": len(used), "neurons": net.n_neurons,
            "limits": {k: int(lim[k]) for k in LIMITS}, "utilisation": utilisation, "cores": cores,
            "populations": populations, "projections": projections, "routing": routing, "traffic": traffic}


def _span(s: dict) -> str:
    return s.get("span") or f"{s['population']}[{s['start']}:{s['stop']}]"


def format_report(report: dict[str, Any], max_cores: int = 40) -> str:
    """A terminal table of a mapping report: used cores only (at most `max_cores` rows)."""
    r = report
    w, h = r["mesh"]
    out = [f"net '{r['netlist']}' ({r['neurons']} neurons) on chip '{r['chip']}' ({w} x {h} mesh, "
           f"{r['cores_total']} cores), strategy {r['strategy']}: {plural(r['cores_used'], 'core')} used", ""]
    out.append(f"{'limit':<16}{'per core':>9}{'total':>10}{'max':>8}{'at core':>9}{'max %':>8}{'mean %':>8}")
    for k in LIMITS:
        u = r["utilisation"][k]
        core = "-" if u["max_core"] is None else str(u["max_core"])
        out.append(f"{k:<16}{u['allowed']:>9}{u['total']:>10}{u['max']:>8}{core:>9}"
                   f"{u['max_percent']:>8.1f}{u['mean_percent']:>8.1f}")
    out.append("(mean % over used cores)")
    out.append("")
    heads = {"neurons": "neurons", "axons": "axons", "crossbars": "xbars", "routing_entries": "routes"}
    out.append(f"{'core':>5} {'x,y':>6}  " + "".join(f"{heads[k]:>14}" for k in LIMITS) + "  slices")
    for row in r["cores"][:max_cores]:
        cells = "".join(f"{row[k]['used']:>8} {row[k]['percent']:>4.0f}%" for k in LIMITS)
        out.append(f"{row['core']:>5} {'%d,%d' % tuple(row['xy']):>6}  {cells}  "
                   + " ".join(_span(s) for s in row["slices"]))
    if len(r["cores"]) > max_cores:
        out.append(f"  ... {len(r['cores']) - max_cores} more used cores (--json lists them all)")
    out.append("")
    out.append("projections:")
    for p in r["projections"]:
        what = f"reads '{p['tied_to']}' transposed" if "tied_to" in p else f"{p['synapses']} synapses"
        if "kernel" in p:
            what += (f", one shared {p['kernel']['rows']} x {'/'.join(map(str, p['kernel']['columns']))} kernel per "
                     f"slice in {plural(p['crossbars'], 'crossbar')} ({100 * p['crossbar_use']:.1f} % of their "
                     f"crosspoints)")
        elif p.get("crossbars"):
            what += (f", {plural(p['crossbars'], 'crossbar')} ({100 * p['crossbar_use']:.1f} % of their crosspoints "
                     f"hold a synapse)")
        cores = ",".join(map(str, p["cores"][:12])) + (",..." if len(p["cores"]) > 12 else "")
        out.append(f"  {p['name']:<12} {p['pre']} -> {p['post']}: {plural(p['tiles'], 'tile')}"
                   + (f" on cores {cores}" if p["cores"] else "") + f", {what}")
    rt = r["routing"]
    pops = ", ".join(f"{k} {v}" for k, v in rt["per_population"].items())
    out.append(f"routing tables: {rt['total']} entries (max {rt['max_per_core']} on one core); "
               f"per population: {pops}" + (f"; column returns {rt['column_returns']}" if rt["column_returns"] else ""))
    t = r["traffic"]
    out.append(f"expected traffic if every neuron spikes once: {t['packets']} packets, "
               f"{t['inter_core_packets']} leave their core ({100 * t['leave_share']:.1f}%), "
               f"{t['packet_hops']} packet-hops ({t['mean_hops']:.2f} hops per inter-core packet)")
    if t["busiest"]:
        out.append("busiest core pairs: " + ", ".join(f"{b['src']}->{b['dst']} {b['packets']} pk x {b['hops']} hops"
                                                      for b in t["busiest"]))
    return "\n".join(out)
