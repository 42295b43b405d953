"""The mesh's directed links and dimension-order (X then Y) routes over them.

Link `k` joins two neighbouring cores in one direction; `links(chip)[k] = (from, to)`.
A packet from core a to core b first moves along x to b's column, then along y.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..chip import Chip


@lru_cache(maxsize=32)
def _links(width: int, height: int) -> tuple[tuple[int, int], ...]:
    out = []
    for y in range(height):
        for x in range(width):
            c = y * width + x
            if x + 1 < width:
                out += [(c, c + 1), (c + 1, c)]
            if y + 1 < height:
                out += [(c, c + width), (c + width, c)]
    return tuple(out)


def links(chip: Chip) -> tuple[tuple[int, int], ...]:
    """Every directed link of the mesh as (from core, to core), in link-index order."""
    return _links(chip.mesh.width, chip.mesh.height)


@lru_cache(maxsize=32)
def _link_index(width: int, height: int) -> dict[tuple[int, int], int]:
    return {ab: k for k, ab in enumerate(_links(width, height))}


def route(chip: Chip, src: int, dst: int) -> list[int]:
    """Link indices a packet from `src` to `dst` crosses, in order (X first, then Y)."""
    w = chip.mesh.width
    index = _link_index(w, chip.mesh.height)
    (x, y), (bx, by) = chip.xy(src), chip.xy(dst)
    path = []
    while x != bx:
        nx = x + (1 if bx > x else -1)
        path.append(index[(y * w + x, y * w + nx)])
        x = nx
    while y != by:
        ny = y + (1 if by > y else -1)
        path.append(index[(y * w + x, ny * w + x)])
        y = ny
    return path


def link_loads(chip: Chip, traffic: np.ndarray) -> np.ndarray:
    """Packets carried by each directed link, for a (n_cores, n_cores) src->dst packet matrix."""
    traffic = np.asarray(traffic)
    _check_square(chip, traffic, "traffic")
    loads = np.zeros(len(links(chip)), dtype=np.float64)
    for s, d in zip(*np.nonzero(traffic)):
        loads[route(chip, int(s), int(d))] += traffic[s, d]
    return loads


def _check_square(chip: Chip, a: np.ndarray, name: str) -> None:
    if a.shape[-2:] != (chip.cores, chip.cores):
        raise ValueError(f"{name} has shape {a.shape}; expected (..., {chip.cores}, {chip.cores}) "
                         f"for chip '{chip.name}' ({chip.mesh.width}x{chip.mesh.height} cores)")
