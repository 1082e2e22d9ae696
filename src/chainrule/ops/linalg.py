"""Matrix product, inverses, linear solves and determinants (chainrule.linalg).

Layer: ops. Matrices are the last two axes of an operand and leading axes are a batch, as
in NumPy; each entry's batching rule is therefore one call. Rules solve linear systems
(``solve``) rather than forming inverses where a solve does, and run on Tensors for
higher-order derivatives. Decompositions live in ops.decompositions, norms in ops.norms.

Forwards and rules compute through the array namespace (``xp``, the Array API standard's
linalg extension), so they run on NumPy (the same LAPACK calls as np.linalg, bit for bit),
on other libraries' arrays and on Tensors; pinv, whose NumPy parameters the standard lacks,
names its standard forward in ``implementations``.
"""

from __future__ import annotations

import operator

import numpy as np

from ..core.backend import xp
from ..core.primitive import Primitive, composite, raw, register
from ..errors import LinAlgError, ShapeError
from . import domains as d
from .matrices import (
    as_operand,
    batch_solve,
    check_matrix,
    diagonal,
    eye_like,
    from_triangle,
    lapack,
    per_matrix,
    refuse_complex,
    transposed,
    well_conditioned,
)


def _matmul(x, y):
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        raise ShapeError(
            f"matmul: operands must have at least one dimension, got shapes {np.shape(x)} "
            f"and {np.shape(y)}; use * for scalars"
        )
    inner_x = x.shape[-1]
    inner_y = y.shape[-2] if y.ndim > 1 else y.shape[0]
    if inner_x != inner_y:
        raise ShapeError(
            f"matmul: shapes {x.shape} and {y.shape} are not aligned: the last dimension "
            f"of the first ({inner_x}) must equal the "
            f"{'second-to-last' if y.ndim > 1 else 'only'} dimension of the second ({inner_y})"
        )
    return x @ y


def _matmul_vjp_x(g, ans, x, y):
    if y.ndim == 1:
        return g * y if x.ndim == 1 else g[..., None] * y
    if x.ndim == 1:
        return (y @ g[..., None])[..., 0]
    return g @ transposed(y)


def _matmul_vjp_y(g, ans, x, y):
    if x.ndim == 1:
        return x * g if y.ndim == 1 else x[:, None] * g[..., None, :]
    if y.ndim == 1:
        return (transposed(x) @ g[..., None])[..., 0]
    return transposed(x) @ g


def _as_stacked_matrices(a, batched, vector_shape):
    """A matmul operand with a leading batch axis (a unit one when not batched) and at
    least two axes per example: a 1-D example becomes a row (first operand) or column."""
    if not batched:
        a = xp.reshape(a, (1,) + np.shape(a))
    shape = np.shape(a)
    if len(shape) == 2:
        a = xp.reshape(a, shape[:1] + vector_shape(shape[1]))
    return a


def _batch_matmul(batched, x, y):
    """One matmul over the batch: the batch axes line up by broadcasting, after unit axes
    pad the operand with fewer axes per example; 1-D examples are taken as a row (x) or a
    column (y) and that axis is dropped from the result, as np.matmul does."""
    x_batched, y_batched = batched
    x_rank, y_rank = np.ndim(x) - x_batched, np.ndim(y) - y_batched
    if x_batched and not y_batched and y_rank <= 2:
        return matmul.bind(x, y)  # (B, ..., n) @ (n, m) or (n,): already lined up
    if y_batched and not x_batched and x_rank == 2 and y_rank >= 2:
        return matmul.bind(x, y)
    xs = _as_stacked_matrices(x, x_batched, lambda n: (1, n))
    ys = _as_stacked_matrices(y, y_batched, lambda n: (n, 1))
    rank = max(np.ndim(xs), np.ndim(ys))
    xs = xp.reshape(xs, np.shape(xs)[:1] + (1,) * (rank - np.ndim(xs)) + np.shape(xs)[1:])
    ys = xp.reshape(ys, np.shape(ys)[:1] + (1,) * (rank - np.ndim(ys)) + np.shape(ys)[1:])
    if np.shape(xs)[-1] == 1:
        # Outer products (per-example weight gradients): the same numbers as a broadcast
        # product, far faster than np.matmul's loop over a stack of tiny matrices; on arrays
        # einsum's one-term contraction is faster still (about 2x at (128, 64, 64)).
        if type(xs) is np.ndarray and type(ys) is np.ndarray:
            out = np.einsum("...ik,...kj->...ij", xs, ys)
        else:
            out = xs * ys
    else:
        out = matmul.bind(xs, ys)
    shape = np.shape(out)
    if x_rank == 1:
        shape = shape[:-2] + shape[-1:]
    if y_rank == 1:
        shape = shape[:-1]
    return xp.reshape(out, shape) if shape != np.shape(out) else out


matmul = register(
    Primitive(
        "matmul",
        _matmul,
        (_matmul_vjp_x, _matmul_vjp_y),
        (lambda t, ans, x, y: t @ y, lambda t, ans, x, y: x @ t),
        kind="linalg",
        sample=lambda rng: [
            ((d.real(rng, (3, 4)), d.real(rng, (4, 2))), {}),
            ((d.real(rng, (4,)), d.real(rng, (4, 3))), {}),
            ((d.real(rng, (3, 4)), d.real(rng, (4,))), {}),
            ((d.real(rng, (4,)), d.real(rng, (4,))), {}),
            ((d.real(rng, (2, 3, 4)), d.real(rng, (4, 2))), {}),
            ((d.real(rng, (2, 3, 4)), d.real(rng, (2, 4, 2))), {}),
            ((d.real(rng, (4,)), d.real(rng, (2, 4, 3))), {}),
        ],
        label="@",
        names=("matmul",),
        methods=("matmul",),
        operators=("__matmul__", "__rmatmul__"),
        numpy=(np.matmul,),
        signature="binary",
        batch=_batch_matmul,
        doc="Matrix product with np.matmul's rules (1-D operands, batches).",
    )
)


# --- inv --------------------------------------------------------------------------------


def _inv(a):
    """Inverse of each square matrix (np.linalg.inv)."""
    check_matrix("inv", a)
    return lapack("inv", xp.linalg.inv, a)


inv = register(
    Primitive(
        "inv",
        _inv,
        (lambda g, ans, a: -(transposed(ans) @ g @ transposed(ans)),),
        (lambda t, ans, a: -(ans @ t @ ans),),
        kind="linalg",
        sample=lambda rng: [
            ((well_conditioned(rng, (3, 3)),), {}),
            ((well_conditioned(rng, (2, 2, 2)),), {}),
        ],
        names=("linalg.inv",),
        methods=("inverse",),
        numpy=(np.linalg.inv,),
        signature="unary",
        batch=per_matrix("inv"),
        doc="Inverse of a square matrix (or of each in a stack), as np.linalg.inv.",
    )
)


# --- pinv -------------------------------------------------------------------------------


def _prepare_pinv(a, rcond=None, hermitian=False, *, rtol=None):
    check_matrix("pinv", a, square=False)
    return (a,), {"rcond": rcond, "hermitian": bool(hermitian), "rtol": rtol}


def _pinv(a, *, rcond, hermitian, rtol):
    """Moore-Penrose pseudo-inverse (np.linalg.pinv)."""
    check_matrix("pinv", a, square=False)
    refuse_complex("pinv", a)
    cutoff = {} if rtol is None else {"rtol": rtol}
    return lapack("pinv", np.linalg.pinv, a, rcond, hermitian, **cutoff)


#: np.linalg.pinv's cutoff when neither rcond nor rtol is given (the standard's is eps·max(M, N)).
_NUMPY_PINV_RCOND = 1e-15


def _pinv_standard(a, *, rcond, hermitian, rtol):
    """np.linalg.pinv's result with the standard's linalg.pinv: NumPy's cutoff, and for
    ``hermitian`` the symmetric matrix of the lower triangle (the one NumPy's eigh reads)."""
    check_matrix("pinv", a, square=False)
    refuse_complex("pinv", a)
    if hermitian:
        a = from_triangle(a, upper=False)
    cutoff = rcond if rcond is not None else rtol if rtol is not None else _NUMPY_PINV_RCOND
    return lapack("pinv", xp.linalg.pinv, a, rtol=cutoff)


def pinv_cotangent(g, p, a):
    """The pseudo-inverse's VJP, ``g`` the cotangent of ``p = pinv(a)`` (valid where the
    rank is locally constant, as for full-rank matrices)."""
    pt = transposed(p)
    gt = transposed(g)
    left = gt @ p @ pt
    right = pt @ p @ gt
    return -(pt @ g @ pt) + (left - a @ (p @ left)) + (right - (right @ p) @ a)


def pinv_tangent(t, p, a):
    """The pseudo-inverse's JVP (Golub and Pereyra), ``t`` the tangent of ``a``."""
    tt = transposed(t)
    left = p @ (transposed(p) @ tt)
    right = tt @ transposed(p) @ p
    return -(p @ t @ p) + (left - (left @ a) @ p) + (right - p @ (a @ right))


pinv = register(
    Primitive(
        "pinv",
        _pinv,
        (lambda g, ans, a, **params: pinv_cotangent(g, ans, a),),
        (lambda t, ans, a, **params: pinv_tangent(t, ans, a),),
        kind="linalg",
        sample=lambda rng: [
            ((d.real(rng, (4, 3)),), {"rcond": None, "hermitian": False, "rtol": None}),
            ((d.real(rng, (2, 4)),), {"rcond": None, "hermitian": False, "rtol": None}),
            (
                (well_conditioned(rng, (2, 3, 3)),),
                {"rcond": None, "hermitian": False, "rtol": None},
            ),
        ],
        names=("linalg.pinv",),
        methods=("pinverse",),
        numpy=(np.linalg.pinv,),
        signature=_prepare_pinv,
        batch=per_matrix("pinv"),
        implementations={"array_api": _pinv_standard},
        portable=False,
        doc="Moore-Penrose pseudo-inverse, as np.linalg.pinv. Its gradient assumes the rank "
        "does not change near the input (true for full-rank matrices).",
    )
)


# --- solve ------------------------------------------------------------------------------


def _solve(a, b):
    """x with a @ x = b: b of shape (M,) is one vector, otherwise (..., M, K) matrices
    (NumPy 2's rule)."""
    check_matrix("solve", a)
    n = a.shape[-1]
    if np.ndim(b) == 0 or (b.shape[0] if b.ndim == 1 else b.shape[-2]) != n:
        raise ShapeError(
            f"solve: a of shape {a.shape} and b of shape {np.shape(b)} do not fit: b must be "
            f"({n},) or (..., {n}, K)"
        )
    return lapack("solve", xp.linalg.solve, a, b)


def solve_vectors(a, rhs, vector):
    """``a⁻¹ rhs`` where ``rhs`` holds vectors (its last axis) when ``vector``, else matrices."""
    if vector:
        return solve.bind(a, rhs[..., None])[..., 0]
    return solve.bind(a, rhs)


def _solve_vjp_b(g, ans, a, b):
    return solve_vectors(transposed(a), g, b.ndim == 1)


def _solve_vjp_a(g, ans, a, b):
    gb = solve_vectors(transposed(a), g, b.ndim == 1)
    if b.ndim == 1:
        return -(gb[..., :, None] * ans[..., None, :])
    return -(gb @ transposed(ans))


def _solve_jvp_a(t, ans, a, b):
    if b.ndim == 1:
        return -solve_vectors(a, (t @ ans[..., None])[..., 0], True)
    return -solve_vectors(a, t @ ans, False)


def _solve_batch(batched, a, b):
    return batch_solve(solve, batched, a, b)


solve = register(
    Primitive(
        "solve",
        _solve,
        (_solve_vjp_a, _solve_vjp_b),
        (_solve_jvp_a, lambda t, ans, a, b: solve_vectors(a, t, b.ndim == 1)),
        kind="linalg",
        sample=lambda rng: [
            ((well_conditioned(rng, (3, 3)), d.real(rng, (3,))), {}),
            ((well_conditioned(rng, (3, 3)), d.real(rng, (3, 2))), {}),
            ((well_conditioned(rng, (2, 3, 3)), d.real(rng, (3,))), {}),
            ((well_conditioned(rng, (3, 3)), d.real(rng, (2, 3, 2))), {}),
        ],
        names=("linalg.solve",),
        numpy=(np.linalg.solve,),
        signature="binary",
        batch=_solve_batch,
        doc="Solve a @ x = b, as np.linalg.solve (NumPy 2: b of shape (M,) is a vector, "
        "otherwise a stack of (M, K) matrices).",
    )
)


# --- solve_triangular -------------------------------------------------------------------


_TRANS = {0: False, "N": False, 1: True, "T": True, 2: True, "C": True}


def _prepare_solve_triangular(a, b, lower=False, trans=0, unit_diagonal=False):
    if trans not in _TRANS:
        raise ValueError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")
    b = as_operand(b)
    return (a, b), {
        "lower": bool(lower),
        "trans": _TRANS[trans],
        "unit_diagonal": bool(unit_diagonal),
    }


def _read(a, lower, unit_diagonal):
    """The entries of ``a`` the triangular solve reads, the others 0."""
    below = -1 if unit_diagonal else 0
    return xp.tril(a, k=below) if lower else xp.triu(a, k=-below)


def _triangular(a, *, lower, trans, unit_diagonal):
    """The triangular matrices solved with (transposed if ``trans``)."""
    m = _read(a, lower, unit_diagonal)
    if unit_diagonal:
        m = m + eye_like(a)
    return transposed(m) if trans else m


def _solve_triangular(a, b, **params):
    """x with op(T) @ x = b, T the lower or upper triangle of a (scipy.linalg.solve_triangular
    semantics; b as in solve)."""
    check_matrix("solve_triangular", a)
    return solve.forward(_triangular(a, **params), b)


def _solve_triangular_vjp_a(g, ans, a, b, **params):
    m = _triangular(a, **params)
    gm = _solve_vjp_a(g, ans, m, b)
    return _read(
        transposed(gm) if params["trans"] else gm, params["lower"], params["unit_diagonal"]
    )


def _solve_triangular_jvp_a(t, ans, a, b, *, lower, trans, unit_diagonal):
    tm = _read(t, lower, unit_diagonal)
    return _solve_jvp_a(
        transposed(tm) if trans else tm,
        ans,
        _triangular(a, lower=lower, trans=trans, unit_diagonal=unit_diagonal),
        b,
    )


def _solve_triangular_batch(batched, a, b, **params):
    return batch_solve(solve_triangular, batched, a, b, **params)


solve_triangular = register(
    Primitive(
        "solve_triangular",
        _solve_triangular,
        (
            _solve_triangular_vjp_a,
            lambda g, ans, a, b, **params: _solve_vjp_b(g, ans, _triangular(a, **params), b),
        ),
        (
            _solve_triangular_jvp_a,
            lambda t, ans, a, b, **params: solve_vectors(_triangular(a, **params), t, b.ndim == 1),
        ),
        kind="linalg",
        sample=lambda rng: [
            (
                (well_conditioned(rng, (3, 3)), d.real(rng, (3,))),
                {"lower": False, "trans": False, "unit_diagonal": False},
            ),
            (
                (well_conditioned(rng, (3, 3)), d.real(rng, (3, 2))),
                {"lower": True, "trans": True, "unit_diagonal": False},
            ),
            (
                (well_conditioned(rng, (2, 3, 3)), d.real(rng, (3,))),
                {"lower": True, "trans": False, "unit_diagonal": True},
            ),
        ],
        names=("linalg.solve_triangular",),
        signature=_prepare_solve_triangular,
        batch=_solve_triangular_batch,
        doc="Solve a triangular system as scipy.linalg.solve_triangular(a, b, lower=False, "
        "trans=0, unit_diagonal=False): only the chosen triangle of a is read (its diagonal "
        "taken as ones with unit_diagonal), and so only it gets a gradient; stacks allowed.",
    )
)


# --- det and slogdet --------------------------------------------------------------------


def _scaled_inverse_transpose(a, scale):
    """``scale · a⁻ᵀ`` per matrix, by a solve: the gradient of log|det a| (times ``scale``)."""
    return scale[..., None, None] * solve.bind(transposed(a), eye_like(a))


def _log_abs_det_vjp(g, ans, a):
    try:
        return _scaled_inverse_transpose(a, g)
    except LinAlgError:
        raise LinAlgError(
            f"slogdet: log|det| of a singular matrix (shape {np.shape(a)}) is -inf and has "
            "no gradient"
        ) from None


def _others_product(s):
    """Π_{j≠i} s_j for each i (last axis), with products only: finite when some s_j is 0."""
    n = np.shape(s)[-1]
    columns = []
    for i in range(n):
        product = None
        for j in range(n):
            if j != i:
                product = s[..., j] if product is None else product * s[..., j]
        columns.append(xp.ones_like(raw(s)[..., 0]) if product is None else product)
    return xp.stack(columns, axis=-1)


def _cofactors(a):
    """det(a)·a⁻ᵀ per matrix from the SVD a = U S Vh: det(U) det(Vh) U diag(Π_{j≠i} s_j) Vh,
    accurate at (nearly) singular matrices; its own derivative assumes distinct singular
    values."""
    u, s, vh = xp.linalg.svd(a, full_matrices=False)
    sign = xp.linalg.det(u) * xp.linalg.det(vh)
    return sign[..., None, None] * ((u * _others_product(s)[..., None, :]) @ vh)


#: Beyond this condition number det's gradient comes from the SVD instead of a solve.
_ILL_CONDITIONED = 1e4


def _det_gradient(a, ans):
    """The cofactor matrices det(a)·a⁻ᵀ: by a solve for well-conditioned matrices (exact to
    every order, also at repeated singular values such as the identity's), else from the SVD
    (a tiny det times a huge inverse would lose all accuracy; singular matrices included)."""
    s = xp.linalg.svdvals(raw(a))
    if bool(xp.min(s[..., -1] * _ILL_CONDITIONED - s[..., 0]) > 0):
        return _scaled_inverse_transpose(a, ans)
    return _cofactors(a)


def _det_vjp(g, ans, a):
    return g[..., None, None] * _det_gradient(a, ans)


def _det_jvp(t, ans, a):
    return xp.sum(_det_gradient(a, ans) * t, axis=(-2, -1))


def _trace_of_solve(a, t):
    """trace(a⁻¹ t) per matrix: the tangent of log|det a|."""
    return xp.sum(diagonal(solve.bind(a, t)), axis=-1)


def _det(a):
    """Determinant of each square matrix (np.linalg.det, by an LU factorization)."""
    check_matrix("det", a)
    return xp.linalg.det(a)


def _square_samples(rng):
    """Well-conditioned matrices, one stack holding a negative determinant."""
    stack = well_conditioned(rng, (2, 2, 2))
    stack[1, 0] *= -1
    return [((well_conditioned(rng, (3, 3)),), {}), ((stack,), {})]


det = register(
    Primitive(
        "det",
        _det,
        (_det_vjp,),
        (_det_jvp,),
        kind="linalg",
        sample=_square_samples,
        names=("linalg.det",),
        methods=("det",),
        numpy=(np.linalg.det,),
        signature="unary",
        batch=per_matrix("det"),
        doc="Determinant, as np.linalg.det. Its gradient, the cofactor matrix det(a)·a⁻ᵀ, is "
        "computed by a solve, or from the SVD for matrices with a condition number over 1e4 "
        "(accurate at singular matrices too; second order there needs distinct singular "
        "values).",
    )
)


def _slogdet_sign(a):
    """The sign of each determinant (np.linalg.slogdet's first result)."""
    check_matrix("slogdet", a)
    refuse_complex("slogdet", a)
    return xp.linalg.slogdet(a)[0]


def _slogdet_logabsdet(a):
    """log|det a| of each square matrix (np.linalg.slogdet's second result)."""
    check_matrix("slogdet", a)
    refuse_complex("slogdet", a)
    return xp.linalg.slogdet(a)[1]


def _slogdet(a):
    """(sign, logabsdet) as np.linalg.slogdet; the gradient flows through logabsdet."""
    return slogdet_sign.bind(a), slogdet_logabsdet.bind(a)


slogdet_sign = register(
    Primitive(
        "slogdet_sign",
        _slogdet_sign,
        kind="linalg",
        sample=_square_samples,
        batch=per_matrix("slogdet_sign"),
        doc="The sign of det(a), as the first result of np.linalg.slogdet (no gradient).",
    )
)

slogdet_logabsdet = register(
    Primitive(
        "slogdet_logabsdet",
        _slogdet_logabsdet,
        (_log_abs_det_vjp,),
        (lambda t, ans, a: _trace_of_solve(a, t),),
        kind="linalg",
        sample=_square_samples,
        label="log|det|",
        names=(("linalg.slogdet", composite(_slogdet)),),
        methods=(("slogdet", composite(_slogdet)),),
        numpy=((np.linalg.slogdet, composite(_slogdet)),),
        batch=per_matrix("slogdet_logabsdet"),
        doc="(sign, logabsdet) of the determinant, as np.linalg.slogdet; the gradient flows "
        "through logabsdet (a⁻ᵀ, by a solve). Each result factorizes the matrix once.",
    )
)


# --- matrix_power -----------------------------------------------------------------------


def _prepare_matrix_power(a, n):
    check_matrix("matrix_power", a)
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"matrix_power: the exponent must be an integer, got {n!r}") from None
    return (a,), {"n": n}


def _matrix_power(a, *, n):
    """a @ a @ ... (n factors); n < 0 uses the inverse, n = 0 gives the identity."""
    check_matrix("matrix_power", a)
    if n >= 0:  # products only: nothing to refuse (an overflow is inf, as in NumPy)
        return xp.linalg.matrix_power(a, n)
    return lapack("matrix_power", xp.linalg.matrix_power, a, n)


def _power_sum(base, middle, count):
    """Σ_j base^j · middle · base^(count-1-j), the derivative of base^count along middle."""
    powers = [None, base]
    for _ in range(2, count):
        powers.append(powers[-1] @ base)
    total = 0
    for j in range(count):
        left = middle if j == 0 else powers[j] @ middle
        total = total + (left if j == count - 1 else left @ powers[count - 1 - j])
    return total


def _matrix_power_vjp(g, ans, a, *, n):
    if n == 0:
        return xp.zeros_like(a)
    if n > 0:
        return _power_sum(transposed(a), g, n)
    base_t = transposed(inv.bind(a))
    return -(base_t @ _power_sum(base_t, g, -n) @ base_t)


def _matrix_power_jvp(t, ans, a, *, n):
    if n == 0:
        return xp.zeros_like(a)
    if n > 0:
        return _power_sum(a, t, n)
    base = inv.bind(a)
    return _power_sum(base, -(base @ t @ base), -n)


matrix_power = register(
    Primitive(
        "matrix_power",
        _matrix_power,
        (_matrix_power_vjp,),
        (_matrix_power_jvp,),
        kind="linalg",
        sample=lambda rng: [
            ((d.real(rng, (3, 3)),), {"n": 3}),
            ((well_conditioned(rng, (2, 2, 2)),), {"n": -2}),
            ((d.real(rng, (2, 2)),), {"n": 1}),
            ((d.real(rng, (2, 2)),), {"n": 0}),
        ],
        names=("linalg.matrix_power",),
        methods=("matrix_power",),
        numpy=(np.linalg.matrix_power,),
        signature=_prepare_matrix_power,
        batch=per_matrix("matrix_power"),
        doc="Integer power of a square matrix, as np.linalg.matrix_power (n < 0 inverts first).",
    )
)
