"""The NIR paper's own Sinabs N-MNIST CNN (paper/02_cnn/cnn_sinabs.nir of github.com/neuromorphs/NIR) on the
chip with `--from sinabs`, against Sinabs's own simulation of it (sinabs.from_nir), layer by layer.

Not a CI test (the graph is not in this repository). Run in the writer venv of make_nir_writer_goldens.py:

    git clone https://github.com/neuromorphs/NIR /tmp/NIR      # or any copy of cnn_sinabs.nir
    PYTHONPATH=. /tmp/nir-venv/bin/python tests/reference/nir_paper_cnn.py /tmp/NIR/paper/02_cnn/cnn_sinabs.nir

Prints, per IAF layer, the spikes that differ on a float-weight chip (|Sinabs count - chip count| over
neurons and steps) and, for the output, on loihi_like; and the first step where the chip's layer 1
differs, with what float64 arithmetic gives there. Measured 2026-12-05 (8 samples x 100 steps, input
spike probability 0.05, seed 0): output 30 of 2,383 on the float chip (7 of 8 samples equal counts),
963 on loihi_like; layer 1 differs in 2 of 86,930 spikes, where Sinabs equals float64 arithmetic
and the chip's float32 sum of the same weights, in another order, falls on the other side of a threshold.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np


def main(path: str, samples: int = 8, steps: int = 100, p: float = 0.05) -> None:
    import nir
    import sinabs
    import torch

    from neurocore.chip import load_chip
    from neurocore.engine import Engine
    from neurocore.mapping import place
    from neurocore.nir import from_nir, run_spikes
    from tests.helpers import big_core

    warnings.simplefilter("ignore")
    x = np.random.default_rng(0).random((samples, steps, 2, 34, 34)) < p
    back = sinabs.from_nir(nir.read(path), batch_size=samples)
    ref = {}
    for name, mod in back.named_modules():
        if type(mod).__name__ == "IAFSqueeze":
            mod.register_forward_hook(lambda m, i, o, name=name: ref.__setitem__(
                name, o.detach().reshape(samples, steps, -1).numpy()))
    with torch.no_grad():
        back(torch.tensor(x.reshape(samples * steps, 2, 34, 34), dtype=torch.float32))
    imp = from_nir(path, writer="sinabs")
    (out,) = set(imp.outputs.values())
    for chip_name, chip in (("float-weight chip", big_core()), ("loihi_like", load_chip("loihi_like"))):
        res, _ = run_spikes(imp, Engine(place(imp.netlist, chip), seed=0), x, record=True)
        for pop in (ref if chip_name.startswith("float") else [out]):
            d, n = imp.depth[pop], imp.netlist.populations[pop].size
            got = np.zeros((samples, steps, n))
            for s in range(samples):
                t, j = res.spikes(pop, s)
                k = (t >= d) & (t < d + steps)
                np.add.at(got[s], (t[k] - d, j[k]), 1)
            diff = np.abs(ref[pop] - got)
            equal = int(np.sum(np.all(ref[pop].sum(1) == got.sum(1), axis=1)))
            print(f"{chip_name}: layer {pop}: {int(diff.sum())} of {int(ref[pop].sum())} spikes differ; "
                  f"{equal} of {samples} samples with equal counts")


if __name__ == "__main__":
    main(sys.argv[1])
