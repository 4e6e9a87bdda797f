"""Fashion-MNIST loading: every source, the splits, and every failure path."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from course_utils.core import data
from course_utils.core.data import DataNotFoundError, load_fashion_mnist

DEBIAN = data.DEBIAN_DIR
FILES = sorted(data._FILES.values())


@pytest.fixture(scope="module")
def full():
    return load_fashion_mnist()


def test_debian_package_is_installed():
    # The course installs the Debian package; the default source must be it.
    assert all((DEBIAN / name).is_file() for name in FILES), (
        "dataset-fashion-mnist is not installed: run `make data`")


def test_splits_shapes_dtypes_and_range(full):
    assert full.X_train.shape == (55_000, 28, 28)
    assert full.X_valid.shape == (5_000, 28, 28)
    assert full.X_test.shape == (10_000, 28, 28)
    for X in (full.X_train, full.X_valid, full.X_test):
        assert X.dtype == np.float32
        assert X.min() == 0.0 and X.max() == 1.0
    for y in (full.y_train, full.y_valid, full.y_test):
        assert y.dtype == np.uint8 and set(np.unique(y)) == set(range(10))
    assert full.class_names[0] == "T-shirt/top" and len(full.class_names) == 10
    # Fashion-MNIST is balanced: 6,000 training and 1,000 test images a class.
    assert np.bincount(full.y_test).tolist() == [1000] * 10
    assert np.bincount(np.concatenate([full.y_train, full.y_valid])).tolist() == [6000] * 10


def test_valid_is_the_last_5000_of_the_official_training_set(full):
    with gzip.open(DEBIAN / "train-labels-idx1-ubyte.gz") as stream:
        labels = np.frombuffer(stream.read(), np.uint8, offset=8)
    np.testing.assert_array_equal(full.y_valid, labels[-5000:])
    np.testing.assert_array_equal(full.y_train, labels[:-5000])
    with gzip.open(DEBIAN / "train-images-idx3-ubyte.gz") as stream:
        first = np.frombuffer(stream.read(784 + 16), np.uint8, offset=16)
    np.testing.assert_allclose(full.X_train[0].ravel(), first / 255.0, rtol=1e-6)


def test_subset_is_seeded_and_never_overlaps_valid(full):
    a = load_fashion_mnist(n_train=1000, n_valid=200, seed=7)
    b = load_fashion_mnist(n_train=1000, n_valid=200, seed=7)
    c = load_fashion_mnist(n_train=1000, seed=8)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)
    assert a.X_train.shape == (1000, 28, 28) and a.X_valid.shape == (200, 28, 28)
    assert a.X_test.shape == (10_000, 28, 28)
    train_rows = {row.tobytes() for row in a.X_train}
    assert not any(row.tobytes() in train_rows for row in full.X_valid)


def test_arrays_are_fresh_copies(full):
    first = load_fashion_mnist(n_train=10)
    first.X_train[:] = -1
    first.y_train[:] = 99
    second = load_fashion_mnist(n_train=10)
    assert second.X_train.min() >= 0 and second.y_train.max() <= 9


@pytest.mark.parametrize("bad", [0, -5, 55_001, 2.5, "100", True])
def test_bad_subset_sizes(bad):
    with pytest.raises(ValueError, match="n_train"):
        load_fashion_mnist(n_train=bad)


def test_env_folder_is_used_first(tmp_path, monkeypatch):
    for name in FILES:
        shutil.copy2(DEBIAN / name, tmp_path / name)
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path))
    loaded = load_fashion_mnist(n_train=5)
    assert str(tmp_path) in loaded.source and "FASHION_MNIST_DIR" in loaded.source


def test_broken_env_folder_is_an_error_not_a_silent_fallback(tmp_path, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path))  # empty folder
    with pytest.raises(DataNotFoundError) as info:
        load_fashion_mnist()
    message = str(info.value)
    assert "lacks" in message and "apt-get install dataset-fashion-mnist" in message


def _copy_with(tmp_path: Path, name: str, content: bytes) -> Path:
    for other in FILES:
        shutil.copy2(DEBIAN / other, tmp_path / other)
    (tmp_path / name).write_bytes(content)
    return tmp_path


@pytest.mark.parametrize("case, content, expected", [
    ("not gzip", b"this is not a gzip file", "not a valid gzip file"),
    ("empty", b"", "expected an IDX file"),
    ("bad magic", gzip.compress(b"\x12\x34\x08\x01" + b"\x00" * 12), "expected an IDX file"),
    ("truncated", gzip.compress(b"\x00\x00\x08\x01" + (10_000).to_bytes(4, "big") + b"\x01" * 10),
     "corrupt or truncated"),
])
def test_corrupt_files_give_one_clear_message(tmp_path, case, content, expected):
    folder = _copy_with(tmp_path, "t10k-labels-idx1-ubyte.gz", content)
    with pytest.raises(DataNotFoundError) as info:
        load_fashion_mnist(data_dir=folder)
    assert expected in str(info.value)
    assert "To get Fashion-MNIST" in str(info.value)


def test_wrong_sizes_are_rejected(tmp_path):
    labels = gzip.compress(b"\x00\x00\x08\x01" + (3).to_bytes(4, "big") + b"\x01\x02\x03")
    folder = _copy_with(tmp_path, "t10k-labels-idx1-ubyte.gz", labels)
    with pytest.raises(DataNotFoundError, match="Unexpected Fashion-MNIST shapes"):
        load_fashion_mnist(data_dir=folder)


def test_no_source_at_all_says_how_to_get_the_data(monkeypatch):
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    with pytest.raises(DataNotFoundError) as info:
        load_fashion_mnist(sources=("env",))
    assert "FASHION_MNIST_DIR: not set" in str(info.value)
    assert "apt-get install dataset-fashion-mnist" in str(info.value)


def test_unknown_source_is_rejected():
    with pytest.raises(ValueError, match="sources"):
        load_fashion_mnist(sources=("internet",))


def _run_keras_source(keras_home: Path) -> subprocess.CompletedProcess:
    code = ("from course_utils.core.data import load_fashion_mnist\n"
            "d = load_fashion_mnist(n_train=3, sources=('keras',))\n"
            "print(d.source, d.X_train.shape, d.X_test.shape)\n")
    env = dict(os.environ, KERAS_HOME=str(keras_home))
    env.pop("FASHION_MNIST_DIR", None)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120)


def test_keras_cache_source(tmp_path):
    cache = tmp_path / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    for name in FILES:
        shutil.copy2(DEBIAN / name, cache / name)
    result = _run_keras_source(tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "keras.datasets.fashion_mnist (3, 28, 28) (10000, 28, 28)" in result.stdout


def test_corrupt_keras_cache_gives_the_clear_message(tmp_path):
    cache = tmp_path / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    for name in FILES:
        (cache / name).write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x05abc"))
    result = _run_keras_source(tmp_path)
    assert result.returncode != 0
    assert "DataNotFoundError" in result.stderr and "To get Fashion-MNIST" in result.stderr


def test_find_source_returns_the_folder_as_data_not_as_a_sentence(tmp_path, monkeypatch):
    from course_utils.core import data

    for name in FILES:
        shutil.copy2(DEBIAN / name, tmp_path / name)
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path))
    source = data.find_source(("env",))
    assert source == data.DataSource("env", tmp_path)
    assert source.folder == tmp_path
    assert str(source) == f"$FASHION_MNIST_DIR ({tmp_path})"
    assert str(data.DataSource("keras")) == "keras.datasets.fashion_mnist"
    assert data.DataSource("keras").folder is None
