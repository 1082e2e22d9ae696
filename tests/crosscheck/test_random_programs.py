"""Random tensor programs and random scalar expressions, cross-checked every way we have.

Each random program must agree across reverse mode, forward mode, the Jacobian built
both ways, central differences, the complex step, two routes to second order
(reverse-over-reverse and forward-over-reverse), ``chainrule.compile`` and, where it
is installed, PyTorch running the same program. Random scalar expressions also go
through the symbolic differentiator's compiled gradient.

The CI profile runs a few dozen programs per check. The thorough profile runs
thousands (``CHAINRULE_THOROUGH=1 python -m pytest tests/crosscheck``, see the README).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.symbolic as S

THOROUGH = os.environ.get("CHAINRULE_THOROUGH") == "1"
PROGRAMS = settings(
    max_examples=4000 if THOROUGH else 25,
    deadline=None,
    derandomize=not THOROUGH,
    suppress_health_check=[HealthCheck.too_slow],
)

ROWS, COLS = 3, 4

# --- the catalogue: one step maps a (ROWS, COLS) value to another ---------------------
# Each step is (chainrule version, PyTorch version); ``c`` holds the program's other
# inputs (y: (COLS,), w: (COLS, ROWS)) and the step's drawn options.


def _torch():
    return pytest.importorskip("torch")


STEPS = {
    "tanh": (lambda v, c: cr.tanh(v), lambda v, c, T: T.tanh(v)),
    "sin": (lambda v, c: cr.sin(v), lambda v, c, T: T.sin(v)),
    "sigmoid": (lambda v, c: cr.sigmoid(v), lambda v, c, T: T.sigmoid(v)),
    "gauss": (lambda v, c: cr.exp(-v * v), lambda v, c, T: T.exp(-v * v)),
    "square": (lambda v, c: 0.5 * v * v, lambda v, c, T: 0.5 * v * v),
    "broadcast-row": (lambda v, c: v * c["y"] + c["y"], lambda v, c, T: v * c["y"] + c["y"]),
    "broadcast-column": (
        lambda v, c: v / (1.5 + cr.tanh(v.sum(axis=1, keepdims=True))),
        lambda v, c, T: v / (1.5 + T.tanh(v.sum(dim=1, keepdim=True))),
    ),
    "center": (
        lambda v, c: v - v.mean(axis=c["axis"], keepdims=True),
        lambda v, c, T: v - v.mean(dim=c["axis"], keepdim=True),
    ),
    "scale-by-max": (
        lambda v, c: v * v.max(axis=c["axis"], keepdims=True),
        lambda v, c, T: v * v.amax(dim=c["axis"], keepdim=True),
    ),
    "repeated-rows": (lambda v, c: v[[2, 0, 0]] + v, lambda v, c, T: v[[2, 0, 0]] + v),
    "matmul-chain": (
        lambda v, c: 0.3 * ((v @ c["w"]) @ v),
        lambda v, c, T: 0.3 * ((v @ c["w"]) @ v),
    ),
    "where": (
        lambda v, c: cr.where(v > 0.1, v, 0.5 * v * v),
        lambda v, c, T: T.where(v > 0.1, v, 0.5 * v * v),
    ),
    "clip": (lambda v, c: cr.clip(v, -0.6, 0.7), lambda v, c, T: T.clamp(v, -0.6, 0.7)),
    "maximum": (lambda v, c: cr.maximum(v, c["y"]), lambda v, c, T: T.maximum(v, c["y"])),
    "softmax": (
        lambda v, c: cr.softmax(v, axis=c["axis"]),
        lambda v, c, T: T.softmax(v, dim=c["axis"]),
    ),
    "logsumexp": (
        lambda v, c: v - cr.logsumexp(v, axis=1, keepdims=True),
        lambda v, c, T: v - T.logsumexp(v, dim=1, keepdim=True),
    ),
    "mix": (lambda v, c: v * c["mix"] + v, lambda v, c, T: v * c["mix"] + v),
}


@st.composite
def programs(draw):
    """A program: steps applied in turn, each to the previous value or to an earlier one."""
    names = sorted(STEPS)
    steps = []
    for i in range(draw(st.integers(1, 6))):
        steps.append(
            (
                draw(st.sampled_from(names)),
                draw(st.integers(0, 1)),  # the axis of reductions
                draw(st.integers(0, i)),  # which earlier value it reads
            )
        )
    return steps


def run(steps, x, y, w, lib=None, weights=None):
    """The program's value: a weighted sum of all values it made (or, without weights, the
    last value, for Jacobians). ``lib`` is torch for the PyTorch twin."""
    values = [x]
    for name, axis, source in steps:
        context = {"y": y, "w": w, "axis": axis, "mix": values[0]}
        chainrule_step, torch_step = STEPS[name]
        value = values[source]
        values.append(
            chainrule_step(value, context) if lib is None else torch_step(value, context, lib)
        )
    if weights is None:
        return values[-1]
    return sum((v * weights[k]).sum() for k, v in enumerate(values[1:]))


def inputs(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((ROWS, COLS)) * 0.7
    y = rng.standard_normal(COLS) * 0.7
    w = rng.standard_normal((COLS, ROWS)) * 0.5
    weights = rng.standard_normal((7, ROWS, COLS))
    direction = rng.standard_normal((ROWS, COLS))
    return x, y, w, weights, direction


def close(got, want, rtol=1e-9, atol=1e-10):
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=rtol, atol=atol)


@PROGRAMS
@given(steps=programs(), seed=st.integers(0, 2**20))
def test_reverse_forward_and_jacobians_agree(steps, seed):
    x, y, w, weights, direction = inputs(seed)

    def loss(v):
        return run(steps, v, y, w, weights=weights)

    gradient = cr.grad(loss)(x)
    _, directional = cr.jvp(loss, (x,), (direction,))
    close(directional, np.sum(gradient * direction))

    def last(v):
        return run(steps, v, y, w)

    close(cr.jacobian(last, mode="rev")(x), cr.jacobian(last, mode="fwd")(x))


@PROGRAMS
@given(steps=programs(), seed=st.integers(0, 2**20))
def test_gradient_agrees_with_central_differences_and_the_complex_step(steps, seed):
    x, y, w, weights, _ = inputs(seed)

    def loss(v):
        return run(steps, v, y, w, weights=weights)

    gradient = cr.grad(loss)(x)
    close(cr.fd.gradient(loss, x, scheme="complex-step"), gradient, rtol=1e-8, atol=1e-9)
    close(cr.fd.gradient(loss, x), gradient, rtol=1e-5, atol=1e-6)


@PROGRAMS
@given(steps=programs(), seed=st.integers(0, 2**20))
def test_two_routes_to_second_order_agree(steps, seed):
    x, y, w, weights, direction = inputs(seed)

    def loss(v):
        return run(steps, v, y, w, weights=weights)

    # forward over reverse: the directional derivative of the gradient
    _, forward_over_reverse = cr.jvp(cr.grad(loss), (x,), (direction,))
    # reverse over reverse: the gradient of <gradient, direction>
    reverse_over_reverse = cr.grad(lambda v: (cr.grad(loss)(v) * direction).sum())(x)
    close(forward_over_reverse, reverse_over_reverse, rtol=1e-8, atol=1e-9)


@PROGRAMS
@given(steps=programs(), seed=st.integers(0, 2**20))
def test_compiled_program_agrees_with_eager(steps, seed):
    x, y, w, weights, _ = inputs(seed)

    def loss(v):
        return run(steps, v, y, w, weights=weights)

    compiled = cr.compile(cr.value_and_grad(loss))
    for shift in (0.0, 0.25):
        value, gradient = compiled(x + shift)
        eager_value, eager_gradient = cr.value_and_grad(loss)(x + shift)
        close(value, eager_value, rtol=1e-12, atol=1e-12)
        close(gradient, eager_gradient, rtol=1e-12, atol=1e-12)


@PROGRAMS
@given(steps=programs(), seed=st.integers(0, 2**20))
def test_values_and_gradients_agree_with_pytorch(steps, seed):
    torch = _torch()
    x, y, w, weights, _ = inputs(seed)
    value, gradient = cr.value_and_grad(lambda v: run(steps, v, y, w, weights=weights))(x)
    tx = torch.tensor(x, requires_grad=True)
    as_torch = [torch.tensor(a) for a in (y, w, weights)]
    torch_value = run(steps, tx, *as_torch[:2], lib=torch, weights=as_torch[2])
    torch_value.backward()
    close(value, torch_value.item(), rtol=1e-10, atol=1e-10)
    close(gradient, tx.grad.numpy(), rtol=1e-9, atol=1e-10)


# --- random scalar expressions ----------------------------------------------------------

UNARY = ["exp", "sin", "cos", "tanh", "sigmoid", "log", "sqrt"]
POSITIVE_ONLY = {"log", "sqrt"}


@st.composite
def expressions(draw, depth=3):
    """Text of a random smooth expression in x and z (log and sqrt get positive arguments)."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(["x", "z", "2", "0.5", "(x*z)"]))
    kind = draw(st.sampled_from(["unary", "binary", "power"]))
    if kind == "unary":
        name = draw(st.sampled_from(UNARY))
        inner = draw(expressions(depth - 1))
        return f"{name}(1 + ({inner})**2)" if name in POSITIVE_ONLY else f"{name}({inner})"
    if kind == "power":
        return f"({draw(expressions(depth - 1))})**{draw(st.integers(2, 3))}"
    operator = draw(st.sampled_from(["+", "-", "*", "/"]))
    left, right = draw(expressions(depth - 1)), draw(expressions(depth - 1))
    if operator == "/":
        return f"({left})/(2 + sin({right}))"
    return f"({left}) {operator} ({right})"


@pytest.mark.filterwarnings("ignore:overflow encountered")
@PROGRAMS
@given(text=expressions(), point=st.tuples(st.floats(-1.5, 1.5), st.floats(-1.5, 1.5)))
def test_symbolic_compiled_gradient_agrees_with_the_engine(text, point):
    x, z = point
    namespace = {name: getattr(cr, name) for name in UNARY}
    engine_value, engine_gradient = cr.value_and_grad(
        lambda a, b: eval(text, namespace, {"x": a, "z": b}), argnums=(0, 1)
    )(x, z)
    if not math.isfinite(float(engine_value)):
        return
    value_and_gradient = S.compile_gradient(S.parse(text), ["x", "z"])
    value, gradient = value_and_gradient(x, z)
    close(value, engine_value, rtol=1e-12, atol=1e-12)
    close(gradient, [float(g) for g in engine_gradient], rtol=1e-9, atol=1e-9)
    complex_step = cr.fd.gradient(
        lambda a, b: eval(text, namespace, {"x": a, "z": b}), x, z, scheme="complex-step"
    )
    close(complex_step, gradient, rtol=1e-8, atol=1e-9)
