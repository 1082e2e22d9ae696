"""Timing harness shared by the benchmark scripts: interleaved rounds, medians, ratios.

Contenders of one workload are timed in turns (round 1: A, B, C; round 2: A, B, C;
...), so a slow phase of a noisy machine hits all of them alike. Each round runs a
contender enough times to take about ``target_seconds``; the reported time is the
median over rounds, and every ratio compares two medians from the same run.

A result is one number for one contender: a time (unit "s"), a memory size ("B")
or a dimensionless factor ("x"); ``metric`` names what was measured when a workload
reports several (e.g. backward time and peak memory).
"""

from __future__ import annotations

import json
import math
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

#: The contenders that are chainrule itself; every peer gets a ratio against each of them.
OURS = (
    "chainrule",
    "chainrule compiled",
    "chainrule numba",
    "chainrule numba grad",
    "compile_gradient",
)


def pin_threads(threads: int) -> None:
    """Ask every BLAS for ``threads`` threads; must run before NumPy is imported."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)


@dataclass
class Result:
    workload: str
    contender: str
    median: float
    rounds: list[float] = field(default_factory=list)
    metric: str = "time"
    unit: str = "s"
    note: str = ""
    check: float | None = None

    @property
    def median_seconds(self) -> float:
        """The median of a timing (the name earlier scripts use)."""
        return self.median


def interleaved_medians(
    contenders: dict[str, Callable[[], object]], repeats: int, number: int
) -> dict[str, float]:
    """Median seconds per call of each contender over ``repeats`` interleaved rounds of
    ``number`` calls (the scripts that time a fixed number of calls use this)."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, run in contenders.items():
            start = time.perf_counter()
            for _ in range(number):
                run()
            samples[name].append((time.perf_counter() - start) / number)
    return {name: statistics.median(times) for name, times in samples.items()}


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
    metric: str = "time",
) -> list[Result]:
    """Median seconds per call of each contender, measured in interleaved rounds.

    Every contender is called once before calibration, so one-off costs (a JIT
    compilation, a first allocation) stay out of the timing.
    """
    for run in contenders.values():
        run()
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
        Result(workload, name, statistics.median(times), times, metric=metric)
        for name, times in samples.items()
    ]


def numbers_of(value: object) -> list[float]:
    """The floats inside a contender's result (tuples, arrays, tensors, micrograd Values)."""
    import numpy as np

    if isinstance(value, (tuple, list)):
        return [number for item in value for number in numbers_of(item)]
    if hasattr(value, "detach"):  # a PyTorch tensor
        value = value.detach().numpy()
    data = getattr(value, "data", None)  # a chainrule Tensor's array, a micrograd Value's float
    if isinstance(data, (float, np.ndarray)):
        value = data
    return [float(v) for v in np.asarray(value, dtype=np.float64).ravel()]


def relative_difference(got: Sequence[float], want: Sequence[float]) -> float:
    """max |got - want| / max(1, max |want|): 0 for equal results, inf for a shape mismatch."""
    if len(got) != len(want):
        return math.inf
    scale = max([1.0, *(abs(w) for w in want)])
    return max((abs(g - w) for g, w in zip(got, want, strict=True)), default=0.0) / scale


def agreement(
    contenders: dict[str, Callable[[], object]], reference: str, calls: int = 2
) -> dict[str, float]:
    """Each contender's relative difference from ``reference`` on its ``calls``-th call.

    Stateful contenders (a training step) are compared after the same number of
    steps from the same start, so the check covers the update as well as the loss.
    """
    outputs = {}
    for name, run in contenders.items():
        for _ in range(calls):
            out = run()
        outputs[name] = numbers_of(out)
    want = outputs[reference]
    return {name: relative_difference(got, want) for name, got in outputs.items()}


def format_value(value: float, unit: str) -> str:
    if math.isnan(value):
        return "—"
    if unit == "B":
        return f"{value / 2**20:,.1f} MiB"
    if unit == "x":
        return f"{value:.2f}×"
    return format_seconds(value)


def format_check(difference: float | None) -> str:
    """A relative difference in one significant digit: "0" when equal, "—" when unchecked."""
    if difference is None:
        return "—"
    return "0" if difference == 0 else f"{difference:.0e}"


def format_seconds(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:,.3g} {unit}"
    return f"{seconds / 1e-9:,.3g} ns"


def ratios(group: list[Result]) -> dict[str, dict[str, float]]:
    """For each contender, {ours: our median / its median} for every chainrule contender."""
    ours = {r.contender: r.median for r in group if r.contender in OURS and math.isfinite(r.median)}
    return {
        r.contender: {
            name: value / r.median if r.median else math.nan
            for name, value in ours.items()
            if name != r.contender
        }
        for r in group
    }


def groups(results: list[Result]) -> dict[tuple[str, str], list[Result]]:
    """Results by (workload, metric), in the order they were measured."""
    grouped: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        grouped.setdefault((r.workload, r.metric), []).append(r)
    return grouped


def print_table(results: list[Result], titles: dict[str, str] | None = None) -> None:
    """One table per workload and metric: median, ratios against each chainrule contender,
    the result check and any note."""
    titles = titles or {}
    shown_titles = set()
    for (workload, metric), group in groups(results).items():
        if workload not in shown_titles:
            shown_titles.add(workload)
            print(f"\n{workload}: {titles.get(workload, '')}".rstrip(": "))
        table = ratios(group)
        ours = [r.contender for r in group if r.contender in OURS and math.isfinite(r.median)]
        width = max(len(metric), *(len(r.contender) for r in group)) + 2
        header = f"  {metric:<{width}}{'median':>12}" + "".join(
            f"{name + '/row':>{max(14, len(name) + 6)}}" for name in ours
        )
        checks = any(r.check is not None for r in group)
        print(header + ("   check" if checks else ""))
        for r in group:
            line = f"  {r.contender:<{width}}{format_value(r.median, r.unit):>12}"
            for name in ours:
                ratio = table[r.contender].get(name)
                shown = "" if ratio is None or math.isnan(ratio) else f"{ratio:.2f}"
                line += f"{shown:>{max(14, len(name) + 6)}}"
            if checks:
                line += f"   {format_check(r.check):>5}"
            if r.note:
                line += f"   {r.note}"
            print(line)


def report(results: list[Result]) -> list[dict]:
    """Print the tables and return one JSON-ready row per result (with its ratios)."""
    print_table(results)
    return rows(results)


def rows(results: list[Result]) -> list[dict]:
    """JSON-ready rows: each result with its unit, rounds and ratios against ours."""
    out = []
    for group in groups(results).values():
        table = ratios(group)
        for r in group:
            row = {key: _finite(value) for key, value in asdict(r).items()}
            row["rounds"] = [_finite(v) for v in r.rounds]
            row["ratios"] = {
                f"{name}/{r.contender}": _finite(v) for name, v in table[r.contender].items()
            }
            row["chainrule_ratio"] = row["ratios"].get(f"chainrule/{r.contender}")
            out.append(row)
    return out


def _finite(value: object) -> object:
    """JSON has no NaN or infinity: those become null."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def write_json(rows: list[dict], path: str, settings: dict) -> None:
    with open(path, "w") as stream:
        json.dump({"settings": settings, "results": rows}, stream, indent=2, allow_nan=False)
