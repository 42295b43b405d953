"""Runs of one experiment over several seeds, as a paper reports them: mean ± std of the test
accuracy per group (e.g. per update mode), at the last epoch or at a given one, and the learning
curves of every group with their spread.

    python examples/seed_spread.py rate=runs/sweeps/fmnist_seeds/points/30b2d38c0910 \\
        rate=examples/results/fmnist_seeds_rate_seed1_results.json coincidence=... --name fmnist_seeds

Each argument is LABEL=PATH, PATH a run folder (its results.json) or a results.json file; runs with
the same LABEL are seeds of one group. Nothing is re-run. Writes NAME_spread.json and .csv (one row
per group: runs, epoch, mean, std, min, max, the per-run values) and NAME_spread.png (test accuracy
against epoch: each run thin, the group mean bold with its ± std band) to --out, and prints the rows.
The std is the sample one (n - 1), as the sweep's error bars.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path
from typing import NoReturn


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", metavar="LABEL=PATH", help="a group label and a run folder or results.json")
    p.add_argument("--epoch", type=int, help="report the accuracy after this epoch (default: each run's last)")
    p.add_argument("--name", default="seeds", help="stem of the output files (default: seeds)")
    p.add_argument("--out", default=".", help="folder of the outputs (default: the current folder)")
    return p.parse_args(argv)


def fail(message: str) -> NoReturn:
    """A bad argument: one line on stderr, exit 2, nothing written."""
    print(f"seed_spread: {message}", file=sys.stderr)
    raise SystemExit(2)


def rows_of(path: Path) -> list[dict]:
    file = path / "results.json" if path.is_dir() else path
    if not file.is_file():
        fail(f"{path}: no results.json there")
    rows = json.loads(file.read_text()).get("results") or []
    if not rows:
        fail(f"{file}: no epochs in it yet")
    return rows


def accuracy_at(rows: list[dict], epoch: int | None, path: Path) -> tuple[int, float]:
    if epoch is None:
        return rows[-1]["epoch"], rows[-1]["test_acc"]
    for r in rows:
        if r["epoch"] == epoch:
            return epoch, r["test_acc"]
    fail(f"{path}: --epoch {epoch} not in it (epochs 1..{rows[-1]['epoch']})")


def std(vs: list[float]) -> float:
    if len(vs) < 2:
        return 0.0
    m = sum(vs) / len(vs)
    return math.sqrt(sum((v - m) ** 2 for v in vs) / (len(vs) - 1))


def groups(args: argparse.Namespace) -> dict[str, list[tuple[Path, list[dict]]]]:
    out: dict[str, list[tuple[Path, list[dict]]]] = {}
    for arg in args.runs:
        label, sep, path = arg.partition("=")
        if not sep or not label or not path:
            fail(f"argument {arg!r}: expected LABEL=PATH, e.g. rate=runs/fmnist_rate")
        out.setdefault(label, []).append((Path(path), rows_of(Path(path))))
    return out


def summarise(label: str, runs: list[tuple[Path, list[dict]]], epoch: int | None) -> dict:
    at = [accuracy_at(rows, epoch, path) for path, rows in runs]
    accs = [100 * a for _, a in at]
    return {"group": label, "runs": len(runs), "epoch": ",".join(sorted({str(e) for e, _ in at})),
            "mean": round(sum(accs) / len(accs), 3), "std": round(std(accs), 3),
            "min": round(min(accs), 2), "max": round(max(accs), 2),
            "values": " ".join(f"{a:.2f}" for a in accs), "paths": " ".join(str(p) for p, _ in runs)}


def plot(gs: dict[str, list[tuple[Path, list[dict]]]], path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for i, (label, runs) in enumerate(gs.items()):
        colour = f"C{i}"
        n = min(len(rows) for _, rows in runs)
        ep = [r["epoch"] for r in runs[0][1][:n]]
        per_epoch = [[100 * rows[k]["test_acc"] for _, rows in runs] for k in range(n)]
        mean = [sum(v) / len(v) for v in per_epoch]
        spread = [std(v) for v in per_epoch]
        for _, rows in runs:
            ax.plot([r["epoch"] for r in rows], [100 * r["test_acc"] for r in rows], color=colour, lw=0.6, alpha=0.5)
        ax.plot(ep, mean, color=colour, lw=2, label=f"{label} (mean of {len(runs)})")
        ax.fill_between(ep, [m - s for m, s in zip(mean, spread)], [m + s for m, s in zip(mean, spread)],
                        color=colour, alpha=0.2)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    gs = groups(args)
    table = [summarise(label, runs, args.epoch) for label, runs in gs.items()]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}_spread.json").write_text(json.dumps(table, indent=1) + "\n")
    with open(out / f"{args.name}_spread.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(table[0]))
        w.writeheader()
        w.writerows(table)
    plot(gs, out / f"{args.name}_spread.png", f"{args.name}: test accuracy, mean ± std over seeds")
    for row in table:
        print(f"{row['group']:>14}: {row['mean']:.2f} ± {row['std']:.2f} % over {row['runs']} runs "
              f"(epoch {row['epoch']}: {row['values']})")
    print(f"wrote {out / (args.name + '_spread')}.json, .csv, .png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
