"""Train SSNN-BP from Python: load an experiment, change it, train, evaluate, look at the crossbar.

Run: python examples/train_in_python.py   (about ten seconds: scikit-learn's 8x8 digits)
"""

from neurocore.experiment import load_experiment
from neurocore.methods.ssnn_bp.trainer import Trainer, load_data

exp = load_experiment("digits", {"train.epochs": 2, "train.update": "coincidence"})
train_set, test_set = load_data(exp)
tr = Trainer(exp, run_dir=None)                  # no run folder: nothing written
for _ in range(exp.train.epochs):
    tr.train_epoch(train_set, progress=True)
    row = tr.finish_epoch(test_set)
    print(f"epoch {row['epoch']}: test {100 * row['test_acc']:.1f} %, "
          f"{row['train_counters']['write_pulses']} write pulses")

w = tr.engine.weights("hidden_output")           # device weights of the output crossbar (pre x post)
print("output crossbar:", w.shape, "min", w.min().round(3), "max", w.max().round(3))
acc, counters = tr.evaluate(test_set)
print(f"test accuracy {100 * acc:.1f} %; per test sample {counters['syn_events'] / len(test_set):.0f} "
      f"synaptic events, {counters['packets'] / len(test_set):.0f} packets")
