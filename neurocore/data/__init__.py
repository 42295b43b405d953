"""Datasets (IDX files, bundled small sets) and input spike encoding.

`neurocore.data.encoding` (numba kernels) is imported on its own so that loading data stays light.
"""

from .datasets import KNOWN_NAMES, Dataset, load_dataset, stratified_split, subset
from .idx import read_idx, read_idx_pair, write_idx

__all__ = ["Dataset", "KNOWN_NAMES", "load_dataset", "read_idx", "read_idx_pair", "stratified_split",
           "subset", "write_idx"]
