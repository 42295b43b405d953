"""BATS: closed-form spike times against a fine-step integration of the same ODE, exact
gradients against finite differences, training on the 8x8 digits, bit-identical resume and
thread counts, NIR export read back, spec validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurocore.config import build
from neurocore.data import load_dataset, subset
from neurocore.errors import ConfigError
from neurocore.methods.bats import BatsNetSpec, BatsTrainer, specs_from_tables, train_epoch
from neurocore.methods.bats.coding import InputSpikes, rate_spikes, ttfs_spikes
from neurocore.methods.bats.gradcheck import gradient_check, small_problem
from neurocore.methods.bats.network import Layout, run, spike_times

DIGITS_NET = {"inputs": 64, "hidden": [100], "classes": 10, "theta": [0.1, 0.2], "budget": [10, 20]}
DIGITS_TRAIN = {"lr": 1e-2, "batch": 10}


def fine_step(spec: BatsNetSpec, weights: list[np.ndarray], t_in: np.ndarray, i_in: np.ndarray,
              dt: float) -> list[list[list[float]]]:
    """Fine-step integration of tau_s dI/dt = -I, tau du/dt = -u + tau I on a grid of dt, each
    step the exact solution of the linear ODE from the step's start (no closed-form crossing).
    An input arrives at the first grid point at or after its time; u >= theta at the end of a
    step is a spike at that time (theta subtracted, up to each layer's budget), arriving at the
    next layer at that grid point. Spike times per layer per neuron."""
    tau_s, tau = spec.tau_s, 2 * spec.tau_s
    d_i, d_u = np.exp(-dt / tau_s), np.exp(-dt / tau)
    gain = tau * tau_s / (tau - tau_s)  # u of a unit current after dt: gain (d_u - d_i)
    steps = int(round(spec.duration / dt))
    drive = np.zeros((steps + 1, spec.inputs))
    np.add.at(drive, (np.ceil(t_in / dt - 1e-9).astype(int), i_in), 1.0)
    sizes = spec.layers[1:]
    I = [np.zeros(n) for n in sizes]
    u = [np.zeros(n) for n in sizes]
    cnt = [np.zeros(n, int) for n in sizes]
    arriving = [np.zeros(n) for n in spec.layers[:-1]]  # spikes reaching layer k at this grid point
    out = [[[] for _ in range(n)] for n in sizes]
    for s in range(steps):
        arriving[0] = drive[s]
        for k, (w, theta, budget) in enumerate(zip(weights, spec.thresholds, spec.budgets)):
            I[k] += arriving[k] @ w
            u[k] = u[k] * d_u + I[k] * gain * (d_u - d_i)
            I[k] *= d_i
            fire = (u[k] >= theta) & (cnt[k] < budget)
            u[k][fire] -= theta
            cnt[k][fire] += 1
            for j in np.flatnonzero(fire):
                out[k][j].append((s + 1) * dt)
            if k + 1 < len(weights):
                arriving[k + 1] = fire.astype(float)  # used by layer k+1 at the next step
    return out


def test_closed_form_spike_times_match_fine_step_integration():
    """Same spike counts everywhere; a neuron's first spike in the first hidden layer lags by less
    than one step (inputs on the grid: only the detection at the step's end differs); later spikes
    within a few steps (the reference subtracts each reset up to a step late, and deeper layers
    receive spikes up to a step late: first-order errors, amplified where u creeps up to theta)."""
    dt = 4e-4  # tau_s = 1
    spec, w, spikes, _ = small_problem(seed=1, samples=2)
    spikes = InputSpikes(spikes.ptr, np.round(spikes.times / dt) * dt, spikes.neuron)  # inputs on the grid
    mats = Layout.of(spec).matrices(w)
    times = spike_times(spec, mats, spikes)
    n_spikes = 0
    for b in range(len(spikes)):
        ref = fine_step(spec, mats, *spikes.sample(b), dt)
        for k, layer in enumerate(ref):
            for j, ref_t in enumerate(layer):
                got = times[k][b, j][np.isfinite(times[k][b, j])]
                assert len(got) == len(ref_t), (b, k, j, got, ref_t)
                if not len(got):
                    continue
                lag = np.array(ref_t) - got
                if k == 0:
                    assert 0 <= lag[0] < dt + 1e-9, (b, j, lag)
                assert np.abs(lag).max() < 25 * dt, (b, k, j, lag / dt)
                n_spikes += len(got)
    assert n_spikes / sum(spec.layers[1:]) / len(spikes) > 2  # several spikes per neuron


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), budget=st.integers(1, 4))
def test_spikes_respect_budget_order_and_window(seed, budget):
    net = {"inputs": 12, "hidden": [8, 8], "classes": 4, "tau_s": 1.0, "theta": [1.0], "budget": [budget],
           "duration": 8.0, "ttfs_window": 4.0}
    spec, w, spikes, _ = small_problem(seed=seed, samples=2, net=net)
    for layer in spike_times(spec, Layout.of(spec).matrices(w), spikes):
        fin = np.isfinite(layer)
        assert (fin.sum(axis=2) <= budget).all()
        assert (layer[fin] > 0).all() and (layer[fin] <= spec.duration).all()
        assert (fin[:, :, 1:] <= fin[:, :, :-1]).all()  # packed from the first slot
        later = fin[:, :, 1:]
        assert (layer[:, :, 1:][later] > layer[:, :, :-1][later]).all()  # in time order


def test_first_spike_does_not_depend_on_budget():
    """A reset acts only after a spike, so the first hidden spike is the same for any budget."""
    from neurocore.methods.bats.gradcheck import SMALL_NET

    net = dict(SMALL_NET)
    spec1, w, spikes, _ = small_problem(seed=3, net=net | {"budget": [1]})
    specn = build(BatsNetSpec, net | {"budget": [5]})
    t1 = spike_times(spec1, Layout.of(spec1).matrices(w), spikes)[0][:, :, 0]
    tn = spike_times(specn, Layout.of(specn).matrices(w), spikes)[0][:, :, 0]
    np.testing.assert_array_equal(t1, tn)


@pytest.mark.parametrize("loss", ["count_mse", "ttfs_ce"])
@pytest.mark.parametrize("seed", [0, 5])
def test_gradients_match_finite_differences(loss, seed):
    r = gradient_check(seed=seed, loss=loss)
    assert r["spikes_per_neuron"] > 2
    assert r["checked"] > 100
    assert r["max_rel_error"] <= 1e-4, r


@pytest.mark.parametrize("loss", ["count_mse", "ttfs_ce"])
def test_single_spike_gradients_match_finite_differences(loss):
    from neurocore.methods.bats.gradcheck import SMALL_SINGLE_NET

    r = gradient_check(seed=1, loss=loss, net=SMALL_SINGLE_NET)
    assert r["spikes_per_neuron"] > 0.8 and r["checked"] > 100
    assert r["max_rel_error"] <= 1e-4, r


def test_gradient_of_one_spike_by_hand():
    """One input spike at 0 of weight w = 1 onto an output neuron: a = b = w, so the spike is at
    t = tau ln(2 / (1 + s)), s = sqrt(1 - 4c / w), c = theta / tau, and dt/dw = -2 tau c / (w^2 s (1 + s))."""
    net = build(BatsNetSpec, {"inputs": 1, "hidden": [], "classes": 2, "tau_s": 1.0, "theta": [0.1],
                              "budget": [1], "duration": 10.0, "ttfs_window": 1.0})
    w = np.array([1.0, 0.0])
    spikes = InputSpikes.from_lists([np.array([0.0])], [np.array([0])])
    grads = np.zeros((1, 2))
    res = run(Layout.of(net), w, spikes, np.array([0]), loss="count_mse", targets=(2.0, 0.0), grads=grads,
              record=True)
    tau, c = 2.0, 0.1 / 2.0
    s = np.sqrt(1 - 4 * c)
    assert res.slot_times[0, 0] == pytest.approx(tau * np.log(2 / (1 + s)), rel=1e-12)
    assert grads[0, 0] == pytest.approx((2.0 - 1) * -2 * tau * c / (s * (1 + s)), rel=1e-12)  # error target - count
    assert grads[0, 1] == 0.0


def test_digits_training_beats_chance_widely():
    tr, te = load_dataset("digits", "train"), load_dataset("digits", "test")
    net, train = specs_from_tables(DIGITS_NET, DIGITS_TRAIN)
    t = BatsTrainer(net, train, seed=0, n_classes=10, n_inputs=64)
    for epoch in range(3):
        train_epoch(t, tr, epoch, progress=False)
    res = t.evaluate(te.images, te.labels)
    assert res["accuracy"] > 0.6, res
    assert len(res["spikes_per_sample"]) == 2 and len(res["dead_share"]) == 2
    assert 0 < res["time_to_decision"] < net.duration


def test_resume_mid_epoch_is_bit_identical():
    tr = subset(load_dataset("digits", "train"), 120, seed=0)
    net, train = specs_from_tables(DIGITS_NET, DIGITS_TRAIN | {"batch": 7})

    def fresh():
        return BatsTrainer(net, train, seed=4, n_classes=10, n_inputs=64)

    whole = fresh()
    for epoch in range(2):
        train_epoch(whole, tr, epoch, progress=False)

    first = fresh()
    train_epoch(first, tr, 0, progress=False)
    seen = []
    half = train_epoch(first, tr, 1, progress=False, on_batch=lambda pos, out: seen.append(pos),
                       stop=lambda: len(seen) >= 8)
    assert 0 < half["position"] < len(tr)
    saved = {k: v.copy() for k, v in first.state().items()}
    second = fresh()
    second.load_state(saved)
    train_epoch(second, tr, 1, start=half["position"], progress=False)
    for k, v in whole.state().items():
        np.testing.assert_array_equal(second.state()[k], v, err_msg=k)


def test_results_do_not_depend_on_thread_count():
    import numba

    tr = subset(load_dataset("digits", "train"), 40, seed=0)
    net, train = specs_from_tables(DIGITS_NET, DIGITS_TRAIN | {"batch": 20, "grad_groups": 3})
    states = []
    before = numba.get_num_threads()
    try:
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            t = BatsTrainer(net, train, seed=2, n_classes=10, n_inputs=64)
            train_epoch(t, tr, 0, progress=False)
            states.append(t.state())
    finally:
        numba.set_num_threads(before)
    for k in states[0]:
        np.testing.assert_array_equal(states[0][k], states[1][k], err_msg=k)


def test_sgd_step_is_minus_lr_times_mean_gradient():
    tr = subset(load_dataset("digits", "train"), 10, seed=0)
    net, train = specs_from_tables(DIGITS_NET, {"optimiser": "sgd", "lr": 0.5, "batch": 10})
    t = BatsTrainer(net, train, seed=0, n_classes=10, n_inputs=64)
    w0 = t.w.copy()
    grads = np.zeros((1, t.w.size))
    run(t.layout, w0, ttfs_spikes(tr.images, net.ttfs_window), tr.labels, grads=grads)
    t.train_batch(tr.images, tr.labels, 0, 0)
    np.testing.assert_allclose(t.w, w0 - 0.5 * grads[0] / 10, rtol=1e-12, atol=1e-15)


def test_nir_export_read_back_keeps_every_weight(tmp_path):
    nir = pytest.importorskip("nir")
    net, train = specs_from_tables({"inputs": 6, "hidden": [5, 4], "classes": 3, "theta": [0.2, 0.3, 0.4],
                                    "budget": [2, 3, 4]}, {})
    t = BatsTrainer(net, train, seed=0, n_classes=3, n_inputs=6)
    path = tmp_path / "bats.nir"
    nir.write(path, t.to_nir())
    g = nir.read(path)
    assert g.edges == [("input", "linear1"), ("linear1", "lif1"), ("lif1", "linear2"), ("linear2", "lif2"),
                       ("lif2", "linear3"), ("linear3", "lif3"), ("lif3", "output")]
    for k, (w, theta, budget) in enumerate(zip(t.weights, net.thresholds, net.budgets), start=1):
        np.testing.assert_array_equal(g.nodes[f"linear{k}"].weight, w.T)
        lif = g.nodes[f"lif{k}"]
        assert isinstance(lif, nir.CubaLIF)
        np.testing.assert_array_equal(lif.tau_syn, net.tau_s)
        np.testing.assert_array_equal(lif.tau_mem, 2 * net.tau_s)
        np.testing.assert_array_equal(lif.r, 2 * net.tau_s)
        np.testing.assert_array_equal(lif.w_in, net.tau_s)
        np.testing.assert_array_equal(lif.v_threshold, theta)
        np.testing.assert_array_equal(lif.v_leak, 0.0)
        assert lif.metadata["reset"] == "subtract" and lif.metadata["time_unit"] == "s"
        assert int(lif.metadata["spike_budget"]) == budget
    assert g.metadata["time_unit"] == "s" and float(g.metadata["duration"]) == net.duration


def test_nir_parameters_give_the_bats_membrane():
    """NIR's CubaLIF with the exported parameters, solved for one input spike of weight w (I jumps
    by w_in w / tau_syn, then tau_mem dv/dt = -v + r I), is the BATS kernel w tau (e^-t/tau - e^-t/tau_s)."""
    pytest.importorskip("nir")
    net, train = specs_from_tables({"inputs": 2, "hidden": [], "classes": 2, "tau_s": 0.13, "theta": [1.0],
                                    "budget": [3]}, {})
    lif = BatsTrainer(net, train, seed=0, n_classes=2, n_inputs=2).to_nir().nodes["lif1"]
    tau_syn, tau_mem, r, w_in = (float(getattr(lif, k)[0]) for k in ("tau_syn", "tau_mem", "r", "w_in"))
    w, t = 0.7, np.linspace(0, 0.5, 6)
    i0 = w_in * w / tau_syn
    v = r * i0 * tau_syn / (tau_mem - tau_syn) * (np.exp(-t / tau_mem) - np.exp(-t / tau_syn))
    tau = 2 * net.tau_s
    np.testing.assert_allclose(v, w * tau * (np.exp(-t / tau) - np.exp(-t / net.tau_s)), rtol=1e-12)


def test_ttfs_coding():
    x = np.array([[0.0, 1.0, 0.25], [0.5, 0.0, 0.0]])
    s = ttfs_spikes(x, 0.1)
    assert s.ptr.tolist() == [0, 2, 3]
    np.testing.assert_allclose(s.times, [0.0, 0.075, 0.05])
    assert s.neuron.tolist() == [1, 2, 0]


def test_rate_coding_uses_the_chip_trains_per_sample():
    from neurocore.spikegen import PROFILE_FRONTLOADED, source_trains

    x = np.random.default_rng(0).random((3, 20))
    a = rate_spikes(x, 50, 0.1, 0.5, seed=1, stream=0, first_index=10)
    b = rate_spikes(x[1:], 50, 0.1, 0.5, seed=1, stream=0, first_index=11)  # same sample, other batch
    np.testing.assert_array_equal(a.sample(1)[0], b.sample(0)[0])
    key = int(np.random.SeedSequence([1, 0, 10]).generate_state(1)[0]) & 0x7FFFFFFFFFFFFFFF
    tick, j = np.nonzero(source_trains(key, 0.5 * x[0], PROFILE_FRONTLOADED, 50))
    np.testing.assert_allclose(a.sample(0)[0], tick * 0.1 / 50)
    np.testing.assert_array_equal(a.sample(0)[1], j)


def test_rate_coded_training_runs():
    tr = subset(load_dataset("digits", "train"), 20, seed=0)
    net, train = specs_from_tables(DIGITS_NET | {"coding": "rate", "rate_ticks": 20}, DIGITS_TRAIN)
    t = BatsTrainer(net, train, seed=0, n_classes=10, n_inputs=64)
    out = t.train_batch(tr.images[:10], tr.labels[:10], 0, 0)
    assert np.isfinite(out["loss"]) and out["spikes_per_sample"][0] > 0


@pytest.mark.parametrize("net, key", [
    ({"theta": [0.1, 0.2]}, "net.theta"),
    ({"budget": [0]}, "net.budget"),
    ({"duration": 1000.0}, "net.duration"),
    ({"ttfs_window": 0.5}, "net.ttfs_window"),
    ({"hidden": [0]}, "net.hidden"),
])
def test_spec_errors_name_the_key(net, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        specs_from_tables(net, {}, "exp.toml")


def test_init_ranges_per_layer():
    net, train = specs_from_tables({"inputs": 4, "hidden": [3], "classes": 2, "theta": [1.0], "budget": [2]},
                                   {"init_a": [0.0, -2.0], "init_b": [1.0, -1.0]})
    w_in, w_out = BatsTrainer(net, train, seed=0, n_classes=2, n_inputs=4).weights
    assert (w_in >= 0).all() and (w_out <= -1).all()
    with pytest.raises(ConfigError, match=r"exp\.toml: key 'train\.init_a'"):
        specs_from_tables({"hidden": [3, 3], "theta": [1.0], "budget": [2]}, {"init_a": [0.0, 1.0]}, "exp.toml")


def test_trainer_refuses_data_of_another_shape():
    net, train = specs_from_tables(DIGITS_NET, {})
    with pytest.raises(ConfigError, match="net.inputs"):
        BatsTrainer(net, train, seed=0, n_classes=10, n_inputs=784)


def test_shipped_bats_experiments_validate():
    from pathlib import Path

    from neurocore.config import load_toml

    files = sorted((Path(__file__).resolve().parent.parent / "models" / "experiments").glob("bats_*.toml"))
    assert len(files) >= 7
    for path in files:
        data = load_toml(path)
        assert data["method"] == "bats"
        specs_from_tables(data["net"], data["train"], str(path))
