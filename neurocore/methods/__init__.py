"""The training methods an experiment can name (`method = "..."`), and what each one is.

- `ssnn-bp` (the default): SSNN-BP learning in place on the chip (`neurocore.training`);
- `lee2020`: spike-based backpropagation of Lee et al. (2020) off the chip, in PyTorch (the
  optional extra ``neurocore[lee2020]``), then deployed on the chip through NIR.
- `bats`: exact event-based gradients through multiple spikes per neuron (Bacho and Chu) off the
  chip, an event-driven continuous-time simulator in numba, then deployed on the chip through NIR.

A method says which dataclasses validate the experiment's `[net]` and `[train]` tables, whether
it learns on the chip, and (off the chip) how to build its trainer. Every off-chip method runs
through the same loop (`neurocore.methods.offchip`: run folder, checkpoint, resume, results,
deployment on the chip after every epoch), so `neurocore train` / `infer` / `sweep` treat them alike.

An off-chip trainer provides

    train_batch(images, labels, epoch, first_index) -> dict   # "correct" (and "loss") of the batch;
                                                                # first_index: the batch's position in the epoch
    evaluate(images, labels) -> dict                            # "accuracy" (and "loss") off the chip
    input_spikes(images, first_index) -> array (steps, samples, *input shape)
                                                                # the spikes `evaluate` draws for the samples
                                                                # at first_index... of the evaluated set
    state() -> dict[str, np.ndarray];  load_state(state)       # everything a resumed run needs
    to_nir() -> nir.NIRGraph                                    # metadata "dt", "discretisation", and
                                                                # "spikes" = "dirac" for continuous time
    epoch_order(epoch, n) -> np.ndarray                         # optional; default: permutation of
                                                                # default_rng([seed, 2, epoch])

and its `[train]` spec has `epochs` and `batch`. Adding a method is one entry in `METHODS`
(and its package under `neurocore/methods/`). Importing this package costs nothing: specs
and trainers are imported when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..errors import ConfigError

DEFAULT_METHOD = "ssnn-bp"


@dataclass(frozen=True)
class Method:
    """One training method: its name, where it learns, its specs and (off the chip) its trainer."""

    name: str
    summary: str
    on_chip: bool
    specs: Callable[[], tuple[type, type]]  # the ([net] spec, [train] spec) dataclasses
    trainer: Callable[[Any, Any], Any] | None = None  # (experiment, training Dataset) -> trainer; off the chip
    requires: Callable[[], None] | None = None  # raises NeurocoreError saying what to install, if anything is missing

    def check(self) -> None:
        """Raise a NeurocoreError of one line if what the method needs is not installed."""
        if self.requires is not None:
            self.requires()


def _ssnn_specs() -> tuple[type, type]:
    from ..learning.ssnn import SSNNSpec, TrainSpec
    return SSNNSpec, TrainSpec


def _lee2020_specs() -> tuple[type, type]:
    from .lee2020.spec import Lee2020NetSpec, Lee2020TrainSpec
    return Lee2020NetSpec, Lee2020TrainSpec


def _lee2020_requires() -> None:
    from .lee2020 import require_torch
    require_torch()


def _lee2020_trainer(exp: Any, data: Any) -> Any:
    from . import lee2020
    return lee2020.Lee2020Trainer(exp.net, exp.train, exp.seed, data.n_classes, data.image_shape or (data.n_features,),
                                  threads=exp.train.threads or None)


def _bats_specs() -> tuple[type, type]:
    from .bats.spec import BatsNetSpec, BatsTrainSpec
    return BatsNetSpec, BatsTrainSpec


def _bats_trainer(exp: Any, data: Any) -> Any:
    from .bats import BatsTrainer
    return BatsTrainer(exp.net, exp.train, exp.seed, data.n_classes, data.n_features)


METHODS: dict[str, Method] = {m.name: m for m in (
    Method("ssnn-bp", "SSNN-BP, learning in place on the chip", True, _ssnn_specs),
    Method("lee2020", "Lee et al. 2020 spike-based backprop, off the chip (PyTorch), deployed through NIR", False,
           _lee2020_specs, _lee2020_trainer, _lee2020_requires),
    Method("bats", "BATS, exact event-based gradients through multiple spikes, off the chip (numba), deployed "
                   "through NIR", False, _bats_specs, _bats_trainer),
)}


def get_method(name: Any, source: str = "<python>") -> Method:
    """The method called `name`; a ConfigError of one line listing the methods otherwise."""
    if isinstance(name, str) and name in METHODS:
        return METHODS[name]
    known = "; ".join(f"{m.name} ({m.summary})" for m in METHODS.values())
    raise ConfigError(f"= {name!r} is not a training method; methods: {known}", source, "method")
