"""Device models and conventions beyond the first three: closed forms of each model's step, aihwkit's
up_down convention, write noise, additive and complex noise, reference devices, decay, presets by name."""

from __future__ import annotations

import numpy as np
import pytest

from neurocore.chip import chip_from_dict, load_chip
from neurocore.config import build
from neurocore.crossbar import Crossbar, device_params, device_step, draw_devices, seed_numba
from neurocore.crossbar.response import pulse_response
from neurocore.crossbar.symmetry import symmetry_points
from neurocore.devices import MODELS, DeviceSpec, load_device
from neurocore.errors import ConfigError
from neurocore.experiment import load_experiment

RNG = np.random.default_rng


def one(spec: DeviceSpec):
    """The single device of a spec without spreads, and a step function s(x, up) through the kernel."""
    d = draw_devices(spec, (1,), RNG(0))
    p = device_params(spec)
    a = [float(x[0]) for x in d[:7]]

    def s(w, up):
        return device_step(w, up, *a, spec.model_id, p)
    return a, s


def test_every_model_is_a_documented_dataclass():
    for name, cls in MODELS.items():
        assert cls.__doc__ and name in cls.__doc__.split(":")[0] or name == "ideal"
        assert DeviceSpec(model=name, **({"piecewise_up": (1.0,), "piecewise_down": (1.0,)}
                                         if name == "piecewise_step" else {})).response.__class__ is cls


def test_exp_step_closed_form():
    spec = DeviceSpec(model="exp_step", dw_min=0.01, w_max=1.0, w_min=-1.0, a=-0.5, b=-0.5, A_up=-1.18,
                      A_down=-0.08, gamma_up=5.0, gamma_down=5.0)
    _, s = one(spec)
    for w in (-0.9, -0.2, 0.0, 0.4, 0.95):
        z = 2 * w / 2.0 * -0.5 - 0.5
        assert s(w, True) == pytest.approx(0.01 * max(1 + 1.18 * np.exp(5 * z), 0), rel=1e-6)
        assert s(w, False) == pytest.approx(0.01 * max(1 + 0.08 * np.exp(-5 * z), 0), rel=1e-6)


def test_pow_step_closed_form():
    spec = DeviceSpec(model="pow_step", dw_min=0.01, w_max=0.6, w_min=-0.4, pow_gamma=2.0)
    _, s = one(spec)
    for w in (-0.4, 0.0, 0.3, 0.6):
        assert s(w, True) == pytest.approx(0.01 * ((0.6 - w) / 1.0) ** 2, rel=1e-6, abs=1e-12)
        assert s(w, False) == pytest.approx(0.01 * ((w + 0.4) / 1.0) ** 2, rel=1e-6, abs=1e-12)


def test_piecewise_step_interpolates_its_nodes():
    spec = DeviceSpec(model="piecewise_step", dw_min=0.01, w_max=1.0, w_min=-1.0,
                      piecewise_up=(1.0, 0.5, 0.1), piecewise_down=(0.2, 0.6, 1.0))
    _, s = one(spec)
    assert s(-1.0, True) == pytest.approx(0.01)
    assert s(-0.5, True) == pytest.approx(0.01 * 0.75)
    assert s(0.0, True) == pytest.approx(0.005)
    assert s(1.0, True) == pytest.approx(0.001)
    assert s(0.5, False) == pytest.approx(0.01 * 0.8)


def test_linear_step_mean_bound_reference_and_reverse():
    base = dict(model="linear_step", dw_min=0.01, w_max=0.6, w_min=-0.6, gamma_up=0.5, gamma_down=0.5,
                w_max_dtod=0.3, w_min_dtod=0.3)
    own = draw_devices(DeviceSpec(**base), (200,), RNG(1))
    mean = draw_devices(DeviceSpec(**base, mean_bound_reference=True), (200,), RNG(1))
    np.testing.assert_allclose(own.g_up, 0.5 / own.w_max, rtol=1e-6)
    np.testing.assert_allclose(mean.g_up, 0.5 / 0.6, rtol=1e-6)
    rev = draw_devices(DeviceSpec(**base, reverse_up=True), (3,), RNG(1))
    np.testing.assert_allclose(rev.g_up, 0.5 / (rev.w_min - 0.01), rtol=1e-6)  # up step grows with w


def test_aihwkit_up_down_puts_a_positive_value_on_the_down_step_alone():
    for ud in (0.2, -0.1):
        a = draw_devices(DeviceSpec(up_down=ud, up_down_convention="aihwkit"), (2,), RNG(0))
        s = draw_devices(DeviceSpec(up_down=ud), (2,), RNG(0))
        up, down = (0.001, 0.001 * (1 - ud)) if ud > 0 else (0.001 * (1 + ud), 0.001)
        np.testing.assert_allclose([a.dw_up[0], a.dw_down[0]], [up, down], rtol=1e-6)
        np.testing.assert_allclose([s.dw_up[0], s.dw_down[0]], [0.001 * (1 + ud), 0.001 * (1 - ud)], rtol=1e-6)


def test_log_normal_step_spread():
    d = draw_devices(DeviceSpec(dw_min_dtod=0.5, dw_min_dtod_log_normal=True, up_down_convention="aihwkit"),
                     (200, 200), RNG(2))
    assert (d.dw_up > 0).all()
    assert np.log(d.dw_up / 0.001).std() == pytest.approx(0.5, rel=0.02)


def test_write_noise_keeps_a_persistent_state():
    spec = DeviceSpec(write_noise_std=10.0, dw_min=0.001)
    seed_numba(3)
    xb = Crossbar((50, 50), spec, rng=0)
    assert xb.hidden is not xb.w and (xb.hidden == 0).all()
    assert xb.w.std() == pytest.approx(0.01, rel=0.05)  # noise on set, as aihwkit
    for _ in range(10):
        xb.pulse_coincidence(np.arange(50), np.arange(50), [])
    np.testing.assert_allclose(xb.hidden, 0.01, rtol=1e-5)  # the persistent state steps exactly
    assert (xb.w - xb.hidden).std() == pytest.approx(0.01, rel=0.05)


def test_additive_and_complex_noise():
    seed_numba(4)
    # additive (mult_noise false): sigma = dw_min_std * dw even where the soft-bounds step is small
    xb = Crossbar(np.full((100, 100), 0.5), DeviceSpec(model="soft_bounds", dw_min_std=1.0, mult_noise=False), rng=0)
    xb.pulse_coincidence(np.arange(100), np.arange(100), [])
    moved = xb.w.astype(float) - 0.5
    assert moved.std() == pytest.approx(0.001, rel=0.1)
    # complex (exp_step): sigma = std (|step| + add + slope |w|)
    spec = DeviceSpec(model="exp_step", dw_min=0.01, w_max=2.0, w_min=0.0, dw_min_std=0.5, dw_min_std_add=0.04,
                      dw_min_std_slope=0.1, A_up=0.0, A_down=0.0, a=-1.0)
    xb = Crossbar(np.full((100, 100), 1.0), spec, rng=0)
    xb.pulse_coincidence(np.arange(100), np.arange(100), [])
    assert (xb.w.astype(float) - 1.0).std() == pytest.approx(0.5 * (0.01 + 0.04 + 0.1), rel=0.05)


def test_soft_bounds_reference_subtracts_each_symmetry_point():
    spec = DeviceSpec(model="soft_bounds_reference", up_down=0.3, up_down_convention="aihwkit",
                      dw_min_dtod=0.2, w_max_dtod=0.2, w_min_dtod=0.2, subtract_symmetry_point=True)
    d = draw_devices(spec, (40, 40), RNG(5))
    sp = (d.dw_up - d.dw_down) / (d.dw_up / d.w_max - d.dw_down / d.w_min)
    np.testing.assert_allclose(d.ref, sp, rtol=1e-4, atol=1e-7)
    # read against its reference, each device's symmetry point is weight 0
    np.testing.assert_allclose(symmetry_points(spec, d), 0.0, atol=1e-6)
    r = pulse_response(spec, 1, np.tile(np.array([1, -1], np.int8), 4000), shape=(20, 20), every=8000)
    assert abs(r["mean"][-1]) < 0.01


def test_symmetry_point_of_soft_bounds_closed_form():
    spec = DeviceSpec(model="soft_bounds", up_down=0.2, w_max_dtod=0.2, w_min_dtod=0.2)
    d = draw_devices(spec, (30,), RNG(6))
    sp = (d.dw_up.astype(float) - d.dw_down) / (d.dw_up.astype(float) / d.w_max - d.dw_down.astype(float) / d.w_min)
    np.testing.assert_allclose(symmetry_points(spec, d), sp, atol=1e-9)
    assert np.isnan(symmetry_points(DeviceSpec(up_down=0.1), draw_devices(DeviceSpec(up_down=0.1), (3,), RNG(0)))).all()


def test_decay_moves_toward_reset_once_per_call():
    spec = DeviceSpec(lifetime=10.0, reset=0.1)
    xb = Crossbar(np.full((2, 2), 0.5), spec, rng=0)
    xb.decay()
    np.testing.assert_allclose(xb.w, 0.1 + 0.4 * 0.9, rtol=1e-6)


def test_parameters_of_another_model_are_refused():
    with pytest.raises(ConfigError, match="A_up.*parameter of exp_step"):
        build(DeviceSpec, {"model": "linear_step", "A_up": 1.0}, "chip.toml", "device")
    with pytest.raises(ConfigError, match="up_down_convention"):
        build(DeviceSpec, {"up_down_convention": "half"}, "chip.toml", "device")


def test_chip_names_a_preset_and_overrides_it():
    small = load_chip("small")
    from dataclasses import asdict  # noqa: F401
    from neurocore.config import load_toml
    from neurocore.chip import CHIPS_DIR
    data = load_toml(CHIPS_DIR / "small.toml")
    chip = chip_from_dict({**data, "device": "reram_es"}, "x.toml")
    assert chip.device == load_device("reram_es") and chip.device.model == "exp_step"
    chip = chip_from_dict({**data, "device": {"preset": "reram_es", "dw_min": 0.002}}, "x.toml")
    assert chip.device.dw_min == 0.002 and chip.device.A_up == load_device("reram_es").A_up
    with pytest.raises(ConfigError, match="device.*no device named 'memristor'"):
        chip_from_dict({**data, "device": "memristor"}, "x.toml")
    assert small.device.model == "ideal"


def test_set_chip_device_on_an_experiment():
    exp = load_experiment("digits", {"chip.device": "ecram"})
    assert exp.chip.device == load_device("ecram")
    exp = load_experiment("digits", {"chip.device": {"preset": "pcm", "dw_min": 0.02}})
    assert exp.chip.device.model == "exp_step" and exp.chip.device.dw_min == 0.02


def test_training_engine_writes_through_a_preset():
    from neurocore.methods.ssnn_bp.trainer import Trainer, load_data
    exp = load_experiment("digits", {"chip.device": "reram_es", "train.epochs": 1, "data.train": 40,
                                     "data.test": 20, "train.update": "coincidence"})
    tr = Trainer(exp, run_dir=None)
    train_set, _ = load_data(exp)
    proj = [n for n, p in tr.engine.placement.netlist.projections.items() if p.plastic is not None][0]
    w0 = tr.engine.weights(proj).copy()
    tr.train_epoch(train_set, progress=False)
    w1 = tr.engine.weights(proj)
    assert (w1 != w0).any()
    hidden = tr.engine.device_values(proj, "hidden")
    assert np.abs(w1 - hidden).std() > 0  # write noise: the weight read is not the persistent state
