"""Datasets and batching with PyTorch's interface (torch.utils.data), and built-in datasets.

Layer: data (imports numpy, chainrule.tensor, chainrule.random; scikit-learn
lazily for digits).
"""

from .dataset import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)
from .datasets import (
    DATASET_NAMES,
    DataError,
    LabeledData,
    load_csv,
    load_dataset,
    load_digits,
    load_mnist,
    make_moons,
    make_spirals,
    read_idx,
    train_val_test_split,
    xor,
)

__all__ = [
    "DATASET_NAMES",
    "DataError",
    "DataLoader",
    "Dataset",
    "LabeledData",
    "Subset",
    "TensorDataset",
    "default_collate",
    "load_csv",
    "load_dataset",
    "load_digits",
    "load_mnist",
    "make_moons",
    "make_spirals",
    "random_split",
    "read_idx",
    "train_val_test_split",
    "xor",
]
