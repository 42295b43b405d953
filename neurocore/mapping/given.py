"""A placement a user gives: a TOML file that pins every slice of every population to a core.

    [[slice]]                      # a range of neurons [start, stop) on a core
    population = "hidden"
    start = 0
    stop = 256
    core = 3

    [[slice]]                      # a block of a shared-kernel convolution's (C, H, W) map:
    population = "conv1"           # channels [c0, c1) x rows [y0, y1) x every column
    block = {c0 = 0, c1 = 4, y0 = 0, y1 = 8}
    core = 4

The slices of a population must hold each of its neurons exactly once. The placement is held to
the same core limits as the placer's (neurons, axons, crossbars, routing entries); a bad file is a
one-line ConfigError naming the file, the key, its value and the limit. `placement_toml` writes
the placement a strategy chose in this form, so that a user can edit it and give it back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..chip import Chip
from ..config import load_toml
from ..errors import ConfigError
from ..netlist import Netlist
from .placement import LIMITS, Placement
from .slices import Block, Slice, map_shape

TOP_KEYS = ("network", "chip", "conv", "slice")
RANGE_KEYS = ("population", "start", "stop", "core")
BLOCK_KEYS = ("population", "block", "core")
BLOCK_FIELDS = ("c0", "c1", "y0", "y1")


def _int(row: dict, key: str, where: str, source: str) -> int:
    v = row.get(key)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ConfigError(f"= {v!r} is not an integer" if key in row else "is missing (an integer)",
                          source, f"{where}.{key}")
    return v


def _slice(row: Any, k: int, netlist: Netlist, chip: Chip, conv: str, source: str) -> Slice:
    where = f"slice[{k}]"
    if not isinstance(row, dict):
        raise ConfigError(f"= {row!r} is not a table (population, start, stop, core)", source, where)
    pop = row.get("population")
    if not isinstance(pop, str) or pop not in netlist.populations:
        raise ConfigError(f"= {pop!r} is not a population of network '{netlist.name}'; allowed: "
                          f"{', '.join(netlist.populations)}", source, f"{where}.population")
    shape = map_shape(netlist, pop, conv)
    allowed = RANGE_KEYS if shape is None else BLOCK_KEYS
    extra = sorted(set(row) - set(allowed))
    if extra:
        what = "a range (start, stop)" if shape is None else f"a block of its {shape} map (block = {{c0, c1, y0, y1}})"
        raise ConfigError(f"is not a key of a slice of '{pop}', which is {what}; allowed: {', '.join(allowed)}",
                          source, f"{where}.{extra[0]}")
    core = _int(row, "core", where, source)
    if not 0 <= core < chip.cores:
        raise ConfigError(f"= {core} is not a core of chip '{chip.name}'; allowed: 0 to {chip.cores - 1}",
                          source, f"{where}.core")
    if shape is None:
        size = netlist.populations[pop].size
        start, stop = _int(row, "start", where, source), _int(row, "stop", where, source)
        if not 0 <= start < stop <= size:
            raise ConfigError(f"= [{start}, {stop}) is not a range of population '{pop}'; allowed: "
                              f"0 <= start < stop <= {size}", source, f"{where}.start")
        return Slice(pop, start, stop, core)
    b = row.get("block")
    if not isinstance(b, dict) or set(b) != set(BLOCK_FIELDS):
        raise ConfigError(f"= {b!r} is not a block; allowed: a table of c0, c1, y0, y1", source, f"{where}.block")
    c0, c1, y0, y1 = (_int(b, f, f"{where}.block", source) for f in BLOCK_FIELDS)
    if not (0 <= c0 < c1 <= shape[0] and 0 <= y0 < y1 <= shape[1]):
        raise ConfigError(f"= {{c0 = {c0}, c1 = {c1}, y0 = {y0}, y1 = {y1}}} is not a block of the {shape} map of "
                          f"'{pop}'; allowed: 0 <= c0 < c1 <= {shape[0]}, 0 <= y0 < y1 <= {shape[1]}",
                          source, f"{where}.block")
    return Slice(pop, -1, -1, core, Block(shape, c0, c1, y0, y1))


def _check_cover(slices: list[Slice], netlist: Netlist, source: str) -> None:
    """Every neuron of every population in exactly one slice."""
    for name, pop in netlist.populations.items():
        owner = np.full(pop.size, -1, np.int64)
        for k, s in enumerate(slices):
            if s.population != name:
                continue
            m = s.members()
            twice = m[owner[m] >= 0]
            if len(twice):
                raise ConfigError(f"puts neuron {int(twice[0])} of population '{name}' in a second slice (it is "
                                  f"already in slice[{int(owner[twice[0]])}]); allowed: each neuron in one slice",
                                  source, f"slice[{k}]")
            owner[m] = k
        missing = np.nonzero(owner < 0)[0]
        if len(missing):
            raise ConfigError(f"= no slice holds neuron {int(missing[0])} of population '{name}' ({len(missing)} of "
                              f"its {pop.size} neurons on no core); allowed: slices that cover every neuron",
                              source, "slice")


def given_placement(netlist: Netlist, chip: Chip, path: str | Path, conv: str = "shared",
                    others: bool = False) -> Placement:
    """The placement a file pins, checked against the chip's core limits. With `others`, slices of
    populations the netlist lacks are skipped (a forward netlist placed from its training netlist's file)."""
    source = str(path)
    data = load_toml(path)
    extra = sorted(set(data) - set(TOP_KEYS))
    if extra:
        raise ConfigError(f"is not a key of a placement file; allowed: {', '.join(TOP_KEYS)}", source, extra[0])
    rows = data.get("slice")
    if not isinstance(rows, list) or not rows:
        raise ConfigError("is missing: a placement file lists its slices as [[slice]] tables", source, "slice")
    if "conv" in data and data["conv"] != conv:
        raise ConfigError(f"= {data['conv']!r} but this network is mapped with conv = {conv!r}; allowed: {conv!r}",
                          source, "conv")
    keep = [(k, r) for k, r in enumerate(rows)
            if not (others and isinstance(r, dict) and isinstance(r.get("population"), str)
                    and r["population"] not in netlist.populations)]
    slices = [_slice(r, k, netlist, chip, conv, source) for k, r in keep]
    _check_cover(slices, netlist, source)
    pl = Placement(chip, netlist, "given", list(slices), conv=conv)
    use, lim = pl.usage(), pl.limits()
    for key in LIMITS:
        over = np.nonzero(use[key] > lim[key])[0]
        if len(over):
            c = int(over[0])
            k = next(k for (k, _), s in zip(keep, slices) if s.core == c)
            pops = sorted({s.population for s in slices if s.core == c})
            raise ConfigError(f"= {c}: core {c} (populations {', '.join(pops)}) would need {use[key][c]} {key}, over "
                              f"the limit of chip '{chip.name}' of {lim[key]} {key} per core (by "
                              f"{use[key][c] - lim[key]}); allowed: slices whose core needs <= {lim[key]} {key}",
                              source, f"slice[{k}].core")
    return pl


def placement_toml(pl: Placement) -> str:
    """A placement as a file `given_placement` reads back."""
    lines = [f"# neurocore placement: network '{pl.netlist.name}' on chip '{pl.chip.name}' ({pl.strategy}); "
             "edit the cores and give it back with --placement FILE",
             f"network = {_q(pl.netlist.name)}", f"chip = {_q(pl.chip.name)}", f"conv = {_q(pl.conv)}"]
    for s in pl.slices:
        lines += ["", "[[slice]]", f"population = {_q(s.population)}"]
        if s.block is None:
            lines += [f"start = {s.start}", f"stop = {s.stop}"]
        else:
            b = s.block
            lines.append(f"block = {{c0 = {b.c0}, c1 = {b.c1}, y0 = {b.y0}, y1 = {b.y1}}}")
        lines.append(f"core = {s.core}")
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
