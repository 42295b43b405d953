"""SSNN-BP as a netlist: composite neurons (x, delta+, delta-) per layer, the output
error populations, WTA lateral inhibition, and plastic crossbars written by pulse
coincidence (Biswas, Saraswat and Ganguly, paper section 2).

Units. A crossbar holds *ANN-equivalent* weights w (He-initialised, well inside the
RPU device bounds). Each projection reads it with a gain that makes an IF neuron's
spike rate the ANN activation:

* forward x^l -> x^{l+1}: gain = theta * di, so a presynaptic rate r adds w * r * theta
  per tick to v once the synaptic current has settled (di = 1 / tau turns the CUBA
  current into the paper's kernel 1 - exp(-t / tau)); the rate out is sum(w * r), a ReLU
  capped at one spike per tick;
* backward delta^{l+1} -> delta^l through the same crossbar transposed: gain =
  +-theta_hidden_delta * di, so delta rates are W^T delta;
* output error: label and output spikes reach delta+ / delta- with weight
  theta_output_delta * di, so delta+ fires at max(0, label - output) and delta- at
  max(0, output - label) (Eq. 6, 7);
* a coincidence of an x spike and a delta spike is one device pulse of dw_min; over
  Ts ticks the expected change is dw_min * Ts * x * delta, so the ANN learning rate is
  eta = dw_min * Ts (Eq. 10); the rate mode applies the same expectation (Eq. 9).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...config import spec
from ...errors import ConfigError
from ...netlist import Netlist, NeuronParams, Plasticity

UPDATE_MODES = ("coincidence", "rate", "rate_noise")


@dataclass(frozen=True)
class SSNNSpec:
    """The SSNN-BP network and its spike coding (the `[net]` table of an experiment)."""

    inputs: int = spec(784, lo=1, doc="input neurons (pixels)")
    hidden: list[int] = spec(factory=lambda: [1280], doc="hidden layer sizes, e.g. [1280]")
    classes: int = spec(10, lo=2, doc="output neurons")
    theta: float = spec(5.0, lo=0.0, lo_open=True, doc="threshold of forward neurons (paper 5)")
    theta_hidden_delta: float = spec(1.0, lo=0.0, lo_open=True, doc="threshold of hidden delta neurons")
    theta_output_delta: float = spec(1.0, lo=0.0, lo_open=True, doc="threshold of output delta neurons")
    output_lr_scale: float = spec(1.0, lo=0.0, lo_open=True,
                                  doc="learning rate of the last crossbar relative to the others (its pulse "
                                      "amplitude); a reproduction used 5 (output 3e-5, hidden scaled by "
                                      "theta_b / theta)")
    tau_fraction: float = spec(0.1, lo=0.0, lo_open=True, hi=1.0,
                               doc="synaptic time constant as a fraction of Ts (paper tau = Ts/10)")
    wta: float = spec(1.0, lo=0.0, doc="strength of lateral inhibition among outputs "
                                       "(softmax-CE approximation); 0 = MSE")
    input_rate: float = spec(0.5, lo=0.0, lo_open=True, hi=1.0,
                             doc="mean input spike rate per unit pixel (paper 0.3-0.5)")
    target_rate: float = spec(0.5, lo=0.0, lo_open=True, hi=1.0, doc="target spike rate of the true class")
    dropout_input: float = spec(0.2, lo=0.0, hi=0.95, doc="per-sample dropout of input neurons (paper 0.2)")
    dropout_hidden: float = spec(0.3, lo=0.0, hi=0.95, doc="per-sample dropout of hidden neurons (paper 0.3)")
    dropout_scaling: bool = spec(True, doc="at inference, scale each layer's read gain by (1 - dropout of its "
                                           "inputs): the standard weight-scaling rule, so test activity "
                                           "matches training")

    def validate(self) -> None:
        h = self.hidden
        if not isinstance(h, (list, tuple)) or not h or any(isinstance(n, bool) or not isinstance(n, int) or n < 1
                                                              for n in h):
            raise ConfigError(f"= {h!r} is not allowed; must be a non-empty list of integers >= 1, e.g. [1280]",
                              key="hidden")

    @property
    def layers(self) -> list[int]:
        return [self.inputs, *self.hidden, self.classes]


@dataclass(frozen=True)
class TrainSpec:
    """How SSNN-BP trains on the chip (the `[train]` table): train length, epochs, learning rate, update mode."""

    ts: int = spec(100, lo=2, hi=100000, doc="ticks per sample (the spike-train length Ts)")
    epochs: int = spec(1, lo=1, doc="passes over the training set")
    lr: float = spec(0.01, lo=0.0, doc="ANN-equivalent learning rate; the device step is dw_min = lr / Ts "
                                       "(0: keep the chip's own device dw_min, e.g. to sweep chip.device.dw_min)")
    lr_decay: float = spec(1.0, lo=0.0, lo_open=True, hi=1.0, doc="lr multiplier per epoch (1 = constant)")
    update: str = spec("coincidence", choices=UPDATE_MODES,
                       doc="coincidence: on-chip stochastic pulses (Eq. 10); rate: outer product of counts "
                           "(Eq. 9); rate_noise: rate plus Gaussian noise ~ 1/sqrt(Ts)")
    noise_scale: float = spec(0.373, lo=0.0, doc="rate_noise: std of the product error times sqrt(Ts) "
                                                 "(0.373 from `neurocore bench product`)")
    defer_writes: bool = spec(False, doc="coincidence: neurons read the crossbars as they were when the sample "
                                         "began, so the sample's pulses take effect from the next sample on (a "
                                         "write-back buffer per crossbar); off = the paper: writes act at once")
    batch: int = spec(100, lo=1, doc="samples per engine call (learning stays online, sample by sample)")
    eval_batch: int = spec(500, lo=1, doc="samples per engine call at test time")
    eval_threads: int = spec(0, lo=0, doc="threads the test samples of a call run on (0 = one per core; the "
                                          "spikes are the same for any number)")


def hidden_names(spec_: SSNNSpec) -> list[str]:
    return layer_names(spec_)[1:-1]


def layer_names(spec_: SSNNSpec) -> list[str]:
    """Forward population names: input, hidden1..., output."""
    n_hidden = len(spec_.hidden)
    return ["input"] + [f"hidden{k + 1}" if n_hidden > 1 else "hidden" for k in range(n_hidden)] + ["output"]


def weight_names(spec_: SSNNSpec) -> list[str]:
    names = layer_names(spec_)
    return [f"{a}_{b}" for a, b in zip(names[:-1], names[1:])]


def init_weights(spec_: SSNNSpec, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """He-initialised ANN-equivalent weights of every layer."""
    sizes = spec_.layers
    return {name: rng.normal(0.0, np.sqrt(2.0 / a), (a, b)).astype(np.float32)
            for name, a, b in zip(weight_names(spec_), sizes[:-1], sizes[1:])}


def build_ssnn(spec_: SSNNSpec, ts: int, weights: dict[str, np.ndarray], *, train: bool = True) -> Netlist:
    """The SSNN-BP netlist for samples of `ts` ticks. With `train=False`, only the forward
    network (x populations, WTA) is built: inference spends nothing on gradients."""
    di = min(1.0, 1.0 / (spec_.tau_fraction * ts))
    names = layer_names(spec_)
    sizes = spec_.layers
    wnames = weight_names(spec_)
    net = Netlist("ssnn_bp" if train else "ssnn_infer")
    fwd = NeuronParams(di=di, dv=0.0, theta=spec_.theta, reset="subtract")
    net.add_source("input", sizes[0], dropout=spec_.dropout_input if train else 0.0)
    for k, name in enumerate(names[1:], start=1):
        last = k == len(names) - 1
        net.add_population(name, sizes[k], fwd, dropout=0.0 if (last or not train) else spec_.dropout_hidden)
    if train:
        net.add_source("label", sizes[-1])
        d_hid = NeuronParams(di=di, dv=0.0, theta=spec_.theta_hidden_delta, reset="subtract")
        d_out = NeuronParams(di=di, dv=0.0, theta=spec_.theta_output_delta, reset="subtract")
        for k, name in enumerate(names[1:], start=1):
            last = k == len(names) - 1
            gate = None if last else name
            for sign in ("pos", "neg"):
                net.add_population(f"{name}_d{sign}", sizes[k], d_out if last else d_hid, gate=gate)
    g_fwd = spec_.theta * di
    for k, wn in enumerate(wnames):
        pre, post = names[k], names[k + 1]
        lr_scale = spec_.output_lr_scale if k == len(wnames) - 1 else 1.0
        plastic = Plasticity(f"{post}_dpos", f"{post}_dneg", lr_scale) if train else None
        keep = 1.0
        if not train and spec_.dropout_scaling:
            keep = 1.0 - (spec_.dropout_input if k == 0 else spec_.dropout_hidden)
        net.connect(wn, pre, post, weights[wn], gain=g_fwd * keep, plastic=plastic)
    if spec_.wta > 0:
        n = sizes[-1]
        inhib = -spec_.wta * np.ones((n, n), np.float32)
        np.fill_diagonal(inhib, 0.0)
        net.connect("output_wta", "output", "output", inhib, gain=g_fwd)
    if not train:
        return net
    out = names[-1]
    n = sizes[-1]
    eye = np.eye(n, dtype=np.float32)
    g_err = spec_.theta_output_delta * di
    net.connect("label_dpos", "label", f"{out}_dpos", eye, gain=g_err)
    net.connect("label_dneg", "label", f"{out}_dneg", -eye, gain=g_err)
    net.connect("output_dpos", out, f"{out}_dpos", -eye, gain=g_err)
    net.connect("output_dneg", out, f"{out}_dneg", eye, gain=g_err)
    # backward: delta of layer l+1 drives delta of layer l through W_l transposed
    ratio = spec_.theta_hidden_delta / spec_.theta  # tied gain = ratio * theta * di
    for k in range(len(wnames) - 1, 0, -1):
        wn, pre_layer, post_layer = wnames[k], names[k + 1], names[k]
        for src, dst, sign in (("pos", "pos", 1.0), ("neg", "pos", -1.0), ("neg", "neg", 1.0),
                               ("pos", "neg", -1.0)):
            net.connect_transposed(f"{wn}_T_{src}{dst}", wn, f"{pre_layer}_d{src}", f"{post_layer}_d{dst}",
                                   sign=sign * ratio)
    return net
