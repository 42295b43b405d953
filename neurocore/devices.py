"""RPU device and crossbar-read parameters: plain, validated data (no kernels here).

Weights are stored as one device per crosspoint read against a fixed reference
(weight = g - g_ref, in normalised units), as in IBM aihwkit's single-device
`PulsedDevice` tiles. A crossbar's synaptic weight seen by the neurons is
`gain * w`, `gain` set per projection.

A `DeviceSpec` is aihwkit's `PulsedDevice`: the step size and its asymmetry, bounds,
device-to-device (dtod) spreads, cycle-to-cycle (c2c) noise, write noise, decay and
diffusion, plus the parameters of one response model (`model`). Each model is a small
dataclass below whose docstring is its update equation; `MODELS` is the one table from a
model's name to its class and integer id (the id the compiled kernels dispatch on).
Every aihwkit pulsed-device preset is a file of models/devices/ (`device = "reram_es"`).

The conventions every model shares, for one pulse on a device whose state is x (x = w,
or x = w + ref for `soft_bounds_reference`), its own step sizes dw_up, dw_down and bounds
w_min <= 0 <= w_max (drawn once per device, see neurocore.crossbar.devices):

    up:   x <- clip(x + s_up(x)   + sigma xi, w_min, w_max)
    down: x <- clip(x - s_down(x) - sigma xi, w_min, w_max)
    sigma = dw_min_std * (|s(x)| if mult_noise else dw) + dw_min_std * (dw_min_std_add + dw_min_std_slope |x|)
    write noise: the weight read is w_persistent + write_noise_std * dw_min * xi, redrawn at each pulse

(aihwkit's `mult_noise` / additive noise / ExpStep's complex noise, `write_noise_std`).

Defaults follow aihwkit's `PulsedDevice` where they were there before (dw_min 0.001,
bounds +-0.6) with every non-ideality off; Gokmen and Vlasov (2016, Front. Neurosci.
10:333) ask for >= 1000 states and < 2 % asymmetry at the array level for SGD to work.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, Mapping

from .config import load_toml, spec
from .errors import ConfigError

# -- the response models: what one pulse does (docstring = equation) --------------------------


@dataclass(frozen=True)
class ConstantStep:
    """ideal (aihwkit ConstantStepDevice): s_up(x) = dw_up, s_down(x) = dw_down; hard bounds."""

    params: ClassVar[tuple[str, ...]] = ()


@dataclass(frozen=True)
class LinearStep:
    """linear_step (aihwkit LinearStepDevice): s_up(x) = dw_up (1 - g_up x / r_up),
    s_down(x) = dw_down (1 - g_down x / r_down).

    g = |gamma + gamma_dtod xi| per device; r_up = w_max and r_down = w_min, the device's own
    bounds, or the spec's mean bounds with `mean_bound_reference` (aihwkit's default);
    `reverse_up` makes r_up = w_min - reverse_offset (the up step grows with x), `reverse_down`
    r_down = w_max + reverse_offset. A reference of 0 gives a constant step on that side.
    """

    gamma_up: float
    gamma_down: float
    gamma_up_dtod: float
    gamma_down_dtod: float
    mean_bound_reference: bool
    reverse_up: bool
    reverse_down: bool
    reverse_offset: float
    params: ClassVar[tuple[str, ...]] = ("gamma_up", "gamma_down", "gamma_up_dtod", "gamma_down_dtod",
                                         "mean_bound_reference", "reverse_up", "reverse_down", "reverse_offset")


@dataclass(frozen=True)
class SoftBounds:
    """soft_bounds (aihwkit SoftBoundsDevice, the gamma = 1 case of LinearStep against the device's
    own bounds): s_up(x) = dw_up (1 - x / w_max), s_down(x) = dw_down (1 - x / w_min).
    With up_down = 0 the symmetry point is 0; `reverse_up` / `reverse_down` as in LinearStep."""

    reverse_up: bool
    reverse_down: bool
    reverse_offset: float
    params: ClassVar[tuple[str, ...]] = ("reverse_up", "reverse_down", "reverse_offset")


@dataclass(frozen=True)
class ExpStep:
    """exp_step (aihwkit ExpStepDevice): z = 2 a x / (w_max - w_min) + b,
    s_up(x) = dw_up max(1 - A_up exp(gamma_up z), 0), s_down(x) = dw_down max(1 - A_down exp(-gamma_down z), 0).
    A device with w_max <= w_min does not move. Its c2c noise is multiplicative unless
    dw_min_std_add or dw_min_std_slope are set (aihwkit's complex noise, the sigma above)."""

    a: float
    b: float
    A_up: float
    A_down: float
    gamma_up: float
    gamma_down: float
    params: ClassVar[tuple[str, ...]] = ("a", "b", "A_up", "A_down", "gamma_up", "gamma_down")


@dataclass(frozen=True)
class PowStep:
    """pow_step (aihwkit PowStepDevice): s_up(x) = dw_up ((w_max - x) / (w_max - w_min))^p_up,
    s_down(x) = dw_down ((x - w_min) / (w_max - w_min))^p_down.

    p_up, p_down per device: pow_gamma (g + pow_up_down_bias_up + r), pow_gamma (g + pow_up_down_bias_down - r)
    with g = 1 + pow_gamma_dtod xi, r = pow_up_down_dtod xi, the biases split by `up_down_convention`
    like up_down; absolute values taken. A device with w_max = w_min does not move."""

    pow_gamma: float
    pow_gamma_dtod: float
    pow_up_down: float
    pow_up_down_dtod: float
    params: ClassVar[tuple[str, ...]] = ("pow_gamma", "pow_gamma_dtod", "pow_up_down", "pow_up_down_dtod")


@dataclass(frozen=True)
class PiecewiseStep:
    """piecewise_step (aihwkit PiecewiseStepDevice): the step is interpolated linearly between
    n equally spaced nodes over [w_min, w_max]: with u = (x - w_min) / (w_max - w_min) (n - 1),
    k = min(floor(u), n - 2), t = min(u - k, 1): s_up(x) = dw_up ((1-t) piecewise_up[k] + t piecewise_up[k+1]),
    s_down likewise with piecewise_down (one node: a constant factor)."""

    piecewise_up: tuple[float, ...]
    piecewise_down: tuple[float, ...]
    params: ClassVar[tuple[str, ...]] = ("piecewise_up", "piecewise_down")


@dataclass(frozen=True)
class SoftBoundsReference:
    """soft_bounds_reference (aihwkit SoftBoundsReferenceDevice): soft bounds on the device state
    x = w + ref, the weight read against a reference device: s_up(x) = dw_up (1 - x / w_max),
    s_down(x) = dw_down (1 - x / w_min), x clipped to [w_min, w_max], then w = x - ref.

    Per device the slopes spread: w_max <- w_max / |1 + slope_up_dtod xi|, w_min <- w_min / |1 + slope_down_dtod xi|;
    ref = reference_mean + reference_std xi, plus the device's symmetry point
    (dw_up - dw_down) / (dw_up / w_max - dw_down / w_min) with `subtract_symmetry_point`."""

    slope_up_dtod: float
    slope_down_dtod: float
    reference_mean: float
    reference_std: float
    subtract_symmetry_point: bool
    params: ClassVar[tuple[str, ...]] = ("slope_up_dtod", "slope_down_dtod", "reference_mean", "reference_std",
                                         "subtract_symmetry_point")


#: THE table of device models: name -> response class; a model's integer id (what the compiled
#: kernels dispatch on, neurocore.crossbar.kernels.step_size) is its position here.
MODELS: dict[str, type] = {
    "ideal": ConstantStep,
    "linear_step": LinearStep,
    "soft_bounds": SoftBounds,
    "exp_step": ExpStep,
    "pow_step": PowStep,
    "piecewise_step": PiecewiseStep,
    "soft_bounds_reference": SoftBoundsReference,
}
DEVICE_MODELS = tuple(MODELS)
#: device model name -> the integer id the compiled kernels take (its index in DEVICE_MODELS)
MODEL_IDS = {name: k for k, name in enumerate(DEVICE_MODELS)}
#: every model-specific parameter, and the models that read it
_MODEL_PARAMS: dict[str, tuple[str, ...]] = {}
for _name, _cls in MODELS.items():
    for _p in _cls.params:
        _MODEL_PARAMS[_p] = _MODEL_PARAMS.get(_p, ()) + (_name,)

UP_DOWN_CONVENTIONS = ("symmetric", "aihwkit")


@dataclass(frozen=True)
class DeviceSpec:
    """One RPU device type: how a single write pulse moves its weight (see the module docstring)."""

    model: str = spec("ideal", choices=DEVICE_MODELS,
                      doc="response model: " + ", ".join(DEVICE_MODELS) + " (each a class of neurocore.devices "
                          "whose docstring is its equation)")
    dw_min: float = spec(0.001, lo=0.0, lo_open=True, doc="mean weight step of one pulse (aihwkit 0.001)")
    up_down: float = spec(0.0, lo=-1.0, hi=1.0,
                          doc="asymmetry; 'symmetric' convention: up step dw_min*(1+up_down), down dw_min*(1-up_down); "
                              "'aihwkit': a positive value shortens the down step alone, dw_min*(1-up_down), a "
                              "negative one the up step alone, dw_min*(1+up_down)")
    up_down_convention: str = spec("symmetric", choices=UP_DOWN_CONVENTIONS,
                                   doc="how up_down (and pow_up_down) split between the directions and how the "
                                       "spreads enter: 'symmetric' (neurocore's first convention, aihwkit's "
                                       "docstring: mean step stays dw_min, up_down_dtod multiplies the step) or "
                                       "'aihwkit' (aihwkit's C++: up = dw_min (1 + min(ud,0) + g + r), "
                                       "down = dw_min (1 - max(ud,0) + g - r), r = up_down_dtod xi added)")
    w_max: float = spec(0.6, lo=0.0, doc="upper weight bound (aihwkit 0.6)")
    w_min: float = spec(-0.6, hi=0.0, doc="lower weight bound (aihwkit -0.6)")
    dw_min_std: float = spec(0.0, lo=0.0, doc="cycle-to-cycle step noise, relative std, fresh per pulse "
                                               "(aihwkit 0.3)")
    mult_noise: bool = spec(True, doc="c2c noise proportional to the model's step at x (true) or to the "
                                      "device's base step dw (false: aihwkit's additive noise)")
    dw_min_std_add: float = spec(0.0, lo=0.0, doc="c2c noise: sigma += dw_min_std * dw_min_std_add "
                                                  "(aihwkit ExpStep complex noise)")
    dw_min_std_slope: float = spec(0.0, lo=0.0, doc="c2c noise: sigma += dw_min_std * dw_min_std_slope * |x| "
                                                    "(aihwkit ExpStep complex noise)")
    write_noise_std: float = spec(0.0, lo=0.0, doc="write noise: the weight read is the device's persistent "
                                                   "state + write_noise_std * dw_min * xi, redrawn at each "
                                                   "pulse (aihwkit write_noise_std)")
    dw_min_dtod: float = spec(0.0, lo=0.0, doc="device-to-device spread of dw_min, relative std (aihwkit 0.3)")
    dw_min_dtod_log_normal: bool = spec(False, doc="dw_min spread log-normal: dw = dw_min exp(dw_min_dtod xi)")
    up_down_dtod: float = spec(0.0, lo=0.0, doc="device-to-device spread of up_down, absolute std (aihwkit 0.01)")
    w_max_dtod: float = spec(0.0, lo=0.0, doc="device-to-device spread of w_max, relative std (aihwkit 0.3)")
    w_min_dtod: float = spec(0.0, lo=0.0, doc="device-to-device spread of w_min, relative std (aihwkit 0.3)")
    lifetime: float = spec(0.0, lo=0.0, doc="decay once per batch of samples written: w <- (w - reset) "
                                            "(1 - 1/lifetime) + reset (0: none; aihwkit lifetime)")
    lifetime_dtod: float = spec(0.0, lo=0.0, doc="device-to-device spread of lifetime, relative std")
    diffusion: float = spec(0.0, lo=0.0, doc="diffusion once per batch written: w += diffusion * xi")
    diffusion_dtod: float = spec(0.0, lo=0.0, doc="device-to-device spread of diffusion, relative std")
    reset: float = spec(0.0, doc="reset value of a device (the target of decay), aihwkit reset")
    reset_dtod: float = spec(0.0, lo=0.0, doc="device-to-device spread of reset, absolute std")
    # linear_step / soft_bounds
    gamma_up: float = spec(0.0, lo=0.0, doc="linear_step: up-step slope; exp_step: gamma_up (aihwkit 0)")
    gamma_down: float = spec(0.0, lo=0.0, doc="linear_step: down-step slope; exp_step: gamma_down (aihwkit 0)")
    gamma_up_dtod: float = spec(0.0, lo=0.0, doc="linear_step: spread of gamma_up, absolute std (aihwkit 0.05)")
    gamma_down_dtod: float = spec(0.0, lo=0.0, doc="linear_step: spread of gamma_down, absolute std (aihwkit 0.05)")
    mean_bound_reference: bool = spec(False, doc="linear_step: slopes against the mean bounds, not the device's "
                                                 "own (aihwkit default true)")
    reverse_up: bool = spec(False, doc="linear_step / soft_bounds: the up step grows with w")
    reverse_down: bool = spec(False, doc="linear_step / soft_bounds: the down step grows as w falls")
    reverse_offset: float = spec(0.01, lo=0.0, doc="linear_step / soft_bounds: offset of a reversed reference")
    # exp_step
    a: float = spec(0.0, doc="exp_step: a (aihwkit ExpStepDevice 0.244)")
    b: float = spec(0.0, doc="exp_step: b (aihwkit 0.2425)")
    A_up: float = spec(0.0, doc="exp_step: A_up (aihwkit 0.00081)")
    A_down: float = spec(0.0, doc="exp_step: A_down (aihwkit 0.36833)")
    # pow_step
    pow_gamma: float = spec(1.0, lo=0.0, doc="pow_step: exponent of the distance to the bound (aihwkit 1)")
    pow_gamma_dtod: float = spec(0.0, lo=0.0, doc="pow_step: relative spread of pow_gamma (aihwkit 0.1)")
    pow_up_down: float = spec(0.0, lo=-1.0, hi=1.0, doc="pow_step: asymmetry of the exponents")
    pow_up_down_dtod: float = spec(0.0, lo=0.0, doc="pow_step: spread of pow_up_down")
    # piecewise_step
    piecewise_up: tuple[float, ...] = spec((1.0,), doc="piecewise_step: step factors at equally spaced "
                                                      "nodes over [w_min, w_max], up")
    piecewise_down: tuple[float, ...] = spec((1.0,), doc="piecewise_step: the same, down")
    # soft_bounds_reference
    slope_up_dtod: float = spec(0.0, lo=0.0, doc="soft_bounds_reference: spread of the up slope")
    slope_down_dtod: float = spec(0.0, lo=0.0, doc="soft_bounds_reference: spread of the down slope")
    reference_mean: float = spec(0.0, doc="soft_bounds_reference: mean of the reference")
    reference_std: float = spec(0.0, lo=0.0, doc="soft_bounds_reference: spread of the reference")
    subtract_symmetry_point: bool = spec(False, doc="soft_bounds_reference: the reference holds each "
                                                    "device's symmetry point")
    preset: str = spec("", doc="the models/devices/ file these parameters came from (informative)")
    source: str = spec("", doc="where the parameters come from (paper)")

    def validate(self) -> None:
        if self.w_min >= self.w_max:
            raise ConfigError(f"w_min ({self.w_min}) must be below w_max ({self.w_max})", key="w_min")
        defaults = DeviceSpec.__dataclass_fields__
        for name, models in _MODEL_PARAMS.items():
            if self.model not in models and getattr(self, name) != defaults[name].default:
                raise ConfigError(f"= {getattr(self, name)!r} is a parameter of {' / '.join(models)}, "
                                  f"not of model '{self.model}'", key=name)
        if self.model == "piecewise_step":
            for name in ("piecewise_up", "piecewise_down"):
                v = getattr(self, name)
                if len(v) == 0 or any(x < 0 for x in v):
                    raise ConfigError(f"= {list(v)}: needs at least one node, none negative", key=name)
            if len(self.piecewise_up) != len(self.piecewise_down):
                raise ConfigError("piecewise_up and piecewise_down need the same number of nodes",
                                  key="piecewise_down")

    @property
    def model_id(self) -> int:
        """Integer id of `model` passed to the compiled kernels (its index in DEVICE_MODELS)."""
        return MODEL_IDS[self.model]

    @property
    def response(self) -> object:
        """The model's own parameters as its dataclass (ConstantStep, LinearStep, ...)."""
        cls = MODELS[self.model]
        return cls(**{f.name: getattr(self, f.name) for f in fields(cls)})

    @property
    def write_noise(self) -> float:
        """Absolute std of the write noise (write_noise_std * dw_min)."""
        return self.write_noise_std * self.dw_min

    @property
    def decays(self) -> bool:
        """True when devices decay or diffuse between batches."""
        return self.lifetime > 0 or self.diffusion > 0

    @property
    def is_ideal(self) -> bool:
        """True when every device takes the same exact, noiseless, symmetric step between the same
        bounds (the engine's fast path: scalar dw_min, w_min, w_max)."""
        return (self.model == "ideal" and self.up_down == 0 and self.dw_min_std == 0
                and self.dw_min_dtod == 0 and self.up_down_dtod == 0
                and self.w_max_dtod == 0 and self.w_min_dtod == 0 and self.write_noise_std == 0
                and not self.decays)

    def noise_free(self) -> "DeviceSpec":
        """The same device with every spread and noise off (what aihwkit's pulse-response plots call
        noise free, and more: no device-to-device spread either): every device identical."""
        from dataclasses import replace
        zero = {f.name: 0.0 for f in fields(self) if f.name.endswith(("_dtod", "_std"))}
        zero.update(dw_min_std_add=0.0, dw_min_std_slope=0.0, diffusion=0.0)
        return replace(self, **zero)


def preset_table(name_or_path: str | Path, source: str = "<python>", key: str = "device") -> dict:
    """The [device] table of a preset of models/devices/ (by name, e.g. "reram_es", or a path)."""
    from .resolve import model_file

    p = model_file("devices", name_or_path, source=source, key=key)
    data = load_toml(p)
    table = data.get("device")
    if not isinstance(table, Mapping) or set(data) != {"device"}:
        raise ConfigError("a device preset holds one [device] table and nothing else", str(p), "device")
    return dict(table)


def resolve_device(value: Any, source: str = "<python>", key: str = "device") -> Any:
    """A chip's `device` as given (a preset name, or a table that may name `preset` and override its
    keys) -> the full [device] table; anything else is returned as it is, for the loader to judge."""
    if isinstance(value, str):
        return preset_table(value, source, key)
    if isinstance(value, Mapping) and isinstance(value.get("preset"), str) and value["preset"]:
        base = preset_table(value["preset"], source, f"{key}.preset")
        base.update(value)
        return base
    return value


def load_device(name_or_path: str | Path) -> DeviceSpec:
    """A DeviceSpec from a preset of models/devices/ (by name) or a TOML file with one [device] table."""
    from .config import build

    table = preset_table(name_or_path)
    return build(DeviceSpec, table, str(name_or_path), "device")


@dataclass(frozen=True)
class ReadSpec:
    """Non-idealities of a crossbar read (forward and transposed alike); all off by default."""

    noise_std: float = spec(0.0, lo=0.0, doc="additive Gaussian read noise per column output, "
                                              "in units of w_max (aihwkit out_noise 0.06)")
    dac_bits: int = spec(0, lo=0, hi=24, doc="input (row) DAC resolution in bits, symmetric grid of "
                                             "2**bits - 1 levels over +-in_bound (aihwkit inp_res 1/(2**8-2)); 0 = exact")
    adc_bits: int = spec(0, lo=0, hi=24, doc="output (column) ADC resolution in bits, symmetric grid of "
                                             "2**bits - 1 levels over +-out_bound*w_max (aihwkit out_res "
                                             "1/(2**8-2)); 0 = exact, no clipping")
    in_bound: float = spec(1.0, lo=0.0, lo_open=True, doc="DAC clipping bound of a row input")
    out_bound: float = spec(12.0, lo=0.0, lo_open=True,
                            doc="ADC clipping bound of a column output, in units of w_max (aihwkit 12)")

    @property
    def is_exact(self) -> bool:
        """True when a read is the exact matrix product (the engine's fast path)."""
        return self.noise_std == 0 and self.dac_bits == 0 and self.adc_bits == 0
