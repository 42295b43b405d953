"""Which training methods an experiment can name (`method = "..."`), each by `module:function` paths.

A leaf: it imports nothing of neurocore but the errors, and names each method's pieces by strings
(as a sweep names its runner), so the experiment loader and the run folders know the methods
without importing `neurocore.methods`; a piece is imported only when asked for.

- `ssnn-bp` (the default): SSNN-BP learning in place on the chip (`neurocore.methods.ssnn_bp`);
- `lee2020`: spike-based backpropagation of Lee et al. (2020) off the chip, in PyTorch (the
  optional extra ``neurocore[lee2020]``), then deployed on the chip through NIR;
- `bats`: exact event-based gradients through multiple spikes per neuron (Bacho and Chu) off the
  chip, an event-driven continuous-time simulator in numba, then deployed on the chip through NIR.

Adding a method is one entry in `METHODS` and its package under `neurocore/methods/`; what its
pieces provide is said in `neurocore.methods`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

from .errors import ConfigError

DEFAULT_METHOD = "ssnn-bp"


def load(path: str) -> Callable[..., Any]:
    """The function named by 'module:function'."""
    mod_name, _, fn_name = path.partition(":")
    return getattr(importlib.import_module(mod_name), fn_name)


@dataclass(frozen=True)
class Method:
    """One training method: its name, where it learns, and where its pieces live ('module:function').

    specs_at: () -> ([net] spec, [train] spec) dataclasses; protocol_at: the module of the method
    protocol (`neurocore.methods`: train, infer, placement, export, study_point);
    trainer_at (off the chip): (experiment, training Dataset) -> trainer; requires_at: raises a
    NeurocoreError saying what to install, if anything is missing."""

    name: str
    summary: str
    on_chip: bool
    specs_at: str
    protocol_at: str
    trainer_at: str | None = None
    requires_at: str | None = None

    def specs(self) -> tuple[type, type]:
        """The ([net] spec, [train] spec) dataclasses of the method."""
        return load(self.specs_at)()

    def trainer(self, exp: Any, data: Any) -> Any:
        """The off-chip trainer of an experiment (a method that learns on the chip has none)."""
        if self.trainer_at is None:
            raise ConfigError(f"= {self.name!r} learns on the chip; it has no off-chip trainer", exp.source, "method")
        return load(self.trainer_at)(exp, data)

    def protocol(self) -> Any:
        """The module that runs the method for the commands (train, infer, placement, export, study_point)."""
        return importlib.import_module(self.protocol_at)

    def check(self) -> None:
        """Raise a NeurocoreError of one line if what the method needs is not installed."""
        if self.requires_at is not None:
            load(self.requires_at)()


METHODS: dict[str, Method] = {m.name: m for m in (
    Method("ssnn-bp", "SSNN-BP, learning in place on the chip", True,
           "neurocore.methods:ssnn_specs", "neurocore.methods.ssnn_bp.protocol"),
    Method("lee2020", "Lee et al. 2020 spike-based backprop, off the chip (PyTorch), deployed through NIR", False,
           "neurocore.methods:lee2020_specs", "neurocore.methods.offchip",
           "neurocore.methods:lee2020_trainer", "neurocore.methods.lee2020:require_torch"),
    Method("bats", "BATS, exact event-based gradients through multiple spikes, off the chip (numba), deployed "
                   "through NIR", False,
           "neurocore.methods:bats_specs", "neurocore.methods.offchip",
           "neurocore.methods:bats_trainer"),
)}


def get_method(name: Any, source: str = "<python>") -> Method:
    """The method called `name`; a ConfigError of one line listing the methods otherwise."""
    if isinstance(name, str) and name in METHODS:
        return METHODS[name]
    known = "; ".join(f"{m.name} ({m.summary})" for m in METHODS.values())
    raise ConfigError(f"= {name!r} is not a training method; methods: {known}", source, "method")
