"""Run the networks of sanafe_nets.py in SANA-FE's Loihi model and keep what it says: the goldens
tests/test_sanafe.py replays without sanafe.

Rerun (sanafe 2.2.x is a wheel on PyPI for this Python; a few minutes on a loaded machine):

    python -m venv /tmp/sanafe-venv --system-site-packages
    /tmp/sanafe-venv/bin/pip install 'sanafe>=2.2,<2.3'
    cd <repository> && PYTHONPATH=. /tmp/sanafe-venv/bin/python tests/reference/make_sanafe_goldens.py [net ...]

SANA-FE's own DVS-gesture network (snn/dvs.yaml of github.com/SLAM-Lab/SANA-FE, 8951ab0; not in the
wheel) joins when its path is given: SANAFE_DVS_YAML=/path/to/dvs.yaml. The script then also keeps
the network itself as small arrays (tests/reference/sanafe/dvs_gesture_net.npz, via
sanafe_nets.dvs_arrays) for neurocore's side; SANA-FE runs it from the yaml as its authors ship it.

For every net it writes tests/reference/sanafe/<net>.npz: per sample and timestep SANA-FE's energy
by kind (synapse, soma, network, dendrite; J), its time per timestep with the "simple" timing model
(the one neurocore's `timing = "overlap"` reproduces; s) and with its default "detailed" model,
its counts (fired, updated, packets, hops, synaptic spikes), every spike of every (non-input)
neuron, and the wall time of its sim() calls. The chip is the loihi.yaml SANA-FE ships
(identical to arch/loihi.yaml of SLAM-Lab/SANA-FE 8951ab0). Each sample runs on a freshly loaded
chip, so samples are independent as in neurocore.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from tests.reference.sanafe_nets import NETS, build_sanafe  # noqa: E402

OUT = HERE / "sanafe"
PERF = ("synapse_energy", "soma_energy", "network_energy", "dendrite_energy", "sim_time", "fired", "updated",
        "packets", "hops", "spikes")


def arch_path(sanafe) -> str:
    return os.path.join(os.path.dirname(sanafe.__file__), "examples", "loihi.yaml")


def run_sanafe(spec, sanafe, timing: str = "simple"):
    """Per sample: perf trace arrays (T,), spikes as (tick, population index, neuron) rows, sim() seconds."""
    arch = sanafe.load_arch(arch_path(sanafe))
    src = next(p for p in spec.pops if p.source)
    pop_index = {p.name: k for k, p in enumerate(spec.pops)}
    samples, ticks = spec.spikes.shape[:2]
    perf = {k: np.zeros((samples, ticks)) for k in PERF}
    events, wall = [], 0.0
    yaml_path = os.environ.get("SANAFE_DVS_YAML") if spec.name == "dvs_gesture" else None
    if yaml_path:  # SANA-FE's own file; its groups "0".."5" are neurocore's "l0".."l5"
        pop_index.update({str(g): pop_index[f"l{g}"] for g in range(len(spec.pops) - 1)})
    for b in range(samples):
        if yaml_path:
            net = sanafe.load_net(yaml_path, arch)
        else:
            net, groups = build_sanafe(spec, sanafe, arch)
            g = groups[src.name]
            for n in range(src.size):
                g[n].set_attributes(model_attributes={"spikes": spec.spikes[b, :, n].tolist()})
        chip = sanafe.SpikingChip(arch)
        chip.load(net)
        t0 = time.perf_counter()
        r = chip.sim(ticks, timing_model=timing, spike_trace=True, perf_trace=True)
        wall += time.perf_counter() - t0
        pt = r["perf_trace"]
        for k in PERF:
            if k in pt:
                perf[k][b] = np.asarray(pt[k], np.float64)
        for t, fired in enumerate(r["spike_trace"]):
            for a in fired:
                events.append((b, t, pop_index[a.group_name], a.neuron_offset))
    ev = np.array(sorted(events), np.int64).reshape(-1, 4)
    return perf, ev, wall


def main(names: list[str]) -> None:
    import sanafe

    OUT.mkdir(exist_ok=True)
    if os.environ.get("SANAFE_DVS_YAML"):
        from tests.reference import sanafe_nets

        np.savez_compressed(sanafe_nets.DVS_NET, **sanafe_nets.dvs_arrays(os.environ["SANAFE_DVS_YAML"]))
        NETS["dvs_gesture"] = sanafe_nets.dvs_gesture
    for name in names or list(NETS):
        spec = NETS[name]()
        perf, ev, wall = run_sanafe(spec, sanafe, "simple")
        detailed, _, wall_d = run_sanafe(spec, sanafe, "detailed")
        np.savez_compressed(
            OUT / f"{name}.npz", events=ev, wall_s=wall, wall_detailed_s=wall_d,
            sanafe_version=np.array(getattr(sanafe, "__version__", "2.2")),
            detailed_sim_time=detailed["sim_time"], **{k: v for k, v in perf.items()})
        print(f"{name}: {len(ev)} spikes, {perf['sim_time'].mean() * 1e9:.1f} ns mean tick (simple), "
              f"{detailed['sim_time'].mean() * 1e9:.1f} ns (detailed), "
              f"{(perf['synapse_energy'] + perf['soma_energy'] + perf['network_energy']).sum(axis=1).mean() * 1e6:.3f}"
              f" uJ per sample; sim() {wall:.2f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
