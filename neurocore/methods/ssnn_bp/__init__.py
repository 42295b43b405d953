"""SSNN-BP (Biswas, Saraswat and Ganguly): the chip's own method, learning in place on the chip.

- `netlist`: the `[net]` and `[train]` tables (SSNNSpec, TrainSpec) and the training netlist
  (composite neurons, output error, WTA, gates, dropout, plastic crossbars);
- `trainer`: Trainer (training and inference engines, checkpoints, results) and `train`;
- `equivalent`: the rate-equivalent ANN (a diagnostic and a fast trainer for hyperparameters);
- `export`: `forward_netlist`, the forward net of a trained run, and its NIR file;
- `protocol`: the method protocol the commands call (`neurocore.methods`).
"""
