"""Tick latency on the 2-D mesh: a simpy replay of a run's per-tick core-to-core traffic.

Runs after the functional simulation, from its counters; never inside the engine's loop.

The model of one tick (ticks are barrier-synchronised, each replayed from t = 0):

1. Core c computes for `compute[c]` ns (`core_compute_ns`: its crossbar reads and ADC
   conversions, neuron updates, spikes and writes of the tick, priced for its kind of core
   by `neurocore.cost.ops`), then injects all its packets of the tick at once.
2. A packet from a to b follows the dimension-order route (X first, then Y). On each hop
   it waits for the directed link (a simpy Resource of capacity 1, first come first
   served), holds it 1 / link_bandwidth ns, then spends hop_latency_ns in the next
   router's pipeline. A packet to its own core (0 hops) is delivered when sent.
3. Tick time = max(last core's compute end, last packet's delivery) + the chip's barrier for the
   tiles in use (`OpCosts.barrier`).

Example: 2x1 mesh, 3 packets 0 -> 1, bandwidth 1 packet/ns, hop latency 2 ns, no
compute: the link carries them in [0,1], [1,2], [2,3]; the last reaches core 1 at 3 + 2 = 5 ns.

Cost of the replay is one simpy process per *train*: `chunk` packets of one flow
(src, dst, tick) that move together. A train of n packets holds each link n / bandwidth
ns and its head moves on to the next link after 1 / bandwidth + hop_latency_ns (virtual
cut-through), so with no contention its last packet lands exactly when n single packets
would: (n - 1 + hops) / bandwidth + hops x hop_latency_ns. `chunk = 1` is the exact
packet-level replay; by default `chunk` grows only when the replay would exceed
`max_trains` simpy processes, and the result records the chunk used. Under contention
trains are an approximation (a train holds a link for its whole length, where single
packets of different flows would interleave). Ticks with identical traffic and compute
are replayed once. simpy handles about 1e5 events per second and a packet costs about
three events per hop, so the default `max_trains = 20_000` keeps a replay to seconds.

When the per-tick arrays sum each tick of a sample over the run's samples (the engine's
`traffic="per_tick"` layout: ticks / samples rows), the replay is of the mean sample: row t
divided by the number of samples (fractional packets ride as a last, shorter train), marked
`averaged = "samples"`. Without `traffic_per_tick`, one mean tick (traffic / ticks) is
replayed as one train per flow, marked `averaged = "ticks"`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np

from ..chip import Chip
from .counters import as_arrays, check_counters, tick_layout
from .mesh import _check_square, links, route
from .ops import core_compute_ns, tiles_in_use

TIMING_SAMPLES = 20   # samples the commands replay for tick latency (energy counts every sample)
SUMMARY_TRAINS = 2000  # simpy trains per replayed sample in the commands' summaries


@dataclass(frozen=True)
class TimingResult:
    """Per-tick latency, link use and deadline misses of a replay."""

    tick_ns: np.ndarray          # (T,) barrier time of each tick
    compute_ns: np.ndarray       # (T,) slowest core's compute time
    network_ns: np.ndarray       # (T,) last packet delivery (0 if the tick sends nothing)
    links: tuple                 # directed links (from core, to core), index order of the arrays below
    link_busy_ns: np.ndarray     # (L,) time each link spent sending, over all ticks
    link_packets: np.ndarray     # (L,) packets each link carried, over all ticks
    deadline_ns: float           # the chip's tick_ns
    chunk: float                 # packets per simpy train (1 = exact packet-level replay)
    averaged: str = ""           # "": every tick; "samples": the mean sample; "ticks": one mean tick
    tick_index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # run tick of each row
    samples: int = 1             # samples replayed (replay_samples joins several)

    @property
    def total_ns(self) -> float:
        """Sum of the tick times."""
        return float(self.tick_ns.sum())

    @property
    def mean_tick_ns(self) -> float:
        return float(self.tick_ns.mean()) if len(self.tick_ns) else 0.0

    @property
    def link_utilisation(self) -> np.ndarray:
        """(L,) fraction of the replayed time each link was busy."""
        total = self.total_ns
        return self.link_busy_ns / total if total > 0 else np.zeros_like(self.link_busy_ns)

    @property
    def missed_ticks(self) -> np.ndarray:
        """Run tick numbers whose barrier time exceeds the deadline."""
        return self.tick_index[self.tick_ns > self.deadline_ns]

    def summary(self, prefix: str = "") -> dict[str, float]:
        """Flat metrics: tick time mean/max/p99, misses, link utilisation max/mean."""
        util = self.link_utilisation
        t = self.tick_ns
        p = prefix
        return {
            f"{p}tick_ns_mean": self.mean_tick_ns,
            f"{p}tick_ns_max": float(t.max()) if len(t) else 0.0,
            f"{p}tick_ns_p99": float(np.percentile(t, 99)) if len(t) else 0.0,
            f"{p}compute_ns_mean": float(self.compute_ns.mean()) if len(t) else 0.0,
            f"{p}network_ns_mean": float(self.network_ns.mean()) if len(t) else 0.0,
            f"{p}missed_ticks": int(len(self.missed_ticks)),
            f"{p}missed_fraction": float(len(self.missed_ticks) / len(t)) if len(t) else 0.0,
            f"{p}link_util_max": float(util.max()) if len(util) else 0.0,
            f"{p}link_util_mean": float(util.mean()) if len(util) else 0.0,
        }


def replay(chip: Chip, counters: Mapping, ticks: slice | np.ndarray | None = None,
           chunk: float | None = None, max_trains: int = 20_000) -> TimingResult:
    """Replay the run's per-tick traffic on `chip`'s mesh (see the module doc for the model).

    `ticks` selects rows of `traffic_per_tick` (default all). `chunk` forces the packets
    per train (1 = exact); by default it is 1 unless that needs more than `max_trains`.
    """
    counters = as_arrays(counters, chip)
    per_tick = counters.get("traffic_per_tick")
    if per_tick is None:
        check_counters(counters, chip, need=("ticks", "traffic"))
        traffic = np.asarray(counters["traffic"], dtype=np.float64)[None] / int(counters["ticks"])
        compute = core_compute_ns(chip, counters)[None]
        index = np.zeros(1, np.int64)
        averaged = "ticks"
    else:
        traffic = np.asarray(per_tick)
        _check_square(chip, traffic, "traffic_per_tick")
        check_counters(counters, chip, need=("ticks", "samples"))
        _, summed = tick_layout(counters)
        if summed > 1:
            traffic = traffic / summed
        compute = core_compute_ns(chip, counters, per_tick=True)
        index = np.arange(len(traffic))
        if ticks is not None:
            traffic, compute, index = traffic[ticks], compute[ticks], index[ticks]
        averaged = "samples" if summed > 1 else ""
    barrier = chip.costs.barrier(tiles_in_use(chip, counters))
    if chunk is None:
        # one mean tick: one train per flow, as its fractional packets only make sense as trains
        chunk = math.inf if averaged == "ticks" else max(1.0, math.ceil(float(traffic.sum()) / max_trains))
    return _replay(chip, traffic, compute, index, float(chunk), averaged, barrier)


def replay_samples(chip: Chip, per_sample: Iterable[Mapping], max_trains: int = SUMMARY_TRAINS) -> TimingResult:
    """Replay several samples, each from its own per-tick counters (e.g. the `RunResult.counters`
    of one-sample `Engine.run(..., traffic="per_tick")` calls), and join their ticks: the mean,
    the worst tick and the misses are over every replayed tick of every sample."""
    parts = [replay(chip, c, max_trains=max_trains) for c in per_sample]
    if not parts:
        raise ValueError("replay_samples needs the counters of at least one sample")
    offsets = np.cumsum([0] + [len(t.tick_ns) for t in parts[:-1]])
    return TimingResult(
        tick_ns=np.concatenate([t.tick_ns for t in parts]),
        compute_ns=np.concatenate([t.compute_ns for t in parts]),
        network_ns=np.concatenate([t.network_ns for t in parts]),
        links=parts[0].links,
        link_busy_ns=np.sum([t.link_busy_ns for t in parts], axis=0),
        link_packets=np.sum([t.link_packets for t in parts], axis=0),
        deadline_ns=parts[0].deadline_ns, chunk=max(t.chunk for t in parts),
        averaged=parts[0].averaged if len({t.averaged for t in parts}) == 1 else "mixed",
        tick_index=np.concatenate([t.tick_index + o for t, o in zip(parts, offsets)]),
        samples=sum(t.samples for t in parts))


def replay_traffic(chip: Chip, traffic_per_tick: np.ndarray, compute_ns: np.ndarray | None = None,
                   chunk: float = 1.0) -> TimingResult:
    """Replay hand-made traffic: (T, n, n) packets src -> dst per tick, optional (T, n) compute ns."""
    traffic = np.asarray(traffic_per_tick)
    if traffic.ndim == 2:
        traffic = traffic[None]
    _check_square(chip, traffic, "traffic_per_tick")
    compute = np.zeros(traffic.shape[:2]) if compute_ns is None else np.asarray(compute_ns, np.float64)
    if compute.ndim == 1:
        compute = compute[None]
    if compute.shape != traffic.shape[:2]:
        raise ValueError(f"compute_ns has shape {compute.shape}; expected {traffic.shape[:2]}")
    return _replay(chip, traffic, compute, np.arange(len(traffic)), float(chunk), "")


def _replay(chip: Chip, traffic: np.ndarray, compute: np.ndarray, index: np.ndarray,
            chunk: float, averaged: str, barrier: float = 0.0) -> TimingResult:
    import simpy  # heavy import kept here

    n_links = len(links(chip))
    routes: dict[tuple[int, int], list[int]] = {}
    T = len(traffic)
    tick_ns, comp_ns, net_ns = np.zeros(T), np.zeros(T), np.zeros(T)
    busy, packets = np.zeros(n_links), np.zeros(n_links)
    seen: dict[bytes, tuple[float, float, dict, dict]] = {}
    r = chip.router
    for t in range(T):
        key = traffic[t].tobytes() + compute[t].tobytes()
        if key not in seen:
            seen[key] = _tick(simpy, chip, traffic[t], compute[t], routes, r.link_bandwidth,
                              r.hop_latency_ns, chunk)
        net, comp, b, p = seen[key]
        comp_ns[t], net_ns[t], tick_ns[t] = comp, net, max(comp, net) + barrier
        for lid, v in b.items():
            busy[lid] += v
        for lid, v in p.items():
            packets[lid] += v
    return TimingResult(tick_ns, comp_ns, net_ns, links(chip), busy, packets, float(r.tick_ns),
                        chunk, averaged, index)


def _tick(simpy, chip: Chip, traffic: np.ndarray, compute: np.ndarray, routes: dict,
          bw: float, hop_ns: float, chunk: float) -> tuple[float, float, dict, dict]:
    """(last delivery, slowest compute, link busy ns, link packets) of one tick."""
    env = simpy.Environment()
    res: dict[int, object] = {}
    busy: dict[int, float] = {}
    pk: dict[int, float] = {}
    last = [0.0]

    def train(start, path, size):
        if start > 0:
            yield env.timeout(start)
        hold = size / bw
        step = 1.0 / bw
        last_k = len(path) - 1
        for k, lid in enumerate(path):
            link = res.get(lid)
            if link is None:
                link = res[lid] = simpy.Resource(env, capacity=1)
            req = link.request()
            yield req
            busy[lid] = busy.get(lid, 0.0) + hold
            pk[lid] = pk.get(lid, 0.0) + size
            if hold <= step or k == last_k:
                # single packet, or the last link: hold it, let go, then the router pipeline
                yield env.timeout(hold)
                link.release(req)
                yield env.timeout(hop_ns)
            else:
                # a train's head moves on after one packet time while its tail still holds the link
                env.timeout(hold).callbacks.append(lambda _ev, link=link, req=req: link.release(req))
                yield env.timeout(step + hop_ns)
        last[0] = max(last[0], env.now)

    # trains of all flows interleave round-robin: every flow's first train, then the seconds...
    flows = []
    for s, d in zip(*np.nonzero(traffic)):
        s, d = int(s), int(d)
        if s == d:
            last[0] = max(last[0], float(compute[s]))
            continue
        path = routes.get((s, d))
        if path is None:
            path = routes[(s, d)] = route(chip, s, d)
        n = float(traffic[s, d])
        sizes = [n] if math.isinf(chunk) or n <= chunk else [chunk] * int(n // chunk) + (
            [n - chunk * int(n // chunk)] if n % chunk else [])
        flows.append((float(compute[s]), path, sizes))
    depth = max((len(f[2]) for f in flows), default=0)
    for i in range(depth):
        for start, path, sizes in flows:
            if i < len(sizes):
                env.process(train(start, path, sizes[i]))
    env.run()
    return last[0], float(compute.max()) if compute.size else 0.0, busy, pk
