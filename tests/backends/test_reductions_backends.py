"""Reductions and order statistics on other array libraries (chainrule.ops.reductions,
chainrule.ops.sorting).

The registry-wide strict test runs each entry's samples; here: the standard forwards
(what CuPy and other libraries get) against NumPy's for dtypes and values the samples do
not reach (float32, complex, NaN, ties, zeros), the rules' special paths (ties for sort,
median and quantile; zeros for prod and cumprod, to second order) on array_api_strict
tensors, the standard's names cumulative_sum and cumulative_prod and sort's stable=, and
partition's refusal.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.core import engine
from chainrule.core.primitive import PRIMITIVES
from chainrule.errors import DeviceError

xs = pytest.importorskip("array_api_strict")


def _strict(value):
    return xs.asarray(value)


def _host(value):
    data = value._data if isinstance(value, cr.Tensor) else value
    assert type(data).__module__.startswith("array_api_strict"), type(data)
    return np.asarray(np.from_dlpack(data))


def _values(seed, shape, dtype=np.float64):
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        values = values + 1j * rng.standard_normal(shape)
    return values.astype(dtype)


_REDUCED = [{"axis": None, "keepdims": False}, {"axis": (0, 2), "keepdims": True}]

FORWARD_CASES = [
    *[(name, params) for name in ("sum", "mean", "prod", "logsumexp") for params in _REDUCED],
    *[(name, params) for name in ("max", "min", "nansum", "nanmean") for params in _REDUCED],
    *[(name, {**params, "ddof": 1}) for name in ("var", "std") for params in _REDUCED],
    ("argmax", {"axis": 1, "keepdims": True}),
    ("argmin", {"axis": None, "keepdims": False}),
    ("cumsum", {"axis": None}),
    ("cumprod", {"axis": 2}),
    ("sort", {"axis": 1, "kind": "stable"}),
    ("argsort", {"axis": None, "kind": None}),
    *[("median", params) for params in _REDUCED],
    ("quantile", {"q": 0.7, "axis": (1,), "keepdims": False}),
    ("quantile", {"q": np.array([0.2, 0.5, 1.0]), "axis": None, "keepdims": True}),
]

_COMPLEX_OK = {"sum", "mean", "prod", "logsumexp", "var", "std", "cumsum", "cumprod"}


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
@pytest.mark.parametrize(("name", "params"), FORWARD_CASES)
def test_standard_forwards_equal_numpys(name, params, dtype):
    if np.dtype(dtype).kind == "c" and name not in _COMPLEX_OK:
        pytest.skip("no order on complex numbers")
    prim = PRIMITIVES[name]
    x = _values(1, (3, 4, 5), dtype)
    if name.startswith("nan"):
        x[0, 1, :2] = np.nan
        x[2] = np.nan  # an all-NaN slice: nanmean's NaN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nanmean of an all-NaN slice
        expected = prim.evaluate(x, **params)
        actual = prim.forward_on(xs)(_strict(x), **params)
    assert str(actual.dtype) == f"array_api_strict.{np.asarray(expected).dtype.name}"
    assert actual.shape == np.shape(expected)
    rtol = 1e-5 if dtype is np.float32 else 1e-12
    np.testing.assert_allclose(_host(actual), expected, rtol=rtol, atol=rtol * 1e-2)


def test_standard_average_with_and_without_weights_equals_numpys():
    x, w = _values(2, (3, 4)), np.abs(_values(3, (3, 4))) + 0.1
    forward = PRIMITIVES["average"].forward_on(xs)
    for args, axis in (((x,), None), ((x, w), (1,)), ((x, w), None)):
        expected = np.average(x, axis=axis, weights=args[1] if len(args) > 1 else None)
        actual = forward(*map(_strict, args), axis=axis, keepdims=False)
        np.testing.assert_allclose(_host(actual), expected, rtol=1e-13)


def test_a_python_quantile_keeps_float32_and_an_array_one_promotes_as_in_numpy():
    x = _values(4, (4, 6), np.float32)
    forward = PRIMITIVES["quantile"].forward_on(xs)
    weak = forward(_strict(x), q=0.3, axis=(1,), keepdims=False)
    assert weak.dtype == xs.float32
    strong = forward(_strict(x), q=np.array([0.3]), axis=(1,), keepdims=False)
    assert strong.dtype == xs.float64
    np.testing.assert_allclose(_host(strong), np.quantile(x, np.array([0.3]), axis=1), 1e-6)


def _gradients(function, x, convert):
    """First and second-order gradients of ``function`` at ``x`` on one library."""
    leaf = cr.tensor(convert(x), requires_grad=True)
    out = function(leaf)
    seed = cr.Tensor(convert(np.ones(out.shape)))
    (first,) = engine.backprop(out, seed, [leaf], create_graph=True)
    weight = cr.Tensor(convert(_values(9, x.shape)))
    (second,) = engine.backprop((first * weight).sum(), convert(np.float64(1.0)), [leaf])
    return out._data, first._data, second


TIED = np.array([[3.0, 1.0, 3.0, 2.0, 1.0], [0.5, 0.5, 0.5, -1.0, 2.0]])
ZEROS = np.array([[2.0, 0.0, 3.0, 0.0, 1.5], [1.0, -2.0, 0.0, 4.0, 0.5]])

SPECIAL_PATHS = [
    ("sort ties", lambda t: cr.cumsum(cr.sort(t * t, axis=1), axis=1), TIED),
    ("median ties", lambda t: cr.median(t, axis=1) ** 2, TIED),
    ("quantile ties", lambda t: cr.quantile(t, np.array([0.25, 0.6]), axis=1) ** 2, TIED),
    ("max ties", lambda t: cr.max(t, axis=1) ** 2, TIED),
    ("prod zeros", lambda t: cr.prod(t * t, axis=1), ZEROS),
    ("cumprod two zeros", lambda t: cr.cumprod(t * t, axis=1), ZEROS),
    ("var", lambda t: cr.std(t, axis=0, ddof=1) * cr.var(t), ZEROS),
    ("nanmean", lambda t: cr.nanmean(t * t, axis=0) + cr.nansum(t, axis=1).sum(), ZEROS),
]


@pytest.mark.parametrize(
    ("label", "function", "x"), SPECIAL_PATHS, ids=[case[0] for case in SPECIAL_PATHS]
)
def test_special_paths_of_the_rules_run_on_strict_tensors_to_second_order(label, function, x):
    out, first, second = _gradients(function, x, _strict)
    expected_out, expected_first, expected_second = _gradients(function, x, lambda v: v)
    np.testing.assert_allclose(_host(out), expected_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_host(first), expected_first, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_host(second), expected_second, rtol=1e-12, atol=1e-12)
    assert np.any(expected_second != 0) or label.startswith(("sort", "median", "quantile"))


def test_cumulative_sum_and_prod_are_the_standards_names_of_cumsum_and_cumprod():
    x = _values(5, (3, 4))
    leaf = cr.tensor(x, requires_grad=True)
    total = cr.cumulative_sum(leaf, axis=1)
    assert total.grad_fn == "cumsum"
    np.testing.assert_array_equal(total.detach().numpy(), np.cumulative_sum(x, axis=1))
    product = cr.cumulative_prod(leaf, axis=0)
    assert product.grad_fn == "cumprod"
    np.testing.assert_array_equal(product.detach().numpy(), np.cumulative_prod(x, axis=0))
    on_strict = cr.cumulative_sum(cr.tensor(_strict(x[0])))
    np.testing.assert_allclose(_host(on_strict), np.cumulative_sum(x[0]), rtol=1e-15)
    with pytest.raises(TypeError, match="include_initial"):
        cr.cumulative_sum(leaf, axis=1, include_initial=True)


def test_sort_and_argsort_take_the_standards_stable_and_refuse_descending():
    x = np.array([2.0, 1.0, 2.0, 1.0, 0.0])
    np.testing.assert_array_equal(cr.argsort(x, stable=True).numpy(), [4, 1, 3, 0, 2])
    np.testing.assert_array_equal(cr.sort(cr.tensor(x), stable=False).numpy(), np.sort(x))
    strict = cr.argsort(cr.tensor(_strict(x)), stable=True)
    np.testing.assert_array_equal(_host(strict), [4, 1, 3, 0, 2])
    with pytest.raises(ValueError, match="kind= or stable="):
        cr.sort(x, kind="stable", stable=True)
    with pytest.raises(TypeError, match="descending"):
        cr.argsort(x, descending=True)


def test_partition_refuses_other_libraries_and_names_cupys():
    x = cr.tensor(_strict(_values(6, (5,))))
    with pytest.raises(DeviceError, match="partition has no implementation for array_api_strict"):
        cr.partition(x, 2)
    assert set(PRIMITIVES["partition"].implementations) == {"cupy"}


def test_numpy_forwards_stay_numpys_own_bit_for_bit():
    x = _values(7, (4, 5))
    checks = [
        (cr.sum(x, axis=1), np.sum(x, axis=1)),
        (cr.mean(x), np.mean(x)),
        (cr.logsumexp(x, axis=0), np.log(np.sum(np.exp(x - x.max(0)), axis=0)) + x.max(0)),
        (cr.var(x, axis=0, ddof=1), np.var(x, axis=0, ddof=1)),
        (cr.median(x, axis=1), np.median(x, axis=1)),
        (cr.quantile(x, 0.3), np.quantile(x, 0.3)),
        (cr.cumprod(x, axis=1), np.cumprod(x, axis=1)),
    ]
    for out, expected in checks:
        assert type(out._data) in (np.ndarray, np.float64)
        np.testing.assert_array_equal(out.numpy(), expected)


def test_a_dtype_given_as_a_scalar_type_says_nothing_about_the_library():
    """CuPy's dtypes are NumPy's scalar types (cupy.int64 is numpy.int64): count_true's
    astype to its library's int64 must not take the type for an array."""
    from chainrule.core import backend

    assert backend.namespace(np.ones(2), np.int64) is np
    assert backend.xp.astype(np.array([True, False]), np.int64).dtype == np.int64
    assert backend.namespace(_strict(np.ones(2)), np.int64) is xs
