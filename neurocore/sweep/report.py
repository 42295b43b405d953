"""A finished sweep as a CSV table and one PNG per swept parameter (metric against parameter)."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import Any, Sequence

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
    metrics = metric_names(spec, recs)
    cols = ["id", "status", "repeat", "seed", *keys, *metrics, "seconds", "error"]
    out = []
    for p in points:
        rec = latest.get(p.id)
        if rec is None:
            continue
        row = {"id": p.id, "status": rec["status"], "repeat": p.repeat, "seed": p.seed,
               "seconds": rec.get("seconds"), "error": rec.get("error") or ""}
        row.update({k: _cell(p.overrides.get(k)) for k in keys})
        m = rec.get("metrics") or {}
        row.update({k: _cell(m.get(k)) for k in metrics})
        out.append(row)
    return cols, out


def write_csv(spec: SweepSpec, points: Sequence[Point], latest: dict[str, dict], path: str | Path) -> Path:
    """Write the results table as CSV (one row per recorded point)."""
    cols, table = rows(spec, points, latest)
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for row in table:
            w.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in cols})
    return path


def plot_sweep(spec: SweepSpec, points: Sequence[Point], latest: dict[str, dict], out_dir: str | Path) -> list[Path]:
    """One PNG per swept parameter: each metric (mean +- std over repeats) against it."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [(p, latest[p.id]) for p in points if p.id in latest and latest[p.id]["status"] == "ok"]
    metrics = [m for m in metric_names(spec, [r for _, r in ok])
               if any(_is_number((r.get("metrics") or {}).get(m)) for _, r in ok)]
    varied = [k for k in spec.swept_keys if len({_canon(p.overrides.get(k)) for p, _ in ok}) > 1]
    coupled = _coupled([p for p, _ in ok], varied)
    swept = list(coupled)
    paths = []
    if not ok or not metrics:
        return paths
    for key in swept:
        others, averaged = _split_others(key, swept, [p for p, _ in ok])
        tick_label = {_canon(p.overrides.get(key)): " / ".join(_show(p.overrides.get(k)) for k in [key, *coupled[key]])
                      for p, _ in ok}
        xs_raw = []
        for p, _ in ok:
            if _canon(p.overrides.get(key)) not in [_canon(x) for x in xs_raw]:
                xs_raw.append(p.overrides.get(key))
        numeric = all(_is_number(x) for x in xs_raw)
        if numeric:
            xs_raw = sorted(xs_raw)
        pos = {_canon(x): (x if numeric else i) for i, x in enumerate(xs_raw)}
        ncols = min(3, len(metrics))
        nrows = math.ceil(len(metrics) / ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.5 * nrows), squeeze=False)
        for ax, metric in zip(axes.flat, metrics):
            series: dict[str, dict[str, list[float]]] = {}
            for p, rec in ok:
                v = (rec.get("metrics") or {}).get(metric)
                if not _is_number(v):
                    continue
                g = ", ".join(f"{k}={_show(p.overrides.get(k))}" for k in others)
                series.setdefault(g, {}).setdefault(_canon(p.overrides.get(key)), []).append(float(v))
            for g, by_x in series.items():
                xk = [k for k in (_canon(x) for x in xs_raw) if k in by_x]
                ys = [sum(by_x[k]) / len(by_x[k]) for k in xk]
                es = [_std(by_x[k]) for k in xk]
                ax.errorbar([pos[k] for k in xk], ys, yerr=es if any(es) else None, marker="o", capsize=3,
                            label=g or None)
            ax.set_xlabel(" / ".join([key, *coupled[key]]))
            ax.set_ylabel(metric)
            if not numeric or coupled[key]:
                ax.set_xticks([pos[_canon(x)] for x in xs_raw], [tick_label[_canon(x)] for x in xs_raw])
            elif len(xs_raw) > 2 and min(xs_raw) > 0 and max(xs_raw) / min(xs_raw) >= 50:
                ax.set_xscale("log")
            ax.grid(alpha=0.3)
            if len(series) > 1:
                ax.legend(fontsize=7)
        for ax in list(axes.flat)[len(metrics):]:
            ax.set_visible(False)
        spread = (["repeats"] if spec.seeds and len(spec.seeds) > 1 else []) + averaged
        note = f"; mean over {', '.join(averaged)}" if averaged else ""
        note += f"; error bars: std over {', '.join(spread)}" if spread else ""
        fig.suptitle(f"{spec.name}: metrics against {key}{note}", fontsize=10)
        fig.tight_layout()
        path = Path(out_dir) / f"plot_{_safe(key)}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def _coupled(points: Sequence[Point], keys: list[str]) -> dict[str, list[str]]:
    """Keys whose values pair one-to-one over the points (e.g. mesh width and height set together)
    merge into one parameter: first key -> the keys that move with it."""
    out: dict[str, list[str]] = {}
    for k in keys:
        for primary in out:
            pairs = {(_canon(p.overrides.get(primary)), _canon(p.overrides.get(k))) for p in points}
            if len(pairs) == len({a for a, _ in pairs}) == len({b for _, b in pairs}):
                out[primary].append(k)
                break
        else:
            out[k] = []
    return out


def _split_others(key: str, swept: list[str], points: Sequence[Point]) -> tuple[list[str], list[str]]:
    """The other swept keys to draw one line per value combination of (fewest values first, at
    most MAX_GROUPS lines), and those to average over."""
    others = [k for k in swept if k != key]
    n_values = {k: len({_canon(p.overrides.get(k)) for p in points}) for k in others}
    lines, averaged, product = [], [], 1
    for k in sorted(others, key=lambda k: n_values[k]):
        if product * n_values[k] <= MAX_GROUPS:
            lines.append(k)
            product *= n_values[k]
        else:
            averaged.append(k)
    return [k for k in others if k in lines], [k for k in others if k in averaged]


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
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", key)
