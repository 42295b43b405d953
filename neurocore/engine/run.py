"""The engine's Python face: owns the chip's state (device weights, biases), runs batches of samples.

`Engine(placement, seed)` compiles the placement once; `Engine.run(drive, ticks, ...)` runs a
batch of samples in one compiled call and returns spike counts of chosen populations,
optional spike events and probes, and the counters of that call. Nothing outside the engine
touches its arrays: weights, biases and the whole state go through its methods.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Iterable

import numpy as np

from ..crossbar.kernels import decay_devices
from ..devices import DeviceSpec, ReadSpec
from ..errors import ConfigError, NeurocoreError
from ..mapping import Placement
from . import kernel as K
from . import setup as S
from .compiled import Compiled, compile_placement
from .counters import Counters, Snapshot, add_counters, counters_dict
from .drive import SourceDrive, SpikeDrive, drive_slice, inputs_for
from .memory import aligned_empty
from .records import CounterArrays, Devices, Inputs, Learning, Outputs, Weights

LEARN_MODES = {"off": K.LEARN_OFF, "coincidence": K.LEARN_COINCIDENCE, "rate": K.LEARN_RATE,
               "rate_noise": K.LEARN_RATE_NOISE}


@dataclass(frozen=True)
class RunOptions:
    """How one `Engine.run` call runs.

    learn: off, coincidence (on-chip pulses, Eq. 10), rate (Eq. 9) or rate_noise; defer_writes: neurons read every plastic
    crossbar as it was when the sample began (a write-back buffer); dropout: draw per-sample
    dropout masks; readout: populations whose spike counts are returned; record: every spike
    event; probes: v and i of the netlist's probes; traffic: "sum" or "per_tick" counters;
    threads: samples of an inference batch (learn off) run on this many threads.
    """

    learn: str = "off"
    dropout: bool = False
    noise_scale: float = 0.0
    defer_writes: bool = False
    readout: tuple[str, ...] = ()
    record: bool = False
    probes: bool = False
    traffic: str = "sum"
    threads: int = 1

    def check(self) -> None:
        if self.learn not in LEARN_MODES:
            raise ConfigError(f"learn = {self.learn!r}: must be one of {', '.join(LEARN_MODES)}")
        if self.traffic not in ("sum", "per_tick"):
            raise ConfigError(f"traffic = {self.traffic!r}: must be 'sum' or 'per_tick'")
        if not isinstance(self.threads, (int, np.integer)) or self.threads < 1:
            raise ConfigError(f"threads = {self.threads!r}: must be an integer >= 1")


_OPTIONS = frozenset(f.name for f in fields(RunOptions))


@dataclass
class RunResult:
    """What one `Engine.run` call returns; `counters` are this call's alone."""

    compiled: Compiled
    counts: dict[str, np.ndarray]  # population -> (samples, size) spike counts
    events: np.ndarray | None  # (n, 3) int32 rows of (sample, tick, gid) when recorded
    probe_v: np.ndarray | None
    probe_i: np.ndarray | None
    _arrays: CounterArrays | Snapshot | dict
    _samples: int
    _ticks: int

    @property
    def counters(self) -> dict:
        """This call's counters as plain values (built on first use: most callers never ask)."""
        if not isinstance(self._arrays, dict):
            if isinstance(self._arrays, Snapshot):
                self._arrays = self._arrays.arrays()
            self._arrays = counters_dict(self.compiled, self._samples, self._ticks, self._arrays)
        return self._arrays

    def spikes_by_population(self, sample: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Every population's (ticks, neuron indices) of one sample, split in one pass (int32)."""
        c = self.compiled
        bounds, ticks, neurons = K.group_events(self._sample_events(sample), c.neurons.pop_of, c.local_of,
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
        sel = c.neurons.pop_of[g] == c.pop_names.index(population)
        return ev[sel, 1], c.local_of[g[sel]]

    def packets(self, sample: int) -> tuple[np.ndarray, ...]:
        """AER packets of one sample (needs record=True): one per spike per destination core, as
        (tick, source core, destination core, source gid = the packet's address)."""
        c = self.compiled
        ev = self._sample_events(sample)
        g = ev[:, 2]
        rt = c.routes
        n_dst = rt.pk_ptr[g + 1] - rt.pk_ptr[g]
        rep = np.repeat(np.arange(len(g)), n_dst)
        starts = np.repeat(rt.pk_ptr[g], n_dst)
        offs = np.arange(len(rep)) - np.repeat(np.cumsum(n_dst) - n_dst, n_dst)
        return ev[rep, 1], c.neurons.core_of[g[rep]], rt.pk_dst[starts + offs], g[rep]


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
        c = self.c
        self._dev, self._steps, self._plastic, self._decays = S.draw_plastic_devices(c, placement, self.device,
                                                                                   self.seed)
        self._clip_plastic()
        p = chip.precision
        self._loihi = p.arithmetic == "loihi"
        self._qweights = S.quantised_store(c, p)
        self.weight_exp: dict[str, int] = {}  # Loihi arithmetic: each projection's weight exponent
        if p.static_weight_bits and not self._loihi:  # Loihi's 8-bit mantissas are stored below instead
            for k in np.nonzero(c.tiles.learn == 0)[0]:
                S.quantize_tile(c, self._qweights, k)
        if self._loihi:
            for name in dict.fromkeys(c.tile_proj[k] for k in np.nonzero(c.tiles.learn == 0)[0]):
                self._loihi_projection(name, float(placement.netlist.projections[name].gain))
        self._fx = S.arithmetic(p)
        self._reads = S.reads(self.read, self.device)
        self._counters: Counters | None = None
        self._profile = False  # count cycles per phase (reset_counters(profile=True))
        self._rec_buf = np.empty((0, 3), np.int32)
        self._read_idx: dict[tuple, tuple[np.ndarray, int]] = {}  # readout -> (read index per gid, width)
        self._shadow: np.ndarray | None = None  # sample-start copy of the weights (defer_writes)
        self._states: list = []  # the kernel's working state of each thread, made once, reused

    def plastic_grid(self) -> float:
        """The step of the plastic weights' grid (0: float32; see `setup.plastic_grid`)."""
        return S.plastic_grid(self.placement.chip.precision, self.device)

    def _loihi_projection(self, name: str, gain: float, synaptic: bool = False) -> None:
        self._qweights, self.weight_exp[name] = S.loihi_projection(self.c, self.placement, self._qweights, name,
                                                                   gain, synaptic)

    # -- the chip's state ---------------------------------------------------------------
    def weights(self, projection: str) -> np.ndarray:
        """The device weights of a dense projection, reassembled as (pre, post)."""
        return self._gather(projection, self.c.weights, np.float32)

    def device_values(self, projection: str, what: str) -> np.ndarray:
        """One per-device parameter of a dense projection's crossbars (a field of
        neurocore.crossbar.DeviceArrays, e.g. 'dw_up', or 'hidden' for the persistent states, or
        'symmetry_point'), reassembled as (pre, post) like `weights`."""
        if what == "symmetry_point":
            from ..crossbar.devices import DeviceArrays
            from ..crossbar.symmetry import symmetry_points
            d = self._dev
            flat = symmetry_points(self.device, DeviceArrays(d.dw_up, d.dw_down, d.w_max, d.w_min, d.g_up,
                                                             d.g_down, d.ref, *self._decays))
            return self._gather(projection, flat, np.float64)
        if what not in Devices._fields or getattr(self._dev, what).shape != self.c.weights.shape:
            raise ValueError(f"no per-device array {what!r}")
        return self._gather(projection, getattr(self._dev, what), np.float64)

    def _gather(self, projection: str, flat: np.ndarray, dtype: type) -> np.ndarray:
        net = self.placement.netlist
        proj = net.projections[projection]
        out = np.zeros((net.populations[proj.pre].size, net.populations[proj.post].size), dtype)
        for k in self.placement.tiles_of(projection):
            t = self.placement.tiles[k]
            if t.kind != "crossbar":
                raise ConfigError(f"projection '{projection}' is stored as a shared kernel, not a weight matrix")
            block = flat[self.c.tile_slice(k)].reshape(int(self.c.tiles.rows[k]), int(self.c.tiles.cols[k]))
            out[t.row_start:t.row_stop][:, self.placement.slices[t.slice].members()] = block
        return out

    def set_weights(self, projection: str, w: np.ndarray) -> None:
        """Write a (pre, post) matrix into a projection's tiles (plastic ones clipped to device bounds)."""
        for k in self.placement.tiles_of(projection):
            t = self.placement.tiles[k]
            blk = self.c.tile_block(k)
            blk[:] = w[t.row_start:t.row_stop][:, self.placement.slices[t.slice].members()]
            if self.c.tiles.qscale[k] > 0 and not self._loihi:
                S.quantize_tile(self.c, self._qweights, k)
        if self._loihi and projection in self.weight_exp:
            self._loihi_projection(projection, float(self.placement.netlist.projections[projection].gain))
        self._clip_plastic()
        self._sync_hidden()

    def bias(self, population: str) -> np.ndarray:
        """The bias of every neuron of a population (a copy)."""
        return self.c.neurons.bias[self.c.gid[population]].copy()

    def set_bias(self, population: str, values: np.ndarray | float) -> None:
        self.c.neurons.bias[self.c.gid[population]] = np.asarray(values, np.float32)

    def scale_steps(self, factor: float) -> None:
        """Every plastic device's pulse step, relative to its drawn step (e.g. a learning-rate decay)."""
        f = np.float32(factor)
        self._dev.dw_up[:] = self._steps[0] * f
        self._dev.dw_down[:] = self._steps[1] * f
        S.tile_devices(self.c, self._dev)

    def state(self) -> dict[str, np.ndarray]:
        """The chip's mutable state (device weights of every tile, neuron biases), as copies."""
        return {"weights": self.c.weights.copy(), "bias": self.c.neurons.bias.copy()}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what `state()` returned; refuses arrays of another chip mapping."""
        for key, mine in (("weights", self.c.weights), ("bias", self.c.neurons.bias)):
            a = np.asarray(state[key])
            if a.shape != mine.shape:
                raise NeurocoreError(f"state '{key}' holds {a.size} values, this chip mapping has {mine.size}: "
                                     "not the same network and chip")
            mine[:] = a
        if self._loihi:  # the state holds synaptic weights (gain folded in)
            for name in list(self.weight_exp):
                self._loihi_projection(name, 1.0, synaptic=True)
        else:
            for k in np.nonzero(self.c.tiles.qscale > 0)[0]:
                S.quantize_tile(self.c, self._qweights, k)
        self._sync_hidden()

    def _sync_hidden(self) -> None:
        """Under write noise the devices' persistent states take the weights written (aihwkit's
        set_weights); otherwise they are the weights themselves."""
        if self._dev.hidden is not self.c.weights:
            self._dev.hidden[:] = self.c.weights

    def _clip_plastic(self) -> None:
        S.clip_plastic(self.c, self._dev, self._plastic, self.plastic_grid())

    def _decay(self) -> None:
        """Decay and diffusion of the plastic devices, once per batch written (aihwkit: per mini-batch)."""
        decay, diffusion, reset = self._decays
        if decay.size:
            m = self._plastic
            d = self._dev
            w, h = self.c.weights[m], d.hidden[m]
            decay_devices(w, h, decay[m], diffusion[m], reset[m], d.w_max[m], d.w_min[m], d.params)
            self.c.weights[m] = w
            d.hidden[m] = h if d.hidden is not self.c.weights else w

    # -- counters ----------------------------------------------------------------------
    def reset_counters(self, ticks: int = 0, per_tick: bool = False, profile: bool | None = None) -> None:
        """Start counting from zero (`per_tick`: also per tick of a `ticks`-tick sample). `profile`: count
        cycles per phase of the tick loop too (counters()["phase_cycles"]), from now until it is turned
        off again (None: as before)."""
        if profile is not None:
            self._profile = bool(profile)
        self._counters = Counters(self.c, ticks, per_tick, self._profile)

    def counters(self) -> dict:
        """Counters accumulated since the last reset."""
        if self._counters is None:
            self.reset_counters()
        return self._counters.to_dict()

    def counter_state(self) -> dict[str, np.ndarray]:
        """The summed counters since the last reset as named arrays, for a checkpoint (`load_counter_state`)."""
        if self._counters is None:
            self.reset_counters()
        return self._counters.state()

    def load_counter_state(self, state: dict[str, np.ndarray]) -> None:
        """Continue counting from what `counter_state()` returned."""
        self.reset_counters()
        self._counters.load_state(state)

    # -- running -----------------------------------------------------------------------
    def run(self, drive: SourceDrive | SpikeDrive, ticks: int, *, sample_ids: Iterable[int] | None = None,
            options: RunOptions | None = None, **kw) -> RunResult:
        """Run every sample of `drive` for `ticks` ticks in one compiled call; `options` (or its fields
        as keywords) say how (see RunOptions)."""
        bad = sorted(set(kw) - _OPTIONS)
        if bad:
            raise TypeError(f"Engine.run() got unknown options {bad}; RunOptions has {sorted(_OPTIONS)}")
        opt = (replace(options, **kw) if kw else options) if options is not None else RunOptions(**kw)
        if not isinstance(opt.readout, tuple):
            opt = replace(opt, readout=tuple(opt.readout))
        opt.check()
        if not isinstance(ticks, (int, np.integer)) or ticks < 1:
            raise ConfigError(f"ticks = {ticks!r}: must be an integer >= 1")
        c = self.c
        n_samples = drive.samples
        ids = np.arange(n_samples) if sample_ids is None else np.asarray(list(sample_ids), np.int64)
        threads = min(opt.threads, n_samples) if opt.learn == "off" else 1
        # each thread of a parallel run builds its own chunk's inputs; here only the checks run
        inp = inputs_for(c, drive if threads == 1 else drive_slice(drive, 0, 1), ticks, self.seed, ids[:1]
                         if threads > 1 else ids, opt.dropout)
        per_tick = opt.traffic == "per_tick"
        cnt = self._counters
        if cnt is None or (per_tick and (not cnt.per_tick or cnt.ticks_per_sample != ticks)):
            self.reset_counters(ticks, per_tick)
            cnt = self._counters
        out = self._outputs(opt, n_samples, ticks)
        learn = Learning(LEARN_MODES[opt.learn], float(opt.noise_scale), bool(opt.defer_writes),
                         c.sparse_plastic, self.plastic_grid(),
                         self.placement.chip.precision.plastic_rounding == "stochastic")
        rw = c.weights
        if opt.defer_writes:
            if self._shadow is None:
                self._shadow = aligned_empty(len(c.weights), c.weights.dtype)
            rw = self._shadow
            # static tiles never change, so one copy per call serves them; the kernel
            # refreshes the plastic tiles at the start of every sample
            rw[:] = c.weights
        mem = Weights(c.weights, rw, self._qweights, c.syn_mask)
        if threads > 1:
            fresh, n_rec, events = self._run_parallel(learn, mem, cnt, out, threads, (drive, ids, opt.dropout),
                                                      ticks)
        else:
            fresh = cnt.run_arrays()
            n_rec = self._run_batch(self._state(0), learn, inp, out, fresh, mem)
            events = out.rec_buf[:n_rec].copy() if opt.record else None
        cnt.add(fresh, n_samples, n_samples * ticks)
        if opt.learn != "off":
            self._decay()
        counts, o = {}, 0
        for p in opt.readout:
            k = len(c.gid[p])
            counts[p] = out.out_counts[:, o:o + k]
            o += k
        return RunResult(c, counts, events, out.probe_v if opt.probes else None,
                         out.probe_i if opt.probes else None, cnt.snapshot(fresh), n_samples, n_samples * ticks)

    def _outputs(self, opt: RunOptions, n_samples: int, ticks: int) -> Outputs:
        c = self.c
        read_idx, off = self._read_idx.get(opt.readout, (None, 0))
        if read_idx is None:  # the kernel only reads it: one per readout, kept
            read_idx = np.full(c.n, -1, np.int64)
            for p in opt.readout:
                if p not in c.gid:
                    raise ConfigError(f"readout '{p}': no such population; populations: {', '.join(c.pop_names)}")
                g = c.gid[p]
                read_idx[g] = off + np.arange(len(g))
                off += len(g)
            self._read_idx[opt.readout] = (read_idx, off)
        n_probe = len(c.probe_gid) if opt.probes else 0
        pv = np.zeros((n_samples, ticks, n_probe), np.float32)
        rec_cap = n_samples * ticks * c.n + 1 if opt.record else 0
        if self._rec_buf.shape[0] < rec_cap:  # reused: a fresh large buffer per sample costs more than the run
            self._rec_buf = np.empty((rec_cap, 3), np.int32)
        return Outputs(read_idx, np.zeros((n_samples, off), np.int32), bool(opt.record), self._rec_buf,
                       c.probe_gid[:n_probe], pv, np.zeros_like(pv))

    def _state(self, k: int):
        """The working state of thread k (allocated on first use)."""
        while len(self._states) <= k:
            self._states.append(K.new_state(self.c.neurons, self.c.tiles, self.c.routes))
        return self._states[k]

    def _run_batch(self, st: K.State, learn: Learning, inp: Inputs, out: Outputs, ctr: CounterArrays,
                   mem: Weights) -> int:
        """One compiled call over a batch (or a thread's chunk of it): the records by name."""
        c = self.c
        return K.run_batch(st, c.neurons, c.tiles, c.routes, self._dev, self._reads, learn, inp, out, ctr, mem,
                           self._fx)

    def _run_parallel(self, learn: Learning, mem: Weights, cnt: Counters, out: Outputs, threads: int,
                      batch: tuple, ticks: int):
        """Chunks of the batch on threads (the kernels release the GIL), each building its own inputs and
        writing its own outputs, state and counters; counters summed, spike records joined in sample order."""
        from concurrent.futures import ThreadPoolExecutor

        drive, ids, dropout = batch
        n_samples = len(ids)
        bounds = np.linspace(0, n_samples, threads + 1).round().astype(np.int64)
        states = [self._state(k) for k in range(threads)]
        ctrs = [cnt.fresh() for _ in range(threads)]
        outs = []
        for b0, b1 in zip(bounds[:-1], bounds[1:]):
            cap = (b1 - b0) * ticks * self.c.n + 1 if out.record else 0
            outs.append(out._replace(out_counts=out.out_counts[b0:b1], rec_buf=np.empty((cap, 3), np.int32),
                                     probe_v=out.probe_v[b0:b1], probe_i=out.probe_i[b0:b1]))

        def chunk(k: int) -> int:
            b0, b1 = int(bounds[k]), int(bounds[k + 1])
            inp = inputs_for(self.c, drive_slice(drive, b0, b1), ticks, self.seed, ids[b0:b1], dropout)
            return self._run_batch(states[k], learn, inp, outs[k], ctrs[k], mem)

        with ThreadPoolExecutor(threads) as pool:
            n_recs = list(pool.map(chunk, range(threads)))
        fresh = cnt.fresh()
        for ctr in ctrs:
            add_counters(fresh, ctr)
        events = None
        if out.record:
            parts = []
            for o, b0, k in zip(outs, bounds[:-1], n_recs):
                ev = o.rec_buf[:k].copy()
                ev[:, 0] += b0  # chunk-local sample index -> the batch's
                parts.append(ev)
            events = np.concatenate(parts)
        return fresh, int(sum(n_recs)), events
