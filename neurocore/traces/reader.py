"""Reads neurocore HDF5 traces, finished, still being written (SWMR) or left by a killed run.

The file layout (groups, datasets, dtypes, attributes, schema version) is documented in
`traces/README.md` at the top of the repository. In short: `/spikes/<population>/` holds
event columns `tick`, `neuron` and an `index` of rows (sample, start, stop) pointing at
them; `/probes`, `/packets` and `/traffic` follow the same pattern; `/snapshots` and
`/counters` hold arrays under (label, name); `/meta` the run metadata; `/run/status`
whether the writer closed and the span recorded.
"""

from __future__ import annotations

import functools
import json
import os
import struct
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import TraceError
from . import schema as S

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_READ_ROWS = 1 << 20  # rows read at a time when scanning a whole column
_NOT_EVENTS = ("index", "neurons", "total")  # datasets of a streamed group that are not event columns


def _superblock(path: Path) -> tuple[int, int, int | None]:
    """(superblock version, consistency flags, stored end-of-file address or None) of an HDF5 file."""
    with path.open("rb") as fh:
        head = fh.read(64)
    if len(head) < 8 or head[:8] != _HDF5_SIGNATURE:
        return -1, 0, None
    version = head[8]
    if version < 2 or len(head) < 12:
        return version, 0, None
    size_of_offsets, flags = head[9], head[11]
    fmt = {4: "<I", 8: "<Q"}.get(size_of_offsets)
    at = 12 + 2 * size_of_offsets  # after base address and superblock extension address
    if fmt is None or len(head) < at + size_of_offsets:
        return version, flags, None
    return version, flags, struct.unpack(fmt, head[at:at + size_of_offsets])[0]


def _guarded(method: Callable) -> Callable:
    """Turn HDF5 read failures inside a reader method into a TraceError naming the file."""
    @functools.wraps(method)
    def wrapper(self: "Trace", *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (OSError, KeyError) as exc:
            raise TraceError(f"{self.path}: damaged neurocore trace, {method.__name__}() failed: {exc}") from None
    return wrapper


class _Index:
    """A per-sample index (rows of sample, start, stop), read incrementally as the file grows."""

    def __init__(self, ds):
        self.ds = ds
        self.rows = np.empty((0, 3), np.int64)
        self._read = 0

    def update(self, swmr: bool, limit: int) -> np.ndarray:
        """All committed rows; `limit` is the number of event rows on disk they may point into."""
        if swmr:
            self.ds.refresh()
        n = self.ds.shape[0]
        if n > self._read:
            new = self.ds[self._read:n]
            # A row is committed when it is filled in (not -1) and points at rows on disk.
            ok = (new[:, 0] >= 0) & (new[:, 1] >= 0) & (new[:, 1] <= new[:, 2]) & (new[:, 2] <= limit)
            stop = len(new) if ok.all() else int(np.argmin(ok))
            self.rows = np.concatenate([self.rows, new[:stop]])
            self._read += stop
        return self.rows


class Trace:
    """A neurocore trace file opened for reading. Use `neurocore.traces.open(path)`.

    Schema: `traces/README.md`. Methods re-read the file's current size on each call, so
    a trace still being written shows new samples as the writer flushes them.
    """

    def __init__(self, path: str | Path):
        import h5py

        self.path = Path(path)
        p = self.path
        if not p.exists():
            raise TraceError(f"{p}: no such trace file")
        if not p.is_file():
            raise TraceError(f"{p}: not a file")
        version, flags, stored_eof = _superblock(p)
        size = os.path.getsize(p)  # after reading the superblock: the file only grows
        if version < 0:
            raise TraceError(f"{p}: not an HDF5 file (no HDF5 signature at its start; {size} bytes); "
                             "neurocore traces are HDF5 files written by a run with [trace] enabled = true")
        if stored_eof is not None and size < stored_eof:
            raise TraceError(f"{p}: truncated HDF5 file: it has {size} bytes but its superblock says {stored_eof} "
                             "(cut short while copying, or disk full?)")
        self._swmr = bool(flags & 0x5)  # open for (SWMR) writing: live writer or killed run
        try:
            self._file = h5py.File(p, "r", swmr=True) if self._swmr else h5py.File(p, "r")
        except OSError as exc:
            msg = str(exc)
            if "truncated" in msg:
                raise TraceError(f"{p}: truncated HDF5 file ({msg})") from None
            if "already open" in msg:
                raise TraceError(f"{p}: HDF5 file is open for writing without SWMR by another program "
                                 f"(or it crashed; `h5clear -s {p}` clears the flag): {msg}") from None
            raise TraceError(f"{p}: corrupt or unreadable HDF5 file: {msg}") from None
        try:
            self._load()
        except TraceError:
            self._file.close()
            raise
        except (OSError, KeyError, ValueError) as exc:
            self._file.close()
            raise TraceError(f"{p}: damaged neurocore trace: {exc}") from None

    # ---- opening ------------------------------------------------------------------

    def _load(self) -> None:
        f, p = self._file, self.path
        if S.SCHEMA_ATTR not in f.attrs:
            raise TraceError(f"{p}: an HDF5 file but not a neurocore trace (no '{S.SCHEMA_ATTR}' attribute "
                             f"on its root group; it holds: {', '.join(sorted(f.keys())) or 'nothing'})")
        version = int(f.attrs[S.SCHEMA_ATTR])
        if version > S.SCHEMA_VERSION:
            from .. import __version__
            raise TraceError(f"{p}: trace schema version {version} is newer than this neurocore "
                             f"({__version__}) reads (up to {S.SCHEMA_VERSION}); upgrade neurocore")
        if version < 1:
            raise TraceError(f"{p}: unknown trace schema version {version}")
        missing = [k for k in ("meta", "run/status", "spikes", "probes", "snapshots", "counters") if k not in f]
        if missing:
            raise TraceError(f"{p}: damaged neurocore trace: missing {', '.join(missing)}")
        self.schema_version = version
        self.n_cores = int(f.attrs["n_cores"])
        self.selection: dict = json.loads(_text(f.attrs["selection"]))
        self.netlist_populations: dict[str, int] = json.loads(_text(f.attrs["populations"]))
        self.metadata = self._read_metadata()
        self._spikes = {_text(g.attrs["name"]): g for g in f["spikes"].values()}
        self._probes = {_text(g.attrs["name"]): g for g in f["probes"].values()}
        self.populations: dict[str, int] = {k: int(g.attrs["size"]) for k, g in self._spikes.items()}
        self._indexes: dict[str, _Index] = {}

    def _read_metadata(self) -> dict[str, Any]:
        f = self._file
        out: dict[str, Any] = {"schema_version": int(f.attrs[S.SCHEMA_ATTR]),
                               "neurocore_version": _text(f.attrs["neurocore_version"]),
                               "created": _text(f.attrs["created"]), "n_cores": int(f.attrs["n_cores"])}
        for ds in f["meta"].values():
            value = ds[()]
            if isinstance(value, (bytes, str)):
                value = _text(value)
            elif hasattr(value, "item"):
                value = value.item()
            if ds.attrs.get("encoding") == "json":
                value = json.loads(value)
            out[_text(ds.attrs["key"])] = value
        return out

    # ---- low-level access ------------------------------------------------------------

    def _ds(self, ds):
        if self._swmr:
            ds.refresh()
        return ds

    def _index(self, group) -> np.ndarray:
        """Committed index rows (sample, start, stop) of a streamed group."""
        key = group.name
        limit = min(self._ds(ds).shape[0] for name, ds in group.items() if name not in _NOT_EVENTS)
        idx = self._indexes.get(key)
        if idx is None:
            idx = self._indexes[key] = _Index(group["index"])
        return idx.update(self._swmr, limit)

    def _rows(self, group, sample: int, what: str) -> list[tuple[int, int]]:
        rows = self._index(group)
        hit = rows[rows[:, 0] == sample]
        if not len(hit):
            raise TraceError(f"{self.path}: sample {sample} of {what} was not recorded; recorded samples: "
                             f"{describe_samples(np.unique(rows[:, 0]))}")
        return [(int(a), int(b)) for _, a, b in hit]

    def _read(self, group, columns: tuple[str, ...], ranges: list[tuple[int, int]]) -> list[np.ndarray]:
        out = []
        for c in columns:
            ds = self._ds(group[c])
            parts = [ds[a:b] for a, b in ranges if b > a]
            out.append(np.concatenate(parts) if parts else np.empty((0,) + ds.shape[1:], ds.dtype))
        return out

    def _spike_group(self, population: str):
        g = self._spikes.get(population)
        if g is None:
            raise TraceError(f"{self.path}: population '{population}' is not in this trace; "
                             f"recorded: {', '.join(self._spikes) or 'none'}")
        return g

    def _group(self, name: str, what: str):
        if name not in self._file:
            raise TraceError(f"{self.path}: this trace holds no {what} (the run's [trace] selection left them out)")
        return self._file[name]

    # ---- spikes -------------------------------------------------------------------

    @_guarded
    def samples(self, population: str) -> np.ndarray:
        """Sorted sample indices recorded for a population."""
        return np.unique(self._index(self._spike_group(population))[:, 0])

    @_guarded
    def spikes(self, population: str, sample: int) -> tuple[np.ndarray, np.ndarray]:
        """(ticks, neurons) of every spike of a population in one sample, in the order recorded."""
        g = self._spike_group(population)
        ticks, neurons = self._read(g, ("tick", "neuron"), self._rows(g, sample, f"'{population}'"))
        return ticks.astype(np.int32, copy=False), neurons.astype(np.int32, copy=False)

    @_guarded
    def spike_counts(self, population: str, sample: int | None = None) -> np.ndarray:
        """Spikes per neuron of a population in one sample, or over every recorded sample."""
        g = self._spike_group(population)
        size = self.populations[population]
        if sample is not None:
            _, neurons = self.spikes(population, sample)
            return np.bincount(neurons, minlength=size).astype(np.int64)
        rows = self._index(g)
        end = int(rows[:, 2].max()) if len(rows) else 0
        counts = np.zeros(size, np.int64)
        ds = self._ds(g["neuron"])
        for lo in range(0, end, _READ_ROWS):
            counts += np.bincount(ds[lo:min(lo + _READ_ROWS, end)], minlength=size)
        return counts

    # ---- probes, packets, traffic --------------------------------------------------

    @_guarded
    def probe(self, population: str, sample: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(ticks, neurons, v, i) of a population's probed neurons in one sample; v and i are (ticks, neurons)."""
        g = self._probes.get(population)
        if g is None:
            raise TraceError(f"{self.path}: no membrane probes of '{population}'; "
                             f"probed: {', '.join(self._probes) or 'none'}")
        ticks, v, i = self._read(g, ("tick", "v", "i"), self._rows(g, sample, f"probe '{population}'"))
        return ticks, g["neurons"][:], v, i

    @_guarded
    def probed(self) -> dict[str, np.ndarray]:
        """Population -> probed neuron indices."""
        return {k: g["neurons"][:] for k, g in self._probes.items()}

    @_guarded
    def packets(self, sample: int) -> dict[str, np.ndarray]:
        """AER packets of one sample: arrays tick, src, dst, address."""
        g = self._group("packets", "AER packets")
        cols = tuple(S.PACKET_COLUMNS)
        return dict(zip(cols, self._read(g, cols, self._rows(g, sample, "packets"))))

    @_guarded
    def traffic(self, sample: int | None = None) -> np.ndarray:
        """Core-to-core packet counts (n_cores, n_cores), rows = source, columns = destination.

        One sample's, or the sum over every recorded sample.
        """
        g = self._group("traffic", "traffic counts")
        m = np.zeros((self.n_cores, self.n_cores), np.int64)
        if sample is None:
            if self.status == "complete":
                return self._ds(g["total"])[...].astype(np.int64)
            # `total` is rewritten at full flushes only: sum the committed entries instead
            rows = self._index(g)
            end = int(rows[:, 2].max()) if len(rows) else 0
            for lo in range(0, end, _READ_ROWS):
                _, src, dst, count = self._read(g, tuple(S.TRAFFIC_COLUMNS), [(lo, min(lo + _READ_ROWS, end))])
                np.add.at(m, (src, dst), count)
            return m
        _, src, dst, count = self._read(g, tuple(S.TRAFFIC_COLUMNS), self._rows(g, sample, "traffic"))
        np.add.at(m, (src, dst), count)
        return m

    @_guarded
    def traffic_per_tick(self, sample: int) -> np.ndarray:
        """(ticks, n_cores, n_cores) counts of one sample of a trace recorded with traffic = "per_tick"."""
        g = self._group("traffic", "traffic counts")
        tick, src, dst, count = self._read(g, tuple(S.TRAFFIC_COLUMNS), self._rows(g, sample, "traffic"))
        keep = tick >= 0
        n_ticks = int(tick.max()) + 1 if keep.any() else 0
        m = np.zeros((n_ticks, self.n_cores, self.n_cores), np.int64)
        np.add.at(m, (tick[keep], src[keep], dst[keep]), count[keep])
        return m

    @property
    def traffic_mode(self) -> str:
        """"sum", "per_tick" or "off"."""
        return _text(self._file["traffic"].attrs["mode"]) if "traffic" in self._file else "off"

    # ---- snapshots and counters ------------------------------------------------------

    def _blobs(self, kind: str) -> np.ndarray:
        g = self._file[kind]
        rows = self._ds(g["index"])[:]
        return rows[rows["label"] != b""]  # rows not yet filled in by a live writer are empty

    def _blob(self, kind: str, row) -> np.ndarray:
        ds = self._ds(self._file[kind][S.BLOB_STORES[int(row["store"])]])
        off, size = int(row["offset"]), int(row["size"])
        shape = tuple(int(x) for x in row["shape"][:int(row["ndim"])])
        return ds[off:off + size].astype(np.dtype(row["dtype"].decode()), copy=False).reshape(shape)

    @_guarded
    def snapshot_labels(self) -> list[str]:
        """Labels of the snapshots, in the order they were taken."""
        return list(dict.fromkeys(r["label"].decode() for r in self._blobs("snapshots")))

    @_guarded
    def snapshot_names(self, label: str) -> list[str]:
        """Names of the arrays stored under a snapshot label."""
        return [r["name"].decode() for r in self._blobs("snapshots") if r["label"].decode() == label]

    @_guarded
    def snapshot(self, label: str, name: str) -> np.ndarray:
        """The array stored under (label, name), with its original shape and dtype."""
        rows = self._blobs("snapshots")
        hit = rows[(rows["label"] == label.encode()) & (rows["name"] == name.encode())]
        if not len(hit):
            have = sorted({f"{r['label'].decode()}/{r['name'].decode()}" for r in rows})
            raise TraceError(f"{self.path}: no snapshot '{name}' at '{label}'; snapshots: {', '.join(have) or 'none'}")
        return self._blob("snapshots", hit[-1])

    @_guarded
    def counters(self) -> dict[str, dict[str, Any]]:
        """label -> {name: value}: numbers as Python scalars, arrays as numpy arrays."""
        out: dict[str, dict[str, Any]] = {}
        for r in self._blobs("counters"):
            value = self._blob("counters", r)
            out.setdefault(r["label"].decode(), {})[r["name"].decode()] = value.item() if value.ndim == 0 else value
        return out

    # ---- summary ------------------------------------------------------------------

    @property
    @_guarded
    def status(self) -> str:
        """"complete", "closed after error" or "open or killed" (writer still running or killed)."""
        closed = int(self._ds(self._file["run/status"])[0]["closed"])
        return {S.CLOSED_OK: "complete", S.CLOSED_ERROR: "closed after error"}.get(closed, "open or killed")

    @_guarded
    def info(self) -> dict[str, Any]:
        """Contents, sizes and span of the trace as a JSON-ready dict."""
        st = self._ds(self._file["run/status"])[0]
        recorded = [np.empty(0, np.int64)]

        def summary(g) -> dict[str, int]:
            rows = self._index(g)
            recorded.append(rows[:, 0])
            return {"samples": int(len(np.unique(rows[:, 0]))), "rows": int((rows[:, 2] - rows[:, 1]).sum()),
                    "bytes": _stored(g)}

        pops = {}
        for name, g in self._spikes.items():
            s = summary(g)
            pops[name] = {"size": self.populations[name], "samples": s["samples"], "spikes": s["rows"],
                          "bytes": s["bytes"]}
        probes = {name: {"neurons": g["neurons"][:].tolist(), **summary(g)} for name, g in self._probes.items()}
        extra = {key: summary(self._file[key]) for key in ("packets", "traffic") if key in self._file}
        samples = np.concatenate(recorded)
        if "traffic" in extra:
            extra["traffic"]["mode"] = self.traffic_mode
            extra["traffic"]["packets"] = int(self.traffic().sum())
        snaps = [{"label": r["label"].decode(), "name": r["name"].decode(), "dtype": np.dtype(r["dtype"].decode()).name,
                  "shape": [int(x) for x in r["shape"][:int(r["ndim"])]]} for r in self._blobs("snapshots")]
        meta = {k: v for k, v in self.metadata.items() if k not in ("experiment_toml",)}
        if "experiment_toml" in self.metadata:
            meta["experiment_toml"] = f"<{len(str(self.metadata['experiment_toml']))} characters>"

        ticks = None if st["tick_first"] < 0 else [int(st["tick_first"]), int(st["tick_last"])]
        return {
            "path": str(self.path), "bytes": os.path.getsize(self.path), "schema_version": self.schema_version,
            "status": self.status, "flushes": int(st["flushes"]), "metadata": meta, "n_cores": self.n_cores,
            "span": {"samples": [int(samples.min()), int(samples.max())] if len(samples) else None,
                     "ticks": ticks},
            "populations": pops, "probes": probes, "packets": extra.get("packets"), "traffic": extra.get("traffic"),
            "snapshots": snaps, "counters": list(self.counters()), "selection": self.selection,
        }

    def refresh(self) -> None:
        """Forget cached indexes (methods already see new data; this also drops memory)."""
        self._indexes.clear()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "Trace":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<neurocore Trace {self.path} populations={list(self.populations)}>"


def describe_samples(samples: np.ndarray) -> str:
    """Sorted sample indices in a few words: '0, 200, ..., 3800 (stride 200, 20 samples)'."""
    n = len(samples)
    if n == 0:
        return "none"
    if n <= 4:
        return ", ".join(str(int(s)) for s in samples)
    steps = np.unique(np.diff(samples))
    first, second, last = int(samples[0]), int(samples[1]), int(samples[-1])
    if len(steps) == 1:
        return f"{first}, {second}, ..., {last} (stride {int(steps[0])}, {n} samples)"
    return f"{first}, {second}, ..., {last} ({n} samples, irregular steps of {int(steps[0])} to {int(steps[-1])})"


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _stored(group) -> int:
    """Bytes a group's datasets take on disk (after compression)."""
    total = 0
    for obj in group.values():
        if hasattr(obj, "id") and hasattr(obj.id, "get_storage_size"):
            total += obj.id.get_storage_size()
    return total
