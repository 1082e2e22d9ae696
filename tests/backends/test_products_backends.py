"""Products, diagonals and norms on other array libraries (chainrule.ops.products, norms).

The registry-wide strict test runs each entry's samples; here: every einsum form through
the standard-only composition (the forward CuPy-less libraries get), the other standard
forwards against NumPy's for many parameters, the public functions and the standard's
names (vecdot, linalg.vector_norm, linalg.trace, ...) on array_api_strict tensors with
their gradients, and the errors for mixed libraries.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.core import engine
from chainrule.core.primitive import PRIMITIVES
from chainrule.errors import DeviceError, ShapeError
from chainrule.ops import norms, products
from tests.ops.test_products import EINSUM_CASES

xs = pytest.importorskip("array_api_strict")


def _arrays(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


def _strict(value):
    return xs.asarray(value)


def _host(value):
    data = value._data if isinstance(value, cr.Tensor) else value
    assert type(data).__module__.startswith("array_api_strict"), type(data)
    return np.asarray(np.from_dlpack(data))


#: Subscripts only the rules write: repeated labels tied by identity matrices, ones vectors.
RULE_CASES = [
    ("ij,ii,j->ij", [(3, 3), (3, 3), (3,)]),
    ("a,ab,bc,c->", [(2,), (2, 3), (3, 4), (4,)]),
    ("iij,jk->kij", [(2, 2, 3), (3, 4)]),
    ("ab,cd->", [(2, 3), (4, 5)]),
    ("abc,cba->b", [(2, 3, 4), (4, 3, 2)]),
]


@pytest.mark.parametrize(("subscripts", "shapes"), EINSUM_CASES + RULE_CASES)
def test_the_standard_einsum_equals_numpys(subscripts, shapes):
    arrays = _arrays(3, *shapes)
    explicit = products._explicit_subscripts(subscripts, tuple(shapes))
    expected = np.einsum(subscripts, *arrays)
    on_numpy = products._einsum_standard(*arrays, subscripts=explicit, optimize=False)
    np.testing.assert_allclose(on_numpy, expected, rtol=1e-12, atol=1e-13)
    on_strict = products._einsum_standard(*map(_strict, arrays), subscripts=explicit, optimize=0)
    np.testing.assert_allclose(_host(on_strict), expected, rtol=1e-12, atol=1e-13)


def test_the_cupy_einsum_calls_the_librarys_own_with_numpys_argument_order():
    a, b = _arrays(4, (3, 4), (4, 2))
    out = products._einsum_library(a, b, subscripts="ij,jk->ik", optimize=True)
    np.testing.assert_array_equal(out, np.einsum("ij,jk->ik", a, b))
    assert PRIMITIVES["einsum"].forward_on(xs) is products._einsum_standard


@pytest.mark.parametrize(
    ("name", "shapes", "kwargs"),
    [
        ("dot", [(3, 4), (4, 5)], {}),
        ("dot", [(2, 3, 4), (5, 4, 2)], {}),
        ("dot", [(), (2, 3)], {}),
        ("inner", [(2, 3, 4), (5, 4)], {}),
        ("tensordot", [(2, 3, 4), (4, 2, 3)], {"axes": ([2, 0], [0, 1])}),
        ("tensordot", [(2, 3), (4,)], {"axes": 0}),
        ("kron", [(2, 1, 3), (2,)], {}),
        ("kron", [(3,), (2, 2)], {}),
        ("cross", [(3, 4), (4, 3)], {"axisa": 0}),
        ("cross", [(3, 2), (2, 3)], {"axisa": 0, "axisb": 1, "axisc": 0}),
        ("trace", [(5, 6, 4, 3)], {"offset": -1, "axis1": 3, "axis2": 1}),
        ("diagonal", [(2, 3, 4)], {"offset": 1, "axis1": 2, "axis2": 0}),
        ("vdot", [(3, 4), (12,)], {}),
        ("outer", [(3, 2), (4,)], {}),
        ("diag", [(3,)], {"k": -2}),
        ("diag", [(4, 5)], {"k": 1}),
    ],
)
def test_public_functions_on_strict_tensors_match_numpy(name, shapes, kwargs):
    arrays = _arrays(5, *shapes)
    expected = getattr(np, name)(*arrays, **kwargs)
    leaves = [cr.tensor(_strict(a), requires_grad=True) for a in arrays]
    out = getattr(cr, name)(*leaves, **kwargs)
    np.testing.assert_allclose(_host(out), expected, rtol=1e-12, atol=1e-13)
    (out * out).sum().backward()
    plain = [cr.tensor(a, requires_grad=True) for a in arrays]
    reference = getattr(cr, name)(*plain, **kwargs)
    (reference * reference).sum().backward()
    for leaf, ref in zip(leaves, plain, strict=True):
        np.testing.assert_allclose(_host(leaf.grad), ref.grad.numpy(), rtol=1e-12, atol=1e-12)


NORM_CASES = [
    ({"ord": None, "axis": None, "keepdims": True}, (3, 4)),
    ({"ord": 0, "axis": (0,), "keepdims": False}, (5,)),
    ({"ord": 0.5, "axis": (1,), "keepdims": True}, (3, 4)),
    ({"ord": -np.inf, "axis": (0,), "keepdims": False}, (5,)),
    ({"ord": "nuc", "axis": (2, 0), "keepdims": True}, (3, 2, 3)),
    ({"ord": -2, "axis": (0, 1), "keepdims": False}, (3, 4)),
    ({"ord": np.inf, "axis": (1, 2), "keepdims": True}, (2, 3, 3)),
    ({"ord": -1, "axis": (2, 1), "keepdims": False}, (2, 3, 4)),
]


@pytest.mark.parametrize(("params", "shape"), NORM_CASES)
def test_the_standard_norm_equals_numpys(params, shape):
    (x,) = _arrays(6, shape)
    expected = np.linalg.norm(x, params["ord"], params["axis"], params["keepdims"])
    on_strict = norms._norm_standard(_strict(x), **params)
    assert on_strict.shape == np.shape(expected)
    np.testing.assert_allclose(_host(on_strict), expected, rtol=1e-12)


@pytest.mark.parametrize("axis", [None, 1, -1, (0, 2), (2, 0)])
@pytest.mark.parametrize("ord", [2, 1, np.inf, 3])
@pytest.mark.parametrize("keepdims", [False, True])
def test_vector_norm_is_the_standards(axis, ord, keepdims):  # noqa: A002 - the standard's name
    (x,) = _arrays(7, (2, 3, 4))
    expected = np.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)
    for out in (
        cr.linalg.vector_norm(cr.tensor(x), axis=axis, keepdims=keepdims, ord=ord),
        np.linalg.vector_norm(cr.tensor(x), axis=axis, keepdims=keepdims, ord=ord),
    ):
        assert out.shape == expected.shape
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-13)
    strict = cr.linalg.vector_norm(cr.tensor(_strict(x)), axis=axis, keepdims=keepdims, ord=ord)
    np.testing.assert_allclose(_host(strict), expected, rtol=1e-12)


def test_vector_norm_over_several_axes_has_the_gradient_of_one_flattened_axis():
    (x,) = _arrays(8, (2, 3, 4))
    leaf = cr.tensor(x, requires_grad=True)
    cr.linalg.vector_norm(leaf, axis=(0, 2), ord=3).sum().backward()
    moved = np.moveaxis(x, 1, 0).reshape(3, -1)
    norm = np.sum(np.abs(moved) ** 3, axis=1) ** (1 / 3)
    expected = np.sign(moved) * np.abs(moved) ** 2 / norm[:, None] ** 2
    np.testing.assert_allclose(leaf.grad.numpy(), np.moveaxis(expected.reshape(3, 2, 4), 0, 1))


def test_vecdot_conjugates_its_first_operand_and_broadcasts():
    rng = np.random.default_rng(9)
    a = rng.standard_normal((2, 1, 3)) + 1j * rng.standard_normal((2, 1, 3))
    b = rng.standard_normal((4, 3)) + 1j * rng.standard_normal((4, 3))
    for out in (
        cr.vecdot(a, b),
        cr.linalg.vecdot(cr.tensor(a), b),
        np.linalg.vecdot(cr.tensor(a), b),
    ):
        np.testing.assert_allclose(out.numpy(), np.linalg.vecdot(a, b), rtol=1e-13)
    x, y = _arrays(10, (3, 5, 2), (5, 2))
    np.testing.assert_allclose(
        cr.vecdot(cr.tensor(x), y, axis=-2).numpy(), np.vecdot(x, y, axis=-2), rtol=1e-13
    )
    with pytest.raises(ShapeError, match="vecdot"):
        cr.vecdot(cr.tensor(x), np.ones((5, 3)))


def test_the_standards_linalg_names_read_the_last_two_axes():
    x, v, w = _arrays(11, (2, 3, 4), (2, 3), (4, 3))
    checks = [
        (cr.linalg.trace(cr.tensor(x), offset=1), np.linalg.trace(x, offset=1)),
        (np.linalg.trace(cr.tensor(x)), np.linalg.trace(x)),
        (cr.linalg.diagonal(cr.tensor(x), offset=-1), np.linalg.diagonal(x, offset=-1)),
        (np.linalg.diagonal(cr.tensor(x)), np.linalg.diagonal(x)),
        (cr.linalg.cross(cr.tensor(v[:, None, :]), w), np.linalg.cross(v[:, None, :], w)),
        (np.linalg.cross(cr.tensor(w), w[::-1]), np.linalg.cross(w, w[::-1])),
        (cr.linalg.tensordot(cr.tensor(x), x, axes=3), np.linalg.tensordot(x, x, axes=3)),
        (np.linalg.tensordot(cr.tensor(v), w, axes=((1,), (1,))), np.tensordot(v, w, ((1,), (1,)))),
        (cr.linalg.outer(cr.tensor(w[0]), v[1]), np.linalg.outer(w[0], v[1])),
    ]
    for out, expected in checks:
        assert isinstance(out, cr.Tensor)
        np.testing.assert_array_equal(out.numpy(), expected)


def _first_and_second_order(a, b, convert):
    """The gradient of a loss of einsum and norms, and the gradient of its squared length."""
    x = cr.tensor(convert(a), requires_grad=True)
    product = cr.einsum("ij,jk->ik", x, cr.tensor(convert(b)))
    loss = product.sum() ** 2 + cr.linalg.norm(x, "nuc", (0, 1)) + cr.linalg.vector_norm(x, ord=3)
    seed = cr.Tensor(convert(np.float64(1.0)))
    (gradient,) = engine.backprop(loss, seed, [x], create_graph=True)
    (second,) = engine.backprop((gradient * gradient).sum(), convert(np.float64(1.0)), [x])
    return gradient._data, second


def test_strict_tensors_keep_their_library_through_first_and_second_order():
    a, b = _arrays(12, (3, 4), (4, 2))
    gradient, second = _first_and_second_order(a, b, _strict)
    expected_gradient, expected_second = _first_and_second_order(a, b, lambda v: v)
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    by_hand = (
        2 * (a @ b).sum() * np.ones((3, 2)) @ b.T
        + u @ vh
        + np.sign(a) * a**2 / np.sum(np.abs(a) ** 3) ** (2 / 3)
    )
    np.testing.assert_allclose(_host(gradient), by_hand, rtol=1e-12)
    np.testing.assert_allclose(_host(gradient), expected_gradient, rtol=1e-12)
    np.testing.assert_allclose(_host(second), expected_second, rtol=1e-10)


def test_numpy_and_strict_operands_together_are_refused():
    a, b = _arrays(13, (3, 4), (4, 2))
    with pytest.raises(DeviceError):
        cr.tensordot(cr.tensor(_strict(a)), cr.tensor(b), axes=1)
    with pytest.raises(DeviceError):
        cr.einsum("ij,jk->ik", cr.tensor(_strict(a)), b)
