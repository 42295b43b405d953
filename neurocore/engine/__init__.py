"""The engine: a compiled, event-driven tick loop over a mapped netlist's flat arrays."""

from .compiled import Compiled, compile_placement
from .run import Engine, RunResult, SourceDrive, SpikeDrive

__all__ = ["Compiled", "compile_placement", "Engine", "RunResult", "SourceDrive", "SpikeDrive"]
