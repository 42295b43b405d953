"""A network trained off the chip, on the chip: its NIR graph imported, placed, run on given input
spikes, read out on the trainer's clock, and costed.

The graph's metadata gives dt and the discretisation (`neurocore.nir.from_nir`), so a trainer that
writes the update it computes (lee2020: forward Euler, strict thresholds, no delay) gets its own
spikes back from the chip, each population `depth` ticks later. The readout follows the output:

- a non-spiking output (LI, I: its membrane is the network's output) is probed, and the class is
  the argmax of the membranes at the last input step's tick (step steps - 1 at tick steps - 1 + depth);
- a spiking output: argmax of spike counts, or with graph metadata readout = "first_spike" the
  neuron that spiked first (ties: the lowest index); a silent output answers -1.

On a chip in Loihi arithmetic (`[precision] arithmetic = "loihi"`) every population is first rescaled
(`neurocore.loihi.scale_for_loihi`: gains folded into the weights, weights of the largest projection
into a population filling 8-bit mantissas) and each projection gets its own weight exponent.

Energy per sample counts every evaluated sample; tick latency comes from a mesh replay of the first
few samples, each run alone with per-tick counters (`neurocore.cost.replay_samples`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ..chip import Chip
from ..engine import Engine, RunResult
from ..mapping import Placement, place
from ..nir import Imported, from_nir, run_spikes
from ..simulate import latency_replay, warm_up
from ..simulate import predictions as count_predictions

if TYPE_CHECKING:
    from ..cost import TimingResult

#: (images, first_index) -> input spikes (steps, samples, *input shape): what the trainer evaluates on
InputSpikes = Callable[[np.ndarray, int], np.ndarray]
READOUTS = ("membrane", "spike_count", "first_spike")
#: most spike-record entries (12 bytes each) a first-spike evaluation's batch may need at worst
RECORD_ENTRIES = 20_000_000


@dataclass
class Deployment:
    """An imported graph placed on a chip, with its engine and how to read its answer."""

    imported: Imported
    placement: Placement
    engine: Engine
    output: str  # the population read out
    readout: str  # one of READOUTS

    @property
    def chip(self) -> Chip:
        return self.placement.chip


def deploy(graph: Any, chip: Chip, strategy: str = "sequential", seed: int = 0,
           given: str | None = None) -> Deployment:
    """Import a nir.NIRGraph (dt and discretisation from its metadata) and place it on `chip` (by `strategy`,
    or as the placement file `given` pins it)."""
    from ..errors import ConfigError

    imp = from_nir(graph)
    if chip.precision.arithmetic == "loihi":  # Loihi's integers: each population rescaled to fill them
        from ..loihi import scale_for_loihi
        scale_for_loihi(imp.netlist)
    outputs = list(dict.fromkeys(imp.outputs.values()))
    if len(outputs) != 1:
        raise ConfigError(f"the trained graph has {len(outputs)} outputs ({', '.join(imp.outputs)}); a classifier "
                          "on the chip is read out from one")
    out = outputs[0]
    pop = imp.netlist.populations[out]
    meta = graph.metadata if isinstance(graph.metadata, dict) else {}
    if pop.params is not None and not pop.params.spiking:
        readout = "membrane"
        imp.netlist.add_probe(out, np.arange(pop.size))
    else:
        readout = str(meta.get("readout", "spike_count"))
        if readout not in READOUTS[1:]:
            raise ConfigError(f"graph metadata readout = {readout!r}: a spiking output is read by "
                              f"{' or '.join(READOUTS[1:])}")
    placement = place(imp.netlist, chip, strategy, given=given)
    return Deployment(imp, placement, Engine(placement, seed=seed), out, readout)


def _chip_input(spikes: np.ndarray) -> np.ndarray:
    """(steps, samples, *shape) spikes as the chip's (samples, steps, *shape) booleans."""
    return np.moveaxis(np.asarray(spikes), 0, 1)


def run(dep: Deployment, spikes: np.ndarray, *, sample_ids=None, record: bool = False,
        traffic: str = "sum") -> tuple[RunResult, np.ndarray]:
    """Run input spikes (steps, samples, *shape) on the chip; returns the result and each sample's class."""
    x = _chip_input(spikes)
    res, _ = run_spikes(dep.imported, dep.engine, x, probes=dep.readout == "membrane", sample_ids=sample_ids,
                        record=record or dep.readout == "first_spike", traffic=traffic)
    return res, classes(dep, res, x.shape[1])


def classes(dep: Deployment, res: RunResult, steps: int) -> np.ndarray:
    """The class each sample of a run answers (see the module docstring)."""
    if dep.readout == "membrane":
        return membranes(dep, res, steps).argmax(axis=1)
    if dep.readout == "spike_count":
        return count_predictions(res.counts[dep.output])
    n = res.counts[dep.output].shape[0]
    out = np.full(n, -1, np.int64)
    for s in range(n):
        t, j = res.spikes(dep.output, s)
        if len(t):
            first = t == t.min()
            out[s] = int(j[first].min())
    return out


def membranes(dep: Deployment, res: RunResult, steps: int) -> np.ndarray:
    """(samples, size) output membranes at the tick of the last input step (a membrane readout)."""
    return res.probe_v[:, steps - 1 + dep.imported.depth[dep.output], :]


def evaluate(dep: Deployment, spikes_of: InputSpikes, images: np.ndarray, labels: np.ndarray,
             batch: int = 100, progress: bool = False) -> tuple[float, dict]:
    """Accuracy on the chip of `images` driven by `spikes_of(images[s:e], s)`, and the run's counters.
    With `progress`, a bar; a first call that compiles the engine's kernels says so on stderr."""
    from tqdm.auto import tqdm

    if len(labels):  # warm up on one sample, so compile time is neither in a batch nor silent
        first = spikes_of(images[:1], 0)
        warm_up(lambda: run(dep, first, sample_ids=[0]))  # the notice on stderr, bar or not
        if dep.readout == "first_spike":  # records every spike: the engine's buffer holds a batch's worst case
            per_sample = (first.shape[0] + dep.imported.latency) * dep.imported.netlist.n_neurons
            batch = max(1, min(batch, RECORD_ENTRIES // max(per_sample, 1)))
    dep.engine.reset_counters()
    correct = 0
    for s in tqdm(range(0, len(labels), batch), disable=not progress, desc="test on the chip", unit="batch",
                  leave=False):
        _, pred = run(dep, spikes_of(images[s:s + batch], s), sample_ids=np.arange(s, min(s + batch, len(labels))))
        correct += int((pred == labels[s:s + batch]).sum())
    return correct / max(1, len(labels)), dep.engine.counters()


def timing(dep: Deployment, spikes_of: InputSpikes, images: np.ndarray, n: int | None = None) -> "TimingResult":
    """Tick latency of the first `n` samples (default TIMING_SAMPLES), each run alone with per-tick
    counters and replayed on the mesh (`neurocore.cost.replay_samples`)."""
    return latency_replay(lambda i: run(dep, spikes_of(images[i:i + 1], i), sample_ids=[i], traffic="per_tick")[0],
                          len(images), dep.chip, dep.placement, n)


def cost(dep: Deployment, counters: dict, latency: "TimingResult") -> tuple[dict, dict]:
    """(cost summary, counter record) of an evaluation on the chip: `neurocore.cost.cost_summary` of
    its counters, with the tick latency of `latency` (see `timing`)."""
    from ..cost import cost_record, cost_summary

    record = cost_record(counters, dep.placement)
    return cost_summary(record, dep.chip, "inference", latency), record
