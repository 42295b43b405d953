"""BATS (Bacho and Chu): exact error backpropagation through every spike of an event-based,
continuous-time CUBA LIF network (tau_mem = 2 tau_s), simulated in numba on the CPU.

- `spec`: the `[net]` and `[train]` tables (BatsNetSpec, BatsTrainSpec);
- `kernels`: the closed-form forward pass, the exact backward pass, Adam and SGD steps;
- `network`: flat layout and batch runs; `spike_times` for comparing with other simulators;
- `coding`: time-to-first-spike and rate input spikes;
- `trainer`: BatsTrainer (train_batch, evaluate, input_spikes, state, to_nir) and train_epoch;
- `gradcheck`: analytic against finite-difference gradients;
- `nir_export`: the NIR graph and its contract with the chip's importer.
"""

from .spec import BatsNetSpec, BatsTrainSpec, specs_from_tables
from .trainer import BatsTrainer, train_epoch

__all__ = ["BatsNetSpec", "BatsTrainSpec", "BatsTrainer", "specs_from_tables", "train_epoch"]
