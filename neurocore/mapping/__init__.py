"""Mapping a netlist onto a chip: slices on cores, crossbar and kernel tiles, multicast routes.

A population is split into *slices* that each fit one core. A weight-carrying projection
becomes *tiles* on its post slices' cores: crossbar tiles (a block of at most
`crossbar_rows` pre neurons x the slice's neurons) or, for convolutions and pooling, one
shared kernel per slice. `place` refuses a netlist that does not fit, naming the limit,
where, by how much, and what would fit.
"""

from .given import given_placement, placement_toml
from .placement import CONV_MODES, LIMITS, Placement, check_fits
from .slices import Block, Slice
from .strategies import STRATEGIES, Strategy, place
from .tiles import CROSSBAR, KERNEL, Tile


__all__ = ["given_placement", "placement_toml", "CONV_MODES", "LIMITS", "Placement", "check_fits", "Block", "Slice", "STRATEGIES", "Strategy", "place",
           "CROSSBAR", "KERNEL", "Tile"]
