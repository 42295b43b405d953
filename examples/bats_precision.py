"""Precision of the chip for a trained BATS network: its accuracy on the chip at several tick lengths,
with float32 and with fixed-point neuron state, against the event-based (off-chip) accuracy.

    python examples/bats_precision.py RUN_DIR                     # 10, 30, 100, 300, 1000 ticks per sample
    python examples/bats_precision.py runs/bats_fmnist --ticks 10 30 100 --samples 2000 --out examples/results
    python examples/bats_precision.py RUN_DIR --fixed-set chip.precision.frac_bits=8   # other bit widths

Each tick count re-deploys the run's checkpoint as `neurocore infer RUN_DIR --set net.chip_ticks=N` does
(dt = duration / N) on the run's chip (`--set chip.name=...` for another), once with the chip's
float32 state and once with `chip.precision.state = "fixed"` (the chip's bit widths: loihi_like's
24-bit v and i with 12 fractional bits, unless --fixed-set says otherwise). Writes to --out
(default: the run folder) bats_precision.json (every row, the event-based accuracy, and per state the
smallest tick count from which every larger one stays within --within points of it),
bats_precision.csv and bats_precision.png, and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

TICKS = (10, 30, 100, 300, 1000)
STATES = ("float32", "fixed")


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("run_dir", help="a BATS run folder written by `neurocore train`")
    p.add_argument("--ticks", type=int, nargs="+", default=list(TICKS), help="ticks per sample on the chip")
    p.add_argument("--states", nargs="+", choices=STATES, default=list(STATES), help="neuron state formats")
    p.add_argument("--samples", type=int, default=0, help="test samples (default: 0, the run's whole test set)")
    p.add_argument("--within", type=float, default=0.5, help="accuracy points the chip may lose (default: 0.5)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override for every row")
    p.add_argument("--fixed-set", action="append", default=[], metavar="KEY=VALUE",
                   help="override for the fixed-point rows, e.g. chip.precision.frac_bits=16")
    p.add_argument("--out", help="folder of the outputs (default: the run folder)")
    return p.parse_args(argv)


def smallest_within(rows: list[dict], event_acc: float, points: float) -> int | None:
    """The smallest tick count from which every larger one is within `points` of the event-based accuracy."""
    best = None
    for r in sorted(rows, key=lambda r: -r["ticks"]):
        if abs(100 * (r["chip_acc"] - event_acc)) > points + 1e-9:  # 1e-9: accuracies are ratios of counts
            break
        best = r["ticks"]
    return best


def study(args: argparse.Namespace) -> dict:
    from neurocore.config import parse_overrides
    from neurocore.data import subset
    from neurocore.methods.offchip import OffChipRun
    from neurocore.runs import datasets, run_experiment

    common = parse_overrides(args.set)
    fixed = {"chip.precision.state": "fixed", **parse_overrides(args.fixed_set)}
    exp = run_experiment(args.run_dir, common)
    if exp.method != "bats":
        raise SystemExit(f"{args.run_dir}: method {exp.method!r}; this study is for BATS runs")
    train_set, test_set = datasets(exp)
    if args.samples and args.samples < len(test_set):
        test_set = subset(test_set, args.samples, seed=exp.seed + 1)
    run = OffChipRun(exp, train_set, args.run_dir)
    run.restore(args.run_dir)
    off = run.trainer.evaluate(test_set.images, test_set.labels)
    rows = []
    for state in args.states:
        for ticks in sorted(args.ticks):
            over = {**common, "net.chip_ticks": ticks, **(fixed if state == "fixed" else {})}
            e = run_experiment(args.run_dir, over)
            r = OffChipRun(e, train_set, args.run_dir)
            r.restore(args.run_dir)
            t0 = time.perf_counter()
            chip = r.test_on_chip(test_set)
            p = e.chip.precision
            rows.append({"state": state, "ticks": ticks, "dt_ms": 1e3 * e.net.duration / ticks,
                         "chip_acc": chip["accuracy"], "gap_points": 100 * (chip["accuracy"] - off["accuracy"]),
                         "energy_uj_per_sample": chip["cost"]["energy_uj_per_sample"],
                         "tick_latency_ns_mean": chip["cost"]["tick_latency_ns_mean"],
                         "bits": f"v{p.v_bits} i{p.i_bits} frac{p.frac_bits}" if state == "fixed" else "",
                         "seconds": time.perf_counter() - t0})
            print(f"{state:>7} {ticks:>6} ticks ({rows[-1]['dt_ms']:.3g} ms): chip {100 * chip['accuracy']:.2f} % "
                  f"({rows[-1]['gap_points']:+.2f} points), {rows[-1]['energy_uj_per_sample']:.3g} uJ per sample",
                  flush=True)
    within = {s: smallest_within([r for r in rows if r["state"] == s], off["accuracy"], args.within)
              for s in args.states}
    return {"run": str(args.run_dir), "experiment": exp.name, "chip": exp.chip.name, "epoch": run.epoch,
            "samples": len(test_set), "event_acc": off["accuracy"], "within_points": args.within,
            "smallest_ticks_within": within, "rows": rows}


def write(result: dict, out: Path) -> list[Path]:
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib.pyplot as plt

    from neurocore.files import write_text
    from neurocore.runs import write_table

    paths = [out / "bats_precision.json", out / "bats_precision.csv", out / "bats_precision.png"]
    write_text(paths[0], json.dumps(result, indent=1))
    write_table(paths[1], result["rows"])
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    event = 100 * result["event_acc"]
    ax.axhspan(event - result["within_points"], event + result["within_points"], color="0.9",
               label=f"within {result['within_points']:g} points")
    ax.axhline(event, color="k", lw=1, label=f"event-based {event:.2f} %")
    for state, marker in zip(STATES, "os"):
        rows = sorted((r for r in result["rows"] if r["state"] == state), key=lambda r: r["ticks"])
        if rows:
            label = state if state == "float32" else f"fixed point ({rows[0]['bits']})"
            ax.plot([r["ticks"] for r in rows], [100 * r["chip_acc"] for r in rows], marker=marker, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("ticks per sample on the chip")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"{result['experiment']} on {result['chip']} ({result['samples']} test samples)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    tmp = paths[2].with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, paths[2])
    return paths


def main(argv: list[str]) -> int:
    args = parse(argv)
    result = study(args)
    paths = write(result, Path(args.out) if args.out else Path(args.run_dir))
    print(f"event-based {100 * result['event_acc']:.2f} % on {result['samples']} samples; smallest tick count "
          f"within {args.within:g} points: " + ", ".join(f"{s} {t}" for s, t in result["smallest_ticks_within"].items()))
    print("wrote " + ", ".join(map(str, paths)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
