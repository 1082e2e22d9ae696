"""The benchmark suite: every workload, chainrule against whichever peers are installed.

    python benchmarks/run.py                      # all workloads, 1 BLAS thread
    python benchmarks/run.py --threads 2 seed_scalar micrograd_expr --json out.json

Peers (optional, the ``bench`` extra): PyTorch (CPU build), HIPS autograd, micrograd,
plus hand-written closed forms / NumPy lower bounds. All contenders use float64 for
scalar workloads; thread settings apply to every contender (BLAS variables are set
before NumPy is imported, and torch.set_num_threads). Times are medians of
interleaved rounds; ratios are chainrule / peer from the same run.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import pin_threads  # noqa: E402


def have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


# --- workloads: each returns {contender: zero-argument callable} --------------------


def seed_scalar() -> dict[str, Callable[[], object]]:
    """Gradient of the seed's function at x=2, z=3: graph build + backward each call."""
    import chainrule as cr
    from chainrule.seed import seed_function

    def chainrule_eager() -> object:
        x = cr.tensor(2.0, requires_grad=True)
        z = cr.tensor(3.0, requires_grad=True)
        seed_function(x, z).backward()
        return x.grad, z.grad

    def closed_form() -> tuple[float, float]:
        x, z = 2.0, 3.0
        xz, lx = x * z, math.log(x)
        e, s, c = math.exp(xz), math.sin(lx), math.cos(lx)
        dx = z * e + z / lx - z / (lx * lx) + (c - s) / (x * xz)
        dz = x * e + x / lx - s / (xz * z)
        return dx, dz

    contenders: dict[str, Callable[[], object]] = {
        "chainrule": chainrule_eager,
        "closed form (math)": closed_form,
    }
    if have("torch"):
        import torch

        def torch_eager() -> object:
            x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
            z = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
            xz = x * z
            y = torch.exp(xz) + xz / torch.log(x) + torch.sin(torch.log(x)) / xz
            y.backward()
            return x.grad, z.grad

        contenders["torch eager"] = torch_eager
    if have("autograd"):
        import autograd
        import autograd.numpy as anp

        def seed_np(x: float, z: float) -> object:
            xz = x * z
            return anp.exp(xz) + xz / anp.log(x) + anp.sin(anp.log(x)) / xz

        hips = autograd.grad(seed_np, argnum=(0, 1))
        contenders["HIPS autograd"] = lambda: hips(2.0, 3.0)
    if have("micrograd"):
        from micrograd.engine import Value
        from micrograd_ext import exp, log, sin

        def micrograd_seed() -> object:
            x, z = Value(2.0), Value(3.0)
            xz = x * z
            y = exp(xz) + xz / log(x) + sin(log(x)) / xz
            y.backward()
            return x.grad, z.grad

        contenders["micrograd"] = micrograd_seed
    return contenders


def micrograd_expr() -> dict[str, Callable[[], object]]:
    """micrograd's README expression, forward and backward."""
    import chainrule as cr

    def expression(a: object, b: object, relu: Callable[[object], object]) -> object:
        c = a + b
        d = a * b + b**3
        c = c + c + 1
        c = c + 1 + c + (-a)
        d = d + d * 2 + relu(b + a)
        d = d + 3 * d + relu(b - a)
        e = c - d
        f = e**2
        g = f / 2.0
        return g + 10.0 / f

    def chainrule_eager() -> object:
        a = cr.tensor(-4.0, requires_grad=True)
        b = cr.tensor(2.0, requires_grad=True)
        expression(a, b, cr.relu).backward()
        return a.grad, b.grad

    contenders: dict[str, Callable[[], object]] = {"chainrule": chainrule_eager}
    if have("torch"):
        import torch

        def torch_eager() -> object:
            a = torch.tensor(-4.0, dtype=torch.float64, requires_grad=True)
            b = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
            expression(a, b, torch.relu).backward()
            return a.grad, b.grad

        contenders["torch eager"] = torch_eager
    if have("micrograd"):
        from micrograd.engine import Value

        def micrograd_eager() -> object:
            a, b = Value(-4.0), Value(2.0)
            expression(a, b, lambda v: v.relu()).backward()
            return a.grad, b.grad

        contenders["micrograd"] = micrograd_eager
    return contenders


WORKLOADS: dict[str, Callable[[], dict[str, Callable[[], object]]]] = {
    "seed_scalar": seed_scalar,
    "micrograd_expr": micrograd_expr,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", help=f"some of: {', '.join(WORKLOADS)}")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {', '.join(WORKLOADS)}")
    pin_threads(args.threads)

    import harness
    import numpy as np

    if have("torch"):
        import torch

        torch.set_num_threads(args.threads)
    results = []
    for name in args.workloads or WORKLOADS:
        results += harness.measure(name, WORKLOADS[name](), rounds=args.rounds)
    rows = harness.report(results)
    settings = {"threads": args.threads, "rounds": args.rounds, "numpy": np.__version__}
    print(f"\nsettings: {settings}; times are medians; ratios chainrule/peer (lower is better)")
    if args.json:
        harness.write_json(rows, args.json, settings)


if __name__ == "__main__":
    main()
