"""Datasets: IDX files (MNIST, Fashion-MNIST, EMNIST) and bundled small sets. Images become spikes
on the chip itself: its sources draw them (`neurocore.engine.SourceDrive`, `neurocore.spikegen`)."""

from .datasets import KNOWN_NAMES, Dataset, load_dataset, stratified_split, subset
from .idx import read_idx, read_idx_pair, write_idx

__all__ = ["Dataset", "KNOWN_NAMES", "load_dataset", "read_idx", "read_idx_pair", "stratified_split",
           "subset", "write_idx"]
