"""deep_chain and train_digits: every contender in a fresh process, so its peak memory is its own.

* ``deep_chain``: y = sin(y) * 1.0001 repeated until the graph has 1,000,000
  operations on one float64 scalar, then backward. Reports the backward time, the
  forward (graph building) time, peak RSS and how far RSS rose above what the
  process held before the chain.
* ``train_digits``: the full ``chainrule train --data digits`` default run (MLP
  64-64-10, ReLU, Adam lr 1e-3, 30 epochs, batch 64, float32, per-epoch train and
  validation scores, then the test set) against the same training written in
  PyTorch. Reports the process's wall time (interpreter start and imports
  included), the run's time after the imports (data loading, scikit-learn's
  import included), the training loop's alone, and peak RSS. With numba installed,
  "chainrule numba" runs the same command with ``--compile numba``; its compile time
  (numba's kernels are cached on disk after the first run, the fused segments are
  compiled in every process) is inside the training loop's time.

The parent runs ``python isolated.py TASK CONTENDER --threads N --result PATH``
once per contender per round, interleaved, and reads the child's JSON result;
peak RSS is the child's own high-water mark (VmHWM). Nothing here imports NumPy at module
level: a child sets its thread counts first.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent
CHAIN_FACTOR = 1.0001
DIGITS_ARGS = ["train", "--data", "digits"]


# --- parent: run the children and collect medians ----------------------------------------


def run_child(task: str, contender: str, threads: int, *extra: str) -> dict:
    """One child's result, with the wall time of its whole process added."""
    with tempfile.TemporaryDirectory() as folder:
        result = Path(folder) / "result.json"
        command = [sys.executable, __file__, task, contender, "--threads", str(threads)]
        started = time.perf_counter()
        done = subprocess.run(
            [*command, "--result", str(result), *extra], capture_output=True, text=True
        )
        wall = time.perf_counter() - started
        if done.returncode != 0 or not result.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return {"error": f"exit status {done.returncode}: {tail[0]}"}
        found = json.loads(result.read_text())
    found["process_seconds"] = wall
    return found


def collect(task: str, contenders: list[str], rounds: int, threads: int, *extra: str) -> dict:
    """Every contender's child results over ``rounds`` interleaved rounds."""
    runs: dict[str, list[dict]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name in contenders:
            runs[name].append(run_child(task, name, threads, *extra))
    return runs


def summarize(workload: str, runs: dict, metrics: list[tuple[str, str, str]]):
    """Results for each (key in a child's result, metric name, unit), medians over rounds."""
    from harness import Result

    results = []
    for key, metric, unit in metrics:
        for name, found in runs.items():
            errors = [r["error"] for r in found if "error" in r]
            values = [r[key] for r in found if "error" not in r]
            note = f"failed: {errors[0]}" if errors else ""
            median = statistics.median(values) if values else math.nan
            results.append(Result(workload, name, median, values, metric, unit, note))
    return results


def chain_gradient(ops: int) -> float:
    """d y / d x of the chain by forward mode in plain Python floats: the check's reference."""
    y, dy = 1.0, 1.0
    for _ in range(ops // 2):
        dy *= math.cos(y) * CHAIN_FACTOR
        y = math.sin(y) * CHAIN_FACTOR
    return dy


def deep_chain(options):
    """1,000,000-op scalar chain: backward time and peak memory, chainrule vs PyTorch."""
    from peers import have

    ops = options.chain_ops
    contenders = ["chainrule"] + (["torch eager"] if have("torch") else [])
    if have("numba"):
        contenders.insert(1, "chainrule numba")
    rounds = 1 if options.quick else options.process_rounds
    runs = collect("deep_chain", contenders, rounds, options.threads, "--ops", str(ops))
    results = summarize(
        "deep_chain",
        runs,
        [
            ("backward_seconds", "backward", "s"),
            ("forward_seconds", "forward (building the graph)", "s"),
            ("peak_rss", "peak RSS", "B"),
            ("rss_growth", "peak RSS minus RSS before the chain", "B"),
        ],
    )
    want = chain_gradient(ops)
    for r in results:
        found = [run for run in runs[r.contender] if "gradient" in run]
        if r.metric == "backward" and found:
            r.check = abs(found[0]["gradient"] - want) / abs(want)
            r.note = r.note or f"{ops:,} ops; check: dy/dx against forward mode in Python floats"
    return results


def train_digits(options):
    """`chainrule train --data digits` against the same training in PyTorch."""
    from peers import have

    contenders = ["chainrule"] + (["torch eager"] if have("torch") else [])
    if have("numba"):
        contenders.insert(1, "chainrule numba")
    rounds = 1 if options.quick else options.process_rounds
    runs = collect("train_digits", contenders, rounds, options.threads)
    results = summarize(
        "train_digits",
        runs,
        [
            ("process_seconds", "wall time (whole process)", "s"),
            ("run_seconds", "run time (after imports)", "s"),
            ("train_seconds", "training loop (30 epochs with per-epoch scores)", "s"),
            ("peak_rss", "peak RSS", "B"),
        ],
    )
    for r in results:
        accuracies = [run["accuracy"] for run in runs[r.contender] if "accuracy" in run]
        if r.metric.startswith("wall") and accuracies:
            r.note = f"test accuracy {100 * accuracies[0]:.2f}%"
    return results


# --- children: one measurement each ------------------------------------------------------


def status(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in bytes."""
    with open("/proc/self/status") as stream:
        line = next(line for line in stream if line.startswith(field + ":"))
    return int(line.split()[1]) * 1024


def rss() -> int:
    """This process's resident set size now, in bytes."""
    return status("VmRSS")


def peak_rss() -> int:
    """This process's largest resident set size so far, in bytes.

    The kernel's high-water mark of this program's memory (VmHWM): unlike
    getrusage's ru_maxrss, it does not start from the parent's size at fork time.
    """
    return status("VmHWM")


def chain_chainrule(ops: int) -> dict:
    import chainrule as cr

    before = rss()
    x = cr.tensor(1.0, requires_grad=True)
    started = time.perf_counter()
    y = x
    for _ in range(ops // 2):
        y = cr.sin(y) * CHAIN_FACTOR
    built = time.perf_counter()
    y.backward()
    done = time.perf_counter()
    return chain_result(before, started, built, done, x.grad.item())


def chain_torch(ops: int) -> dict:
    import torch

    before = rss()
    x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    started = time.perf_counter()
    y = x
    for _ in range(ops // 2):
        y = torch.sin(y) * CHAIN_FACTOR
    built = time.perf_counter()
    y.backward()
    done = time.perf_counter()
    return chain_result(before, started, built, done, x.grad.item())


def chain_result(before: int, started: float, built: float, done: float, gradient: float):
    peak = peak_rss()
    return {
        "forward_seconds": built - started,
        "backward_seconds": done - built,
        "peak_rss": peak,
        "rss_growth": peak - before,
        "gradient": gradient,
    }


def digits_chainrule(*options: str) -> dict:
    """The command line's default digits run (with ``options`` added), in this process."""
    import contextlib
    import io

    from chainrule.cli import main
    from chainrule.cli import train as command

    fit, fit_seconds = command.fit, []

    def timed_fit(*args: object, **kwargs: object) -> object:
        """The command's own training loop, timed from outside."""
        started = time.perf_counter()
        rows = fit(*args, **kwargs)
        fit_seconds.append(time.perf_counter() - started)
        return rows

    command.fit = timed_fit
    printed = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(printed):
        main([*DIGITS_ARGS, *options], standalone_mode=False)
    seconds = time.perf_counter() - started
    accuracy = re.findall(r"test set: loss [\d.]+, accuracy ([\d.]+)%", printed.getvalue())
    return {
        "run_seconds": seconds,
        "train_seconds": fit_seconds[0],
        "peak_rss": peak_rss(),
        "accuracy": float(accuracy[-1]) / 100,
    }


def digits_torch(threads: int) -> dict:
    """What `chainrule train --data digits` does, step for step, in PyTorch.

    The same data (scikit-learn's digits), split (one seeded permutation: 20% test,
    10% validation), standardization with the training set's statistics, network,
    Adam settings and batch order (one permutation per epoch from a generator
    seeded with 0, as chainrule's DataLoader draws them); after every epoch the
    training and validation loss and accuracy, as the command prints them.
    """
    import numpy as np
    import torch
    from peers import configure_torch

    configure_torch(threads)
    started = time.perf_counter()
    from sklearn.datasets import load_digits  # chainrule too imports it inside the run

    digits = load_digits()
    features = digits.data.astype(np.float32)
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(labels))
    n_test, n_val = round(0.2 * len(labels)), round(0.1 * len(labels))
    splits = {
        "train": order[n_test + n_val :],
        "val": order[n_test : n_test + n_val],
        "test": order[:n_test],
    }
    mean = features[splits["train"]].mean(axis=0)
    std = features[splits["train"]].std(axis=0)
    std[std == 0] = 1.0
    standardized = torch.from_numpy(((features - mean) / std).astype(np.float32))
    data = {
        name: (standardized[index], torch.from_numpy(labels[index]))
        for name, index in splits.items()
    }
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_function = torch.nn.CrossEntropyLoss()

    def score(name: str) -> tuple[float, float]:
        x, y = data[name]
        with torch.no_grad():
            outputs = model(x)
            loss = loss_function(outputs, y).item()
        return loss, float((outputs.argmax(1) == y).double().mean())

    x, y = data["train"]
    batches = np.random.default_rng(0)
    training = time.perf_counter()
    for epoch in range(1, 31):
        permutation = torch.from_numpy(batches.permutation(len(y)))
        total = 0.0
        for start in range(0, len(y), 64):
            index = permutation[start : start + 64]
            optimizer.zero_grad()
            loss = loss_function(model(x[index]), y[index])
            loss.backward()
            optimizer.step()
            total += loss.item()
        (train_loss, train_accuracy), (val_loss, val_accuracy) = score("train"), score("val")
        print(
            f"epoch {epoch}/30  loss {total / math.ceil(len(y) / 64):.4f}  train loss "
            f"{train_loss:.4f} accuracy {train_accuracy:.4f}  val loss {val_loss:.4f} "
            f"accuracy {val_accuracy:.4f}"
        )
    train_seconds = time.perf_counter() - training
    test_loss, test_accuracy = score("test")
    print(f"test set: loss {test_loss:.4f}, accuracy {100 * test_accuracy:.2f}%")
    seconds = time.perf_counter() - started
    return {
        "run_seconds": seconds,
        "train_seconds": train_seconds,
        "peak_rss": peak_rss(),
        "accuracy": test_accuracy,
    }


def child(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="one isolated measurement (run by run.py)")
    parser.add_argument("task", choices=["deep_chain", "train_digits"])
    parser.add_argument("contender", choices=["chainrule", "chainrule numba", "torch eager"])
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--result", required=True)
    parser.add_argument("--ops", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    from peers import configure_threads

    configure_threads(args.threads)
    if args.task == "deep_chain" and args.contender == "chainrule":
        found = chain_chainrule(args.ops)
    elif args.task == "deep_chain":
        from peers import configure_torch

        configure_torch(args.threads)
        found = chain_torch(args.ops)
    elif args.contender == "chainrule":
        found = digits_chainrule()
    elif args.contender == "chainrule numba":
        found = digits_chainrule("--compile", "numba")
    else:
        found = digits_torch(args.threads)
    Path(args.result).write_text(json.dumps(found))


if __name__ == "__main__":
    sys.path.insert(0, str(BENCHMARKS))
    child(sys.argv[1:])
