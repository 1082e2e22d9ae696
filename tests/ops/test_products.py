"""Products and diagonals (chainrule.ops.products) beyond the generated registry checks:
NumPy's bits on plain arrays, einsum over many subscripts, gradients against PyTorch,
second order, NumPy dispatch and Tensor methods, the batching rules, and errors."""

from __future__ import annotations

import itertools
import string

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.core.primitive import PRIMITIVES
from chainrule.errors import ShapeError
from chainrule.fd import gradcheck

PRODUCTS = ("dot", "inner", "tensordot", "einsum", "kron", "cross", "trace", "diagonal")


def _arrays(seed, *shapes, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for shape in shapes]


# --- values: NumPy's own bits on plain arrays ------------------------------------------

#: (function name, operand shapes, keyword arguments)
NUMPY_CASES = [
    ("dot", [(3, 4), (4, 5)], {}),
    ("dot", [(7,), (7,)], {}),
    ("dot", [(3, 4), (4,)], {}),
    ("dot", [(4,), (4, 3)], {}),
    ("dot", [(2, 3, 40), (40, 4)], {}),
    ("dot", [(2, 3, 40), (5, 40, 4)], {}),
    ("dot", [(), (2, 3)], {}),
    ("dot", [(300,), (300,)], {}),
    ("inner", [(3, 4), (5, 4)], {}),
    ("inner", [(2, 3, 40), (5, 40)], {}),
    ("inner", [(4,), ()], {}),
    ("tensordot", [(2, 3, 4), (3, 4, 5)], {}),
    ("tensordot", [(2, 3, 4), (4, 5)], {"axes": 1}),
    ("tensordot", [(2, 3), (4,)], {"axes": 0}),
    ("tensordot", [(2, 3, 4), (4, 2, 3)], {"axes": ([2, 0], [0, 1])}),
    ("tensordot", [(3, 4), (4, 3)], {"axes": (1, 0)}),
    ("vdot", [(3, 4), (12,)], {}),
    ("vdot", [(200,), (200,)], {}),
    ("outer", [(3, 2), (4,)], {}),
    ("kron", [(2, 3), (3, 2)], {}),
    ("kron", [(3,), (2, 2)], {}),
    ("kron", [(2, 1, 3), (2,)], {}),
    ("cross", [(5, 3), (5, 3)], {}),
    ("cross", [(3,), (4, 3)], {}),
    ("cross", [(3, 4), (4, 3)], {"axisa": 0}),
    ("cross", [(3, 4), (3, 4)], {"axis": 0}),
    ("cross", [(3, 2), (2, 3)], {"axisa": 0, "axisb": 1, "axisc": 0}),
    ("trace", [(4, 4)], {}),
    ("trace", [(3, 5)], {"offset": 1}),
    ("trace", [(5, 6, 4, 3)], {"offset": -1, "axis1": 3, "axis2": 1}),
    ("diagonal", [(4, 5)], {}),
    ("diagonal", [(4, 5)], {"offset": -2}),
    ("diagonal", [(2, 3, 4)], {"offset": 1, "axis1": 2, "axis2": 0}),
    ("diag", [(4,)], {}),
    ("diag", [(3,)], {"k": -2}),
    ("diag", [(4, 5)], {"k": 1}),
]


@pytest.mark.parametrize(("name", "shapes", "kwargs"), NUMPY_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_results_are_numpys_bits(name, shapes, kwargs, dtype):
    arrays = _arrays(0, *shapes, dtype=dtype)
    expected = getattr(np, name)(*arrays, **kwargs)
    for out in (
        getattr(cr, name)(*arrays, **kwargs),
        getattr(np, name)(cr.tensor(arrays[0]), *arrays[1:], **kwargs),
    ):
        assert isinstance(out, cr.Tensor)
        assert out.dtype == expected.dtype
        np.testing.assert_array_equal(out.numpy(), expected)


#: (subscripts, operand shapes): every form of NumPy's subscripts.
EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 2)]),
    ("ij,jk", [(3, 4), (4, 2)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]),
    ("i,i", [(5,), (5,)]),
    ("i,i->", [(5,), (5,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ii", [(4, 4)]),
    ("ii->i", [(4, 4)]),
    ("iij->ji", [(3, 3, 2)]),
    ("ijk->kji", [(2, 3, 4)]),
    ("ij->", [(3, 4)]),
    ("ba", [(2, 3)]),
    ("...", [(2, 3)]),
    ("i...->...", [(2, 3)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 2)]),
    ("...i,...i", [(2, 1, 3), (4, 3)]),
    ("ij,ij->ij", [(3, 1), (3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("ijk,jkl,l->i", [(2, 3, 4), (3, 4, 2), (2,)]),
    (",ij->ij", [(), (2, 3)]),
    ("i j , j k -> i k", [(3, 4), (4, 2)]),
]


@pytest.mark.parametrize(("subscripts", "shapes"), EINSUM_CASES)
@pytest.mark.parametrize("optimize", [False, True, "optimal"])
def test_einsum_values_are_numpys(subscripts, shapes, optimize):
    arrays = _arrays(1, *shapes)
    expected = np.einsum(subscripts, *arrays, optimize=optimize)
    out = cr.einsum(subscripts, *arrays, optimize=optimize)
    np.testing.assert_array_equal(out.numpy(), expected)
    dispatched = np.einsum(subscripts, *map(cr.tensor, arrays), optimize=optimize)
    np.testing.assert_array_equal(dispatched.numpy(), expected)


def test_einsum_takes_an_explicit_contraction_path():
    a, b, c = _arrays(2, (2, 3), (3, 4), (4, 5))
    path, _ = np.einsum_path("ij,jk,kl->il", a, b, c, optimize="optimal")
    x = cr.tensor(a, requires_grad=True)
    out = cr.einsum("ij,jk,kl->il", x, b, c, optimize=path)
    np.testing.assert_array_equal(
        out.detach().numpy(), np.einsum("ij,jk,kl->il", a, b, c, optimize=path)
    )
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.ones((2, 5)) @ (b @ c).T, rtol=1e-12)


def test_a_large_unplanned_einsum_gets_a_planned_gradient_of_the_same_value():
    """Over 2**16 terms the VJP contracts pairwise through BLAS even with optimize=False."""
    a, b = _arrays(16, (50, 60), (60, 70))
    x = cr.tensor(a, requires_grad=True)
    out = cr.einsum("ij,jk->ik", x, b)
    np.testing.assert_array_equal(out.detach().numpy(), np.einsum("ij,jk->ik", a, b))
    u = np.random.default_rng(17).standard_normal((50, 70))
    (out * u).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), u @ b.T, rtol=1e-12, atol=1e-12)


def test_diag_keeps_negative_zeros_as_numpy_does():
    v = np.array([-0.0, 1.0, -0.0])
    for k in (0, 2, -1):
        out = cr.diag(v, k).numpy()
        np.testing.assert_array_equal(np.signbit(out), np.signbit(np.diag(v, k)))


def test_vdot_conjugates_its_first_operand():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))
    b = rng.standard_normal(6) + 1j * rng.standard_normal(6)
    assert cr.vdot(a, b).numpy() == np.vdot(a, b)
    assert np.vdot(cr.tensor(a), b).numpy() == np.vdot(a, b)
    # Re(conj(a) . b) = sum(x p + y q) for a = x + iy, b = p + iq: d/dx - i d/dy is conj(b).
    gradient = cr.grad(lambda t: cr.real(cr.vdot(t, b)))(a)
    np.testing.assert_allclose(gradient, np.conj(b).reshape(2, 3), rtol=1e-15)


# --- gradients against PyTorch ----------------------------------------------------------


def _torch_grads(torch_function, arrays, u):
    torch = pytest.importorskip("torch")
    leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    (torch_function(*leaves) * torch.tensor(u)).sum().backward()
    return [leaf.grad.numpy() for leaf in leaves]


def _our_grads(function, arrays, u):
    leaves = [cr.tensor(a, requires_grad=True) for a in arrays]
    (function(*leaves) * u).sum().backward()
    return [leaf.grad.numpy() for leaf in leaves]


@pytest.mark.parametrize(("subscripts", "shapes"), EINSUM_CASES)
def test_einsum_gradients_match_torch(subscripts, shapes):
    torch = pytest.importorskip("torch")
    arrays = _arrays(4, *shapes)
    u = np.random.default_rng(5).standard_normal(np.einsum(subscripts, *arrays).shape)
    ours = _our_grads(lambda *xs: cr.einsum(subscripts, *xs), arrays, u)
    theirs = _torch_grads(lambda *xs: torch.einsum(subscripts, *xs), arrays, u)
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12)


#: label -> (ours, PyTorch's as a function of the torch module, operand shapes)
TORCH_CASES = {
    "dot 1-D": (cr.dot, lambda torch: torch.dot, [(5,), (5,)]),
    "dot 2-D": (cr.dot, lambda torch: torch.matmul, [(3, 4), (4, 2)]),
    "inner": (cr.inner, lambda torch: torch.inner, [(2, 3, 4), (5, 4)]),
    "outer": (cr.outer, lambda torch: torch.outer, [(3,), (4,)]),
    "vdot": (cr.vdot, lambda torch: torch.vdot, [(6,), (6,)]),
    "tensordot": (
        lambda a, b: cr.tensordot(a, b, axes=([2, 0], [0, 1])),
        lambda torch: lambda a, b: torch.tensordot(a, b, dims=([2, 0], [0, 1])),
        [(2, 3, 4), (4, 2, 5)],
    ),
    "kron": (cr.kron, lambda torch: torch.kron, [(2, 3), (3, 2)]),
    "kron ranks": (cr.kron, lambda torch: torch.kron, [(3,), (2, 1, 2)]),
    "cross": (
        lambda a, b: cr.cross(a, b, axis=0),
        lambda torch: lambda a, b: torch.linalg.cross(a, b, dim=0),
        [(3, 4), (3, 1)],
    ),
    "trace": (cr.trace, lambda torch: torch.trace, [(4, 3)]),
    "diagonal": (
        lambda x: cr.diagonal(x, 1, 2, 0),
        lambda torch: lambda x: torch.diagonal(x, 1, 2, 0),
        [(3, 2, 4)],
    ),
    "diag 1-D": (lambda x: cr.diag(x, 1), lambda torch: lambda x: torch.diag(x, 1), [(3,)]),
    "diag 2-D": (lambda x: cr.diag(x, -1), lambda torch: lambda x: torch.diag(x, -1), [(4, 3)]),
}


@pytest.mark.parametrize("label", sorted(TORCH_CASES))
def test_gradients_match_torch(label):
    torch = pytest.importorskip("torch")
    ours, theirs, shapes = TORCH_CASES[label]
    arrays = _arrays(len(label), *shapes)
    u = np.random.default_rng(6).standard_normal(np.shape(ours(*arrays)))
    for mine, reference in zip(
        _our_grads(ours, arrays, u), _torch_grads(theirs(torch), arrays, u), strict=True
    ):
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12, err_msg=label)


@st.composite
def _einsum_calls(draw):
    """Random subscripts over labels 'abcd' (repeats allowed), one to three operands, an
    explicit output of distinct labels or the implicit one."""
    sizes = dict(
        zip("abcd", draw(st.lists(st.integers(1, 3), min_size=4, max_size=4)), strict=True)
    )
    inputs = draw(st.lists(st.text("abcd", min_size=0, max_size=3), min_size=1, max_size=3))
    used = sorted(set("".join(inputs)))
    output = draw(
        st.none()
        | st.permutations(used).flatmap(
            lambda labels: st.integers(0, len(labels)).map(lambda n: "".join(labels[:n]))
        )
    )
    subscripts = ",".join(inputs) + ("" if output is None else "->" + output)
    shapes = [tuple(sizes[label] for label in sub) for sub in inputs]
    return subscripts, shapes


@settings(max_examples=40, deadline=None)
@given(call=_einsum_calls(), seed=st.integers(0, 2**16))
def test_random_einsum_values_and_gradients(call, seed):
    """NumPy's bits forward; gradients equal to PyTorch's, which computes them its own way."""
    torch = pytest.importorskip("torch")
    subscripts, shapes = call
    arrays = _arrays(seed, *shapes)
    expected = np.einsum(subscripts, *arrays)
    np.testing.assert_array_equal(cr.einsum(subscripts, *arrays).numpy(), expected)
    u = np.random.default_rng(seed).standard_normal(np.shape(expected))
    ours = _our_grads(lambda *xs: cr.einsum(subscripts, *xs), arrays, u)
    theirs = _torch_grads(lambda *xs: torch.einsum(subscripts, *xs), arrays, u)
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12, err_msg=subscripts)


def test_hessian_of_a_three_operand_einsum_matches_torch():
    torch = pytest.importorskip("torch")
    (x,) = _arrays(7, (3, 3))

    def cubic(m):
        return cr.einsum("ij,jk,ki->", m, m, m) + cr.trace(m) * cr.einsum("ii", m)

    ours = cr.hessian(cubic)(x)
    theirs = torch.autograd.functional.hessian(
        lambda m: torch.einsum("ij,jk,ki->", m, m, m) + torch.trace(m) ** 2, torch.tensor(x)
    )
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12, atol=1e-12)


def test_jvp_of_the_vjp_of_a_diagonal_einsum():
    """Forward over reverse through 'ii->i', whose VJP embeds the cotangent on a diagonal."""
    (x,) = _arrays(8, (3, 3))
    v = np.random.default_rng(9).standard_normal((3, 3))

    def gradient(m):
        return cr.grad(lambda y: (cr.einsum("ii->i", y) ** 3).sum())(m)

    _, tangent = cr.jvp(gradient, (x,), (v,))
    np.testing.assert_allclose(tangent, np.diag(6 * np.diag(x) * np.diag(v)), rtol=1e-12)


# --- HIPS autograd's check_grads cases, in our terms ------------------------------------


def check_grads(f, *arrays):
    """Like autograd's ``check_grads(f, modes=["fwd", "rev"], order=2)``: Jacobians in both
    modes against central differences, then the same for a random projection of the
    gradient (so every rule's own derivative is checked too)."""
    assert gradcheck(f, *arrays, atol=1e-6, rtol=1e-5)
    rng = np.random.default_rng(10)
    u = rng.standard_normal(np.shape(f(*arrays)))
    weights = [rng.standard_normal(np.shape(a)) for a in arrays]
    argnums = tuple(range(len(arrays)))

    def projected_gradient(*xs):
        grads = cr.grad(lambda *ys: (f(*ys) * u).sum(), argnums=argnums)(*xs)
        return sum((g * w).sum() for g, w in zip(grads, weights, strict=True))

    assert gradcheck(projected_gradient, *arrays, atol=1e-6, rtol=1e-5)


AUTOGRAD_CASES = {
    "dot": (lambda a, b: cr.dot(a, b), [(2, 3), (3, 4)]),
    "dot_nd": (lambda a, b: cr.dot(a, b), [(2, 3, 4), (2, 4, 3)]),
    "dot_with_floats": (lambda a: cr.dot(a, 2.5) + cr.dot(1.5, a), [(3, 2)]),
    "inner": (lambda a, b: cr.inner(a, b), [(2, 4), (3, 4)]),
    "outer": (lambda a, b: cr.outer(a, b), [(3,), (2, 2)]),
    "vdot": (lambda a, b: cr.vdot(a, b), [(2, 3), (6,)]),
    "tensordot_1": (lambda a, b: cr.tensordot(a, b, axes=1), [(2, 3), (3, 2)]),
    "tensordot_2": (lambda a, b: cr.tensordot(a, b), [(2, 3, 4), (3, 4, 2)]),
    "tensordot_kwargs_by_position": (
        lambda a, b: cr.tensordot(a, b, ([0, 1], [1, 0])),
        [(3, 2, 2), (2, 3, 4)],
    ),
    "einsum_matmult": (lambda a, b: cr.einsum("ij,jk->ik", a, b), [(2, 3), (3, 4)]),
    "einsum_matmult_broadcast": (
        lambda a, b: cr.einsum("...ij,...jk->...ik", a, b),
        [(2, 2, 3), (3, 2)],
    ),
    "einsum_covsum": (lambda a, b: cr.einsum("ijk,lji->lki", a, b), [(2, 3, 2), (2, 3, 2)]),
    "einsum_ellipses_tail": (
        lambda a, b: cr.einsum("jk...,kl...->jl...", a, b),
        [(2, 3, 2), (3, 2, 2)],
    ),
    "einsum_no_output_indices": (lambda a, b: cr.einsum("ij,k", a, b), [(2, 3), (2,)]),
    "einsum_three_args": (
        lambda a, b, c: cr.einsum("ijk,lji,lli->lki", a, b, c),
        [(2, 3, 2), (2, 3, 2), (2, 2, 2)],
    ),
    "einsum2": (lambda a: cr.einsum("ii->", a), [(3, 3)]),
    "kron": (lambda a, b: cr.kron(a, b), [(2, 2), (3, 2)]),
    "cross": (lambda a, b: cr.cross(a, b, axisa=0, axisb=1, axisc=0), [(3, 2), (2, 3)]),
    "trace": (lambda a: cr.trace(a, offset=1), [(3, 4)]),
    "trace_extradims": (lambda a: cr.trace(a, -1, 3, 1), [(2, 3, 2, 3)]),
    "diag": (lambda a: cr.diag(a, 1), [(3,)]),
    "diag_of_matrix": (lambda a: cr.diag(a, -1), [(3, 4)]),
    "diagonal": (lambda a: cr.diagonal(a, offset=1, axis1=2, axis2=0), [(3, 2, 4)]),
}


@pytest.mark.parametrize("case", sorted(AUTOGRAD_CASES))
def test_autograd_check_grads_cases(case):
    f, shapes = AUTOGRAD_CASES[case]
    check_grads(f, *_arrays(11, *shapes))


# --- dispatch, methods, dtypes and views ------------------------------------------------


def test_numpy_functions_dispatch_to_the_entries():
    a, b = _arrays(12, (3, 3), (3, 3))
    t = cr.tensor(a, requires_grad=True)
    results = {
        "dot": np.dot(t, b),
        "inner": np.inner(t, b),
        "tensordot": np.tensordot(t, b, axes=1),
        "einsum": np.einsum("ij,jk", t, b),
        "kron": np.kron(t, b),
        "cross": np.cross(t, b),
        "trace": np.trace(t),
        "diagonal": np.diagonal(t, 1),
    }
    for name, out in results.items():
        assert out.grad_fn == name, name
        t.grad = None
        out.sum().backward()
        assert t.grad.shape == a.shape, name


def test_composite_items_carry_their_own_docstrings():
    assert "flattened" in cr.outer.__doc__
    assert "conjugated" in cr.vdot.__doc__
    assert "square matrix" in cr.diag.__doc__
    assert "paired axes" in cr.tensordot.__doc__


def test_tensor_methods_use_pytorchs_names():
    a, b = _arrays(13, (3, 3), (3, 3))
    t = cr.tensor(a)
    np.testing.assert_array_equal(t.dot(b).numpy(), a.dot(b))
    np.testing.assert_array_equal(t.inner(b).numpy(), np.inner(a, b))
    np.testing.assert_array_equal(t.outer(b).numpy(), np.outer(a, b))
    np.testing.assert_array_equal(t.vdot(b).numpy(), np.vdot(a, b))
    np.testing.assert_array_equal(t.kron(b).numpy(), np.kron(a, b))
    np.testing.assert_array_equal(t.tensordot(b, dims=1).numpy(), np.tensordot(a, b, 1))
    np.testing.assert_array_equal(t.cross(b, dim=0).numpy(), np.cross(a, b, axis=0))
    np.testing.assert_array_equal(t.trace().numpy(), a.trace())
    np.testing.assert_array_equal(t.diagonal(dim1=1, dim2=0).numpy(), a.diagonal(0, 1, 0))
    np.testing.assert_array_equal(t.diag(diagonal=1).numpy(), np.diag(a, 1))


@pytest.mark.parametrize(
    ("function", "shape"),
    [
        (lambda x: cr.einsum("ii->i", x), (3, 3)),
        (lambda x: cr.einsum("ij->", x), (2, 3)),
        (lambda x: cr.einsum("...i,...i", x, x), (2, 3)),
        (lambda x: cr.trace(x), (3, 3)),
        (lambda x: cr.diagonal(x, 1), (3, 3)),
        (lambda x: cr.diag(x), (3,)),
        (lambda x: cr.kron(x, x), (2, 2)),
        (lambda x: cr.cross(x, x[::-1]), (2, 3)),
    ],
)
def test_float32_in_float32_gradient_out(function, shape):
    x = cr.tensor(_arrays(14, shape, dtype=np.float32)[0], requires_grad=True)
    out = function(x)
    assert out.dtype == np.float32
    (out * out).sum().backward()
    assert x.grad.dtype == np.float32


def test_a_diagonal_is_a_view_like_reshape_and_stale_values_are_caught():
    """NumPy's diagonal is a view of its source, as a reshape is: a later in-place write to
    the source shows through, and a backward pass that needs the old values refuses."""
    x = cr.tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    diagonal = cr.diagonal(x)
    loss = (diagonal * diagonal).sum()
    with cr.no_grad():
        x += 1.0
    np.testing.assert_array_equal(diagonal.detach().numpy(), [1.0, 5.0, 9.0])
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_writing_into_a_diagonal_leaves_its_source_alone():
    source = np.arange(9.0).reshape(3, 3)
    t = cr.tensor(source)
    diagonal = cr.diagonal(t)
    diagonal += 100.0
    np.testing.assert_array_equal(t.numpy(), source)
    np.testing.assert_array_equal(diagonal.numpy(), [100.0, 104.0, 108.0])


# --- batching rules ---------------------------------------------------------------------


@pytest.mark.parametrize("name", PRODUCTS)
def test_batch_rule_equals_a_loop_over_examples(name):
    """Every flag pattern with at least one batched operand, on arrays and on Tensors."""
    prim = PRIMITIVES[name]
    rng = np.random.default_rng(15)
    for args, params in prim.sample(rng):
        for batched in itertools.product((False, True), repeat=len(args)):
            if not any(batched):
                continue
            stacks = [rng.standard_normal((3, *np.shape(a))) for a in args]
            operands = [s if b else a for s, a, b in zip(stacks, args, batched, strict=True)]
            expected = np.stack(
                [
                    prim.evaluate(
                        *(s[i] if b else a for s, a, b in zip(stacks, args, batched, strict=True)),
                        **params,
                    )
                    for i in range(3)
                ]
            )
            out = prim.batch(list(batched), *operands, **params)
            np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12, err_msg=f"{params}")
            traced = prim.batch(list(batched), *map(cr.tensor, operands), **params)
            np.testing.assert_allclose(traced.numpy(), expected, rtol=1e-12, atol=1e-12)


# --- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: cr.einsum("ij,jk->ik", np.ones((2, 3)), np.ones((4, 2))), ShapeError, "'j'"),
        (lambda: cr.einsum("ij,jk", np.ones((2, 3))), ShapeError, "2 operands"),
        (lambda: cr.einsum("ijk", np.ones((2, 3))), ShapeError, "(2, 3)"),
        (lambda: cr.einsum("ij->ii", np.ones((2, 2))), ShapeError, "distinct"),
        (lambda: cr.einsum("ij->k", np.ones((2, 2))), ShapeError, "output"),
        (lambda: cr.einsum("i...->i", np.ones((2, 2))), ShapeError, "'...'"),
        (lambda: cr.einsum("i1", np.ones((2, 2))), ShapeError, "invalid"),
        (lambda: cr.einsum(np.ones(2), [0]), TypeError, "subscripts"),
        (
            lambda: cr.einsum(string.ascii_letters + "...", np.ones((1,) * 52 + (2,))),
            ShapeError,
            "labels",
        ),
        (lambda: cr.einsum("i", np.ones(2), out=np.ones(2)), TypeError, "out"),
        (lambda: cr.dot(np.ones((2, 3)), np.ones((2, 3))), ShapeError, "dot"),
        (lambda: cr.vdot(np.ones(3), np.ones(4)), ShapeError, "vdot"),
        (lambda: cr.tensordot(np.ones((2, 3)), np.ones((2, 3)), axes=1), ShapeError, "length"),
        (lambda: cr.tensordot(np.ones(2), np.ones(2), axes=([0], [])), ShapeError, "pair"),
        (lambda: cr.cross(np.ones(2), np.ones(2)), ShapeError, "length 3"),
        (lambda: cr.trace(np.ones(3)), ShapeError, "2 dimensions"),
        (lambda: cr.diagonal(np.ones((2, 2)), 0, 1, 1), ShapeError, "same axis"),
        (lambda: cr.diag(np.ones((2, 2, 2))), ShapeError, "1-D or 2-D"),
    ],
)
def test_errors_name_the_operation_and_shapes(call, error, words):
    with pytest.raises(error, match=None) as raised:
        call()
    assert words in str(raised.value)
