"""Every aihwkit pulsed-device preset against aihwkit 1.2.0 itself, replayed from goldens.

The goldens (tests/reference/aihwkit_goldens.npz and .json) come from
tests/reference/make_aihwkit_goldens.py, which runs aihwkit's own pulse-response protocol (its
docstring says how to build aihwkit and rerun it): a 64x64 array, weights 0, 1000 up pulses, 1000
down pulses, 1000 alternating pairs, one pulse per device per step, 20 device populations. Here the
same protocol runs on neurocore's crossbar write kernel (neurocore.crossbar.response) for every
preset of models/devices/:

* with every spread and noise off, the trajectory equals aihwkit's at every step to 1e-6;
* with the preset as published, the mean and the std over devices agree with aihwkit's: at each
  checkpoint (every 50 steps) z = (mean_nc - mean_ai) / SE, SE from the pooled seed-to-seed variance
  of both (two-sample t; 5 neurocore and 20 aihwkit populations), a difference under 1e-6 counting
  as none. The target is |z| <= 3 at every checkpoint; but 81 checkpoints x 2 statistics x 10 presets
  are 1620 comparisons, and a two-sample t with 23 degrees of freedom exceeds 3 by chance about
  0.6 % of the time, so the test asks what a correct model passes: |z| <= 4 everywhere, at most
  2 % of a preset's checkpoints beyond 3, and a root-mean-square z under 1.5 (a systematic
  difference of a third of an SE everywhere would exceed it). The note reports the strict count.
* each preset file holds aihwkit's parameters of that preset.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from neurocore.crossbar.response import directions, pulse_response
from neurocore.devices import DeviceSpec, load_device

REF = Path(__file__).resolve().parent / "reference"
with np.load(REF / "aihwkit_goldens.npz") as _npz:
    GOLD = {k: _npz[k] for k in _npz.files}
META = json.loads((REF / "aihwkit_goldens.json").read_text())
PRESETS = sorted(META["presets"])
NC_SEEDS = 5

#: aihwkit PulsedDevice fields neurocore does not model, and the value every preset must have for that
#: to be exact (construction_seed and count_pulses change nothing in the protocol)
ASSUMED = {"enforce_consistency": True, "corrupt_devices_prob": 0.0, "perfect_bias": False,
           "adjust_bounds_with_up_down": False, "allow_increasing": False, "apply_write_noise_on_set": True}


def test_every_shipped_preset_has_goldens():
    from neurocore.resolve import known
    assert sorted(known("devices")) == PRESETS
    assert META["aihwkit"] == "1.2.0" and META["protocol"] == [1000, 1000, 1000]
    assert list(GOLD["step"]) == list(range(0, len(directions()) + 1, META["every"]))


@pytest.mark.parametrize("name", PRESETS)
def test_preset_file_holds_aihwkit_parameters(name):
    spec = load_device(name)
    params = META["presets"][name]["params"]
    fields = DeviceSpec.__dataclass_fields__
    compared = 0
    for key, value in params.items():
        if key in ASSUMED:
            assert value == ASSUMED[key], f"{name}: aihwkit {key} = {value}, neurocore assumes {ASSUMED[key]}"
        elif key in fields and not isinstance(value, str):
            mine = getattr(spec, key)
            if isinstance(mine, tuple):
                mine = list(mine)
            assert mine == pytest.approx(value, rel=1e-12, abs=1e-12), f"{name}.{key}"
            compared += 1
    assert compared >= 12
    assert spec.up_down_convention == "aihwkit"
    # the model is aihwkit's class of the preset
    cls = {"ConstantStepDevice": "ideal", "LinearStepDevice": "linear_step", "ExpStepDevice": "exp_step",
           "SoftBoundsReferenceDevice": "soft_bounds_reference"}[META["presets"][name]["model"]]
    assert spec.model == cls


@pytest.mark.parametrize("name", PRESETS)
def test_noise_free_trajectory_equals_aihwkit(name):
    gold = GOLD[f"{name}/noise_free"]
    assert META["presets"][name]["noise_free_device_spread"] == 0.0
    mine = pulse_response(load_device(name).noise_free(), 0, shape=(1, 1), every=1)["mean"]
    assert mine.shape == gold.shape
    err = np.abs(mine - gold).max()
    assert err <= 1e-6, f"{name}: largest difference {err:.2e} at step {np.abs(mine - gold).argmax()}"


def _z(name: str, stat: str, mine: np.ndarray) -> np.ndarray:
    """Per checkpoint: (neurocore's mean over seeds - aihwkit's) / SE; 0 where they differ by < 1e-6."""
    gold = GOLD[f"{name}/{stat}"]
    sa, sn = gold.shape[0], mine.shape[0]
    pooled = ((sa - 1) * gold.var(0, ddof=1) + (sn - 1) * mine.var(0, ddof=1)) / (sa + sn - 2)
    se = np.sqrt(pooled * (1 / sa + 1 / sn))
    diff = mine.mean(0) - gold.mean(0)
    return np.where(np.abs(diff) < 1e-6, 0.0, diff / np.maximum(se, 1e-300))


@pytest.mark.parametrize("name", PRESETS)
def test_mean_and_std_within_three_standard_errors(name):
    spec = load_device(name)
    runs = [pulse_response(spec, 100 + s, every=META["every"]) for s in range(NC_SEEDS)]
    for stat in ("mean", "std"):
        mine = np.array([r[stat] for r in runs])
        z = _z(name, stat, mine)
        assert np.abs(z).max() <= 4.0, f"{name} {stat}: largest |z| {np.abs(z).max():.2f} at step {np.abs(z).argmax()}"
        assert (np.abs(z) > 3).mean() <= 0.02, f"{name} {stat}: {(np.abs(z) > 3).sum()} checkpoints beyond 3 SE"
        assert np.sqrt(np.mean(z ** 2)) < 1.5, f"{name} {stat}: rms z {np.sqrt(np.mean(z ** 2)):.2f}"


def agreement_table() -> str:
    """The per-preset agreement the issue note reports (python tests/test_aihwkit_devices.py)."""
    lines = ["| preset | aihwkit model | noise off: largest difference | mean: largest abs z, beyond 3 SE, rms z "
             "| std: largest abs z, beyond 3 SE, rms z |", "|---|---|---|---|---|"]
    for name in PRESETS:
        spec = load_device(name)
        nf = pulse_response(spec.noise_free(), 0, shape=(1, 1), every=1)["mean"]
        err = np.abs(nf - GOLD[f"{name}/noise_free"]).max()
        runs = [pulse_response(spec, 100 + s, every=META["every"]) for s in range(NC_SEEDS)]
        cells = []
        for stat in ("mean", "std"):
            z = _z(name, stat, np.array([r[stat] for r in runs]))
            cells.append(f"{np.abs(z).max():.2f}, {(np.abs(z) > 3).sum()} of {z.size}, {np.sqrt(np.mean(z ** 2)):.2f}")
        lines.append(f"| {name} | {META['presets'][name]['class']} ({META['presets'][name]['model']}) | "
                     f"{err:.1e} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(agreement_table())
