"""Training methods beside the chip's own SSNN-BP: off-chip trainers whose networks are deployed on the chip.

- `lee2020`: spike-based backpropagation with the leak-corrected approximate derivative of Lee,
  Sarwar, Panda, Srinivasan and Roy (2020), in PyTorch (the optional extra ``neurocore[lee2020]``).
- `bats`: exact event-based gradients through multiple spikes per neuron (Bacho and Chu), an
  event-driven continuous-time simulator in numba.

Each method package imports its heavy libraries inside itself; importing this package costs nothing.
"""
