"""The one training loop of every method that learns off the chip, and its deployment on the chip.

`OffChipRun` drives a method's trainer (the protocol is in `neurocore.methods`) through epochs of
batches in a fixed order per (seed, epoch), with the run folder of `neurocore.runs`: the checkpoint
is the trainer's state (`state.<name>` arrays) plus the epoch, the position in it, the running
training counts and the results so far, written after every epoch and on Ctrl-C (held until the
batch is done). A resumed run passes the same batches, at the same positions, to a trainer in the
same state: it ends bit-identical to an uninterrupted one.

After every epoch the trained network is tested off the chip (`trainer.evaluate`) and on the
experiment's chip (`neurocore.methods.deploy`: `trainer.to_nir()` imported, placed with the
experiment's mapping strategy, driven by the trainer's own input spikes of the same test samples).
Its results row holds `test_acc` (off the chip), `chip_test_acc`, `infer_cost` (the cost summary
of the chip's inference: energy per sample by kind, tick latency, deadline misses),
`infer_counters` (what the cost was computed from) and, as `test_<name>`, every other figure the
trainer's `evaluate` returns (BATS: spikes per sample per layer, time to decision, dead neurons),
so that runs can be compared from their results alone.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .. import runs
from ..data import Dataset
from ..errors import ConfigError
from . import deploy as dp
from ..registry import get_method

if TYPE_CHECKING:
    from ..cost import TimingResult
    from ..experiment import Experiment

STATE = "state."  # prefix of the trainer's arrays in a checkpoint


def build_trainer(exp: "Experiment", train_set: Dataset) -> Any:
    """The method's trainer for this experiment and data; an error in [net] names the experiment file."""
    method = get_method(exp.method, exp.source)
    if method.trainer_at is None:
        raise ConfigError(f"= {method.name!r} learns on the chip; it has no off-chip trainer", exp.source, "method")
    try:
        return method.trainer(exp, train_set)
    except ConfigError as exc:
        if exc.source != "<python>":
            raise
        key = exc.key if exc.key is None or "." in exc.key else f"net.{exc.key}"
        raise ConfigError(exc.message, exp.source, key) from None


class OffChipRun:
    """A training run of an off-chip method: its trainer, the position in the epoch, the results so far."""

    def __init__(self, exp: "Experiment", train_set: Dataset, run_dir: str | Path | None = None):
        self.exp = exp
        self.run_dir = Path(run_dir) if run_dir else None
        self.trainer = build_trainer(exp, train_set)
        self.epoch = 0
        self.position = 0
        self.results: list[dict] = []
        self.between_batches = True  # False while a batch runs: its state may be half-updated
        self.last_timing: TimingResult | None = None
        self._correct = self._seen = 0
        self._loss = self._train_seconds = 0.0

    # -- state -------------------------------------------------------------------------
    def state(self) -> dict:
        return {**{STATE + k: v for k, v in self.trainer.state().items()}, "epoch": self.epoch,
                "position": self.position, "results": json.dumps(self.results), "correct": self._correct,
                "seen": self._seen, "train_loss": self._loss, "train_seconds": self._train_seconds}

    def save(self) -> Path | None:
        return None if self.run_dir is None else runs.save_checkpoint(self.run_dir, self.state(), self.exp)

    def restore(self, path: str | Path) -> None:
        """Load a checkpoint (a file, or a run folder holding one); a file that is not one written for this
        experiment is a NeurocoreError saying what is wrong, and nothing is changed."""
        expected = {STATE + k: np.asarray(v) for k, v in self.trainer.state().items()}
        z = runs.read_checkpoint(runs.checkpoint_path(path), expected, ("train_seconds", "train_loss"), STATE)
        self.trainer.load_state({k[len(STATE):]: v for k, v in z.items() if k.startswith(STATE)})
        self.epoch, self.position = int(z["epoch"]), int(z["position"])
        self.results = z["results"]
        self._correct, self._seen = int(z["correct"]), int(z["seen"])
        self._loss, self._train_seconds = float(z["train_loss"]), float(z["train_seconds"])

    # -- training ----------------------------------------------------------------------
    def order(self, epoch: int, n: int) -> np.ndarray:
        """The order in which `epoch` visits the n training samples (the trainer's own, if it has one)."""
        own = getattr(self.trainer, "epoch_order", None)
        return own(epoch, n) if own is not None else np.random.default_rng([self.exp.seed, 2, epoch]).permutation(n)

    def train_epoch(self, train: Dataset, progress: bool = True,
                    on_batch: Callable[[int, dict], None] | None = None) -> None:
        """Train from the current position to the end of the current epoch."""
        n, batch, epochs = len(train), self.exp.train.batch, self.exp.train.epochs
        order = self.order(self.epoch, n)
        if self.position == 0:
            self._correct = self._seen = 0
            self._loss = self._train_seconds = 0.0
        with runs.epoch_progress(self.epoch, epochs, n, self.position, progress) as (bar, stop_if_asked):
            while self.position < n:
                stop_if_asked()
                idx = order[self.position:self.position + batch]
                t0 = time.perf_counter()
                self.between_batches = False
                out = self.trainer.train_batch(train.images[idx], train.labels[idx], self.epoch, self.position)
                self._train_seconds += time.perf_counter() - t0
                self._correct += int(out["correct"])
                self._loss += float(out.get("loss", 0.0)) * len(idx)
                self._seen += len(idx)
                self.position += len(idx)
                self.between_batches = True
                bar.update(len(idx))
                bar.set_postfix(train_acc=f"{self._correct / self._seen:.3f}", loss=f"{self._loss / self._seen:.3g}")
                if on_batch is not None:
                    on_batch(self.position, out)

    # -- testing -----------------------------------------------------------------------
    def deploy(self) -> dp.Deployment:
        """The trained network on the experiment's chip (placed with its mapping strategy)."""
        graph = self.trainer.to_nir()
        if isinstance(graph.metadata, dict):
            graph.metadata.setdefault("name", self.exp.name)  # the netlist's name on the chip
        return dp.deploy(graph, self.exp.chip, self.exp.mapping.strategy, self.exp.seed,
                         given=self.exp.mapping.placement or None)

    def test_on_chip(self, data: Dataset, progress: bool = False) -> dict:
        """Accuracy of the current network on the chip, its inference cost and counters, the seconds taken."""
        t0 = time.perf_counter()
        dep = self.deploy()
        spikes_of = self.trainer.input_spikes
        acc, counters = dp.evaluate(dep, spikes_of, data.images, data.labels,
                                    getattr(self.exp.train, "eval_batch", 100), progress)
        self.last_timing = dp.timing(dep, spikes_of, data.images)
        summary, record = dp.cost(dep, counters, self.last_timing)
        return {"accuracy": acc, "cost": summary, "counters": record, "seconds": time.perf_counter() - t0,
                "cores_used": len(dep.placement.cores_used), "raw_counters": counters}

    def replay(self, test: Dataset) -> "TimingResult":
        """The mesh replay of the current network on the chip (as `test_on_chip` makes it), kept as
        `last_timing`: for a run restored after its last epoch, whose replay the checkpoint does not keep."""
        self.last_timing = dp.timing(self.deploy(), self.trainer.input_spikes, test.images)
        return self.last_timing

    def finish_epoch(self, test: Dataset, progress: bool = False) -> dict:
        """Test off and on the chip, append the epoch's results row and move to the next epoch."""
        t0 = time.perf_counter()
        off = self.trainer.evaluate(test.images, test.labels)
        eval_seconds = time.perf_counter() - t0
        chip = self.test_on_chip(test, progress)
        n = max(self._seen, 1)
        row = {"epoch": self.epoch + 1, "train_acc": self._correct / n, "train_loss": self._loss / n,
               "test_acc": off["accuracy"], "test_loss": off.get("loss"), "chip_test_acc": chip["accuracy"],
               "train_seconds": self._train_seconds, "eval_seconds": eval_seconds, "chip_seconds": chip["seconds"],
               "samples_per_s": self._seen / max(self._train_seconds, 1e-9), "cores_used": chip["cores_used"],
               "infer_cost": chip["cost"], "infer_counters": chip["counters"],
               **{f"test_{k}": _plain(v) for k, v in off.items() if k not in ("accuracy", "loss")}}
        self.results.append(row)
        self.epoch += 1
        self.position = 0
        return row

    def write_results(self) -> None:
        runs.write_results(self.run_dir, self.exp.name, self.results,
                           f"{self.exp.method} off chip, tested on {self.exp.chip.name}: {self.exp.name}")


def _plain(v: Any) -> Any:
    """A figure as JSON holds it: numpy scalars and arrays as numbers and lists, NaN and inf as None."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_plain(x) for x in np.asarray(v).tolist()] if isinstance(v, np.ndarray) else [_plain(x) for x in v]
    if isinstance(v, (np.integer, np.floating, np.bool_)):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def describe(exp: "Experiment") -> str:
    """One line saying what an off-chip experiment trains and where it is deployed."""
    layers = getattr(exp.net, "layers", None)
    layers = layers if isinstance(layers, str) else "-".join(map(str, layers or []))
    return (f"training '{exp.name}' with {exp.method} off the chip: {exp.data.dataset}, layers {layers}, "
            f"{exp.train.epochs} epoch{'s' if exp.train.epochs != 1 else ''} of batches of {exp.train.batch}; "
            f"tested on chip {exp.chip.name} "
            "after every epoch")


def train(exp: "Experiment", run_dir: str | Path | None, *, resume: bool = False, overwrite: bool = False,
          progress: bool = True, log: Callable[[str], None] = print,
          on_batch: Callable[[int, dict], None] | None = None) -> list[dict]:
    """Train an off-chip experiment to its last epoch; checkpoint after each epoch and on Ctrl-C. The run
    folder is locked and checked as for SSNN-BP (`neurocore.runfolder`)."""
    from ..cost import format_summary

    train_set, test_set = runs.datasets(exp)
    with runs.held(run_dir, exp, resume, overwrite, log):
        run = OffChipRun(exp, train_set, run_dir)
        runs.begin(run, exp, run_dir, len(train_set), resume, log)
        if run_dir is not None:
            runs.write_experiment(run_dir, exp)
        try:
            while run.epoch < exp.train.epochs:
                run.train_epoch(train_set, progress, on_batch)
                row = run.finish_epoch(test_set, progress)
                log(f"epoch {row['epoch']}: train {100 * row['train_acc']:.2f} %, test {100 * row['test_acc']:.2f} % "
                    f"off the chip, {100 * row['chip_test_acc']:.2f} % on {exp.chip.name}; {row['train_seconds']:.1f} s "
                    f"training ({row['samples_per_s']:.0f} samples/s), {row['chip_seconds']:.1f} s on the chip\n"
                    + format_summary(row["infer_cost"], indent="  "))
                run.save()
                run.write_results()
        except KeyboardInterrupt:
            if not run.between_batches:  # stopped inside a batch (a second Ctrl-C): its state cannot be trusted
                log(f"interrupted inside a batch: no checkpoint written (the last one, if any, stays in {run_dir})")
                raise
            runs.save_interrupted(run, log)
            raise
    return run.results


def infer(exp: "Experiment", run_dir: str | Path, split: str = "test", progress: bool = True) -> dict:
    """Accuracy of a run's checkpoint off and on the chip, and its inference cost on the chip."""
    train_set, test_set = runs.datasets(exp)
    run = OffChipRun(exp, train_set, run_dir)
    run.restore(run_dir)
    data = test_set if split == "test" else train_set
    off = run.trainer.evaluate(data.images, data.labels)
    chip = run.test_on_chip(data, progress)
    c, n = chip["raw_counters"], max(len(data), 1)
    return {"run": str(run_dir), "method": exp.method, "epoch": run.epoch, "split": split, "samples": len(data),
            "accuracy": off["accuracy"], "chip_accuracy": chip["accuracy"], "cores_used": chip["cores_used"],
            "syn_events_per_sample": c["syn_events"] / n, "spikes_per_sample": c["spikes"] / n,
            "packets_per_sample": c["packets"] / n, **chip["cost"]}


def infer_report(exp: "Experiment", run: Path, split: str, progress: bool, equivalent: bool) -> tuple[dict, str]:
    """`infer` of the method protocol: the figures, and their text for a terminal."""
    from ..cost import format_summary

    if equivalent:
        raise ConfigError(f"the rate-equivalent ANN is SSNN-BP's; {run} trained with {exp.method}", "--equivalent")
    out = infer(exp, run, split, progress=progress)
    text = (f"{run} ({exp.method}, after epoch {out['epoch']}): {split} accuracy {100 * out['accuracy']:.2f} % off "
            f"the chip, {100 * out['chip_accuracy']:.2f} % on {exp.chip.name} ({out['cores_used']} of its cores) on "
            f"{out['samples']} samples; per sample {out['syn_events_per_sample']:.0f} synaptic events, "
            f"{out['spikes_per_sample']:.0f} spikes, {out['packets_per_sample']:.0f} packets\n" + format_summary(out))
    return out, text


def placement(exp: "Experiment", chip: Any, strategy: str) -> Any:
    """The network the method deploys (with its initial weights), placed on `chip`."""
    graph = build_trainer(exp, runs.datasets(exp)[0]).to_nir()
    graph.metadata["name"] = exp.name
    return dp.deploy(graph, chip, strategy, exp.seed, given=exp.mapping.placement or None).placement


def export(exp: "Experiment", run: Path, output: str, dt: float, discretisation: str) -> str:
    """The graph the method writes of its checkpoint (its own dt and discretisation: `dt` and
    `discretisation` are SSNN-BP's); the line that says what was written."""
    from ..nir import write_nir

    train_set, _ = runs.datasets(exp)
    r = OffChipRun(exp, train_set, run)
    r.restore(run)
    graph = r.trainer.to_nir()
    path = write_nir(output, graph)
    meta = graph.metadata if isinstance(graph.metadata, dict) else {}
    return (f"wrote {path}: {exp.name} ({exp.method}, after epoch {r.epoch}; {len(graph.nodes)} nodes), "
            f"dt = {meta.get('dt', '?')} s, {meta.get('discretisation', '?')} (as {exp.method} writes it)")


def study_point(exp: "Experiment", run_dir: str | None) -> tuple[dict, list, Any]:
    """One sweep point: train (resuming a checkpoint in `run_dir`), then the inference figures."""
    train_set, test_set = runs.datasets(exp)
    t0 = time.perf_counter()

    def epoch(run: OffChipRun) -> None:
        run.train_epoch(train_set, progress=False)
        run.finish_epoch(test_set)

    def after(run: OffChipRun) -> None:
        if run.last_timing is None:  # resumed after its last epoch: the same mesh replay
            run.replay(test_set)

    run = runs.train_quietly(exp, run_dir, lambda: OffChipRun(exp, train_set, run_dir), epoch, after)
    last = run.results[-1]
    out = {"accuracy": last["test_acc"], "chip_accuracy": last["chip_test_acc"], "train_acc": last["train_acc"],
           "epochs": exp.train.epochs, "seconds": time.perf_counter() - t0, "samples_per_s": last["samples_per_s"],
           "cores_used": last["cores_used"]}
    return out, [("inference", "infer_", last["infer_counters"], last["infer_cost"], run.last_timing)], exp.chip
