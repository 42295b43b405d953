"""Training methods beside the chip's own SSNN-BP: each trains off the chip, then deploys on it."""
