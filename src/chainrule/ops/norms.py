"""Vector and matrix norms with every order np.linalg.norm has (chainrule.linalg.norm).

Layer: ops. One entry: its forward is np.linalg.norm (on other array libraries, the
standard's linalg.vector_norm and linalg.matrix_norm), and both rules come from one
function, the derivative of each norm value with respect to each input entry
(``_direction``): the VJP multiplies it by the cotangent, the JVP sums it against the tangent.
The rules compute through the namespace ``xp``, so they run on any library and on Tensors.

Conventions where the norm is not differentiable, all finite:

- at a zero norm (all entries zero, or a zero entry for an order below 1) the gradient is
  0, a subgradient for orders of at least 1 (JAX's "safe norm" choice for the 2-norm);
- ties for the largest (smallest) entry, column or row sum (orders ±inf, ±1) share the
  gradient equally, as max and min do; zero entries contribute sign 0;
- order 0 counts nonzero entries: its gradient is 0;
- nuclear norm: U Vᵀ of the reduced SVD (a subgradient when some singular value is 0);
  orders 2 and -2: u vᵀ of the largest (smallest) singular value, which must be simple.

Complex input (outside the complex step) gets NumPy's norms of the moduli, except the
matrix orders that need the SVD (nuc, ±2); each slope is conjugated, JAX's convention, so
the 2-norm's gradient is conj(x)/‖x‖ and a sign becomes the conjugate phase conj(x)/|x|.
"""

from __future__ import annotations

import numpy as np

from ..core import backend
from ..core.backend import xp
from ..core.mode import in_complex_step
from ..core.primitive import Primitive, Traceable, composite, raw, register
from ..errors import ShapeError
from . import arguments
from . import domains as d
from .decompositions import svd_u, svd_vh
from .products import reshaped
from .shape import transpose

_MATRIX_ORDERS = (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf)


def _prepare_norm(x, ord=None, axis=None, keepdims=False, **aliases):  # noqa: A002 - NumPy's name
    """np.linalg.norm's arguments (or PyTorch's dim=/keepdim=): params ord, axis, keepdims."""
    if aliases:
        axis, keepdims = arguments.torch_names("norm", axis, keepdims, aliases)
    if axis is None:
        if ord is not None and x.ndim not in (1, 2):
            raise ShapeError(
                f"norm: ord={ord!r} needs a vector or a matrix, got shape {x.shape}; give axis"
            )
        axes = None if ord is None else tuple(range(x.ndim))
    else:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        if len(axes) not in (1, 2):
            raise ShapeError(f"norm: axis must name one or two axes, got {axis!r}")
        arguments.normalize_axis(axes, x.ndim, "norm")  # range, type and repeat checks
        axes = tuple(int(a) % x.ndim for a in axes)
    if axes is not None and len(axes) == 1 and isinstance(ord, str):
        raise ValueError(f"norm: order {ord!r} is for matrices, not vectors")
    if axes is not None and len(axes) == 2 and ord not in _MATRIX_ORDERS:
        raise ValueError(f"norm: invalid order {ord!r} for matrices; use one of {_MATRIX_ORDERS}")
    if axes is not None and len(axes) == 1 and not isinstance(ord, (int, float, np.number)):
        if ord is not None:
            raise TypeError(f"norm: a vector order must be a number, got {ord!r}")
    return (x,), {"ord": ord, "axis": axes, "keepdims": bool(keepdims)}


def _prepare_matrix_norm(x, *, keepdims=False, ord="fro"):  # noqa: A002 - NumPy's name
    """np.linalg.matrix_norm: a matrix norm of the last two axes."""
    if x.ndim < 2:
        raise ShapeError(f"matrix_norm: expected a matrix or a stack of matrices, got {x.shape}")
    return _prepare_norm(x, ord, (-2, -1), keepdims)


def _refuse_complex(x, ord, axis):  # noqa: A002
    """Complex input is refused under the complex step (a norm has no analytic extension)
    and for the orders its SVD gives (nuc, ±2 of a matrix)."""
    if in_complex_step() or (ord in ("nuc", 2, -2) and axis is not None and len(axis) == 2):
        if backend.is_complex(x):
            raise TypeError("norm: complex input is not supported")


def _vector_norm(x, *, axis=None, keepdims=False, ord=2):  # noqa: A002 - the standard's name
    """The standard's linalg.vector_norm: a vector norm over ``axis`` (None: all entries; a
    tuple: those axes flattened into one, moved to the end)."""
    axes = arguments.normalize_axis(axis, x.ndim, "vector_norm")
    if axes is None:
        axes = tuple(range(x.ndim))
    if len(axes) == 1:
        return norm.bind(x, ord=ord, axis=axes, keepdims=bool(keepdims))
    rest = [i for i in range(x.ndim) if i not in axes]
    flat = x.transpose((*rest, *axes)).reshape((*(x.shape[i] for i in rest), -1))
    norms = norm.bind(flat, ord=ord, axis=(len(rest),), keepdims=False)
    if keepdims:
        norms = _kept(norms, x, axes, False)
    return norms


def _norm(x, *, ord, axis, keepdims):  # noqa: A002
    """np.linalg.norm(x, ord, axis, keepdims): for complex input, the norm of the moduli."""
    _refuse_complex(x, ord, axis)
    return np.linalg.norm(x, ord, axis, keepdims)


def _norm_standard(x, *, ord, axis, keepdims):  # noqa: A002
    """The same norm with the standard's linalg.vector_norm and linalg.matrix_norm (whose
    matrices are the last two axes: the two axes are moved there and back)."""
    _refuse_complex(x, ord, axis)
    if axis is None or len(axis) == 1:
        order = 2 if ord is None else ord
        return xp.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=order)
    rest = [i for i in range(np.ndim(x)) if i not in axis]
    matrices = xp.permute_dims(x, (*rest, *axis))
    norms = xp.linalg.matrix_norm(matrices, ord="fro" if ord is None else ord)
    return _kept(norms, x, axis, False) if keepdims else norms


def _conj(x):
    """conj(x) for complex x, x itself for real: a real norm's slope in z is conj(∂), JAX's."""
    return xp.conj(x) if backend.is_complex(raw(x)) else x


def _signs(x):
    """sign(x) entrywise; for complex x the conjugate phase conj(x)/|x| (0 at 0), which is
    the slope of |x|, written on ``x`` so that it is differentiable again."""
    values = raw(x)
    if not backend.is_complex(values):
        return xp.sign(values)
    return xp.conj(x) / xp.where(values == 0, 1, xp.abs(x))


def _reduced_axes(x, axis):
    return tuple(range(np.ndim(x))) if axis is None else axis


def _kept(value, x, axis, keepdims):
    """A reduced value reshaped so it broadcasts against ``x`` (ones on the reduced axes)."""
    if keepdims or axis is None:
        return value
    shape = list(np.shape(value))
    for a in sorted(axis):
        shape.insert(a, 1)
    return reshaped(value, tuple(shape))


def _safe(norms):
    """``norms`` with zeros replaced by ones, for dividing (the numerator is 0 there)."""
    return xp.where(raw(norms) == 0, 1, norms)


def _shared(values, extreme, axis):
    """Weights splitting 1 equally among the entries of ``values`` (real) equal to their
    extreme, in ``values``' dtype."""
    hits = xp.astype(values == extreme(values, axis=axis, keepdims=True), values.dtype)
    return hits / xp.sum(hits, axis=axis, keepdims=True)


def _vector_direction(norms, x, p):
    values = raw(x)
    if p == 0:
        return xp.zeros_like(values)
    if p == 1:
        return _signs(x)
    if p in (np.inf, -np.inf):
        return None  # handled with the axes by _direction
    if p in (None, 2):
        return _conj(x) / _safe(norms)
    zero = values == 0
    magnitude = xp.where(zero, 1, xp.abs(x))
    direction = (magnitude / _safe(norms)) ** (p - 1) * _signs(x)
    return xp.where(zero | (raw(norms) == 0), 0, direction)


def _matrix_direction(x, ord):  # noqa: A002
    """The derivative of a matrix norm of the last two axes, for orders that need them."""
    magnitudes = xp.abs(raw(x))
    if ord in (1, -1):
        sums = xp.sum(magnitudes, axis=-2, keepdims=True)
        return _signs(x) * _shared(sums, xp.max if ord == 1 else xp.min, -1)
    if ord in (np.inf, -np.inf):
        sums = xp.sum(magnitudes, axis=-1, keepdims=True)
        return _signs(x) * _shared(sums, xp.max if ord == np.inf else xp.min, -2)
    u = svd_u.bind(x, full_matrices=False)
    vh = svd_vh.bind(x, full_matrices=False)
    if ord == "nuc":
        return u @ vh
    k = -1 if ord == -2 else 0
    return u[..., :, k, None] * vh[..., k, None, :]


def _direction(ans, x, ord, axis, keepdims):  # noqa: A002
    """∂ norm / ∂ x entry by entry, shaped like ``x``."""
    axes = _reduced_axes(x, axis)
    norms = _kept(ans, x, axis, keepdims)
    if len(axes) == 1 or axis is None or ord in (None, "fro"):
        if ord in (np.inf, -np.inf):
            extreme = xp.max if ord == np.inf else xp.min
            return _signs(x) * _shared(xp.abs(raw(x)), extreme, axes)
        return _vector_direction(norms, x, 2 if ord == "fro" else ord)
    rest = [i for i in range(np.ndim(x)) if i not in axes]
    order = (*rest, *axes)
    back = tuple(int(i) for i in np.argsort(order))
    return transpose.bind(_matrix_direction(transpose.bind(x, axes=order), ord), axes=back)


def _times(a, b):
    """``a * b`` with a Tensor factor first: another library's array (the raw signs of a
    direction) does not defer to a Tensor as NumPy's does. The product commutes exactly."""
    return b * a if isinstance(b, Traceable) else a * b


def _norm_vjp(g, ans, x, *, ord, axis, keepdims):  # noqa: A002
    return _times(_direction(ans, x, ord, axis, keepdims), _kept(g, x, axis, keepdims))


def _norm_jvp(t, ans, x, *, ord, axis, keepdims):  # noqa: A002
    along = _times(t, _direction(ans, x, ord, axis, keepdims))
    return xp.sum(along, axis=_reduced_axes(x, axis), keepdims=keepdims)


def _norm_batch(batched, x, *, ord, axis, keepdims):  # noqa: A002
    if axis is None:  # the 2-norm of all entries, per example
        flat = norm.bind(xp.reshape(x, (x.shape[0], -1)), ord=None, axis=(1,), keepdims=False)
        return xp.reshape(flat, (x.shape[0],) + (1,) * (x.ndim - 1)) if keepdims else flat
    shifted = tuple(a + 1 for a in axis)
    return norm.bind(x, ord=ord, axis=shifted, keepdims=keepdims)


def _norm_samples(rng):
    vector = d.nonzero(rng, (5,))
    matrix = d.nonzero(rng, (3, 4))
    stack = d.nonzero(rng, (2, 3, 3))
    cases = [((matrix,), {"ord": None, "axis": None, "keepdims": False})]
    cases += [((vector,), {"ord": None, "axis": None, "keepdims": False})]
    cases += [((vector,), {"ord": p, "axis": (0,), "keepdims": False}) for p in (1, 2, 3, 0.5, -1)]
    cases += [((vector,), {"ord": p, "axis": (0,), "keepdims": True}) for p in (np.inf, -np.inf)]
    cases += [((matrix,), {"ord": None, "axis": None, "keepdims": True})]
    cases += [((matrix,), {"ord": -2, "axis": (1,), "keepdims": False})]
    cases += [
        ((matrix,), {"ord": p, "axis": (0, 1), "keepdims": False})
        for p in ("fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf)
    ]
    cases += [((stack,), {"ord": "nuc", "axis": (2, 0), "keepdims": True})]
    cases += [((stack,), {"ord": 1, "axis": (1, 2), "keepdims": False})]
    cases += [((stack,), {"ord": 0, "axis": (1,), "keepdims": False})]
    return cases


norm = register(
    Primitive(
        "norm",
        _norm,
        (_norm_vjp,),
        (_norm_jvp,),
        kind="linalg",
        sample=_norm_samples,
        names=(
            "linalg.norm",
            ("linalg.matrix_norm", _prepare_matrix_norm),
            ("linalg.vector_norm", composite(_vector_norm)),
        ),
        methods=("norm",),
        numpy=(
            np.linalg.norm,
            (np.linalg.matrix_norm, _prepare_matrix_norm),
            (np.linalg.vector_norm, composite(_vector_norm)),
        ),
        signature=_prepare_norm,
        batch=_norm_batch,
        implementations={"array_api": _norm_standard},
        portable=False,
        doc="Vector or matrix norm, as np.linalg.norm(x, ord=None, axis=None, keepdims=False) "
        "with every order NumPy has (the method takes NumPy's arguments too); matrix_norm "
        "as np.linalg.matrix_norm. The gradient "
        "at a zero norm is 0; ties share it (see chainrule.ops.norms).",
    )
)
