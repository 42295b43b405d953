"""Neuron models of the chip: what one compartment computes per tick (plain, validated data).

Every model is a small frozen dataclass whose docstring is its equation in ticks. `x[t]` is
the input of tick t: the sum of the weights (times each projection's gain) of the spikes
arriving at t. A parameter is a number, or an array with one value per neuron (networks
imported from NIR carry per-neuron parameters). The engine lowers every model to one set of
per-neuron coefficients (:func:`lower`) and integrates them through one dispatch; the numpy
reference (`neurocore.engine.reference`) steps each model's own equation.

Spiking models compare v with theta after the update; on a spike, "subtract" lowers v by
theta (soft reset) and "zero" sets it to v_reset (hard reset; v_reset is 0 unless given).
For `refractory` ticks after a spike, v holds its value and ignores input (a synaptic
current keeps integrating). A neuron that has emitted `max_spikes` spikes in a sample (a spike
budget, as event-based simulators such as BATS bound each neuron's spikes; 0: no limit) holds
v for the rest of the sample, as if refractory to its end. Two options follow Sinabs's and
Rockpool's neurons: `max_per_tick` > 1 lets a neuron spike several times in one tick, n = min(floor(v /
theta), max_per_tick) times when v >= theta, each spike subtracting theta (a "subtract" reset) or the
first setting v to v_reset; every one of the n spikes is a packet of its own to each destination core
(the engine emits the neuron n times in that tick, so the counters and the cost see n spikes). `v_min`
(-inf: none) clamps v from below after the reset, as Sinabs's min_v_mem does, computed as Sinabs does:
v = max(v - v_min, 0) + v_min. Non-spiking models (LI, CubaLI,
Integrator) never spike: their membrane is the readout.

Continuous-time models (NIR's, e.g. `tau dv/dt = (v_leak - v) + r I`) become these for a
tick of length dt in one place, :func:`discretise`: "exact" integrates each equation over the
tick with its input held constant (zero-order hold: keep = exp(-dt/tau), drive = 1 - keep);
"euler" takes one forward-Euler step (keep = 1 - dt/tau, drive = dt/tau). The synaptic
current is updated first and the new current drives v (as Loihi and snnTorch do).

What a spike is (`spikes`, one of SPIKE_INPUTS). "step" (the default): the input of a tick is
held over it, a spike being the value 1 for one tick (area dt); the state it drives moves by
drive * gain per unit weight. snnTorch's and Norse's NIR exports assume this (they write their
dt into r and w_in). "dirac": a spike is a Dirac delta of unit area, as NIR's paper defines
spikes and event-based simulators (BATS) integrate them: the state it drives jumps by gain / tau
per unit weight (w_in / tau_syn for a current, r / tau for a membrane, r for an integrator),
whatever dt. With "exact", a current-based neuron then also takes the exact propagator of the
linear system from current to membrane over the tick (the current decays through the tick
instead of being held: Rotter and Diesmann 1999, NEST's exact integration): for input spikes on
the tick grid, i at tick t is the current just after t's spikes and v at tick t the membrane at
the end of the tick, both exactly the continuous solution. A constant input (v_leak, a bias) is
held over the tick in either convention.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Union

import numpy as np

from .config import spec
from .errors import ConfigError

Param = Union[float, np.ndarray]
RESETS = ("subtract", "zero")
DISCRETISATIONS = ("exact", "euler")
SPIKE_INPUTS = ("step", "dirac")


def _check(model: object, name: str, lo: float | None = None, hi: float | None = None,
           lo_open: bool = False) -> None:
    a = np.asarray(getattr(model, name), dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise ConfigError(f"{name} must be finite", key=name)
    if lo is not None and (np.any(a < lo) or (lo_open and np.any(a == lo))):
        raise ConfigError(f"{name} = {_show(a)} is out of range; must be {'>' if lo_open else '>='} {lo}"
                          + (f" and <= {hi}" if hi is not None else ""), key=name)
    if hi is not None and np.any(a > hi):
        raise ConfigError(f"{name} = {_show(a)} is out of range; must be <= {hi}", key=name)


def _show(a: np.ndarray) -> str:
    return f"{float(a):g}" if a.ndim == 0 else f"array(min {a.min():g}, max {a.max():g})"


class _Model:
    """Shared validation and queries of the neuron models."""

    spiking = True
    has_current = False

    def validate(self) -> None:
        for name in ("dv", "di"):
            if hasattr(self, name):
                _check(self, name, 0.0, 1.0)
        if self.spiking:
            _check(self, "theta", 0.0, lo_open=True)
            if self.reset not in RESETS:
                raise ConfigError(f"= {self.reset!r} is not allowed; must be one of "
                                  f"{', '.join(repr(r) for r in RESETS)}", key="reset")
            for name in ("refractory", "max_spikes", "max_per_tick"):
                n = getattr(self, name)
                low = 1 if name == "max_per_tick" else 0
                if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < low:
                    raise ConfigError(f"= {n!r} must be an integer >= {low}", key=name)
            vmin = np.asarray(self.v_min, np.float64)
            if np.any(np.isnan(vmin) | (vmin == np.inf)):
                raise ConfigError(f"= {_show(vmin)} must be a number or -inf", key="v_min")
        for f in dataclasses.fields(self):
            if f.name not in ("reset", "refractory", "max_spikes", "max_per_tick", "v_min"):
                _check(self, f.name)

    def sizes(self) -> set[int]:
        """Lengths of the per-neuron array parameters (empty if all are scalars)."""
        return {np.size(getattr(self, f.name)) for f in dataclasses.fields(self)
                if np.ndim(getattr(self, f.name)) > 0}


@dataclass(frozen=True, eq=False)
class CubaLIF(_Model):
    """Current-based leaky integrate-and-fire, the chip's native compartment (Loihi's CUBA):

        i[t] = (1 - di) i[t-1] + input_gain x[t] + i_bias
        v[t] = (1 - dv) v[t-1] + current_gain i[t] + bias
        spike when v[t] >= theta, then v -= theta ("subtract") or v = v_reset ("zero")

    With dv = 0 it is a non-leaky IF neuron with a synaptic current. A single input spike of
    weight w at tick 0 raises v along w (1 - (1 - di)^(t+1)) / di (dv = 0), the discrete form
    of the kernel 1 - exp(-t / tau) with di = 1 / tau.
    """

    di: Param = spec(1.0, lo=0.0, hi=1.0, doc="synaptic current decay per tick (1 = no memory)")
    dv: Param = spec(0.0, lo=0.0, hi=1.0, doc="membrane decay per tick (0 = no leak)")
    theta: Param = spec(1.0, lo=0.0, lo_open=True, doc="firing threshold")
    reset: str = spec("subtract", choices=RESETS, doc="after a spike: subtract theta, or set v to v_reset")
    v_reset: Param = spec(0.0, doc="the value v is set to by a 'zero' (hard) reset")
    bias: Param = spec(0.0, doc="constant added to v every tick")
    i_bias: Param = spec(0.0, doc="constant added to the synaptic current every tick")
    input_gain: Param = spec(1.0, doc="scale of the arriving input x")
    current_gain: Param = spec(1.0, doc="scale of the current into v")
    refractory: int = spec(0, lo=0, doc="ticks v holds after a spike")
    max_spikes: int = spec(0, lo=0, doc="most spikes per neuron and sample, then v holds to the sample's end (0: no limit)")
    max_per_tick: int = spec(1, lo=1, doc="most spikes in one tick (> 1: n = floor(v / theta) spikes, Sinabs's MultiSpike)")
    v_min: Param = spec(-np.inf, doc="lower clamp of v after the reset (-inf: none; Sinabs's min_v_mem)")

    has_current = True


@dataclass(frozen=True, eq=False)
class LIF(_Model):
    """Leaky integrate-and-fire without a synaptic current:

        v[t] = (1 - dv) v[t-1] + input_gain x[t] + bias
        spike when v[t] >= theta, then v -= theta ("subtract") or v = v_reset ("zero")
    """

    dv: Param = spec(0.0, lo=0.0, hi=1.0, doc="membrane decay per tick (0 = no leak)")
    theta: Param = spec(1.0, lo=0.0, lo_open=True, doc="firing threshold")
    reset: str = spec("zero", choices=RESETS, doc="after a spike: set v to v_reset, or subtract theta")
    v_reset: Param = spec(0.0, doc="the value v is set to by a 'zero' (hard) reset")
    bias: Param = spec(0.0, doc="constant added to v every tick")
    input_gain: Param = spec(1.0, doc="scale of the arriving input x")
    refractory: int = spec(0, lo=0, doc="ticks v holds after a spike")
    max_spikes: int = spec(0, lo=0, doc="most spikes per neuron and sample, then v holds to the sample's end (0: no limit)")
    max_per_tick: int = spec(1, lo=1, doc="most spikes in one tick (> 1: n = floor(v / theta) spikes, Sinabs's MultiSpike)")
    v_min: Param = spec(-np.inf, doc="lower clamp of v after the reset (-inf: none; Sinabs's min_v_mem)")


@dataclass(frozen=True, eq=False)
class IF(_Model):
    """Non-leaky integrate-and-fire:

        v[t] = v[t-1] + input_gain x[t] + bias
        spike when v[t] >= theta, then v = v_reset ("zero") or v -= theta ("subtract")
    """

    theta: Param = spec(1.0, lo=0.0, lo_open=True, doc="firing threshold")
    reset: str = spec("zero", choices=RESETS, doc="after a spike: set v to v_reset, or subtract theta")
    v_reset: Param = spec(0.0, doc="the value v is set to by a 'zero' (hard) reset")
    bias: Param = spec(0.0, doc="constant added to v every tick")
    input_gain: Param = spec(1.0, doc="scale of the arriving input x")
    refractory: int = spec(0, lo=0, doc="ticks v holds after a spike")
    max_spikes: int = spec(0, lo=0, doc="most spikes per neuron and sample, then v holds to the sample's end (0: no limit)")
    max_per_tick: int = spec(1, lo=1, doc="most spikes in one tick (> 1: n = floor(v / theta) spikes, Sinabs's MultiSpike)")
    v_min: Param = spec(-np.inf, doc="lower clamp of v after the reset (-inf: none; Sinabs's min_v_mem)")


@dataclass(frozen=True, eq=False)
class LI(_Model):
    """Leaky integrator, non-spiking (its membrane is the readout):

        v[t] = (1 - dv) v[t-1] + input_gain x[t] + bias
    """

    dv: Param = spec(0.0, lo=0.0, hi=1.0, doc="membrane decay per tick (0 = no leak)")
    bias: Param = spec(0.0, doc="constant added to v every tick")
    input_gain: Param = spec(1.0, doc="scale of the arriving input x")

    spiking = False


@dataclass(frozen=True, eq=False)
class CubaLI(_Model):
    """Current-based leaky integrator, non-spiking:

        i[t] = (1 - di) i[t-1] + input_gain x[t] + i_bias
        v[t] = (1 - dv) v[t-1] + current_gain i[t] + bias
    """

    di: Param = spec(1.0, lo=0.0, hi=1.0, doc="synaptic current decay per tick (1 = no memory)")
    dv: Param = spec(0.0, lo=0.0, hi=1.0, doc="membrane decay per tick (0 = no leak)")
    bias: Param = spec(0.0, doc="constant added to v every tick")
    i_bias: Param = spec(0.0, doc="constant added to the synaptic current every tick")
    input_gain: Param = spec(1.0, doc="scale of the arriving input x")
    current_gain: Param = spec(1.0, doc="scale of the current into v")

    spiking = False
    has_current = True


@dataclass(frozen=True, eq=False)
class Integrator(_Model):
    """Perfect integrator, non-spiking:

        v[t] = v[t-1] + input_gain x[t] + bias
    """

    bias: Param = spec(0.0, doc="constant added to v every tick")
    input_gain: Param = spec(1.0, doc="scale of the arriving input x")

    spiking = False


@dataclass(frozen=True, eq=False)
class LoihiLIF(_Model):
    """Loihi's CUBA compartment given by its integers (as Lava's LIF takes them; `neurocore.loihi`
    says how a chip in Loihi arithmetic runs it):

        u[t] = decay(u[t-1], du + 1) + (x[t] << 6)
        v[t] = decay(v[t-1], dv) + u[t] + bias_mant * 2^bias_exp
        spike when v[t] > vth << 6, then v = 0
        decay(y, d) = sign(y) ((|y| (4096 - d)) >> 12)

    On a float32 chip it runs as the CubaLIF of `as_cuba` (state in weight units, v / 2^6).
    """

    du: int = spec(0, lo=0, hi=4095, doc="current decay: (du + 1) / 4096 per tick")
    dv: int = spec(0, lo=0, hi=4095, doc="voltage decay: dv / 4096 per tick")
    vth: int = spec(10, lo=0, hi=2 ** 17 - 1, doc="threshold: spike when v > vth << 6")
    bias_mant: Param = spec(0, doc="bias mantissa (13 bits, -4096..4095; an integer or one per neuron)")
    bias_exp: Param = spec(0, doc="bias exponent 0..7: bias = bias_mant * 2^bias_exp on v's grid")
    reset: str = spec("zero", choices=RESETS, doc="after a spike: v = 0 (Loihi), or subtract the threshold")
    refractory: int = spec(0, lo=0, doc="ticks v holds after a spike")
    max_spikes: int = spec(0, lo=0, doc="most spikes per neuron and sample, then v holds to the sample's end (0: no limit)")

    has_current = True

    def validate(self) -> None:
        for f in dataclasses.fields(self):
            if f.name != "reset":
                n = np.asarray(getattr(self, f.name))
                whole = n.dtype != bool and np.issubdtype(n.dtype, np.number) and bool(
                    np.all(np.isfinite(n)) and np.all(n == np.round(n)))
                if not whole or (n.ndim and f.name not in ("bias_mant", "bias_exp")):
                    raise ConfigError(f"= {getattr(self, f.name)!r} must be an integer"
                                      + (" or an integer array" if f.name.startswith("bias") else ""), key=f.name)
                lo, hi = {"du": (0, 4095), "dv": (0, 4095), "vth": (0, 2 ** 17 - 1), "bias_mant": (-4096, 4095),
                          "bias_exp": (0, 7)}.get(f.name, (0, None))
                if n.size and (n.min() < lo or (hi is not None and n.max() > hi)):
                    raise ConfigError(f"= {_show(n)} is out of range; must be in [{lo}, {hi if hi is not None else 'inf'}]",
                                      key=f.name)
        if self.reset not in RESETS:
            raise ConfigError(f"= {self.reset!r} is not allowed; must be one of "
                              f"{', '.join(repr(r) for r in RESETS)}", key="reset")

    def as_cuba(self) -> CubaLIF:
        """The float CubaLIF this compartment approximates (weight units: v / 2^6)."""
        return CubaLIF(di=min((self.du + 1) / 4096, 1.0), dv=self.dv / 4096, theta=self.vth + 2 ** -6,
                       reset=self.reset, bias=_scalar(np.asarray(self.bias_mant) * 2.0 ** np.asarray(self.bias_exp) / 64),
                       refractory=self.refractory,
                       max_spikes=self.max_spikes)


NeuronModel = Union[CubaLIF, LIF, IF, LI, CubaLI, Integrator, LoihiLIF]
MODELS: dict[str, type] = {"cuba_lif": CubaLIF, "lif": LIF, "if": IF, "li": LI, "cuba_li": CubaLI,
                           "integrator": Integrator, "loihi_lif": LoihiLIF}
#: kernel dispatch ids: with a synaptic current, without one
KIND_CURRENT, KIND_PLAIN = 0, 1


def model_name(model: NeuronModel) -> str:
    """The `kind` name of a model instance (its key in MODELS)."""
    return next(k for k, cls in MODELS.items() if type(model) is cls)


@dataclass
class Coefficients:
    """One model lowered to per-neuron arrays of the update every model shares:

        i = keep_i i + input_gain x + i_bias     (kind KIND_CURRENT; else i = input_gain x + i_bias)
        v = keep_v v + current_gain i + bias
        spike if spiking and v >= theta; reset by subtraction or to v_reset
    """

    kind: int
    keep_i: np.ndarray
    keep_v: np.ndarray
    input_gain: np.ndarray
    current_gain: np.ndarray
    i_bias: np.ndarray
    bias: np.ndarray
    theta: np.ndarray
    v_reset: np.ndarray
    subtract: np.ndarray  # uint8: 1 = reset by subtraction
    refractory: np.ndarray  # int32 ticks
    max_spikes: np.ndarray  # int32 spikes per sample (0: no limit)
    spiking: np.ndarray  # uint8
    max_per_tick: np.ndarray  # int32 spikes in one tick (1: one)
    v_min: np.ndarray  # float32 lower clamp of v (-inf: none)


def lower(model: NeuronModel, size: int) -> Coefficients:
    """Per-neuron coefficients of `size` neurons of `model` (scalars broadcast)."""
    f32 = np.float32
    if isinstance(model, LoihiLIF):
        model = model.as_cuba()

    def arr(name: str, default: float, dtype=f32) -> np.ndarray:
        return np.broadcast_to(np.asarray(getattr(model, name, default), dtype), (size,)).copy()

    spiking = model.spiking
    return Coefficients(
        kind=KIND_CURRENT if model.has_current else KIND_PLAIN,
        keep_i=1 - arr("di", 1.0, np.float64).astype(f32),
        keep_v=1 - arr("dv", 0.0, np.float64).astype(f32),
        input_gain=arr("input_gain", 1.0), current_gain=arr("current_gain", 1.0),
        i_bias=arr("i_bias", 0.0), bias=arr("bias", 0.0),
        theta=arr("theta", np.inf) if spiking else np.full(size, np.inf, f32),
        v_reset=arr("v_reset", 0.0),
        subtract=np.full(size, spiking and model.reset == "subtract", np.uint8),
        refractory=np.full(size, getattr(model, "refractory", 0), np.int32),
        max_spikes=np.full(size, getattr(model, "max_spikes", 0), np.int32),
        spiking=np.full(size, spiking, np.uint8),
        max_per_tick=np.full(size, getattr(model, "max_per_tick", 1), np.int32),
        v_min=arr("v_min", -np.inf))


# -- continuous time ------------------------------------------------------------------------

def discretise(tau: Param, dt: float, method: str = "exact") -> tuple[np.ndarray, np.ndarray]:
    """(keep, drive) of `tau dy/dt = -y + u` over a tick of length dt, u held over the tick:
    y[t] = keep y[t-1] + drive u[t]. exact: keep = exp(-dt/tau), drive = 1 - keep;
    euler: keep = 1 - dt/tau, drive = dt/tau (needs dt <= tau)."""
    if method not in DISCRETISATIONS:
        raise ConfigError(f"= {method!r} is not allowed; must be one of 'exact', 'euler'", key="discretisation")
    if not dt > 0:
        raise ConfigError(f"= {dt!r} must be > 0", key="dt")
    tau = np.asarray(tau, np.float64)
    if np.any(~(tau > 0)):
        raise ConfigError(f"= {_show(tau)} must be > 0", key="tau")
    if method == "exact":
        # each to full precision: 1 - exp(-x) would cancel when tau >> dt
        return np.exp(-dt / tau), -np.expm1(-dt / tau)
    if np.any(dt > tau):
        raise ConfigError(f"forward Euler needs dt <= tau; dt = {dt:g}, smallest tau = {float(tau.min()):g}: "
                          "use a smaller dt or discretisation 'exact'", key="dt")
    return 1.0 - dt / tau, dt / tau


def _scalar(a: np.ndarray) -> Param:
    a = np.asarray(a, np.float64)
    if a.ndim == 0 or np.all(a == a.flat[0]):
        return float(a.flat[0])
    return a.astype(np.float32).ravel()


def _check_spikes(spikes: str) -> None:
    if spikes not in SPIKE_INPUTS:
        raise ConfigError(f"= {spikes!r} is not allowed; must be one of 'step', 'dirac'", key="spikes")


def spike_gain(tau: Param, dt: float, method: str = "exact", spikes: str = "step") -> np.ndarray:
    """What one spike of unit weight adds to y in `tau dy/dt = -y + u`, u = the spike: drive (held
    over the tick, "step") or 1 / tau (a Dirac delta, "dirac")."""
    _check_spikes(spikes)
    _, drive = discretise(tau, dt, method)
    return drive if spikes == "step" else 1.0 / np.asarray(tau, np.float64)


def current_to_membrane(tau_syn: Param, tau_mem: Param, dt: float, method: str = "exact",
                        spikes: str = "step") -> np.ndarray:
    """Gain from the synaptic current to v over one tick (times r): the membrane's drive (the current
    held over the tick), or with exact Dirac spikes the exact propagator tau_syn / (tau_mem - tau_syn)
    (exp(-dt/tau_mem) - exp(-dt/tau_syn)), (dt / tau) exp(-dt / tau) when the two are equal."""
    _check_spikes(spikes)
    _, dm = discretise(tau_mem, dt, method)
    if spikes == "step" or method == "euler":
        return dm
    ts, tm = np.broadcast_arrays(np.asarray(tau_syn, np.float64), np.asarray(tau_mem, np.float64))
    ks, _ = discretise(ts, dt, method)
    equal = np.isclose(tm, ts, rtol=1e-9, atol=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # km - ks as a difference of expm1s: exact to full precision when dt << tau
        apart = ts / (tm - ts) * (np.expm1(-dt / tm) - np.expm1(-dt / ts))
    return np.where(equal, dt / tm * np.exp(-dt / tm), apart)


def lif_from_continuous(tau: Param, r: Param, v_leak: Param, v_threshold: Param, v_reset: Param, dt: float,
                        method: str = "exact", spikes: str = "step") -> LIF:
    """`tau dv/dt = (v_leak - v) + r I`, spike at v_threshold, reset to v_reset: as a LIF of ticks dt."""
    keep, drive = discretise(tau, dt, method)
    gain = spike_gain(tau, dt, method, spikes)
    return LIF(dv=_scalar(1 - keep), theta=_scalar(v_threshold), reset="zero", v_reset=_scalar(v_reset),
               bias=_scalar(drive * np.asarray(v_leak)), input_gain=_scalar(gain * np.asarray(r)))


def li_from_continuous(tau: Param, r: Param, v_leak: Param, dt: float, method: str = "exact",
                       spikes: str = "step") -> LI:
    """`tau dv/dt = (v_leak - v) + r I`, non-spiking."""
    keep, drive = discretise(tau, dt, method)
    gain = spike_gain(tau, dt, method, spikes)
    return LI(dv=_scalar(1 - keep), bias=_scalar(drive * np.asarray(v_leak)),
              input_gain=_scalar(gain * np.asarray(r)))


def cuba_from_continuous(tau_syn: Param, tau_mem: Param, r: Param, v_leak: Param, w_in: Param, dt: float,
                         method: str = "exact", v_threshold: Param | None = None,
                         v_reset: Param = 0.0, spikes: str = "step") -> CubaLIF | CubaLI:
    """`tau_syn di/dt = -i + w_in I; tau_mem dv/dt = (v_leak - v) + r i` (spiking at v_threshold with a
    reset to v_reset, or non-spiking when v_threshold is None), for ticks of length dt."""
    ks, _ = discretise(tau_syn, dt, method)
    km, dm = discretise(tau_mem, dt, method)
    gi = spike_gain(tau_syn, dt, method, spikes)
    gv = current_to_membrane(tau_syn, tau_mem, dt, method, spikes)
    common = dict(di=_scalar(1 - ks), dv=_scalar(1 - km), bias=_scalar(dm * np.asarray(v_leak)),
                  input_gain=_scalar(gi * np.asarray(w_in)), current_gain=_scalar(gv * np.asarray(r)))
    if v_threshold is None:
        return CubaLI(**common)
    return CubaLIF(**common, theta=_scalar(v_threshold), reset="zero", v_reset=_scalar(v_reset))


def integrator_from_continuous(r: Param, dt: float, v_threshold: Param | None = None,
                               v_reset: Param = 0.0, spikes: str = "step") -> Integrator | IF:
    """`dv/dt = r I` (exact and Euler agree): an Integrator, or an IF spiking at v_threshold. A spike
    adds r dt (held over the tick) or r (a Dirac delta)."""
    _check_spikes(spikes)
    gain = _scalar((dt if spikes == "step" else 1.0) * np.asarray(r, np.float64))
    if v_threshold is None:
        return Integrator(input_gain=gain)
    return IF(theta=_scalar(v_threshold), reset="zero", v_reset=_scalar(v_reset), input_gain=gain)
