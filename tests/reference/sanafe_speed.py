"""Wall time of neurocore beside SANA-FE on the same work, in one sitting (needs sanafe).

    PYTHONPATH=. /tmp/sanafe-venv/bin/python tests/reference/sanafe_speed.py [net ...]

For each network of sanafe_nets.py: SANA-FE's sim() calls (timing model "simple", spike and perf
traces on; building and loading the network left out) against neurocore's Engine.run of the same
samples (every spike recorded, with per-tick counters (the per-timestep view SANA-FE's perf trace gives)
and with run totals only; compilation left out: one warm-up run first), best of `REPEATS`, and their ratio. Prints a Markdown table. The DVS-gesture net runs in
SANA-FE from its own yaml: give SANAFE_DVS_YAML as for make_sanafe_goldens.py. Machine load moves both;
the ratio is the figure to quote, with the load it was measured under.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from tests.reference.make_sanafe_goldens import run_sanafe  # noqa: E402
from tests.reference.sanafe_nets import NETS, build_neurocore  # noqa: E402

REPEATS = 3


def neurocore_seconds(spec, traffic: str = "per_tick") -> float:
    from neurocore.chip import load_chip
    from neurocore.engine import Engine, SpikeDrive

    chip = load_chip("loihi")
    _, pl, _ = build_neurocore(spec, chip)
    eng = Engine(pl, seed=0)
    src = next(p for p in spec.pops if p.source)
    ticks = spec.spikes.shape[1]
    drive = SpikeDrive({src.name: spec.spikes})
    eng.run(drive, ticks, traffic=traffic, record=True)  # compile
    best = float("inf")
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        eng.run(drive, ticks, traffic=traffic, record=True)
        best = min(best, time.perf_counter() - t0)
    return best


def main(names: list[str]) -> None:
    import sanafe

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| network | neurons | samples x ticks | SANA-FE sim() | neurocore run, per-tick counters | ratio | "
          "neurocore run, run totals | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name in names or list(NETS):
        spec = NETS[name]()
        theirs = min(run_sanafe(spec, sanafe, "simple")[2] for _ in range(REPEATS))
        ours = neurocore_seconds(spec)
        totals = neurocore_seconds(spec, "sum")
        n = sum(p.size for p in spec.pops if not p.source)
        s, t = spec.spikes.shape[:2]
        print(f"| {name} | {n} | {s} x {t} | {theirs * 1e3:.1f} ms | {ours * 1e3:.2f} ms | {theirs / ours:.0f}x | "
              f"{totals * 1e3:.2f} ms | {theirs / totals:.0f}x |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
