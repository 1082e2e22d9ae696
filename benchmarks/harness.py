"""Timing harness shared by the benchmark scripts: interleaved rounds, medians, ratios.

Contenders of one workload are timed in turns (round 1: A, B, C; round 2: A, B, C;
...), so a slow phase of a noisy machine hits all of them alike. Each round runs a
contender enough times to take about ``target_seconds``; the reported time is the
median over rounds, and every ratio compares two medians from the same run.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def pin_threads(threads: int) -> None:
    """Ask every BLAS for ``threads`` threads; must run before NumPy is imported."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)


@dataclass
class Result:
    workload: str
    contender: str
    median_seconds: float
    rounds: list[float] = field(default_factory=list)


def _calibrate(run: Callable[[], object], target_seconds: float) -> int:
    """How many calls make one round last about ``target_seconds``."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            run()
        elapsed = time.perf_counter() - start
        if elapsed >= target_seconds / 4 or number >= 1 << 20:
            return max(1, int(number * target_seconds / max(elapsed, 1e-9)))
        number *= 4


def measure(
    workload: str,
    contenders: dict[str, Callable[[], object]],
    rounds: int = 7,
    target_seconds: float = 0.05,
) -> list[Result]:
    """Median seconds per call of each contender, measured in interleaved rounds."""
    numbers = {name: _calibrate(run, target_seconds) for name, run in contenders.items()}
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            number = numbers[name]
            start = time.perf_counter()
            for _ in range(number):
                run()
            samples[name].append((time.perf_counter() - start) / number)
    return [
        Result(workload, name, statistics.median(times), times) for name, times in samples.items()
    ]


def format_seconds(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:,.3g} {unit}"
    return f"{seconds / 1e-9:,.3g} ns"


def report(results: list[Result], reference: str = "chainrule") -> list[dict]:
    """Print a table per workload with each contender's median and chainrule/contender ratio."""
    rows = []
    for workload in dict.fromkeys(r.workload for r in results):
        group = [r for r in results if r.workload == workload]
        ours = next((r for r in group if r.contender == reference), None)
        print(f"\n{workload}")
        for r in group:
            ratio = ours.median_seconds / r.median_seconds if ours else float("nan")
            shown = "" if r.contender == reference else f"   chainrule/{r.contender} = {ratio:.2f}"
            print(f"  {r.contender:<28} {format_seconds(r.median_seconds):>12}{shown}")
            rows.append(
                {
                    "workload": workload,
                    "contender": r.contender,
                    "median_seconds": r.median_seconds,
                    "chainrule_ratio": None if r.contender == reference else ratio,
                }
            )
    return rows


def write_json(rows: list[dict], path: str, settings: dict) -> None:
    with open(path, "w") as stream:
        json.dump({"settings": settings, "results": rows}, stream, indent=2)
