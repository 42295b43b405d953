"""The networks neurocore and SANA-FE run side by side: one description, built in both.

Each net is a `NetSpec`: populations (sources or LIF neurons with SANA-FE's `threshold` /
`leak_decay`), projections as explicit (pre, post, weight) synapse lists with their connection kind
(dense, sparse, conv: SANA-FE's three Loihi synapse units), a placement of every population's
slices on neurocore cores (the same cores are given to SANA-FE: `sanafe_core`), and input spikes.
Weights sit on Loihi's 1/64 grid, so that IF arithmetic agrees exactly; SANA-FE fires on
v > threshold and neurocore on v >= theta, so neurocore's theta is threshold + 1/128.

`build_neurocore(spec)` gives (netlist, placement, SpikeDrive); `build_sanafe(spec, sanafe)` a
loaded `sanafe.SpikingChip` with per-sample input setters (used by make_sanafe_goldens.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

GRID = 64.0  # Loihi's weight grid: SANA-FE truncates v to multiples of 1/64 every tick


@dataclass
class Pop:
    name: str
    size: int
    source: bool = False
    threshold: float = 1.0
    leak_decay: float = 1.0     # SANA-FE: v *= leak_decay each tick; neurocore dv = 1 - leak_decay
    shape: tuple = ()
    bias: np.ndarray | None = None  # per-neuron bias (SANA-FE's DVS net drives its input layer so)


@dataclass
class Proj:
    name: str
    pre: str
    post: str
    kind: str                   # dense, sparse or conv (SANA-FE's synapse unit and neurocore's pricing)
    pre_idx: np.ndarray
    post_idx: np.ndarray
    weight: np.ndarray
    conv: object = None         # neurocore Conv2d for a conv projection (pairs above are its unrolling)


@dataclass
class NetSpec:
    name: str
    pops: list[Pop]
    projs: list[Proj]
    slices: list[tuple[str, int, int, int]]  # (population, start, stop, neurocore core)
    spikes: np.ndarray          # bool (samples, ticks, source size) of the one source population
    notes: str = ""
    extra: dict = field(default_factory=dict)


def _w(rng: np.random.Generator, shape, lo: int, hi: int) -> np.ndarray:
    return (rng.integers(lo, hi + 1, size=shape) / GRID).astype(np.float64)


def _dense(name, pre, post, n_pre, n_post, w):
    i, j = np.meshgrid(np.arange(n_pre), np.arange(n_post), indexing="ij")
    return Proj(name, pre, post, "dense", i.ravel(), j.ravel(), w.ravel())


def _inputs(rng, samples, ticks, n, rate):
    s = rng.random((samples, ticks, n)) < rate
    s[:, -1] = False  # the last tick is only there to deliver the one before it (see tick_costs)
    return s


def dense_if(samples: int = 2, ticks: int = 41) -> NetSpec:
    """784-1280-10 IF, dense: SANA-FE's tutorial-sized MNIST shape with random 1/64-grid weights."""
    rng = np.random.default_rng(1)
    w1, w2 = _w(rng, (784, 1280), -9, 9), _w(rng, (1280, 10), -6, 7)
    pops = [Pop("x", 784, source=True), Pop("h", 1280, threshold=1.0), Pop("o", 10, threshold=1.0)]
    slices = [("x", 0, 784, 0)] + [("h", 256 * k, 256 * (k + 1), c) for k, c in enumerate((1, 5, 9, 36, 44))] \
        + [("o", 0, 10, 127)]
    return NetSpec("dense_if", pops, [_dense("xh", "x", "h", 784, 1280, w1), _dense("ho", "h", "o", 1280, 10, w2)],
                   slices, _inputs(rng, samples, ticks, 784, 0.08))


def leaky_lif(samples: int = 3, ticks: int = 61) -> NetSpec:
    """100-200-10 LIF with leak_decay 7/8 (neurocore dv = 1/8), dense."""
    rng = np.random.default_rng(2)
    w1, w2 = _w(rng, (100, 200), -10, 13), _w(rng, (200, 10), -10, 14)
    pops = [Pop("x", 100, source=True), Pop("h", 200, threshold=1.0, leak_decay=0.875),
            Pop("o", 10, threshold=1.0, leak_decay=0.875)]
    slices = [("x", 0, 100, 0), ("h", 0, 100, 2), ("h", 100, 200, 11), ("o", 0, 10, 20)]
    return NetSpec("leaky_lif", pops, [_dense("xh", "x", "h", 100, 200, w1), _dense("ho", "h", "o", 200, 10, w2)],
                   slices, _inputs(rng, samples, ticks, 100, 0.2),
                   notes="SANA-FE truncates v to 1/64 after the leak every tick; neurocore keeps float32")


def conv_net(samples: int = 2, ticks: int = 41) -> NetSpec:
    """(2, 16, 16) events -> 3x3 conv, 4 channels, IF (4, 14, 14) -> dense 10, IF."""
    from neurocore.connections import Conv2d

    rng = np.random.default_rng(3)
    C, H, W, K, CO = 2, 16, 16, 3, 4
    OH, OW = H - K + 1, W - K + 1
    k = _w(rng, (CO, C, K, K), -12, 24)
    pre, post, wt = [], [], []
    for co in range(CO):
        for oy in range(OH):
            for ox in range(OW):
                for ci in range(C):
                    for ky in range(K):
                        for kx in range(K):
                            pre.append((ci * H + oy + ky) * W + ox + kx)
                            post.append((co * OH + oy) * OW + ox)
                            wt.append(k[co, ci, ky, kx])
    conv = Proj("xc", "x", "c", "conv", np.array(pre), np.array(post), np.array(wt), conv=Conv2d(k.astype(np.float32)))
    n_c = CO * OH * OW
    w2 = _w(rng, (n_c, 10), -8, 8)
    pops = [Pop("x", C * H * W, source=True, shape=(C, H, W)), Pop("c", n_c, threshold=1.0, shape=(CO, OH, OW)),
            Pop("o", 10, threshold=1.0)]
    slices = [("x", 0, C * H * W, 0), ("c", 0, n_c // 2, 1), ("c", n_c // 2, n_c, 4), ("o", 0, 10, 8)]
    return NetSpec("conv", pops, [conv, _dense("co", "c", "o", n_c, 10, w2)], slices,
                   _inputs(rng, samples, ticks, C * H * W, 0.1))


def recurrent(samples: int = 2, ticks: int = 51) -> NetSpec:
    """100 -> 200 IF with sparse recurrent synapses (5 %) -> 10, dense elsewhere."""
    rng = np.random.default_rng(4)
    w1, w2 = _w(rng, (100, 200), -10, 11), _w(rng, (200, 10), -10, 12)
    m = rng.random((200, 200)) < 0.05
    np.fill_diagonal(m, False)
    i, j = np.nonzero(m)
    rec = Proj("hh", "h", "h", "sparse", i, j, _w(rng, len(i), -24, 16))
    pops = [Pop("x", 100, source=True), Pop("h", 200, threshold=1.0), Pop("o", 10, threshold=1.0)]
    slices = [("x", 0, 100, 0), ("h", 0, 100, 3), ("h", 100, 200, 16), ("o", 0, 10, 19)]
    return NetSpec("recurrent", pops, [_dense("xh", "x", "h", 100, 200, w1), rec,
                                       _dense("ho", "h", "o", 200, 10, w2)],
                   slices, _inputs(rng, samples, ticks, 100, 0.15))


DVS_NET = Path(__file__).resolve().parent / "sanafe" / "dvs_gesture_net.npz"


def dvs_arrays(yaml_path: str) -> dict[str, np.ndarray]:
    """SANA-FE's own DVS-gesture network (snn/dvs.yaml of SLAM-Lab/SANA-FE) as small arrays: group
    sizes, thresholds, the input layer's biases, conv kernels ((kh, kw, cin, cout) as SANA-FE lays
    them out) with their geometry, the dense weights, and the (tile, core) of every neuron."""
    import yaml

    with open(yaml_path) as f:
        doc = yaml.safe_load(f)
    groups = doc["network"]["groups"]
    sizes, thresholds, leak = [], [], []
    bias = None
    for g in groups:
        a = g["attributes"]
        thresholds.append(float(a["threshold"]))
        leak.append(float(a.get("leak_decay", 1.0)))
        n = 0
        for entry in g["neurons"]:
            (key, attrs), = entry.items()
            key = str(key)
            lo, hi = (int(x) for x in key.split("..")) if ".." in key else (int(key), int(key))
            n = max(n, hi + 1)
        sizes.append(n)
        if str(g["name"]) == "0":
            bias = np.zeros(n)
            for entry in g["neurons"]:
                (key, attrs), = entry.items()
                if attrs and "bias" in attrs:
                    bias[int(key)] = float(attrs["bias"])
    out = {"sizes": np.array(sizes), "thresholds": np.array(thresholds), "leak": np.array(leak), "bias": bias}
    for e in doc["network"]["edges"]:
        (key, d), = e.items()
        pre, post = (int(x) for x in key.split(" -> "))
        if d["type"] == "conv2d":
            geo = [d[k] for k in ("input_width", "input_height", "input_channels", "kernel_width", "kernel_height",
                                  "kernel_count", "stride_width", "stride_height")]
            out[f"conv_{pre}_{post}"] = np.array(d["weight"], np.float64)
            out[f"geo_{pre}_{post}"] = np.array(geo)
        else:
            out[f"dense_{pre}_{post}"] = np.array(d["weight"], np.float64)
    core = [np.full(n, -1) for n in sizes]
    for m in doc["mappings"]:
        (key, v), = m.items()
        g, n = (int(x) for x in key.split("."))
        t, k = (int(x) for x in v["core"].split("."))
        tile_x, tile_y = t // 4, t % 4  # SANA-FE numbers tiles column by column (height 4)
        core[g][n] = (tile_y * 8 + tile_x) * 4 + k
    out["core"] = np.concatenate(core)
    return out


def _runs(cores: np.ndarray):
    """(start, stop, core) of the runs of equal cores."""
    cut = np.nonzero(np.diff(cores))[0] + 1
    starts, stops = np.concatenate([[0], cut]), np.concatenate([cut, [len(cores)]])
    return [(int(a), int(b), int(cores[a])) for a, b in zip(starts, stops)]


def dvs_gesture(ticks: int = 129) -> NetSpec:
    """SANA-FE's DVS-gesture network (18,678 LIF neurons: a biased 32x32 input layer, four conv
    layers, one dense) on its own mapping, from the arrays dvs_arrays() kept; one frame of 128 ticks.
    A silent one-neuron source stands in for neurocore's input port (it costs nothing)."""
    from neurocore.connections import Conv2d

    a = np.load(DVS_NET)
    sizes = a["sizes"]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    shapes = {}
    pops = [Pop("x", 1, source=True)]
    projs = []
    for pre in range(len(sizes) - 1):
        post = pre + 1
        if f"geo_{pre}_{post}" in a.files:
            iw, ih, ic, kw, kh, kc, sw, sh = (int(v) for v in a[f"geo_{pre}_{post}"])
            shapes[pre], shapes[post] = (ic, ih, iw), (kc, (ih - kh) // sh + 1, (iw - kw) // sw + 1)
            f = a[f"conv_{pre}_{post}"].reshape(kh, kw, ic, kc)
            oc, oh, ow = shapes[post]
            co, oy, ox, ci, ky, kx = np.meshgrid(np.arange(oc), np.arange(oh), np.arange(ow), np.arange(ic),
                                                 np.arange(kh), np.arange(kw), indexing="ij")
            pre_idx = (ci * ih + oy * sh + ky) * iw + ox * sw + kx
            post_idx = (co * oh + oy) * ow + ox
            projs.append(Proj(f"c{pre}", f"l{pre}", f"l{post}", "conv", pre_idx.ravel(), post_idx.ravel(),
                              f[ky, kx, ci, co].ravel(),
                              conv=Conv2d(f.transpose(3, 2, 0, 1).astype(np.float32), stride=(sh, sw))))
        else:
            w = a[f"dense_{pre}_{post}"].reshape(sizes[pre], sizes[post])
            projs.append(_dense(f"d{pre}", f"l{pre}", f"l{post}", sizes[pre], sizes[post], w))
    for g, n in enumerate(sizes):
        pops.append(Pop(f"l{g}", int(n), threshold=float(a["thresholds"][g]), leak_decay=float(a["leak"][g]),
                        shape=shapes.get(g, ()), bias=a["bias"] if g == 0 else None))
    slices = [("x", 0, 1, int(a["core"][0]))]
    for g in range(len(sizes)):
        cores = a["core"][offsets[g]:offsets[g + 1]]
        slices += [(f"l{g}", s0, s1, c) for s0, s1, c in _runs(cores)]
    return NetSpec("dvs_gesture", pops, projs, slices, np.zeros((1, ticks, 1), bool),
                   notes="SANA-FE truncates v to 1/64 after its 4095/4096 leak every tick; neurocore keeps float32")


NETS = {f.__name__ if f.__name__ != "conv_net" else "conv": f for f in (dense_if, leaky_lif, conv_net, recurrent)}
if DVS_NET.exists():
    NETS["dvs_gesture"] = dvs_gesture


# -- neurocore -------------------------------------------------------------------------------------

def build_neurocore(spec: NetSpec, chip):
    """(netlist, placement, SpikeDrive) of a spec on `chip` (the `loihi` chip), placed as the spec says."""
    from neurocore.engine import SpikeDrive
    from neurocore.mapping.placement import Placement
    from neurocore.mapping.slices import Slice
    from neurocore.netlist import Netlist
    from neurocore.neurons import IF, LIF

    net = Netlist(spec.name)
    for p in spec.pops:
        size = p.shape or p.size
        if p.source:
            net.add_source(p.name, size)
            continue
        theta = p.threshold + 0.5 / GRID  # v > threshold on a 1/64 grid == v >= threshold + 1/128
        bias = 0.0 if p.bias is None else np.asarray(p.bias, np.float32)
        model = IF(theta=theta, reset="zero", bias=bias) if p.leak_decay == 1.0 else \
            LIF(dv=1.0 - p.leak_decay, theta=theta, reset="zero", bias=bias)
        net.add_population(p.name, size, model)
    sizes = {p.name: p.size for p in spec.pops}
    for pr in spec.projs:
        if pr.conv is not None:
            net.connect(pr.name, pr.pre, pr.post, pr.conv)
            continue
        w = np.zeros((sizes[pr.pre], sizes[pr.post]), np.float32)
        w[pr.pre_idx, pr.post_idx] = pr.weight
        if pr.kind == "sparse":
            m = np.zeros_like(w, dtype=bool)
            m[pr.pre_idx, pr.post_idx] = True
            net.connect(pr.name, pr.pre, pr.post, w, mask=m)
        else:
            net.connect(pr.name, pr.pre, pr.post, w)
    slices = [Slice(pop, a, b, core) for pop, a, b, core in spec.slices]
    pl = Placement(chip, net, "given", slices, conv="unrolled")
    src = next(p for p in spec.pops if p.source)
    return net, pl, SpikeDrive({src.name: spec.spikes})


# -- SANA-FE ---------------------------------------------------------------------------------------

def sanafe_core(core: int, width: int = 8, height: int = 4, per_tile: int = 4) -> tuple[int, int]:
    """(SANA-FE tile, core in tile) of a neurocore core: neurocore numbers tiles row by row
    (y * width + x), SANA-FE column by column (x * height + y); both put 4 cores in a tile."""
    tile, k = divmod(core, per_tile)
    x, y = tile % width, tile // width
    return x * height + y, k


def build_sanafe(spec: NetSpec, sanafe, arch):
    """A SANA-FE network of `spec` on `arch` (its loihi.yaml), mapped like the neurocore placement;
    returns (network, group of every population)."""
    net = sanafe.Network()
    groups = {}
    for p in spec.pops:
        if p.source:
            groups[p.name] = net.create_neuron_group(p.name, p.size, model_attributes={},
                                                     soma_hw_name="loihi_inputs[0]")
        else:
            attrs = {"threshold": p.threshold, "leak_decay": p.leak_decay, "reset_mode": "hard", "reset": 0.0}
            groups[p.name] = net.create_neuron_group(p.name, p.size, model_attributes=attrs,
                                                     soma_hw_name="loihi_lif", log_spikes=True)
    for pop, a, b, core in spec.slices:
        t, k = sanafe_core(core)
        hw = arch.tiles[t].cores[k]
        for n in range(a, b):
            neuron = groups[pop][n]
            neuron.map_to_core(hw)
            if next(p for p in spec.pops if p.name == pop).source:
                # every input neuron needs its own input unit of its core
                neuron.set_attributes(soma_hw_name=f"loihi_inputs[{n - a}]")
    unit = {"dense": "loihi_dense_synapse", "sparse": "loihi_sparse_synapse", "conv": "loihi_conv_synapse"}
    for pr in spec.projs:
        post = groups[pr.post]
        for n in range(len(post)):  # a connection takes its post neuron's default synapse unit
            post[n].set_attributes(default_synapse_hw_name=unit[pr.kind])
        pairs = list(zip(pr.pre_idx.tolist(), pr.post_idx.tolist()))
        groups[pr.pre].connect_neurons_sparse(post, {"weight": pr.weight.tolist()}, pairs)
    return net, groups
