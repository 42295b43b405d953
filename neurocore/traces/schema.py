"""Names, dtypes and version of the trace file layout, shared by writer and reader.

The layout itself is documented in `traces/README.md`; change both together and bump
SCHEMA_VERSION when a reader of the old version could misread the new files.
"""

from __future__ import annotations

import numpy as np

SCHEMA_VERSION = 1
FORMAT = "neurocore-trace"
SCHEMA_ATTR = "neurocore_schema"

# Event columns of each streamed group: name -> dtype.
SPIKE_COLUMNS = {"tick": np.int32, "neuron": np.int32}  # neuron: uint16 for populations of <= 65536


def spike_columns(size: int) -> dict:
    """Spike event columns of a population of `size` neurons (narrow neuron indices when they fit)."""
    return {**SPIKE_COLUMNS, "neuron": np.uint16 if size <= 1 << 16 else np.int32}
PACKET_COLUMNS = {"tick": np.int32, "src": np.int32, "dst": np.int32, "address": np.int64}
TRAFFIC_COLUMNS = {"tick": np.int32, "src": np.int32, "dst": np.int32, "count": np.int64}
PROBE_COLUMNS = {"tick": np.int32}  # plus "v" and "i": float32 (rows, k)
PROBE_VALUE = np.float32
INDEX_DTYPE = np.int64  # index rows: (sample, start, stop), stop exclusive; fill -1 = not committed
INDEX_FILL = -1
TOTAL_DTYPE = np.int64

LABEL_BYTES = 64
MAX_NDIM = 8
BLOB_INDEX_DTYPE = np.dtype([
    ("label", f"S{LABEL_BYTES}"), ("name", f"S{LABEL_BYTES}"), ("store", "u1"), ("dtype", "S8"),
    ("offset", "i8"), ("size", "i8"), ("ndim", "u1"), ("shape", "i8", (MAX_NDIM,)),
])
BLOB_STORES = ("data32", "data64")  # store 0 holds float32, store 1 float64 values

STATUS_DTYPE = np.dtype([
    ("closed", "i8"), ("flushes", "i8"), ("sample_first", "i8"), ("sample_last", "i8"),
    ("tick_first", "i8"), ("tick_last", "i8"),
])
CLOSED_NO, CLOSED_OK, CLOSED_ERROR = 0, 1, 2


def group_name(population: str) -> str:
    """HDF5 link name of a population ('/' and '%' are escaped; the real name is attribute `name`)."""
    if not population or population in (".", ".."):
        raise ValueError(f"population name {population!r} cannot name an HDF5 group")
    return population.replace("%", "%25").replace("/", "%2F")


def blob_store_for(dtype: np.dtype) -> int:
    """0 (float32 store) for values float32 holds exactly, else 1 (float64 store)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b" or (dtype.kind in "iu" and dtype.itemsize <= 2) or (dtype.kind == "f" and dtype.itemsize <= 4):
        return 0
    if dtype.kind in "iuf":
        return 1
    raise ValueError(f"cannot store arrays of dtype {dtype} in a trace (numbers and booleans only)")


def encode_label(text: str, what: str) -> bytes:
    """Fixed-length UTF-8 bytes of a snapshot/counter label or name; empty or too long is a ValueError."""
    raw = str(text).encode("utf-8")
    if not raw or len(raw) > LABEL_BYTES:
        raise ValueError(f"{what} {text!r} must be 1..{LABEL_BYTES} bytes of UTF-8")
    return raw
