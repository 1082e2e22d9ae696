"""Data-parallel training on a local Dask cluster: step time, speed-up, communication share.

    python benchmarks/distributed.py [--samples 200000] [--workers 1 2 4] [--json out.json]

Two problems: scikit-learn's digits (a 64-64-10 MLP, batch 256) and a generated dataset
of ``--samples`` rows × 784 features (a 784-256-10 MLP, batch 8192). Each is trained in one
process (``chainrule.training.fit``, the baseline) and on a LocalCluster of 1, 2 and 4
single-threaded worker processes (``DataParallel``), one epoch after a warm-up. Every
process, the baseline included, uses one BLAS thread, so the speed-up is that of processes.

Reported per step: wall time on the driver, the slowest worker's compute time, and the
communication share (everything else: weights out, gradients back, scheduling, averaging),
plus the speed-up over the one-process baseline measured in the same run. On a machine with
fewer cores than workers the workers share cores, and the speed-up says so.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path

# This file has the name of Dask's package: its folder must not shadow it on the import path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]
_spec = importlib.util.spec_from_file_location("harness", _HERE / "harness.py")
harness = importlib.util.module_from_spec(_spec)
sys.modules["harness"] = harness
_spec.loader.exec_module(harness)
harness.pin_threads(1)

import numpy as np  # noqa: E402

from chainrule import nn  # noqa: E402
from chainrule.data.datasets import load_digits  # noqa: E402
from chainrule.distributed import DataParallel, StepTiming, connect  # noqa: E402
from chainrule.training import build_model, fit, make_optimizer  # noqa: E402


def digits_problem() -> dict:
    digits = load_digits()
    return {
        "name": "digits",
        "features": (digits.features / 16.0).astype(np.float32),
        "labels": digits.labels,
        "sizes": [64, 64, 10],
        "batch_size": 256,
        "epochs": 3,
    }


def synthetic_problem(samples: int) -> dict:
    """Gaussian features labelled by a random linear teacher: 10 classes, 784 features."""
    rng = np.random.default_rng(0)
    features = rng.standard_normal((samples, 784), dtype=np.float32)
    teacher = rng.standard_normal((784, 10), dtype=np.float32)
    return {
        "name": f"synthetic {samples // 1000}k×784",
        "features": features,
        "labels": (features @ teacher).argmax(axis=1),
        "sizes": [784, 256, 10],
        "batch_size": 8192,
        "epochs": 1,
    }


def spec_of(problem: dict) -> dict:
    return {
        "sizes": problem["sizes"],
        "activation": "relu",
        "loss": "cross-entropy",
        "dtype": "float32",
        "classes": [str(c) for c in range(10)],
    }


def parameter_count(sizes: list[int]) -> int:
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True))


def timed_fit(fitter, problem: dict) -> tuple[float, list[dict]]:
    """Mean seconds per step (the first step of each epoch left out) and the rows."""
    spec = spec_of(problem)
    nn.manual_seed(0)
    model = build_model(spec)
    optimizer = make_optimizer("sgd", model, 0.05, 0.9, 0.0)
    stamps: list[float] = []
    intervals: list[float] = []

    def on_batch(epoch, done, total, loss, rate):
        now = time.perf_counter()
        if done > 1:
            intervals.append(now - stamps[-1])
        stamps.append(now)

    train = (problem["features"], problem["labels"])
    empty = (problem["features"][:0], problem["labels"][:0])
    stamps.append(time.perf_counter())
    rows = fitter(
        model, spec, train, empty, optimizer, problem["epochs"], problem["batch_size"], 0, on_batch
    )
    return statistics.fmean(intervals), rows


def run(problem: dict, worker_counts: list[int]) -> list[dict]:
    results = []
    local_step, local_rows = timed_fit(fit, problem)
    parameters = parameter_count(problem["sizes"])
    common = {"dataset": problem["name"], "parameters": parameters, "batch": problem["batch_size"]}
    results.append(
        {
            **common,
            "workers": 0,
            "step_ms": 1e3 * local_step,
            "compute_ms": None,
            "communication_share": None,
            "speedup": 1.0,
            "scatter_s": None,
        }
    )
    print(f"  {problem['name']}: one process {1e3 * local_step:.1f} ms/step", flush=True)
    for workers in worker_counts:
        with connect(workers=workers, timeout=60) as client:
            trainer = DataParallel(client)
            warm_up = {
                **problem,
                "features": problem["features"][:512],
                "labels": problem["labels"][:512],
                "epochs": 1,
                "batch_size": 256,
            }
            timed_fit(trainer.fit, warm_up)  # builds each worker's model
            started = time.perf_counter()  # the one-off cost: the data to every worker
            [data] = client.scatter([problem["features"]], broadcast=True, hash=False)
            scatter_seconds = time.perf_counter() - started
            data.release()
            trainer.timing = StepTiming()
            step, rows = timed_fit(trainer.fit, problem)
            summary = trainer.timing.summary()
        # The same batches and updates as the baseline (float32: equal to rounding).
        assert abs(rows[-1]["loss"] - local_rows[-1]["loss"]) < 1e-3 * abs(local_rows[-1]["loss"])
        results.append(
            {
                **common,
                "workers": workers,
                "step_ms": 1e3 * step,
                "compute_ms": summary["compute_ms"],
                "communication_share": summary["communication_share"],
                "speedup": local_step / step,
                "scatter_s": scatter_seconds,
            }
        )
        print(
            f"  {problem['name']}: {workers} worker(s) {1e3 * step:.1f} ms/step "
            f"(compute {summary['compute_ms']:.1f} ms, communication "
            f"{100 * summary['communication_share']:.0f}%), speed-up {local_step / step:.2f}",
            flush=True,
        )
    return results


def print_table(results: list[dict]) -> None:
    print()
    print(
        f"{'dataset':<20} {'params':>8} {'batch':>6} {'workers':>8} {'ms/step':>9} "
        f"{'compute ms':>10} {'comm share':>10} {'speed-up':>9}"
    )
    for r in results:
        workers = "1 proc" if r["workers"] == 0 else str(r["workers"])
        compute = "" if r["compute_ms"] is None else f"{r['compute_ms']:.1f}"
        share = "" if r["communication_share"] is None else f"{100 * r['communication_share']:.0f}%"
        print(
            f"{r['dataset']:<20} {r['parameters']:>8} {r['batch']:>6} {workers:>8} "
            f"{r['step_ms']:>9.1f} {compute:>10} {share:>10} {r['speedup']:>9.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU cores; one BLAS thread per process")
    results = []
    for problem in (digits_problem(), synthetic_problem(args.samples)):
        results += run(problem, args.workers)
    print_table(results)
    if args.json is not None:
        args.json.write_text(
            json.dumps({"cpu_count": os.cpu_count(), "results": results}, indent=2)
        )


if __name__ == "__main__":
    main()
