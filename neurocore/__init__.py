"""neurocore: a simulated neuromorphic chip with on-chip spike-based learning."""

__version__ = "0.1.0"
