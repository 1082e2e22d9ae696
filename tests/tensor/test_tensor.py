"""Tensor construction, operators, functions and reverse-mode gradients."""

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr

SETTINGS = settings(max_examples=25, deadline=None)
RNG = np.random.default_rng(0)


def numeric_grad(f, x, h=1e-6):
    """Central differences of a scalar plain-NumPy function f at array x."""
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        g[i] = (f(xp) - f(xm)) / (2 * h)
    return g


def leaf(arr):
    return cr.tensor(np.array(arr, dtype=np.float64), requires_grad=True)


def grad_of(fn, *arrays):
    """Gradients of sum(fn(*leaves)) w.r.t. each leaf, as NumPy arrays."""
    leaves = [leaf(a) for a in arrays]
    fn(*leaves).sum().backward()
    return [t.grad.numpy() for t in leaves]


def weighted_grad(fn, x, w):
    """Gradient of sum(w * fn(x)) w.r.t. x."""
    t = leaf(x)
    (fn(t) * w).sum().backward()
    assert t.grad.shape == t.shape
    return t.grad.numpy()


# ---------------------------------------------------------------- construction


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        (1.5, np.float64),
        ([1.0, 2.0], np.float64),
        (3, np.int64),
        ([1, 2, 3], np.int64),
        (True, np.bool_),
        ([True, False], np.bool_),
        (np.zeros(2, dtype=np.float32), np.float32),
        (np.zeros(2, dtype=np.int32), np.int32),
        (np.zeros(2, dtype=np.float16), np.float16),
    ],
)
def test_tensor_dtype_inference(data, dtype):
    assert cr.tensor(data).dtype == dtype


def test_explicit_dtype():
    assert cr.tensor([1, 2], dtype=np.float32).dtype == np.float32


def test_tensor_copies_data():
    a = np.array([1.0, 2.0])
    t = cr.tensor(a)
    a[0] = 99.0
    assert t.data[0] == 1.0


def test_default_dtype_is_float64():
    assert np.dtype(cr.get_default_dtype()) == np.float64


def test_set_default_dtype_float32(float32_default):
    assert np.dtype(cr.get_default_dtype()) == np.float32
    assert cr.tensor(1.5).dtype == np.float32
    assert cr.tensor([1.0, 2.0]).dtype == np.float32
    assert cr.tensor([1, 2]).dtype == np.int64
    assert cr.tensor(np.zeros(2)).dtype == np.float64


def test_attributes():
    t = cr.tensor(np.arange(6.0).reshape(2, 3))
    assert t.shape == (2, 3)
    assert t.ndim == 2
    assert t.size == 6
    assert t.dtype == np.float64
    assert isinstance(t.data, np.ndarray)
    np.testing.assert_array_equal(t.numpy(), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(t.T.numpy(), np.arange(6.0).reshape(2, 3).T)
    assert t.requires_grad is False
    assert t.grad is None


def test_item():
    v = cr.tensor(2.5).item()
    assert v == 2.5
    assert isinstance(v, float)


def test_is_leaf():
    x = cr.tensor(1.0, requires_grad=True)
    y = x * 2.0
    assert x.is_leaf
    assert not y.is_leaf
    assert y.requires_grad
    assert cr.tensor(1.0).is_leaf


# ------------------------------------------------------------------- operators


@pytest.mark.parametrize(
    ("fn", "dfdx"),
    [
        (lambda x: x + 2.0, lambda x: 1.0),
        (lambda x: 2.0 + x, lambda x: 1.0),
        (lambda x: x - 2.0, lambda x: 1.0),
        (lambda x: 2.0 - x, lambda x: -1.0),
        (lambda x: x * 3.0, lambda x: 3.0),
        (lambda x: 3.0 * x, lambda x: 3.0),
        (lambda x: x / 4.0, lambda x: 0.25),
        (lambda x: 2.0 / x, lambda x: -2.0 / x**2),
        (lambda x: x**3, lambda x: 3 * x**2),
        (lambda x: x**0.5, lambda x: 0.5 / math.sqrt(x)),
        (lambda x: 2.0**x, lambda x: math.log(2.0) * 2.0**x),
        (lambda x: -x, lambda x: -1.0),
        (lambda x: x * x, lambda x: 2 * x),
        (lambda x: x / x, lambda x: 0.0),
    ],
)
@SETTINGS
@given(x0=st.floats(0.1, 5.0))
def test_scalar_operator_gradients(fn, dfdx, x0):
    x = cr.tensor(x0, requires_grad=True)
    y = fn(x)
    assert isinstance(y, cr.Tensor)
    y.backward()
    assert x.grad.item() == pytest.approx(dfdx(x0), rel=1e-12, abs=1e-12)


def test_power_with_zero_exponent_has_zero_gradient_at_zero():
    """x**0 is the constant 1 (NumPy: 0**0 == 1), so its derivative is 0 everywhere."""
    x = leaf([0.0, 2.0])
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_tensor_power_tensor():
    x = cr.tensor(1.7, requires_grad=True)
    y = cr.tensor(2.3, requires_grad=True)
    (x**y).backward()
    assert x.grad.item() == pytest.approx(2.3 * 1.7**1.3, rel=1e-12)
    assert y.grad.item() == pytest.approx(1.7**2.3 * math.log(1.7), rel=1e-12)


@pytest.mark.parametrize(
    ("fn", "dfdt"),
    [
        (lambda a, t: a + t, lambda a, t: np.ones(2)),
        (lambda a, t: a - t, lambda a, t: -np.ones(2)),
        (lambda a, t: a * t, lambda a, t: a),
        (lambda a, t: a / t, lambda a, t: -a / t**2),
        (lambda a, t: a**t, lambda a, t: a**t * np.log(a)),
        (lambda a, t: t**a, lambda a, t: a * t ** (a - 1)),
        (lambda a, t: t + a, lambda a, t: np.ones(2)),
    ],
)
def test_numpy_array_operand_on_either_side(fn, dfdt):
    a = np.array([1.5, 2.5])
    t = leaf([0.5, 2.0])
    y = fn(a, t)
    assert isinstance(y, cr.Tensor)
    y.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), dfdt(a, t.detach().numpy()), rtol=1e-12)


@pytest.mark.parametrize(
    ("op", "npop"),
    [
        (lambda a, b: a < b, np.less),
        (lambda a, b: a <= b, np.less_equal),
        (lambda a, b: a > b, np.greater),
        (lambda a, b: a >= b, np.greater_equal),
        (lambda a, b: a == b, np.equal),
        (lambda a, b: a != b, np.not_equal),
    ],
)
def test_comparisons_are_bool_without_grad(op, npop):
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([2.0, 2.0, 2.0])
    x = cr.tensor(a, requires_grad=True)
    for r, want in [
        (op(x, b), npop(a, b)),
        (op(x, 2.0), npop(a, 2.0)),
        (op(x, cr.tensor(b)), npop(a, b)),
    ]:
        assert isinstance(r, cr.Tensor)
        assert r.dtype == np.bool_
        assert r.requires_grad is False
        np.testing.assert_array_equal(r.numpy(), want)


def test_comparison_with_numpy_array_on_left():
    r = np.array([1.0, 5.0]) < cr.tensor([2.0, 2.0])
    assert isinstance(r, cr.Tensor)
    np.testing.assert_array_equal(r.numpy(), [True, False])


# ------------------------------------------------------------------ broadcasting


def test_broadcast_column_plus_row():
    a = leaf(np.arange(3.0).reshape(3, 1))
    b = leaf(np.arange(4.0).reshape(1, 4))
    y = a + b
    assert y.shape == (3, 4)
    y.sum().backward()
    assert a.grad.shape == (3, 1)
    assert b.grad.shape == (1, 4)
    np.testing.assert_array_equal(a.grad.numpy(), np.full((3, 1), 4.0))
    np.testing.assert_array_equal(b.grad.numpy(), np.full((1, 4), 3.0))


def test_broadcast_matrix_times_vector():
    av = RNG.normal(size=(2, 3))
    bv = RNG.normal(size=3)
    ga, gb = grad_of(lambda a, b: a * b, av, bv)
    assert ga.shape == (2, 3)
    assert gb.shape == (3,)
    np.testing.assert_allclose(ga, np.broadcast_to(bv, (2, 3)), rtol=1e-12)
    np.testing.assert_allclose(gb, av.sum(axis=0), rtol=1e-12)


def test_broadcast_scalar_tensor_grad_is_scalar():
    s = leaf(2.0)
    v = leaf([1.0, 2.0, 3.0])
    (s * v).sum().backward()
    assert s.grad.shape == ()
    assert s.grad.item() == pytest.approx(6.0)
    np.testing.assert_allclose(v.grad.numpy(), [2.0, 2.0, 2.0])


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
def test_broadcast_gradients_match_finite_differences(shapes):
    sa, sb = shapes.input_shapes
    av = RNG.normal(size=sa)
    bv = RNG.normal(size=sb)
    w = RNG.normal(size=shapes.result_shape)
    a, b = leaf(av), leaf(bv)
    ((a * b + a - b) * w).sum().backward()
    assert a.grad.shape == sa
    assert b.grad.shape == sb
    np.testing.assert_allclose(
        a.grad.numpy(), numeric_grad(lambda p: np.sum((p * bv + p - bv) * w), av), atol=1e-8
    )
    np.testing.assert_allclose(
        b.grad.numpy(), numeric_grad(lambda p: np.sum((av * p + av - p) * w), bv), atol=1e-8
    )


# ----------------------------------------------------------- elementwise functions


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


UNARY = [
    ("exp", np.exp, np.exp, -3.0, 3.0),
    ("log", np.log, lambda x: 1 / x, 0.1, 5.0),
    ("sin", np.sin, np.cos, -3.0, 3.0),
    ("cos", np.cos, lambda x: -np.sin(x), -3.0, 3.0),
    ("tan", np.tan, lambda x: 1 / np.cos(x) ** 2, -1.2, 1.2),
    ("tanh", np.tanh, lambda x: 1 - np.tanh(x) ** 2, -3.0, 3.0),
    ("sigmoid", _sig, lambda x: _sig(x) * (1 - _sig(x)), -5.0, 5.0),
    ("relu", lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(float), -3.0, 3.0),
    ("sqrt", np.sqrt, lambda x: 0.5 / np.sqrt(x), 0.1, 5.0),
    ("abs", np.abs, np.sign, -3.0, 3.0),
    ("log1p", np.log1p, lambda x: 1 / (1 + x), -0.5, 5.0),
    ("expm1", np.expm1, np.exp, -3.0, 3.0),
]


@pytest.mark.parametrize(("name", "f", "df", "lo", "hi"), UNARY, ids=[u[0] for u in UNARY])
@SETTINGS
@given(data=st.data())
def test_unary_function_value_and_gradient(name, f, df, lo, hi, data):
    xv = data.draw(hnp.arrays(np.float64, st.integers(1, 5), elements=st.floats(lo, hi)))
    x = leaf(xv)
    y = getattr(cr, name)(x)
    np.testing.assert_allclose(y.detach().numpy(), f(xv), rtol=1e-12, atol=1e-300)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), df(xv), rtol=1e-10, atol=1e-15)


def test_relu_and_abs_derivative_at_zero_is_zero():
    for fn in (cr.relu, cr.abs):
        x = leaf([0.0, -0.0])
        fn(x).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_sigmoid_is_stable_for_large_inputs():
    x = leaf([-1000.0, 1000.0])
    y = cr.sigmoid(x)
    np.testing.assert_allclose(y.detach().numpy(), [0.0, 1.0], atol=1e-300)
    y.sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))


def test_maximum_minimum_split_ties():
    a = leaf([1.0, 2.0, 3.0])
    b = leaf([3.0, 2.0, 1.0])
    cr.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 0.5, 0.0])
    a2 = leaf([1.0, 2.0, 3.0])
    b2 = leaf([3.0, 2.0, 1.0])
    m = cr.minimum(a2, b2)
    np.testing.assert_array_equal(m.detach().numpy(), [1.0, 2.0, 1.0])
    m.sum().backward()
    np.testing.assert_array_equal(a2.grad.numpy(), [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(b2.grad.numpy(), [0.0, 0.5, 1.0])


def test_maximum_with_scalar():
    a = leaf([-1.0, 2.0])
    y = cr.maximum(a, 0.0)
    np.testing.assert_array_equal(y.detach().numpy(), [0.0, 2.0])
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 1.0])


@pytest.mark.parametrize("as_tensor", [False, True])
def test_where_routes_gradient(as_tensor):
    cond = np.array([True, False, True])
    a, b = leaf([1.0, 2.0, 3.0]), leaf([10.0, 20.0, 30.0])
    w = np.array([1.0, 2.0, 3.0])
    y = cr.where(cr.tensor(cond) if as_tensor else cond, a, b)
    np.testing.assert_array_equal(y.detach().numpy(), [1.0, 20.0, 3.0])
    (y * w).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 0.0, 3.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.0, 2.0, 0.0])


def test_clip_gradient():
    x = leaf([-2.0, 0.5, 3.0])
    y = cr.clip(x, -1.0, 1.0)
    np.testing.assert_array_equal(y.detach().numpy(), [-1.0, 0.5, 1.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0])


def test_clip_method():
    x = leaf([-2.0, 0.5, 3.0])
    np.testing.assert_array_equal(x.clip(-1.0, 1.0).detach().numpy(), [-1.0, 0.5, 1.0])


# ------------------------------------------------------------------- reductions

X234 = RNG.normal(size=(2, 3, 4))


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2), (0, 1, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_sum_and_mean_values_and_gradients(axis, keepdims):
    out_shape = np.sum(X234, axis=axis, keepdims=keepdims).shape
    w = RNG.normal(size=out_shape)
    n = X234.size // w.size
    w_full = np.broadcast_to(w if keepdims or axis is None else np.expand_dims(w, axis), X234.shape)
    for fn, npfn, scale in [(cr.sum, np.sum, 1.0), (cr.mean, np.mean, 1.0 / n)]:
        x = leaf(X234)
        y = fn(x, axis=axis, keepdims=keepdims)
        assert y.shape == out_shape
        np.testing.assert_allclose(y.detach().numpy(), npfn(X234, axis=axis, keepdims=keepdims))
        (y * w).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), w_full * scale, rtol=1e-12)


def test_reduction_methods_and_torch_aliases():
    x = leaf(X234)
    assert x.sum(dim=1).shape == (2, 4)
    assert x.sum(dim=1, keepdim=True).shape == (2, 1, 4)
    assert cr.mean(x, dim=(0, 2), keepdim=True).shape == (1, 3, 1)
    assert x.max(dim=-1).shape == (2, 3)
    assert cr.min(x, dim=0, keepdim=True).shape == (1, 3, 4)
    assert cr.logsumexp(x, dim=2, keepdim=True).shape == (2, 3, 1)
    np.testing.assert_allclose(x.mean(axis=1).detach().numpy(), X234.mean(axis=1))
    np.testing.assert_allclose(x.min(axis=(0, 1)).detach().numpy(), X234.min(axis=(0, 1)))


def test_max_min_gradient_goes_to_argmax_when_unique():
    xv = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, -1.0]])
    w = np.array([10.0, 20.0])
    np.testing.assert_array_equal(
        weighted_grad(lambda t: cr.max(t, axis=1), xv, w), [[10.0, 0, 0], [0, 20.0, 0]]
    )
    np.testing.assert_array_equal(
        weighted_grad(lambda t: cr.min(t, axis=1), xv, w), [[0, 10.0, 0], [0, 0, 20.0]]
    )


def test_max_splits_gradient_among_ties():
    xv = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    g = weighted_grad(lambda t: t.max(axis=1), xv, np.ones(2))
    np.testing.assert_allclose(g, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-15)
    g = weighted_grad(lambda t: cr.max(t), xv, 1.0)
    np.testing.assert_allclose(g, [[0, 0.5, 0.5], [0, 0, 0]], rtol=1e-15)
    g = weighted_grad(lambda t: cr.min(t), np.array([[1.0, 3.0, 1.0], [2.0, 1.0, 2.0]]), 1.0)
    np.testing.assert_allclose(g, [[1 / 3, 0, 1 / 3], [0, 1 / 3, 0]], rtol=1e-15)


def test_max_over_axis_tuple_splits_ties():
    xv = np.array([[1.0, 3.0], [3.0, 0.0]])
    g = weighted_grad(lambda t: t.max(axis=(0, 1)), xv, 1.0)
    np.testing.assert_array_equal(g, [[0.0, 0.5], [0.5, 0.0]])


def test_logsumexp_value_and_gradient_is_softmax():
    xv = RNG.normal(size=(3, 4))
    x = leaf(xv)
    y = cr.logsumexp(x, axis=1)
    np.testing.assert_allclose(y.detach().numpy(), np.log(np.exp(xv).sum(axis=1)), rtol=1e-12)
    y.sum().backward()
    sm = np.exp(xv) / np.exp(xv).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(x.grad.numpy(), sm, rtol=1e-12)


def test_logsumexp_stable_for_huge_inputs():
    x = leaf([1000.0, 1000.0])
    y = cr.logsumexp(x)
    assert y.item() == pytest.approx(1000.0 + math.log(2.0), rel=1e-15)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.5])


# ------------------------------------------------------------ softmax family


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_gradient_matches_hand_formula(axis):
    xv = RNG.normal(size=(3, 4))
    w = RNG.normal(size=(3, 4))
    s = np_softmax(xv, axis)
    g = weighted_grad(lambda t: cr.softmax(t, axis=axis), xv, w)
    np.testing.assert_allclose(g, s * (w - (w * s).sum(axis=axis, keepdims=True)), atol=1e-12)
    g = weighted_grad(lambda t: cr.log_softmax(t, axis=axis), xv, w)
    np.testing.assert_allclose(g, w - s * w.sum(axis=axis, keepdims=True), atol=1e-12)


def test_softmax_and_log_softmax_stable_at_huge_logits():
    big = np.array([1000.0, 1001.0, 1002.0])
    small = np.array([0.0, 1.0, 2.0])
    x = leaf(big)
    s = cr.softmax(x)
    ls = cr.log_softmax(x)
    np.testing.assert_allclose(s.detach().numpy(), np_softmax(small), rtol=1e-12)
    np.testing.assert_allclose(ls.detach().numpy(), small - np.log(np.exp(small).sum()), rtol=1e-12)
    (ls * np.array([1.0, 0.0, 0.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 0.0, 0.0] - np_softmax(small), rtol=1e-12)


def test_log_softmax_finite_for_extreme_spread():
    x = leaf([-1000.0, 0.0, 1000.0])
    ls = cr.log_softmax(x)
    np.testing.assert_allclose(ls.detach().numpy(), [-2000.0, -1000.0, 0.0], rtol=1e-12)
    ls.sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))


# -------------------------------------------------------------------- matmul


@pytest.mark.parametrize(
    ("sa", "sb"),
    [
        ((3,), (3, 4)),
        ((3, 4), (4,)),
        ((3,), (3,)),
        ((3, 4), (4, 2)),
        ((2, 3, 4), (4, 5)),
        ((2, 3, 4), (2, 4, 5)),
        ((4,), (2, 4, 5)),
        ((2, 1, 3, 4), (3, 4, 2)),
    ],
)
def test_matmul_gradients_match_finite_differences(sa, sb):
    av, bv = RNG.normal(size=sa), RNG.normal(size=sb)
    out = np.matmul(av, bv)
    w = RNG.normal(size=out.shape)
    a, b = leaf(av), leaf(bv)
    y = a @ b
    assert y.shape == out.shape
    np.testing.assert_allclose(y.detach().numpy(), out, rtol=1e-12)
    (y * w).sum().backward()
    np.testing.assert_allclose(
        a.grad.numpy(), numeric_grad(lambda p: np.sum(np.matmul(p, bv) * w), av), atol=1e-8
    )
    np.testing.assert_allclose(
        b.grad.numpy(), numeric_grad(lambda p: np.sum(np.matmul(av, p) * w), bv), atol=1e-8
    )


def test_matmul_function_and_numpy_operand():
    av, bv = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 2))
    a = leaf(av)
    np.testing.assert_allclose(cr.matmul(a, bv).detach().numpy(), av @ bv)
    y = bv @ a
    assert isinstance(y, cr.Tensor)
    y.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), numeric_grad(lambda p: np.sum(bv @ p), av))


# ------------------------------------------------------------- shape functions


def test_reshape_forms_and_gradient():
    xv = np.arange(12.0).reshape(3, 4)
    w = RNG.normal(size=(6, 2))
    for fn in (
        lambda t: cr.reshape(t, (6, 2)),
        lambda t: t.reshape(6, 2),
        lambda t: t.reshape((6, 2)),
        lambda t: t.reshape(-1, 2),
    ):
        g = weighted_grad(fn, xv, w)
        np.testing.assert_array_equal(g, w.reshape(3, 4))


@pytest.mark.parametrize(
    ("fn", "npfn"),
    [
        (lambda t: cr.transpose(t), lambda a: np.transpose(a)),
        (lambda t: cr.transpose(t, (2, 0, 1)), lambda a: np.transpose(a, (2, 0, 1))),
        (lambda t: cr.transpose(t, axes=(1, 0, 2)), lambda a: np.transpose(a, (1, 0, 2))),
        (lambda t: t.transpose(2, 0, 1), lambda a: a.transpose(2, 0, 1)),
        (lambda t: t.transpose((0, 2, 1)), lambda a: a.transpose((0, 2, 1))),
        (lambda t: t.transpose(), lambda a: a.transpose()),
        (lambda t: t.T, lambda a: a.T),
        (lambda t: cr.swapaxes(t, 0, 2), lambda a: np.swapaxes(a, 0, 2)),
        (lambda t: t.swapaxes(1, -1), lambda a: a.swapaxes(1, -1)),
    ],
)
def test_transpose_family_values_and_gradients(fn, npfn):
    x = leaf(X234)
    y = fn(x)
    want = npfn(X234)
    np.testing.assert_array_equal(y.detach().numpy(), want)
    w = RNG.normal(size=want.shape)
    (y * w).sum().backward()
    np.testing.assert_allclose(
        x.grad.numpy(), numeric_grad(lambda p: np.sum(npfn(p) * w), X234), atol=1e-8
    )


# ------------------------------------------------------------------- indexing

X34 = np.arange(12.0).reshape(3, 4)


@pytest.mark.parametrize(
    "index",
    [
        1,
        -1,
        (1, 2),
        slice(1, 3),
        (slice(None), slice(1, None, 2)),
        (None, Ellipsis, 0),
        (Ellipsis, None),
        np.array([0, 2]),
        (np.array([0, 2]), np.array([1, 3])),
        X34 > 4.5,
        (slice(None), np.array([True, False, True, False])),
    ],
    ids=repr,
)
def test_indexing_values_and_gradients(index):
    want = X34[index]
    w = RNG.normal(size=want.shape)
    x = leaf(X34)
    y = x[index]
    np.testing.assert_array_equal(y.detach().numpy(), want)
    (y * w).sum().backward()
    expected = np.zeros_like(X34)
    expected[index] = w  # no index repeats here
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_indexing_with_bool_tensor_mask():
    x = leaf([-1.0, 2.0, -3.0, 4.0])
    y = x[x > 0]
    np.testing.assert_array_equal(y.detach().numpy(), [2.0, 4.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0, 1.0])


def test_repeated_integer_indices_accumulate():
    x = leaf([1.0, 2.0, 3.0])
    x[[0, 0, 1]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 1.0, 0.0])


def test_repeated_integer_tensor_indices_accumulate():
    x = leaf([1.0, 2.0, 3.0])
    x[cr.tensor([0, 0, 1])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 1.0, 0.0])


def test_repeated_index_pairs_accumulate_2d():
    x = leaf(X34)
    x[np.array([0, 0, 2]), np.array([1, 1, 3])].sum().backward()
    expected = np.zeros((3, 4))
    expected[0, 1] = 2.0
    expected[2, 3] = 1.0
    np.testing.assert_array_equal(x.grad.numpy(), expected)


# ---------------------------------------------------------- concatenate / stack


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_gradient(axis):
    av = RNG.normal(size=(2, 3))
    bv = RNG.normal(size=(1, 3) if axis == 0 else (2, 1))
    a, b = leaf(av), leaf(bv)
    y = cr.concatenate([a, b], axis=axis)
    want = np.concatenate([av, bv], axis=axis)
    np.testing.assert_array_equal(y.detach().numpy(), want)
    w = RNG.normal(size=want.shape)
    (y * w).sum().backward()
    split = av.shape[axis]
    wa, wb = np.split(w, [split], axis=axis)
    np.testing.assert_array_equal(a.grad.numpy(), wa)
    np.testing.assert_array_equal(b.grad.numpy(), wb)


def test_concatenate_with_constant_part():
    a = leaf([1.0, 2.0])
    y = cr.concatenate([a, cr.tensor([5.0])])
    (y * np.array([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 2.0])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_stack_gradient(axis):
    vals = [RNG.normal(size=(2, 3)) for _ in range(3)]
    leaves = [leaf(v) for v in vals]
    y = cr.stack(leaves, axis=axis)
    want = np.stack(vals, axis=axis)
    np.testing.assert_array_equal(y.detach().numpy(), want)
    w = RNG.normal(size=want.shape)
    (y * w).sum().backward()
    for i, t in enumerate(leaves):
        np.testing.assert_array_equal(t.grad.numpy(), np.take(w, i, axis=axis))


# ------------------------------------------------------------ backward semantics


def test_grad_is_tensor_with_leaf_shape():
    x = leaf(np.ones((2, 3)))
    (x * 2.0).sum().backward()
    assert isinstance(x.grad, cr.Tensor)
    assert x.grad.shape == (2, 3)
    assert x.grad.requires_grad is False


def test_grad_accumulates_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0 + 3.0, 4.0 + 3.0])


def test_retain_graph_allows_second_backward_and_accumulates():
    x = leaf(3.0)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 12.0


def test_backward_with_explicit_gradient():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    y.backward(gradient=np.array([1.0, 10.0, 100.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 40.0, 600.0])
    z = leaf([1.0, 2.0])
    (z * 3.0).backward(gradient=cr.tensor([1.0, -1.0]))
    np.testing.assert_array_equal(z.grad.numpy(), [3.0, -3.0])


def test_only_leaves_get_grad():
    x = leaf([1.0, 2.0])
    h = x * 2.0
    (h * h).sum().backward()
    assert h.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [8.0, 16.0])


def test_retain_grad_on_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 2.0
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(), [4.0, 8.0])
    np.testing.assert_array_equal(x.grad.numpy(), [8.0, 16.0])


def test_retain_grad_keeps_float32():
    x = cr.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    h = x * 2.0
    h.retain_grad()
    (h * h).sum().backward()
    assert h.grad.dtype == np.float32
    np.testing.assert_array_equal(h.grad.numpy(), [4.0, 8.0])


def test_diamond_graph_sums_both_paths():
    x = leaf(1.5)
    h = cr.exp(x)
    y = h * h + cr.sin(h)  # dy/dx = (2h + cos h) * h
    y.backward()
    hv = np.exp(1.5)
    assert x.grad.item() == pytest.approx((2 * hv + np.cos(hv)) * hv, rel=1e-14)


def test_create_graph_makes_grad_differentiable():
    x = leaf(3.0)
    (x**3).backward(create_graph=True)
    assert x.grad.item() == pytest.approx(27.0)
    assert x.grad.requires_grad
    y = leaf(3.0)
    (y**3).backward()
    assert y.grad.requires_grad is False


def test_constant_input_gets_no_grad():
    x = leaf(2.0)
    c = cr.tensor(5.0)
    (x * c).backward()
    assert c.grad is None
    assert x.grad.item() == 5.0


def test_detach_cuts_graph():
    x = leaf([1.0, 2.0])
    d = x.detach()
    assert d.requires_grad is False
    np.testing.assert_array_equal(d.numpy(), [1.0, 2.0])
    (x * d).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0])


# -------------------------------------------------------------------- grad mode


def test_no_grad_produces_tensors_without_grad():
    x = leaf([1.0, 2.0])
    assert cr.is_grad_enabled()
    with cr.no_grad():
        assert not cr.is_grad_enabled()
        y = cr.exp(x * 2.0).sum()
        assert y.requires_grad is False
    assert cr.is_grad_enabled()
    assert (x * 2.0).requires_grad


def test_enable_grad_inside_no_grad():
    x = leaf(1.0)
    with cr.no_grad():
        with cr.enable_grad():
            assert cr.is_grad_enabled()
            y = x * 2.0
        assert not cr.is_grad_enabled()
    assert y.requires_grad
    y.backward()
    assert x.grad.item() == 2.0


def test_no_grad_restores_state_after_exception():
    with pytest.raises(KeyError), cr.no_grad():
        raise KeyError("boom")
    assert cr.is_grad_enabled()


# ---------------------------------------------------------------------- dtypes


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: t * 2.0,
        lambda t: 2.0 * t,
        lambda t: t + 1.0,
        lambda t: t - 1,
        lambda t: t / 3.0,
        lambda t: 1.0 / t,
        lambda t: t**2,
        lambda t: t**0.5,
        lambda t: 2.0**t,
        lambda t: cr.exp(t),
        lambda t: cr.tanh(t),
        lambda t: cr.softmax(t),
        lambda t: t.mean(),
        lambda t: cr.maximum(t, 1.5),
    ],
)
def test_float32_preserved_in_value_and_grad(fn):
    x = cr.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = fn(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
    assert x.grad.shape == (2,)


def test_float32_grad_when_mixed_with_float64_constant_keeps_leaf_dtype():
    x = cr.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    c = cr.tensor(np.array([3.0, 4.0], dtype=np.float64), requires_grad=True)
    (x * c).sum().backward()
    assert x.grad.dtype == np.float32
    assert c.grad.dtype == np.float64


# --------------------------------------------------------------- deep chains


def test_million_op_chain_backprops_without_recursion_error():
    c = 1.0000001
    x = leaf(1.0)
    y = x
    for _ in range(500_000):  # two ops per iteration
        y = y * c + 0.0
    y.backward()
    assert x.grad.item() == pytest.approx(c**500_000, rel=1e-9)


def test_a_shallow_copy_has_its_own_gradient():
    import copy

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    shallow = copy.copy(x)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])
    np.testing.assert_array_equal(shallow.grad.numpy(), [2.0, 4.0])


def test_extrema_of_zero_size_tensors_follow_numpy():
    t = cr.tensor(np.zeros((0, 3)), requires_grad=True)
    assert t.max(axis=1).shape == (0,) and t.argmax(axis=1).shape == (0,)
    t.max(axis=1).sum().backward()
    assert t.grad.shape == (0, 3)
    for reduce in (lambda: t.max(axis=0), lambda: t.min(), lambda: t.argmin(axis=0)):
        with pytest.raises(cr.errors.ShapeError, match="no extremum"):
            reduce()
