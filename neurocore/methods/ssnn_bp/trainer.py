"""Training and inference of SSNN-BP on the simulated chip, with checkpoints and results.

The run folder (`neurocore.runs`): `checkpoint.npz` holds the device weights and biases,
epoch, position in the epoch and results so far; `results.json` per epoch the accuracies,
seconds, the counters the cost model needs and the cost per sample of training and of
inference. Every random draw derives from (seed, epoch, sample index), so a resumed run ends
bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from ... import runs
from ...data import Dataset
from ...engine import Engine, SourceDrive
from ...errors import ConfigError, NeurocoreError
from ...experiment import Experiment, experiment_text
from .netlist import build_ssnn, hidden_names, init_weights, weight_names
from ...mapping import given_placement, place
from ...runs import CHECKPOINT, RESULTS, read_checkpoint  # noqa: F401  (the run folder's names, as before)
from ...simulate import latency_replay, predictions, warm_up

if TYPE_CHECKING:
    from ...cost import TimingResult

COUNTERS = "counters."  # prefix of the engine's counters in a checkpoint


def require_ssnn(exp: Experiment) -> None:
    """Refuse an experiment whose method is not SSNN-BP (this module trains SSNN-BP only)."""
    if exp.method != "ssnn-bp":
        raise ConfigError(f"= {exp.method!r}: this needs an SSNN-BP experiment (method = \"ssnn-bp\")", exp.source,
                          "method")


def load_data(exp: Experiment) -> tuple[Dataset, Dataset]:
    """The training and test sets of an SSNN-BP experiment, checked against its [net]."""
    require_ssnn(exp)
    train, test = runs.datasets(exp)
    if train.n_features != exp.net.inputs or train.n_classes > exp.net.classes:
        raise ConfigError(f"dataset '{exp.data.dataset}' has {train.n_features} features and {train.n_classes} "
                          f"classes but [net] has inputs = {exp.net.inputs}, classes = {exp.net.classes}",
                          exp.source, "net.inputs")
    return train, test


def drive_for(exp: Experiment, images: np.ndarray, labels: np.ndarray | None) -> SourceDrive:
    """Source spike probabilities: front-loaded input (mean rate input_rate * pixel), flat target train."""
    rates = {"input": np.clip(images * exp.net.input_rate, 0.0, 1.0).astype(np.float32)}
    profile = {"input": "frontloaded"}
    if labels is not None:
        t = np.zeros((len(labels), exp.net.classes), np.float32)
        t[np.arange(len(labels)), labels] = exp.net.target_rate
        rates["label"] = t
        profile["label"] = "flat"
    return SourceDrive(rates, profile)


class Trainer:
    """Owns the training engine (plastic crossbars) and an inference engine (forward only)."""

    def __init__(self, exp: Experiment, run_dir: str | Path | None = None):
        require_ssnn(exp)
        self.exp = exp
        self.tracing = bool(getattr(exp.trace, "enabled", False))
        self.recorder = None  # set by open_trace()
        self.run_dir = Path(run_dir) if run_dir else None
        ts = exp.train.ts
        rng = np.random.default_rng([exp.seed, 1])
        weights = init_weights(exp.net, rng)
        self.chip = exp.chip if exp.train.lr == 0 else dataclasses.replace(
            exp.chip, device=dataclasses.replace(exp.chip.device, dw_min=exp.train.lr / ts))
        net = build_ssnn(exp.net, ts, weights, train=True)
        if self.tracing:
            from ...recording import add_selected_probes
            add_selected_probes(net, exp.trace)
        train_chip = self.chip
        if self.chip.precision.arithmetic == "loihi":  # Loihi's integers for inference; training (gates,
            # transposed reads) runs the neurons in float32, its synapses as [precision] says
            train_chip = dataclasses.replace(self.chip, precision=dataclasses.replace(self.chip.precision,
                                                                                      arithmetic="float32"))
        given = exp.mapping.placement or None  # a placement file pins the training netlist's slices
        self.engine = Engine(place(net, train_chip, exp.mapping.strategy, given=given), seed=exp.seed)
        infer_net = build_ssnn(exp.net, ts, weights, train=False)
        if self.chip.precision.arithmetic == "loihi":
            from ...loihi import scale_for_loihi
            scale_for_loihi(infer_net)
        infer_pl = (given_placement(infer_net, self.chip, given, others=True) if given  # its forward part
                    else place(infer_net, self.chip, exp.mapping.strategy))
        self.infer_engine = Engine(infer_pl, seed=exp.seed + 7919)
        self.epoch = 0
        self.position = 0
        self.results: list[dict] = []
        self._correct = 0
        self._seen = 0
        self._train_seconds = 0.0
        self._counters_restored = False  # the epoch's counters came back with a checkpoint
        self._warm = False
        self.last_timing: dict = {}  # phase -> TimingResult of the last finish_epoch

    def warm_up(self, notice: bool = True) -> None:
        """Compile (or load from numba's cache) the engine kernels with one sample on the forward-only
        engine, which keeps no state from it, so compile time stays out of every timed call.
        A slow (compiling) call says so on stderr (whatever goes to stdout), unless not `notice`."""
        if self._warm:
            return
        drive = drive_for(self.exp, np.zeros((1, self.exp.net.inputs), np.float32), None)

        def first_call() -> None:
            res = self.infer_engine.run(drive, self.exp.train.ts, readout=["output"], record=self.tracing)
            if self.tracing:
                res.spikes("output", 0)  # the kernel that sorts recorded spikes by population

        warm_up(first_call, quiet=not notice)
        self._warm = True

    def open_trace(self, path: str | Path | None = None) -> Path | None:
        """Start writing the experiment's trace (if it asks for one); returns its path."""
        if not self.tracing:
            return None
        from ...recording import Recorder
        path = Path(path) if path else runs.trace_file(self.exp, self.run_dir, self.epoch, self.position)
        meta = {"experiment_toml": experiment_text(self.exp), "seed": self.exp.seed, "chip": self.chip.name,
                "run": self.exp.name}
        if self.run_dir is not None:
            meta["run_dir"] = str(self.run_dir.resolve())
        self.recorder = Recorder(self.engine, self.exp.trace, path, meta)
        return path

    def close_trace(self) -> None:
        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None

    # -- state -------------------------------------------------------------------------
    def state(self) -> dict:
        """What a checkpoint holds: the chip's state, the position, the results so far and the running counts of
        the epoch (accuracy, seconds, and the engine's counters, so a row after a resume counts every sample)."""
        return {**self.engine.state(), "epoch": self.epoch, "position": self.position,
                "results": json.dumps(self.results), "correct": self._correct, "seen": self._seen,
                "train_seconds": self._train_seconds,
                **{COUNTERS + k: v for k, v in self.engine.counter_state().items()}}

    def save(self) -> Path | None:
        """Write the checkpoint atomically (a crash mid-write keeps the previous one)."""
        return None if self.run_dir is None else runs.save_checkpoint(self.run_dir, self.state(), self.exp)

    def restore(self, path: str | Path) -> None:
        """Load a checkpoint (a file, or a run folder holding one); a file that is not one written for this
        experiment is a NeurocoreError saying what is wrong, and nothing is changed. A checkpoint written
        before checkpoints held the epoch's counters resumes with them counted from the resume on."""
        expected = self.engine.state()
        layout = {COUNTERS + k: v for k, v in self.engine.counter_state().items()}
        z = read_checkpoint(runs.checkpoint_path(path), expected, optional_prefix=COUNTERS)
        counters = {k[len(COUNTERS):]: z[k] for k in layout if k in z}
        for k, v in counters.items():
            want = layout[COUNTERS + k]
            if v.shape != want.shape or v.dtype.kind not in "iu" or (v < 0).any():
                raise NeurocoreError(f"{runs.checkpoint_path(path)}: not a usable checkpoint: counter '{k}' "
                                          f"is {v.dtype} {v.shape}, this experiment's chip needs {want.dtype} "
                                          f"{want.shape} of counts >= 0")
        self.engine.load_state({k: z[k] for k in expected})
        if counters:
            self.engine.load_counter_state(counters)
        self.epoch, self.position = int(z["epoch"]), int(z["position"])
        self.results = z["results"]
        self._correct, self._seen = int(z["correct"]), int(z["seen"])
        self._train_seconds = float(z["train_seconds"])
        self._counters_restored = bool(counters)

    def _set_epoch_steps(self, epoch: int) -> None:
        self.engine.scale_steps(self.exp.train.lr_decay ** epoch)

    # -- training ----------------------------------------------------------------------
    def train_epoch(self, train: Dataset, progress: bool = True,
                    on_batch: Callable[[int, object], None] | None = None) -> None:
        """Train from the current position to the end of the current epoch."""
        exp, n = self.exp, len(train)
        order = np.random.default_rng([exp.seed, 2, self.epoch]).permutation(n)
        self._set_epoch_steps(self.epoch)
        if self.position == 0:
            self.engine.reset_counters()
            self._correct = self._seen = 0
            self._train_seconds = 0.0
        self.warm_up()  # before the bar starts: its samples/s leave compile time out
        with runs.epoch_progress(self.epoch, exp.train.epochs, n, self.position, progress) as (bar, stop_if_asked):
            while self.position < n:
                stop_if_asked()
                take = min(exp.train.batch, n - self.position)
                first = self.epoch * n + self.position
                traced = self.recorder is not None and self.recorder.wants(first)
                if self.recorder is not None:  # a traced sample runs alone, so its counters are its own
                    take = 1 if traced else next((k for k in range(1, take) if self.recorder.wants(first + k)), take)
                idx = order[self.position:self.position + take]
                per_tick = traced and self.recorder.per_tick
                before = self.engine.counter_state() if per_tick else None
                t0 = time.perf_counter()
                res = self.engine.run(drive_for(exp, train.images[idx], train.labels[idx]), exp.train.ts,
                                      sample_ids=first + np.arange(len(idx)), learn=exp.train.update,
                                      dropout=True, noise_scale=exp.train.noise_scale,
                                      readout=["output"],
                                      defer_writes=exp.train.defer_writes,
                                      record=traced, probes=traced,
                                      traffic="per_tick" if traced and self.recorder.per_tick else "sum")
                self._train_seconds += time.perf_counter() - t0
                if before is not None:
                    self._keep_counts(before)
                if traced:
                    self.recorder.record(first, res)
                self._correct += int((predictions(res.counts["output"]) == train.labels[idx]).sum())
                self._seen += len(idx)
                self.position += len(idx)
                bar.update(len(idx))
                bar.set_postfix(train_acc=f"{self._correct / self._seen:.3f}")
                if on_batch is not None:
                    on_batch(self.position, res)

    def _keep_counts(self, before: dict) -> None:
        """After a run with per-tick counters (a traced sample), which restarts the engine's counters: add back
        what they held before it, so that the epoch's row counts every sample."""
        now = self.engine.counter_state()
        if int(now["samples"]) < int(before["samples"]) + 1:
            self.engine.load_counter_state({k: before[k] + now[k] for k in now})

    def evaluate(self, data: Dataset, progress: bool = False) -> tuple[float, dict]:
        """Test accuracy of the current weights on the forward-only network, and its counters."""
        from tqdm.auto import tqdm

        for wn in weight_names(self.exp.net):
            self.infer_engine.set_weights(wn, self.engine.weights(wn))
        self.infer_engine.reset_counters()
        correct = 0
        b = self.exp.train.eval_batch
        threads = self.exp.train.eval_threads or os.cpu_count() or 1
        bar = tqdm(total=len(data), disable=not progress, desc="test", unit="sample", leave=False,
                   file=sys.stderr, dynamic_ncols=True)
        for s in range(0, len(data), b):
            sl = slice(s, s + b)
            res = self.infer_engine.run(drive_for(self.exp, data.images[sl], None), self.exp.train.ts,
                                        sample_ids=np.arange(s, min(s + b, len(data))), readout=["output"],
                                        threads=threads)
            correct += int((predictions(res.counts["output"]) == data.labels[sl]).sum())
            bar.update(min(s + b, len(data)) - s)
        bar.close()
        return correct / len(data), self.infer_engine.counters()

    def timing(self, data: Dataset, phase: str, n: int | None = None) -> "TimingResult":
        """Tick latency of the first `n` samples of `data` (default TIMING_SAMPLES), each run alone with
        per-tick counters and replayed on the mesh (`neurocore.cost.replay_samples`). "inference" runs
        the forward network with its current weights (call `evaluate` first); "training" runs the
        training network with learning on and restores its weights and biases afterwards."""
        if phase not in ("inference", "training"):
            raise ValueError(f"phase = {phase!r}; allowed: inference, training")
        exp, ts = self.exp, self.exp.train.ts
        eng = self.infer_engine if phase == "inference" else self.engine
        saved = eng.state() if phase == "training" else None

        def run_one(i: int):
            one = slice(i, i + 1)
            if phase == "inference":
                return eng.run(drive_for(exp, data.images[one], None), ts, sample_ids=[i], traffic="per_tick")
            return eng.run(drive_for(exp, data.images[one], data.labels[one]), ts, sample_ids=[i],
                           learn=exp.train.update, dropout=True, noise_scale=exp.train.noise_scale,
                           defer_writes=exp.train.defer_writes, traffic="per_tick")

        try:
            return latency_replay(run_one, len(data), self.chip, eng.placement, n)
        finally:
            if saved is not None:
                eng.load_state(saved)

    def replay(self, test: Dataset, train: Dataset | None = None, evaluated: bool = False) -> dict:
        """The mesh replay of the current weights (`timing` of both phases, training samples from `train`, or
        from `test` if not given), kept as `last_timing`. `finish_epoch` runs it after testing; a run restored
        from a checkpoint written after its last epoch runs it again to get the same figures (the replay is
        not kept in the checkpoint). `evaluated`: the inference engine already holds the weights."""
        if not evaluated:
            for wn in weight_names(self.exp.net):
                self.infer_engine.set_weights(wn, self.engine.weights(wn))
            self._set_epoch_steps(max(self.epoch - 1, 0))  # the step size of the epoch that wrote these weights
        self.last_timing = {"inference": self.timing(test, "inference"),
                            "training": self.timing(train if train is not None else test, "training")}
        return self.last_timing

    def finish_epoch(self, test: Dataset, progress: bool = False, train: Dataset | None = None) -> dict:
        """Evaluate on `test`, cost the epoch and append its results row. Energy per sample comes from
        every sample of the epoch (training) and of the test set (inference); tick latency from a
        replay of a few samples of each (training ones from `train`, or from `test` if not given)."""
        from ...cost import cost_record, cost_summary

        t0 = time.perf_counter()
        acc, infer_counters = self.evaluate(test, progress)
        eval_seconds = time.perf_counter() - t0
        c = self.engine.counters()
        n = max(self._seen, 1)
        train_record = cost_record(c, self.engine.placement)
        infer_record = cost_record(infer_counters, self.infer_engine.placement)
        self.replay(test, train, evaluated=True)
        row = {"epoch": self.epoch + 1, "train_acc": self._correct / n, "test_acc": acc,
               "train_seconds": self._train_seconds, "eval_seconds": eval_seconds,
               "samples_per_s": self._seen / max(self._train_seconds, 1e-9),
               "train_cost": cost_summary(train_record, self.chip, "training", self.last_timing["training"]),
               "infer_cost": cost_summary(infer_record, self.chip, "inference", self.last_timing["inference"]),
               "train_counters": train_record, "infer_counters": infer_record,
               "hidden_active": self._hidden_active(c)}
        self.results.append(row)
        if self.recorder is not None:
            self.recorder.counters(f"epoch{self.epoch + 1}", {k: v for k, v in train_record.items()
                                                              if np.ndim(v) == 0})
            self.recorder.snapshot(f"epoch{self.epoch + 1}", weight_names(self.exp.net))
            self.recorder.writer.flush()
        self.epoch += 1
        self.position = 0
        return row

    def _hidden_active(self, c: dict) -> float:
        """Spikes per hidden neuron per training sample (dead-neuron watch)."""
        hid = hidden_names(self.exp.net)
        size = sum(self.engine.placement.netlist.populations[p].size for p in hid)
        return sum(c["pop_spikes"][p] for p in hid) / max(size * max(c["samples"], 1), 1)

    def write_results(self) -> None:
        runs.write_results(self.run_dir, self.exp.name, self.results, f"SSNN-BP on chip: {self.exp.name}")


def train(exp: Experiment, run_dir: str | Path | None, *, resume: bool = False, overwrite: bool = False,
          progress: bool = True, log: Callable[[str], None] = print) -> list[dict]:
    """Train an experiment to its last epoch; checkpoint after each epoch and on Ctrl-C. The run folder is
    locked while it runs and checked first (`neurocore.runfolder`): another run's folder is refused unless
    `overwrite`, and `resume` refuses settings that change what already ran."""
    train_set, test_set = load_data(exp)
    with runs.held(run_dir, exp, resume, overwrite, log):
        tr = Trainer(exp, run_dir)
        runs.begin(tr, exp, run_dir, len(train_set), resume, log)
        # a resumed run starts a trace file of its own: the first one stays as it was
        trace = tr.open_trace(runs.trace_file(exp, run_dir, tr.epoch, tr.position)) if tr.tracing else None
        try:
            if run_dir is not None:
                runs.write_experiment(run_dir, exp)
            if trace is not None:
                log(f"writing spike trace to {trace}")
            _train_epochs(tr, exp, train_set, test_set, progress, log)
        finally:
            tr.close_trace()
    return tr.results


def _train_epochs(tr: Trainer, exp: Experiment, train_set: Dataset, test_set: Dataset, progress: bool,
                  log: Callable[[str], None]) -> None:
    from ...cost import format_summary

    try:
        while tr.epoch < exp.train.epochs:
            tr.train_epoch(train_set, progress)
            row = tr.finish_epoch(test_set, progress, train=train_set)  # a bar over the test set too
            log(f"epoch {row['epoch']}: train {100 * row['train_acc']:.2f} %, test {100 * row['test_acc']:.2f} %, "
                f"{row['train_seconds']:.1f} s ({row['samples_per_s']:.0f} samples/s)\n"
                + "\n".join(format_summary(row[k], indent="  ") for k in ("train_cost", "infer_cost")))
            tr.save()
            tr.write_results()
    except KeyboardInterrupt:
        runs.save_interrupted(tr, log)
        raise
