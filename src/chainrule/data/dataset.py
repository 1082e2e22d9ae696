"""Dataset, TensorDataset, Subset, random_split and DataLoader, as in torch.utils.data.

Layer: data (imports numpy, chainrule.tensor and chainrule.random for the
default generator). A DataLoader over a TensorDataset slices whole batches out
of the arrays at once (no per-sample Python loop); other datasets are read item
by item and stacked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ..errors import ShapeError
from ..random import default_generator
from ..tensor import Tensor


class Dataset:
    """Anything with ``__getitem__(index)`` and ``__len__``; items are tuples of arrays/Tensors."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


def _array(value: Any) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else np.asarray(value)


class TensorDataset(Dataset):
    """Samples are rows of the given arrays (or Tensors), which share their first dimension.

    >>> import numpy as np
    >>> ds = TensorDataset(np.zeros((4, 2)), np.arange(4))
    >>> len(ds), ds[1][1]
    (4, tensor(1))
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one array")
        self.arrays = tuple(_array(t) for t in tensors)
        lengths = {len(a) for a in self.arrays}
        if len(lengths) != 1:
            raise ShapeError(
                "TensorDataset: the arrays have different first dimensions "
                f"{[a.shape for a in self.arrays]}"
            )

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(Tensor(a[index]) for a in self.arrays)

    def __len__(self) -> int:
        return len(self.arrays[0])


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset: Dataset, indices: Sequence[int] | np.ndarray) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.intp)

    def __getitem__(self, index: Any) -> Any:
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(
    dataset: Dataset,
    lengths: Sequence[int | float],
    seed: int | None = None,
    generator: np.random.Generator | None = None,
) -> list[Subset]:
    """Split into disjoint random subsets of the given lengths (or fractions summing to 1)."""
    n = len(dataset)
    if all(isinstance(length, float) for length in lengths):
        if not np.isclose(sum(lengths), 1.0):
            raise ValueError(f"fractions must sum to 1, got {list(lengths)}")
        counts = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):  # hand out the remainder round-robin, as PyTorch does
            counts[i % len(counts)] += 1
    else:
        counts = [int(length) for length in lengths]
    if sum(counts) != n:
        raise ValueError(f"the lengths {counts} do not add up to the dataset's length {n}")
    rng = _generator(seed, generator)
    order = rng.permutation(n)
    bounds = np.cumsum([0, *counts])
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _generator(seed: int | None, generator: np.random.Generator | None) -> np.random.Generator:
    if seed is not None and generator is not None:
        raise ValueError("give seed= or generator=, not both")
    if seed is not None:
        return np.random.default_rng(seed)
    return default_generator() if generator is None else generator


def default_collate(items: list[Any]) -> Any:
    """Stack a list of samples (tuples of arrays/Tensors/numbers) into a tuple of batch Tensors."""
    first = items[0]
    if isinstance(first, (tuple, list)):
        return tuple(default_collate([item[i] for item in items]) for i in range(len(first)))
    return Tensor(np.stack([_array(item) for item in items]))


class DataLoader:
    """Iterate over a dataset in batches, optionally shuffled with a seeded generator.

    With ``shuffle``, each pass (epoch) uses a new permutation drawn from the
    loader's generator: ``seed`` makes the sequence of epochs reproducible;
    without it the default generator (``nn.manual_seed``) is used.

    >>> import numpy as np
    >>> loader = DataLoader(TensorDataset(np.arange(5.0)), batch_size=2)
    >>> [batch.tolist() for (batch,) in loader]
    [[0.0, 1.0], [2.0, 3.0], [4.0]]
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        generator: np.random.Generator | None = None,
        collate_fn: Callable[[list[Any]], Any] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = _generator(seed, generator)
        self.collate_fn = collate_fn

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = self.generator.permutation(n) if self.shuffle else np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            yield self._batch(order[start : start + self.batch_size])

    def _batch(self, indices: np.ndarray) -> Any:
        dataset = self.dataset
        if self.collate_fn is None and isinstance(dataset, TensorDataset):
            if len(indices) == len(dataset) and np.array_equal(indices, np.arange(len(dataset))):
                # Views: no copy, and an in-place write to a batch copies it first
                # (Tensor._write never writes into a view) instead of changing the data.
                return tuple(Tensor(a.view()) for a in dataset.arrays)
            return tuple(Tensor(a[indices]) for a in dataset.arrays)
        collate = default_collate if self.collate_fn is None else self.collate_fn
        return collate([dataset[int(i)] for i in indices])
