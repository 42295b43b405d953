"""Streams the events of a run into an HDF5 trace in bounded memory.

Every dataset is created when the writer opens (HDF5 SWMR forbids new objects later),
then the file switches to SWMR mode so other processes can read it while it grows.
Events wait in fixed-size buffers, one per stream; a full buffer (one compressed chunk)
goes to disk alone, `flush()` writes them all. Each write puts event rows first, flushes
the file, then writes the per-sample index rows that point at them and flushes again: an
index row only ever points at data already on disk, so a writer killed at any moment
leaves a file holding every flushed sample whole.
Layout: `traces/README.md`.
"""

from __future__ import annotations

import datetime as _dt
import json
import queue
import threading
import weakref
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from .. import __version__
from ..config import to_dict
from ..errors import ConfigError, TraceError
from . import schema as S
from .selection import TraceSelection

# The HDF5 file format of 1.10, the oldest that SWMR needs: "latest" with an HDF5 2.x library
# writes layout messages that HDF5 1.10 tools (Debian's h5ls, h5dump) cannot read.
LIBVER = ("v110", "v110")
_MIN_CHUNK, _MAX_CHUNK = 1024, 1 << 18
_MAX_CHUNK_BYTES = 1 << 20
_INDEX_ROWS = 4096  # index rows buffered per stream (24 bytes each)
_EXACT_INT = 1 << 53  # float64 holds integers up to here exactly


_ROOM = 1 << 20  # free bytes kept on the trace's disk so that HDF5 can always close the file cleanly
_BROKEN: list = []  # h5py objects of files HDF5 failed to close: dropping them crashes HDF5 (see close())


class DiskFull(OSError):
    """The trace's disk has no room for the next write plus the reserve that lets the file close cleanly."""


def _need_room(path: Path, nbytes: int) -> None:
    """Raise DiskFull unless `nbytes` plus a reserve fit on the disk holding `path`: HDF5 is never asked to
    write into a full disk (after a failed write it cannot close the file, and its objects crash the
    process when they are freed)."""
    import errno
    import os

    try:
        st = os.statvfs(path.parent)
    except OSError:
        return
    free = st.f_bavail * st.f_frsize
    if free < nbytes + _ROOM:
        raise DiskFull(errno.ENOSPC, f"No space left on device ({free} bytes free, the next write needs "
                                     f"{nbytes} plus a {_ROOM >> 20} MiB reserve)")


class _Buffer:
    """Rows waiting to be appended to a set of equal-length, resizable datasets.

    It reports itself full at each chunk boundary of the datasets, so full buffers write
    whole chunks: each chunk is compressed once, not again at every flush.
    """

    def __init__(self, datasets: dict, capacity: int):
        self.datasets = datasets
        self.capacity = capacity
        self.arrays = {k: np.empty((capacity,) + ds.shape[1:], ds.dtype) for k, ds in datasets.items()}
        self.size = 0
        self.written = next(iter(datasets.values())).shape[0]
        self.chunk_rows = min(ds.chunks[0] for ds in datasets.values())
        self._spare: dict | None = None  # the arrays of the chunk being written, once one was handed off
        self._spare_free = threading.Event()
        self._spare_free.set()

    @property
    def end(self) -> int:
        """Row number the next appended row gets in the datasets."""
        return self.written + self.size

    @property
    def free(self) -> int:
        """Rows that still fit before the buffer is full or the datasets reach a chunk boundary."""
        return min(self.capacity - self.size, self.chunk_rows - self.end % self.chunk_rows)

    def put(self, columns: Mapping[str, np.ndarray], lo: int, hi: int) -> int:
        """Copy rows lo:hi of `columns` (as many as fit); return how many were taken."""
        n = min(hi - lo, self.free)
        for k, a in self.arrays.items():
            a[self.size:self.size + n] = columns[k][lo:lo + n]
        self.size += n
        return n

    def take(self) -> "_Chunk":
        """Hand the buffered rows over for writing and go on filling the spare arrays.

        Waits while the previous chunk is still being written: at most two chunks per
        buffer are ever in memory.
        """
        self._spare_free.wait()
        self._spare_free.clear()
        chunk = _Chunk(self, self.arrays, self.written, self.size)
        if self._spare is None:
            self._spare = {k: np.empty_like(a) for k, a in self.arrays.items()}
        self.arrays, self._spare = self._spare, self.arrays
        self.written += self.size
        self.size = 0
        return chunk


class _Chunk:
    """Rows start:start+n of a buffer's datasets, waiting in `arrays` to be written."""

    def __init__(self, buffer: _Buffer, arrays: dict, start: int, n: int):
        self.buffer, self.arrays, self.start, self.n = buffer, arrays, start, n

    def write(self) -> None:
        end = self.start + self.n
        for k, ds in self.buffer.datasets.items():
            ds.resize(end, axis=0)
            ds[self.start:end] = self.arrays[k][:self.n]

    def release(self) -> None:
        self.buffer._spare_free.set()


class _Flusher:
    """Runs disk writes in order, on one background thread (h5py releases the GIL in HDF5
    calls, so compression and I/O overlap the run) or at once when `threaded` is false.

    The first failed write (a full disk, a vanished folder) stops all writing: later jobs are
    skipped (their buffers are still handed back), and the writer's next call raises one
    TraceError naming the file and the reason (`No space left on device`)."""

    def __init__(self, path: Path, threaded: bool):
        self.path = path
        self.error: BaseException | None = None
        self.reported = False  # the error was raised to the writer's caller once
        self.queue: queue.Queue | None = None
        if threaded:
            self.queue = queue.Queue()
            self.thread = threading.Thread(target=self._loop, name=f"trace writer {path.name}", daemon=True)
            self.thread.start()

    def submit(self, job: Callable[[], None], release: Callable[[], None] = lambda: None) -> None:
        """Run `job` (now, or queued); `release` runs after it whether it ran, failed or was skipped."""
        try:
            self.check()
        except TraceError:
            release()
            raise
        if self.queue is None:
            self._run(job, release)
            self.check()
        else:
            self.queue.put((job, release))

    def _run(self, job: Callable[[], None], release: Callable[[], None]) -> None:
        try:
            if self.error is None:
                job()
        except BaseException as exc:  # re-raised in the writer's thread by check()
            self.error = exc
        finally:
            release()

    def _loop(self) -> None:
        while True:
            item = self.queue.get()
            try:
                if item is None:
                    return
                self._run(*item)
            finally:
                self.queue.task_done()

    def wait(self) -> None:
        """Return once every submitted write is done."""
        if self.queue is not None:
            self.queue.join()
        self.check()

    def fail(self, exc: BaseException) -> TraceError:
        """Record a write that failed outside the queue (the writer's own thread); the TraceError to raise."""
        if self.error is None:
            self.error = exc
        return self._error()

    def _error(self) -> TraceError:
        from ..files import reason

        self.reported = True
        after = ("the trace is closed holding every sample written before" if isinstance(self.error, DiskFull) else
                 "the samples written before stay readable (should HDF5 tools not open it: "
                 f"`neurocore trace info --repair {self.path}`)")
        return TraceError(f"{self.path}: writing the trace failed: {reason(self.error)}; {after}")

    def check(self) -> None:
        if self.error is not None:
            raise self._error() from None

    def stop(self) -> None:
        if self.queue is not None and self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()


class _Stream:
    """A group of event columns plus its per-sample index (sample, start, stop)."""

    def __init__(self, events: _Buffer, index: _Buffer):
        self.events = events
        self.index = index


class TraceWriter:
    """Writes one run's trace: spikes, probes, packets, traffic, snapshots, counters.

    `populations` maps every population of the netlist to its size; only those the
    selection wants are recorded. Calls for samples or populations the selection does not
    want return at once, so the engine may call unconditionally. Use as a context manager;
    leaving it on an exception still closes the file (status "closed after error").
    """

    def __init__(self, path: str | Path, metadata: Mapping[str, Any], populations: Mapping[str, int],
                 n_cores: int, selection: TraceSelection | None = None):
        import h5py

        self.selection = selection = selection or TraceSelection(enabled=True)
        self.path = Path(path)
        self.populations = {str(k): int(v) for k, v in populations.items()}
        self.n_cores = int(n_cores)
        self._check_selection()
        self._tick0, self._tick1 = selection.tick_window
        self._chunk = selection.chunk_events
        self._filters = _filters(selection)
        self._closed = False
        self._dirty = False
        self._status = np.zeros(1, S.STATUS_DTYPE)
        for key in ("sample_first", "sample_last", "tick_first", "tick_last"):
            self._status[key] = -1
        from ..files import ensure_folder, reason

        ensure_folder(self.path.parent, "trace folder")
        try:
            _need_room(self.path, 0)
            self._file = h5py.File(self.path, "w", libver=LIBVER)
        except OSError as exc:
            raise TraceError(f"{self.path}: cannot create the trace file: {reason(exc)}") from None
        try:
            self._write_metadata(metadata)
            self._create_datasets()
            self._file.swmr_mode = True
        except BaseException as exc:
            try:
                self._file.close()
            except Exception:  # noqa: BLE001 - the first failure is the one to report
                _BROKEN.append(self._file)
            if isinstance(exc, (OSError, RuntimeError)):  # nothing half-written: the empty file goes
                try:
                    self.path.unlink()
                except OSError:
                    pass
                raise TraceError(f"{self.path}: cannot create the trace file: {reason(exc)}") from None
            raise
        self._flusher = _Flusher(self.path, selection.background)
        weakref.finalize(self, self._flusher.stop)  # a writer dropped without close() leaves no thread behind

    # ---- set-up -------------------------------------------------------------------

    def _check_selection(self) -> None:
        sel, known = self.selection, self.populations
        names = ", ".join(sorted(known)) or "(none)"
        for name in sel.populations:
            if name not in known:
                raise ConfigError(f"unknown population '{name}'; the netlist has: {names}", key="trace.populations")
        for name, neurons in sel.membrane.items():
            if name not in known:
                raise ConfigError(f"unknown population '{name}'; the netlist has: {names}",
                                  key=f"trace.membrane.{name}")
            bad = [n for n in neurons if n >= known[name]]
            if bad:
                raise ConfigError(f"neuron indices {bad} out of range; '{name}' has {known[name]} neurons "
                                  f"(0..{known[name] - 1})", key=f"trace.membrane.{name}")
        if self.n_cores < 1:
            raise ValueError(f"n_cores must be >= 1, got {self.n_cores}")

    def _write_metadata(self, metadata: Mapping[str, Any]) -> None:
        import h5py

        f = self._file
        f.attrs[S.SCHEMA_ATTR] = S.SCHEMA_VERSION
        f.attrs["format"] = S.FORMAT
        f.attrs["neurocore_version"] = __version__
        f.attrs["created"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        f.attrs["n_cores"] = self.n_cores
        f.attrs["populations"] = json.dumps(self.populations)
        f.attrs["selection"] = json.dumps(to_dict(self.selection))
        meta = f.create_group("meta")
        for key, value in metadata.items():
            name = S.group_name(str(key))
            if isinstance(value, (bool, int, float, np.integer, np.floating)):
                meta.create_dataset(name, data=value)
            elif isinstance(value, str):
                meta.create_dataset(name, data=value, dtype=h5py.string_dtype())
            else:
                text = json.dumps(to_dict(value), default=str)
                meta.create_dataset(name, data=text, dtype=h5py.string_dtype()).attrs["encoding"] = "json"
            meta[name].attrs["key"] = str(key)

    def _dataset(self, group, name: str, dtype, tail: tuple = (), fill=None, rows: int = _MIN_CHUNK):
        return group.create_dataset(name, shape=(0,) + tail, maxshape=(None,) + tail, dtype=dtype,
                                    chunks=(rows,) + tail, fillvalue=fill, **self._filters)

    def _stream(self, group, columns: Mapping[str, Any], capacity: int,
                tails: Mapping[str, tuple] | None = None) -> _Stream:
        tails = tails or {}
        widest = max(np.dtype(dt).itemsize * int(np.prod(tails.get(k, ()), dtype=np.int64))
                     for k, dt in columns.items())
        rows = int(np.clip(capacity, _MIN_CHUNK, _MAX_CHUNK))  # one chunk = one full buffer
        rows = max(1, min(rows, _MAX_CHUNK_BYTES // widest))
        events = {k: self._dataset(group, k, dt, tails.get(k, ()), rows=rows) for k, dt in columns.items()}
        index = self._dataset(group, "index", S.INDEX_DTYPE, (3,), fill=S.INDEX_FILL, rows=_INDEX_ROWS)
        return _Stream(_Buffer(events, capacity), _Buffer({"index": index}, _INDEX_ROWS))

    def _create_datasets(self) -> None:
        f, sel = self._file, self.selection
        status = f.create_group("run").create_dataset("status", data=self._status, maxshape=(1,))
        self._status_ds = status
        spikes = f.create_group("spikes")
        self._spikes: dict[str, _Stream] = {}
        for name, size in self.populations.items():
            if sel.wants_population(name):
                g = spikes.create_group(S.group_name(name))
                g.attrs["name"], g.attrs["size"] = name, size
                self._spikes[name] = self._stream(g, S.spike_columns(size), self._chunk)
        probes = f.create_group("probes")
        self._probes: dict[str, tuple[_Stream, np.ndarray]] = {}
        for name, neurons in sel.membrane.items():
            g = probes.create_group(S.group_name(name))
            k = len(neurons)
            g.attrs["name"] = name
            g.create_dataset("neurons", data=np.asarray(neurons, np.int64))
            cols = {**S.PROBE_COLUMNS, "v": S.PROBE_VALUE, "i": S.PROBE_VALUE}
            stream = self._stream(g, cols, max(1, self._chunk // k), tails={"v": (k,), "i": (k,)})
            self._probes[name] = (stream, np.asarray(neurons, np.int64))
        self._packets = self._stream(f.create_group("packets"), S.PACKET_COLUMNS, self._chunk) if sel.packets else None
        self._traffic = self._traffic_total = None
        if sel.traffic != "off":
            g = f.create_group("traffic")
            g.attrs["mode"] = sel.traffic
            self._traffic = self._stream(g, S.TRAFFIC_COLUMNS, self._chunk)
            self._traffic_total = np.zeros((self.n_cores, self.n_cores), S.TOTAL_DTYPE)
            self._traffic_total_ds = g.create_dataset("total", data=self._traffic_total, **self._filters)
        self._blobs = {kind: _BlobStore(self, f.create_group(kind)) for kind in ("snapshots", "counters")}

    # ---- recording ----------------------------------------------------------------

    def _append(self, stream: _Stream, sample: int, columns: Mapping[str, np.ndarray]) -> None:
        if self._closed:
            raise RuntimeError(f"trace writer for {self.path} is closed")
        n = len(next(iter(columns.values())))
        start = stream.events.end
        pos = 0
        while pos < n:
            if not stream.events.free:
                self._flush_stream(stream)
            pos += stream.events.put(columns, pos, n)
            self._dirty = True
        if not stream.index.free:
            self._flush_stream(stream)
        stream.index.put({"index": np.array([[sample, start, start + n]], S.INDEX_DTYPE)}, 0, 1)
        self._dirty = True
        st = self._status[0]
        if st["sample_first"] < 0 or sample < st["sample_first"]:
            st["sample_first"] = sample
        st["sample_last"] = max(st["sample_last"], sample)

    def _note_ticks(self, ticks: np.ndarray) -> None:
        if len(ticks):
            st = self._status[0]
            lo, hi = int(ticks.min()), int(ticks.max())
            if lo >= 0:
                st["tick_first"] = lo if st["tick_first"] < 0 else min(st["tick_first"], lo)
            st["tick_last"] = max(st["tick_last"], hi)

    def _window(self, ticks: np.ndarray) -> np.ndarray | None:
        """Boolean mask of ticks inside the selection's window, or None when all are."""
        if self._tick0 == 0 and self._tick1 is None:
            return None
        mask = ticks >= self._tick0
        if self._tick1 is not None:
            mask &= ticks < self._tick1
        return mask

    def add_spikes(self, sample: int, population: str, ticks: np.ndarray, neurons: np.ndarray) -> None:
        """Record the spikes of one sample of one population: parallel arrays of tick and neuron index."""
        stream = self._spikes.get(population)
        if stream is None:
            if population not in self.populations:
                raise ValueError(f"unknown population '{population}' (known: {', '.join(self.populations)})")
            return
        if not self.selection.wants_sample(sample):
            return
        ticks, neurons = np.asarray(ticks), np.asarray(neurons)
        if ticks.shape != neurons.shape or ticks.ndim != 1:
            raise ValueError(f"ticks and neurons must be 1-D arrays of one length, "
                             f"got {ticks.shape} and {neurons.shape}")
        size = self.populations[population]
        if len(neurons) and (neurons.min() < 0 or neurons.max() >= size):
            raise ValueError(f"neuron index out of range for '{population}' of {size} neurons")
        mask = self._window(ticks)
        if mask is not None:
            ticks, neurons = ticks[mask], neurons[mask]
        self._note_ticks(ticks)
        self._append(stream, sample, {"tick": ticks, "neuron": neurons})

    def add_packets(self, sample: int, ticks: np.ndarray, src_core: np.ndarray, dst_core: np.ndarray,
                    address: np.ndarray) -> None:
        """Record the AER packets of one sample: parallel arrays (tick, source core, destination core, address)."""
        if self._packets is None or not self.selection.wants_sample(sample):
            return
        cols = {"tick": np.asarray(ticks), "src": np.asarray(src_core), "dst": np.asarray(dst_core),
                "address": np.asarray(address)}
        if len({c.shape for c in cols.values()}) != 1 or cols["tick"].ndim != 1:
            raise ValueError("ticks, src_core, dst_core and address must be 1-D arrays of one length")
        mask = self._window(cols["tick"])
        if mask is not None:
            cols = {k: c[mask] for k, c in cols.items()}
        self._append(self._packets, sample, cols)

    def add_traffic(self, sample: int, matrix: np.ndarray) -> None:
        """Record core-to-core packet counts of one sample: (n_cores, n_cores) summed or (ticks, n, n) per tick.

        With traffic = "sum" a per-tick matrix is summed over the tick window; a summed
        matrix is stored with tick -1 in either mode.
        """
        if self._traffic is None or not self.selection.wants_sample(sample):
            return
        m = np.asarray(matrix)
        n = self.n_cores
        if m.shape[-2:] != (n, n) or m.ndim not in (2, 3):
            raise ValueError(f"traffic matrix must be ({n}, {n}) or (ticks, {n}, {n}), got {m.shape}")
        if m.ndim == 3:
            m = m[self._tick0:self._tick1]
            if self.selection.traffic == "sum":
                m = m.sum(axis=0)
        rows = np.flatnonzero(m.reshape(-1, n).any(axis=1))  # busy (tick, source) rows first: a traffic
        flat = m.reshape(-1, n)[rows]                        # matrix is mostly zeros, nonzero() is slow
        at_r, dst_only = np.nonzero(flat)
        at = rows[at_r] * n + dst_only
        count = flat[at_r, dst_only]
        if (count < 0).any():
            raise ValueError("traffic counts must be >= 0")
        cell, dst = np.divmod(at, n)
        if m.ndim == 3:
            tick, src = np.divmod(cell, n)
            tick = tick.astype(np.int32) + self._tick0
            self._note_ticks(tick)
            np.add.at(self._traffic_total, (src, dst), count)
        else:
            tick = np.full(len(count), -1, np.int32)
            src = cell
            self._traffic_total[src, dst] += count  # (src, dst) pairs are distinct here
        self._append(self._traffic, sample, {"tick": tick, "src": src, "dst": dst, "count": count})

    def add_probe(self, sample: int, population: str, neurons: np.ndarray, v: np.ndarray, i: np.ndarray) -> None:
        """Record membrane potential and current of probed neurons, one row per tick from tick 0.

        `neurons` names the columns of `v` and `i` (shape (ticks, len(neurons))); it must
        include every neuron the selection probes in this population; others are dropped.
        """
        entry = self._probes.get(population)
        if entry is None or not self.selection.wants_sample(sample):
            return
        stream, wanted = entry
        neurons = np.asarray(neurons)
        v, i = np.asarray(v), np.asarray(i)
        if v.shape != i.shape or v.ndim != 2 or v.shape[1] != len(neurons):
            raise ValueError(f"v and i must both be (ticks, {len(neurons)}), got {v.shape} and {i.shape}")
        if not np.array_equal(neurons, wanted):
            pos = {int(n): k for k, n in enumerate(neurons)}
            missing = [int(n) for n in wanted if int(n) not in pos]
            if missing:
                raise ValueError(f"probe of '{population}' lacks neurons {missing} the selection asks for")
            cols = np.array([pos[int(n)] for n in wanted])
            v, i = v[:, cols], i[:, cols]
        t1 = v.shape[0] if self._tick1 is None else min(self._tick1, v.shape[0])
        t0 = min(self._tick0, t1)
        ticks = np.arange(t0, t1, dtype=np.int32)
        self._note_ticks(ticks)
        self._append(stream, sample, {"tick": ticks, "v": v[t0:t1], "i": i[t0:t1]})

    def snapshot(self, label: str, name: str, array: np.ndarray) -> None:
        """Store an array (weights, device states) under (label, name), e.g. ("epoch 3", "W1").

        Does nothing unless the selection asks for snapshots.
        """
        if self.selection.snapshots:
            self._blobs["snapshots"].write([(label, name, np.asarray(array))])

    def add_counters(self, label: str, counters: Mapping[str, Any]) -> None:
        """Store counters (numbers or arrays) under `label`, e.g. ("epoch 3", {"spikes": 1234})."""
        self._blobs["counters"].write([(label, k, np.asarray(v)) for k, v in counters.items()])

    # ---- flushing -----------------------------------------------------------------

    def _streams(self) -> list[_Stream]:
        out = list(self._spikes.values()) + [s for s, _ in self._probes.values()]
        return out + [s for s in (self._packets, self._traffic) if s is not None]

    def _hand_off(self, streams: list[_Stream], full: bool = False) -> None:
        """Queue the write of these streams' buffered events, then of their index rows.

        `full` also rewrites the traffic total; `/run/status` is rewritten every time.
        """
        events = [s.events.take() for s in streams if s.events.size]
        index = [s.index.take() for s in streams if s.index.size]
        self._status["flushes"] += 1
        status = self._status.copy()
        total = self._traffic_total.copy() if full and self._traffic_total is not None else None
        f = self._file

        nbytes = sum(a[:c.n].nbytes for c in events + index for a in c.arrays.values()) + 4096

        def job() -> None:
            _need_room(self.path, nbytes)
            for c in events:
                c.write()
            f.flush()
            for c in index:
                c.write()
            if total is not None:
                self._traffic_total_ds[...] = total
            self._status_ds[...] = status
            f.flush()

        def release() -> None:
            for c in events + index:
                c.release()

        self._flusher.submit(job, release)

    def _flush_stream(self, stream: _Stream) -> None:
        """Write one stream's full buffer (and its index rows) while the others keep filling."""
        self._hand_off([stream])

    def flush(self) -> None:
        """Write every buffered row to disk (event rows, then the index rows that point at them); returns when done."""
        if self._closed:
            return
        if self._dirty:
            self._hand_off(self._streams(), full=True)
            self._dirty = False
        self._flusher.wait()

    def close(self, error: bool = False) -> None:
        """Flush and close the file (idempotent); `error` marks the run as ended by an exception.

        After a failed write (a full disk) the file is closed as far as HDF5 can, its superblock's
        open-for-writing mark is cleared (`neurocore.traces.repair`) so that HDF5 tools open the samples
        written before, and one TraceError is raised, unless the caller was told already; a failure while
        closing never hides the first one."""
        if self._closed:
            return
        fl = self._flusher
        told = fl.reported  # the caller has had the TraceError of a failed write already
        failure: BaseException | None = None
        try:
            if fl.error is None:
                self._dirty = True
                self.flush()
            if fl.error is None or isinstance(fl.error, DiskFull):  # HDF5 is sound: say how the run ended
                self._status["closed"] = S.CLOSED_ERROR if error or fl.error is not None else S.CLOSED_OK
                self._status_ds[...] = self._status
        except BaseException as exc:
            failure = exc
        finally:
            self._closed = True
            fl.stop()
            try:
                self._file.close()
            except Exception as exc:  # HDF5 could not write its last metadata: the file stays as flushed
                failure = failure or exc
                # HDF5 cannot free what it failed to close: freeing these objects later crashes the process
                # (HDF5 2.0, h5py 3.16), so they are kept, and the CLI ends with os._exit (`neurocore.cli`)
                _BROKEN.append((self._file, self.__dict__.copy()))
        if failure is not None and not isinstance(failure, (OSError, RuntimeError, TraceError)):
            raise failure  # not a write that failed (e.g. Ctrl-C): as it came
        if failure is not None and fl.error is None:
            fl.error = failure
        if fl.error is not None:
            if not isinstance(fl.error, DiskFull):
                from .repair import clear_open_flag
                try:
                    clear_open_flag(self.path)
                except Exception:  # noqa: BLE001 - best effort: neurocore's reader opens it anyway
                    pass
            if not told and not error:
                raise fl._error() from None

    def __enter__(self) -> "TraceWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(error=exc_type is not None)

    @property
    def closed(self) -> bool:
        return self._closed

    def buffer_sizes(self) -> dict[str, int]:
        """Rows waiting in each buffer (stream name -> rows); each stays <= its capacity."""
        return {k: b.size for k, b in self._buffers().items()}

    def buffer_capacities(self) -> dict[str, int]:
        """Fixed row capacity of each buffer; event buffers hold at most chunk_events values per column."""
        return {k: b.capacity for k, b in self._buffers().items()}

    def _buffers(self) -> dict[str, _Buffer]:
        out = {}
        named = [(f"spikes/{k}", s) for k, s in self._spikes.items()]
        named += [(f"probes/{k}", s) for k, (s, _) in self._probes.items()]
        named += [(k, s) for k, s in (("packets", self._packets), ("traffic", self._traffic)) if s is not None]
        for k, s in named:
            out[k] = s.events
            out[f"{k}/index"] = s.index
        return out


class _BlobStore:
    """Arrays under (label, name) in two flat value datasets plus an index of where each lies."""

    def __init__(self, writer: TraceWriter, group):
        self.writer = writer
        self.file = writer._file
        self.data = [writer._dataset(group, name, dt, rows=1 << 16)
                     for name, dt in zip(S.BLOB_STORES, (np.float32, np.float64))]
        self.index = writer._dataset(group, "index", S.BLOB_INDEX_DTYPE, rows=64)

    def write(self, items: list[tuple[str, str, np.ndarray]]) -> None:
        if self.writer.closed:
            raise RuntimeError(f"trace writer for {self.writer.path} is closed")
        if not items:
            return
        self.writer._flusher.wait()  # the file is ours alone while the arrays go in
        try:
            self._write(items)
        except (OSError, RuntimeError) as exc:  # a full disk: one TraceError, as for the streamed events
            raise self.writer._flusher.fail(exc) from None

    def _write(self, items: list[tuple[str, str, np.ndarray]]) -> None:
        _need_room(self.writer.path, sum(8 * a.size for _, _, a in items) + 4096)
        rows = np.zeros(len(items), S.BLOB_INDEX_DTYPE)
        for j, (label, name, a) in enumerate(items):
            if a.ndim > S.MAX_NDIM:
                raise ValueError(f"cannot store {a.ndim}-D array '{name}': at most {S.MAX_NDIM} dimensions")
            store = S.blob_store_for(a.dtype)
            if a.dtype.kind in "iu" and a.size and max(abs(int(a.min())), abs(int(a.max()))) > _EXACT_INT:
                raise ValueError(f"integer array '{name}' has values beyond 2**53, which a trace cannot hold exactly")
            ds = self.data[store]
            offset = ds.shape[0]
            rows["label"][j], rows["name"][j] = S.encode_label(label, "label"), S.encode_label(name, "name")
            rows["store"][j], rows["dtype"][j], rows["offset"][j] = store, a.dtype.str.encode(), offset
            rows["size"][j], rows["ndim"][j] = a.size, a.ndim
            rows["shape"][j, :a.ndim] = a.shape
            ds.resize(offset + a.size, axis=0)
            flat = a.reshape(-1)
            step = 1 << 20
            for lo in range(0, a.size, step):  # cast in slices: no full-size copy
                ds[offset + lo:offset + min(lo + step, a.size)] = flat[lo:lo + step]
        self.file.flush()
        n = self.index.shape[0]
        self.index.resize(n + len(rows), axis=0)
        self.index[n:] = rows
        self.file.flush()


def _filters(selection: TraceSelection) -> dict:
    if selection.compression == "gzip":
        return {"compression": "gzip", "compression_opts": selection.compression_level, "shuffle": True}
    if selection.compression == "lzf":
        return {"compression": "lzf", "shuffle": True}
    return {}
