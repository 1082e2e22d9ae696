"""Random programs, compiled and eager, give the same values and gradients.

Programs reuse intermediate values and pass one value to both operands of an
operation, the patterns under which the compiled sweep sums cotangents in place: a
cotangent that reaches two operands (add's VJP hands ``g`` to both) must never be
overwritten through the other.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr

BINARY = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: cr.maximum(a, b),
    lambda a, b: cr.where(a > b, a, b * 0.5),
]
UNARY = [lambda a: -a, cr.tanh, cr.sin, lambda a: a * a, lambda a: a.sum() * a]


@st.composite
def programs(draw):
    """A list of steps; each reads earlier values (possibly the same one twice)."""
    steps = []
    for i in range(draw(st.integers(2, 8))):
        available = i + 2  # the two inputs and every value made so far
        if draw(st.booleans()):
            op = draw(st.integers(0, len(BINARY) - 1))
            a = draw(st.integers(0, available - 1))
            b = draw(st.integers(0, available - 1))
            steps.append(("binary", op, a, b))
        else:
            op = draw(st.integers(0, len(UNARY) - 1))
            steps.append(("unary", op, draw(st.integers(0, available - 1)), None))
    return steps


def run(steps, x, y):
    values = [x, y]
    for kind, op, a, b in steps:
        if kind == "binary":
            values.append(BINARY[op](values[a], values[b]))
        else:
            values.append(UNARY[op](values[a]))
    return sum(v.sum() for v in values[2:]) + (x * 0.0).sum() + (y * 0.0).sum()


@settings(max_examples=60, deadline=None)
@given(steps=programs(), seed=st.integers(0, 2**16))
def test_compiled_value_and_grad_equals_eager(steps, seed):
    rng = np.random.default_rng(seed)

    def f(x, y):
        return run(steps, x, y)

    compiled = cr.compile(cr.value_and_grad(f, argnums=(0, 1)))
    for _ in range(3):
        x, y = rng.standard_normal(3), rng.standard_normal(3)
        value, (gx, gy) = compiled(x, y)
        ref_value, (ref_gx, ref_gy) = cr.value_and_grad(f, argnums=(0, 1))(x, y)
        np.testing.assert_allclose(value, ref_value, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gx, ref_gx, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gy, ref_gy, rtol=1e-12, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(steps=programs(), seed=st.integers(0, 2**16))
def test_compiled_backward_into_grad_equals_eager(steps, seed):
    rng = np.random.default_rng(seed)
    x, y = (
        cr.tensor(rng.standard_normal(3), requires_grad=True),
        cr.tensor(rng.standard_normal(3), requires_grad=True),
    )

    def step():
        x.grad = y.grad = None
        loss = run(steps, x, y)
        loss.backward()
        return loss

    compiled = cr.compile(step)
    for _ in range(2):
        compiled()
        got = x.grad.detach().numpy().copy(), y.grad.detach().numpy().copy()
        step()
        np.testing.assert_allclose(got[0], x.grad.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(got[1], y.grad.detach().numpy(), rtol=1e-12, atol=1e-12)
