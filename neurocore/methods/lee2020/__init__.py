"""Spike-based backpropagation of Lee, Sarwar, Panda, Srinivasan and Roy (2020), off the chip, in PyTorch.

Frontiers in Neuroscience 14:119. Torch is an optional extra (``pip install -e ".[lee2020]"`` in a
checkout, which pins the CPU build torch==2.13.0); the specs (`Lee2020NetSpec`, `Lee2020TrainSpec`,
`build_plan`) need no torch, `Lee2020Trainer` and `train_epoch` import it on first use and say
how to install it when it is missing.

The model, per time step t = 0..T-1 (layer l+1 at step t sees layer l's spikes of step t):

- input: each pixel spikes with probability input_rate * |pixel|, carrying its sign;
- conv / fc + LIF:   v = leak * v + W x[t];  s = (v > v_th);  v = 0 where s;
- avg pool + IF:     v = v + avgpool(x[t]);   s = (v > pool_threshold);  v = 0 where s;
- output:            v = v + W x[t]  ('integrate'), or v = leak * v + W x[t] ('leaky');
  the network's output is v after step T-1 divided by (v_th * T); the class is its argmax.

No biases. Training: summed squared error against one-hot, the approximate derivative of
`neurons` (leak kept out of autograd), dropout of hidden LIF spikes with one mask per sample.

NIR contract (what `Lee2020Trainer.to_nir(dt)` writes; an importer that reads it back with
**forward Euler at the same dt** gets exactly the per-step update above):

=========================  ===================================================================
node (name)                parameters written
=========================  ===================================================================
``input`` Input            input_type = [C, H, W]; the input spikes (values -1, 0, +1)
``convK`` Conv2d           weight (C_out, C_in, k, k) float32, stride 1, padding k//2,
                           dilation 1, groups 1, bias zeros (NIR's Conv2d requires a bias)
``convK_lif`` LIF          tau = dt / (1 - leak), r = tau / dt = 1 / (1 - leak), v_leak = 0,
                           v_threshold = v_th, v_reset = 0 (arrays of the layer's shape)
``poolK`` AvgPool2d        kernel_size = stride = [k, k], padding = [0, 0]
``poolK_if`` IF            r = 1 / dt, v_threshold = pool_threshold, v_reset = 0
``flatten`` Flatten        input_type = [C, H, W], start_dim = 0, end_dim = -1 (C-major order)
``fcK`` Linear             weight (N_out, N_in) float32
``fcK_lif`` LIF            as convK_lif
``output_linear`` Linear   weight (classes, N_in) float32
``output_integrator``      'integrate': I with r = 1 / dt; 'leaky': LI with tau = dt / (1 - leak),
                           r = 1 / (1 - leak), v_leak = 0
``output`` Output          output_type = [classes]; its value is the integrator's v
=========================  ===================================================================

Edges form one chain in that order. With leak = 1 the LIF nodes are written as IF (r = 1/dt).
Forward Euler of NIR's tau dv/dt = (v_leak - v) + r I over dt gives
v[t] = (1 - dt/tau) v[t-1] + (dt/tau) r I[t] = leak * v[t-1] + I[t]; of dv/dt = r I (IF, I),
v[t] = v[t-1] + I[t]. On the chip (DESIGN.md's neuron) that is 1 - dv = 1 - dt/tau = leak,
di = 1, input gain (dt/tau) r = 1, reset 'zero', bias 0. Float32: float32(1 - dt/tau) equals
float32(leak) and float32((dt/tau) r) equals 1 for the leaks tested (0.9, 0.95, 0.99).

Three things an importer must honour to reproduce the trainer's spikes exactly:

1. Spikes are strict, v > v_threshold (NIR's definition and the authors' code). A chip that fires
   at v >= theta must use theta = the next float32 above v_threshold (np.nextafter). It matters:
   the pooled IF sees multiples of 1/k^2, so 'v >= 0.75' would fire at 3 of 4 quarter-spikes
   where the trainer fires at 4.
2. No delay: the graph's edges are instantaneous, the trainer's layers all see the same step.
   A chip with a one-tick delay on each projection (input -> conv1 -> pool1 -> ... -> output
   integrator, pooling included) runs the k-th neuron stage of that chain k ticks late: its
   spike trains are the trainer's shifted by k ticks, exactly (every membrane starts at 0 and
   stays there until input arrives), and the output integrator has received all T steps after
   T + (number of neuron stages) ticks.
3. Each step is multiply-then-add in float32: v = float32(leak) * v, then + I. The trainer's
   reference is `Lee2020Trainer.simulate(input_spikes)` (the test-time input spikes come from
   `Lee2020Trainer.input_spikes`); with dyadic weights (exact sums in any order) a numpy
   re-simulation of the NIR graph reproduces its spikes and output exactly
   (tests/test_lee2020.py), with general weights summation order can flip a spike that sits
   within rounding of the threshold.

Graph metadata repeats dt, the discretisation ("euler", as `neurocore.nir` names it), the spike
rule, the delay and the output scale 1 / (v_th * T) with the T it was trained for.

On the chip (`method = "lee2020"` in an experiment: `neurocore.methods.offchip` trains, then
`neurocore.methods.deploy` imports `to_nir()` after every epoch): the importer honours all three
points above, so the chip's only departure is its own weight precision (loihi_like holds static
weights as 16-bit integers times a power of two per tile). With weights on that grid every sum is
exact and the chip's spikes and output membranes equal `simulate`'s (tests/test_methods.py).
"""

from __future__ import annotations

from typing import Any

from .spec import PRESETS, Lee2020NetSpec, Lee2020TrainSpec, Stage, build_plan

INSTALL_HINT = ("the lee2020 method needs PyTorch, an optional extra: pip install -e \".[lee2020]\" in the "
                "neurocore checkout (pins the CPU build torch==2.13.0; an unpinned torch pulls a multi-GB CUDA build)")

__all__ = ["INSTALL_HINT", "PRESETS", "Lee2020NetSpec", "Lee2020TrainSpec", "Lee2020Trainer", "Stage",
           "build_plan", "epoch_order", "require_torch", "train_epoch"]


def require_torch() -> None:
    """Raise NeurocoreError with how to install torch when it is not importable."""
    try:
        import torch  # noqa: F401
    except ImportError:
        from ...errors import NeurocoreError
        raise NeurocoreError(INSTALL_HINT) from None


def __getattr__(name: str) -> Any:
    if name in ("Lee2020Trainer", "train_epoch", "epoch_order"):
        require_torch()
        from . import trainer
        return getattr(trainer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
