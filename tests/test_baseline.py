"""The numpy ANN baseline: exact gradients, learning on the 8x8 digits, determinism, CLI entry."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from neurocore.baseline import accuracy, init_weights, loss_and_grads, train_baseline
from neurocore.cli import main
from neurocore.data import load_dataset, subset


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    w = {k: v.astype(np.float64) for k, v in init_weights(6, 5, 3, rng).items()}
    w["b1"] += 0.1 * rng.standard_normal(5)
    w["b2"] += 0.1 * rng.standard_normal(3)
    x, y = rng.random((4, 6)), np.array([0, 2, 1, 2])
    _, _, grads = loss_and_grads(w, x, y)
    eps = 1e-6
    for k in w:
        num = np.zeros_like(w[k])
        for i in np.ndindex(w[k].shape):
            w[k][i] += eps
            up = loss_and_grads(w, x, y)[0]
            w[k][i] -= 2 * eps
            down = loss_and_grads(w, x, y)[0]
            w[k][i] += eps
            num[i] = (up - down) / (2 * eps) / len(y)
        np.testing.assert_allclose(grads[k], num, atol=1e-7, err_msg=k)


def test_dropout_gradient_uses_the_mask():
    rng = np.random.default_rng(1)
    w = init_weights(8, 6, 3, rng)
    x, y = rng.random((5, 8)).astype(np.float32), np.array([0, 1, 2, 0, 1])
    _, _, g = loss_and_grads(w, x, y, 0.0, 0.99, np.random.default_rng(2))
    assert np.count_nonzero(g["W2"]) < g["W2"].size  # dropped hidden units get no gradient


def test_he_init():
    w = init_weights(784, 1280, 10, np.random.default_rng(0))
    assert w["W1"].dtype == np.float32 and w["W1"].shape == (784, 1280)
    assert w["W1"].std() == pytest.approx(np.sqrt(2 / 784), rel=0.02)
    assert w["W2"].std() == pytest.approx(np.sqrt(2 / 1280), rel=0.05)
    assert not w["b1"].any()


def test_digits_beats_90_percent():
    tr, te = load_dataset("digits", "train"), load_dataset("digits", "test")
    res = train_baseline(tr, te, hidden=128, epochs=25, lr=0.1, batch=32, seed=0, progress=False)
    assert res["test_acc"] > 0.90
    assert len(res["history"]) == 25 and res["history"][-1]["train_acc"] > 0.9
    assert res["weights"]["W1"].shape == (64, 128)
    assert accuracy(res["weights"], te) == res["test_acc"]


def test_same_seed_same_run():
    tr = subset(load_dataset("digits", "train"), 300, seed=0)
    te = load_dataset("digits", "test")
    kw = dict(hidden=32, epochs=2, lr=0.1, seed=7, progress=False, momentum=0.5)
    a, b = train_baseline(tr, te, **kw), train_baseline(tr, te, **kw)
    c = train_baseline(tr, te, **{**kw, "seed": 8})
    np.testing.assert_array_equal(a["weights"]["W1"], b["weights"]["W1"])
    assert a["history"][-1]["test_acc"] == b["history"][-1]["test_acc"]
    assert not np.array_equal(a["weights"]["W1"], c["weights"]["W1"])


def test_cli_entry(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["baseline", "--data", "digits", "--hidden", "32", "--epochs", "2", "--json", "--out", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    saved = json.loads(out.read_text())
    assert printed["params"]["hidden"] == 32 and saved["params"]["dataset"] == "digits"
    assert "weights" not in saved and len(saved["history"]) == 2


@pytest.mark.parametrize("argv, fragment", [
    (["--epochs", "-1"], "argument --epochs: -1 is out of range; must be an integer >= 1"),
    (["--hidden", "0"], "argument --hidden: 0 is out of range; must be an integer >= 1"),
    (["--lr", "0"], "argument --lr: 0 is out of range; must be a number > 0"),
    (["--dropout-in", "1"], "argument --dropout-in: 1 is out of range; must be a number in [0, 1)"),
    (["--batch", "x"], "argument --batch: 'x' is not an integer >= 1"),
    (["--lr-decay", "nan"], "argument --lr-decay: 'nan' is not a finite number in (0, 1]"),
])
def test_cli_refuses_bad_options_in_one_line(capsys, argv, fragment):
    with pytest.raises(SystemExit) as ex:
        main(["baseline", "--data", "digits", *argv])
    assert ex.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err and "Traceback" not in err, err


def test_every_baseline_option_has_help_with_its_default():
    from neurocore.cli import build_parser
    sub = build_parser()._subparsers._group_actions[0].choices["baseline"]
    for action in sub._actions:
        if action.option_strings and action.dest not in ("help", "json", "no_progress", "output", "set"):
            assert action.help and "default" in action.help, action.option_strings
