"""The README's device table and figure from a run of the devices sweep (models/sweeps/devices*.toml).

For each preset of models/devices/: its model, number of states (w_max - w_min) / dw_min, the step
asymmetry of its mean device at w = 0, (s_up - s_down) / (s_up + s_down), and that device's
symmetry point (neurocore.crossbar.symmetry; none for a constant step), beside the sweep's test
accuracy (mean ± std over seeds), write pulses and write energy per training sample at the preset's own step (train.lr =
0) and at the common step dw_min = 0.001 (train.lr = 0.1).

Run: python examples/devices_table.py [SWEEP_DIR] [--out examples/results/devices_quick]
     (SWEEP_DIR default runs/sweeps/devices_quick; writes OUT.md, OUT.csv, OUT.png)
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from neurocore.crossbar import device_params, device_step, draw_devices
from neurocore.crossbar.symmetry import symmetry_points
from neurocore.devices import load_device
from neurocore.resolve import known


def device_facts(name: str) -> dict:
    spec = load_device(name).noise_free()
    d = draw_devices(spec, (1,), np.random.default_rng(0))
    a = [float(x[0]) for x in d[:7]]
    up = device_step(0.0, True, *a, spec.model_id, device_params(spec))
    down = device_step(0.0, False, *a, spec.model_id, device_params(spec))
    sp = float(symmetry_points(spec, d)[0])
    full = load_device(name)
    return {"model": spec.model, "up_down": full.up_down, "up_down_dtod": full.up_down_dtod,
            "write_noise": full.write_noise, "states": (spec.w_max - spec.w_min) / spec.dw_min,
            "states_common": (spec.w_max - spec.w_min) / 0.001, "asym0": (up - down) / (up + down), "sp": sp,
            "dw_min": spec.dw_min}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sweep_dir", nargs="?", default="runs/sweeps/devices_quick")
    ap.add_argument("--out", default="examples/results/devices_quick")
    a = ap.parse_args()
    res: dict = defaultdict(lambda: defaultdict(list))
    for line in Path(a.sweep_dir, "results.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r.get("status") != "ok":
            continue
        o, m = r["overrides"], r["metrics"]
        res[o["chip.device"]][float(o["train.lr"])].append(m)
    rows = []
    for name in known("devices"):
        f = device_facts(name)
        row = {"preset": name, **f}
        for lr, tag in ((0.0, "own"), (0.1, "common")):
            ms = res.get(name, {}).get(lr, [])
            acc = [m["accuracy"] for m in ms]
            row[f"acc_{tag}"] = float(np.mean(acc)) if acc else float("nan")
            row[f"acc_{tag}_sd"] = float(np.std(acc)) if len(acc) > 1 else float("nan")
            row[f"n_{tag}"] = len(acc)
            row[f"pulses_{tag}"] = float(np.mean([m["train_write_pulses_per_sample"] for m in ms])) if ms else float("nan")
            row[f"write_uj_{tag}"] = (float(np.mean([m["train_energy_write_pulse_pj"] for m in ms])) / 1e6
                                      if ms else float("nan"))
        rows.append(row)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_suffix(".csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)

    def pct(x: float, sd: float = float("nan"), n: int = 1) -> str:
        if x != x:
            return "-"
        return f"{100 * x:.1f} ± {100 * sd:.1f} % ({n} seeds)" if n > 1 else f"{100 * x:.1f} %"

    def num(x: float, fmt: str = ",.0f", unit: str = "") -> str:
        return "-" if x != x else f"{x:{fmt}}{unit}"

    md = ["| preset | model | states (own dw_min) | up_down (device spread) | step asymmetry at w = 0 | "
          "symmetry point | write noise (std) | accuracy, own step | write pulses / sample | write energy / sample | "
          "accuracy, dw_min 0.001 | write pulses / sample |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        sp = "none" if r["sp"] != r["sp"] else f"{r['sp']:+.3f}"
        md.append(f"| {r['preset']} | {r['model']} | {r['states']:,.0f} | {r['up_down']:g} ({r['up_down_dtod']:g}) | "
                  f"{r['asym0']:+.3f} | {sp} | {r['write_noise']:.3g} | "
                  f"{pct(r['acc_own'], r['acc_own_sd'], r['n_own'])} | {num(r['pulses_own'])} | {num(r['write_uj_own'], '.2f', ' µJ')} | "
                  f"{pct(r['acc_common'])} | {num(r['pulses_common'])} |")
    out.with_suffix(".md").write_text("\n".join(md) + "\n")
    print("\n".join(md))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2))
    x = np.arange(len(rows))
    ax1.bar(x - 0.2, [100 * r["acc_own"] for r in rows], 0.4, label="own dw_min (train.lr = 0)")
    ax1.bar(x + 0.2, [100 * r["acc_common"] for r in rows], 0.4, label="dw_min = 0.001 (train.lr = 0.1)")
    ax1.set_xticks(x, [r["preset"] for r in rows], rotation=45, ha="right")
    ax1.set_ylabel("test accuracy (%)")
    ax1.set_title("SSNN-BP on MNIST-5k, per device preset")
    ax1.legend(fontsize=8)
    for r in rows:
        ax2.scatter(r["states"], 100 * r["acc_own"], s=20 + 200 * abs(r["asym0"]), alpha=0.7)
        ax2.annotate(r["preset"], (r["states"], 100 * r["acc_own"]), fontsize=7)
    ax2.set_xscale("log")
    ax2.set_xlabel("states (w_max - w_min) / dw_min; marker size: |asymmetry at w = 0|")
    ax2.set_ylabel("test accuracy at the own step (%)")
    fig.tight_layout()
    fig.savefig(out.with_suffix(".png"), dpi=110)


if __name__ == "__main__":
    main()
