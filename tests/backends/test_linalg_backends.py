"""chainrule.linalg on array_api_strict arrays: the public functions (composites of several
entries), the parameters the standard's linalg lacks (pinv's rcond and hermitian, eigh's
UPLO, lstsq), and LinAlgError where NumPy raises.

tests/backends/test_array_api_strict.py runs every entry's samples; here are whole public
functions, rank-deficient and singular matrices, and eigh with UPLO='U' on matrices larger
than 2×2, whose eigenvectors the standard's eigh gives with signs of its own.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.primitive import PRIMITIVES
from chainrule.errors import LinAlgError
from chainrule.ops import matrices

xs = pytest.importorskip("array_api_strict")

RNG = np.random.default_rng(11)


def strict(a: np.ndarray):
    return xs.asarray(a)


def host(value) -> np.ndarray:
    value = value._data if isinstance(value, cr.Tensor) else value
    assert type(value).__module__.startswith("array_api_strict"), type(value)
    return np.asarray(np.from_dlpack(value))


def grad_on(backend, function, a: np.ndarray, cotangents) -> np.ndarray:
    """The gradient of Σ <cotangent_i, output_i> of ``function`` at ``a``, on strict arrays or
    NumPy's, one backward pass per output (so no other operation is involved)."""
    convert = strict if backend == "strict" else (lambda v: v)
    leaf = cr.tensor(convert(a), requires_grad=True)
    outputs = function(leaf)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    for out, cotangent in zip(outputs, cotangents, strict=True):
        out.backward(gradient=convert(cotangent))
    return host(leaf.grad) if backend == "strict" else leaf.grad.numpy()


def test_pinv_keeps_numpy_cutoffs_and_hermitian_reading_on_strict():
    deficient = RNG.standard_normal((4, 2)) @ RNG.standard_normal((2, 3))  # rank 2
    symmetric_below = np.tril(RNG.standard_normal((3, 3))) + np.triu(np.ones((3, 3)), 1) * 9
    for a, kwargs in [
        (deficient, {}),
        (deficient, {"rcond": 1e-8}),
        (deficient, {"rtol": None}),
        (RNG.standard_normal((2, 3, 2)), {"rtol": 1e-3}),
        (symmetric_below, {"hermitian": True}),  # NumPy reads the lower triangle only
    ]:
        expected = np.linalg.pinv(a, **kwargs)
        result = cr.linalg.pinv(cr.tensor(strict(a)), **kwargs)
        np.testing.assert_allclose(host(result), expected, rtol=1e-10, atol=1e-12)


def test_lstsq_on_strict_is_numpys_including_rank_deficient_and_rcond():
    cases = [
        (RNG.standard_normal((5, 3)), RNG.standard_normal((5, 2)), None),
        (RNG.standard_normal((5, 3)), RNG.standard_normal(5), None),
        (RNG.standard_normal((2, 4)), RNG.standard_normal(2), None),
        (RNG.standard_normal((5, 2)) @ RNG.standard_normal((2, 3)), RNG.standard_normal(5), -1),
        (np.diag([3.0, 1.0, 1e-6]), np.ones(3), 1e-3),  # the cutoff drops the last one
    ]
    for a, b, rcond in cases:
        expected = np.linalg.lstsq(a, b, rcond=rcond)
        result = cr.linalg.lstsq(cr.tensor(strict(a)), cr.tensor(strict(b)), rcond=rcond)
        for got, wanted in zip(result, expected, strict=True):
            np.testing.assert_allclose(host(got), wanted, rtol=1e-9, atol=1e-12)
        assert host(result[2]).dtype == np.int32


def test_eigh_upper_on_strict_reads_the_upper_triangle_signs_aside():
    a = matrices.symmetric_distinct(RNG, (2, 4, 4))
    a = a + np.tril(RNG.standard_normal((2, 4, 4)), -1)  # noise in the triangle not read
    w, v = cr.linalg.eigh(cr.tensor(strict(a)), UPLO="U")
    w_np, v_np = np.linalg.eigh(a, UPLO="U")
    np.testing.assert_allclose(host(w), w_np, rtol=1e-12, atol=1e-12)
    signs = np.sign(np.sum(host(v) * v_np, axis=-2, keepdims=True))
    assert np.all(np.abs(signs) == 1)
    np.testing.assert_allclose(host(v) * signs, v_np, atol=1e-12)
    np.testing.assert_allclose(host(cr.linalg.eigvalsh(cr.tensor(strict(a)), UPLO="U")), w_np)


def test_eigh_upper_gradients_on_strict_match_numpy_for_sign_free_losses():
    a = matrices.symmetric_distinct(RNG, (4, 4)) + np.tril(RNG.standard_normal((4, 4)), -1)
    gw, gv = RNG.standard_normal(4), RNG.standard_normal((4, 4))

    def loss(backend):
        def function(leaf):
            w, v = cr.linalg.eigh(leaf, UPLO="U")
            return w, v * v  # does not depend on the eigenvectors' signs

        return grad_on(backend, function, a, (gw, gv))

    got, wanted = loss("strict"), loss("numpy")
    np.testing.assert_allclose(got, wanted, rtol=1e-9, atol=1e-11)
    assert np.all(np.tril(got, -1) == 0)  # the triangle not read gets no gradient


def _qr(t):
    return cr.linalg.qr(t)


PUBLIC_FUNCTIONS = {
    "qr wide": (_qr, lambda: RNG.standard_normal((2, 4))),
    "qr tall": (_qr, lambda: RNG.standard_normal((2, 4, 3))),
    "svd": (
        lambda t: cr.linalg.svd(t, full_matrices=False),
        lambda: matrices.distinct_singular(RNG, (4, 3)),
    ),
    "slogdet": (lambda t: cr.linalg.slogdet(t)[1], lambda: matrices.well_conditioned(RNG, (3, 3))),
    "det of a singular matrix (cofactors from the SVD)": (
        cr.linalg.det,
        lambda: np.outer(RNG.standard_normal(3), RNG.standard_normal(3)),
    ),
    "matrix_power": (
        lambda t: cr.linalg.matrix_power(t, -3),
        lambda: matrices.well_conditioned(RNG, (2, 3, 3)),
    ),
    "cholesky upper": (
        lambda t: cr.linalg.cholesky(t, upper=True),
        lambda: matrices.positive_definite(RNG, (3, 3)),
    ),
    "pinv": (cr.linalg.pinv, lambda: RNG.standard_normal((4, 3))),
}


@pytest.mark.parametrize("name", sorted(PUBLIC_FUNCTIONS))
def test_public_functions_and_gradients_on_strict_match_numpy(name):
    function, make = PUBLIC_FUNCTIONS[name]
    a = make()
    with cr.no_grad():
        numpy_results = function(cr.tensor(a))
    numpy_results = numpy_results if isinstance(numpy_results, tuple) else (numpy_results,)
    strict_results = function(cr.tensor(strict(a)))
    strict_results = strict_results if isinstance(strict_results, tuple) else (strict_results,)
    for got, wanted in zip(strict_results, numpy_results, strict=True):
        np.testing.assert_allclose(host(got), wanted.numpy(), rtol=1e-10, atol=1e-12)
    cotangents = tuple(RNG.standard_normal(r.shape) for r in numpy_results)
    got = grad_on("strict", function, a, cotangents)
    wanted = grad_on("numpy", function, a, cotangents)
    np.testing.assert_allclose(got, wanted, rtol=1e-9, atol=1e-11)


def test_solve_triangular_on_strict_reads_one_triangle():
    a, b = matrices.well_conditioned(RNG, (3, 3)), RNG.standard_normal((3, 2))
    leaf = cr.tensor(strict(a), requires_grad=True)
    x = cr.linalg.solve_triangular(leaf, cr.tensor(strict(b)), lower=True, trans="T")
    np.testing.assert_allclose(host(x), np.linalg.solve(np.tril(a).T, b), rtol=1e-12)
    x.backward(gradient=xs.ones((3, 2), dtype=xs.float64))
    assert np.all(np.triu(host(leaf.grad), 1) == 0) and np.any(host(leaf.grad) != 0)


def test_float32_stays_float32_on_strict():
    a = matrices.well_conditioned(RNG, (3, 3)).astype(np.float32)
    leaf = cr.tensor(strict(a), requires_grad=True)
    out = cr.linalg.inv(leaf)
    out.backward(gradient=xs.ones((3, 3), dtype=xs.float32))
    assert out.dtype == xs.float32 and leaf.grad.dtype == xs.float32
    np.testing.assert_allclose(host(out), np.linalg.inv(a), rtol=1e-5)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda a: cr.linalg.inv(a), "inv"),
        (lambda a: cr.linalg.solve(a, xs.ones(3, dtype=xs.float64)), "solve"),
        (lambda a: cr.linalg.cholesky(a), "cholesky"),
        (lambda a: cr.linalg.matrix_power(a, -1), "matrix_power"),
    ],
)
def test_singular_matrices_raise_our_linalg_error_on_strict(call, message):
    singular = strict(np.outer(np.arange(1.0, 4.0), np.ones(3)))
    with pytest.raises(LinAlgError, match=message):
        call(cr.tensor(singular))


def test_a_non_finite_result_from_finite_input_raises_on_other_libraries():
    """CuPy answers a singular matrix with inf or NaN where NumPy raises: a non-finite result
    of finite operands of another library is refused, never returned."""
    finite = strict(np.eye(2))

    def gives_nan(a):
        return a * float("nan")

    with pytest.raises(LinAlgError, match="inv: the result is not finite for finite input"):
        matrices.lapack("inv", gives_nan, finite)
    with_nan = strict(np.array([[1.0, float("nan")], [0.0, 1.0]]))
    assert np.isnan(host(matrices.lapack("inv", gives_nan, with_nan))).all()  # NaN in, NaN out
    np.testing.assert_array_equal(host(matrices.lapack("inv", lambda a: a, finite)), np.eye(2))


def test_binding_an_entry_to_strict_arrays_uses_its_standard_forward():
    """A rule binds entries to raw arrays: pinv's NumPy forward would silently convert a
    strict array to NumPy; bind picks the entry's forward for the operands' library."""
    a = RNG.standard_normal((3, 2))
    result = PRIMITIVES["pinv"].bind(strict(a), rcond=None, hermitian=False, rtol=None)
    np.testing.assert_allclose(host(result), np.linalg.pinv(a), rtol=1e-12)
