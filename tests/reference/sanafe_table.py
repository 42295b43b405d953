"""The side-by-side table of the README: neurocore on `loihi` against the SANA-FE goldens (no sanafe needed).

    PYTHONPATH=. python tests/reference/sanafe_table.py

Per network: spikes (neurocore / SANA-FE, and how many are the same events), energy per timestep
by SANA-FE's kinds (nJ, neurocore / SANA-FE, difference), the mean tick (µs) and SANA-FE's sim()
wall time as the golden recorded it (tests/reference/sanafe_speed.py times both in one sitting).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.test_sanafe import GOLD, GOLDENS, NETS, SANAFE_KINDS, compare  # noqa: E402


def main() -> None:
    print("| network | neurons | samples x ticks | spikes: neurocore / SANA-FE (same events) | synapse nJ/tick | "
          "soma nJ/tick | network nJ/tick | mean tick µs | SANA-FE sim() |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in GOLDENS:
        gold = np.load(GOLD / f"{name}.npz")
        rel = compare(name, gold)
        ours, T = rel["ours"], rel["T"]
        spec = NETS[name]()
        n = sum(p.size for p in spec.pops if not p.source)
        S = ours["sim_time"].shape[0]
        ev_t = gold["events"][gold["events"][:, 1] < T]
        ev_o = ours["events"][ours["events"][:, 1] < T]
        same = len({tuple(e) for e in ev_o.tolist()} & {tuple(e) for e in ev_t.tolist()})
        cells = []
        for kind in SANAFE_KINDS:
            mine = ours[kind][:, :T].mean() * 1e9
            theirs = np.asarray(gold[f"{kind}_energy"])[:, :T].mean() * 1e9
            cells.append(f"{mine:.4g} / {theirs:.4g} ({rel[kind] * 100:.2f} %)")
        tick_o = ours["sim_time"][:, :T].mean() * 1e6
        tick_t = np.asarray(gold["sim_time"])[:, :T].mean() * 1e6
        print(f"| {name} | {n} | {S} x {T} | {len(ev_o)} / {len(ev_t)} ({same}) | " + " | ".join(cells)
              + f" | {tick_o:.4g} / {tick_t:.4g} ({rel['tick'] * 100:.2f} %) | {float(gold['wall_s']) * 1e3:.0f} ms |")


if __name__ == "__main__":
    main()
