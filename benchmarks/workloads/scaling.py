"""scaling: reverse mode costs a few evaluations of f at any size, central differences 2D.

f(x) = sum(sin(x) * x**2) + sum(x[:-1] * x[1:]) for D = 10 ... 100,000 (float64). A
reverse-mode gradient costs a constant number of evaluations of f (O(1)), central
differences cost 2D of them (O(D)), so the gap grows linearly with D. The
differences here are the cheapest possible: a NumPy loop over the coordinates,
each step one evaluation of plain-NumPy f. They are measured while one gradient is
estimated to take at most ``--fd-budget`` seconds, and extrapolated beyond that as
2D evaluations of f at the measured per-evaluation cost (the loop's overhead over
bare evaluations measured at the largest D that was run). The figure is a log-log
plot of time against D, and of each gradient's cost in evaluations of f.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from harness import Result, agreement, format_seconds, measure
from peers import have

from workloads.common import Options

DIMENSIONS = (10, 30, 100, 300, 1_000, 3_000, 10_000, 30_000, 100_000)
QUICK_DIMENSIONS = (10, 100, 1_000, 10_000, 100_000)
F = "f (NumPy)"
CLOSED = "closed form (NumPy)"
FD = "central differences"
EXTRAPOLATED = "extrapolated"


def f_numpy(x: np.ndarray) -> float:
    return np.sum(np.sin(x) * x**2) + np.sum(x[:-1] * x[1:])


def closed_form(x: np.ndarray) -> np.ndarray:
    """The gradient by hand: cos(x) x^2 + 2x sin(x), plus each coordinate's neighbours."""
    g = np.cos(x) * x**2 + 2 * x * np.sin(x)
    g[:-1] += x[1:]
    g[1:] += x[:-1]
    return g


def central_differences(x: np.ndarray) -> np.ndarray:
    """The gradient from 2D evaluations of f, with the step chainrule.fd uses (cbrt(eps))."""
    h = np.finfo(x.dtype).eps ** (1 / 3)
    moved = x.copy()
    g = np.empty_like(x)
    for i in range(x.size):
        xi = moved[i]
        step = h * max(1.0, abs(xi))
        moved[i] = xi + step
        plus = f_numpy(moved)
        moved[i] = xi - step
        minus = f_numpy(moved)
        moved[i] = xi
        g[i] = (plus - minus) / (2 * step)
    return g


def gradients(x: np.ndarray) -> dict[str, Callable[[], object]]:
    """Reverse-mode gradients of f at ``x`` in every installed library, and the closed form."""
    import chainrule as cr

    def f_chainrule(v: object) -> object:
        return cr.sum(cr.sin(v) * v**2) + cr.sum(v[:-1] * v[1:])

    chainrule_grad = cr.grad(f_chainrule)
    found: dict[str, Callable[[], object]] = {
        CLOSED: lambda: closed_form(x),
        "chainrule": lambda: chainrule_grad(x),
    }
    if have("torch"):
        import torch

        x_torch = torch.from_numpy(x)

        def torch_grad() -> object:
            v = x_torch.detach().requires_grad_()
            y = torch.sum(torch.sin(v) * v**2) + torch.sum(v[:-1] * v[1:])
            return torch.autograd.grad(y, v)[0]

        found["torch eager"] = torch_grad
    if have("jax"):
        import jax
        import jax.numpy as jnp

        jitted = jax.jit(jax.grad(lambda v: jnp.sum(jnp.sin(v) * v**2) + jnp.sum(v[:-1] * v[1:])))
        x_jax = jnp.asarray(x)
        found["jax.jit"] = lambda: jax.block_until_ready(jitted(x_jax))
    if have("autograd"):
        import autograd
        import autograd.numpy as anp

        hips = autograd.grad(lambda v: anp.sum(anp.sin(v) * v**2) + anp.sum(v[:-1] * v[1:]))
        found["HIPS autograd"] = lambda: hips(x)
    return found


def seconds_per_call(run: Callable[[], object], at_least: float = 0.02) -> float:
    """A quick estimate (best of a few short batches), to decide what is worth measuring."""
    number, best = 1, math.inf
    while True:
        start = time.perf_counter()
        for _ in range(number):
            run()
        elapsed = time.perf_counter() - start
        best = min(best, elapsed / number)
        if elapsed >= at_least:
            return best
        number *= 4


def scaling(options: Options) -> list[Result]:
    """Times of f, of each reverse-mode gradient and of central differences, per D."""
    rng = np.random.default_rng(0)
    results: list[Result] = []
    last_measured: tuple[int, float] | None = None  # (D, FD time / (2D × f time))
    for dimension in QUICK_DIMENSIONS if options.quick else DIMENSIONS:
        x = rng.uniform(-2, 2, dimension)
        metric = f"D={dimension:,}"
        found = gradients(x)
        estimate = 2 * dimension * seconds_per_call(lambda x=x: f_numpy(x))
        if estimate <= options.fd_budget:
            found[FD] = lambda x=x: central_differences(x)
        checks = agreement(found, CLOSED, calls=1)
        group = measure("scaling", {F: lambda x=x: f_numpy(x), **found}, options.rounds)
        for r in group:
            r.metric, r.check = metric, checks.get(r.contender)
        f_time = group[0].median
        fd = next((r for r in group if r.contender == FD), None)
        if fd is not None:
            last_measured = (dimension, fd.median / (2 * dimension * f_time))
        elif last_measured is not None:
            measured_at, overhead = last_measured
            note = (
                f"{EXTRAPOLATED}: 2D × f time × {overhead:.2f}, the ratio measured at "
                f"D={measured_at:,}"
            )
            seconds = 2 * dimension * f_time * overhead
            group.append(Result("scaling", FD, seconds, metric=metric, note=note))
        results += group
    plot(results, options.plot)
    return results


def by_dimension(results: list[Result]) -> dict[int, dict[str, Result]]:
    table: dict[int, dict[str, Result]] = {}
    for r in results:
        table.setdefault(int(r.metric[2:].replace(",", "")), {})[r.contender] = r
    return table


def print_table(results: list[Result]) -> None:
    """Time per call for each D, then each gradient's cost in evaluations of f."""
    table = by_dimension(results)
    names = list(dict.fromkeys(r.contender for r in results))
    width = max(14, *(len(n) + 2 for n in names))
    print("\n  time per call (~: extrapolated, not measured)")
    print(f"  {'D':>9}" + "".join(f"{n:>{width}}" for n in names))
    for dimension, row in table.items():
        cells = []
        for name in names:
            r = row.get(name)
            mark = "~" if r is not None and extrapolated(r) else ""
            cells.append("—" if r is None else mark + format_seconds(r.median))
        print(f"  {dimension:>9,}" + "".join(f"{c:>{width}}" for c in cells))
    print("\n  gradient cost in evaluations of f (time / time of f)")
    print(f"  {'D':>9}" + "".join(f"{n:>{width}}" for n in names[1:]))
    for dimension, row in table.items():
        f_time = row[F].median
        cells = ["—" if n not in row else f"{row[n].median / f_time:,.1f}" for n in names[1:]]
        print(f"  {dimension:>9,}" + "".join(f"{c:>{width}}" for c in cells))
    notes = {r.note for r in results if r.note}
    for note in sorted(notes):
        print(f"  {FD}: {note}")


def extrapolated(result: Result) -> bool:
    return result.note.startswith(EXTRAPOLATED)


def draw(axes, name: str, points: list[tuple[int, float, bool]], color: str | None = None) -> str:
    """Measured points solid with markers, extrapolated ones dashed; returns the line's colour."""
    measured = [(d, v) for d, v, guess in points if not guess]
    guessed = [(d, v) for d, v, guess in points if guess]
    line = axes.plot(*zip(*measured, strict=True), marker="o", color=color, label=name)[0]
    if guessed:
        axes.plot(
            *zip(*(measured[-1:] + guessed), strict=True),
            linestyle="--",
            color=line.get_color(),
            label=f"{name} ({EXTRAPOLATED})",
        )
    return line.get_color()


def plot(results: list[Result], path: Path) -> None:
    """Log-log time against D, and cost in evaluations of f, to a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = by_dimension(results)
    names = list(dict.fromkeys(r.contender for r in results))
    figure, (times, costs) = plt.subplots(1, 2, figsize=(12, 5))
    for name in names:
        points = [(d, row[name]) for d, row in table.items() if name in row]
        color = draw(times, name, [(d, r.median, extrapolated(r)) for d, r in points])
        if name != F:
            costs_of_f = [(d, r.median / table[d][F].median, extrapolated(r)) for d, r in points]
            draw(costs, name, costs_of_f, color)
    times.set(xscale="log", yscale="log", xlabel="D", ylabel="seconds per call")
    times.set_title("f(x) = Σ sin(x)·x² + Σ x[:-1]·x[1:] and its gradient")
    costs.set(xscale="log", yscale="log", xlabel="D", ylabel="time / time of f")
    costs.set_title("gradient cost in evaluations of f: O(1) vs 2D")
    for axes in (times, costs):
        axes.grid(alpha=0.3, which="both")
        axes.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
