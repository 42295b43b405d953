"""lee2020 trainer: the approximate derivative, gradients against a step-by-step reference, learning,
bit-identical resume, and the NIR export re-simulated in numpy."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nir = pytest.importorskip("nir")

from neurocore.data import load_dataset  # noqa: E402
from neurocore.methods.lee2020 import Lee2020NetSpec, Lee2020Trainer, Lee2020TrainSpec, train_epoch  # noqa: E402
from neurocore.methods.lee2020 import model as model_mod  # noqa: E402
from neurocore.methods.lee2020.neurons import LIFSpikes, approx_derivative  # noqa: E402

SMALL = ["4c3", "a2", "6c3", "a2", "16"]
THREADS = 1  # tiny tensors: a second OpenMP thread only waits, and on a busy machine waits long


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", "train"), load_dataset("digits", "test")


# ---- the approximate derivative ----

def test_derivative_is_the_papers_formula_on_hand_made_trains():
    t, lam, v_th = 8, 0.9, 0.5
    trains = torch.zeros(t, 3, dtype=torch.bool)
    trains[[2, 5], 0] = True        # two spikes
    trains[7, 1] = True             # one spike on the last step
    # neuron 2 never spikes
    d = approx_derivative(trains, lam, v_th)
    by_hand0 = (1 + math.log(0.9) * (0.9 ** 5 + 0.9 ** 2) / 2) / 0.5
    by_hand1 = (1 + math.log(0.9) * 1.0) / 0.5
    assert d.tolist() == pytest.approx([by_hand0, by_hand1, 0.0], rel=1e-6)


def _reference_lif(current: np.ndarray, lam: float, v_th: float) -> np.ndarray:
    v, out = np.zeros(current.shape[1]), np.zeros(current.shape, bool)
    for t in range(current.shape[0]):
        v = lam * v + current[t]
        out[t] = v > v_th
        v[out[t]] = 0.0
    return out


@pytest.mark.parametrize("lam", [0.9, 1.0])
def test_autograd_function_spreads_each_spikes_gradient_over_its_inputs(lam):
    """dL/dI[t] = d * g[t_k] for t in (t_{k-1}, t_k], 0 after the last spike; d = 1/v_th at lam = 1."""
    v_th = 1.0
    cur = torch.tensor([[0.6, 1.5, 0.2], [0.5, 0.0, 0.3], [0.0, 0.0, 0.2], [1.2, 1.1, 0.0],
                        [0.3, 0.2, 0.1], [0.9, 0.0, 0.1]], dtype=torch.float32)
    spikes = _reference_lif(cur.numpy().astype(np.float64), lam, v_th)
    assert spikes.sum(0).tolist() == [3, 2, 0]  # the trains are the ones this test reasons about
    x = cur.clone().requires_grad_(True)
    out, _ = LIFSpikes.apply(x, lam, v_th, None)
    assert np.array_equal(out.detach().numpy().astype(bool), spikes)
    g = torch.arange(1.0, 19.0).reshape(6, 3)
    (out * g).sum().backward()
    d = approx_derivative(torch.from_numpy(spikes), lam, v_th).numpy()
    if lam == 1.0:
        assert np.allclose(d[:2], 1 / v_th)
    want = np.zeros((6, 3))
    for n in range(3):
        nxt = None
        for t in range(5, -1, -1):
            if spikes[t, n]:
                nxt = t
            want[t, n] = 0.0 if nxt is None else d[n] * g[nxt, n].item()
    assert np.allclose(x.grad.numpy(), want, rtol=1e-6)


class _Spike(torch.autograd.Function):
    """The authors' spike: forward ex > 0, backward passes where ex > 0."""

    @staticmethod
    def forward(ctx, ex):
        ctx.save_for_backward(ex)
        return (ex > 0).float()

    @staticmethod
    def backward(ctx, g):
        (ex,) = ctx.saved_tensors
        return g * (ex > 0).float()


def _stepwise_grads(trainer: Lee2020Trainer, x: torch.Tensor, masks: dict, target: torch.Tensor) -> dict:
    """The same network stepped through time as the authors' code does it: the leak by the
    detach trick, the leak correction as hooks on each step's spikes."""
    net = trainer.net_spec
    w = {k: v.detach().clone().requires_grad_(True) for k, v in trainer.model.weights.items()}
    plan = trainer.plan
    t_all, b = x.shape[:2]
    mem = {st.name: 0.0 for st in plan}
    lf = {st.name: 0.0 for st in plan if st.lif}
    total = {st.name: 0.0 for st in plan if st.lif}
    outs = {st.name: [] for st in plan if st.lif}
    for t in range(t_all):
        h = x[t]
        for st in plan:
            if st.kind == "conv":
                cur = torch.nn.functional.conv2d(h, w[st.name], padding=st.kernel // 2)
            elif st.kind == "pool":
                cur = torch.nn.functional.avg_pool2d(h, st.kernel)
            else:
                cur = h.reshape(b, -1) @ w[st.name].t()
            m = mem[st.name] + cur
            if st.kind == "output":
                mem[st.name] = m
                continue
            th = net.v_th if st.lif else net.pool_threshold
            ex = torch.nn.functional.threshold(m, th, 0.0)
            m = m - ex
            s = _Spike.apply(ex)
            if st.lif:
                m = net.leak * m.detach() + m - m.detach()
                s = s.detach() + s / th - (s / th).detach()
                if st.name in masks:
                    s = s * masks[st.name]
                lf[st.name] = net.leak * lf[st.name] + s.detach()
                total[st.name] = total[st.name] + s.detach()
                outs[st.name].append(s)
            mem[st.name] = m
            h = s
    for name, steps in outs.items():
        tot = total[name] + (total[name] < 1e-3).float()
        ng = (lf[name] > 1e-3).float() + math.log(net.leak) * lf[name] / tot
        for s in steps:
            s.register_hook(lambda g, ng=ng: g * ng)
    out = mem["output"] / net.v_th / t_all
    ((out - target) ** 2).sum().backward()
    return {k: v.grad.numpy() for k, v in w.items()}


def test_gradients_match_a_step_by_step_reference(digits):
    train, _ = digits
    trainer = Lee2020Trainer(Lee2020NetSpec(layers=SMALL), Lee2020TrainSpec(ts=12, dropout=0.25), 3, 10, (8, 8),
                             threads=THREADS)
    from neurocore.methods.lee2020 import encoding
    gens = [encoding.generator(3, encoding.TRAIN, 0, i) for i in range(4)]
    x = encoding.poisson(torch.from_numpy(train.images[:4].reshape(4, 1, 8, 8).copy()), 12, 1.0, gens)
    masks = encoding.dropout_masks({st.name: st.out_shape for st in trainer.plan if st.lif}, 0.25, gens)
    target = torch.nn.functional.one_hot(torch.from_numpy(train.labels[:4].copy()), 10).float()
    out, _ = trainer.model.forward_train(x, masks)
    ((out - target) ** 2).sum().backward()
    ref = _stepwise_grads(trainer, x, masks, target)
    for name, w in trainer.model.weights.items():
        assert np.abs(ref[name]).max() > 0, name
        assert np.allclose(w.grad.numpy(), ref[name], rtol=1e-4, atol=1e-6), name


# ---- training, determinism, resume ----

def test_short_training_on_digits_beats_chance_widely(digits):
    train, test = digits
    trainer = Lee2020Trainer(Lee2020NetSpec(layers=["8c3", "a2", "32"]),
                             Lee2020TrainSpec(ts=20, batch=32, lr=0.03, dropout=0.0), 0, 10, train.image_shape,
                             threads=THREADS)
    for epoch in range(2):
        train_epoch(trainer, train, epoch, progress=False)
    res = trainer.evaluate(test.images, test.labels)
    assert res["accuracy"] > 0.6
    assert set(res["spikes"]) == {"input", "conv1", "pool1", "fc1"} and res["spikes"]["fc1"] > 0


def _trainer(seed: int = 1, **train) -> Lee2020Trainer:
    spec = Lee2020TrainSpec(**{"ts": 8, "batch": 16, "lr": 0.02, "momentum": 0.9, "dropout": 0.2, **train})
    return Lee2020Trainer(Lee2020NetSpec(layers=SMALL), spec, seed, 10, (8, 8), threads=THREADS)


def _head(ds, n: int):
    return dataclasses.replace(ds, images=ds.images[:n], labels=ds.labels[:n])


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_resume_after_an_interrupted_epoch_is_bit_identical(digits, optimizer):
    train, _ = digits
    part = _head(train, 160)
    kw = {"optimizer": optimizer, "lr": 0.02 if optimizer == "sgd" else 0.003}
    whole = _trainer(**kw)
    for epoch in range(2):
        train_epoch(whole, part, epoch, progress=False)
    first = _trainer(**kw)
    train_epoch(first, part, 0, progress=False)
    train_epoch(first, part, 1, stop=48, progress=False)  # interrupted after 3 of 10 batches
    saved = first.state()
    assert any(k.startswith("optimizer.") for k in saved)
    resumed = _trainer(**kw)
    resumed.load_state({k: v.copy() for k, v in saved.items()})
    train_epoch(resumed, part, 1, start=48, progress=False)
    assert _same(resumed.state(), whole.state())


def test_seed_fixes_everything(digits):
    train, test = digits
    runs = []
    for seed in (5, 5, 6):
        tr = _trainer(seed)
        train_epoch(tr, _head(train, 64), 0, progress=False)
        runs.append((tr.state(), tr.evaluate(test.images[:50], test.labels[:50])))
    assert _same(runs[0][0], runs[1][0]) and runs[0][1] == runs[1][1]
    assert not _same(runs[0][0], runs[2][0])


def test_inference_in_blocks_of_steps_equals_one_block(digits, monkeypatch):
    _, test = digits
    tr = _trainer()
    x = tr.input_spikes(test.images[:5], ts=30)
    whole = tr.simulate(x)
    monkeypatch.setattr(model_mod, "BLOCK_VALUES", 1)  # one step per block
    blocks = tr.simulate(x)
    assert np.array_equal(whole["v"], blocks["v"])
    assert all(np.array_equal(whole["spikes"][k], blocks["spikes"][k]) for k in whole["spikes"])


def test_checkpoint_of_another_network_is_refused():
    from neurocore.errors import NeurocoreError
    state = _trainer().state()
    other = Lee2020Trainer(Lee2020NetSpec(layers=["4c3", "a2", "32"]), Lee2020TrainSpec(), 0, 10, (8, 8),
                           threads=THREADS)
    with pytest.raises(NeurocoreError, match="weight.fc1"):
        other.load_state(state)


# ---- NIR export ----

def test_nir_round_trip_keeps_every_weight(tmp_path):
    tr = _trainer()
    path = tmp_path / "net.nir"
    nir.write(path, tr.to_nir())
    g = nir.read(path)
    w = {k: v.detach().numpy() for k, v in tr.model.weights.items()}
    assert np.array_equal(g.nodes["conv1"].weight, w["conv1"]) and np.array_equal(g.nodes["conv2"].weight, w["conv2"])
    assert np.array_equal(g.nodes["fc1"].weight, w["fc1"])
    assert np.array_equal(g.nodes["output_linear"].weight, w["output"])
    assert not g.nodes["conv1"].bias.any()
    lif = g.nodes["conv1_lif"]
    assert np.allclose(lif.tau, 1 / (1 - 0.99)) and np.allclose(lif.r, 1 / (1 - 0.99))
    assert not lif.v_leak.any() and not lif.v_reset.any() and np.all(lif.v_threshold == 1.0)
    assert np.all(g.nodes["pool1_if"].v_threshold == 0.75) and np.all(g.nodes["pool1_if"].r == 1.0)
    assert isinstance(g.nodes["output_integrator"], nir.I)
    assert g.metadata["discretisation"] == "euler"  # the name neurocore.nir reads


def _conv(x: np.ndarray, w: np.ndarray, pad: int) -> np.ndarray:
    k = w.shape[-1]
    xp = np.pad(x.astype(np.float64), ((0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(1, 2))  # (C_in, H, W, k, k)
    return np.einsum("chwij,ocij->ohw", win, w.astype(np.float64))


def nir_simulate(graph, spikes: np.ndarray, dt: float) -> dict:
    """Step a sequential NIR graph with forward Euler of length dt (the contract of the package
    docstring) on input spikes (T, B, C, H, W); float32 state, multiply then add."""
    f32 = np.float32
    nxt = dict(graph.edges)
    order, name = [], nxt["input"]
    while name != "output":
        order.append(name)
        name = nxt[name]
    t_all, b = spikes.shape[:2]
    v = {n: None for n in order}
    trains = {n: np.zeros((t_all, b, *graph.nodes[n].v_threshold.shape), bool) for n in order
              if isinstance(graph.nodes[n], (nir.LIF, nir.IF))}
    for t in range(t_all):
        for s in range(b):
            h = spikes[t, s]
            for n in order:
                node = graph.nodes[n]
                if isinstance(node, nir.Conv2d):
                    h = _conv(h, node.weight, int(node.padding[0])).astype(f32)
                elif isinstance(node, nir.AvgPool2d):
                    k = int(node.kernel_size[0])
                    c, hh, ww = h.shape
                    h = (h.reshape(c, hh // k, k, ww // k, k).astype(np.float64).sum((2, 4)) / (k * k)).astype(f32)
                elif isinstance(node, nir.Flatten):
                    h = h.reshape(-1)
                elif isinstance(node, nir.Linear):
                    h = (node.weight.astype(np.float64) @ h.astype(np.float64)).astype(f32)
                else:  # neurons
                    if isinstance(node, (nir.LIF, nir.LI)):
                        keep, gain = f32(1 - dt / node.tau.flat[0]), f32(dt / node.tau.flat[0] * node.r.flat[0])
                    else:
                        keep, gain = f32(1.0), f32(dt * node.r.flat[0])
                    state = np.zeros(h.shape, f32) if v[n] is None else v[n][s]
                    state = state * keep + gain * h
                    if isinstance(node, (nir.LIF, nir.IF)):
                        fire = state > node.v_threshold.astype(f32)
                        state = np.where(fire, node.v_reset.astype(f32), state)
                        trains[n][t, s] = fire
                        h = fire.astype(f32)
                    else:
                        h = state
                    if v[n] is None:
                        v[n] = np.zeros((b, *state.shape), f32)
                    v[n][s] = state
    return {"spikes": trains, "v": v[order[-1]]}


@pytest.mark.parametrize("leak, readout", [(0.99, "integrate"), (0.9, "leaky"), (1.0, "integrate")])
def test_numpy_resimulation_of_the_nir_graph_reproduces_the_trainer(digits, tmp_path, leak, readout):
    _, test = digits
    tr = Lee2020Trainer(Lee2020NetSpec(layers=SMALL, leak=leak, readout=readout), Lee2020TrainSpec(ts=12), 2, 10,
                        (8, 8), threads=THREADS)
    state = tr.state()
    for k in state:  # dyadic weights: every sum is exact in float32, in any order
        if k.startswith("weight."):
            state[k] = (np.round(state[k] * 32) / 32).astype(np.float32)
    tr.load_state(state)
    x = tr.input_spikes(test.images[:3])
    mine = tr.simulate(x)
    path = tmp_path / "net.nir"
    nir.write(path, tr.to_nir(dt=0.5))
    graph = nir.read(path)
    if leak == 1.0:
        assert not any(isinstance(n, nir.LIF) for n in graph.nodes.values())
    theirs = nir_simulate(graph, x, dt=0.5)
    assert sum(s.sum() for s in theirs["spikes"].values()) > 0
    for name, train in mine["spikes"].items():
        node = f"{name}_if" if name.startswith("pool") else f"{name}_lif"
        assert np.array_equal(train, theirs["spikes"][node]), name
    assert np.array_equal(mine["v"], theirs["v"])


def test_float32_coefficients_of_the_contract_are_exact():
    for leak in (0.9, 0.95, 0.99):
        for dt in (1.0, 0.5, 1e-3):
            tau, r = dt / (1 - leak), 1 / (1 - leak)
            assert np.float32(1 - dt / tau) == np.float32(leak)
            assert np.float32(dt / tau * r) == np.float32(1.0)
