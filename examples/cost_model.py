"""Energy and tick latency of a run, from its counters: the cost model on hand-made counters.

A real run's counters come from the engine; here a two-layer chain on the 2x2 `small` chip
is written by hand so every number can be checked. Run: python examples/cost_model.py
"""

import numpy as np

from neurocore.chip import load_chip
from neurocore.cost import cost_summary, cost_table, format_summary, replay, sample_cost

chip = load_chip("small")  # 2x2 mesh of digital cores, Loihi's per-operation costs (models/chips/small.toml)
T, n = 50, chip.cores  # one sample of 50 ticks

# every tick: core 0 (input slice) sends 4 packets to core 1 (hidden, one hop east) and core 1
# sends 2 to core 3 (output, one hop north); every 10th tick core 0 also sends 3 packets straight
# to core 3 (two hops: east, then north, sharing link 0 -> 1 with the first flow)
traffic = np.zeros((T, n, n), np.int64)
traffic[:, 0, 1] = 4
traffic[:, 1, 3] = 2
traffic[::10, 0, 3] = 3
syn = np.zeros((T, n), np.int64)
syn[:, 1] = 4 * 32  # each packet reaches 32 crossbar rows at its destination
syn[:, 3] = (traffic[:, 1, 3] + traffic[:, 0, 3]) * 32
hops = chip.hop_matrix()

counters = {
    "samples": 1, "ticks": T,
    "syn_events": int(syn.sum()),
    "neuron_updates": 32 * n * T, "spikes": int(traffic.sum()),
    "packets": int(traffic.sum()), "packet_hops": int((traffic.sum(0) * hops).sum()),
    "write_pulses": 0,
    "core_syn_events": syn.sum(0), "core_syn_events_per_tick": syn,
    "core_neuron_updates": np.full(n, 32 * T), "core_spikes": traffic.sum((0, 2)),
    "core_write_pulses": np.zeros(n, np.int64),
    "traffic": traffic.sum(0), "traffic_per_tick": traffic,
}

timing = replay(chip, counters)               # simpy: per-tick barrier time on the mesh
infer = sample_cost(counters, chip, "inference", timing=timing)
print(cost_table(infer))
print()
print("analytic estimate of the tick (no simpy):", round(sample_cost(counters, chip).tick_ns, 1), "ns")
for k, v in timing.summary().items():
    print(f"{k:>18}: {v:.4g}")
print("busiest link:", timing.links[int(np.argmax(timing.link_busy_ns))],
      "ticks over the deadline:", timing.missed_ticks.tolist())
print()
# what `neurocore run`, `train` and `infer` print (and put in --json / results.json)
print(format_summary(cost_summary(counters, chip, "inference", timing)))
