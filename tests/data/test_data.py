"""chainrule.data: batching, splits, built-in datasets and the file readers."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from chainrule import data


def test_dataloader_batches_drop_last_and_len():
    ds = data.TensorDataset(np.arange(10.0).reshape(10, 1), np.arange(10))
    loader = data.DataLoader(ds, batch_size=4)
    batches = [y.tolist() for _, y in loader]
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] and len(loader) == 3
    loader = data.DataLoader(ds, batch_size=4, drop_last=True)
    assert [len(y) for _, y in loader] == [4, 4] and len(loader) == 2


def test_shuffle_is_seeded_covers_everything_and_changes_each_epoch():
    ds = data.TensorDataset(np.arange(20))
    first = data.DataLoader(ds, batch_size=5, shuffle=True, seed=3)
    second = data.DataLoader(ds, batch_size=5, shuffle=True, seed=3)
    epoch1 = np.concatenate([b.data for (b,) in first])
    assert np.array_equal(epoch1, np.concatenate([b.data for (b,) in second]))
    assert sorted(epoch1) == list(range(20)) and not np.array_equal(epoch1, np.arange(20))
    epoch2 = np.concatenate([b.data for (b,) in first])
    assert not np.array_equal(epoch1, epoch2)


def test_generic_dataset_is_collated():
    class Squares(data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.array([i, i * i], dtype=float), i

    (x, y), *_ = data.DataLoader(Squares(), batch_size=3)
    assert x.shape == (3, 2) and y.tolist() == [0, 1, 2]


def test_random_split_and_split_indices_are_disjoint_and_seeded():
    parts = data.random_split(data.TensorDataset(np.arange(10)), [0.5, 0.3, 0.2], seed=1)
    assert [len(p) for p in parts] == [5, 3, 2]
    assert sorted(np.concatenate([p.indices for p in parts])) == list(range(10))
    train, val, test = data.train_val_test_split(100, 0.1, 0.25, seed=4)
    assert (len(train), len(val), len(test)) == (65, 10, 25)
    assert len(set(train) | set(val) | set(test)) == 100
    again = data.train_val_test_split(100, 0.1, 0.25, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip((train, val, test), again, strict=True))


def test_builtin_datasets():
    xor = data.xor()
    assert xor.features.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert xor.labels.tolist() == [0, 1, 1, 0]
    moons = data.make_moons(200, seed=1)
    assert moons.features.shape == (200, 2) and moons.features.dtype == np.float32
    assert np.bincount(moons.labels).tolist() == [100, 100]
    assert np.array_equal(moons.features, data.make_moons(200, seed=1).features)
    spirals = data.make_spirals(300, n_classes=3)
    assert spirals.num_classes == 3 and spirals.features.shape == (300, 2)
    digits = data.load_digits()
    assert digits.features.shape == (1797, 64) and digits.num_classes == 10


def write_idx(path, array, compress):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    payload = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if compress else payload)


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_idx_files(tmp_path, compress):
    rng = np.random.default_rng(0)
    suffix = ".gz" if compress else ""
    for prefix, n in (("train", 6), ("t10k", 3)):
        write_idx(
            tmp_path / f"{prefix}-images-idx3-ubyte{suffix}",
            rng.integers(0, 256, (n, 28, 28)),
            compress,
        )
        write_idx(
            tmp_path / f"{prefix}-labels-idx1-ubyte{suffix}", rng.integers(0, 10, n), compress
        )
    mnist = data.load_dataset(f"mnist:{tmp_path}")
    assert mnist.features.shape == (6, 784) and mnist.test.features.shape == (3, 784)
    assert 0.0 <= mnist.features.min() and mnist.features.max() <= 1.0
    fashion = data.load_dataset(f"fashion-mnist:{tmp_path}")
    assert fashion.classes[9] == "Ankle boot"


def test_idx_errors(tmp_path):
    bad = tmp_path / "train-images-idx3-ubyte"
    bad.write_bytes(b"not an idx file")
    with pytest.raises(data.DataError, match="bad magic number"):
        data.read_idx(bad)
    write_idx(bad, np.zeros((4, 2, 2)), compress=False)
    bad.write_bytes(bad.read_bytes()[:-3])
    with pytest.raises(data.DataError, match="truncated"):
        data.read_idx(bad)
    with pytest.raises(data.DataError, match="truncated"):
        data.load_mnist(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(data.DataError, match="no train-images-idx3-ubyte"):
        data.load_mnist(empty)
    with pytest.raises(data.DataError, match="does not exist"):
        data.load_mnist(tmp_path / "missing")


def test_csv_reader(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("x,label,y\n0.5,3,1\n-1,7,2\n2,3,0\n")
    points = data.load_csv(path, label_column="label")
    assert points.features.tolist() == [[0.5, 1.0], [-1.0, 2.0], [2.0, 0.0]]
    assert points.labels.tolist() == [0, 1, 0] and points.classes == ["3", "7"]
    last = data.load_csv(path)  # default: the last column
    assert last.classes == ["0", "1", "2"] and last.labels.tolist() == [1, 2, 0]


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("a,b\n1,cat\n", None, "not an integer"),
        ("a,b\n1,2.5\n", None, "not an integer"),
        ("a,b\nx,1\n", None, "'a' holds 'x', not a number"),
        ("a,b\n1,2,3\n", None, "3 fields, the header has 2"),
        ("a,b\n", None, "at least one data row"),
        ("a,b\n1,2\n", "c", "no column 'c'"),
    ],
)
def test_csv_errors(tmp_path, text, column, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(data.DataError, match=message):
        data.load_csv(path, label_column=column)


def test_unknown_dataset_name():
    with pytest.raises(data.DataError, match="unknown dataset 'iris'"):
        data.load_dataset("iris")
    with pytest.raises(data.DataError, match="needs a path"):
        data.load_dataset("csv")


def test_full_batch_writes_do_not_change_the_dataset():
    features = np.zeros((4, 2))
    loader = data.DataLoader(data.TensorDataset(features), batch_size=4)
    for _ in range(2):
        for (batch,) in loader:
            batch += 1
    np.testing.assert_array_equal(features, np.zeros((4, 2)))


@pytest.mark.parametrize(
    ("text", "message"),
    [("x,y,y\n1,2,0\n3,4,1\n", "more than once"), ("label\n0\n1\n", "no features")],
)
def test_csv_with_a_repeated_or_lonely_column_is_refused(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(data.DataError, match=message):
        data.load_dataset(f"csv:{path}")
