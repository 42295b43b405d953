"""Benchmarks: `neurocore bench NAME` prints figures, `--json` one JSON object of them.

Each benchmark is a module here with `add_arguments(parser)` and `run(args) -> dict`.
"""

BENCHMARKS = ("engine", "bare", "conv", "sparse", "product", "epoch", "trace", "sweep", "gradcheck", "bats")
