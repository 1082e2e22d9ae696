"""Built-in datasets and readers: XOR, two moons, spirals, digits, MNIST (IDX files), CSV.

Layer: data (imports numpy, the standard library, chainrule.errors and chainrule.extras;
scikit-learn lazily, for digits only). Every loader returns :class:`LabeledData`: float32
features of shape (N, F) and int64 class labels. Problems with the user's files raise
:class:`DataError` with one line saying what is wrong and where.
"""

from __future__ import annotations

import csv
import gzip
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ChainruleError
from ..extras import require


class DataError(ChainruleError, ValueError):
    """A data file or dataset name that cannot be read: missing, malformed, bad labels."""


@dataclass
class LabeledData:
    """Features (N, F) float32, labels (N,) int64 in 0..len(classes)-1, and what the labels mean.

    ``test`` is a held-out set that comes with the data (MNIST's t10k files), if any.
    """

    name: str
    features: np.ndarray
    labels: np.ndarray
    classes: list[str]
    test: LabeledData | None = field(default=None, repr=False)

    @property
    def num_features(self) -> int:
        """The number of feature columns."""
        return self.features.shape[1]

    @property
    def num_classes(self) -> int:
        """The number of class names."""
        return len(self.classes)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices: np.ndarray) -> LabeledData:
        """The rows at ``indices``, with the same name and classes."""
        return LabeledData(self.name, self.features[indices], self.labels[indices], self.classes)


def _labeled(name: str, features: np.ndarray, labels: np.ndarray, classes=None) -> LabeledData:
    labels = np.asarray(labels, dtype=np.int64)
    if classes is None:
        classes = [str(c) for c in range(int(labels.max()) + 1)]
    return LabeledData(name, np.ascontiguousarray(features, dtype=np.float32), labels, classes)


# --- synthetic ------------------------------------------------------------------


def xor() -> LabeledData:
    """The recitation's four XOR points: label 1 where exactly one input is 1."""
    features = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return _labeled("xor", features, np.array([0, 1, 1, 0]))


def make_moons(n_samples: int = 1000, noise: float = 0.1, seed: int = 0) -> LabeledData:
    """Two interleaving half circles (class 0 on top, class 1 below), with Gaussian noise."""
    rng = np.random.default_rng(seed)
    n_top = n_samples // 2
    n_bottom = n_samples - n_top
    angle_top = rng.uniform(0.0, math.pi, n_top)
    angle_bottom = rng.uniform(0.0, math.pi, n_bottom)
    top = np.stack([np.cos(angle_top), np.sin(angle_top)], axis=1)
    bottom = np.stack([1.0 - np.cos(angle_bottom), 0.5 - np.sin(angle_bottom)], axis=1)
    features = np.concatenate([top, bottom]) + rng.normal(0.0, noise, (n_samples, 2))
    labels = np.concatenate([np.zeros(n_top), np.ones(n_bottom)])
    order = rng.permutation(n_samples)
    return _labeled("moons", features[order], labels[order])


def make_spirals(
    n_samples: int = 900, n_classes: int = 3, noise: float = 0.2, seed: int = 0
) -> LabeledData:
    """Interleaved spiral arms, one per class (CS231n's toy problem), with noise on the angle."""
    rng = np.random.default_rng(seed)
    per_class = n_samples // n_classes
    features, labels = [], []
    for k in range(n_classes):
        radius = np.linspace(0.0, 1.0, per_class)
        angle = np.linspace(k * 4.0, (k + 1) * 4.0, per_class) + rng.normal(0, noise, per_class)
        features.append(np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1))
        labels.append(np.full(per_class, k))
    order = rng.permutation(per_class * n_classes)
    return _labeled("spirals", np.concatenate(features)[order], np.concatenate(labels)[order])


# --- bundled and file-based ----------------------------------------------------------


def load_digits() -> LabeledData:
    """The 1,797 8x8 handwritten digits shipped inside scikit-learn (pixel values 0..16)."""
    bunch = require("sklearn.datasets", "the digits dataset").load_digits()
    return _labeled("digits", bunch.data, bunch.target)


_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """An array from an IDX file (MNIST's format), gzip-compressed or not."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as error:
        raise DataError(f"cannot read IDX file {str(path)!r}: {error}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError(f"{str(path)!r} is not an IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{str(path)!r}: IDX header is truncated")
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(
            f"{str(path)!r}: IDX header says shape {shape} ({expected} bytes of data) but the "
            f"file has {len(raw) - header} (truncated or corrupt?)"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def _find_idx(directory: Path, prefix: str, kind: str) -> Path:
    """The IDX file for ``prefix`` (train/t10k) and ``kind`` (images/labels), any usual spelling."""
    ndim = "3" if kind == "images" else "1"
    for stem in (f"{prefix}-{kind}-idx{ndim}-ubyte", f"{prefix}-{kind}.idx{ndim}-ubyte"):
        for suffix in ("", ".gz"):
            candidate = directory / (stem + suffix)
            if candidate.is_file():
                return candidate
    raise DataError(
        f"no {prefix}-{kind}-idx{ndim}-ubyte[.gz] file in {str(directory)!r} "
        "(expected the four MNIST IDX files)"
    )


def _idx_split(directory: Path, prefix: str, name: str) -> LabeledData:
    images = read_idx(_find_idx(directory, prefix, "images"))
    labels = read_idx(_find_idx(directory, prefix, "labels"))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(
            f"{str(directory)!r}: {prefix} images of shape {images.shape} do not match labels "
            f"of shape {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataError(f"{str(directory)!r}: {prefix} labels must be digits 0..9")
    features = images.reshape(len(images), -1).astype(np.float32) / 255.0
    return _labeled(name, features, labels, [str(c) for c in range(10)])


FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip


def load_mnist(directory: str | os.PathLike, fashion: bool = False) -> LabeledData:
    """MNIST (or Fashion-MNIST) from the folder holding its four IDX files; pixels scaled to [0, 1].

    The train files give the data; the t10k files its ``test`` set.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"MNIST folder {str(directory)!r} does not exist")
    name = "fashion-mnist" if fashion else "mnist"
    train = _idx_split(directory, "train", name)
    train.test = _idx_split(directory, "t10k", name)
    if fashion:
        train.classes = train.test.classes = FASHION_CLASSES
    return train


def _parse_label(text: str, line: int, column: str) -> int:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value != int(value):
        raise DataError(f"line {line}: label column {column!r} holds {text!r}, not an integer")
    return int(value)


def load_csv(
    path: str | os.PathLike, label_column: str | None = None, classes: list[str] | None = None
) -> LabeledData:
    """Rows of a CSV file with a header: numeric feature columns and an integer label column.

    ``label_column`` defaults to the last column. Labels are mapped to 0..K-1 in
    sorted order (``classes`` keeps the original values), unless ``classes`` is
    given, as when scoring a saved model against its training labels.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"CSV file {str(path)!r} does not exist")
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"cannot read CSV file {str(path)!r}: {error}") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise DataError(f"{str(path)!r} needs a header row and at least one data row")
    header = [cell.strip() for cell in rows[0]]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise DataError(f"{str(path)!r}: the header names {repeated} more than once")
    if label_column is None:
        label_column = header[-1]
    if label_column not in header:
        raise DataError(f"{str(path)!r} has no column {label_column!r} (columns: {header})")
    if len(header) < 2:
        raise DataError(f"{str(path)!r} has only the label column {label_column!r}: no features")
    label_at = header.index(label_column)
    features, labels = [], []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DataError(
                f"{str(path)!r} line {line}: {len(row)} fields, the header has {len(header)}"
            )
        labels.append(_parse_label(row[label_at].strip(), line, label_column))
        values = []
        for column, cell in enumerate(row):
            if column == label_at:
                continue
            try:
                values.append(float(cell))
            except ValueError:
                raise DataError(
                    f"{str(path)!r} line {line}: column {header[column]!r} holds {cell!r}, "
                    "not a number"
                ) from None
        features.append(values)
    label_array = np.array(labels)
    if classes is None:
        classes = [str(c) for c in sorted(set(labels))]
    index_of = {int(c): i for i, c in enumerate(classes)}
    unknown = sorted(set(labels) - set(index_of))
    if unknown:
        raise DataError(f"{str(path)!r}: labels {unknown} are not among the classes {classes}")
    mapped = np.array([index_of[label] for label in label_array])
    data = _labeled(path.stem, np.array(features, dtype=np.float64), mapped, classes)
    if not np.all(np.isfinite(data.features)):
        raise DataError(f"{str(path)!r}: features must be finite numbers")
    return data


#: The names ``--data`` accepts, with how each is written.
DATASET_NAMES = ("xor", "moons", "spirals", "digits", "mnist:DIR", "fashion-mnist:DIR", "csv:PATH")


def load_dataset(
    spec: str, label_column: str | None = None, classes: list[str] | None = None, seed: int = 0
) -> LabeledData:
    """The dataset named on the command line: xor, moons, spirals, digits, mnist:DIR, ..."""
    kind, _, location = spec.partition(":")
    if kind in ("xor", "moons", "spirals", "digits") and location:
        raise DataError(f"--data {kind} takes no path (got {spec!r})")
    if kind == "xor":
        return xor()
    if kind == "moons":
        return make_moons(seed=seed)
    if kind == "spirals":
        return make_spirals(seed=seed)
    if kind == "digits":
        return load_digits()
    if kind in ("mnist", "fashion-mnist", "csv") and not location:
        raise DataError(f"--data {kind} needs a path: {kind}:PATH")
    if kind == "mnist":
        return load_mnist(location)
    if kind == "fashion-mnist":
        return load_mnist(location, fashion=True)
    if kind == "csv":
        return load_csv(location, label_column, classes)
    raise DataError(f"unknown dataset {spec!r}; choose one of {', '.join(DATASET_NAMES)}")


def train_val_test_split(
    n: int, val_fraction: float = 0.1, test_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Disjoint random index arrays (train, validation, test) covering range(n), from ``seed``.

    >>> [len(part) for part in train_val_test_split(100, 0.1, 0.2)]
    [70, 10, 20]
    """
    if not (0.0 <= val_fraction < 1.0 and 0.0 <= test_fraction < 1.0):
        raise ValueError("fractions must be in [0, 1)")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError("validation and test fractions leave no training data")
    order = np.random.default_rng(seed).permutation(n)
    n_test = round(n * test_fraction)
    n_val = round(n * val_fraction)
    return order[n_test + n_val :], order[n_test : n_test + n_val], order[:n_test]
