"""chainrule.linalg: values against NumPy, gradients against finite differences and PyTorch,
the conventions at degenerate points, NumPy dispatch, batching rules and errors.

The generated tests (tests/ops/test_primitives.py) already gradcheck every entry on its
samples; here are whole public functions (composites, several outputs), harder matrices
(nearly singular, degenerate spectra) and behaviour the registry tests do not see.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.primitive import PRIMITIVES
from chainrule.errors import LinAlgError, MissingRuleError, ShapeError
from chainrule.ops import matrices

RNG = np.random.default_rng(7)


def _general(n=3, batch=()):
    return matrices.well_conditioned(RNG, (*batch, n, n))


def _spd(n=3, batch=()):
    return matrices.positive_definite(RNG, (*batch, n, n))


def _nearly_singular(n=3):
    """Condition number about 1e4: gradients are large but must stay accurate."""
    u, _ = np.linalg.qr(RNG.standard_normal((n, n)))
    v, _ = np.linalg.qr(RNG.standard_normal((n, n)))
    return (u * np.geomspace(1.0, 1e-4, n)) @ v.T


def _leaf(a):
    return cr.tensor(a, requires_grad=True)


# --- the namespace ------------------------------------------------------------------------


def test_linalg_is_a_generated_importable_namespace():
    module = importlib.import_module("chainrule.linalg")
    assert module is cr.linalg
    from chainrule.linalg import inv

    assert inv is cr.linalg.inv and inv.__module__ == "chainrule.linalg"
    expected = {"inv", "pinv", "solve", "solve_triangular", "det", "slogdet", "matrix_power"}
    expected |= {"cholesky", "qr", "eigh", "eigvalsh", "svd", "svdvals", "lstsq", "norm"}
    expected |= {"matrix_norm"}
    assert expected <= set(module.__all__)
    assert "linalg" in cr.__all__ and not hasattr(cr, "linalg.inv")


# --- values: bit-equal to NumPy, through chainrule.linalg and through np.linalg dispatch ---

CALLS = [
    ("inv", lambda: (_general(),), {}),
    ("pinv", lambda: (RNG.standard_normal((4, 3)),), {}),
    ("solve", lambda: (_general(batch=(2,)), RNG.standard_normal(3)), {}),
    ("solve", lambda: (_general(), RNG.standard_normal((3, 2))), {}),
    ("det", lambda: (_general(batch=(2,)),), {}),
    ("slogdet", lambda: (_general(),), {}),
    ("matrix_power", lambda: (_general(),), {"n": -3}),
    ("cholesky", lambda: (_spd(),), {"upper": True}),
    ("qr", lambda: (RNG.standard_normal((4, 3)),), {}),
    ("qr", lambda: (RNG.standard_normal((3, 4)),), {"mode": "r"}),
    ("eigh", lambda: (_spd(batch=(2,)),), {"UPLO": "U"}),
    ("eigvalsh", lambda: (_spd(),), {}),
    ("svd", lambda: (RNG.standard_normal((3, 5)),), {"full_matrices": False}),
    ("svd", lambda: (RNG.standard_normal((4, 2)),), {}),
    ("svd", lambda: (RNG.standard_normal((4, 2)),), {"compute_uv": False}),
    ("svdvals", lambda: (RNG.standard_normal((2, 4, 2)),), {}),
    ("lstsq", lambda: (RNG.standard_normal((5, 3)), RNG.standard_normal((5, 2))), {}),
    ("lstsq", lambda: (RNG.standard_normal((2, 3)), RNG.standard_normal(2)), {}),
    ("norm", lambda: (RNG.standard_normal((3, 4)),), {"ord": "nuc"}),
    ("norm", lambda: (RNG.standard_normal((2, 3, 4)),), {"ord": -np.inf, "axis": 1}),
    ("norm", lambda: (RNG.standard_normal((2, 3, 4)),), {"ord": 2, "axis": (2, 0)}),
    ("norm", lambda: (RNG.standard_normal((2, 3, 4)),), {"keepdims": True}),
    ("matrix_norm", lambda: (RNG.standard_normal((2, 3, 4)),), {"ord": -1, "keepdims": True}),
]


def _flat(result):
    return list(result) if isinstance(result, tuple) else [result]


@pytest.mark.parametrize(("name", "make", "kwargs"), CALLS, ids=[c[0] for c in CALLS])
def test_values_equal_numpy_by_name_and_by_dispatch(name, make, kwargs):
    arrays = make()
    expected = _flat(getattr(np.linalg, name)(*arrays, **kwargs))
    for call in (getattr(cr.linalg, name), getattr(np.linalg, name)):
        results = _flat(call(*(cr.tensor(a) for a in arrays), **kwargs))
        assert len(results) == len(expected)
        for result, wanted in zip(results, expected, strict=True):
            assert isinstance(result, cr.Tensor)
            assert result.shape == np.shape(wanted) and result.dtype == np.asarray(wanted).dtype
            if name in ("svd", "svdvals", "lstsq", "eigvalsh"):  # different LAPACK drivers for s, w
                np.testing.assert_allclose(result.numpy(), wanted, rtol=1e-13, atol=1e-14)
            else:
                np.testing.assert_array_equal(result.numpy(), wanted)


def test_solve_triangular_reads_one_triangle_like_scipy():
    a, b = RNG.standard_normal((3, 3)) + 4 * np.eye(3), RNG.standard_normal((3, 2))
    for lower, trans, unit in [(False, 0, False), (True, "T", False), (True, 0, True)]:
        t = np.tril(a) if lower else np.triu(a)
        if unit:
            t = t - np.diag(np.diag(t)) + np.eye(3)
        x = cr.linalg.solve_triangular(a, b, lower=lower, trans=trans, unit_diagonal=unit)
        np.testing.assert_allclose(x.numpy(), np.linalg.solve(t.T if trans else t, b), rtol=1e-14)


def test_tensor_methods_use_pytorch_names():
    a = cr.tensor(_spd())
    np.testing.assert_array_equal(a.inverse().numpy(), np.linalg.inv(a.numpy()))
    np.testing.assert_array_equal(a.det().numpy(), np.linalg.det(a.numpy()))
    np.testing.assert_array_equal(a.cholesky().numpy(), np.linalg.cholesky(a.numpy()))
    np.testing.assert_array_equal(a.matrix_power(2).numpy(), a.numpy() @ a.numpy())
    np.testing.assert_array_equal(a.norm().numpy(), np.linalg.norm(a.numpy()))
    q, r = a.qr()
    np.testing.assert_allclose((q @ r).numpy(), a.numpy(), rtol=1e-13)


def test_float32_stays_float32_through_every_composite():
    a = cr.tensor(_spd().astype(np.float32), requires_grad=True)
    outputs = [*cr.linalg.eigh(a), *cr.linalg.svd(a), *cr.linalg.qr(a), cr.linalg.slogdet(a)[1]]
    outputs += [cr.linalg.norm(a, "nuc"), cr.linalg.lstsq(a, a)[0], cr.linalg.pinv(a)]
    for out in outputs:
        assert out.dtype == np.float32
    sum(o.sum() for o in outputs).backward()
    assert a.grad.dtype == np.float32 and np.all(np.isfinite(a.grad.numpy()))


# --- gradients: finite differences on whole functions (cases in the spirit of HIPS autograd's
# test_linalg check_grads) ----------------------------------------------------------------

CHECKS = {
    "inv": (lambda x: cr.linalg.inv(x), [_general()]),
    "inv_of_spd": (lambda x: cr.linalg.inv(x @ x.T + np.eye(3)), [RNG.standard_normal((3, 3))]),
    "pinv_wide": (lambda x: cr.linalg.pinv(x), [RNG.standard_normal((2, 4))]),
    "solve_both": (lambda a, b: cr.linalg.solve(a, b), [_general(), RNG.standard_normal((3, 2))]),
    "solve_batched_vector": (
        lambda a, b: cr.linalg.solve(a, b),
        [_general(batch=(2,)), RNG.standard_normal(3)],
    ),
    "det": (lambda x: cr.linalg.det(x), [_general(batch=(2,))]),
    "det_of_product": (lambda x: cr.linalg.det(x @ x.T), [RNG.standard_normal((3, 3))]),
    "slogdet": (lambda x: cr.linalg.slogdet(x)[1], [_general(batch=(2,))]),
    "matrix_power": (lambda x: cr.linalg.matrix_power(x, 4), [RNG.standard_normal((3, 3))]),
    "cholesky_of_spd": (
        lambda x: cr.linalg.cholesky(x @ x.T + np.eye(3)),
        [RNG.standard_normal((3, 3))],
    ),
    "qr_tall": (lambda x: sum(f.sum() for f in cr.linalg.qr(x)), [RNG.standard_normal((4, 3))]),
    "qr_wide": (lambda x: cr.linalg.qr(x)[1], [RNG.standard_normal((2, 4)) + np.eye(2, 4)]),
    "eigvalsh_of_symmetrized": (
        lambda x: cr.linalg.eigvalsh(x + x.T),
        [matrices.symmetric_distinct(RNG, (3, 3))],
    ),
    "svd_values_wide": (
        lambda x: cr.linalg.svd(x, compute_uv=False),
        [matrices.distinct_singular(RNG, (2, 4))],
    ),
    "lstsq_x": (
        lambda a, b: cr.linalg.lstsq(a, b)[0],
        [RNG.standard_normal((5, 3)), RNG.standard_normal(5)],
    ),
    "lstsq_residuals": (
        lambda a, b: cr.linalg.lstsq(a, b)[1],
        [RNG.standard_normal((5, 3)), RNG.standard_normal((5, 2))],
    ),
    "solve_triangular": (
        lambda a, b: cr.linalg.solve_triangular(a, b, lower=True),
        [_general(), RNG.standard_normal((3, 2))],
    ),
    "norm_fro_keepdims": (
        lambda x: cr.linalg.norm(x, axis=(0, 2), keepdims=True),
        [RNG.standard_normal((2, 3, 2))],
    ),
    "norm_p": (lambda x: cr.linalg.norm(x, 2.5, axis=1), [RNG.standard_normal((2, 4)) + 3]),
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_whole_functions_gradcheck_in_both_modes(name):
    f, inputs = CHECKS[name]
    assert cr.gradcheck(f, *inputs, rtol=1e-5, atol=1e-6)


def test_nearly_singular_inverse_gradient_matches_finite_differences():
    a = _nearly_singular()
    c = RNG.standard_normal((3, 3))
    x = _leaf(a)
    (cr.linalg.inv(x) * c).sum().backward()
    step = 1e-9
    for i, j in [(0, 0), (1, 2), (2, 1)]:
        moved = a.copy()
        moved[i, j] += step
        back = a.copy()
        back[i, j] -= step
        numeric = ((np.linalg.inv(moved) - np.linalg.inv(back)) * c).sum() / (2 * step)
        np.testing.assert_allclose(x.grad.numpy()[i, j], numeric, rtol=1e-4)


# --- gauge freedom and degenerate spectra ------------------------------------------------


def test_eigh_sign_invariant_loss_gradchecks_symmetric_perturbations():
    b = RNG.standard_normal((3, 3))

    def loss(x):
        w, v = cr.linalg.eigh(x + x.T)
        return (w * np.array([1.0, 2.0, 3.0])).sum() + ((v.T @ b @ v) ** 2 * np.eye(3)).sum()

    assert cr.gradcheck(loss, RNG.standard_normal((3, 3)), rtol=1e-5, atol=1e-6)


def test_svd_sign_invariant_loss_gradchecks():
    b = RNG.standard_normal((4, 3))

    def loss(x):
        u, s, vh = cr.linalg.svd(x, full_matrices=False)
        return (s**2).sum() + ((u.T @ b @ vh.T) * np.eye(3)).sum()

    assert cr.gradcheck(loss, matrices.distinct_singular(RNG, (4, 3)), rtol=1e-5, atol=1e-6)


def test_degenerate_eigh_gives_the_finite_basis_invariant_gradient():
    """Eigenvalues (1, 1, 3): the projector onto the double eigenspace is smooth, and the
    masked 1/(w_j - w_i) convention gives its exact gradient (no inf, no NaN)."""
    q, _ = np.linalg.qr(RNG.standard_normal((3, 3)))
    a = (q * np.array([1.0, 1.0, 3.0])) @ q.T
    c = RNG.standard_normal((3, 3))

    def projected(x):
        _, v = cr.linalg.eigh(x)
        pair = v[:, :2]
        return ((pair @ pair.T) * c).sum()

    x = _leaf(a)
    projected(x).backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    # The projector is P = I - u uᵀ for the simple eigenvector u (eigenvalue 3).
    u = q[:, 2]
    direction = np.tril(RNG.standard_normal((3, 3)))
    step = 1e-6

    def exact(m):
        w, v = np.linalg.eigh(m)
        top = v[:, 2]
        return ((np.eye(3) - np.outer(top, top)) * c).sum()

    numeric = (exact(a + step * direction) - exact(a - step * direction)) / (2 * step)
    np.testing.assert_allclose((x.grad.numpy() * direction).sum(), numeric, rtol=1e-6)
    assert np.allclose(np.outer(u, u) @ u, u)


def test_identity_matrix_eigenvector_gradient_is_finite_zero():
    x = _leaf(np.eye(3))
    _, v = cr.linalg.eigh(x)
    (v * RNG.standard_normal((3, 3))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 3)))


@pytest.mark.parametrize("diagonal", [(2.0, 2.0, 2.0), (1.0, 1.0, 3.0), (1.0, 1.0, 0.0)])
def test_repeated_singular_values_keep_exact_polar_and_determinant_derivatives(diagonal):
    """U Vᵀ (the nuclear norm's gradient) and det's cofactors are smooth where singular values
    repeat; their derivatives must come out exact there, to second order."""
    q, _ = np.linalg.qr(RNG.standard_normal((3, 3)))
    a = (q * np.array(diagonal)) @ q.T
    assert cr.gradcheck(cr.grad(cr.linalg.det), a, rtol=1e-5, atol=1e-6)
    if min(diagonal) > 0:
        nuclear = cr.grad(lambda x: cr.linalg.norm(x, "nuc"))
        assert cr.gradcheck(nuclear, a, rtol=1e-5, atol=1e-6)


def test_norm_at_zero_has_gradient_zero_by_convention():
    for ord_, shape in [(None, (3,)), (2, (3,)), (3, (3,)), ("fro", (2, 2)), (np.inf, (3,))]:
        x = _leaf(np.zeros(shape))
        cr.linalg.norm(x, ord_).backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros(shape))


def test_norm_ties_share_the_gradient():
    x = _leaf(np.array([3.0, -3.0, 1.0]))
    cr.linalg.norm(x, np.inf).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, -0.5, 0.0])


# --- second order -------------------------------------------------------------------------


SECOND_ORDER = {
    "inv": (lambda x: (cr.linalg.inv(x) ** 2).sum(), _general()),
    "cholesky": (
        lambda x: (cr.linalg.cholesky(x @ x.T + np.eye(3)) ** 2).sum(),
        RNG.standard_normal((3, 3)),
    ),
    "qr": (
        lambda x: sum((f**3).sum() for f in cr.linalg.qr(x)),
        RNG.standard_normal((4, 3)),
    ),
    "eigh": (
        lambda x: (cr.linalg.eigh(x + x.T)[1] ** 4).sum(),
        matrices.symmetric_distinct(RNG, (3, 3)),
    ),
    "svd": (
        lambda x: (cr.linalg.svd(x, full_matrices=False)[0] ** 4).sum(),
        matrices.distinct_singular(RNG, (4, 3)),
    ),
    "pinv": (lambda x: (cr.linalg.pinv(x) ** 2).sum(), RNG.standard_normal((2, 4))),
    "lstsq": (
        lambda x: (cr.linalg.lstsq(x, np.ones(5))[0] ** 2).sum(),
        RNG.standard_normal((5, 3)),
    ),
    "matrix_power": (lambda x: (cr.linalg.matrix_power(x, -2) ** 2).sum(), _general()),
    "norm_2": (lambda x: cr.linalg.norm(x, 2), RNG.standard_normal((3, 4))),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_gradients_gradcheck_again_second_order(name):
    """check_grads(order=2): the gradient function itself, in reverse and forward mode."""
    f, x = SECOND_ORDER[name]
    assert cr.gradcheck(cr.grad(f), x, rtol=1e-5, atol=1e-6)


def test_hessian_of_logdet_is_minus_inverse_kronecker():
    a = _spd()

    def logdet(x):
        return cr.linalg.slogdet(x)[1]

    hessian = cr.hessian(logdet)(a)
    inverse = np.linalg.inv(a)
    expected = -np.einsum("li,jk->ijkl", inverse, inverse)
    np.testing.assert_allclose(hessian, expected, rtol=1e-10, atol=1e-12)


def test_second_order_through_eigh_and_svd():
    def f(x):
        w = cr.linalg.eigvalsh(x @ x.T)
        s = cr.linalg.svd(x, compute_uv=False)
        return (w**2).sum() + (s**3).sum() + cr.linalg.norm(x, "nuc") ** 2

    x0 = matrices.distinct_singular(RNG, (3, 3))
    hessian = cr.hessian(f)(x0)
    step = 1e-5
    grad = cr.grad(f)
    for k in [(0, 0), (1, 2)]:
        moved, back = x0.copy(), x0.copy()
        moved[k] += step
        back[k] -= step
        column = (np.asarray(grad(moved)) - np.asarray(grad(back))) / (2 * step)
        np.testing.assert_allclose(hessian[..., k[0], k[1]], column, rtol=1e-5, atol=1e-6)


# --- PyTorch cross-checks -----------------------------------------------------------------

TORCH_CASES = {
    "inv": (lambda m, x: (m.inv(x) ** 2).sum(), [_nearly_singular()]),
    "det": (lambda m, x: m.det(x), [_general()]),
    "slogdet": (lambda m, x: m.slogdet(x)[1], [_general()]),
    "solve": (
        lambda m, a, b: (m.solve(a, b) ** 3).sum(),
        [_general(), RNG.standard_normal((3, 2))],
    ),
    "pinv": (lambda m, x: (m.pinv(x) ** 2).sum(), [RNG.standard_normal((4, 3))]),
    "cholesky": (lambda m, x: (m.cholesky(x @ x.T + x.T @ x) ** 2).sum(), [_general()]),
    "qr": (lambda m, x: (m.qr(x)[0] ** 3).sum() + (m.qr(x)[1] ** 3).sum(), [_general()]),
    "eigh": (
        lambda m, x: (m.eigh(x + x.T)[0] ** 3).sum() + (m.eigh(x + x.T)[1] ** 4).sum(),
        [matrices.symmetric_distinct(RNG, (3, 3))],
    ),
    "svd": (
        lambda m, x: (
            (m.svd(x, full_matrices=False)[1] ** 2).sum()
            + (m.svd(x, full_matrices=False)[0] ** 4).sum()
            + (m.svd(x, full_matrices=False)[2] ** 4).sum()
        ),
        [matrices.distinct_singular(RNG, (4, 3))],
    ),
    "matrix_power": (lambda m, x: m.matrix_power(x, -2).sum(), [_general()]),
    "norm_nuc": (lambda m, x: m.norm(x, "nuc"), [RNG.standard_normal((3, 4))]),
    "norm_2": (lambda m, x: m.norm(x, 2), [RNG.standard_normal((3, 4))]),
    "norm_vector": (lambda m, x: m.norm(x, 3, -1).sum(), [RNG.standard_normal((2, 4))]),
    "lstsq": (
        lambda m, a, b: (m.lstsq(a, b)[0] ** 2).sum(),
        [RNG.standard_normal((5, 3)), RNG.standard_normal((5, 2))],
    ),
}


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_gradients_agree_with_pytorch(name):
    torch = pytest.importorskip("torch")
    f, inputs = TORCH_CASES[name]
    ours = [_leaf(a) for a in inputs]
    f(cr.linalg, *ours).backward()
    theirs = [torch.tensor(a, requires_grad=True) for a in inputs]
    f(torch.linalg, *theirs).backward()
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_solve_triangular_gradient_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    a, b = _general(), RNG.standard_normal((3, 2))
    x, y = _leaf(a), _leaf(b)
    (cr.linalg.solve_triangular(x, y, lower=True) ** 2).sum().backward()
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (torch.linalg.solve_triangular(ta.tril(), tb, upper=False) ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), ta.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(y.grad.numpy(), tb.grad.numpy(), rtol=1e-10)


# --- batching rules -----------------------------------------------------------------------

NEW_ENTRIES = sorted(
    name
    for name, prim in PRIMITIVES.items()
    if prim.kind == "linalg" and name != "matmul" and prim.sample is not None
)


def _stacked_example(args, batched, rng):
    """Each batched argument with a batch of two: itself and a nearby variant."""
    out = []
    for a, b in zip(args, batched, strict=True):
        out.append(np.stack([a, a + 0.01 * rng.standard_normal(np.shape(a))]) if b else a)
    return out


@pytest.mark.parametrize("name", NEW_ENTRIES)
def test_batching_rule_is_the_operation_per_example(name):
    prim = PRIMITIVES[name]
    rng = np.random.default_rng(0)
    for args, params in prim.sample(rng):
        patterns = [[True] * len(args)] + (
            [[i == k for i in range(len(args))] for k in range(len(args))] if len(args) > 1 else []
        )
        for batched in patterns:
            stacked = _stacked_example(args, batched, rng)
            answer = prim.batch(batched, *stacked, **params)
            for k in range(2):
                example = [s[k] if b else s for s, b in zip(stacked, batched, strict=True)]
                np.testing.assert_allclose(
                    answer[k], prim.evaluate(*example, **params), rtol=1e-9, atol=1e-12
                )


# --- errors -------------------------------------------------------------------------------


def test_singular_and_non_positive_definite_matrices_raise_our_error():
    singular = cr.tensor(np.ones((3, 3)), requires_grad=True)
    with pytest.raises(LinAlgError, match="inv"):
        cr.linalg.inv(singular)
    with pytest.raises(LinAlgError, match="cholesky"):
        cr.linalg.cholesky(-np.eye(2))
    _, logabsdet = cr.linalg.slogdet(singular)
    with pytest.raises(LinAlgError, match="slogdet: log|det| of a singular matrix"):
        logabsdet.backward()


def test_det_gradient_at_singular_matrices_is_the_cofactor_matrix():
    rank_two = RNG.standard_normal((3, 2)) @ RNG.standard_normal((2, 3))
    stack = np.stack([rank_two, _general()])
    assert cr.gradcheck(cr.linalg.det, stack, rtol=1e-6, atol=1e-8)
    x = _leaf(rank_two)
    cr.linalg.det(x).backward()
    cofactors = np.array(
        [
            [
                (-1) ** (i + j) * np.linalg.det(np.delete(np.delete(rank_two, i, 0), j, 1))
                for j in range(3)
            ]
            for i in range(3)
        ]
    )
    np.testing.assert_allclose(x.grad.numpy(), cofactors, rtol=1e-10, atol=1e-12)
    assert np.abs(cofactors).max() > 0.1
    assert cr.gradcheck(cr.grad(cr.linalg.det), rank_two, rtol=1e-5, atol=1e-6)


def test_shapes_and_arguments_are_checked_with_the_op_name():
    with pytest.raises(ShapeError, match="inv: expected square"):
        cr.linalg.inv(np.ones((2, 3)))
    with pytest.raises(ShapeError, match="solve: a of shape"):
        cr.linalg.solve(np.eye(3), np.ones(2))
    with pytest.raises(ShapeError, match="lstsq"):
        cr.linalg.lstsq(np.ones((2, 3, 3)), np.ones(3))
    with pytest.raises(ValueError, match="norm: invalid order"):
        cr.linalg.norm(np.ones((2, 2)), 3)
    with pytest.raises(ValueError, match="order 'fro' is for matrices"):
        cr.linalg.norm(np.ones(2), "fro")
    with pytest.raises(ShapeError, match="norm: ord=1 needs a vector or a matrix"):
        cr.linalg.norm(np.ones((2, 2, 2)), 1)
    with pytest.raises(ValueError, match="qr: mode 'complete'"):
        cr.linalg.qr(np.eye(2), mode="complete")
    with pytest.raises(TypeError, match="matrix_power: the exponent must be an integer"):
        cr.linalg.matrix_power(np.eye(2), 1.5)
    with pytest.raises(TypeError, match="eigh: complex input"):
        cr.linalg.eigh(np.eye(2) * 1j)


def test_full_rectangular_svd_factors_have_no_gradient():
    x = _leaf(RNG.standard_normal((4, 2)))
    u, _, _ = cr.linalg.svd(x)
    assert u.shape == (4, 4)
    with pytest.raises(MissingRuleError, match="full_matrices=False"):
        u.sum().backward()
