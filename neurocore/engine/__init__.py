"""The engine: a compiled, event-driven tick loop over a mapped netlist's records."""

from .compiled import Compiled, compile_placement
from .drive import SourceDrive, SpikeDrive
from .run import Engine, RunOptions, RunResult

__all__ = ["Compiled", "compile_placement", "Engine", "RunOptions", "RunResult", "SourceDrive", "SpikeDrive"]
