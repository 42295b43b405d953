"""Hardware event counters of engine runs: the arrays the kernel adds to, and the plain dict
the cost model and the traces read (`Counters.to_dict`).

Every count is per run (summed over its samples). Crossbar operations are counted as an
analogue array performs them: a row-parallel read per read slot and tick with a driven row
(a crossbar tile is one slot; a kernel tile one per output position), a transposed read per
tile and tick with a driven column, a parallel write cycle per tile and tick with a pulse.
With per-tick counting, the per-tick arrays have one row per tick of a sample, summed over
the samples of the run.
"""

from __future__ import annotations

import math

import numpy as np

from .compiled import Compiled
from .cycles import PHASES
from .records import CounterArrays

i64 = np.int64
SYNAPSE_KINDS = ("dense", "sparse", "conv")  # codes of `tile_conn` (neurocore.cost.counters.CONN_KINDS)


class Layout:
    """Where each counter array of a compiled chip sits in one flat int64 buffer, so that a run's
    counters are one allocation, one add and one copy."""

    def __init__(self, c: Compiled, ticks_per_sample: int = 0, per_tick: bool = False, profile: bool = False):
        T = ticks_per_sample if per_tick else 0
        nc, nt, nu = c.n_cores, c.n_tiles, len(c.ports)  # traffic over the cores packets use (Routes.port)
        self.per_tick = bool(per_tick)
        self.shapes = [(6,), (len(c.pop_names),), (nc,), (nc,), (nt,), (nu, nu), (c.n_slots,), (nt,), (nt,), None,
                       (T, nu, nu), (T, nc), (T, nc), (T, nt), (T, nt), (T, nt), (T, nt), (nc,), (nc,), (nt,),
                       (T, nc), (T, nc), (len(PHASES) if profile else 0,)]
        self.bounds, o = [], 0
        for sh in self.shapes:
            n = math.prod(sh) if sh is not None else 0
            self.bounds.append((o, o + n))
            o += n
        self.size = o

    def carve(self, buf: np.ndarray) -> CounterArrays:
        """The counter arrays as views of `buf` (size `self.size`)."""
        return CounterArrays(*(self.per_tick if sh is None else buf[a:b].reshape(sh)
                               for sh, (a, b) in zip(self.shapes, self.bounds)))

    def zeros(self) -> CounterArrays:
        return self.carve(np.zeros(self.size, i64))


def new_counters(c: Compiled, ticks_per_sample: int = 0, per_tick: bool = False,
                 profile: bool = False) -> CounterArrays:
    """Zeroed counter arrays for a compiled chip (with `profile`, per-phase cycle counts too)."""
    return Layout(c, ticks_per_sample, per_tick, profile).zeros()


def add_counters(mine: CounterArrays, theirs: CounterArrays) -> None:
    """mine += theirs, array by array."""
    for x, y in zip(mine, theirs):
        if isinstance(x, np.ndarray) and x.size:
            x += y


def chip_traffic(c: Compiled, traffic: np.ndarray) -> np.ndarray:
    """Traffic counted over the used cores (last two axes, Routes.port) as (..., cores, cores) of the chip."""
    u = c.ports
    out = np.zeros(traffic.shape[:-2] + (c.n_cores, c.n_cores), i64)
    out[..., u[:, None], u[None, :]] = traffic
    return out


def counters_dict(c: Compiled, samples: int, ticks: int, arrays: CounterArrays) -> dict:
    """The counters as plain values (copies): the contract of the cost model and the traces."""
    a = arrays
    n_cores = c.n_cores
    t_core = c.tiles.core

    def per_core(tile_counts: np.ndarray) -> np.ndarray:
        return np.bincount(t_core, weights=tile_counts, minlength=n_cores).astype(i64)

    slot_tile = c.routes.slot_tile
    tile_rd = np.bincount(slot_tile, weights=a.slot_rd, minlength=c.n_tiles).astype(i64)
    s = a.scalar
    projs = c.placement.netlist.projections
    d = {
        "samples": samples, "ticks": ticks,
        "syn_events": int(s[0]), "neuron_updates": int(s[1]), "packets": int(s[2]),
        "packet_hops": int(s[3]), "write_pulses": int(s[4]), "adc_conversions": int(s[5]),
        "spikes": int(a.pop_spikes.sum()),
        "pop_spikes": {p: int(x) for p, x in zip(c.pop_names, a.pop_spikes)},
        "core_syn_events": a.core_syn.copy(), "core_spikes": a.core_spk.copy(),
        "core_write_pulses": per_core(a.tile_wr), "tile_write_pulses": a.tile_wr.copy(),
        "core_neuron_updates": c.core_neurons * ticks, "traffic": chip_traffic(c, a.traffic),
        "crossbar_reads": int(a.slot_rd.sum()), "crossbar_col_reads": int(a.tile_crd.sum()),
        "write_cycles": int(a.tile_wc.sum()),
        "tile_reads": tile_rd, "tile_col_reads": a.tile_crd.copy(), "tile_write_cycles": a.tile_wc.copy(),
        "core_crossbar_reads": per_core(tile_rd), "core_crossbar_col_reads": per_core(a.tile_crd),
        "core_write_cycles": per_core(a.tile_wc),
        "core_active_updates": a.core_act.copy(), "active_updates": int(a.core_act.sum()),
        "core_source_spikes": a.core_src_spk.copy(), "source_spikes": int(a.core_src_spk.sum()),
        "tile_syn_events": a.tile_syn.copy(),
        "tile_core": np.asarray(t_core, i64).copy(),
        "tile_conn": np.array([SYNAPSE_KINDS.index(projs[p].synapse_kind) for p in c.tile_proj], i64),
        "core_mapped": np.bincount(c.neurons.core_of, minlength=n_cores).astype(i64),
    }
    if a.per_tick:
        d["traffic_per_tick"] = chip_traffic(c, a.traffic_t)
        d["core_syn_events_per_tick"] = a.core_syn_t.copy()
        d["core_spikes_per_tick"] = a.core_spk_t.copy()
        d["tile_reads_per_tick"] = a.tile_rd_t.copy()
        d["tile_col_reads_per_tick"] = a.tile_crd_t.copy()
        d["tile_write_pulses_per_tick"] = a.tile_wr_t.copy()
        d["tile_write_cycles_per_tick"] = a.tile_wc_t.copy()
        d["core_active_updates_per_tick"] = a.core_act_t.copy()
        d["core_source_spikes_per_tick"] = a.core_src_spk_t.copy()
    return d


class Counters:
    """Counters accumulated over the runs of one engine since its last reset."""

    def __init__(self, c: Compiled, ticks_per_sample: int = 0, per_tick: bool = False, profile: bool = False):
        self.compiled = c
        self.ticks_per_sample = ticks_per_sample
        self.profile = profile
        self.layout = Layout(c, ticks_per_sample, per_tick, profile)
        self._buf = np.zeros(self.layout.size, i64)
        self.arrays = self.layout.carve(self._buf)
        self._run_buf = np.zeros(self.layout.size, i64)
        self._run = self.layout.carve(self._run_buf)
        self.samples = 0
        self.ticks = 0

    @property
    def per_tick(self) -> bool:
        return self.arrays.per_tick

    def fresh(self) -> CounterArrays:
        """Zeroed arrays of the same layout, for one run (or one thread of it)."""
        return self.layout.zeros()

    def run_arrays(self) -> CounterArrays:
        """The zeroed arrays of the next single-threaded run (reused from run to run: `add` them, then
        `snapshot` them if they must outlive the next run)."""
        self._run_buf[:] = 0
        return self._run

    def snapshot(self, run: CounterArrays) -> "Snapshot":
        """A copy of a run's arrays (from `run_arrays` or `fresh`), carved again only when read."""
        return Snapshot(self.layout, run)

    def add(self, run: CounterArrays, samples: int, ticks: int) -> None:
        if run is self._run:
            self._buf += self._run_buf
        else:
            add_counters(self.arrays, run)
        self.samples += samples
        self.ticks += ticks

    def to_dict(self) -> dict:
        d = counters_dict(self.compiled, self.samples, self.ticks, self.arrays)
        if self.profile:
            d["phase_cycles"] = dict(zip(PHASES, self.arrays.phase_cycles.tolist()))
        return d

    def state(self) -> dict[str, np.ndarray]:
        """The summed counters as named arrays (for checkpoints; the per-tick views are left out)."""
        out = {name: a.copy() for name, a in zip(CounterArrays._fields, self.arrays)
               if isinstance(a, np.ndarray) and not name.endswith("_t") and name != "phase_cycles"}
        out["traffic"] = chip_traffic(self.compiled, self.arrays.traffic)  # the chip's (cores, cores), as before
        return {**out, "samples": np.int64(self.samples), "ticks": np.int64(self.ticks)}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Continue from what `state()` returned (summed counters; the per-tick views start from zero)."""
        self._buf[:] = 0
        u = self.compiled.ports
        for name, a in zip(CounterArrays._fields, self.arrays):
            if name == "traffic" and name in state:
                a[...] = np.asarray(state[name])[u[:, None], u[None, :]]
            elif name in state:
                a[...] = state[name]
        self.samples, self.ticks = int(state["samples"]), int(state["ticks"])


class Snapshot:
    """A run's counter arrays, copied as one buffer; `arrays()` carves them."""

    def __init__(self, layout: Layout, run: CounterArrays):
        self.layout = layout
        base = run.scalar.base
        self.buf = base.copy() if base is not None and base.size == layout.size else None
        self.run = None if self.buf is not None else run

    def arrays(self) -> CounterArrays:
        return self.layout.carve(self.buf) if self.buf is not None else self.run
