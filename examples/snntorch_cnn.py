"""A spiking CNN built in snnTorch, exported with snnTorch's own `export_to_nir`, for the tour's
`neurocore map cnn.nir` and `neurocore run cnn.nir` (needs the test extras: pip install -e ".[test]").

    python examples/snntorch_cnn.py [--out DIR]     # -> DIR/cnn.nir and DIR/spikes.npy (default: .)
    neurocore map cnn.nir --dt 1e-4 --discretisation euler --reset snntorch-subtract
    neurocore run cnn.nir --input spikes.npy --dt 1e-4 --discretisation euler --reset snntorch-subtract

The net takes N-MNIST-shaped input (2 polarity channels x 34 x 34): Conv 8 5x5 stride 2 -> Leaky
-> AvgPool 3 -> Flatten -> Linear 10 -> Leaky, snnTorch's default reset (subtract, one step late:
`--reset snntorch-subtract` on the chip). Its weights are random (scaled so that spikes reach the
output), as a trained net's would be loaded: what it costs on the chip does not depend on them much.
spikes.npy holds 4 samples of 50 steps of random polarity events (p = 0.05 per pixel and step),
bool (samples, ticks, 2, 34, 34). snnTorch's export writes no dt: it folds its own step into the
neuron parameters, so any dt with "euler" reproduces its update (`neurocore.nir` says why).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import warnings
from pathlib import Path

import numpy as np


def build():
    import snntorch as snn
    import torch

    torch.manual_seed(0)
    shape = (8, 15, 15)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(2, 8, 5, stride=2),
        snn.Leaky(beta=torch.full(shape, 0.9), threshold=torch.full(shape, 1.0), init_hidden=True),
        torch.nn.AvgPool2d(3), torch.nn.Flatten(), torch.nn.Linear(8 * 5 * 5, 10),
        snn.Leaky(beta=torch.full((10,), 0.8), threshold=torch.full((10,), 0.3), init_hidden=True))
    with torch.no_grad():
        net[0].weight.mul_(4.0)
        net[4].weight.mul_(6.0)
    return net


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=".", help="folder for cnn.nir and spikes.npy (default: .)")
    args = ap.parse_args()
    try:
        import nir
        import torch
        from snntorch.export_nir import export_to_nir
    except ImportError as exc:
        raise SystemExit(f"examples/snntorch_cnn.py needs torch and snntorch ({exc.name} is missing): "
                         'pip install -e ".[test]"')
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    net = build()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")  # snnTorch's tracer warns about every traced shape
        graph = export_to_nir(net, torch.zeros(1, 2, 34, 34), ignore_dims=[0])
    nir.write(out / "cnn.nir", graph)
    spikes = np.random.default_rng(1).random((4, 50, 2, 34, 34)) < 0.05
    np.save(out / "spikes.npy", spikes)
    print(f"wrote {out / 'cnn.nir'} ({len(graph.nodes)} nodes: {', '.join(graph.nodes)}) and "
          f"{out / 'spikes.npy'} {spikes.shape}")


if __name__ == "__main__":
    main()
