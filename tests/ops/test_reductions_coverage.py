"""NumPy coverage of reductions, scans and order statistics (issue 13): prod, var, std,
cumsum, cumprod, sort, argsort, partition, median, quantile, percentile, average, nansum,
nanmean, amax, amin.

The generated tests (tests/ops/test_primitives.py, tests/tensor/test_surface.py) check
each entry's rules at random points; these check what they cannot: bit-equality with
NumPy over many calls, NumPy dispatch and PyTorch-style methods, gradients at zeros,
ties and NaN, PyTorch cross-checks, the batching rules, argument errors, and a selection
of HIPS autograd's ``check_grads`` cases (both modes, second order).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import chainrule as cr
from chainrule.core.primitive import PRIMITIVES
from chainrule.errors import ShapeError
from chainrule.fd import gradcheck

RNG = np.random.default_rng(13)
A = RNG.standard_normal((3, 4, 5))
WEIGHTS = RNG.uniform(0.5, 2.0, (3, 4, 5))
WITH_NAN = np.where(RNG.random((4, 5)) < 0.3, np.nan, RNG.standard_normal((4, 5)))

#: (function name, positional arguments after the array, keyword arguments, the array).
CALLS = [
    ("prod", (), {}, A),
    ("prod", (1,), {}, A),
    ("prod", (), {"axis": (0, 2), "keepdims": True}, A),
    ("var", (), {}, A),
    ("var", (), {"axis": 1, "ddof": 1}, A),
    ("var", ((0, 2),), {"ddof": 2, "keepdims": True}, A),
    ("std", (), {"ddof": 1}, A),
    ("std", (-1,), {"keepdims": True}, A),
    ("cumsum", (), {}, A),
    ("cumsum", (1,), {}, A),
    ("cumsum", (), {"axis": -1}, A),
    ("cumprod", (), {}, A),
    ("cumprod", (0,), {}, A),
    ("sort", (), {}, A),
    ("sort", (0,), {}, A),
    ("sort", (), {"axis": None}, A),
    ("argsort", (), {}, A),
    ("argsort", (1,), {"kind": "stable"}, A),
    ("partition", (2,), {}, A),
    ("partition", ((0, 3),), {"axis": 1}, A),
    ("partition", (7,), {"axis": None}, A),
    ("median", (), {}, A),
    ("median", (), {"axis": 1}, A),
    ("median", (), {"axis": (0, 2), "keepdims": True}, A),
    ("median", (2,), {}, A),
    ("quantile", (0.3,), {}, A),
    ("quantile", ([0.1, 0.5, 1.0],), {"axis": 1}, A),
    ("quantile", (np.array([[0.2], [0.7]]),), {"axis": (0, 2), "keepdims": True}, A),
    ("percentile", (37.5,), {"axis": 2}, A),
    ("percentile", ([5, 50, 95],), {}, A),
    ("average", (), {}, A),
    ("average", (1,), {}, A),
    ("average", (), {"weights": WEIGHTS}, A),
    ("average", (), {"axis": 2, "weights": WEIGHTS[0, 0]}, A),
    ("average", (), {"axis": (0, 2), "weights": WEIGHTS[:, 0], "keepdims": True}, A),
    ("nansum", (), {}, WITH_NAN),
    ("nansum", (1,), {"keepdims": True}, WITH_NAN),
    ("nanmean", (), {}, WITH_NAN),
    ("nanmean", (0,), {}, WITH_NAN),
    ("amax", (), {}, A),
    ("amax", (1,), {}, A),
    ("amin", (), {"axis": (0, 2)}, A),
]


def _ids(calls):
    return [f"{name}{args}{sorted(kwargs)}" for name, args, kwargs, _ in calls]


@pytest.mark.parametrize(("name", "args", "kwargs", "array"), CALLS, ids=_ids(CALLS))
def test_values_are_bit_equal_to_numpy_through_every_door(name, args, kwargs, array):
    expected = getattr(np, name)(array, *args, **kwargs)
    through_function = getattr(cr, name)(array, *args, **kwargs)
    through_numpy = getattr(np, name)(cr.tensor(array), *args, **kwargs)
    for result in (through_function, through_numpy):
        assert isinstance(result, cr.Tensor)
        assert result.dtype == np.asarray(expected).dtype
        np.testing.assert_array_equal(result.numpy(), expected, strict=True)


@pytest.mark.parametrize(
    "name", ["prod", "var", "std", "cumsum", "cumprod", "sort", "median", "quantile", "average"]
)
def test_float32_stays_float32(name):
    x = cr.tensor(A.astype(np.float32), requires_grad=True)
    extra = {"quantile": (0.25,)}.get(name, ())
    out = getattr(cr, name)(x, *extra)
    out.sum().backward()
    assert out.dtype == np.float32
    assert x.grad.dtype == np.float32
    expected = getattr(np, name)(A.astype(np.float32), *extra)
    np.testing.assert_array_equal(out.detach().numpy(), expected)


def test_methods_use_pytorch_names_and_keywords():
    t = cr.tensor(A)
    pairs = [
        (t.prod(1), A.prod(1)),
        (t.prod(dim=2, keepdim=True), A.prod(2, keepdims=True)),
        (t.var(), A.var()),
        (t.var(dim=1, unbiased=True), A.var(1, ddof=1)),
        (t.var(1, correction=2), A.var(1, ddof=2)),
        (t.std(dim=0, unbiased=False, keepdim=True), A.std(0, keepdims=True)),
        (t.cumsum(dim=1), A.cumsum(1)),
        (t.cumprod(0), A.cumprod(0)),
        (t.argsort(), A.argsort()),
        (t.argsort(dim=0), A.argsort(0)),
        (t.quantile(0.3, dim=1, keepdim=True), np.quantile(A, 0.3, axis=1, keepdims=True)),
        (t.quantile([0.25, 0.75], interpolation="linear"), np.quantile(A, [0.25, 0.75])),
        (t.nansum(), np.nansum(A)),
        (t.nanmean(dim=0), np.nanmean(A, axis=0)),
        (t.amax(dim=1), A.max(1)),
        (t.amin((0, 2), keepdim=True), A.min((0, 2), keepdims=True)),
    ]
    for result, expected in pairs:
        np.testing.assert_array_equal(result.numpy(), expected, strict=True)


def test_scans_flatten_without_an_axis_like_numpy():
    x = cr.tensor(A[0], requires_grad=True)
    out = cr.cumprod(x)
    assert out.shape == (A[0].size,)
    out.sum().backward()
    assert x.grad.shape == A[0].shape


# --- gradients where the easy formulas divide by zero ----------------------------------


def _weighted_grad(f, array, seed=0):
    """d<u, f(x)>/dx for a fixed random u, and u itself (for the PyTorch side)."""
    u = np.random.default_rng(seed).standard_normal(np.shape(f(cr.tensor(array)).numpy()))
    x = cr.tensor(array, requires_grad=True)
    f(x).backward(gradient=u)
    return x.grad.numpy(), u


ZERO_CASES = {
    "one zero": np.array([[1.5, 0.0, -2.0, 0.5], [0.7, 1.1, -0.3, 2.0]]),
    "two zeros": np.array([[0.0, 1.5, 0.0, -2.0], [0.0, 0.7, 1.3, 0.0]]),
    "all zeros": np.zeros((2, 4)),
    "zero last": np.array([[1.5, -1.0, 2.0, 0.0], [0.0, -1.0, 3.0, 0.5]]),
}


def _prod_others(x, axis):
    """∂prod/∂x_k = the product of the other entries, by brute force."""
    out = np.empty_like(x)
    for index in np.ndindex(x.shape):
        others = x.copy()
        others[index] = 1.0
        lane = list(index)
        lane[axis] = slice(None)
        out[index] = np.prod(others[tuple(lane)])
    return out


@pytest.mark.parametrize("case", ZERO_CASES)
@pytest.mark.parametrize("axis", [0, 1])
def test_prod_gradient_at_zeros_is_the_product_of_the_others(case, axis):
    x = ZERO_CASES[case]
    grad = cr.grad(lambda y: cr.prod(y, axis=axis).sum())(x)
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, _prod_others(x, axis), rtol=1e-12, atol=0)


@pytest.mark.parametrize("case", ZERO_CASES)
def test_prod_hessian_at_zeros_is_exact(case):
    x = ZERO_CASES[case].ravel()
    hessian = cr.hessian(lambda y: cr.prod(y))(x)
    expected = np.zeros((x.size, x.size))
    for j in range(x.size):
        for k in range(x.size):
            if j != k:
                expected[j, k] = np.prod(np.delete(x, [j, k]))
    np.testing.assert_allclose(hessian, expected, rtol=1e-12, atol=0)


def _cumprod_jacobian(x):
    """∂y_i/∂x_k = ∏_{j≤i, j≠k} x_j for k ≤ i, by brute force."""
    n = x.size
    jac = np.zeros((n, n))
    for i in range(n):
        for k in range(i + 1):
            jac[i, k] = np.prod(np.delete(x[: i + 1], k))
    return jac


@pytest.mark.parametrize("case", ZERO_CASES)
def test_cumprod_jacobian_at_zeros_in_both_modes(case):
    for lane in ZERO_CASES[case]:
        expected = _cumprod_jacobian(lane)
        for mode in ("rev", "fwd"):
            actual = cr.jacobian(lambda y: cr.cumprod(y), mode=mode)(lane)
            assert np.all(np.isfinite(actual)), mode
            np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=0, err_msg=mode)


@pytest.mark.parametrize("case", ZERO_CASES)
def test_cumprod_hessian_at_zeros_matches_differences_of_the_exact_gradient(case):
    """The first-order gradient is exact (above); a polynomial's central differences are
    exact up to rounding, so they check the recorded backward pass at zeros."""
    u = np.array([0.3, -1.2, 0.8, 1.5])
    lane = ZERO_CASES[case][0]

    def loss(y):
        return (cr.cumprod(y) * u).sum()

    hessian = cr.hessian(loss)(lane)
    step = 1e-5
    numeric = np.empty((lane.size, lane.size))
    for k in range(lane.size):
        moved = np.zeros(lane.size)
        moved[k] = step
        numeric[:, k] = (cr.grad(loss)(lane + moved) - cr.grad(loss)(lane - moved)) / (2 * step)
    np.testing.assert_allclose(hessian, numeric, rtol=1e-6, atol=1e-8)


# --- ties and NaN --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["max", "amax"])
def test_tied_maxima_share_the_gradient_equally(name):
    x = np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, 0.0]])
    grad = cr.grad(lambda y: getattr(cr, name)(y, axis=1).sum())(x)
    np.testing.assert_allclose(grad, [[0, 0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3, 0]])
    t = cr.tensor(x, requires_grad=True)
    np.amax(t).backward()
    np.testing.assert_allclose(t.grad.numpy(), [[0, 0, 0, 0], [1 / 3, 1 / 3, 1 / 3, 0]])


def test_tied_minima_share_the_gradient_equally():
    t = cr.tensor([2.0, -1.0, 4.0, -1.0], requires_grad=True)
    t.amin().backward()
    np.testing.assert_allclose(t.grad.numpy(), [0, 0.5, 0, 0.5])


def test_median_and_sort_rank_ties_by_position():
    x = np.array([3.0, 1.0, 3.0, 3.0, 0.0])
    np.testing.assert_array_equal(cr.grad(lambda y: cr.median(y))(x), [1, 0, 0, 0, 0])
    sorted_grad = cr.grad(lambda y: (cr.sort(y) * np.arange(5.0)).sum())(x)
    np.testing.assert_array_equal(sorted_grad, [2, 1, 3, 4, 0])


@pytest.mark.parametrize("name", ["nansum", "nanmean"])
def test_nan_entries_get_no_gradient(name):
    grad = cr.grad(lambda y: getattr(cr, name)(y, axis=1).sum())(WITH_NAN)
    assert np.all(np.isfinite(grad))
    np.testing.assert_array_equal(grad[np.isnan(WITH_NAN)], 0)
    counts = (~np.isnan(WITH_NAN)).sum(axis=1, keepdims=True)
    expected = np.where(np.isnan(WITH_NAN), 0, 1.0 if name == "nansum" else 1.0 / counts)
    np.testing.assert_allclose(grad, expected)


def test_nanmean_of_an_all_nan_row_gives_nan_value_and_zero_gradient():
    x = np.array([[np.nan, np.nan], [1.0, 3.0]])
    t = cr.tensor(x, requires_grad=True)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        out = cr.nanmean(t, axis=1)
    assert np.isnan(out.detach().numpy()[0]) and out.detach().numpy()[1] == 2.0
    out[1].backward()
    np.testing.assert_array_equal(t.grad.numpy(), [[0, 0], [0.5, 0.5]])


# --- PyTorch cross-checks -------------------------------------------------------------------


def _torch_grad(torch_f, array, u):
    torch = pytest.importorskip("torch")
    x = torch.tensor(array, requires_grad=True)
    out = torch_f(x)
    out.backward(torch.as_tensor(u))
    return out.detach().numpy(), x.grad.numpy()


TORCH_CASES = {
    "prod": (lambda y: cr.prod(y, axis=1), lambda x: x.prod(1), ZERO_CASES["two zeros"]),
    "prod one zero": (lambda y: y.prod(0), lambda x: x.prod(0), ZERO_CASES["one zero"]),
    "prod all": (lambda y: cr.prod(y), lambda x: x.prod(), A),
    "var": (lambda y: y.var(1, ddof=1), lambda x: x.var(1, correction=1), A),
    "var ddof 0": (lambda y: cr.var(y, (0, 2)), lambda x: x.var((0, 2), correction=0), A),
    "std": (lambda y: cr.std(y, 2, ddof=1), lambda x: x.std(2), A),
    "std ddof 0": (lambda y: cr.std(y), lambda x: x.std(correction=0), A),
    "cumsum": (lambda y: cr.cumsum(y, 1), lambda x: x.cumsum(1), A),
    "cumprod": (lambda y: cr.cumprod(y, 1), lambda x: x.cumprod(1), ZERO_CASES["two zeros"]),
    "cumprod one zero": (lambda y: y.cumprod(1), lambda x: x.cumprod(1), ZERO_CASES["one zero"]),
    "cumprod dense": (lambda y: cr.cumprod(y, 2), lambda x: x.cumprod(2), A),
    "sort": (lambda y: cr.sort(y, 0), lambda x: x.sort(0).values, A),
    "median": (lambda y: cr.median(y, axis=2), lambda x: x.median(2).values, A),
    "quantile": (
        lambda y: cr.quantile(y, [0.1, 0.5, 0.8], axis=1),
        lambda x: x.quantile(x.new_tensor([0.1, 0.5, 0.8]), dim=1),
        A,
    ),
    "nansum": (lambda y: cr.nansum(y, 1), lambda x: x.nansum(1), WITH_NAN),
    "nanmean": (lambda y: cr.nanmean(y, 0), lambda x: x.nanmean(0), WITH_NAN),
}


@pytest.mark.parametrize("case", TORCH_CASES)
def test_values_and_gradients_match_pytorch(case):
    ours, theirs, array = TORCH_CASES[case]
    grad, u = _weighted_grad(ours, array)
    value, expected_grad = _torch_grad(theirs, array, u)
    np.testing.assert_allclose(ours(cr.tensor(array)).numpy(), value, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-12)


def test_average_gradients_match_pytorch_formula():
    torch = pytest.importorskip("torch")
    x, w = cr.tensor(A, requires_grad=True), cr.tensor(WEIGHTS[0, 0], requires_grad=True)
    out = cr.average(x, axis=2, weights=w)
    u = RNG.standard_normal(out.shape)
    out.backward(gradient=u)
    tx, tw = torch.tensor(A, requires_grad=True), torch.tensor(WEIGHTS[0, 0], requires_grad=True)
    expected = (tx * tw).sum(2) / tw.sum()
    expected.backward(torch.as_tensor(u))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-10)


# --- batching rules ---------------------------------------------------------------------------

NEW_ENTRIES = [
    "sum",
    "mean",
    "max",
    "min",
    "logsumexp",
    "prod",
    "var",
    "std",
    "cumsum",
    "cumprod",
    "sort",
    "argsort",
    "partition",
    "median",
    "quantile",
    "average",
    "nansum",
    "nanmean",
]


def _flag_choices(count):
    """Which operands carry the batch axis: the one operand, or any non-empty choice of two."""
    return [(True,)] if count == 1 else [(True, True), (True, False), (False, True)]


@pytest.mark.parametrize("name", NEW_ENTRIES)
def test_batch_rule_is_one_call_equal_to_a_loop(name):
    prim = PRIMITIVES[name]
    for args, params in prim.sample(np.random.default_rng(5)):
        for flags in _flag_choices(len(args)):
            operands = [
                np.stack([a * (1 + 0.1 * b) for b in range(3)]) if batched else a
                for a, batched in zip(args, flags, strict=True)
            ]
            expected = np.stack(
                [
                    prim.evaluate(
                        *[o[b] if f else o for o, f in zip(operands, flags, strict=True)], **params
                    )
                    for b in range(3)
                ]
            )
            actual = prim.batch(flags, *operands, **params)
            np.testing.assert_array_equal(np.asarray(actual), expected, err_msg=f"{flags}")


def test_batch_rule_records_a_gradient_on_tensors():
    x = cr.tensor(RNG.standard_normal((3, 4, 5)), requires_grad=True)
    out = PRIMITIVES["quantile"].batch(
        (True,), x, q=np.array([0.2, 0.9]), axis=(1,), keepdims=False
    )
    assert out.shape == (3, 2, 4)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy().sum(axis=(1, 2)), [2 * 4] * 3)


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: cr.partition(A, 5), ShapeError, "kth=5"),
        (lambda: cr.partition(A, 1.5), TypeError, "kth"),
        (lambda: cr.quantile(A, 1.5), ValueError, "q must be"),
        (lambda: cr.percentile(A, -1), ValueError, "q must be"),
        (lambda: cr.quantile(A, 0.5, method="nearest"), ValueError, "linear"),
        (lambda: cr.average(A, weights=WEIGHTS[0]), TypeError, "axis must be given"),
        (lambda: cr.average(A, axis=1, weights=WEIGHTS[0, 0]), ShapeError, "along axis"),
        (lambda: cr.average(A, returned=True), TypeError, "returned"),
        (lambda: cr.var(A, ddof=1, correction=1), TypeError, "one of"),
        (lambda: cr.sort(A + 1j), TypeError, "complex"),
        (lambda: cr.median(np.zeros((0, 3))), ShapeError, "zero-size"),
        (lambda: cr.cumsum(A, 3), ShapeError, "axis 3"),
        (lambda: cr.median(A, out=np.empty(())), TypeError, "out="),
    ],
)
def test_bad_calls_raise_clear_errors(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_average_with_weights_summing_to_zero_is_refused_as_numpy_does():
    with pytest.raises(ZeroDivisionError):
        cr.average(np.ones(2), weights=np.array([1.0, -1.0]))


def test_std_gradient_where_the_spread_is_zero_is_not_finite():
    with np.errstate(all="ignore"):
        grad = cr.grad(lambda y: cr.std(y))(np.full(3, 2.0))
    assert not np.any(np.isfinite(grad))


# --- shapes and axes drawn by hypothesis --------------------------------------------------------


@st.composite
def _array_and_axis(draw):
    shape = draw(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    seed = draw(st.integers(0, 2**16))
    return np.random.default_rng(seed).uniform(-2, 2, shape), axis


#: Arguments before ``axis`` for the functions drawn below.
DRAWN = {"prod": (), "var": (), "cumsum": (), "cumprod": (), "median": (), "quantile": (0.37,)}


@settings(max_examples=30, deadline=None)
@given(case=_array_and_axis(), name=st.sampled_from(sorted(DRAWN)))
def test_values_and_gradients_over_drawn_shapes_and_axes(case, name):
    x, axis = case
    f, extra = getattr(cr, name), DRAWN[name]
    expected = getattr(np, name)(x, *extra, axis=axis)
    np.testing.assert_array_equal(f(x, *extra, axis=axis).numpy(), expected)
    result = gradcheck(lambda y: f(y, *extra, axis=axis), x, modes=("rev",))
    assert result, result


# --- a selection of HIPS autograd's check_grads cases, written anew -----------------------------


def check_grads(f, x, seed=0):
    """Both modes at first order, and reverse-over-reverse and forward-over-reverse at second
    order (the gradient of <u, f(x)> checked against its own central differences)."""
    assert gradcheck(f, x), f"first order of {f}"
    u = np.random.default_rng(seed).standard_normal(np.shape(f(cr.tensor(x)).numpy()))

    def pulled_back(y):
        return cr.grad(lambda z: (f(z) * u).sum())(y)

    assert gradcheck(pulled_back, x), f"second order of {f}"


POSITIVE = RNG.uniform(0.1, 0.5, (2, 3)) ** 2 + 0.1
MAT = RNG.standard_normal((4, 5))
AUTOGRAD_CASES = {
    "prod_1": (lambda x: np.prod(x), POSITIVE),
    "prod_2": (lambda x: np.prod(x, axis=0), POSITIVE),
    "prod_3": (lambda x: np.prod(x, axis=0, keepdims=True), POSITIVE),
    "prod_4": (lambda x: np.prod(x), RNG.standard_normal((2, 3))),
    "cumsum_axis0": (lambda x: np.cumsum(x, axis=0), MAT),
    "cumsum_axis1": (lambda x: np.cumsum(x, axis=1), MAT),
    "cumsum_none": (lambda x: np.cumsum(x), MAT),
    "cumprod": (lambda x: np.cumprod(x, axis=1), RNG.uniform(0.5, 1.5, (3, 4))),
    "var_ddof": (lambda x: np.var(x, axis=1, ddof=1), MAT),
    "std_ddof": (lambda x: np.std(x, axis=0, ddof=2), MAT),
    "sort": (lambda x: np.sort(x), MAT),
    "partition": (lambda x: np.partition(x, 2, axis=1), MAT),
    "median_axis": (lambda x: np.median(x, axis=1), MAT),
    "median_even": (lambda x: np.median(x), MAT),
    "percentile": (lambda x: np.percentile(x, [10, 50, 90], axis=0), MAT),
    "quantile": (lambda x: np.quantile(x, 0.35), MAT),
    "average": (lambda x: np.average(x, axis=1, weights=np.arange(1.0, 6.0)), MAT),
    "average_in_weights": (lambda w: np.average(MAT, axis=1, weights=w), np.arange(1.0, 6.0)),
    "nanmean": (lambda x: np.nanmean(x * x, axis=0), MAT),
    "amax": (lambda x: np.amax(x, axis=1), MAT),
}


@pytest.mark.parametrize("case", AUTOGRAD_CASES)
def test_autograd_check_grads_cases(case):
    f, x = AUTOGRAD_CASES[case]
    check_grads(f, x)


@pytest.mark.parametrize("case", ZERO_CASES)
def test_cumprod_forward_mode_recorded_at_zeros_is_exact(case):
    """Reverse-over-forward: the JVP rule run on Tensors (nested jvp) at lanes with zeros."""
    lane = ZERO_CASES[case][0]
    v = np.array([0.5, -1.0, 2.0, 0.25])

    def pushed(y):
        return cr.jvp(lambda z: cr.cumprod(z), (y,), (v,))[1]

    jac = cr.jacobian(pushed)(lane)
    step = 1e-5
    numeric = np.stack(
        [
            (pushed(lane + step * e) - pushed(lane - step * e)) / (2 * step)
            for e in np.eye(lane.size)
        ],
        axis=1,
    )
    np.testing.assert_allclose(jac, numeric, rtol=1e-6, atol=1e-8)


def _stable_ranks(lane):
    ranks = np.empty(lane.size, dtype=int)
    ranks[np.argsort(lane, kind="stable")] = np.arange(lane.size)
    return ranks


@pytest.mark.parametrize("seed", range(5))
def test_order_statistic_gradients_with_many_ties_follow_stable_ranks(seed):
    """Small integers tie often: each statistic's weight sits at the entry of its stable rank."""
    x = np.random.default_rng(seed).integers(0, 3, (3, 8)).astype(float)
    q = np.array([0.0, 0.3, 0.5, 0.85, 1.0])
    u = np.random.default_rng(seed).standard_normal((q.size, 3))
    grad = cr.grad(lambda y: (cr.quantile(y, q, axis=1) * u).sum())(x)
    expected = np.zeros_like(x)
    for row, lane in enumerate(x):
        ranks = _stable_ranks(lane)
        for j, virtual in enumerate(q * (lane.size - 1)):
            lower = int(np.floor(virtual))
            gamma = virtual - lower
            expected[row, ranks == lower] += u[j, row] * (1 - gamma)
            expected[row, ranks == min(lower + 1, lane.size - 1)] += u[j, row] * gamma
    np.testing.assert_allclose(grad, expected, rtol=1e-12, atol=1e-15)
    v = np.random.default_rng(seed).standard_normal((3, 8))
    sort_grad = cr.grad(lambda y: (cr.sort(y, axis=1) * v).sum())(x)
    np.testing.assert_array_equal(
        sort_grad, np.stack([v[r][_stable_ranks(x[r])] for r in range(3)])
    )


def test_tensor_sort_is_pytorchs_values_and_indices():
    torch = pytest.importorskip("torch")
    x = np.array([[3.0, 1.0, 3.0, -2.0, 1.0], [0.5, 0.5, 2.0, -1.0, 0.5]])
    for descending in (False, True):
        t = cr.tensor(x, requires_grad=True)
        values, indices = t.sort(dim=1, descending=descending, stable=True)
        expected = torch.tensor(x).sort(dim=1, descending=descending, stable=True)
        np.testing.assert_array_equal(values.detach().numpy(), expected.values.numpy())
        np.testing.assert_array_equal(indices.numpy(), expected.indices.numpy())
        assert not indices.requires_grad
        (values * np.arange(5.0)).sum().backward()
        tx = torch.tensor(x, requires_grad=True)
        sorted_values = tx.sort(dim=1, descending=descending, stable=True).values
        (sorted_values * torch.arange(5.0, dtype=torch.float64)).sum().backward()
        np.testing.assert_array_equal(t.grad.numpy(), tx.grad.numpy())
    assert t.sort().values.shape == x.shape


@pytest.mark.parametrize("name", ["prod", "var", "median", "average", "nanmean"])
def test_batch_rules_reduce_per_example_scalars(name):
    """A batch of 0-d examples reduced over all (no) axes: each example is its own result."""
    xs = np.array([0.5, -1.5, 2.0])
    params = {"axis": None, "keepdims": False}
    if name == "var":
        params["ddof"] = 0
    actual = PRIMITIVES[name].batch((True,), xs, **params)
    expected = np.stack([PRIMITIVES[name].evaluate(x, **params) for x in xs])
    np.testing.assert_array_equal(actual, expected)


@settings(max_examples=25, deadline=None)
@given(
    shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
    zeros=st.integers(1, 3),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_prod_and_cumprod_at_zeros_over_drawn_axes(shape, zeros, seed, data):
    """Both are multilinear, so central differences are exact up to rounding at zeros too."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, shape)
    x.reshape(-1)[rng.choice(x.size, size=min(zeros, x.size), replace=False)] = 0.0
    axes = data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))
    axis = data.draw(st.integers(0, len(shape) - 1))
    assert gradcheck(lambda y: cr.prod(y, axis=tuple(axes)), x)
    assert gradcheck(lambda y: cr.cumprod(y, axis=axis), x)


def test_np_average_dispatches_on_tensor_weights_alone():
    weights = WEIGHTS[0, 0]
    w = cr.tensor(weights, requires_grad=True)
    out = np.average(A, axis=2, weights=w)
    assert isinstance(out, cr.Tensor)
    expected_value = np.average(A, axis=2, weights=weights)
    np.testing.assert_array_equal(out.detach().numpy(), expected_value)
    out.sum().backward()
    expected_grad = (A - expected_value[..., None]).sum((0, 1)) / weights.sum()
    np.testing.assert_allclose(w.grad.numpy(), expected_grad, rtol=1e-10, atol=1e-12)


def test_var_without_degrees_of_freedom_gives_nan_gradient_not_a_number():
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        grad = cr.grad(lambda y: cr.var(y, ddof=2))(np.array([1.0, 2.0]))
    assert np.all(np.isnan(grad))
