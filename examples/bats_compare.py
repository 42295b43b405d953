"""Two (or more) BATS runs side by side from their results alone (e.g. multi- against single-spike on the
same net): learning curves, final accuracy off and on the chip, spikes per sample, time to the
decision (the first output spike), the share of dead neurons, energy per sample on the chip.

    python examples/bats_compare.py runs/bats_fmnist_800 runs/bats_fmnist_800_single --out examples/results

Reads each run folder's results.json (every epoch's row: test_acc, chip_test_acc and what BATS's
evaluate measures, test_spikes_per_sample, test_time_to_decision, test_dead_share, ...) and
experiment.toml; nothing is re-run. Writes to --out (default: the current folder) bats_compare.json
and .csv (one summary row per run) and bats_compare.png (the curves), and prints the summary.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", help="BATS run folders written by `neurocore train`")
    p.add_argument("--labels", nargs="+", help="one name per run (default: multi-spike / single-spike, or the "
                                               "experiment's name)")
    p.add_argument("--out", default=".", help="folder of the outputs (default: the current folder)")
    return p.parse_args(argv)


def load(run: Path) -> tuple[dict, list[dict]]:
    from neurocore.config import load_toml

    exp = load_toml(run / "experiment.toml")
    if exp.get("method") != "bats":
        raise SystemExit(f"{run}: method {exp.get('method')!r}; this comparison is for BATS runs")
    rows = json.loads((run / "results.json").read_text())["results"]
    if not rows:
        raise SystemExit(f"{run}: no epochs in results.json yet")
    return exp, rows


def summary(run: Path, label: str | None) -> dict:
    exp, rows = load(run)
    net = exp["net"]
    last = rows[-1]
    best = max(rows, key=lambda r: r["test_acc"])
    spikes = last.get("test_spikes_per_sample")
    ttd = last.get("test_time_to_decision")
    budgets = net.get("budget", [])
    single = bool(budgets) and all(b == 1 for b in budgets)
    return {
        "run": str(run), "label": label or ("single-spike" if single else "multi-spike"),
        "experiment": exp.get("name"), "layers": "-".join(map(str, [net["inputs"], *net["hidden"], net["classes"]])),
        "budget": budgets, "loss": exp["train"].get("loss"), "epochs": last["epoch"],
        "test_acc": last["test_acc"], "best_test_acc": best["test_acc"], "best_epoch": best["epoch"],
        "chip_test_acc": last.get("chip_test_acc"), "chip": exp.get("chip", {}).get("name"),
        "chip_ticks": net.get("chip_ticks"),
        "spikes_per_sample": spikes, "spikes_per_sample_total": sum(spikes) if spikes else None,
        "time_to_decision_ms": 1e3 * ttd if ttd is not None else None,
        "no_output_share": last.get("test_no_output_share"),
        "dead_share": last.get("test_dead_share"), "dead_share_hidden": last.get("test_dead_share_hidden"),
        "energy_uj_per_sample": last.get("infer_cost", {}).get("energy_uj_per_sample"),
        "train_seconds": sum(r.get("train_seconds", 0.0) for r in rows),
    }


def _curve(rows: list[dict], key, scale: float = 1.0) -> tuple[list, list]:
    xs, ys = [], []
    for r in rows:
        v = key(r)
        if v is not None:
            xs.append(r["epoch"])
            ys.append(scale * v)
    return xs, ys


def plot(runs: list[Path], table: list[dict], path: Path) -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    for run, s, color in zip(runs, table, plt.rcParams["axes.prop_cycle"].by_key()["color"]):
        rows = load(run)[1]
        ax = axes[0, 0]
        ax.plot(*_curve(rows, lambda r: r["test_acc"], 100), color=color, label=f"{s['label']}: test")
        ax.plot(*_curve(rows, lambda r: r.get("chip_test_acc"), 100), color=color, ls="--", label="on the chip")
        ax.plot(*_curve(rows, lambda r: r["train_acc"], 100), color=color, ls=":", label="train")
        axes[0, 1].plot(*_curve(rows, lambda r: sum(r["test_spikes_per_sample"])
                                if r.get("test_spikes_per_sample") else None), color=color, label=s["label"])
        axes[1, 0].plot(*_curve(rows, lambda r: r.get("test_time_to_decision"), 1e3), color=color, label=s["label"])
        axes[1, 1].plot(*_curve(rows, lambda r: r.get("test_dead_share_hidden"), 100), color=color,
                        label=s["label"])
    titles = [("accuracy (%)", "learning curves"), ("spikes per sample", "spikes per test sample (hidden and output layers)"),
              ("ms", "time to decision (first output spike)"), ("%", "dead hidden neurons (no spike on the test set)")]
    for ax, (ylabel, title) in zip(axes.flat, titles):
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=7)
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)


def write(table: list[dict], runs: list[Path], out: Path) -> list[Path]:
    from neurocore.files import write_text
    from neurocore.runs import write_table

    paths = [out / "bats_compare.json", out / "bats_compare.csv", out / "bats_compare.png"]
    write_text(paths[0], json.dumps(table, indent=1))
    write_table(paths[1], table)
    plot(runs, table, paths[2])
    return paths


def _show(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return "[" + ", ".join(_show(x) for x in v) + "]"
    return str(v)


def main(argv: list[str]) -> int:
    args = parse(argv)
    runs = [Path(r) for r in args.runs]
    labels = args.labels or [None] * len(runs)
    if len(labels) != len(runs):
        raise SystemExit(f"--labels: {len(labels)} names for {len(runs)} runs")
    table = [summary(r, lab) for r, lab in zip(runs, labels)]
    keys = ["label", "layers", "budget", "epochs", "test_acc", "best_test_acc", "chip_test_acc",
            "spikes_per_sample", "time_to_decision_ms", "dead_share", "no_output_share", "energy_uj_per_sample"]
    for s in table:
        print(" | ".join(f"{k} {_show(s[k])}" for k in keys))
    print("wrote " + ", ".join(map(str, write(table, runs, Path(args.out)))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
