"""Loihi's integer arithmetic: the one place that turns a chip's neuron and weight parameters into
Loihi's integers (a chip whose `[precision] arithmetic = "loihi"`).

What one compartment computes per tick, in integers, in this order (Intel Lava's bit-accurate
`PyLifModelBitAcc` fed by `PyDenseModelBitAcc`, lava-nc 0.10, which models Loihi 1):

    a    = sum of the arriving weight mantissas, shifted left by weight_exp (right, rounding
           down, when weight_exp < 0), per projection
    u    = decay(u, du + 1) + (a << 6)          wrapped to 24 bits as Lava wraps it:
           u > 2^23 -> u - 2^24, u <= -2^23 -> u + 2^24
    v    = decay(v, dv) + u + bias_mant * 2^bias_exp,   saturated to [-(2^23 - 1), 2^23 - 1]
    spike when v > vth << 6 (strict), then v = 0
    decay(x, d) = sign(x) * ((|x| * (4096 - d)) >> 12)      truncation toward zero

Units: Loihi's v and u are neurocore's (weight units: a weight w adds w to the current) times
2^6, so a chip in Loihi arithmetic runs the same network a float32 chip runs, on the integer
grid. The translation of the per-tick models of `neurocore.neurons` (continuous-time ones go
through `neurocore.neurons.discretise` first, e.g. `cuba_from_continuous`):

    du   = round(4096 di) - 1, clipped to [0, 4095]   (Loihi's current decay is (du + 1) / 4096:
                                                      di = 1 clears it; no setting keeps it whole)
    dv   = round(4096 dv), clipped to [0, 4095]
    vth  = round(theta), clipped to [0, 2^17 - 1]     (v > vth: a neuron needs theta + 2^-6)
    bias = 64 bias as mantissa x 2^exp, exp in [0, 7] the smallest that fits the 13-bit mantissa
    LIF and IF (no synaptic current): du = 4095 (the current is the tick's input); IF: dv = 0
    non-spiking readouts (LI, CubaLI, Integrator): the same update, never spiking

Loihi's compartment has no input or current gain and no current bias: a model with
input_gain != 1, current_gain != 1 or i_bias != 0 is refused (fold the gain into the weights).
Refractory ticks hold v after a spike (Lava's LIFRefractory: u keeps integrating). Extensions
Lava's LIF does not have, kept for the methods that need them: reset "subtract" lowers v by the
effective threshold (vth << 6) + 1; a hard reset to v_reset != 0 sets v = round(64 v_reset).

A netlist can give the integers directly: the neuron model `LoihiLIF` (kind "loihi_lif": du, dv,
vth, bias_mant, bias_exp) and a projection's `weight_exp` (its weights are then Lava's integer
weights, clipped and truncated exactly as Lava does: see `lava_weights`).

Weights without a given exponent are quantised per projection (`quantise`): the exponent is the
smallest in [-8, 7] at which the projection's largest weight (times its gain) fits the 8-bit
mantissa (255 for single-sign, 254 / -256 for mixed-sign matrices, whose lowest bit Loihi drops),
as Lava's `optimize_weight_bits` chooses it; mantissas are rounded to nearest on that grid. The
engine stores them as int8 where they fit (int16 otherwise) and rounds the sum of *all* projections
into a neuron down once per tick, where Lava rounds each projection's sum: the two differ only when
two projections with negative exponents feed one neuron.

A float network (trained off the chip) is first rescaled to fill these integers: `scale_for_loihi`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .errors import ConfigError
from .neurons import KIND_CURRENT, Coefficients, LoihiLIF, NeuronModel

if TYPE_CHECKING:
    from .netlist import Netlist

DECAY_BITS = 12          # decays are 12-bit fractions of 4096
ACT_SHIFT = 6            # inputs, thresholds and biases sit 6 bits above the weight mantissa
UV_MAX = 2 ** 23         # u and v are 24-bit
VTH_MAX = 2 ** 17 - 1
WEIGHT_EXP = (-8, 7)
BIAS_MANT = 4095


@dataclass(frozen=True)
class LoihiInts:
    """One population's Loihi integers, per neuron (int64 arrays)."""

    du: np.ndarray
    dv: np.ndarray
    vth: np.ndarray          # spike when v > vth << 6 (huge for a non-spiking readout)
    bias: np.ndarray         # bias_mant * 2^bias_exp, on v's grid
    spiking: bool
    subtract: bool
    v_reset: np.ndarray      # on v's grid (0 on Loihi)


def _arr(model: NeuronModel, name: str, default: float, size: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(getattr(model, name, default), np.float64), (size,)).copy()


def bias_integers(bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mantissa, exponent) of biases given on v's grid (64 x weight units): the smallest exponent in
    [0, 7] whose 13-bit mantissa holds the bias; mantissa rounded to nearest."""
    b = np.asarray(bias, np.float64)
    exp = np.zeros(b.shape, np.int64)
    big = np.abs(b) > BIAS_MANT
    exp[big] = np.ceil(np.log2(np.abs(b[big]) / BIAS_MANT)).astype(np.int64)
    exp = np.clip(exp, 0, 7)
    mant = np.clip(np.round(b / 2.0 ** exp), -BIAS_MANT - 1, BIAS_MANT).astype(np.int64)
    return mant, exp


def neuron_integers(model: NeuronModel, size: int) -> LoihiInts:
    """The Loihi integers of `size` neurons of `model` (see the module docstring for the rules)."""
    spiking = bool(model.spiking)
    if isinstance(model, LoihiLIF):
        def ints(name: str) -> np.ndarray:
            return np.broadcast_to(np.asarray(getattr(model, name), np.int64), (size,)).copy()
        bias = ints("bias_mant") << ints("bias_exp")
        return LoihiInts(ints("du"), ints("dv"), ints("vth"), bias, True, model.reset == "subtract",
                         np.zeros(size, np.int64))
    for name, want in (("input_gain", 1.0), ("current_gain", 1.0), ("i_bias", 0.0)):
        a = _arr(model, name, want, size)
        if np.any(a != want):
            raise ConfigError(f"= {a.min():g}..{a.max():g}: Loihi's compartment has no {name}; must be {want:g} "
                              f"(fold it into the incoming weights)", key=name)
    du = np.clip(np.round(_arr(model, "di", 1.0, size) * 4096) - 1, 0, 4095).astype(np.int64)
    dv = np.clip(np.round(_arr(model, "dv", 0.0, size) * 4096), 0, 4095).astype(np.int64)
    mant, exp = bias_integers(_arr(model, "bias", 0.0, size) * 2 ** ACT_SHIFT)
    if spiking:
        theta = _arr(model, "theta", 1.0, size)
        vth = np.clip(np.round(theta), 0, VTH_MAX).astype(np.int64)
        subtract = model.reset == "subtract"
        v_reset = np.round(_arr(model, "v_reset", 0.0, size) * 2 ** ACT_SHIFT).astype(np.int64)
    else:
        vth = np.full(size, 2 ** 40, np.int64)
        subtract = False
        v_reset = np.zeros(size, np.int64)
    return LoihiInts(du, dv, vth, mant << exp, spiking, subtract, v_reset)


def lower_loihi(model: NeuronModel, size: int) -> Coefficients:
    """`neurocore.neurons.lower` for a chip in Loihi arithmetic: the same coefficient record, holding
    integers the kernel's Loihi update reads: keep_i = 4096 - (du + 1), keep_v = 4096 - dv,
    theta = (vth << 6) + 1 (so v >= theta is v > vth << 6), bias = bias_mant << bias_exp."""
    q = neuron_integers(model, size)
    f32 = np.float32
    theta = (q.vth << ACT_SHIFT) + 1 if q.spiking else np.full(size, np.inf)
    return Coefficients(
        kind=KIND_CURRENT,
        keep_i=(4096 - (q.du + 1)).astype(f32), keep_v=(4096 - q.dv).astype(f32),
        input_gain=np.ones(size, f32), current_gain=np.ones(size, f32), i_bias=np.zeros(size, f32),
        bias=q.bias.astype(f32), theta=np.asarray(theta, f32), v_reset=q.v_reset.astype(f32),
        subtract=np.full(size, q.subtract, np.uint8),
        refractory=np.full(size, getattr(model, "refractory", 0), np.int32),
        max_spikes=np.full(size, getattr(model, "max_spikes", 0), np.int32),
        max_per_tick=np.ones(size, np.int32), v_min=np.full(size, -np.inf, f32),
        spiking=np.full(size, q.spiking, np.uint8))


# -- weights ---------------------------------------------------------------------------------

def is_mixed(w: np.ndarray) -> bool:
    """Lava's sign mode: a matrix with both signs loses its mantissa's lowest bit."""
    w = np.asarray(w)
    return bool(w.size and w.min() < 0 < w.max())


def lava_weights(w: np.ndarray) -> np.ndarray:
    """Integer weights as Lava's bit-accurate Dense stores them: clipped to 8 bits for the matrix's
    sign mode ([0, 255], [-255, 0], or [-256, 255]) and, when mixed, the lowest bit dropped
    (an arithmetic shift: rounding down)."""
    w = np.asarray(w, np.int64)
    if is_mixed(w):
        return (np.clip(w, -256, 255) >> 1) << 1
    if w.size and w.max() <= 0:
        return -np.clip(-w, 0, 255)
    return np.clip(w, 0, 255)


def weight_exponent(w: np.ndarray) -> int:
    """The smallest exponent in [-8, 7] at which every weight of the matrix fits its 8-bit mantissa
    (255 single-sign; mixed: 254 and -256, the lowest bit being dropped)."""
    w = np.asarray(w, np.float64)
    if not w.size or not np.any(w):
        return 0
    if is_mixed(w):
        need = max(w.max() / 254.0, -w.min() / 256.0)
    else:
        need = np.abs(w).max() / 255.0
    return int(np.clip(np.ceil(np.log2(need)), *WEIGHT_EXP))


def quantise(w: np.ndarray, exp: int | None = None) -> tuple[np.ndarray, int]:
    """(mantissas, exponent) of a projection's effective weights (weights times gain): exponent as
    `weight_exponent` chooses it unless given, mantissas rounded to nearest on the 2^exp grid (even
    mantissas for a mixed-sign matrix) and clipped to 8 bits."""
    w = np.asarray(w, np.float64)
    e = weight_exponent(w) if exp is None else int(exp)
    x = w / 2.0 ** e
    if is_mixed(w):
        mant = np.clip(2 * np.round(x / 2), -256, 254)
    elif w.size and w.max() <= 0:
        mant = np.clip(np.round(x), -255, 0)
    else:
        mant = np.clip(np.round(x), 0, 255)
    return mant.astype(np.int64), e


def check_weight_exp(exp: int, where: str) -> int:
    if isinstance(exp, bool) or not isinstance(exp, (int, np.integer)) or not WEIGHT_EXP[0] <= exp <= WEIGHT_EXP[1]:
        raise ConfigError(f"= {exp!r}: must be an integer in [{WEIGHT_EXP[0]}, {WEIGHT_EXP[1]}]", key=where)
    return int(exp)


# -- a trained network, scaled to Loihi's integers -------------------------------------------

def scale_for_loihi(net: "Netlist") -> dict[str, float]:
    """Rescale a float network in place so that Loihi's integers hold it well; returns each population's
    scale s. Scaling a population's v, current, theta, bias and v_reset by s > 0 and its incoming
    weights by s leaves its spikes unchanged (and a readout's argmax): s = 254 / the largest incoming
    |weight x gain x input_gain x current_gain|, so that the projection with the largest weights fills
    its 8-bit mantissas at exponent 0 (others get their own, `weight_exponent`), lowered when needed so
    that vth <= 2^17 - 1 and the bias fits 13 bits x 2^7. The input and current gains are folded into
    the incoming weights (Loihi has neither); a current bias is refused."""
    import dataclasses

    from .neurons import LoihiLIF

    scales: dict[str, float] = {}
    for name, pop in list(net.populations.items()):
        m = pop.params
        if m is None or isinstance(m, LoihiLIF):
            continue
        incoming = [pr for pr in net.projections.values() if pr.post == name]
        if any(pr.is_tied for pr in incoming):
            raise ConfigError("a transposed (tied) projection cannot be rescaled for Loihi", key=f"population.{name}")
        if np.any(np.asarray(getattr(m, "i_bias", 0.0)) != 0):
            raise ConfigError("Loihi's compartment has no current bias", key=f"population.{name}.i_bias")
        f = (np.broadcast_to(np.asarray(getattr(m, "input_gain", 1.0), np.float64), (pop.size,))
             * np.broadcast_to(np.asarray(getattr(m, "current_gain", 1.0), np.float64), (pop.size,)))
        peak = max([float(np.abs(pr.dense()[0].astype(np.float64) * pr.gain * f).max()) for pr in incoming
                    if pr.dense()[0].size] + [0.0])
        s = 254.0 / peak if peak > 0 else 1.0
        if m.spiking:
            s = min(s, VTH_MAX / max(float(np.max(m.theta)), 1e-30))
        b = float(np.abs(np.asarray(m.bias)).max())
        if b > 0:
            s = min(s, BIAS_MANT * 2 ** 7 / (2 ** ACT_SHIFT * b))
        scales[name] = s
        for pr in incoming:
            if np.all(f == f[0]):
                pr.gain = float(pr.gain * f[0] * s)
            elif pr.conn is None:
                pr.weights = (pr.weights.astype(np.float64) * f[None, :] * s).astype(np.float32)
            else:
                raise ConfigError("a per-neuron input gain cannot be folded into a shared kernel",
                                  key=f"projection.{pr.name}")
        kw: dict = {"bias": np.asarray(m.bias) * s}
        for gain in ("input_gain", "current_gain"):
            if hasattr(m, gain):
                kw[gain] = 1.0
        if m.spiking:
            kw.update(theta=np.asarray(m.theta) * s, v_reset=np.asarray(m.v_reset) * s)
        kw = {k: (float(v) if np.ndim(v) == 0 else v) for k, v in kw.items()}
        net.populations[name] = dataclasses.replace(pop, params=dataclasses.replace(m, **kw))
    return scales
