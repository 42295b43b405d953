"""Let standard HDF5 tools open a trace whose writer was killed (or hit a full disk).

A trace is written in SWMR mode: while it is open for writing, its superblock (format version 3)
carries "file consistency flags" that say so, and HDF5 1.10+ refuses to open such a file
(`h5ls`: "unable to open file") unless it is opened as a SWMR reader, as neurocore's own reader
does. A writer that dies never clears them. `clear_open_flag` does what `h5clear -s` (Debian's
hdf5-tools) does: it sets the flags byte to 0 and rewrites the superblock's checksum, in place
(two small writes, so it works on a full disk too). Every sample flushed before the kill is then
readable by any HDF5 tool: the writer puts an index row on disk only after the events it points at.

Superblock v2/v3 layout (HDF5 file format specification, "Superblock Format Version 2 and 3"):
signature (8 bytes), version (1), size of offsets (1), size of lengths (1), file consistency flags
(1), base address, superblock extension address, end-of-file address, root group object header
address (size of offsets bytes each), checksum (4: Jenkins' lookup3 `hashlittle`, initval 0, of
everything before it).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import TraceError

SIGNATURE = b"\x89HDF\r\n\x1a\n"
_M = 0xFFFFFFFF


def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _M


def lookup3(data: bytes, initval: int = 0) -> int:
    """Bob Jenkins' lookup3 `hashlittle` of `data` (the checksum of HDF5's metadata)."""
    n = len(data)
    a = b = c = (0xDEADBEEF + n + initval) & _M
    k = 0
    while n - k > 12:
        a = (a + int.from_bytes(data[k:k + 4], "little")) & _M
        b = (b + int.from_bytes(data[k + 4:k + 8], "little")) & _M
        c = (c + int.from_bytes(data[k + 8:k + 12], "little")) & _M
        a = (a - c) & _M; a ^= _rot(c, 4); c = (c + b) & _M  # noqa: E702 - lookup3's mix(), as published
        b = (b - a) & _M; b ^= _rot(a, 6); a = (a + c) & _M  # noqa: E702
        c = (c - b) & _M; c ^= _rot(b, 8); b = (b + a) & _M  # noqa: E702
        a = (a - c) & _M; a ^= _rot(c, 16); c = (c + b) & _M  # noqa: E702
        b = (b - a) & _M; b ^= _rot(a, 19); a = (a + c) & _M  # noqa: E702
        c = (c - b) & _M; c ^= _rot(b, 4); b = (b + a) & _M  # noqa: E702
        k += 12
    rest = data[k:]
    if not rest:
        return c
    tail = rest + bytes(12 - len(rest))  # the last 1..12 bytes, zero-padded, added as three words
    a = (a + int.from_bytes(tail[0:4], "little")) & _M
    b = (b + int.from_bytes(tail[4:8], "little")) & _M
    c = (c + int.from_bytes(tail[8:12], "little")) & _M
    c ^= b; c = (c - _rot(b, 14)) & _M  # noqa: E702 - lookup3's final(), as published
    a ^= c; a = (a - _rot(c, 11)) & _M  # noqa: E702
    b ^= a; b = (b - _rot(a, 25)) & _M  # noqa: E702
    c ^= b; c = (c - _rot(b, 16)) & _M  # noqa: E702
    a ^= c; a = (a - _rot(c, 4)) & _M  # noqa: E702
    b ^= a; b = (b - _rot(a, 14)) & _M  # noqa: E702
    c ^= b; c = (c - _rot(b, 24)) & _M  # noqa: E702
    return c


def _superblock(fh, size: int) -> int:
    """Offset of the superblock: 0, 512, 1024, 2048, ... (after a user block)."""
    at = 0
    while at + len(SIGNATURE) <= size:
        fh.seek(at)
        if fh.read(len(SIGNATURE)) == SIGNATURE:
            return at
        at = 512 if at == 0 else at * 2
    raise TraceError("not an HDF5 file (no superblock signature)")


def open_flags(path: str | Path) -> int:
    """The superblock's file consistency flags (0: closed cleanly or repaired; superblocks before version 2
    have none that matter: 0)."""
    p = Path(path)
    with p.open("rb") as fh:
        at = _superblock(fh, p.stat().st_size)
        fh.seek(at + 8)
        head = fh.read(4)
    return head[3] if len(head) == 4 and head[0] >= 2 else 0


def clear_open_flag(path: str | Path) -> bool:
    """Clear the open-for-writing flags of a trace's superblock in place (as `h5clear -s`); True if they were
    set. The file must not be open for writing by a live process."""
    p = Path(path)
    try:
        with p.open("r+b") as fh:
            at = _superblock(fh, p.stat().st_size)
            fh.seek(at + 8)
            version, offsets = fh.read(2)
            if version < 2:
                return False
            n = 12 + 4 * offsets  # everything the checksum covers
            fh.seek(at)
            block = bytearray(fh.read(n + 4))
            if len(block) < n + 4:
                raise TraceError(f"{p}: not a usable HDF5 file (its superblock is cut short)")
            if int.from_bytes(block[n:], "little") != lookup3(bytes(block[:n])):
                raise TraceError(f"{p}: the HDF5 superblock's checksum does not match; not repaired")
            if block[11] == 0:
                return False
            block[11] = 0
            fh.seek(at + 11)
            fh.write(b"\x00")
            fh.seek(at + n)
            fh.write(lookup3(bytes(block[:n])).to_bytes(4, "little"))
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        from ..files import reason
        raise TraceError(f"{p}: cannot repair the trace: {reason(exc)}") from None
    return True
