"""lee2020 specs and layer plans (no torch needed), and the library without torch."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from neurocore.config import build
from neurocore.errors import ConfigError
from neurocore.methods.lee2020 import Lee2020NetSpec, Lee2020TrainSpec, build_plan


def test_lenet_plan_is_the_papers():
    plan = build_plan(Lee2020NetSpec(), (28, 28), 10)
    got = [(st.name, st.kind, st.out_shape, st.weight_shape) for st in plan]
    assert got == [("conv1", "conv", (20, 28, 28), (20, 1, 5, 5)), ("pool1", "pool", (20, 14, 14), ()),
                   ("conv2", "conv", (50, 14, 14), (50, 20, 5, 5)), ("pool2", "pool", (50, 7, 7), ()),
                   ("fc1", "fc", (200,), (200, 2450)), ("output", "output", (10,), (10, 200))]


def test_vgg_preset_and_flat_data_with_input_shape():
    net = build(Lee2020NetSpec, {"layers": "vgg-small", "input_shape": [1, 28, 28]})
    plan = build_plan(net, (784,), 10)
    assert [st.out_shape for st in plan][-2:] == [(256,), (10,)]
    assert plan[-2].weight_shape == (256, 64 * 7 * 7)


@pytest.mark.parametrize("table, key", [
    ({"layers": ["20c4"]}, "layers[0]"),           # even kernel
    ({"layers": ["20x5"]}, "layers[0]"),           # not a token
    ({"layers": ["100", "a2"]}, "layers[1]"),      # pooling after fully connected
    ({"layers": "resnet"}, "layers"),              # unknown preset
    ({"leak": 1.5}, "leak"),
    ({"input_shape": [0, 8]}, "input_shape"),
])
def test_bad_net_tables_name_the_key(table, key):
    with pytest.raises(ConfigError, match=re.escape(f"exp.toml: key 'net.{key}'")):
        build(Lee2020NetSpec, table, "exp.toml", "net")


def test_plan_refuses_what_does_not_fit():
    with pytest.raises(ConfigError, match="does not tile"):
        build_plan(Lee2020NetSpec(layers=["a3"]), (8, 8), 10)
    with pytest.raises(ConfigError, match="classes"):
        build_plan(Lee2020NetSpec(classes=5), (8, 8), 10)
    with pytest.raises(ConfigError, match="input_shape"):
        build_plan(Lee2020NetSpec(), (784,), 10)


def test_lr_steps():
    spec = build(Lee2020TrainSpec, {"lr": 1.0, "lr_steps": [2, 4], "lr_gamma": 0.5})
    assert [spec.lr_at(e) for e in range(6)] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    with pytest.raises(ConfigError, match="lr_steps"):
        build(Lee2020TrainSpec, {"lr_steps": [5, 3]})


def test_library_imports_without_torch_and_says_how_to_install():
    code = ("import sys; sys.modules['torch'] = None\n"
            "import neurocore, neurocore.methods.lee2020 as m\n"
            "from neurocore.errors import NeurocoreError\n"
            "m.build_plan(m.Lee2020NetSpec(), (28, 28), 10)\n"
            "try:\n    m.Lee2020Trainer\nexcept NeurocoreError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert 'pip install -e ".[lee2020]"' in out and "torch==2.13.0" in out
