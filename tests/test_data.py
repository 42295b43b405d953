"""IDX reader/writer and named datasets: round trips, malformed files, missing-data errors, splits."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurocore.data import Dataset, load_dataset, read_idx, read_idx_pair, stratified_split, subset, write_idx
from neurocore.data.datasets import FASHION_MNIST_DIR
from neurocore.errors import DataError

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(0, 6), min_size=1, max_size=4), dtype=st.sampled_from(DTYPES),
       gz=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_idx_round_trip(tmp_path_factory, shape, dtype, gz, seed):
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal(shape) * 100).astype(dtype)
    path = tmp_path_factory.mktemp("idx") / ("a.idx.gz" if gz else "a.idx")
    write_idx(path, a)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == gz
    b = read_idx(path)
    assert b.dtype == a.dtype and b.shape == a.shape
    np.testing.assert_array_equal(a, b)


def test_gzip_detected_by_magic_not_name(tmp_path):
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    plain_named_gz = tmp_path / "x-idx3-ubyte.gz"
    write_idx(tmp_path / "plain", a)
    plain_named_gz.write_bytes((tmp_path / "plain").read_bytes())
    np.testing.assert_array_equal(read_idx(plain_named_gz), a)
    gz_named_plain = tmp_path / "y-idx3-ubyte"
    gz_named_plain.write_bytes(gzip.compress((tmp_path / "plain").read_bytes()))
    np.testing.assert_array_equal(read_idx(gz_named_plain), a)


def test_known_header_bytes(tmp_path):
    p = write_idx(tmp_path / "l", np.array([1, 2, 3], dtype=np.uint8))
    assert p.read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3])


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_file(tmp_path, gz):
    whole = tmp_path / "whole"
    write_idx(whole, np.zeros((5, 4, 4), dtype=np.uint8))
    raw = whole.read_bytes()[:-7]
    bad = tmp_path / ("cut-idx3-ubyte.gz" if gz else "cut-idx3-ubyte")
    bad.write_bytes(gzip.compress(raw) if gz else raw)
    with pytest.raises(DataError, match="truncated") as exc:
        read_idx(bad)
    msg = str(exc.value)
    assert str(bad) in msg and "expected 96 bytes" in msg and "found 89" in msg


def test_truncated_gzip_stream(tmp_path):
    write_idx(tmp_path / "a.gz", np.arange(1000, dtype=np.int32))
    bad = tmp_path / "cut.gz"
    bad.write_bytes((tmp_path / "a.gz").read_bytes()[:-20])
    with pytest.raises(DataError, match="truncated gzip") as exc:
        read_idx(bad)
    assert str(bad) in str(exc.value)


@pytest.mark.parametrize("head", [b"\x12\x34\x08\x03", b"\x00\x00\x07\x01", b"\x00\x00\x08\x00", b"PK\x03\x04"])
def test_bad_magic(tmp_path, head):
    bad = tmp_path / "bad-idx1-ubyte"
    bad.write_bytes(head + bytes(16))
    with pytest.raises(DataError, match="bad magic number") as exc:
        read_idx(bad)
    assert str(bad) in str(exc.value)


def test_trailing_bytes(tmp_path):
    p = write_idx(tmp_path / "x", np.zeros(4, dtype=np.uint8))
    p.write_bytes(p.read_bytes() + b"\x00\x00")
    with pytest.raises(DataError, match="2 unexpected bytes"):
        read_idx(p)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found") as exc:
        read_idx(tmp_path / "nope.gz")
    assert "nope.gz" in str(exc.value)


def test_count_mismatch(tmp_path):
    imgs = write_idx(tmp_path / "i", np.zeros((5, 2, 2), dtype=np.uint8))
    labs = write_idx(tmp_path / "l", np.zeros(4, dtype=np.uint8))
    with pytest.raises(DataError, match="5 images") as exc:
        read_idx_pair(imgs, labs)
    assert str(imgs) in str(exc.value) and str(labs) in str(exc.value) and "4 labels" in str(exc.value)


def _idx_folder(folder: Path, n_train=30, n_test=10, gz=True, n_classes=4, shape=(3, 5)):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    sfx = ".gz" if gz else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte{sfx}", rng.integers(0, 256, (n, *shape), dtype=np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{sfx}", (np.arange(n) % n_classes).astype(np.uint8))
    return folder


@pytest.mark.parametrize("gz", [False, True])
def test_idx_folder_dataset(tmp_path, gz):
    folder = _idx_folder(tmp_path / "d", gz=gz)
    raw = read_idx(next(folder.glob("train-images*")))
    tr = load_dataset(f"idx:{folder}", "train")
    te = load_dataset(f"idx:{folder}", "test")
    assert (len(tr), len(te), tr.n_features, tr.n_classes, te.n_classes) == (30, 10, 15, 4, 4)
    assert tr.images.dtype == np.float32 and tr.labels.dtype == np.int64 and tr.image_shape == (3, 5)
    np.testing.assert_allclose(tr.images, raw.reshape(30, -1) / 255, rtol=1e-6)
    assert not tr.images.flags.writeable
    # the same folder through the named loaders
    assert len(load_dataset("mnist", "test", root=folder)) == 10
    assert len(load_dataset("fashion-mnist", "train", root=folder)) == 30


def test_emnist_names_and_orientation(tmp_path):
    folder = tmp_path / "emnist"
    folder.mkdir()
    img = np.arange(2 * 2 * 3, dtype=np.uint8).reshape(2, 2, 3)
    for s in ("train", "test"):
        write_idx(folder / f"emnist-balanced-{s}-images-idx3-ubyte.gz", img)
        write_idx(folder / f"emnist-balanced-{s}-labels-idx1-ubyte.gz", np.array([0, 46], dtype=np.uint8))
    d = load_dataset("emnist-balanced", "test", root=folder)
    assert d.n_classes == 47 and d.image_shape == (3, 2)
    np.testing.assert_allclose(d.images[1], img[1].T.ravel() / 255, rtol=1e-6)


def test_mismatched_dataset_files(tmp_path):
    folder = _idx_folder(tmp_path / "d")
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(9, dtype=np.uint8))
    with pytest.raises(DataError, match="do not match") as exc:
        load_dataset("idx:" + str(folder), "test")
    assert "t10k-labels-idx1-ubyte.gz" in str(exc.value)


def test_missing_dataset_says_where_and_how(tmp_path):
    with pytest.raises(DataError) as exc:
        load_dataset("fashion-mnist", "train", root=tmp_path)
    msg = str(exc.value)
    assert str(tmp_path / "train-images-idx3-ubyte") in msg and "apt-get install dataset-fashion-mnist" in msg
    with pytest.raises(DataError) as exc:
        load_dataset("mnist", "train")
    msg = str(exc.value)
    assert "root" in msg and "train-images-idx3-ubyte" in msg and "t10k-labels-idx1-ubyte" in msg
    with pytest.raises(DataError, match="emnist-balanced-train-images-idx3-ubyte"):
        load_dataset("emnist-balanced", "train")
    with pytest.raises(DataError, match="does not exist"):
        load_dataset("idx:" + str(tmp_path / "nowhere"))


def test_unknown_name_and_split():
    with pytest.raises(DataError) as exc:
        load_dataset("cifar-10")
    for name in ("fashion-mnist", "mnist-5k", "digits", "mnist", "emnist-balanced", "idx:"):
        assert name in str(exc.value)
    with pytest.raises(DataError, match="split"):
        load_dataset("digits", "validation")


def test_digits_split_sizes_and_stratification():
    tr, te = load_dataset("digits", "train"), load_dataset("digits", "test")
    assert (len(tr), len(te), tr.n_features, tr.n_classes) == (1437, 360, 64, 10)
    assert tr.images.min() >= 0 and tr.images.max() == 1
    both = np.concatenate([tr.labels, te.labels])
    share = np.bincount(te.labels, minlength=10) / np.bincount(both, minlength=10)
    assert np.all(np.abs(share - 360 / 1797) < 0.01)
    # train and test together are the whole set, each image once
    from sklearn.datasets import load_digits
    full = (load_digits().data / 16).astype(np.float32)
    allx = np.concatenate([tr.images, te.images])
    assert sorted(r.tobytes() for r in allx) == sorted(r.tobytes() for r in full)
    # deterministic
    np.testing.assert_array_equal(load_dataset("digits", "test").labels, te.labels)


def test_mnist_5k_split():
    tr, te = load_dataset("mnist-5k", "train"), load_dataset("mnist-5k", "test")
    assert (len(tr), len(te), tr.n_features) == (4000, 1000, 784)
    assert np.all(np.bincount(tr.labels) == 400) and np.all(np.bincount(te.labels) == 100)
    assert 0 <= tr.images.min() and tr.images.max() <= 1


@pytest.mark.skipif(not FASHION_MNIST_DIR.is_dir(), reason="dataset-fashion-mnist not installed")
def test_fashion_mnist_installed():
    te = load_dataset("fashion-mnist", "test")
    assert (len(te), te.n_features, te.n_classes) == (10000, 784, 10)
    assert np.all(np.bincount(te.labels) == 1000)


@settings(max_examples=30, deadline=None)
@given(counts=st.lists(st.integers(1, 40), min_size=1, max_size=6), frac=st.floats(0.05, 0.95),
       seed=st.integers(0, 1000))
def test_stratified_split_invariants(counts, frac, seed):
    labels = np.repeat(np.arange(len(counts)), counts)
    n_take = max(1, int(frac * labels.size))
    take, rest = stratified_split(labels, n_take, seed)
    assert len(take) == n_take and len(rest) == labels.size - n_take
    assert sorted(np.concatenate([take, rest]).tolist()) == list(range(labels.size))
    expect = np.array(counts) * n_take / labels.size
    assert np.all(np.abs(np.bincount(labels[take], minlength=len(counts)) - expect) < 1)
    t2, _ = stratified_split(labels, n_take, seed)
    np.testing.assert_array_equal(take, t2)


def test_subset():
    tr = load_dataset("digits")
    s = subset(tr, 100, seed=3)
    assert len(s) == 100 and s.n_classes == 10 and s.name == "digits"
    assert np.all(np.abs(np.bincount(s.labels, minlength=10) - 10) <= 1)
    np.testing.assert_array_equal(subset(tr, 100, seed=3).images, s.images)
    assert not np.array_equal(subset(tr, 100, seed=4).labels, s.labels)
    assert len(subset(tr, 50, seed=1, stratified=False)) == 50
    with pytest.raises(DataError):
        subset(tr, 5000)


def test_dataset_validates():
    with pytest.raises(DataError):
        Dataset(images=np.zeros((3, 2)), labels=np.array([0, 1, 5]), n_classes=3, name="x")
    with pytest.raises(DataError):
        Dataset(images=np.zeros((3, 2)), labels=np.array([0, 1]), n_classes=3, name="x")


def test_dataset_freezes_its_own_copy():
    images, labels = np.zeros((3, 2), np.float32), np.array([0, 1, 2])
    d = Dataset(images=images, labels=labels, n_classes=3, name="x")
    assert images.flags.writeable and labels.flags.writeable
    assert not d.images.flags.writeable and not d.labels.flags.writeable
    with pytest.raises(ValueError):
        d.images[0, 0] = 1
