"""chainrule on a device against PyTorch eager on the same device: mlp_step and digits training.

* ``mlp_step``: the MLP 784-256-128-10 ReLU training step of benchmarks/workloads/mlp.py
  (softmax cross-entropy, SGD lr 0.01, float32, the same initial weights for both), at
  batch 128 and 1024, the batch already on the device;
* ``digits``: MLP 64-64-10 ReLU trained with Adam (lr 1e-3, batch 64) for a few epochs on
  the digits data, each batch moved to the device as ``chainrule train --device`` does.

With ``--device cuda`` chainrule runs on CuPy and PyTorch on CUDA (the GPU is synchronized
before and after every timed round); with ``--device cpu`` on NumPy and PyTorch's CPU build,
so the script's logic can be checked without a GPU. Timings are medians of interleaved
rounds; the ratio is chainrule / PyTorch (the issue's target: mlp_step <= 1.2 on a GPU).
Results go to ``--out`` (default ``$OUT/gpu_bench.json`` when ``$OUT`` is set).

    python benchmarks/gpu_bench.py --device cuda
    python benchmarks/gpu_bench.py --device cpu --batches 16 --rounds 3 --epochs 1
"""

from __future__ import annotations

import os

# One CPU thread for both libraries' host work (on the CPU, the comparison itself).
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from workloads.mlp import MLP, pairs, problem  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule import data, nn, optim  # noqa: E402

DIGITS_SIZES = [64, 64, 10]
DIGITS_LR, DIGITS_BATCH = 1e-3, 64


def synchronizer(torch, device: str) -> Callable[[], None]:
    """Waits for both libraries' queued GPU work (nothing to wait for on the CPU)."""
    if device == "cpu":
        return lambda: None
    import cupy

    def synchronize() -> None:
        cupy.cuda.Device().synchronize()
        torch.cuda.synchronize()

    return synchronize


def interleaved(
    contenders: dict[str, Callable[[], object]], rounds: int, number: int, sync: Callable
) -> dict[str, float]:
    """Median seconds per call of each contender over interleaved rounds of ``number`` calls."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for run in contenders.values():  # warm-up: kernels compiled, memory pools filled
        run()
    for _ in range(rounds):
        for name, run in contenders.items():
            sync()
            started = time.perf_counter()
            for _ in range(number):
                run()
            sync()
            samples[name].append((time.perf_counter() - started) / number)
    return {name: statistics.median(times) for name, times in samples.items()}


# --- mlp_step --------------------------------------------------------------------------------


def chainrule_mlp_step(prob, device: str) -> tuple[Callable[[], object], Callable[[], float]]:
    """The step on ``device`` and a function giving the current loss (for the check)."""
    model = nn.MLP(MLP.sizes, MLP.activation, dtype=np.float32)
    model.load_state_dict(dict(zip(model.state_dict(), prob.params, strict=True)))
    optimizer = optim.SGD(model.parameters(), lr=MLP.lr)
    model.to(device)
    loss_function = nn.CrossEntropyLoss()
    inputs, targets = cr.tensor(prob.x, device=device), cr.tensor(prob.y, device=device)

    def step() -> object:
        optimizer.zero_grad()
        loss = loss_function(model(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss

    def loss() -> float:
        with cr.no_grad():
            return loss_function(model(inputs), targets).item()

    return step, loss


def torch_mlp_step(torch, prob, device: str) -> tuple[Callable[[], object], Callable[[], float]]:
    layers: list = []
    for i, (weight, bias) in enumerate(pairs(prob.params)):
        linear = torch.nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weight))
            linear.bias.copy_(torch.from_numpy(bias))
        layers.append(linear)
        if i < len(prob.params) // 2 - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=MLP.lr)
    loss_function = torch.nn.CrossEntropyLoss()
    x, y = torch.from_numpy(prob.x).to(device), torch.from_numpy(prob.y).to(device)

    def step() -> object:
        optimizer.zero_grad()
        loss = loss_function(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    def loss() -> float:
        with torch.no_grad():
            return float(loss_function(model(x), y))

    return step, loss


def mlp_step(torch, device: str, batch: int, rounds: int, number: int) -> dict:
    """Both steps timed; after the same number of steps their losses must agree (float32)."""
    prob = problem(replace(MLP, batch=batch))
    ours, our_loss = chainrule_mlp_step(prob, device)
    theirs, their_loss = torch_mlp_step(torch, prob, device)
    times = interleaved(
        {"chainrule": ours, "torch": theirs}, rounds, number, synchronizer(torch, device)
    )
    # Both took the same number of steps from the same weights on the same batch.
    difference = abs(our_loss() - their_loss()) / max(abs(their_loss()), 1e-12)
    return {
        "workload": f"mlp_step batch {batch}",
        "chainrule_s": times["chainrule"],
        "torch_s": times["torch"],
        "ratio": times["chainrule"] / times["torch"],
        "loss_relative_difference": difference,
    }


# --- digits ----------------------------------------------------------------------------------


def digits_data(limit: int | None):
    digits = data.load_digits()
    train, _, test = data.train_val_test_split(len(digits), 0.1, 0.2, seed=0)
    mean = digits.features[train].mean(axis=0)
    std = digits.features[train].std(axis=0)
    std[std == 0] = 1.0
    features = ((digits.features - mean) / std).astype(np.float32)
    train = train[:limit]
    return (features[train], digits.labels[train]), (features[test], digits.labels[test])


def orders(n: int, epochs: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.permutation(n) for _ in range(epochs)]


def train_chainrule_digits(train, test, epochs: int, device: str, sync) -> tuple[float, float]:
    nn.manual_seed(0)
    model = nn.MLP(DIGITS_SIZES, dtype=np.float32).to(device)
    optimizer = optim.Adam(model.parameters(), lr=DIGITS_LR)
    loss_function = nn.CrossEntropyLoss()
    (x, y), started = train, time.perf_counter()
    sync()
    for order in orders(len(y), epochs):
        for start in range(0, len(y), DIGITS_BATCH):
            index = order[start : start + DIGITS_BATCH]
            optimizer.zero_grad()
            inputs = cr.tensor(x[index], device=device)
            loss_function(model(inputs), cr.tensor(y[index], device=device)).backward()
            optimizer.step()
    sync()
    seconds = time.perf_counter() - started
    with cr.no_grad():
        outputs = model(cr.tensor(test[0], device=device)).cpu().numpy()
    return float(np.mean(outputs.argmax(1) == test[1])), seconds


def train_torch_digits(torch, train, test, epochs: int, device: str, sync) -> tuple[float, float]:
    torch.manual_seed(0)
    sizes = DIGITS_SIZES
    model = torch.nn.Sequential(
        torch.nn.Linear(sizes[0], sizes[1]), torch.nn.ReLU(), torch.nn.Linear(sizes[1], sizes[2])
    ).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=DIGITS_LR)
    loss_function = torch.nn.CrossEntropyLoss()
    (x, y), started = train, time.perf_counter()
    sync()
    for order in orders(len(y), epochs):
        for start in range(0, len(y), DIGITS_BATCH):
            index = order[start : start + DIGITS_BATCH]
            optimizer.zero_grad()
            inputs = torch.from_numpy(x[index]).to(device)
            loss_function(model(inputs), torch.from_numpy(y[index]).to(device)).backward()
            optimizer.step()
    sync()
    seconds = time.perf_counter() - started
    with torch.no_grad():
        outputs = model(torch.from_numpy(test[0]).to(device)).cpu().numpy()
    return float(np.mean(outputs.argmax(1) == test[1])), seconds


def digits_training(torch, device: str, epochs: int, rounds: int, limit: int | None) -> dict:
    train, test = digits_data(limit)
    sync = synchronizer(torch, device)
    ours, theirs, accuracy = [], [], {}
    for _ in range(rounds):
        accuracy["chainrule"], seconds = train_chainrule_digits(train, test, epochs, device, sync)
        ours.append(seconds)
        accuracy["torch"], seconds = train_torch_digits(torch, train, test, epochs, device, sync)
        theirs.append(seconds)
    ours_s, theirs_s = statistics.median(ours), statistics.median(theirs)
    return {
        "workload": f"digits {epochs} epochs",
        "chainrule_s": ours_s,
        "torch_s": theirs_s,
        "ratio": ours_s / theirs_s,
        "chainrule_accuracy": accuracy["chainrule"],
        "torch_accuracy": accuracy["torch"],
    }


# --- the script ------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> list[dict]:
    import torch

    device = args.device
    if device == "cpu":
        torch.set_num_threads(1)
    results = [mlp_step(torch, device, b, args.rounds, args.number) for b in args.batches]
    results.append(digits_training(torch, device, args.epochs, args.rounds, args.limit))
    return results


def describe(device: str) -> str:
    import torch

    if device == "cpu":
        return f"CPU: NumPy {np.__version__} vs torch {torch.__version__} (1 thread)"
    import cupy

    name = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)["name"]
    name = name.decode() if isinstance(name, bytes) else name
    return f"{name}: CuPy {cupy.__version__} vs torch {torch.__version__} CUDA eager"


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N or cpu")
    parser.add_argument("--batches", type=int, nargs="+", default=[128, 1024])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (median)")
    parser.add_argument("--number", type=int, default=50, help="mlp steps per round")
    parser.add_argument("--epochs", type=int, default=3, help="digits epochs")
    parser.add_argument("--limit", type=int, default=None, help="digits training rows (smoke)")
    parser.add_argument("--out", type=Path, default=None, help="JSON file for the results")
    args = parser.parse_args(argv)
    title = describe(args.device)
    results = run(args)
    print(title)
    print(f"{'workload':<24} {'chainrule':>12} {'torch':>12} {'ratio':>7}")
    for row in results:
        print(
            f"{row['workload']:<24} {row['chainrule_s'] * 1e3:>10.3f}ms "
            f"{row['torch_s'] * 1e3:>10.3f}ms {row['ratio']:>7.2f}"
        )
    out = args.out
    if out is None and os.environ.get("OUT"):
        out = Path(os.environ["OUT"]) / "gpu_bench.json"
    if out is not None:
        out.write_text(json.dumps({"device": title, "results": results}, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
