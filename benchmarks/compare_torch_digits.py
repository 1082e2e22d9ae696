"""Digits, MLP 64-64-10 ReLU, Adam: chainrule against PyTorch trained the same way.

Both train on the same split (chainrule.data.train_val_test_split), the same
standardization, the same batch order (one seeded permutation per epoch), the
same hyperparameters (Adam, lr 1e-3, 30 epochs, batch 64, float32) and the same
initialization scheme (PyTorch's default for nn.Linear). Three runs per seed:

* chainrule, initialized by chainrule.nn.manual_seed(seed);
* PyTorch, initialized by torch.manual_seed(seed) (same scheme, other numbers);
* PyTorch starting from chainrule's initial weights (same numbers: the two
  trajectories should then agree to float32 rounding).

Prints test accuracies and the wall-time ratio chainrule / PyTorch measured in
this run, with one thread for both (OMP_NUM_THREADS=1, torch.set_num_threads(1)).

    python benchmarks/compare_torch_digits.py [--seeds 5]

PyTorch is an optional benchmark dependency: pip install torch==2.13.0 (the CPU wheel).
"""

from __future__ import annotations

import os

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule import data, nn, optim  # noqa: E402

SIZES = [64, 64, 10]
LR, EPOCHS, BATCH = 1e-3, 30, 64


def prepare(seed: int):
    digits = data.load_digits()
    train, _, test = data.train_val_test_split(len(digits), 0.1, 0.2, seed=seed)
    mean = digits.features[train].mean(axis=0)
    std = digits.features[train].std(axis=0)
    std[std == 0] = 1.0
    features = ((digits.features - mean) / std).astype(np.float32)
    return (features[train], digits.labels[train]), (features[test], digits.labels[test])


def batch_orders(n: int, seed: int) -> list[np.ndarray]:
    """The shuffled index order of every epoch, as chainrule's DataLoader(seed=seed) draws them."""
    rng = np.random.default_rng(seed)
    return [rng.permutation(n) for _ in range(EPOCHS)]


def train_chainrule(train, test, seed: int):
    nn.manual_seed(seed)
    model = nn.MLP(SIZES, dtype=np.float32)
    initial = model.state_dict()
    optimizer = optim.Adam(model.parameters(), lr=LR)
    loss_function = nn.CrossEntropyLoss()
    x, y = train
    started = time.perf_counter()
    for order in batch_orders(len(y), seed):
        for start in range(0, len(y), BATCH):
            index = order[start : start + BATCH]
            optimizer.zero_grad()
            loss_function(model(cr.Tensor(x[index])), y[index]).backward()
            optimizer.step()
    seconds = time.perf_counter() - started
    with cr.no_grad():
        accuracy = float(np.mean(model(cr.Tensor(test[0])).data.argmax(1) == test[1]))
    return accuracy, seconds, initial


def train_torch(torch, train, test, seed: int, initial=None):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(SIZES[0], SIZES[1]), torch.nn.ReLU(), torch.nn.Linear(SIZES[1], SIZES[2])
    )
    if initial is not None:
        model.load_state_dict({key: torch.from_numpy(value) for key, value in initial.items()})
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loss_function = torch.nn.CrossEntropyLoss()
    x, y = torch.from_numpy(train[0]), torch.from_numpy(train[1])
    started = time.perf_counter()
    for order in batch_orders(len(y), seed):
        order = torch.from_numpy(order)
        for start in range(0, len(y), BATCH):
            index = order[start : start + BATCH]
            optimizer.zero_grad()
            loss_function(model(x[index]), y[index]).backward()
            optimizer.step()
    seconds = time.perf_counter() - started
    with torch.no_grad():
        predictions = model(torch.from_numpy(test[0])).argmax(1).numpy()
    return float(np.mean(predictions == test[1])), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        raise SystemExit("PyTorch is not installed: pip install torch==2.13.0") from None
    torch.set_num_threads(1)
    print(
        f"chainrule {cr.__version__}, torch {torch.__version__}, NumPy {np.__version__}; "
        "1 thread each (OMP_NUM_THREADS=1, torch.set_num_threads(1)); float32"
    )
    print(
        f"digits, MLP {'-'.join(map(str, SIZES))} ReLU, Adam lr={LR:g}, {EPOCHS} epochs, "
        f"batch {BATCH}; test accuracy on a 20% split (359 samples)\n"
    )
    print(
        f"{'seed':>4}  {'chainrule':>9}  {'torch':>7}  {'torch, same init':>16}  "
        f"{'chainrule s':>11}  {'torch s':>7}  {'ratio':>5}"
    )
    ours_acc, torch_acc, ratios = [], [], []
    for seed in range(args.seeds):
        train, test = prepare(seed)
        train_torch(torch, train, test, seed)  # warm-up: first-call costs stay out of the timing
        accuracy, seconds, initial = train_chainrule(train, test, seed)
        reference, reference_seconds = train_torch(torch, train, test, seed)
        same_init, _ = train_torch(torch, train, test, seed, initial)
        ours_acc.append(accuracy)
        torch_acc.append(reference)
        ratios.append(seconds / reference_seconds)
        print(
            f"{seed:>4}  {100 * accuracy:8.2f}%  {100 * reference:6.2f}%  {100 * same_init:15.2f}%"
            f"  {seconds:11.3f}  {reference_seconds:7.3f}  {ratios[-1]:5.2f}"
        )
    gap = 100 * (statistics.mean(ours_acc) - statistics.mean(torch_acc))
    print(
        f"\nmean test accuracy: chainrule {100 * statistics.mean(ours_acc):.2f}%, "
        f"torch {100 * statistics.mean(torch_acc):.2f}% (difference {gap:+.2f} points)"
    )
    print(
        f"seed 0: chainrule {100 * ours_acc[0]:.2f}%, torch {100 * torch_acc[0]:.2f}% "
        f"(difference {100 * (ours_acc[0] - torch_acc[0]):+.2f} points)"
    )
    print(f"training wall time, chainrule / torch: median ratio {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
