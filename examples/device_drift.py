"""Do asymmetric devices drift to their symmetry point under SSNN-BP on the chip?

aihwkit's literature (Gokmen and Haensch 2020, Onen et al. 2022) says plain SGD on asymmetric
devices pulls each weight toward its device's symmetry point, the state where an up and a down
pulse cancel. This trains the quick MNIST-5k experiment for one short epoch on some device
presets and, for every plastic device that was written and has a symmetry point (neurocore.
crossbar.symmetry), compares its distance to that point before and after training, and the
correlation between its move and the direction of its symmetry point.

Run: python examples/device_drift.py [preset ...] [--samples N] [--lr LR]
     (default: reram_es pcm ecram reram_sb, 1000 samples, lr 0 = each preset's own dw_min)
"""

from __future__ import annotations

import argparse

import numpy as np

from neurocore.experiment import load_experiment
from neurocore.methods.ssnn_bp.trainer import Trainer, load_data


def drift(name: str, samples: int, lr: float, seed: int = 1) -> dict:
    exp = load_experiment("quick", {"chip.device": name, "train.lr": lr, "data.train": samples, "data.test": 100,
                                    "train.epochs": 1, "trace.enabled": False, "seed": seed})
    train_set, _ = load_data(exp)
    tr = Trainer(exp, run_dir=None)
    eng = tr.engine
    plastic = [n for n, p in eng.placement.netlist.projections.items() if p.plastic is not None]
    before = {p: eng.weights(p).astype(np.float64) for p in plastic}
    sp = {p: eng.device_values(p, "symmetry_point") for p in plastic}
    tr.train_epoch(train_set, progress=False)
    out = {"preset": name}
    for p in plastic:
        w0, w1, s = before[p], eng.weights(p).astype(np.float64), sp[p]
        m = (w1 != w0) & np.isfinite(s)
        if not m.any():
            out[p] = None
            continue
        d0, d1 = np.abs(w0[m] - s[m]), np.abs(w1[m] - s[m])
        move, toward = w1[m] - w0[m], s[m] - w0[m]
        out[p] = {"written": int((w1 != w0).sum()), "with_sp": int(m.sum()),
                  "median_dist_before": float(np.median(d0)), "median_dist_after": float(np.median(d1)),
                  "closer": float((d1 < d0).mean()), "corr_move_toward_sp": float(np.corrcoef(move, toward)[0, 1]),
                  "sp_mean": float(s[m].mean()), "w_mean_before": float(w0[m].mean()),
                  "w_mean_after": float(w1[m].mean())}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("presets", nargs="*", default=["reram_es", "pcm", "ecram", "reram_sb"])
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--lr", type=float, default=0.0)
    a = ap.parse_args()
    print("preset            crossbar       written  with_sp  |w-sp| before  after  closer  corr(move, sp-w0)  "
          "mean sp  mean w before  after")
    for name in a.presets:
        r = drift(name, a.samples, a.lr)
        for p, v in r.items():
            if p == "preset":
                continue
            if v is None:
                print(f"{name:17s} {p:14s} no written device with a symmetry point")
                continue
            print(f"{name:17s} {p:14s} {v['written']:8d} {v['with_sp']:8d} {v['median_dist_before']:13.4f} "
                  f"{v['median_dist_after']:6.4f} {v['closer']:7.3f} {v['corr_move_toward_sp']:18.3f} "
                  f"{v['sp_mean']:+8.3f} {v['w_mean_before']:+13.4f} {v['w_mean_after']:+7.4f}", flush=True)


if __name__ == "__main__":
    main()
