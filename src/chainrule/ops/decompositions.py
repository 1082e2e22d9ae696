"""Matrix decompositions: cholesky, qr, eigh, svd, and lstsq built on them (chainrule.linalg).

Layer: ops. An engine node has one output, so a decomposition with several factors is one
entry per factor (``qr_q``, ``qr_r``), and the public function (``chainrule.linalg.qr``)
is a composite binding each; every entry runs the decomposition once in its forward and
saves the other factors as residuals for its first-order rules. Rules on Tensors (higher
order) recompute those factors through the entries themselves.

Conventions where a derivative is not unique, all finite:

- cholesky, eigh and eigvalsh read one triangle of their input, as NumPy does, so the
  gradient is with respect to that triangle (``g_ij + g_ji`` below the diagonal for 'L',
  zero above it): exact derivatives of the computed function.
- eigh: eigenvalues closer than ``n·eps·max|w|`` count as equal, and the eigenvector
  rules ignore rotations within their eigenspace (the 1/(w_j - w_i) factor is 0 there),
  as for any loss that does not depend on the basis chosen in that eigenspace.
- svd: the rotations of U and V split into a part over s_j - s_i and one over s_j + s_i;
  for singular values closer than ``k·eps·max(s)`` the first is 0 (the basis chosen in
  their subspace) and the second, the relative rotation of U and V, is kept, so functions
  of the singular subspaces and of U Vᵀ (the polar factor) get exact derivatives. Terms
  of rectangular matrices that divide by a singular value take 0 for a zero one, and
  gradients need ``full_matrices=False`` (or square matrices).

Forwards and rules compute through the array namespace (``xp``, the Array API standard's
linalg extension): on NumPy the same LAPACK calls as np.linalg, bit for bit, and on other
libraries' arrays the standard's functions; eigh's UPLO and lstsq, which the standard
lacks, name their standard forwards in ``implementations``.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import backend
from ..core.backend import xp
from ..core.primitive import Primitive, composite, raw, register
from ..errors import MissingRuleError, ShapeError
from . import domains as d
from .linalg import pinv, pinv_cotangent, pinv_tangent, solve
from .matrices import (
    as_operand,
    check_matrix,
    diagonal,
    distinct_singular,
    eye_like,
    from_triangle,
    lapack,
    onto_triangle,
    per_matrix,
    positive_definite,
    refuse_complex,
    symmetric_distinct,
    transposed,
    triangle_mask,
    well_conditioned,
)


def _solve_right(x, r):
    """``x r⁻¹`` per matrix."""
    return transposed(solve.bind(transposed(r), transposed(x)))


# --- cholesky ---------------------------------------------------------------------------


def _prepare_cholesky(a, upper=False):
    return (a,), {"upper": bool(upper)}


def _cholesky(a, *, upper):
    """Cholesky factor of each symmetric positive-definite matrix (np.linalg.cholesky)."""
    check_matrix("cholesky", a)
    refuse_complex("cholesky", a)
    return lapack("cholesky", xp.linalg.cholesky, a, upper=upper)


def _half_lower(x):
    """The lower triangle of ``x`` with its diagonal halved (Φ of Murray's formulas)."""
    return x * (triangle_mask(x, -1) + 0.5 * eye_like(x))


def _cholesky_vjp(g, ans, a, *, upper):
    lower, g_lower = (transposed(ans), transposed(g)) if upper else (ans, g)
    inner = solve.bind(transposed(lower), _half_lower(transposed(lower) @ g_lower))
    return onto_triangle(_solve_right(inner, lower), upper)


def _cholesky_jvp(t, ans, a, *, upper):
    lower = transposed(ans) if upper else ans
    inner = solve.bind(lower, from_triangle(t, upper))
    tangent = lower @ _half_lower(transposed(solve.bind(lower, transposed(inner))))
    return transposed(tangent) if upper else tangent


cholesky = register(
    Primitive(
        "cholesky",
        _cholesky,
        (_cholesky_vjp,),
        (_cholesky_jvp,),
        kind="linalg",
        sample=lambda rng: [
            ((positive_definite(rng, (3, 3)),), {"upper": False}),
            ((positive_definite(rng, (2, 3, 3)),), {"upper": True}),
        ],
        names=(("linalg.cholesky", _prepare_cholesky),),
        methods=(("cholesky", _prepare_cholesky),),
        numpy=((np.linalg.cholesky, _prepare_cholesky),),
        batch=per_matrix("cholesky"),
        doc="Cholesky factor L (a = L Lᵀ; U = Lᵀ with upper=True), as np.linalg.cholesky. "
        "Only the lower (upper) triangle of a is read, and only it gets a gradient.",
    )
)


# --- qr ---------------------------------------------------------------------------------


def _qr_forward(op, a):
    check_matrix(op, a, square=False)
    refuse_complex(op, a)
    return lapack(op, xp.linalg.qr, a)


def _qr_q(a):
    """Q of the reduced QR decomposition (np.linalg.qr(a)[0])."""
    q, r = _qr_forward("qr", a)
    return q, (q, r)


def _qr_r(a):
    """R of the reduced QR decomposition (np.linalg.qr(a)[1])."""
    q, r = _qr_forward("qr", a)
    return r, (q, r)


def _qr_factors(a, res):
    """(Q, R): the saved residuals, or (on Tensors) recomputed through the entries."""
    if res is not None:
        return res
    return qr_q.bind(a), qr_r.bind(a)


def _symmetric_from_upper(x):
    """triu(x) + triu(x, 1)ᵀ."""
    part = x * triangle_mask(x, 1, upper=True)
    return part + transposed(part) + x * eye_like(x)


def _tall_cotangent(gq, gr, q, r):
    """Ā for QR with at least as many rows as columns, from the cotangents of Q and R
    (None for one not asked about): (gq + q·sym(gr rᵀ - qᵀ gq)) r⁻ᵀ."""
    sym = 0
    if gr is not None:
        sym = gr @ transposed(r)
    if gq is not None:
        sym = sym - transposed(q) @ gq
    b = q @ _symmetric_from_upper(sym)
    if gq is not None:
        b = b + gq
    return _solve_right(b, transposed(r))


def _qr_cotangent(gq, gr, a, res):
    """Ā from the cotangents of Q and R (None for the factor not asked about)."""
    q, r = _qr_factors(a, res)
    m, n = np.shape(a)[-2:]
    if m >= n:
        return _tall_cotangent(gq, gr, q, r)
    square_r = r[..., :, :m]
    if gr is None:
        untouched = xp.zeros_like(raw(a)[..., :, m:])
        return xp.concat([_tall_cotangent(gq, None, q, square_r), untouched], axis=-1)
    g_square, g_rest = gr[..., :, :m], gr[..., :, m:]
    gq_total = a[..., :, m:] @ transposed(g_rest)
    if gq is not None:
        gq_total = gq_total + gq
    return xp.concat([_tall_cotangent(gq_total, g_square, q, square_r), q @ g_rest], axis=-1)


def _tall_tangents(t, q, r):
    """(dQ, dR) for QR with at least as many rows as columns."""
    moved = _solve_right(t, r)
    c = transposed(q) @ moved
    kept = c * triangle_mask(c, upper=True) + transposed(c * triangle_mask(c, -1))
    return moved - q @ kept, kept @ r


def _qr_tangents(t, a, res):
    """(dQ, dR); a wide matrix [X | Y] is X = Q R_X and Y = Q R_Y."""
    q, r = _qr_factors(a, res)
    m, n = np.shape(a)[-2:]
    if m >= n:
        return _tall_tangents(t, q, r)
    dq, d_square = _tall_tangents(t[..., :, :m], q, r[..., :, :m])
    d_rest = transposed(q) @ (t[..., :, m:] - dq @ r[..., :, m:])
    return dq, xp.concat([d_square, d_rest], axis=-1)


def _prepare_qr(a, mode="reduced"):
    if mode not in ("reduced", "r"):
        raise ValueError(f"qr: mode {mode!r} is not supported; use 'reduced' or 'r'")
    check_matrix("qr", a, square=False)
    return mode


def _qr(a, mode="reduced"):
    """(Q, R) of the reduced QR decomposition as np.linalg.qr; R alone for mode='r'."""
    if _prepare_qr(a, mode) == "r":
        return qr_r.bind(a)
    return qr_q.bind(a), qr_r.bind(a)


def _qr_samples(rng):
    return [
        ((d.real(rng, (4, 3)),), {}),
        ((well_conditioned(rng, (2, 3, 3)),), {}),
        ((d.real(rng, (2, 4)) + np.eye(2, 4) * 3,), {}),
    ]


qr_q = register(
    Primitive(
        "qr_q",
        _qr_q,
        (lambda g, ans, a, res: _qr_cotangent(g, None, a, res),),
        (lambda t, ans, a, res: _qr_tangents(t, a, res)[0],),
        kind="linalg",
        sample=_qr_samples,
        label="qr.Q",
        residuals=True,
        batch=per_matrix("qr_q"),
        names=(("linalg.qr", composite(_qr)),),
        methods=(("qr", composite(_qr)),),
        numpy=((np.linalg.qr, composite(_qr)),),
        doc="(Q, R) of the reduced QR decomposition, as np.linalg.qr (mode 'reduced' or "
        "'r'); R's diagonal must be nonzero for gradients. Each factor decomposes once.",
    )
)

qr_r = register(
    Primitive(
        "qr_r",
        _qr_r,
        (lambda g, ans, a, res: _qr_cotangent(None, g, a, res),),
        (lambda t, ans, a, res: _qr_tangents(t, a, res)[1],),
        kind="linalg",
        sample=_qr_samples,
        label="qr.R",
        residuals=True,
        batch=per_matrix("qr_r"),
        doc="R of the reduced QR decomposition (np.linalg.qr(a)[1]).",
    )
)


# --- eigh and eigvalsh ------------------------------------------------------------------


def _prepare_uplo(a, UPLO="L"):  # noqa: N803 - NumPy's name
    if UPLO not in ("L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    check_matrix("eigh", a)
    return (a,), {"UPLO": UPLO}


def _eigh_forward(a, UPLO):  # noqa: N803
    check_matrix("eigh", a)
    refuse_complex("eigh", a)
    return lapack("eigh", np.linalg.eigh, a, UPLO)


def _eigh_standard(a, UPLO):  # noqa: N803
    """eigh with the standard's linalg.eigh, which reads the lower triangle (aᵀ's is a's
    upper one). Eigenvectors are unique up to sign; the sign is the library's choice."""
    check_matrix("eigh", a)
    refuse_complex("eigh", a)
    return lapack("eigh", xp.linalg.eigh, transposed(a) if UPLO == "U" else a)


def _eigh_values(a, *, UPLO):  # noqa: N803
    """Eigenvalues of each symmetric matrix, ascending (np.linalg.eigh(a)[0])."""
    w, v = _eigh_forward(a, UPLO)
    return w, (w, v)


def _eigh_vectors(a, *, UPLO):  # noqa: N803
    """Orthonormal eigenvectors, as columns (np.linalg.eigh(a)[1])."""
    w, v = _eigh_forward(a, UPLO)
    return v, (w, v)


def _eigh_values_standard(a, *, UPLO):  # noqa: N803
    """:func:`_eigh_values` on another library's arrays."""
    w, v = _eigh_standard(a, UPLO)
    return w, (w, v)


def _eigh_vectors_standard(a, *, UPLO):  # noqa: N803
    """:func:`_eigh_vectors` on another library's arrays."""
    w, v = _eigh_standard(a, UPLO)
    return v, (w, v)


def _eigh_factors(a, UPLO, res):  # noqa: N803
    if res is not None:
        return res
    return eigh_values.bind(a, UPLO=UPLO), eigh_vectors.bind(a, UPLO=UPLO)


def _inverse_gaps(values, tolerance):
    """F_ij = 1 / (values_j - values_i), and 0 on the diagonal and where the two are closer
    than ``tolerance`` (a degenerate pair)."""
    gaps = values[..., None, :] - values[..., :, None]
    apart = xp.abs(raw(gaps)) > tolerance
    return 1 / xp.where(apart, gaps, math.inf)  # 1/inf: an exact 0, and so is its derivative


def _eps(values):
    """The machine epsilon of ``values``' dtype (a Python float on other libraries)."""
    if type(values) is np.ndarray:
        return np.finfo(values.dtype).eps
    return backend.array_namespace(values).finfo(values.dtype).eps


def _eigen_gaps(w):
    values = raw(w)
    scale = xp.max(xp.abs(values), axis=-1, keepdims=True)[..., None]
    return _inverse_gaps(w, values.shape[-1] * _eps(values) * scale)


def _eigh_values_vjp(g, ans, a, *, UPLO, res):  # noqa: N803
    _, v = _eigh_factors(a, UPLO, res)
    return onto_triangle((v * g[..., None, :]) @ transposed(v), UPLO == "U")


def _eigh_values_jvp(t, ans, a, *, UPLO, res):  # noqa: N803
    _, v = _eigh_factors(a, UPLO, res)
    return xp.sum((from_triangle(t, UPLO == "U") @ v) * v, axis=-2)


def _eigh_vectors_vjp(g, ans, a, *, UPLO, res):  # noqa: N803
    w, v = _eigh_factors(a, UPLO, res)
    inner = _eigen_gaps(w) * (transposed(v) @ g)
    return onto_triangle(v @ inner @ transposed(v), UPLO == "U")


def _eigh_vectors_jvp(t, ans, a, *, UPLO, res):  # noqa: N803
    w, v = _eigh_factors(a, UPLO, res)
    projected = transposed(v) @ from_triangle(t, UPLO == "U") @ v
    return v @ (_eigen_gaps(w) * projected)


def _eigh(a, UPLO="L"):  # noqa: N803
    """(w, v) of a symmetric matrix, as np.linalg.eigh."""
    (a,), params = _prepare_uplo(a, UPLO)
    return eigh_values.bind(a, **params), eigh_vectors.bind(a, **params)


def _symmetric_samples(rng):
    return [
        ((symmetric_distinct(rng, (3, 3)),), {"UPLO": "L"}),
        ((symmetric_distinct(rng, (2, 3, 3)),), {"UPLO": "U"}),
    ]


def _eigenvector_samples(rng):
    """As for the eigenvalues, but UPLO='U' on 2×2 matrices (with noise in the triangle not
    read): their reduction to tridiagonal form is trivial, so NumPy's 'U' and the standard's
    'L' of the transpose (other libraries) give the same eigenvectors; for larger matrices
    the two choose different signs."""
    noise = np.tril(rng.uniform(-1.0, 1.0, size=(2, 2, 2)), -1)
    return [
        ((symmetric_distinct(rng, (3, 3)),), {"UPLO": "L"}),
        ((symmetric_distinct(rng, (2, 3, 3)),), {"UPLO": "L"}),
        ((symmetric_distinct(rng, (2, 2, 2)) + noise,), {"UPLO": "U"}),
    ]


eigh_values = register(
    Primitive(
        "eigh_values",
        _eigh_values,
        (_eigh_values_vjp,),
        (_eigh_values_jvp,),
        kind="linalg",
        sample=_symmetric_samples,
        label="eigh.w",
        residuals=True,
        batch=per_matrix("eigh_values"),
        implementations={"array_api": _eigh_values_standard},
        portable=False,
        names=(("linalg.eigvalsh", _prepare_uplo),),
        numpy=((np.linalg.eigvalsh, _prepare_uplo),),
        doc="Eigenvalues of a symmetric matrix, ascending, as np.linalg.eigvalsh; only the "
        "UPLO triangle is read, and only it gets a gradient.",
    )
)

eigh_vectors = register(
    Primitive(
        "eigh_vectors",
        _eigh_vectors,
        (_eigh_vectors_vjp,),
        (_eigh_vectors_jvp,),
        kind="linalg",
        sample=_eigenvector_samples,
        label="eigh.v",
        residuals=True,
        batch=per_matrix("eigh_vectors"),
        implementations={"array_api": _eigh_vectors_standard},
        portable=False,
        names=(("linalg.eigh", composite(_eigh)),),
        numpy=((np.linalg.eigh, composite(_eigh)),),
        doc="(w, v) of a symmetric matrix, as np.linalg.eigh (UPLO='L' or 'U': the triangle "
        "read). Eigenvector gradients treat numerically equal eigenvalues as one eigenspace "
        "(their 1/(w_j - w_i) is 0). Each result decomposes once. On other array libraries "
        "each eigenvector's sign is that library's choice.",
    )
)


# --- svd --------------------------------------------------------------------------------


def _svd_forward(a, full_matrices):
    check_matrix("svd", a, square=False)
    refuse_complex("svd", a)
    return lapack("svd", xp.linalg.svd, a, full_matrices=full_matrices)


def _svd_u(a, *, full_matrices):
    """U of the singular value decomposition (np.linalg.svd(a)[0])."""
    u, s, vh = _svd_forward(a, full_matrices)
    return u, (u, s, vh)


def _svd_s(a):
    """Singular values, descending (np.linalg.svd(a, compute_uv=False))."""
    u, s, vh = _svd_forward(a, False)
    return s, (u, s, vh)


def _svd_vh(a, *, full_matrices):
    """Vᴴ of the singular value decomposition (np.linalg.svd(a)[2])."""
    u, s, vh = _svd_forward(a, full_matrices)
    return vh, (u, s, vh)


def _svd_factors(op, a, res):
    """The reduced (u, s, vh), refusing full rectangular factors (their extra columns have
    no unique derivative)."""
    m, n = np.shape(a)[-2:]
    if res is not None:
        u, s, vh = res
    else:
        u, s, vh = (
            svd_u.bind(a, full_matrices=False),
            svd_s.bind(a),
            svd_vh.bind(a, full_matrices=False),
        )
    if np.shape(u)[-1] != np.shape(vh)[-2]:
        raise MissingRuleError(
            f"{op}: no gradient for full_matrices=True with a non-square matrix (shape "
            f"{(m, n)}); use full_matrices=False"
        )
    return u, s, vh


def _singular_gaps(s):
    """(D₋, D₊): 1/(s_j - s_i) and 1/(s_j + s_i), each 0 on the diagonal and where its
    denominator is within k·eps·max(s) of 0 (equal, resp. both zero, singular values)."""
    values = raw(s)
    tolerance = values.shape[-1] * _eps(values) * xp.max(values, axis=-1)
    tolerance = tolerance[..., None, None]
    sums = s[..., None, :] + s[..., :, None]
    off_diagonal = eye_like(sums) == 0
    apart = (raw(sums) > tolerance) & off_diagonal
    return _inverse_gaps(s, tolerance), 1 / xp.where(apart, sums, math.inf)


def _rotations(s, x, sign):
    """The U (sign +1) or V (sign -1) rotation from x = Uᵀ dA V:
    ½ D₋∘(x + xᵀ) ± ½ D₊∘(x - xᵀ), which is (x S + S xᵀ)/(s_j² - s_i²) for U, split so the
    part that stays finite at equal singular values (the relative rotation of U and V) is kept.
    """
    minus, plus = _singular_gaps(s)
    return 0.5 * (minus * (x + transposed(x)) + sign * (plus * (x - transposed(x))))


def _rotations_adjoint(s, y, sign):
    """The adjoint of :func:`_rotations`: its cotangent with respect to x."""
    minus, plus = _singular_gaps(s)
    m, p = minus * y, plus * y
    return 0.5 * (m + transposed(m) + sign * (p - transposed(p)))


def _reciprocal(s):
    """1/s, 0 for a zero singular value."""
    return 1 / xp.where(raw(s) != 0, s, math.inf)


def _svd_u_vjp(g, ans, a, *, full_matrices, res):
    u, s, vh = _svd_factors("svd", a, res)
    grad = u @ _rotations_adjoint(s, transposed(u) @ g, 1) @ vh
    if np.shape(a)[-2] > np.shape(s)[-1]:
        grad = grad + ((g - u @ (transposed(u) @ g)) * _reciprocal(s)[..., None, :]) @ vh
    return grad


def _svd_vh_vjp(g, ans, a, *, full_matrices, res):
    u, s, vh = _svd_factors("svd", a, res)
    v, gv = transposed(vh), transposed(g)
    grad = u @ _rotations_adjoint(s, vh @ gv, -1) @ vh
    if np.shape(a)[-1] > np.shape(s)[-1]:
        grad = grad + u @ (_reciprocal(s)[..., :, None] * (g - (g @ v) @ vh))
    return grad


def _svd_s_vjp(g, ans, a, *, res):
    u, _, vh = _svd_factors("svd", a, res)
    return (u * g[..., None, :]) @ vh


def _svd_projected(t, u, vh):
    return transposed(u) @ t @ transposed(vh)


def _svd_u_jvp(t, ans, a, *, full_matrices, res):
    u, s, vh = _svd_factors("svd", a, res)
    p = _svd_projected(t, u, vh)
    tangent = u @ _rotations(s, p, 1)
    if np.shape(a)[-2] > np.shape(s)[-1]:
        tangent = tangent + (t @ transposed(vh) - u @ p) * _reciprocal(s)[..., None, :]
    return tangent


def _svd_vh_jvp(t, ans, a, *, full_matrices, res):
    u, s, vh = _svd_factors("svd", a, res)
    p = _svd_projected(t, u, vh)
    v = transposed(vh)
    dv = v @ _rotations(s, p, -1)
    if np.shape(a)[-1] > np.shape(s)[-1]:
        dv = dv + (transposed(t) @ u - v @ transposed(p)) * _reciprocal(s)[..., None, :]
    return transposed(dv)


def _prepare_svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    check_matrix("svd", a, square=False)
    if hermitian:
        raise ValueError("svd: hermitian=True is not supported; use chainrule.linalg.eigh")
    return bool(full_matrices), bool(compute_uv)


def _svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """(U, S, Vh) as np.linalg.svd, or S alone with compute_uv=False."""
    full, with_vectors = _prepare_svd(a, full_matrices, compute_uv, hermitian)
    if not with_vectors:
        return svd_s.bind(a)
    return svd_u.bind(a, full_matrices=full), svd_s.bind(a), svd_vh.bind(a, full_matrices=full)


def _prepare_svdvals(a):
    check_matrix("svdvals", a, square=False)
    return (a,), {}


def _svd_samples(rng, **params):
    return [
        ((distinct_singular(rng, (3, 3)),), dict(params)),
        ((distinct_singular(rng, (4, 2)),), dict(params)),
        ((distinct_singular(rng, (2, 2, 3)),), dict(params)),
    ]


svd_u = register(
    Primitive(
        "svd_u",
        _svd_u,
        (_svd_u_vjp,),
        (_svd_u_jvp,),
        kind="linalg",
        sample=lambda rng: _svd_samples(rng, full_matrices=False),
        label="svd.U",
        residuals=True,
        batch=per_matrix("svd_u"),
        names=(("linalg.svd", composite(_svd)),),
        numpy=((np.linalg.svd, composite(_svd)),),
        doc="(U, S, Vh) as np.linalg.svd (S alone with compute_uv=False); gradients need "
        "full_matrices=False for non-square matrices. For numerically equal singular values "
        "the rotation within their subspace is taken as 0 (see chainrule.ops.decompositions)."
        " Each result decomposes once.",
    )
)

svd_s = register(
    Primitive(
        "svd_s",
        _svd_s,
        (_svd_s_vjp,),
        (lambda t, ans, a, res: diagonal(_svd_projected(t, *_svd_factors("svd", a, res)[::2])),),
        kind="linalg",
        sample=_svd_samples,
        label="svd.S",
        residuals=True,
        batch=per_matrix("svd_s"),
        names=(("linalg.svdvals", _prepare_svdvals),),
        numpy=((np.linalg.svdvals, _prepare_svdvals),),
        doc="Singular values, descending, as np.linalg.svdvals.",
    )
)

svd_vh = register(
    Primitive(
        "svd_vh",
        _svd_vh,
        (_svd_vh_vjp,),
        (_svd_vh_jvp,),
        kind="linalg",
        sample=lambda rng: _svd_samples(rng, full_matrices=False),
        label="svd.Vh",
        residuals=True,
        batch=per_matrix("svd_vh"),
        doc="Vᴴ of the singular value decomposition (np.linalg.svd(a)[2]).",
    )
)


# --- lstsq ------------------------------------------------------------------------------


def _check_lstsq(a, b):
    check_matrix("lstsq", a, square=False)
    if a.ndim != 2 or np.ndim(b) not in (1, 2) or np.shape(b)[0] != a.shape[0]:
        raise ShapeError(
            f"lstsq: a must be one (M, N) matrix and b of shape (M,) or (M, K); got "
            f"{np.shape(a)} and {np.shape(b)}"
        )
    refuse_complex("lstsq", a, b)


def _lstsq_x(a, b, *, rcond):
    """The least-squares solution x of np.linalg.lstsq(a, b, rcond)."""
    _check_lstsq(a, b)
    return lapack("lstsq", np.linalg.lstsq, a, b, rcond)[0]


def _lstsq_x_standard(a, b, *, rcond):
    """lstsq's x with the standard's functions: pinv(a) b, with lstsq's cutoff (LAPACK's
    gelsd also treats singular values at most rcond·max(s) as zero)."""
    _check_lstsq(a, b)
    return lapack("lstsq", xp.linalg.pinv, a, rtol=_cutoff(a, rcond)) @ b


def _pseudo_inverse(a, rcond):
    return pinv.bind(a, rcond=_cutoff(a, rcond), hermitian=False, rtol=None)


def _cutoff(a, rcond):
    """lstsq's relative cutoff for small singular values: NumPy's default eps·max(M, N), and
    eps for a negative rcond."""
    if rcond is None:
        return _eps(raw(a)) * max(np.shape(a)[-2:])
    return _eps(raw(a)) if rcond < 0 else rcond


def _lstsq_vjp_a(g, ans, a, b, *, rcond):
    outer = g[:, None] * b[None, :] if b.ndim == 1 else g @ transposed(b)
    return pinv_cotangent(outer, _pseudo_inverse(a, rcond), a)


def _lstsq_jvp_a(t, ans, a, b, *, rcond):
    return pinv_tangent(t, _pseudo_inverse(a, rcond), a) @ b


def _lstsq_batch(batched, a, b, *, rcond):
    """One call for a batch: the solution is pinv(a) b, with pinv's matching cutoff."""
    p = pinv.bind(a, rcond=_cutoff(a, rcond), hermitian=False, rtol=None)
    if b.ndim - batched[1] == 1 and batched[1]:
        return (p @ b[..., None])[..., 0]
    return p @ b


def _lstsq(a, b, rcond=None):
    """(x, residuals, rank, s) as np.linalg.lstsq; gradients flow through x (and the
    residuals, computed from it), for a rank that is constant near a."""
    b = as_operand(b)
    x = lstsq_x.bind(a, b, rcond=rcond)
    s = svd_s.bind(a)
    int32 = backend.array_namespace(a).int32  # NumPy's dtype for the rank
    above = xp.astype(s > _cutoff(a, rcond) * xp.max(raw(s)), int32)
    rank = xp.astype(xp.sum(above), int32)
    m, n = a.shape
    if int(raw(rank)) == n and m > n:
        r = b - a @ x
        residuals = xp.sum(r * r, axis=0, keepdims=np.ndim(b) == 1)
    else:
        residuals = xp.reshape(0 * a, (-1,))[:0]
    return x, residuals, rank, s


lstsq_x = register(
    Primitive(
        "lstsq_x",
        _lstsq_x,
        (_lstsq_vjp_a, lambda g, ans, a, b, *, rcond: transposed(_pseudo_inverse(a, rcond)) @ g),
        (_lstsq_jvp_a, lambda t, ans, a, b, *, rcond: _pseudo_inverse(a, rcond) @ t),
        kind="linalg",
        sample=lambda rng: [
            ((d.real(rng, (4, 3)), d.real(rng, (4,))), {"rcond": None}),
            ((d.real(rng, (4, 2)), d.real(rng, (4, 3))), {"rcond": None}),
            ((d.real(rng, (2, 3)), d.real(rng, (2,))), {"rcond": None}),
        ],
        label="lstsq.x",
        batch=_lstsq_batch,
        implementations={"array_api": _lstsq_x_standard},
        portable=False,
        names=(("linalg.lstsq", composite(_lstsq)),),
        numpy=((np.linalg.lstsq, composite(_lstsq)),),
        doc="(x, residuals, rank, s) as np.linalg.lstsq (one matrix; rank a 0-d Tensor). "
        "Gradients flow through x and the residuals, assuming the rank does not change near a.",
    )
)
