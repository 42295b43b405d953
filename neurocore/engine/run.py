"""The engine's Python face: owns the chip state (device weights), runs batches of samples.

`Engine(placement, seed)` compiles the placement once; `Engine.run(drive, ticks, ...)`
runs a batch of samples in one compiled call and returns spike counts of chosen
populations, optional spike events and probes, and the counters of that call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from ..crossbar.devices import draw_devices
from ..crossbar.kernels import MODEL_IDS
from ..devices import DeviceSpec, ReadSpec
from ..errors import ConfigError
from ..mapping import Placement
from ..spikegen import PROFILES
from . import kernel as K
from .compiled import Compiled, compile_placement

LEARN_MODES = {"off": K.LEARN_OFF, "coincidence": K.LEARN_COINCIDENCE, "rate": K.LEARN_RATE,
               "rate_noise": K.LEARN_RATE_NOISE}


@dataclass
class SourceDrive:
    """Per-sample spike probability per tick of every source neuron.

    `rates[pop]` is (samples, size); `profile[pop]` is "flat" (constant) or
    "frontloaded" (falling linearly over the sample, same mean). Missing sources stay silent.
    """

    rates: dict[str, np.ndarray]
    profile: dict[str, str] = field(default_factory=dict)

    @property
    def samples(self) -> int:
        return next(iter(self.rates.values())).shape[0] if self.rates else 0


@dataclass
class SpikeDrive:
    """Explicit input spikes: `spikes[pop]` is bool (samples, ticks, *shape of pop) (or (samples, ticks,
    size)); spike at [b, t, j] means source neuron j of sample b fires at tick t. Missing sources stay
    silent."""

    spikes: dict[str, np.ndarray]

    @property
    def samples(self) -> int:
        return next(iter(self.spikes.values())).shape[0] if self.spikes else 0


@dataclass
class Counters:
    """Hardware event counts accumulated over runs (always on)."""

    n_pops: int
    n_cores: int
    n_tiles: int
    ticks_per_sample: int = 0
    per_tick: bool = False
    samples: int = 0
    ticks: int = 0
    scalar: np.ndarray = field(default=None)  # syn, upd, packets, hops, writes, adc
    pop_spikes: np.ndarray = field(default=None)
    core_syn: np.ndarray = field(default=None)
    core_spk: np.ndarray = field(default=None)
    tile_wr: np.ndarray = field(default=None)
    traffic: np.ndarray = field(default=None)
    traffic_t: np.ndarray = field(default=None)
    core_syn_t: np.ndarray = field(default=None)
    tile_rd: np.ndarray = field(default=None)  # row-parallel forward reads (tile-ticks with a driven row)
    tile_crd: np.ndarray = field(default=None)  # transposed reads (tile-ticks with a driven column)
    tile_wc: np.ndarray = field(default=None)  # parallel write cycles (tile-ticks with a pulse)
    core_spk_t: np.ndarray = field(default=None)
    tile_rd_t: np.ndarray = field(default=None)
    tile_crd_t: np.ndarray = field(default=None)
    tile_wr_t: np.ndarray = field(default=None)
    tile_wc_t: np.ndarray = field(default=None)

    def __post_init__(self) -> None:
        z = np.zeros
        self.scalar = z(6, np.int64)
        self.pop_spikes = z(self.n_pops, np.int64)
        self.core_syn, self.core_spk = z(self.n_cores, np.int64), z(self.n_cores, np.int64)
        self.tile_wr = z(self.n_tiles, np.int64)
        self.traffic = z((self.n_cores, self.n_cores), np.int64)
        shape_t = (self.ticks_per_sample if self.per_tick else 0, self.n_cores)
        self.traffic_t = z(shape_t + (self.n_cores,), np.int64)
        self.core_syn_t = z(shape_t, np.int64)
        self.tile_rd, self.tile_crd, self.tile_wc = (z(self.n_tiles, np.int64) for _ in range(3))
        self.core_spk_t = z(shape_t, np.int64)
        tile_t = (shape_t[0], self.n_tiles)
        self.tile_rd_t, self.tile_crd_t, self.tile_wr_t, self.tile_wc_t = (z(tile_t, np.int64) for _ in range(4))

    def raw(self) -> tuple:
        """The counter arrays, in the order `counters_dict` takes them."""
        return (self.scalar, self.pop_spikes, self.core_syn, self.core_spk, self.tile_wr, self.traffic,
                self.traffic_t, self.core_syn_t, self.tile_rd, self.tile_crd, self.tile_wc, self.core_spk_t,
                self.tile_rd_t, self.tile_crd_t, self.tile_wr_t, self.tile_wc_t)

    def add(self, other: "Counters") -> None:
        for mine, theirs in zip(self.raw(), other.raw()):
            mine += theirs

    def to_dict(self, compiled: Compiled) -> dict:
        """The counters as plain values (copies; the contract of the cost model and the traces)."""
        return counters_dict(compiled, self.samples, self.ticks, tuple(a.copy() for a in self.raw()),
                             self.per_tick)


def counters_dict(compiled: Compiled, samples: int, ticks: int, arrays: tuple, per_tick: bool) -> dict:
    """Plain counters from raw arrays (as `Counters.arrays` returns them, or differences of them)."""
    (s, pop, core_syn, core_spk, tile_wr, traffic, traffic_t, core_syn_t, tile_rd, tile_crd, tile_wc, core_spk_t,
     tile_rd_t, tile_crd_t, tile_wr_t, tile_wc_t) = arrays
    n_cores = len(core_syn)

    def per_core(tile_counts: np.ndarray) -> np.ndarray:
        return np.bincount(compiled.t_core, weights=tile_counts, minlength=n_cores).astype(np.int64)

    core_wr = per_core(tile_wr)
    d = {
        "samples": samples, "ticks": ticks,
        "syn_events": int(s[0]), "neuron_updates": int(s[1]), "packets": int(s[2]),
        "packet_hops": int(s[3]), "write_pulses": int(s[4]), "adc_conversions": int(s[5]),
        "spikes": int(pop.sum()),
        "pop_spikes": {p: int(x) for p, x in zip(compiled.pop_names, pop)},
        "core_syn_events": core_syn, "core_spikes": core_spk, "core_write_pulses": core_wr,
        "tile_write_pulses": tile_wr,
        "core_neuron_updates": compiled.core_neurons * ticks, "traffic": traffic,
        # crossbar operations as an analogue array performs them (the cost model decides per core kind)
        "crossbar_reads": int(tile_rd.sum()), "crossbar_col_reads": int(tile_crd.sum()),
        "write_cycles": int(tile_wc.sum()),
        "tile_reads": tile_rd, "tile_col_reads": tile_crd, "tile_write_cycles": tile_wc,
        "core_crossbar_reads": per_core(tile_rd), "core_crossbar_col_reads": per_core(tile_crd),
        "core_write_cycles": per_core(tile_wc),
    }
    if per_tick:
        d["traffic_per_tick"] = traffic_t
        d["core_syn_events_per_tick"] = core_syn_t
        d["core_spikes_per_tick"] = core_spk_t
        d["tile_reads_per_tick"] = tile_rd_t
        d["tile_col_reads_per_tick"] = tile_crd_t
        d["tile_write_pulses_per_tick"] = tile_wr_t
        d["tile_write_cycles_per_tick"] = tile_wc_t
    return d


@dataclass
class RunResult:
    """What one `Engine.run` call returns."""

    compiled: Compiled
    counts: dict[str, np.ndarray]  # population -> (samples, size) spike counts
    events: np.ndarray | None  # (n, 3) int32 rows of (sample, tick, gid) when recorded
    probe_v: np.ndarray | None
    probe_i: np.ndarray | None
    counters: dict

    def spikes_by_population(self, sample: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Every population's (ticks, neuron indices) of one sample, split in one pass (int32)."""
        c = self.compiled
        bounds, ticks, neurons = K.group_events(self._sample_events(sample), c.pop_of, c.local_of,
                                                len(c.pop_names))
        return {name: (ticks[bounds[k]:bounds[k + 1]], neurons[bounds[k]:bounds[k + 1]])
                for k, name in enumerate(c.pop_names)}

    def _sample_events(self, sample: int) -> np.ndarray:
        if self.events is None:
            raise ConfigError("spike events were not recorded: run with record=True")
        ev = self.events
        if len(ev) and ev[0, 0] == sample and ev[-1, 0] == sample:
            return ev
        return ev[ev[:, 0] == sample]

    def spikes(self, population: str, sample: int) -> tuple[np.ndarray, np.ndarray]:
        """(ticks, neuron indices) of one population's spikes in one sample (needs record=True),
        in emission order: ticks ascending."""
        c = self.compiled
        ev = self._sample_events(sample)
        g = ev[:, 2]
        sel = c.pop_of[g] == c.pop_names.index(population)
        return ev[sel, 1], c.local_of[g[sel]]


class Engine:
    """A mapped netlist loaded onto the simulated chip, ready to run."""

    def __init__(self, placement: Placement, seed: int = 0, device: DeviceSpec | None = None,
                 read: ReadSpec | None = None):
        self.placement = placement
        self.c = compile_placement(placement)
        self.seed = int(seed)
        chip = placement.chip
        self.device = device or chip.device
        self.read = read or chip.read
        rng = np.random.default_rng([self.seed, 0xC0FFEE])
        self.dev = draw_devices(self.device, (len(self.c.weights),), rng)
        # Only plastic tiles are bounded RPU devices; static tiles hold their programmed values.
        self._plastic = np.zeros(len(self.c.weights), bool)
        net = placement.netlist
        for k in np.nonzero(self.c.t_learn)[0]:
            sl = self.c.tile_slice(k)
            self._plastic[sl] = True
            scale = np.float32(net.projections[self.c.t_proj[k]].plastic.step_scale)
            self.dev.dw_up[sl] *= scale
            self.dev.dw_down[sl] *= scale
        self._clip_plastic()
        p = chip.precision
        self._qscale = np.zeros(len(self.c.t_core), np.float32)
        self._qweights = np.zeros(len(self.c.weights) if p.static_weight_bits else 0, np.int16)
        if p.static_weight_bits:
            for k in np.nonzero(self.c.t_learn == 0)[0]:
                self._quantize_tile(k)
        if p.state == "fixed":
            scale = float(2 ** p.frac_bits)
            self._fx = (scale, (2 ** (p.v_bits - 1) - 1) / scale, (2 ** (p.i_bits - 1) - 1) / scale)
        else:
            self._fx = (0.0, 0.0, 0.0)
        self._counters: Counters | None = None
        self._rec_buf = np.empty((0, 3), np.int32)
        self._shadow: np.ndarray | None = None  # sample-start copy of the weights (defer_writes)

    def _quantize_tile(self, k: int) -> None:
        """Store static tile k as int16 with a power-of-two scale (dyadic weights stay exact)."""
        sl = self.c.tile_slice(k)
        w = self.c.weights[sl]
        peak = float(np.abs(w).max()) if w.size else 0.0
        scale = 2.0 ** np.ceil(np.log2(peak / 32767.0)) if peak > 0 else 1.0
        self._qweights[sl] = np.clip(np.round(w / scale), -32767, 32767).astype(np.int16)
        self._qscale[k] = scale
        self.c.weights[sl] = self._qweights[sl] * np.float32(scale)  # what the chip holds

    # -- weights -----------------------------------------------------------------------
    def weights(self, projection: str) -> np.ndarray:
        """The device weights of a projection, reassembled as (pre, post)."""
        net = self.placement.netlist
        proj = net.projections[projection]
        out = np.zeros((net.populations[proj.pre].size, net.populations[proj.post].size), np.float32)
        for k, t in enumerate(self.placement.tiles):
            if t.projection == projection:
                s = self.placement.slices[t.slice]
                out[t.row_start:t.row_stop, s.start:s.stop] = self.c.tile_block(k)
        return out

    def set_weights(self, projection: str, w: np.ndarray) -> None:
        """Write a (pre, post) matrix into a projection's tiles (plastic ones clipped to device bounds)."""
        for k, t in enumerate(self.placement.tiles):
            if t.projection == projection:
                s = self.placement.slices[t.slice]
                blk = self.c.tile_block(k)
                blk[:] = w[t.row_start:t.row_stop, s.start:s.stop]
                if self._qscale[k] > 0:
                    self._quantize_tile(k)
        self._clip_plastic()

    def _clip_plastic(self) -> None:
        m = self._plastic
        if m.any():
            self.c.weights[m] = np.clip(self.c.weights[m], self.dev.w_min[m], self.dev.w_max[m])

    # -- counters ----------------------------------------------------------------------
    def reset_counters(self, ticks: int = 0, per_tick: bool = False) -> None:
        self._counters = Counters(len(self.c.pop_names), self.c.n_cores, len(self.c.t_core), ticks, per_tick)

    def counters(self) -> dict:
        """Counters accumulated since the last reset."""
        if self._counters is None:
            self.reset_counters()
        return self._counters.to_dict(self.c)

    # -- running -----------------------------------------------------------------------
    def run(self, drive: SourceDrive | SpikeDrive, ticks: int, *, sample_ids: Iterable[int] | None = None,
            learn: str = "off", dropout: bool = False, noise_scale: float = 0.0, learn_start: int = 0,
            defer_writes: bool = False, readout: Iterable[str] = (), record: bool = False, probes: bool = False,
            traffic: str = "sum") -> RunResult:
        """Run every sample of `drive` for `ticks` ticks in one compiled call.

        Learning pulses (row and column) count from tick `learn_start` on: the crossbar's
        write enable, so that writes can wait for the network to settle. With `defer_writes`,
        neurons read every plastic crossbar as it was when the sample began, so pulse writes
        take effect from the next sample on (a write-back buffer per crossbar)."""
        c = self.c
        if learn not in LEARN_MODES:
            raise ConfigError(f"learn = {learn!r}: must be one of {', '.join(LEARN_MODES)}")
        if traffic not in ("sum", "per_tick"):
            raise ConfigError(f"traffic = {traffic!r}: must be 'sum' or 'per_tick'")
        if not isinstance(ticks, (int, np.integer)) or ticks < 1:
            raise ConfigError(f"ticks = {ticks!r}: must be an integer >= 1")
        n_samples = drive.samples
        ids = np.arange(n_samples) if sample_ids is None else np.asarray(list(sample_ids), np.int64)
        explicit = isinstance(drive, SpikeDrive)
        if explicit:
            ev_ptr, ev_src = self._spike_events(drive, n_samples, ticks)
            src_p, src_prof = np.zeros((n_samples, len(c.src_gid)), np.float32), np.zeros(len(c.src_gid), np.int64)
        else:
            ev_ptr, ev_src = np.zeros(1, np.int64), np.zeros(0, np.int64)
            src_p, src_prof = self._source_arrays(drive, n_samples)
        per_tick = traffic == "per_tick"
        if (self._counters is None or (per_tick and (not self._counters.per_tick
                                                      or self._counters.ticks_per_sample != ticks))):
            self.reset_counters(ticks, per_tick)
        cnt = self._counters
        fresh = Counters(cnt.n_pops, cnt.n_cores, cnt.n_tiles, cnt.ticks_per_sample, cnt.per_tick)  # this call's counts
        readout = list(readout)
        read_idx = np.full(c.n, -1, np.int64)
        off = 0
        for p in readout:
            g = c.gid[p]
            read_idx[g] = off + np.arange(len(g))
            off += len(g)
        out_counts = np.zeros((n_samples, off), np.int32)
        n_probe = len(c.probe_gid) if probes else 0
        pv = np.zeros((n_samples, ticks, n_probe), np.float32)
        pi = np.zeros_like(pv)
        rec_cap = n_samples * ticks * c.n if record else 0
        if self._rec_buf.shape[0] < rec_cap:  # reused: a fresh large buffer per sample costs more than the run
            self._rec_buf = np.empty((rec_cap, 3), np.int32)
        rec_buf = self._rec_buf
        d, r = self.dev, self.read
        rweights = c.weights
        if defer_writes:
            if self._shadow is None:
                self._shadow = np.empty_like(c.weights)
            rweights = self._shadow
            # static tiles never change, so one copy per call serves them; the kernel
            # refreshes the plastic tiles at the start of every sample
            rweights[:] = c.weights
        n_rec, overflow = K.run_batch(
            ticks, self.seed, ids, src_p, src_prof, bool(dropout), explicit, ev_ptr, ev_src,
            c.n, c.order, c.nr_start, c.nr_stop, c.kind, c.keep_i, c.keep_v, c.in_gain, c.cur_gain, c.i_bias,
            c.theta, c.bias, c.v_reset, c.subtract, c.refrac, c.gate,
            c.drop_p, c.pop_of, c.core_of, c.src_gid, *self._fx,
            c.t_core, c.t_rows, c.t_cols, c.t_col0, c.t_woff, c.t_row0, c.t_cbuf0, c.t_gain, c.t_learn,
            c.weights, rweights, bool(defer_writes), c.syn_mask, self._qscale, self._qweights, c.sparse_plastic,
            c.fw_ptr, c.fw_tile, c.fw_row, c.fw_base, c.fw_delay,
            c.tr_ptr, c.tr_tile, c.tr_col, c.tr_sign, c.tr_rmoff, c.tr_delay, c.tr_ret, c.rowmap, c.ret_ptr,
            c.ret_dst, c.lp_ptr, c.lp_tile, c.lp_col, c.lp_up, c.lp_delay,
            c.pk_ptr, c.pk_dst, c.hops, c.max_delay,
            LEARN_MODES[learn], int(learn_start), d.dw_up, d.dw_down, d.w_max, d.w_min, MODEL_IDS[self.device.model],
            self.device.gamma_up, self.device.gamma_down, self.device.dw_min_std, float(noise_scale),
            r.is_exact, r.noise_std, r.adc_bits, r.out_bound, self.device.w_max,
            read_idx, out_counts, bool(record), rec_buf, c.probe_gid[:n_probe], pv, pi,
            fresh.scalar, fresh.pop_spikes, fresh.core_syn, fresh.core_spk, fresh.tile_wr,
            fresh.traffic, per_tick, fresh.traffic_t, fresh.core_syn_t,
            fresh.tile_rd, fresh.tile_crd, fresh.tile_wc, fresh.core_spk_t, fresh.tile_rd_t, fresh.tile_crd_t,
            fresh.tile_wr_t, fresh.tile_wc_t)
        if overflow:  # cannot happen: the buffer holds a spike of every neuron at every tick
            raise RuntimeError("spike recording buffer overflowed")
        cnt.add(fresh)
        cnt.samples += n_samples
        cnt.ticks += n_samples * ticks
        counts, o = {}, 0
        for p in readout:
            k = len(c.gid[p])
            counts[p] = out_counts[:, o:o + k]
            o += k
        delta = counters_dict(c, n_samples, n_samples * ticks, fresh.raw(), cnt.per_tick)
        return RunResult(c, counts, rec_buf[:n_rec].copy() if record else None, pv if probes else None,
                         pi if probes else None, delta)

    def _spike_events(self, drive: SpikeDrive, n_samples: int, ticks: int) -> tuple[np.ndarray, np.ndarray]:
        """The drive's spikes as events grouped by (sample, tick): (ptr, source index)."""
        c = self.c
        net = self.placement.netlist
        keys, srcs = [], []
        for pop, spikes in drive.spikes.items():
            if pop not in c.src_offset:
                raise ConfigError(f"spikes for '{pop}': not a spike-source population; sources: "
                                  f"{', '.join(c.src_offset) or 'none'}")
            p = net.populations[pop]
            a = np.asarray(spikes)
            if a.shape[:2] != (n_samples, ticks) or int(np.prod(a.shape[2:])) != p.size:
                raise ConfigError(f"spikes for '{pop}' have shape {a.shape}; expected ({n_samples}, {ticks}, "
                                  f"{', '.join(map(str, p.shape))}) (samples, ticks, neurons)")
            b, t, j = np.nonzero(a.reshape(n_samples, ticks, p.size))
            keys.append(b * ticks + t)
            srcs.append(j + c.src_offset[pop])
        key = np.concatenate(keys) if keys else np.zeros(0, np.int64)
        src = np.concatenate(srcs) if srcs else np.zeros(0, np.int64)
        order = np.argsort(key, kind="stable")
        ptr = np.zeros(n_samples * ticks + 1, np.int64)
        np.add.at(ptr, key + 1, 1)
        return np.cumsum(ptr), src[order].astype(np.int64)

    def _source_arrays(self, drive: SourceDrive, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
        c = self.c
        net = self.placement.netlist
        src_p = np.zeros((n_samples, len(c.src_gid)), np.float32)
        src_prof = np.zeros(len(c.src_gid), np.int64)
        for pop, rates in drive.rates.items():
            if pop not in c.src_offset:
                raise ConfigError(f"drive for '{pop}': not a spike-source population; sources: "
                                  f"{', '.join(c.src_offset) or 'none'}")
            size = net.populations[pop].size
            rates = np.asarray(rates, np.float32)
            if rates.shape != (n_samples, size):
                raise ConfigError(f"drive for '{pop}' has shape {rates.shape}, expected ({n_samples}, {size})")
            if rates.size and (rates.min() < 0 or rates.max() > 1):
                raise ConfigError(f"drive for '{pop}': spike probabilities must lie in [0, 1]")
            o = c.src_offset[pop]
            src_p[:, o:o + size] = rates
            prof = drive.profile.get(pop, "flat")
            if prof not in PROFILES:
                raise ConfigError(f"profile for '{pop}' = {prof!r}: must be one of {', '.join(PROFILES)}")
            src_prof[o:o + size] = PROFILES[prof]
        return src_p, src_prof
