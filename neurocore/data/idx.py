"""IDX files, the format of MNIST, Fashion-MNIST and EMNIST: read (gzipped or plain) and write.

An IDX file is a 4-byte magic number ``00 00 TT DD`` (TT the element type, DD the number of
dimensions), DD big-endian uint32 sizes, then the elements in big-endian C order. Every
problem a user can fix (missing, truncated, not IDX, images and labels disagreeing) is a
:class:`~neurocore.errors.DataError` naming the file.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError

#: IDX type code -> big-endian numpy dtype.
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _raw_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed when it is gzip (by magic bytes; a '.gz' name holding
    plain IDX, as some browsers leave it, is read as plain)."""
    try:
        with path.open("rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise DataError(f"{path}: IDX file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, expected an IDX file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if raw[:2] != _GZIP_MAGIC:
        if path.suffix == ".gz" and len(raw) < 4:
            raise DataError(f"{path}: truncated: {len(raw)} bytes, too short for a gzip or IDX header")
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise DataError(f"{path}: truncated gzip stream ({len(raw)} compressed bytes); "
                        "the file was cut off, download or copy it again") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(f"{path}: corrupt gzip data ({exc}); download or copy the file again") from None


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (gzipped or plain) into an array of native byte order and the file's shape."""
    p = Path(path)
    raw = _raw_bytes(p)
    if len(raw) < 4:
        raise DataError(f"{p}: truncated: expected at least 4 bytes of IDX header, found {len(raw)}")
    zero, code, ndim = raw[0:2], raw[2], raw[3]
    if zero != b"\x00\x00" or code not in IDX_TYPES or ndim == 0:
        magic = int.from_bytes(raw[:4], "big")
        raise DataError(
            f"{p}: not an IDX file: bad magic number 0x{magic:08X}; expected 0x0000TTDD with type "
            f"TT in {{{', '.join(f'0x{c:02X}' for c in IDX_TYPES)}}} and DD >= 1 dimensions "
            "(e.g. 0x00000803 for images, 0x00000801 for labels)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{p}: truncated: expected {header} bytes of IDX header for {ndim} dimensions, "
                        f"found {len(raw)}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = IDX_TYPES[code]
    count = int(np.prod(shape, dtype=np.int64))
    expected = header + count * dtype.itemsize
    if len(raw) < expected:
        raise DataError(f"{p}: truncated: expected {expected} bytes (header {header} + "
                        f"{count} x {dtype.itemsize}-byte elements for shape {shape}), found {len(raw)} "
                        "(after decompression); the file was cut off, download or copy it again")
    if len(raw) > expected:
        raise DataError(f"{p}: {len(raw) - expected} unexpected bytes after the data: expected {expected} "
                        f"bytes for shape {shape}, found {len(raw)}; not a well-formed IDX file")
    arr = np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))


def read_idx_pair(images_path: str | Path, labels_path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read an images file (N, ...) and its labels file (N,), checking that they match."""
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim < 2:
        raise DataError(f"{images_path}: expected an images file of at least 2 dimensions (N, ...), "
                        f"found shape {images.shape}")
    if labels.ndim != 1:
        raise DataError(f"{labels_path}: expected a labels file of 1 dimension (N,), found shape {labels.shape}")
    if images.shape[0] != labels.shape[0]:
        raise DataError(f"images and labels do not match: {images_path} holds {images.shape[0]} images, "
                        f"{labels_path} holds {labels.shape[0]} labels")
    return images, labels


def write_idx(path: str | Path, array: np.ndarray) -> Path:
    """Write `array` as an IDX file, gzipped when the name ends in '.gz'; returns the path."""
    p = Path(path)
    a = np.asarray(array)
    codes = {dt.newbyteorder("="): c for c, dt in IDX_TYPES.items()}
    native = a.dtype.newbyteorder("=")
    if native not in codes:
        raise DataError(f"{p}: cannot write dtype {a.dtype} as IDX; allowed: "
                        f"{', '.join(str(d) for d in codes)}")
    if a.ndim == 0 or a.ndim > 255:
        raise DataError(f"{p}: IDX needs 1 to 255 dimensions, got {a.ndim}")
    code = codes[native]
    head = bytes([0, 0, code, a.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in a.shape)
    body = np.ascontiguousarray(a, dtype=IDX_TYPES[code]).tobytes()
    data = head + body
    if p.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    p.write_bytes(data)
    return p
