"""The training methods: each a package here, named in the leaf registry `neurocore.registry`.

- `ssnn_bp`: SSNN-BP learning in place on the chip (netlist, trainer, rate-equivalent ANN, export);
- `lee2020`: spike-based backpropagation of Lee et al. (2020) off the chip (PyTorch), deployed through NIR;
- `bats`: exact event-based gradients through multiple spikes (Bacho and Chu) off the chip (numba),
  deployed through NIR;
- `offchip`: the one loop every off-chip method runs through (run folder, checkpoint, resume,
  results, deployment on the chip after every epoch); `deploy`: a NIR graph on the chip.

The method protocol. Every method has one module the commands call, whatever the method
(`neurocore.registry.get_method(name).protocol()`): `methods.ssnn_bp.protocol` for the method that
learns on the chip, `methods.offchip` for those that learn off it. It provides

    describe(exp) -> str                                        # one line: what trains, for `train`
    train(exp, run_dir, resume, overwrite, progress) -> list    # the results per epoch
    infer(exp, run_dir, split, progress, equivalent) -> (dict, text)  # figures, and how to print them
    placement(exp, chip, strategy) -> Placement                 # the network on the chip, for `map`
    export(exp, run_dir, output, dt, discretisation) -> str     # the run as a NIR file; what was written
    study_point(exp, run_dir) -> (metrics, phases, chip)        # one point of a sweep

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

and its `[train]` spec has `epochs` and `batch`. Importing this package costs nothing: the
functions below (named by the registry) import specs and trainers when asked for.
"""

from __future__ import annotations

from typing import Any


def ssnn_specs() -> tuple[type, type]:
    from .ssnn_bp.netlist import SSNNSpec, TrainSpec
    return SSNNSpec, TrainSpec


def lee2020_specs() -> tuple[type, type]:
    from .lee2020.spec import Lee2020NetSpec, Lee2020TrainSpec
    return Lee2020NetSpec, Lee2020TrainSpec


def lee2020_trainer(exp: Any, data: Any) -> Any:
    from . import lee2020
    return lee2020.Lee2020Trainer(exp.net, exp.train, exp.seed, data.n_classes, data.image_shape or (data.n_features,),
                                  threads=exp.train.threads or None)


def bats_specs() -> tuple[type, type]:
    from .bats.spec import BatsNetSpec, BatsTrainSpec
    return BatsNetSpec, BatsTrainSpec


def bats_trainer(exp: Any, data: Any) -> Any:
    from .bats import BatsTrainer
    return BatsTrainer(exp.net, exp.train, exp.seed, data.n_classes, data.n_features)
