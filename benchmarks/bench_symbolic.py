"""Symbolic differentiation benchmarks: ratios against baselines measured in the same run.

    python benchmarks/bench_symbolic.py

1. ``diff`` of the recitation's function and of a random ~200-node expression, against
   SymPy's ``diff`` on the same input (SymPy's cache cleared before each of its runs),
   with the derivative's DAG size against the input's.
2. ``compile_gradient`` of the recitation's function: time per gradient call against a
   hand-written closed form in plain Python (``math``), and against the tensor
   engine's reverse mode (``backward``).

Timings are interleaved (each repetition runs every contender once) and reported as
medians, so drifting machine load affects all contenders alike.
"""

from __future__ import annotations

import math
import random
import statistics
import time

import mpmath
import numpy as np
import sympy as sp
from harness import interleaved_medians

import chainrule as cr
import chainrule.symbolic as S
from chainrule.examples import recitation as seed

REPEATS = 15


def random_expression(rng: random.Random, leaves: int) -> str:
    """Random text over x and z with ``leaves`` leaves (smooth functions, positive logs)."""
    if leaves == 1:
        return rng.choice(["x", "z", "x", "z", str(rng.randint(1, 5))])
    if rng.random() < 0.3:
        inner = random_expression(rng, leaves)
        name = rng.choice(["sin", "cos", "exp", "tanh", "sigmoid", "log1p_sq"])
        return f"log(1 + ({inner})**2)" if name == "log1p_sq" else f"{name}({inner})"
    left = rng.randint(1, leaves - 1)
    op = rng.choice(["+", "-", "*", "*", "/"])
    return f"({random_expression(rng, left)} {op} {random_expression(rng, leaves - left)})"


def expression_of_size(target: int) -> str:
    rng = random.Random(7)
    leaves = 10
    while True:
        text = random_expression(rng, leaves)
        if S.parse(text).size().dag >= target:
            return text
        leaves += 2


def sympy_sizes(expression: sp.Expr) -> tuple[int, int]:
    nodes = list(sp.preorder_traversal(expression))
    return len(nodes), len(set(nodes))


def bench_diff(label: str, text: str, repeats: int) -> None:
    ours = S.parse(text)
    theirs = S.to_sympy(ours)
    x = sp.Symbol("x")

    def sympy_diff() -> object:
        sp.core.cache.clear_cache()
        start = time.perf_counter()
        sp.diff(theirs, x)
        return time.perf_counter() - start

    ours_times, sympy_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        derivative = S.diff(ours, "x")
        ours_times.append(time.perf_counter() - start)
        del derivative
        sympy_times.append(sympy_diff())
    ours_median, sympy_median = statistics.median(ours_times), statistics.median(sympy_times)
    derivative = S.diff(ours, "x")
    sympy_derivative = sp.diff(theirs, x)
    # SymPy's derivative is evaluated with mpmath (30 digits, unbounded exponents): its
    # float64 form overflows inside on random trees even where the derivative is finite.
    at = {"x": 0.3, "z": 0.2}
    mpmath.mp.dps = 30
    reference_fn = sp.lambdify((x, sp.Symbol("z")), sympy_derivative, "mpmath")
    reference = float(reference_fn(mpmath.mpf(at["x"]), mpmath.mpf(at["z"])))
    with np.errstate(all="ignore"):
        check = abs(float(derivative.evaluate(**at)) - reference) / (1 + abs(reference))
    size, d_size = ours.size(), derivative.size()
    sympy_tree, sympy_dag = sympy_sizes(sympy_derivative)
    print(f"\n== diff of {label} (d/dx; relative difference from SymPy {check:.1e})")
    print(f"  input:        tree {size.tree:6d}  dag {size.dag:5d}")
    print(
        f"  chainrule:    tree {d_size.tree:6d}  dag {d_size.dag:5d}  "
        f"(dag ratio {d_size.dag / size.dag:.2f})  {ours_median * 1e3:8.3f} ms"
    )
    print(
        f"  sympy:        tree {sympy_tree:6d}  dag {sympy_dag:5d}  "
        f"                  {sympy_median * 1e3:8.3f} ms"
    )
    print(f"  sympy time / chainrule time: {sympy_median / ours_median:.1f}x")


def closed_form(x: float, z: float) -> tuple[float, tuple[float, float]]:
    """The recitation's gradient derived by hand, in plain Python."""
    xz = x * z
    lx = math.log(x)
    e = math.exp(xz)
    s, c = math.sin(lx), math.cos(lx)
    value = e + xz / lx + s / xz
    dx = z * e + z / lx - z / (lx * lx) + (c - s) / (x * xz)
    dz = x * e + x / lx - s / (xz * z)
    return value, (dx, dz)


def engine_backward() -> tuple[float, float]:
    x = cr.tensor(2.0, requires_grad=True)
    z = cr.tensor(3.0, requires_grad=True)
    seed.seed_function(x, z).backward()
    return x.grad.item(), z.grad.item()


def bench_compile_gradient() -> None:
    start = time.perf_counter()
    compiled = S.compile_gradient(seed.EXPRESSION, ["x", "z"])
    build = time.perf_counter() - start
    want = closed_form(2.0, 3.0)
    got = compiled(2.0, 3.0)
    assert math.isclose(got[0], want[0], rel_tol=1e-14), (got, want)
    assert all(math.isclose(a, b, rel_tol=1e-13) for a, b in zip(got[1], want[1], strict=True))
    times = interleaved_medians(
        {
            "compile_gradient": lambda: compiled(2.0, 3.0),
            "hand-written closed form": lambda: closed_form(2.0, 3.0),
            "engine backward": engine_backward,
            "cr.grad": lambda: cr.grad(seed.seed_function, argnums=(0, 1))(2.0, 3.0),
        },
        repeats=REPEATS,
        number=2000,
    )
    base = times["compile_gradient"]
    print("\n== gradient of the recitation's function at (2, 3), per call")
    print(f"  (compile_gradient built the function in {build * 1e3:.1f} ms)")
    for name, seconds in times.items():
        print(f"  {name:26s} {seconds * 1e6:9.2f} us   {seconds / base:6.2f}x compile_gradient")
    print(
        f"  compile_gradient / closed form: {base / times['hand-written closed form']:.2f}x "
        "(goal: within 2x)"
    )


def main() -> None:
    bench_diff("the recitation's function", seed.EXPRESSION, REPEATS)
    bench_diff("a random 200-node expression", expression_of_size(200), repeats=3)
    bench_compile_gradient()


if __name__ == "__main__":
    main()
