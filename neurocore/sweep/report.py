"""A finished sweep as a CSV table, one PNG per swept parameter (metric against parameter), and, with
several points, accuracy against energy per sample, latency and area with the Pareto front marked."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import Any, Sequence

from ..files import atomic_output, save_figure
from .spec import Point, SweepSpec, _canon, _show

MAX_GROUPS = 6  # more combinations of the other parameters than this: plot their mean instead


def metric_names(spec: SweepSpec, records: Sequence[dict]) -> list[str]:
    """The sweep's listed metrics, or every scalar metric any point returned (sorted)."""
    if spec.metrics:
        return list(spec.metrics)
    names = set()
    for rec in records:
        names.update(k for k, v in (rec.get("metrics") or {}).items() if _is_scalar(v))
    return sorted(names)


def rows(spec: SweepSpec, points: Sequence[Point], latest: dict[str, dict]) -> tuple[list[str], list[dict]]:
    """(columns, rows) of the results table, one row per point that has a record, in point order."""
    keys = []
    for p in points:
        keys += [k for k in p.overrides if k not in keys and k != spec.seed_key]
    recs = [latest[p.id] for p in points if p.id in latest]
    shown = table_columns(metric_names(spec, recs))
    cols = ["id", "status", "repeat", "seed", *keys, *shown, "seconds", "error"]
    out = []
    for p in points:
        rec = latest.get(p.id)
        if rec is None:
            continue
        row = {"id": p.id, "status": rec["status"], "repeat": p.repeat, "seed": p.seed,
               "seconds": rec.get("seconds"), "error": rec.get("error") or ""}
        row.update({k: _cell(p.overrides.get(k)) for k in keys})
        m = rec.get("metrics") or {}
        row.update({col: _cell(_scaled(m.get(k), scale)) for col, (k, scale) in shown.items()})
        out.append(row)
    return cols, out


_ACCURACY = re.compile(r"(^|_)(acc|accuracy)$")


def table_columns(metrics: Sequence[str]) -> dict[str, tuple[str, float]]:
    """Column name -> (metric, factor) in the units every other output uses: an accuracy (a fraction
    in the records) in %, an energy (`_pj` or `_uj` in the records) in µJ; each column's name says its
    unit (`accuracy_%`, `train_energy_uJ`). A pJ and a µJ metric of the same quantity give one column."""
    out: dict[str, tuple[str, float]] = {}
    for m in metrics:
        if _ACCURACY.search(m):
            out[f"{m}_%"] = (m, 100.0)
        elif m.endswith(("_pj", "_uj")):
            col = f"{m[:-3]}_uJ"
            if col not in out or m.endswith("_uj"):
                out[col] = (m, 1e-6 if m.endswith("_pj") else 1.0)
        else:
            out[m] = (m, 1.0)
    return out


def _scaled(value: Any, factor: float) -> Any:
    return value * factor if factor != 1.0 and _is_number(value) else value


def write_csv(spec: SweepSpec, points: Sequence[Point], latest: dict[str, dict], path: str | Path) -> Path:
    """Write the results table as CSV (one row per recorded point)."""
    cols, table = rows(spec, points, latest)
    path = Path(path)
    with atomic_output(path, "results table") as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for row in table:
            w.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in cols})
    return path


def parameters(spec: SweepSpec, points: Sequence[Point]) -> list[tuple[str, ...]]:
    """What the plots put on their x axes: the keys that the [[points]] tables vary (one
    parameter, set together: e.g. mesh width and height), then each varied grid key."""
    def varies(k: str) -> bool:
        return len({_canon(p.overrides.get(k)) for p in points}) > 1
    point_keys = []
    for table in spec.points:
        point_keys += [k for k in table if k not in point_keys and varies(k)]
    params = [tuple(point_keys)] if point_keys else []
    return params + [(k,) for k in spec.grid if varies(k)]


def _value(p: Point, param: tuple[str, ...]) -> Any:
    return p.overrides.get(param[0]) if len(param) == 1 else [p.overrides.get(k) for k in param]


def plot_sweep(spec: SweepSpec, points: Sequence[Point], latest: dict[str, dict], out_dir: str | Path) -> list[Path]:
    """One PNG per swept parameter: each metric (mean +- std over repeats) against it, one line per
    combination of the other parameters (their mean when that would be more than MAX_GROUPS lines)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [(p, latest[p.id]) for p in points if p.id in latest and latest[p.id]["status"] == "ok"]
    metrics = [m for m in metric_names(spec, [r for _, r in ok])
               if any(_is_number((r.get("metrics") or {}).get(m)) for _, r in ok)]
    params = parameters(spec, [p for p, _ in ok])
    paths = []
    if not ok or not metrics:
        return paths
    front = plot_pareto(spec.name, [r.get("metrics") or {} for _, r in ok], Path(out_dir) / "plot_pareto.png")
    if front is not None:
        paths.append(front)
    for param in params:
        others, averaged = _split_others(param, params, [p for p, _ in ok])
        xs_raw = []
        for p, _ in ok:
            if _canon(_value(p, param)) not in [_canon(x) for x in xs_raw]:
                xs_raw.append(_value(p, param))
        numeric = all(_is_number(x) for x in xs_raw)
        if numeric:
            xs_raw = sorted(xs_raw)
        pos = {_canon(x): (x if numeric else i) for i, x in enumerate(xs_raw)}
        name = " / ".join(param)
        ncols = min(3, len(metrics))
        nrows = math.ceil(len(metrics) / ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.5 * nrows), squeeze=False)
        for ax, metric in zip(axes.flat, metrics):
            series: dict[str, dict[str, list[float]]] = {}
            for p, rec in ok:
                v = (rec.get("metrics") or {}).get(metric)
                if not _is_number(v):
                    continue
                g = ", ".join(f"{' / '.join(o)}={_label(_value(p, o))}" for o in others)
                series.setdefault(g, {}).setdefault(_canon(_value(p, param)), []).append(float(v))
            for g, by_x in series.items():
                xk = [k for k in (_canon(x) for x in xs_raw) if k in by_x]
                ys = [sum(by_x[k]) / len(by_x[k]) for k in xk]
                es = [_std(by_x[k]) for k in xk]
                ax.errorbar([pos[k] for k in xk], ys, yerr=es if any(es) else None, marker="o", capsize=3,
                            label=g or None)
            ax.set_xlabel(name)
            ax.set_ylabel(metric)
            if not numeric:
                ax.set_xticks(range(len(xs_raw)), [_label(x) for x in xs_raw])
            elif len(xs_raw) > 2 and min(xs_raw) > 0 and max(xs_raw) / min(xs_raw) >= 50:
                ax.set_xscale("log")
            ax.grid(alpha=0.3)
            if len(series) > 1:
                ax.legend(fontsize=7)
        for ax in list(axes.flat)[len(metrics):]:
            ax.set_visible(False)
        avg_names = [" / ".join(o) for o in averaged]
        spread = (["repeats"] if spec.seeds and len(spec.seeds) > 1 else []) + avg_names
        note = f"; mean over {', '.join(avg_names)}" if averaged else ""
        note += f"; error bars: std over {', '.join(spread)}" if spread else ""
        fig.suptitle(f"{spec.name}: metrics against {name}{note}", fontsize=10)
        fig.tight_layout()
        path = Path(out_dir) / f"plot_{_safe('+'.join(param))}.png"
        save_figure(fig, path, "sweep plot", dpi=110)
        paths.append(path)
    return paths


# What the Pareto plot puts on its axes: the first of each list a sweep's points report, and its unit factor
PARETO_ACCURACY = (("accuracy", 100.0), ("chip_accuracy", 100.0), ("test_acc", 100.0))
PARETO_COSTS = (
    ("energy per sample (µJ)", (("infer_energy_uj_per_sample", 1.0), ("infer_energy_pj", 1e-6),
                                ("energy_uj_per_sample", 1.0), ("energy_pj", 1e-6))),
    ("latency per sample (µs)", (("infer_latency_ns_per_sample", 1e-3), ("infer_latency_ns", 1e-3),
                                 ("latency_ns_per_sample", 1e-3), ("latency_ns", 1e-3))),
    ("area of the cores used (mm²)", (("infer_area_used_mm2", 1.0), ("area_used_mm2", 1.0))),
)


def pareto_front(costs: Sequence[float], accuracies: Sequence[float]) -> list[int]:
    """Indices of the points no other point beats: none has a cost as low and an accuracy as high, one of
    them strictly (lower cost is better, higher accuracy is better). Sorted by cost; equal points all stay."""
    pts = list(zip(costs, accuracies))
    front = [i for i, (c, a) in enumerate(pts)
             if not any(c2 <= c and a2 >= a and (c2 < c or a2 > a) for c2, a2 in pts)]
    return sorted(front, key=lambda i: (pts[i][0], -pts[i][1]))


def pareto_axes(metrics: Sequence[dict]) -> tuple[tuple[str, float] | None, list[tuple[str, str, float]]]:
    """(accuracy metric and factor, [(axis label, cost metric, factor)]) that the points report as numbers."""
    def first(options):
        return next(((m, f) for m, f in options if sum(_is_number(r.get(m)) for r in metrics) >= 2), None)
    acc = first(PARETO_ACCURACY)
    costs = [(label, *hit) for label, options in PARETO_COSTS if (hit := first(options)) is not None]
    return acc, costs


def pareto_panels(metrics: Sequence[dict]) -> list[dict]:
    """Per cost axis the points report: its label, cost metric, accuracy metric, the points' (cost, accuracy %)
    in the axis's unit (`xs`, `ys`, `rows`: their index in `metrics`) and the indices of the front in them."""
    acc, costs = pareto_axes(metrics)
    if acc is None:
        return []
    panels = []
    for label, metric, factor in costs:
        rows = [i for i, r in enumerate(metrics) if _is_number(r.get(metric)) and _is_number(r.get(acc[0]))]
        if len(rows) < 2:
            continue
        xs = [metrics[i][metric] * factor for i in rows]
        ys = [metrics[i][acc[0]] * acc[1] for i in rows]
        panels.append({"label": label, "metric": metric, "accuracy": acc[0], "xs": xs, "ys": ys, "rows": rows,
                       "front": pareto_front(xs, ys)})
    return panels


def plot_pareto(name: str, metrics: Sequence[dict], path: str | Path) -> Path | None:
    """Accuracy against each cost the points report (energy per sample, latency, area), one panel each, the
    Pareto front of each panel marked and joined; None (no file) with fewer than two such points."""
    panels = pareto_panels(metrics)
    if not panels:
        return None
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.8), squeeze=False)
    for ax, panel in zip(axes.flat, panels):
        label, metric, xs, ys, front = (panel[k] for k in ("label", "metric", "xs", "ys", "front"))
        ax.scatter(xs, ys, color="0.6", s=22, label="points")
        ax.step([xs[i] for i in front], [ys[i] for i in front], where="post", color="tab:red", lw=1.2)
        ax.scatter([xs[i] for i in front], [ys[i] for i in front], color="tab:red", s=36, zorder=3,
                   label=f"Pareto front ({len(front)})")
        ax.set_xlabel(f"{label} [{metric}]")
        ax.set_ylabel(f"{panel['accuracy']} (%)")
        if min(xs) > 0 and max(xs) / min(xs) >= 50:
            ax.set_xscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"{name}: accuracy against cost (front: no other point is cheaper and at least as accurate)",
                 fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path, "Pareto plot", dpi=110)


def _label(v: Any) -> str:
    return " / ".join(_show(x) for x in v) if isinstance(v, list) else _show(v)


def _split_others(param: tuple, params: list[tuple], points: Sequence[Point]) -> tuple[list[tuple], list[tuple]]:
    """The other parameters to draw one line per value combination of (fewest values first, at
    most MAX_GROUPS lines), and those to average over."""
    others = [o for o in params if o != param]
    n_values = {o: len({_canon(_value(p, o)) for p in points}) for o in others}
    lines, averaged, product = [], [], 1
    for o in sorted(others, key=lambda o: n_values[o]):
        if product * n_values[o] <= MAX_GROUPS:
            lines.append(o)
            product *= n_values[o]
        else:
            averaged.append(o)
    return [o for o in others if o in lines], [o for o in others if o in averaged]


def _std(vs: list[float]) -> float:
    if len(vs) < 2:
        return 0.0
    m = sum(vs) / len(vs)
    return math.sqrt(sum((v - m) ** 2 for v in vs) / (len(vs) - 1))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (int, float, str, bool))


def _cell(v: Any) -> Any:
    return v if _is_scalar(v) else _canon(v)


def _safe(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", key)
