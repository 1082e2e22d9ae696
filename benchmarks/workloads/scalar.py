"""Scalar workloads: the recitation's function and micrograd's README expression.

Both build a small graph of float64 scalars and backpropagate through it on every
call, so they measure per-operation overhead rather than arithmetic.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from harness import Result
from peers import have

from workloads import compiled
from workloads.common import Options, timed

#: ``chainrule.compile(chainrule.grad(f, argnums=(0, 1)), backend="numba")(2.0, 3.0)``.
NATIVE_GRAD = "chainrule numba grad"


def closed_form() -> tuple[float, float]:
    """The recitation's gradient at (2, 3), derived by hand, in plain Python."""
    x, z = 2.0, 3.0
    xz, lx = x * z, math.log(x)
    e, s, c = math.exp(xz), math.sin(lx), math.cos(lx)
    dx = z * e + z / lx - z / (lx * lx) + (c - s) / (x * xz)
    dz = x * e + x / lx - s / (xz * z)
    return dx, dz


def seed_scalar(options: Options) -> list[Result]:
    """Gradient of the seed's function at x=2, z=3: graph build + backward each call."""
    import chainrule as cr
    from chainrule.examples import EXPRESSION, seed_function
    from chainrule.symbolic import compile_gradient

    def chainrule_eager() -> object:
        x = cr.tensor(2.0, requires_grad=True)
        z = cr.tensor(3.0, requires_grad=True)
        seed_function(x, z).backward()
        return x.grad, z.grad

    def gradient(x: object, z: object) -> tuple[object, object]:
        seed_function(x, z).backward()
        return x.grad, z.grad

    traced = cr.compile(gradient)
    leaves = (cr.tensor(2.0, requires_grad=True), cr.tensor(3.0, requires_grad=True))

    def chainrule_compiled() -> object:
        for leaf in leaves:
            leaf.grad = None
        return traced(*leaves)

    notes: dict[str, str] = {}
    symbolic = compile_gradient(EXPRESSION, ["x", "z"])
    contenders: dict[str, Callable[[], object]] = {
        "chainrule": chainrule_eager,
        "chainrule compiled": chainrule_compiled,
        "compile_gradient": lambda: symbolic(2.0, 3.0)[1],
        "closed form (math)": closed_form,
    }
    if have("numba"):
        native = cr.compile(gradient, backend="numba")
        native_leaves = (cr.tensor(2.0, requires_grad=True), cr.tensor(3.0, requires_grad=True))
        start = time.perf_counter()
        native(*native_leaves)
        notes[compiled.NATIVE] = f"compile {time.perf_counter() - start:.1f} s (once per shape)"

        def chainrule_native() -> object:
            for leaf in native_leaves:
                leaf.grad = None
            return native(*native_leaves)

        contenders[compiled.NATIVE] = chainrule_native
        # The functional form, as jax.jit(jax.grad(f)) is called: numbers in, numbers out.
        functional = cr.compile(cr.grad(seed_function, argnums=(0, 1)), backend="numba")
        start = time.perf_counter()
        functional(2.0, 3.0)
        notes[NATIVE_GRAD] = f"compile {time.perf_counter() - start:.1f} s (once per shape)"
        contenders[NATIVE_GRAD] = lambda: functional(2.0, 3.0)
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
    if have("jax"):
        import jax
        import jax.numpy as jnp

        def seed_jax(x: float, z: float) -> object:
            xz = x * z
            return jnp.exp(xz) + xz / jnp.log(x) + jnp.sin(jnp.log(x)) / xz

        jitted = jax.jit(jax.grad(seed_jax, argnums=(0, 1)))
        contenders["jax.jit"] = lambda: jax.block_until_ready(jitted(2.0, 3.0))
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
    return timed("seed_scalar", contenders, options, reference="closed form (math)", notes=notes)


def micrograd_expression(a: object, b: object, relu: Callable[[object], object]) -> object:
    """The expression from micrograd's README, for any library's scalars."""
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


def micrograd_expr(options: Options) -> list[Result]:
    """micrograd's README expression, forward and backward."""
    import chainrule as cr

    def chainrule_eager() -> object:
        a = cr.tensor(-4.0, requires_grad=True)
        b = cr.tensor(2.0, requires_grad=True)
        micrograd_expression(a, b, cr.relu).backward()
        return a.grad, b.grad

    contenders: dict[str, Callable[[], object]] = {"chainrule": chainrule_eager}
    if have("torch"):
        import torch

        def torch_eager() -> object:
            a = torch.tensor(-4.0, dtype=torch.float64, requires_grad=True)
            b = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
            micrograd_expression(a, b, torch.relu).backward()
            return a.grad, b.grad

        contenders["torch eager"] = torch_eager
    if have("micrograd"):
        from micrograd.engine import Value

        def micrograd_eager() -> object:
            a, b = Value(-4.0), Value(2.0)
            micrograd_expression(a, b, lambda v: v.relu()).backward()
            return a.grad, b.grad

        contenders["micrograd"] = micrograd_eager
    return timed("micrograd_expr", contenders, options, reference="chainrule")
