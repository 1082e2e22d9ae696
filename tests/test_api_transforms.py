"""The transforms beside grad in chainrule.api: hvp, linearize, jacfwd/jacrev (against
hessian and jacobian) and checkpoint (same gradients, recomputation, memory kept)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import ShapeError

RNG = np.random.default_rng(0)


def _cubic(x):
    return (x**3).sum() + (x[0] * x[1]) ** 2


def test_hvp_matches_the_hessian_times_v():
    x, v = RNG.standard_normal(3), RNG.standard_normal(3)
    expected = cr.hessian(_cubic)(x) @ v
    np.testing.assert_allclose(cr.hvp(_cubic, x, v), expected, rtol=1e-12)
    np.testing.assert_allclose(cr.hvp(_cubic)(x, v), expected, rtol=1e-12)
    batched = cr.vmap(cr.hvp(_cubic), in_axes=(None, 0))(x, np.eye(3))
    np.testing.assert_allclose(batched, cr.hessian(_cubic)(x), rtol=1e-12)


def test_linearize_reuses_one_trace():
    calls = []

    def f(x):
        calls.append(1)
        return cr.sin(x) * x

    x = RNG.standard_normal(3)
    out, f_jvp = cr.linearize(f, x)
    np.testing.assert_allclose(out, np.sin(x) * x)
    jac = cr.jacobian(f)(x)
    for v in np.eye(3):
        np.testing.assert_allclose(f_jvp(v), jac @ v, rtol=1e-12)
    assert len(calls) == 2  # linearize's own run and jacobian's; f_jvp re-ran nothing
    with pytest.raises(ShapeError, match="tangent 0"):
        f_jvp(np.ones(2))


def test_jacfwd_and_jacrev_equal_jacobian():
    def f(x, y):
        return cr.tanh(x * y.sum()) @ np.ones((3, 2))

    x, y = RNG.standard_normal(3), RNG.standard_normal(4)
    for argnums in (0, 1, (0, 1)):
        rev = cr.jacrev(f, argnums)(x, y)
        fwd = cr.jacfwd(f, argnums)(x, y)
        expected = cr.jacobian(f, argnums)(x, y)
        for a, b, c in zip(
            np.atleast_1d(rev) if argnums != (0, 1) else rev,
            np.atleast_1d(fwd) if argnums != (0, 1) else fwd,
            np.atleast_1d(expected) if argnums != (0, 1) else expected,
            strict=True,
        ):
            np.testing.assert_allclose(a, c, rtol=1e-12)
            np.testing.assert_allclose(b, c, rtol=1e-12)
    assert cr.jacfwd(f)(x, y).shape == (2, 3)


# --- checkpoint -----------------------------------------------------------------------


def _block(x, w, b):
    return cr.tanh(x @ w + b) * cr.sigmoid(x @ w)


def _weights(depth, width, rng):
    return [
        (rng.standard_normal((width, width)) / width**0.5, rng.standard_normal(width))
        for _ in range(depth)
    ]


def _deep(x, params, wrap):
    for w, b in params:
        x = wrap(_block)(x, w, b)
    return (x**2).sum()


def test_checkpoint_gives_identical_gradients_and_recomputes():
    rng = np.random.default_rng(1)
    params = _weights(3, 4, rng)
    x = rng.standard_normal((5, 4))
    calls = []

    def counted(x, w, b):
        calls.append(1)
        return _block(x, w, b)

    flat = [p for pair in params for p in pair]

    def loss(wrap, *flat):
        pairs = list(zip(flat[::2], flat[1::2], strict=True))
        out = x
        for w, b in pairs:
            out = wrap(counted)(out, w, b)
        return (out**2).sum()

    argnums = tuple(range(len(flat)))
    plain = cr.grad(lambda *p: loss(lambda f: f, *p), argnums)(*flat)
    calls.clear()
    saved = cr.grad(lambda *p: loss(cr.checkpoint, *p), argnums)(*flat)
    assert len(calls) == 6  # three forwards, three recomputations (not one per operand)
    for a, b in zip(plain, saved, strict=True):
        np.testing.assert_array_equal(a, b)
    assert cr.remat is cr.checkpoint


def test_checkpoint_higher_order_and_compile():
    f = cr.checkpoint(lambda x: cr.sin(x) * x**2)
    x = np.array([0.3, -1.2])
    expected = cr.hessian(lambda x: (cr.sin(x) * x**2).sum())(x)
    np.testing.assert_allclose(cr.hessian(lambda x: f(x).sum())(x), expected, rtol=1e-12)
    np.testing.assert_allclose(
        cr.jacobian(f, mode="fwd")(x), cr.jacobian(lambda x: cr.sin(x) * x**2)(x), rtol=1e-12
    )
    step = cr.compile(cr.value_and_grad(lambda x: f(x).sum()))
    for _ in range(2):
        value, g = step(x)
        np.testing.assert_allclose(g, cr.grad(lambda x: (cr.sin(x) * x**2).sum())(x), rtol=1e-12)


def test_checkpoint_under_vmap():
    f = cr.checkpoint(lambda x, w: cr.tanh(x @ w))
    w, xs = RNG.standard_normal((3, 2)), RNG.standard_normal((4, 3))
    got = cr.vmap(cr.grad(lambda w, x: f(x, w).sum()), in_axes=(None, 0))(w, xs)
    expected = np.stack([cr.grad(lambda w, x=x: cr.tanh(x @ w).sum())(w) for x in xs])
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_checkpoint_refuses_closed_over_parameters():
    w = cr.tensor(np.ones(3), requires_grad=True)
    f = cr.checkpoint(lambda x: x * w)
    with pytest.raises(ValueError, match="pass it as an argument"):
        cr.grad(lambda x: f(x).sum())(np.ones(3))


def _stored_bytes(root):
    """Bytes of the distinct arrays the graph behind ``root`` keeps for the backward pass."""
    seen, stack, total = set(), [root], 0
    while stack:
        node = stack.pop()
        if id(node) in seen or not isinstance(node, cr.Tensor):
            continue
        seen.add(id(node))
        for value in [node._data, *(node._values or ())]:
            if isinstance(value, np.ndarray) and id(value) not in seen:
                seen.add(id(value))
                total += value.nbytes
        stack.extend(node._inputs or ())
    return total


def test_checkpoint_keeps_only_block_boundaries():
    rng = np.random.default_rng(2)
    params = [
        (cr.tensor(w, requires_grad=True), cr.tensor(b, requires_grad=True))
        for w, b in _weights(8, 32, rng)
    ]
    x = rng.standard_normal((64, 32))

    def forward(wrap):
        out = cr.tensor(x)
        for w, b in params:
            out = wrap(_block)(out, w, b)
        return out

    plain, saved = _stored_bytes(forward(lambda f: f)), _stored_bytes(forward(cr.checkpoint))
    assert saved * 3 < plain
