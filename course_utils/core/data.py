"""Fashion-MNIST: finding the files, loading them, and the course's splits.

The data is never downloaded silently from somewhere unexpected and never
replaced by a stand-in. The loader looks, in this order, at

1. the folder in ``$FASHION_MNIST_DIR`` (if that variable is set),
2. the Debian package ``dataset-fashion-mnist``
   (``/usr/share/datasets/fashion-mnist``),
3. Keras' own ``keras.datasets.fashion_mnist.load_data()`` (its cache under
   ``$KERAS_HOME``, or a download).

If none of them works it raises :class:`DataNotFoundError`, whose message says
how to get the data.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from course_utils.core.validation import check_integer

__all__ = ["CLASS_NAMES", "FashionMNIST", "DataNotFoundError", "load_fashion_mnist"]

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
ENV_VAR = "FASHION_MNIST_DIR"
SOURCES = ("env", "debian", "keras")

_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
_N_TRAIN_FULL, _N_TEST, _N_VALID = 60_000, 10_000, 5_000

HOW_TO_GET_THE_DATA = (
    "To get Fashion-MNIST, do one of:\n"
    "  * on Debian or Ubuntu: sudo apt-get install dataset-fashion-mnist\n"
    "    (files in /usr/share/datasets/fashion-mnist/);\n"
    "  * with internet access: python -c \"import keras; "
    "keras.datasets.fashion_mnist.load_data()\" (cached under $KERAS_HOME);\n"
    "  * put the four files train-images-idx3-ubyte.gz, "
    "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
    "t10k-labels-idx1-ubyte.gz in a folder and set FASHION_MNIST_DIR to it.\n"
    "`make data` (or `course data ensure`) tries the first two for you."
)


class DataNotFoundError(FileNotFoundError):
    """Raised when Fashion-MNIST cannot be found or its files are unreadable."""


@dataclasses.dataclass(frozen=True)
class FashionMNIST:
    """The course's three splits of Fashion-MNIST.

    Images are float32 arrays of shape ``(n, 28, 28)`` scaled to [0, 1];
    labels are uint8 arrays of shape ``(n,)`` with values 0 to 9.

    Attributes:
        X_train, y_train: training split (55,000 images unless subsampled).
        X_valid, y_valid: validation split (the last 5,000 of the official
            training set).
        X_test, y_test: the official 10,000 test images.
        class_names: the ten class names, indexed by label.
        source: where the files were read from.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_valid: np.ndarray
    y_valid: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...] = CLASS_NAMES
    source: str = ""

    @property
    def train(self) -> tuple[np.ndarray, np.ndarray]:
        return self.X_train, self.y_train

    @property
    def valid(self) -> tuple[np.ndarray, np.ndarray]:
        return self.X_valid, self.y_valid

    @property
    def test(self) -> tuple[np.ndarray, np.ndarray]:
        return self.X_test, self.y_test

    def __repr__(self) -> str:
        return (
            f"FashionMNIST(train={self.X_train.shape}, valid={self.X_valid.shape}, "
            f"test={self.X_test.shape}, source={self.source!r})"
        )


def load_fashion_mnist(
    n_train: int | None = None,
    n_valid: int | None = None,
    seed: int = 42,
    *,
    data_dir: str | os.PathLike | None = None,
    sources: Iterable[str] = SOURCES,
) -> FashionMNIST:
    """Loads Fashion-MNIST as train (55,000), valid (5,000) and test (10,000).

    The validation split is always the last 5,000 images of the official
    training set, so it never overlaps the training split, whatever
    ``n_train`` is.

    Args:
        n_train: if given, a random subset of this many training images
            (drawn with ``seed``), for fast exercises. At most 55,000.
        n_valid: if given, a random subset of this many validation images.
        seed: seed of the subsets; the same seed gives the same images.
        data_dir: a folder with the four ``.gz`` files. When given, only
            this folder is used.
        sources: where to look, in order, among ``"env"``
            (``$FASHION_MNIST_DIR``), ``"debian"`` and ``"keras"``.

    Returns:
        A :class:`FashionMNIST` with float32 images in [0, 1].

    Raises:
        DataNotFoundError: if no source has readable files.
        ValueError: if ``n_train``, ``n_valid`` or ``sources`` are invalid.
    """
    n_train = _check_subset_size("n_train", n_train, _N_TRAIN_FULL - _N_VALID)
    n_valid = _check_subset_size("n_valid", n_valid, _N_VALID)
    if data_dir is not None:
        raw, source = _read_folder(Path(data_dir)), str(data_dir)
    else:
        raw, source = _load_raw(tuple(sources))

    (x_full, y_full), (x_test, y_test) = raw
    x_train, y_train = x_full[:-_N_VALID], y_full[:-_N_VALID]
    x_valid, y_valid = x_full[-_N_VALID:], y_full[-_N_VALID:]
    rng = np.random.default_rng(seed)
    if n_train is not None:
        idx = np.sort(rng.choice(len(x_train), size=n_train, replace=False))
        x_train, y_train = x_train[idx], y_train[idx]
    if n_valid is not None:
        idx = np.sort(rng.choice(len(x_valid), size=n_valid, replace=False))
        x_valid, y_valid = x_valid[idx], y_valid[idx]
    return FashionMNIST(
        X_train=_scale(x_train),
        y_train=y_train.copy(),
        X_valid=_scale(x_valid),
        y_valid=y_valid.copy(),
        X_test=_scale(x_test),
        y_test=y_test.copy(),
        source=str(source),
    )


@dataclasses.dataclass(frozen=True)
class DataSource:
    """Where Fashion-MNIST was read from.

    Attributes:
        kind: ``"env"``, ``"debian"`` or ``"keras"`` (one of ``SOURCES``).
        folder: the folder of the four ``.gz`` files (None for Keras' loader,
            which keeps its own cache).
    """

    kind: str
    folder: Path | None = None

    def __str__(self) -> str:
        if self.kind == "env":
            return f"${ENV_VAR} ({self.folder})"
        if self.kind == "debian":
            return f"Debian package ({self.folder})"
        return "keras.datasets.fashion_mnist"


def find_source(sources: Iterable[str] = SOURCES) -> DataSource:
    """Returns the first source that has readable files (``str()`` describes it).

    Raises:
        DataNotFoundError: as :func:`load_fashion_mnist`.
    """
    return _load_raw(tuple(sources))[1]


def _check_subset_size(name: str, value: int | None, maximum: int) -> int | None:
    return None if value is None else check_integer(name, value, 1, maximum)


def _scale(images: np.ndarray) -> np.ndarray:
    return (images.astype(np.float32) / 255.0).astype(np.float32)


def _load_raw(sources: tuple[str, ...]):
    # The environment variable is part of the cache key, so changing it
    # between calls is honoured.
    return _load_raw_cached(sources, os.environ.get(ENV_VAR))


@functools.lru_cache(maxsize=4)
def _load_raw_cached(sources: tuple[str, ...], env_folder: str | None):
    unknown = [s for s in sources if s not in SOURCES]
    if unknown or not sources:
        raise ValueError(
            f"`sources` must be a non-empty sequence of {SOURCES}. "
            f"Received: {sources!r}"
        )
    tried = []
    for source in sources:
        if source == "env":
            folder = env_folder
            if not folder:
                tried.append(f"${ENV_VAR}: not set")
                continue
            # The user asked for this folder explicitly: a broken folder is an
            # error, not a reason to silently read the data from elsewhere.
            return _read_folder(Path(folder)), DataSource("env", Path(folder))
        if source == "debian":
            if not DEBIAN_DIR.is_dir():
                tried.append(f"Debian package: {DEBIAN_DIR} does not exist")
                continue
            return _read_folder(DEBIAN_DIR), DataSource("debian", DEBIAN_DIR)
        if source == "keras":
            try:
                return _read_with_keras(), DataSource("keras")
            except Exception as error:  # noqa: BLE001 (download or cache failure)
                tried.append(
                    f"keras.datasets.fashion_mnist.load_data(): "
                    f"{type(error).__name__}: {error}"
                )
    raise DataNotFoundError(
        "Fashion-MNIST was not found. Tried:\n  - "
        + "\n  - ".join(tried)
        + "\n"
        + HOW_TO_GET_THE_DATA
    )


def _read_with_keras():
    import keras

    (x_full, y_full), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    _check_arrays(x_full, y_full, _N_TRAIN_FULL, "keras training set")
    _check_arrays(x_test, y_test, _N_TEST, "keras test set")
    return (x_full, y_full), (x_test, y_test)


def _read_folder(folder: Path):
    if not folder.is_dir():
        raise DataNotFoundError(
            f"Fashion-MNIST folder {str(folder)!r} does not exist.\n"
            + HOW_TO_GET_THE_DATA
        )
    missing = [name for name in _FILES.values() if not (folder / name).is_file()]
    if missing:
        raise DataNotFoundError(
            f"Fashion-MNIST folder {str(folder)!r} lacks {', '.join(missing)}.\n"
            + HOW_TO_GET_THE_DATA
        )
    arrays = {key: _read_idx(folder / name) for key, name in _FILES.items()}
    _check_arrays(arrays["train_images"], arrays["train_labels"], _N_TRAIN_FULL,
                  str(folder / _FILES["train_images"]))
    _check_arrays(arrays["test_images"], arrays["test_labels"], _N_TEST,
                  str(folder / _FILES["test_images"]))
    return (
        (arrays["train_images"], arrays["train_labels"]),
        (arrays["test_images"], arrays["test_labels"]),
    )


def _read_idx(path: Path) -> np.ndarray:
    """Reads one gzipped IDX file (the format of the MNIST family)."""
    try:
        with gzip.open(path, "rb") as stream:
            content = stream.read()
    except (OSError, EOFError) as error:
        raise DataNotFoundError(
            f"Cannot read {str(path)!r}: it is not a valid gzip file ({error}). "
            "The file may be corrupt or truncated.\n" + HOW_TO_GET_THE_DATA
        ) from None
    if len(content) < 8 or content[0:2] != b"\x00\x00" or content[2] != 0x08:
        raise DataNotFoundError(
            f"Cannot read {str(path)!r}: expected an IDX file of unsigned bytes "
            f"(magic 0x0000080N), received header {content[:4].hex() or 'nothing'}.\n"
            + HOW_TO_GET_THE_DATA
        )
    ndim = content[3]
    header_end = 4 + 4 * ndim
    shape = tuple(
        int.from_bytes(content[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)
    )
    expected = int(np.prod(shape)) if shape else 0
    if len(content) - header_end != expected:
        raise DataNotFoundError(
            f"Cannot read {str(path)!r}: the header promises shape {shape} "
            f"({expected:,} bytes) but the file holds {len(content) - header_end:,} "
            "bytes. The file is corrupt or truncated.\n" + HOW_TO_GET_THE_DATA
        )
    return np.frombuffer(content, dtype=np.uint8, offset=header_end).reshape(shape)


def _check_arrays(images: np.ndarray, labels: np.ndarray, n: int, what: str) -> None:
    if images.shape != (n, 28, 28) or labels.shape != (n,):
        raise DataNotFoundError(
            f"Unexpected Fashion-MNIST shapes in {what}: expected images "
            f"{(n, 28, 28)} and labels {(n,)}, received {images.shape} and "
            f"{labels.shape}.\n" + HOW_TO_GET_THE_DATA
        )
    if labels.size and labels.max() > 9:
        raise DataNotFoundError(
            f"Unexpected Fashion-MNIST labels in {what}: expected 0 to 9, "
            f"received a maximum of {labels.max()}.\n" + HOW_TO_GET_THE_DATA
        )
