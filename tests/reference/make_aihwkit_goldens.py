"""Golden pulse responses of every aihwkit pulsed-device preset, from IBM aihwkit 1.2.0 itself.

What it runs (aihwkit's own pulse-response protocol, `aihwkit.utils.visualization`
`get_tile_for_plotting` / `compute_pulse_response`): a 64x64 `AnalogTile` of `SingleRPUConfig(device=
<Preset>())`, learning rate 1, `desired_bl = 1` without update management, so each
`tile.update(-1, +-1)` is exactly one pulse on every device; weights set to 0; then 1000 up pulses,
1000 down pulses and 1000 alternating (up, down) pairs. For each preset and each of SEEDS
populations (`construction_seed`) it records the mean and std over the 4096 devices of the weights
read (`get_weights`, write noise included) every EVERY steps; and once, the same protocol with every
spread and noise off (`DeviceSpec.noise_free()` in neurocore: all `*_dtod`, `*_std`, write noise,
complex noise and diffusion 0), the trajectory of one device at every step. It also writes each
preset's parameters as aihwkit holds them, so the tests check models/devices/*.toml against them.

Output (committed; replayed by tests/test_aihwkit_devices.py in CI, which does not need aihwkit):
    tests/reference/aihwkit_goldens.npz   <preset>/mean, <preset>/std (SEEDS x checkpoints), step,
                                          <preset>/noise_free (every step)
    tests/reference/aihwkit_goldens.json  versions, protocol, each preset's aihwkit parameters

How to rerun (about 25 minutes to build aihwkit on two cores, then about a minute):
    apt-get install -y libopenblas-dev
    python -m venv /tmp/aihwkit-venv && . /tmp/aihwkit-venv/bin/activate
    echo "torchvision==0.28.0" > /tmp/c.txt          # else pip brings a CUDA torch
    pip install torch==2.13.0 -c /tmp/c.txt           # CPU build
    pip install "cmake>=4.2.1" "scikit-build>=0.18.1" "pybind11>=3.0.1" setuptools wheel numpy scipy mypy -c /tmp/c.txt
    MAKEFLAGS=-j2 CMAKE_BUILD_PARALLEL_LEVEL=2 pip wheel --no-build-isolation --no-deps aihwkit==1.2.0 -w /tmp/wh
    pip install --no-deps /tmp/wh/aihwkit-*.whl && pip install requests tqdm -c /tmp/c.txt
    python tests/reference/make_aihwkit_goldens.py      # from the repository's top folder
    python tests/reference/make_aihwkit_goldens.py pcm  # only these presets, the others kept
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEEDS = 20
EVERY = 50
SHAPE = (64, 64)
N_UP, N_DOWN, N_PAIRS = 1000, 1000, 1000

#: neurocore preset name (models/devices/<name>.toml) -> aihwkit preset class name
PRESETS = {
    "idealized": "IdealizedPresetDevice",
    "gokmen_vlasov": "GokmenVlasovPresetDevice",
    "reram_es": "ReRamESPresetDevice",
    "reram_sb": "ReRamSBPresetDevice",
    "capacitor": "CapacitorPresetDevice",
    "ecram": "EcRamPresetDevice",
    "ecram_mo": "EcRamMOPresetDevice",
    "pcm": "PCMPresetDevice",
    "reram_array_om": "ReRamArrayOMPresetDevice",
    "reram_array_hfo2": "ReRamArrayHfO2PresetDevice",
}


def directions() -> np.ndarray:
    return np.concatenate([np.ones(N_UP), -np.ones(N_DOWN), np.tile([1.0, -1.0], N_PAIRS)])


def noise_free(device):
    """The preset with every spread and noise off (the same fields neurocore's noise_free() zeroes)."""
    changes = {}
    for f in dataclasses.fields(device):
        if f.name.endswith(("_dtod", "_std")) or f.name in ("dw_min_std_add", "dw_min_std_slope", "diffusion"):
            value = getattr(device, f.name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):  # ReRamSB's write_noise_std is 56
                changes[f.name] = 0.0
    return dataclasses.replace(device, **changes)


def run(device, seed: int, every: int) -> np.ndarray:
    """The weights (steps, rows, cols) every `every` steps of the protocol, step 0 first."""
    import torch
    from aihwkit.simulator.configs import SingleRPUConfig
    from aihwkit.simulator.tiles import AnalogTile

    device = dataclasses.replace(device, construction_seed=int(seed))
    cfg = SingleRPUConfig(device=device)
    cfg.update.update_bl_management = False
    cfg.update.update_management = False
    cfg.update.desired_bl = 1
    torch.manual_seed(seed)
    rows, cols = SHAPE
    tile = AnalogTile(cols, rows, cfg)  # out_size (columns) x in_size (rows)
    tile.set_learning_rate(1)
    tile.set_weights(torch.zeros(cols, rows))
    x = -torch.ones(1, rows)
    d = torch.ones(1, cols)
    dirs = directions()
    out = [tile.get_weights()[0].numpy().astype(np.float64).copy()]
    for t, s in enumerate(dirs, 1):
        tile.update(x, d * float(s))  # w -= lr * x d: +1 is one up pulse on every device
        if t % every == 0:
            out.append(tile.get_weights()[0].numpy().astype(np.float64).copy())
    return np.stack(out)


def main(only: list[str]) -> int:
    """All presets, or (names given) only those, kept beside the others already in the golden files."""
    import aihwkit
    import torch
    from aihwkit.simulator import presets

    arrays: dict[str, np.ndarray] = {}
    meta = {"aihwkit": aihwkit.__version__, "torch": torch.__version__, "seeds": SEEDS, "every": EVERY,
            "shape": list(SHAPE), "protocol": [N_UP, N_DOWN, N_PAIRS], "presets": {}}
    if only:
        bad = sorted(set(only) - set(PRESETS))
        if bad:
            print(f"unknown preset(s) {bad}; known: {', '.join(PRESETS)}", file=sys.stderr)
            return 2
        with np.load(HERE / "aihwkit_goldens.npz") as old:
            arrays.update({k: old[k] for k in old.files})
        meta["presets"] = json.loads((HERE / "aihwkit_goldens.json").read_text())["presets"]
    arrays["step"] = np.arange(0, N_UP + N_DOWN + 2 * N_PAIRS + 1, EVERY)
    for name, cls_name in PRESETS.items():
        if only and name not in only:
            continue
        device = getattr(presets, cls_name)()
        params = {f.name: getattr(device, f.name) for f in dataclasses.fields(device)
                  if isinstance(getattr(device, f.name), (int, float, bool, str, list))}
        meta["presets"][name] = {"class": cls_name, "model": type(device).__mro__[1].__name__, "params": params}
        means, stds = [], []
        for s in range(SEEDS):
            w = run(device, 1000 + s, EVERY)
            means.append(w.mean(axis=(1, 2)))
            stds.append(w.std(axis=(1, 2)))
        arrays[f"{name}/mean"] = np.array(means)
        arrays[f"{name}/std"] = np.array(stds)
        nf = run(noise_free(device), 1, 1)
        spread = float(np.abs(nf - nf[:, :1, :1]).max())
        meta["presets"][name]["noise_free_device_spread"] = spread  # 0: every device identical
        arrays[f"{name}/noise_free"] = nf[:, 0, 0]
        print(f"{name:18s} final mean {np.mean(means, 0)[-1]:+.4f} std {np.mean(stds, 0)[-1]:.4f} "
              f"noise-free spread {spread:.1e}", flush=True)
    np.savez_compressed(HERE / "aihwkit_goldens.npz", **arrays)
    (HERE / "aihwkit_goldens.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
