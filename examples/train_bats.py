"""Train a BATS network (exact gradients through every spike, event-based, numba) from a preset,
evaluate it after every epoch, and export it to NIR for the chip.

Run: python examples/train_bats.py bats_digits 3      (seconds)
     python examples/train_bats.py bats_fmnist 3      (a few minutes per epoch)

(`neurocore train bats_quick` runs the same method through the shared loop: run folder, checkpoint,
resume, and a test on the chip after every epoch.)
"""

import sys

from neurocore.config import load_toml
from neurocore.data import load_dataset
from neurocore.methods.bats import BatsTrainer, specs_from_tables, train_epoch
from neurocore.resolve import model_file

path = model_file("experiments", sys.argv[1] if len(sys.argv) > 1 else "bats_digits")
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
tables = load_toml(path)
net, train = specs_from_tables(tables["net"], tables["train"], str(path))
train_set = load_dataset(tables["data"]["dataset"], "train")
test_set = load_dataset(tables["data"]["dataset"], "test")
trainer = BatsTrainer(net, train, tables.get("seed", 0), train_set.n_classes, train_set.n_features)
for epoch in range(epochs):
    run = train_epoch(trainer, train_set, epoch)
    res = trainer.evaluate(test_set.images, test_set.labels)
    print(f"epoch {epoch + 1}: {run['seconds']:.1f} s, train {100 * run['train_acc']:.2f} %, "
          f"test {100 * res['accuracy']:.2f} %, spikes per sample {[round(s) for s in res['spikes_per_sample']]}, "
          f"first output spike {1000 * res['time_to_decision']:.1f} ms, dead {[round(d, 3) for d in res['dead_share']]}")

graph = trainer.to_nir()                          # Input -> Linear -> CubaLIF -> ... -> Output
print("NIR nodes:", list(graph.nodes), "reset:", graph.nodes["lif1"].metadata["reset"])
