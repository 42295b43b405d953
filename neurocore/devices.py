"""RPU device and crossbar-read parameters: plain, validated data (no kernels here).

Weights are stored as one device per crosspoint read against a fixed reference
(weight = g - g_ref, in normalised units), as in IBM aihwkit's single-device
`PulsedDevice` tiles. A crossbar's synaptic weight seen by the neurons is
`gain * w`, `gain` set per projection.

Defaults follow aihwkit's `PulsedDevice` (dw_min 0.001, bounds +-0.6 so about 1200
states, 30 % device-to-device spreads, 30 % cycle-to-cycle step noise); Gokmen and
Vlasov (2016, Front. Neurosci. 10:333) ask for >= 1000 states and < 2 % asymmetry
at the array level for SGD to work.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import spec
from .errors import ConfigError

DEVICE_MODELS = ("ideal", "linear_step", "soft_bounds")
#: device model name -> the integer id the compiled kernels take (its index in DEVICE_MODELS)
MODEL_IDS = {name: k for k, name in enumerate(DEVICE_MODELS)}


@dataclass(frozen=True)
class DeviceSpec:
    """One RPU device type: how a single write pulse moves its weight."""

    model: str = spec("ideal", choices=DEVICE_MODELS,
                      doc="ideal: constant step, hard bounds; linear_step: step shrinks linearly "
                          "with w (gamma); soft_bounds: step proportional to the distance to the bound")
    dw_min: float = spec(0.001, lo=0.0, lo_open=True, doc="mean weight step of one pulse (aihwkit 0.001)")
    up_down: float = spec(0.0, lo=-1.0, hi=1.0,
                          doc="asymmetry: up step dw_min*(1+up_down), down step dw_min*(1-up_down)")
    w_max: float = spec(0.6, lo=0.0, lo_open=True, doc="upper weight bound (aihwkit 0.6)")
    w_min: float = spec(-0.6, hi=0.0, doc="lower weight bound (aihwkit -0.6)")
    gamma_up: float = spec(0.0, lo=0.0, doc="linear_step: up step scales by (1 - gamma_up * w / w_max), "
                                             "w_max the device's own bound (aihwkit LinearStepDevice gamma_up 0)")
    gamma_down: float = spec(0.0, lo=0.0, doc="linear_step: down step scales by (1 - gamma_down * w / w_min) "
                                               "(aihwkit gamma_down 0)")
    dw_min_std: float = spec(0.0, lo=0.0, doc="cycle-to-cycle step noise, relative std, fresh per pulse "
                                               "(aihwkit 0.3)")
    dw_min_dtod: float = spec(0.0, lo=0.0, doc="device-to-device spread of dw_min, relative std (aihwkit 0.3)")
    up_down_dtod: float = spec(0.0, lo=0.0, doc="device-to-device spread of up_down, absolute std (aihwkit 0.01)")
    w_max_dtod: float = spec(0.0, lo=0.0, doc="device-to-device spread of w_max, relative std (aihwkit 0.3)")
    w_min_dtod: float = spec(0.0, lo=0.0, doc="device-to-device spread of w_min, relative std (aihwkit 0.3)")

    def validate(self) -> None:
        if self.w_min >= self.w_max:
            raise ConfigError(f"w_min ({self.w_min}) must be below w_max ({self.w_max})", key="w_min")

    @property
    def model_id(self) -> int:
        """Integer id of `model` passed to the compiled kernels (its index in DEVICE_MODELS)."""
        return MODEL_IDS[self.model]

    @property
    def is_ideal(self) -> bool:
        """True when every device takes the same exact, noiseless, symmetric step between the same
        bounds (the engine's fast path: scalar dw_min, w_min, w_max)."""
        return (self.model == "ideal" and self.up_down == 0 and self.dw_min_std == 0
                and self.dw_min_dtod == 0 and self.up_down_dtod == 0
                and self.w_max_dtod == 0 and self.w_min_dtod == 0)


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
