"""RPU device parameters: validation, TOML loading, device-to-device draws."""

from __future__ import annotations

import numpy as np
import pytest

from neurocore.chip import load_chip
from neurocore.config import build
from neurocore.crossbar import MODEL_IDS, device_scalars, draw_devices, init_weights
from neurocore.devices import DEVICE_MODELS, DeviceSpec, ReadSpec
from neurocore.errors import ConfigError

SPREAD = DeviceSpec(model="soft_bounds", dw_min_dtod=0.3, up_down_dtod=0.01, w_max_dtod=0.3,
                    w_min_dtod=0.3, dw_min_std=0.3)


def test_defaults_follow_aihwkit_pulsed_device():
    d = DeviceSpec()
    assert (d.dw_min, d.w_max, d.w_min) == (0.001, 0.6, -0.6)
    assert round((d.w_max - d.w_min) / d.dw_min) == 1200
    assert d.is_ideal and ReadSpec().is_exact


def test_model_ids_match_spec_order():
    assert tuple(MODEL_IDS) == DEVICE_MODELS
    for name, i in MODEL_IDS.items():
        assert DeviceSpec(model=name).model_id == i
    model, params = device_scalars(DeviceSpec(model="linear_step", gamma_up=0.2, gamma_down=0.1, dw_min_std=0.3))
    assert model == 1 and params[0] == 0.3


@pytest.mark.parametrize("field", ["up_down", "dw_min_std", "dw_min_dtod", "up_down_dtod",
                                   "w_max_dtod", "w_min_dtod"])
def test_any_non_ideality_leaves_the_fast_path(field):
    assert not DeviceSpec(**{field: 0.1}).is_ideal
    assert not DeviceSpec(model="soft_bounds").is_ideal


def _small_text() -> str:
    from neurocore.chip import CHIPS_DIR
    return (CHIPS_DIR / "small.toml").read_text()


@pytest.mark.parametrize("table,key,value,fragment", [
    ("device", "model", "'memristor'", "one of"),
    ("device", "model", "3", "expected a string"),
    ("device", "dw_min", "0", "out of range"),
    ("device", "dw_min", "-0.001", "out of range"),
    ("device", "up_down", "1.5", "out of range"),
    ("device", "w_max", "-0.2", "out of range"),
    ("device", "w_min", "0.2", "out of range"),
    ("device", "gamma_up", "-1", "out of range"),
    ("device", "dw_min_std", "-0.3", "out of range"),
    ("device", "w_max_dtod", "'a lot'", "expected a number"),
    ("device", "dw_mni", "0.001", "unknown key"),
    ("read", "adc_bits", "-1", "out of range"),
    ("read", "adc_bits", "8.5", "expected an integer"),
    ("read", "out_bound", "0", "out of range"),
])
def test_bad_toml_values_name_the_key(tmp_path, table, key, value, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(_small_text() + f"\n[{table}]\n{key} = {value}\n")
    with pytest.raises(ConfigError) as exc:
        load_chip(path)
    assert exc.value.key == f"{table}.{key}"
    assert f"'{table}.{key}'" in str(exc.value) and str(path) in str(exc.value)
    assert fragment in str(exc.value)


def test_good_device_table_loads(tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(_small_text() + '\n[device]\nmodel = "linear_step"\ngamma_up = 0.5\n'
                    "\n[read]\nadc_bits = 8\nnoise_std = 0.06\n")
    chip = load_chip(path)
    assert chip.device == DeviceSpec(model="linear_step", gamma_up=0.5)
    assert chip.read == ReadSpec(adc_bits=8, noise_std=0.06) and not chip.read.is_exact


def test_bad_python_values_raise_config_error():
    with pytest.raises(ConfigError, match="dw_min"):
        build(DeviceSpec, {"dw_min": -1})
    with pytest.raises(ConfigError, match="model"):
        build(DeviceSpec, {"model": "pcm"})


def test_rpu_realistic_differs_from_analog_rpu_only_in_devices():
    a, b = load_chip("analog_rpu"), load_chip("rpu_realistic")
    assert b.device == SPREAD
    for f in ("mesh", "core", "precision", "router", "costs", "read"):
        assert getattr(a, f) == getattr(b, f), f
    # and analog_rpu is loihi_like's geometry with analogue cores, so one mapping serves both
    d = load_chip("loihi_like")
    assert (a.mesh, a.core.neurons, a.core.axons, a.core.crossbar_rows, a.core.crossbars) == \
        (d.mesh, d.core.neurons, d.core.axons, d.core.crossbar_rows, d.core.crossbars)


def test_no_spread_gives_constant_devices_without_drawing():
    rng = np.random.default_rng(3)
    state = rng.bit_generator.state
    dev = draw_devices(DeviceSpec(up_down=0.2), (3, 5), rng)
    assert rng.bit_generator.state == state
    assert all(a.dtype == np.float32 and a.shape == (3, 5) and a.flags.c_contiguous for a in dev[:7])
    assert all(a.size == 0 for a in dev[7:])  # nothing decays: no decay, diffusion, reset arrays
    np.testing.assert_array_equal(dev.dw_up, np.float32(0.001 * 1.2))
    np.testing.assert_array_equal(dev.dw_down, np.float32(0.001 * 0.8))
    np.testing.assert_array_equal(dev.w_max, np.float32(0.6))
    np.testing.assert_array_equal(dev.w_min, np.float32(-0.6))


def test_same_seed_same_devices_other_seed_other_devices():
    a = draw_devices(SPREAD, (20, 30), np.random.default_rng(7))
    b = draw_devices(SPREAD, (20, 30), np.random.default_rng(7))
    c = draw_devices(SPREAD, (20, 30), np.random.default_rng(8))
    for x, y, z in zip(a[:4], b[:4], c[:4]):
        np.testing.assert_array_equal(x, y)
        assert not np.array_equal(x, z)


def test_spread_statistics_follow_the_spec():
    dev = draw_devices(SPREAD, (200, 200), np.random.default_rng(0))
    dw = (dev.dw_up.astype(float) + dev.dw_down) / 2
    assert dw.mean() == pytest.approx(0.001, rel=0.02)
    assert dw.std() / dw.mean() == pytest.approx(0.3, rel=0.05)
    asym = (dev.dw_up.astype(float) - dev.dw_down) / (dev.dw_up.astype(float) + dev.dw_down)
    assert asym.mean() == pytest.approx(0.0, abs=1e-3)
    assert asym.std() == pytest.approx(0.01, rel=0.05)
    assert dev.w_max.mean() == pytest.approx(0.6, rel=0.02)
    assert dev.w_max.std() / 0.6 == pytest.approx(0.3, rel=0.05)
    assert dev.w_min.mean() == pytest.approx(-0.6, rel=0.02)


def test_huge_spreads_keep_signs_consistent():
    spec = DeviceSpec(dw_min_dtod=3.0, up_down=0.5, up_down_dtod=2.0, w_max_dtod=3.0, w_min_dtod=3.0)
    dev = draw_devices(spec, (100, 100), np.random.default_rng(1))
    assert (dev.dw_up >= 0).all() and (dev.dw_down >= 0).all()
    assert (dev.w_max >= 0).all() and (dev.w_min <= 0).all()


def test_up_down_sets_the_step_ratio():
    dev = draw_devices(DeviceSpec(up_down=0.1), (2, 2), np.random.default_rng(0))
    np.testing.assert_allclose(dev.dw_up / dev.dw_down, 1.1 / 0.9, rtol=1e-6)


def test_init_weights_clip_to_each_devices_bounds():
    dev = draw_devices(SPREAD, (10, 10), np.random.default_rng(2))
    w = init_weights(np.full((10, 10), 5.0), dev)
    np.testing.assert_array_equal(w, dev.w_max)
    w = init_weights(-5.0, dev)
    np.testing.assert_array_equal(w, dev.w_min)
    w0 = np.random.default_rng(0).uniform(-0.1, 0.1, (10, 10))
    w = init_weights(w0, dev)
    assert w.dtype == np.float32
    np.testing.assert_array_equal(w, np.clip(w0, dev.w_min, dev.w_max).astype(np.float32))
