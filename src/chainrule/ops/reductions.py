"""Reductions: sum, mean, max (amax), min (amin), logsumexp, prod, var, std, nansum,
nanmean and average over an axis, several axes or all; argmax and argmin (no gradient);
the scans cumsum and cumprod along one axis (None: the flattened tensor), also reached by
the Array API standard's names cumulative_sum and cumulative_prod.

Layer: ops. ``axis`` arrives normalized (None or a tuple of non-negative ints; one int
for scans) by the entries' prepare functions; the rules reinsert the reduced axes
(``_keep``) and broadcast back to the input. Forwards on NumPy arrays are NumPy's own
functions, so values are NumPy's bit for bit; other array libraries get the Array API
standard's functions (``implementations``), and the rules are written with the array
namespace ``xp``, so they run on any library and on Tensors. Order statistics (sort,
median, quantile) live in :mod:`chainrule.ops.sorting`.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import backend
from ..core.backend import xp
from ..core.mode import in_complex_step
from ..core.primitive import PRIMITIVES, Primitive, Traceable, concrete, raw, register
from ..errors import ShapeError
from . import arguments
from . import domains as d

#: Values whose methods (``v.sum``, ``v.reshape``) spell the standard's functions: NumPy's
#: (where a method costs a fraction of the function's dispatch) and Tensors. Other
#: libraries' arrays have no such methods and go through ``xp``.
_WITH_METHODS = (np.ndarray, np.generic, Traceable)


def _sum(v, axis, keepdims=False):
    if isinstance(v, _WITH_METHODS):
        return v.sum(axis=axis, keepdims=keepdims)
    return xp.sum(v, axis=axis, keepdims=keepdims)


def _mean(v, axis, keepdims=False):
    if isinstance(v, _WITH_METHODS):
        return v.mean(axis=axis, keepdims=keepdims)
    return xp.mean(v, axis=axis, keepdims=keepdims)


def _reshape(v, shape):
    return v.reshape(shape) if isinstance(v, _WITH_METHODS) else xp.reshape(v, shape)


def _any(v):
    return v.any() if isinstance(v, _WITH_METHODS) else xp.any(v)


def _astype(v, dtype):
    return v.astype(dtype) if isinstance(v, _WITH_METHODS) else xp.astype(v, dtype)


def _keep(g, ndim, axis, keepdims):
    """Reshape a reduced result to its keepdims shape so it broadcasts against the input."""
    if keepdims or axis is None:
        return g  # a full reduction's result is 0-d (or all ones): it broadcasts as it is
    shape = list(g.shape)
    for a in sorted(axis):
        shape.insert(a, 1)
    return _reshape(g, tuple(shape))


def _count(shape, axis):
    if axis is None:
        return math.prod(shape)
    return math.prod(shape[a] for a in axis)


def _zeros(shape, like):
    """Zeros of ``shape`` in the dtype, array library and device of the array behind ``like``."""
    if isinstance(like, (np.ndarray, np.generic)):
        return np.zeros(shape, dtype=like.dtype)
    space = backend.array_namespace(like)
    return space.zeros(shape, dtype=like.dtype, device=backend.native_device(like))


def count_true(mask, axis=None, keepdims=False):
    """How many entries of the boolean ``mask`` are true over ``axis``, as integers (the
    standard sums numbers, not booleans)."""
    if isinstance(mask, _WITH_METHODS):
        return mask.sum(axis=axis, keepdims=keepdims)
    counts = xp.astype(mask, backend.array_namespace(mask).int64)
    return xp.sum(counts, axis=axis, keepdims=keepdims)


def running_count(mask, axis):
    """How many entries of the boolean ``mask`` are true up to each position along ``axis``."""
    if isinstance(mask, _WITH_METHODS):
        return mask.cumsum(axis=axis)
    return xp.cumulative_sum(xp.astype(mask, backend.array_namespace(mask).int64), axis=axis)


def _is_complex(x):
    """Whether the array behind ``x`` (any library's, or a Tensor's) holds complex numbers."""
    return backend.is_complex(x._data if isinstance(x, Traceable) else x)


def _standard_reduction(name):
    """The forward for other array libraries: the standard's function ``name`` over
    ``axis`` (None or a tuple)."""

    def forward(x, *, axis, keepdims):
        return getattr(xp, name)(x, axis=axis, keepdims=keepdims)

    forward.__name__ = forward.__qualname__ = f"standard_{name}"
    return forward


def _samples(domain):
    def sample(rng):
        return [
            ((domain(rng, (3, 4)),), {"axis": None, "keepdims": False}),
            ((domain(rng, (3, 4)),), {"axis": (1,), "keepdims": False}),
            ((domain(rng, (2, 3, 4)),), {"axis": (0, 2), "keepdims": True}),
            ((domain(rng, (5,)),), {"axis": (0,), "keepdims": False}),
        ]

    return sample


# --- batching rules ----------------------------------------------------------------------


def batch_reduction(name):
    """The batching rule of a reduction over ``axis`` (None or a tuple): the per-example
    axes shift by one past the batch axis (None: all of them), then one call."""

    def rule(batched, x, *, axis, **params):
        shifted = tuple(range(1, x.ndim)) if axis is None else tuple(a + 1 for a in axis)
        return PRIMITIVES[name].bind(x, axis=shifted, **params)

    return rule


def batch_scan(name):
    """The batching rule of an operation along one axis (None: the flattened tensor)."""

    def rule(batched, x, *, axis, **params):
        if axis is None:
            return PRIMITIVES[name].bind(xp.reshape(x, (x.shape[0], -1)), axis=1, **params)
        return PRIMITIVES[name].bind(x, axis=axis + 1, **params)

    return rule


def _reduction(
    name,
    forward,
    vjp,
    jvp,
    *,
    doc,
    domain=d.real,
    numpy=(),
    signature=None,
    aliases=(),
    implementations=None,
):
    """Register a reduction: public function and Tensor method ``name`` (and ``aliases``);
    other array libraries compute it with ``implementations`` (default: the standard's
    function ``name``)."""
    return register(
        Primitive(
            name,
            forward,
            (vjp,),
            (jvp,),
            kind="reduction",
            sample=_samples(domain),
            names=(name, *aliases),
            methods=(name, *aliases),
            numpy=numpy,
            signature=signature or arguments.reduction(name),
            batch=batch_reduction(name),
            doc=doc,
            implementations=(
                {"array_api": _standard_reduction(name)}
                if implementations is None
                else implementations
            ),
        )
    )


#: Below this many elements, adding zeros is cheaper than np.broadcast_to's fixed overhead.
_SMALL = 4096


def _spread(g, x, axis, keepdims):
    """``g`` repeated along the reduced axes, back to ``x``'s shape.

    Large results are a broadcast view (no memory written); small ones are made by
    adding zeros, which costs less than np.broadcast_to's set-up. Both run on Tensors.
    """
    kept = _keep(g, x.ndim, axis, keepdims)
    if math.prod(x.shape) > _SMALL:
        if isinstance(kept, (np.ndarray, np.generic)):
            return np.broadcast_to(kept, x.shape)
        return xp.broadcast_to(kept, x.shape)
    return kept + _zeros(x.shape, g)


sum = _reduction(  # noqa: A001 - NumPy's name
    "sum",
    lambda x, *, axis, keepdims: np.add.reduce(x, axis=axis, keepdims=keepdims),
    lambda g, ans, x, *, axis, keepdims: _spread(g, x, axis, keepdims),
    lambda t, ans, x, *, axis, keepdims: _sum(t, axis, keepdims),
    numpy=(np.sum,),
    doc="Sum over ``axis`` (None: all; int or tuple), keeping dims if asked.",
)

mean = _reduction(
    "mean",
    lambda x, *, axis, keepdims: (
        np.add.reduce(x, axis=axis, keepdims=keepdims) / _count(x.shape, axis)
    ),
    lambda g, ans, x, *, axis, keepdims: _spread(g / _count(x.shape, axis), x, axis, keepdims),
    lambda t, ans, x, *, axis, keepdims: _mean(t, axis, keepdims),
    numpy=(np.mean,),
    implementations={
        "array_api": lambda x, *, axis, keepdims: (
            xp.sum(x, axis=axis, keepdims=keepdims) / _count(x.shape, axis)
        )
    },
    doc="Mean over ``axis`` (None: all; int or tuple).",
)


def _chosen(x, ans, axis, keepdims):
    """Weights that split the gradient equally among the entries equal to the extremum."""
    xv = raw(x)
    av = raw(ans)
    hits = _astype(xv == _keep(av, xv.ndim, axis, keepdims), xv.dtype)
    return hits / _sum(hits, axis, keepdims=True)


def _refuse_empty_extent(name, x, axes):
    """An extremum over no elements has no value: refused (as NumPy does). Reducing a
    zero-size tensor along a non-empty axis is fine: the result is empty too."""
    if x.size == 0 and (axes is None or any(x.shape[a] == 0 for a in axes)):
        raise ShapeError(f"{name}: zero-size tensor of shape {x.shape} has no extremum")


def _nonempty(name):
    """The reduction's prepare, refusing an axis reduction of a zero-size tensor."""
    prepare = arguments.reduction(name)

    def prepare_extremum(x, *args, **kwargs):
        operands, params = prepare(x, *args, **kwargs)
        _refuse_empty_extent(name, x, params["axis"])
        return operands, params

    return prepare_extremum


def _extremum(name, reduce, numpy, doc):
    """max or min, also reached as NumPy's and PyTorch's a-prefixed alias (amax, amin)."""
    return _reduction(
        name,
        lambda x, *, axis, keepdims: reduce(x, axis=axis, keepdims=keepdims),
        lambda g, ans, x, *, axis, keepdims: (
            _keep(g, x.ndim, axis, keepdims) * _chosen(x, ans, axis, keepdims)
        ),
        lambda t, ans, x, *, axis, keepdims: _sum(
            t * _chosen(x, ans, axis, keepdims), axis, keepdims
        ),
        domain=d.distinct,
        numpy=numpy,
        signature=_nonempty(name),
        aliases=(f"a{name}",),
        doc=doc,
    )


max = _extremum(  # noqa: A001 - NumPy's name
    "max",
    np.max,
    (np.max, np.amax),
    "Largest entry over ``axis`` (also amax); tied entries share the gradient equally, as "
    "in torch.amax (torch.max(x, dim) gives it all to one).",
)
min = _extremum(  # noqa: A001 - NumPy's name
    "min",
    np.min,
    (np.min, np.amin),
    "Smallest entry over ``axis`` (also amin); tied entries share the gradient equally, as "
    "in torch.amin (torch.min(x, dim) gives it all to one).",
)


def _logsumexp(x, *, axis, keepdims):
    """log(sum(exp(x))) shifted by the maximum, so huge logits do not overflow."""
    shift = np.max(x.real, axis=axis, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    out = np.log(np.sum(np.exp(x - shift), axis=axis, keepdims=True)) + shift
    return out if keepdims else np.squeeze(out, axis=axis)


def _standard_logsumexp(x, *, axis, keepdims):
    """logsumexp for other array libraries: the same shifted sum in the standard's functions."""
    shift = xp.max(xp.real(x) if _is_complex(x) else x, axis=axis, keepdims=True)
    shift = xp.where(xp.isfinite(shift), shift, 0.0)
    out = xp.log(xp.sum(xp.exp(x - shift), axis=axis, keepdims=True)) + shift
    if keepdims:
        return out
    return xp.squeeze(out, axis=tuple(range(out.ndim)) if axis is None else axis)


logsumexp = _reduction(
    "logsumexp",
    _logsumexp,
    lambda g, ans, x, *, axis, keepdims: (
        _keep(g, x.ndim, axis, keepdims) * xp.exp(x - _keep(ans, x.ndim, axis, keepdims))
    ),
    lambda t, ans, x, *, axis, keepdims: _sum(
        t * xp.exp(x - _keep(ans, x.ndim, axis, keepdims)), axis, keepdims
    ),
    implementations={"array_api": _standard_logsumexp},
    doc="log(sum(exp(x))) over ``axis``, shifted by the maximum so it never overflows.",
)


# --- positions of extrema: integer results, no gradient -------------------------------


def _prepare_arg(name):
    """``f(x, axis=None, keepdims=False)`` (or ``dim=``/``keepdim=``) over one axis or all."""

    def prepare(x, axis=None, keepdims=False, **aliases):
        if aliases:
            axis, keepdims = arguments.torch_names(name, axis, keepdims, aliases)
        axis = None if axis is None else arguments.one_axis(axis, x.ndim, name)
        _refuse_empty_extent(name, x, None if axis is None else (axis,))
        return (x,), {"axis": axis, "keepdims": bool(keepdims)}

    return prepare


def _arg_samples(rng):
    return [
        ((d.distinct(rng, (3, 4)),), {"axis": None, "keepdims": False}),
        ((d.distinct(rng, (3, 4)),), {"axis": 1, "keepdims": False}),
        ((d.distinct(rng, (2, 3, 4)),), {"axis": 0, "keepdims": True}),
    ]


def _batch_position(prim):
    """The batching rule of argmax/argmin: over all of an example is over its flattened
    entries (one row per example), otherwise over the shifted axis."""

    def rule(batched, x, *, axis, keepdims):
        shape = np.shape(x)
        if axis is not None:
            return prim.bind(x, axis=axis + 1, keepdims=keepdims)
        rows = prim.bind(xp.reshape(x, (shape[0], -1)), axis=1, keepdims=False)
        return xp.reshape(rows, (shape[0],) + (1,) * (len(shape) - 1)) if keepdims else rows

    return rule


def _position(name, reduce, doc):
    prim = Primitive(
        name,
        lambda x, *, axis, keepdims: reduce(x, axis=axis, keepdims=keepdims),
        kind="reduction",
        names=(name,),
        methods=(name,),
        numpy=(reduce,),
        signature=_prepare_arg(name),
        sample=_arg_samples,
        doc=doc,
        implementations={
            "array_api": lambda x, *, axis, keepdims: getattr(xp, name)(
                x, axis=axis, keepdims=keepdims
            )
        },
    )
    prim.batch = _batch_position(prim)
    return register(prim)


argmax = _position("argmax", np.argmax, "Index of the largest entry (over ``axis``); no gradient.")
argmin = _position("argmin", np.argmin, "Index of the smallest entry (over ``axis``); no gradient.")


# --- products ----------------------------------------------------------------------------


def _to_end(axes, ndim):
    """Where ``moveaxis`` puts ``axes`` to move them, in order, after the other axes."""
    return tuple(range(ndim - len(axes), ndim))


def _products_of_others(x, axis):
    """For every entry, the product of the other entries reduced with it, made of
    multiplications only (prefix and suffix products): exact with any number of zeros."""
    axes = tuple(range(x.ndim)) if axis is None else axis
    moved = xp.moveaxis(x, axes, _to_end(axes, x.ndim))
    lanes = xp.reshape(moved, moved.shape[: x.ndim - len(axes)] + (-1,))
    last = lanes.ndim - 1
    space, device = backend.array_namespace(x), backend.native_device(x)
    position = space.arange(lanes.shape[-1], device=device)
    # the lanes shifted one place right (left), a 1 entering: exclusive running products
    before = cumprod.bind(xp.where(position == 0, 1, xp.roll(lanes, 1, axis=last)), axis=last)
    ending = position == lanes.shape[-1] - 1
    shifted_left = xp.flip(xp.where(ending, 1, xp.roll(lanes, -1, axis=last)), axis=last)
    after = xp.flip(cumprod.bind(shifted_left, axis=last), axis=last)
    others = xp.reshape(before * after, moved.shape)
    return xp.moveaxis(others, _to_end(axes, x.ndim), axes)


def _others(x, ans, axis, keepdims):
    """∂prod/∂x: the product divided by the entry, or, where an entry is zero, the
    product of the others computed without dividing."""
    values = concrete(x)
    if values is None or _any(values == 0):
        return _products_of_others(x, axis)
    return _keep(ans, x.ndim, axis, keepdims) / x


prod = register(
    Primitive(
        "prod",
        lambda x, *, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims),
        (
            lambda g, ans, x, *, axis, keepdims: (
                _keep(g, x.ndim, axis, keepdims) * _others(x, ans, axis, keepdims)
            ),
        ),
        (
            lambda t, ans, x, *, axis, keepdims: _sum(
                t * _others(x, ans, axis, keepdims), axis, keepdims
            ),
        ),
        kind="reduction",
        sample=_samples(d.nonzero),
        names=("prod",),
        methods=("prod",),
        numpy=(np.prod,),
        signature=arguments.reduction("prod"),
        batch=batch_reduction("prod"),
        implementations={"array_api": _standard_reduction("prod")},
        doc="Product over ``axis``; its gradient is exact where entries are zero (the "
        "product of the other entries, never a division by zero).",
    )
)


def _reverse_cumsum(v, axis):
    """Sums from each position to the end of ``axis``."""
    flip = (slice(None),) * axis + (slice(None, None, -1), ...)
    return cumsum.bind(v[flip], axis=axis)[flip]


def _flat_rule(rule, reverse):
    """A scan rule over one axis, flattening first when ``axis`` is None (as NumPy does);
    a reverse rule's result is shaped back like the input."""

    def flat(v, ans, x, *, axis):
        if axis is None:
            out = rule(_reshape(v, (-1,)), ans, _reshape(x, (-1,)), 0)
            return _reshape(out, x.shape) if reverse else out
        return rule(v, ans, x, axis)

    return flat


def _standard_scan(name):
    """The forward of a scan for other array libraries: the standard's ``name``
    (cumulative_sum, cumulative_prod) along ``axis``, of the flattened array when None."""

    def forward(x, *, axis):
        if axis is None:
            x, axis = xp.reshape(x, (-1,)), 0
        return getattr(xp, name)(x, axis=axis)

    forward.__name__ = forward.__qualname__ = name
    return forward


def _prepare_cumulative(name):
    """The Array API standard's ``name(x, /, *, axis=None, dtype=None,
    include_initial=False)``: axis None scans the flattened tensor (the standard asks for
    an axis beyond one dimension); ``dtype`` and ``include_initial`` are refused."""

    def prepare(x, *, axis=None, dtype=None, include_initial=False):
        if dtype is not None or include_initial:
            raise TypeError(f"{name}: dtype= and include_initial=True are not supported")
        return (x,), {"axis": None if axis is None else arguments.one_axis(axis, x.ndim, name)}

    prepare.__name__ = f"prepare_{name}"
    return prepare


cumsum = register(
    Primitive(
        "cumsum",
        lambda x, *, axis: np.cumsum(x, axis=axis),
        (_flat_rule(lambda g, ans, x, axis: _reverse_cumsum(g, axis), reverse=True),),
        (lambda t, ans, x, *, axis: cumsum.bind(t, axis=axis),),
        kind="reduction",
        sample=lambda rng: [
            ((d.real(rng, (3, 4)),), {"axis": 1}),
            ((d.real(rng, (4, 2)),), {"axis": 0}),
            ((d.real(rng, (2, 3)),), {"axis": None}),
        ],
        names=("cumsum", ("cumulative_sum", _prepare_cumulative("cumulative_sum"))),
        methods=("cumsum",),
        numpy=(np.cumsum,),
        signature=arguments.along_axis("cumsum", None),
        batch=batch_scan("cumsum"),
        implementations={"array_api": _standard_scan("cumulative_sum")},
        doc="Running sums along ``axis`` (None: of the flattened tensor).",
    )
)


def _zeros_and_first_zeros(x, axis):
    """Where entries are zero, and where the first zero along ``axis`` is (or None, None)."""
    zero = raw(x) == 0
    values = concrete(zero)
    if values is not None and not _any(values):
        return None, None
    return zero, zero & (running_count(zero, axis) == 1)


def _products_skipping_each(x, axis):
    """P[..., k, i] = ∏_{j≤i, j≠k} x_j where i ≥ k, else 0, with ``axis`` moved last: every
    partial derivative of cumprod, made of multiplications only (n² entries per lane).

    The recorded (higher-order) rules use it when a lane holds two or more zeros: there the
    first-order shortcut's zeros past the first zero have nonzero derivatives."""
    lanes = xp.moveaxis(x, axis, -1)
    n = lanes.shape[-1]
    space, device = backend.array_namespace(x), backend.native_device(x)
    position = space.arange(n, device=device)
    diagonal = position[:, None] == position[None, :]
    skipped = xp.where(diagonal, 1, lanes[..., None, :])
    products = cumprod.bind(skipped, axis=skipped.ndim - 1)
    return xp.where(position[:, None] <= position[None, :], products, 0)


def _needs_every_product(x, zero, axis):
    """Whether a recorded rule must take the n² form: a lane holds two or more zeros (or,
    under vmap, where the values cannot choose, always)."""
    if not isinstance(x, Traceable):
        return False
    counts = concrete(count_true(zero, axis=axis))
    return counts is None or bool(xp.max(counts) > 1)


def _cumprod_vjp(g, ans, x, axis):
    """Position k gets Σ_{i≥k} g_i·∏_{j≤i, j≠k} x_j: (Σ g_i·y_i)/x_k where x_k is not zero.
    At the first zero that product is the running product with the zero read as 1; past
    it every product holds that zero, so the sums give 0 and no division by zero is made."""
    zero, first = _zeros_and_first_zeros(x, axis)
    if zero is None:
        return _reverse_cumsum(g * ans, axis) / x
    if _needs_every_product(x, zero, axis):
        products = _products_skipping_each(x, axis)
        pulled = xp.sum(products * xp.moveaxis(g, axis, -1)[..., None, :], axis=-1)
        return xp.moveaxis(pulled, -1, axis)
    safe = xp.where(zero, 1, x)
    before = xp.where(zero, 0, _reverse_cumsum(g * ans, axis) / safe)
    skipping_first = cumprod.bind(xp.where(first, 1, x), axis=axis)
    return before + xp.where(first, _reverse_cumsum(g * skipping_first, axis), 0)


def _cumprod_jvp(t, ans, x, axis):
    """Σ_{k≤i} t_k·∏_{j≤i, j≠k} x_j, split as in the VJP (whose adjoint it is)."""
    zero, first = _zeros_and_first_zeros(x, axis)
    if zero is None:
        return ans * cumsum.bind(t / x, axis=axis)
    if _needs_every_product(x, zero, axis):
        products = _products_skipping_each(x, axis)
        pushed = xp.sum(products * xp.moveaxis(t, axis, -1)[..., :, None], axis=-2)
        return xp.moveaxis(pushed, -1, axis)
    safe = xp.where(zero, 1, x)
    nonzero_part = ans * cumsum.bind(xp.where(zero, 0, t / safe), axis=axis)
    skipping_first = cumprod.bind(xp.where(first, 1, x), axis=axis)
    return nonzero_part + skipping_first * cumsum.bind(xp.where(first, t, 0), axis=axis)


cumprod = register(
    Primitive(
        "cumprod",
        lambda x, *, axis: np.cumprod(x, axis=axis),
        (_flat_rule(_cumprod_vjp, reverse=True),),
        (_flat_rule(_cumprod_jvp, reverse=False),),
        kind="reduction",
        sample=lambda rng: [
            ((d.nonzero(rng, (3, 4)),), {"axis": 1}),
            ((d.nonzero(rng, (4, 2)),), {"axis": 0}),
            ((d.nonzero(rng, (2, 3)),), {"axis": None}),
        ],
        names=("cumprod", ("cumulative_prod", _prepare_cumulative("cumulative_prod"))),
        methods=("cumprod",),
        numpy=(np.cumprod,),
        signature=arguments.along_axis("cumprod", None),
        batch=batch_scan("cumprod"),
        implementations={"array_api": _standard_scan("cumulative_prod")},
        doc="Running products along ``axis`` (None: of the flattened tensor); the gradient "
        "is exact where entries are zero.",
    )
)


# --- spread: variance and standard deviation -----------------------------------------------


def _prepare_spread(op):
    """NumPy's ``f(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False)`` (dtype and
    out refused), with PyTorch's ``dim=``, ``keepdim=``, ``correction=`` (ddof) and
    ``unbiased=`` (ddof 1 or 0). The default stays NumPy's ddof=0 (PyTorch's is 1)."""

    def prepare(
        x,
        axis=None,
        dtype=None,
        out=None,
        ddof=None,
        keepdims=False,
        *,
        correction=None,
        unbiased=None,
        **aliases,
    ):
        if aliases:
            axis, keepdims = arguments.torch_names(op, axis, keepdims, aliases)
        if dtype is not None or out is not None:
            raise TypeError(f"{op}: dtype= and out= are not supported")
        given = [v for v in (ddof, correction, unbiased) if v is not None]
        if len(given) > 1:
            raise TypeError(f"{op}(): give one of ddof=, correction= and unbiased=")
        if unbiased is not None:
            ddof = int(bool(unbiased))
        elif correction is not None:
            ddof = correction
        axis = arguments.normalize_axis(axis, x.ndim, op)
        return (x,), {"axis": axis, "keepdims": bool(keepdims), "ddof": ddof or 0}

    prepare.__name__ = f"prepare_{op}"
    return prepare


def _centered(x, axis):
    return x - _mean(x, axis, keepdims=True)


def _per_degree_of_freedom(x, axis, ddof):
    """1 / (n - ddof): NaN when no degree of freedom is left (NumPy's value is then NaN or
    inf too, with a warning)."""
    freedom = _count(x.shape, axis) - ddof
    return 1 / freedom if freedom > 0 else math.nan


def _spread_forward(op):
    """NumPy's var or std: of complex input the real mean of |x - mean|², except under the
    complex step, where a complex value is a real one plus a step and the spread is the
    real function's analytic extension, built on (x - mean)²."""

    def forward(x, *, axis, keepdims, ddof):
        if np.iscomplexobj(x) and in_complex_step():
            squares = np.sum(_centered(x, axis) ** 2, axis=axis, keepdims=keepdims)
            variance = squares * _per_degree_of_freedom(x, axis, ddof)
            return variance if op == "var" else np.sqrt(variance)
        return getattr(np, op)(x, axis=axis, keepdims=keepdims, ddof=ddof)

    return forward


def _standard_spread(op):
    """var or std for other array libraries: the standard's (``correction`` is ddof) for
    real input; for complex input, which the standard's functions do not take, NumPy's
    definition spelled out: the real mean of |x - mean|²."""

    def forward(x, *, axis, keepdims, ddof):
        if not _is_complex(x):
            return getattr(xp, op)(x, axis=axis, keepdims=keepdims, correction=ddof)
        centered = _centered(x, axis)
        squares = xp.sum(xp.real(centered * xp.conj(centered)), axis=axis, keepdims=keepdims)
        variance = squares * _per_degree_of_freedom(x, axis, ddof)
        return variance if op == "var" else xp.sqrt(variance)

    forward.__name__ = forward.__qualname__ = f"standard_{op}"
    return forward


def _centered_conjugate(x, axis):
    """conj(x - mean): the slope of |x - mean|² is 2·conj(x - mean) (JAX's convention); for
    real x simply x - mean."""
    centered = _centered(x, axis)
    return xp.conj(centered) if _is_complex(x) else centered


def _spread_samples(rng):
    return [
        ((d.real(rng, (3, 4)),), {"axis": None, "keepdims": False, "ddof": 0}),
        ((d.real(rng, (3, 4)),), {"axis": (1,), "keepdims": False, "ddof": 1}),
        ((d.real(rng, (2, 3, 4)),), {"axis": (0, 2), "keepdims": True, "ddof": 2}),
        ((d.real(rng, (5,)),), {"axis": (0,), "keepdims": False, "ddof": 0.5}),
    ]


var = register(
    Primitive(
        "var",
        _spread_forward("var"),
        (
            lambda g, ans, x, *, axis, keepdims, ddof: (
                _keep(g, x.ndim, axis, keepdims)
                * _centered_conjugate(x, axis)
                * (2 * _per_degree_of_freedom(x, axis, ddof))
            ),
        ),
        (
            lambda t, ans, x, *, axis, keepdims, ddof: (
                _sum(t * _centered_conjugate(x, axis), axis, keepdims)
                * (2 * _per_degree_of_freedom(x, axis, ddof))
            ),
        ),
        kind="reduction",
        sample=_spread_samples,
        names=("var",),
        methods=("var",),
        numpy=(np.var,),
        signature=_prepare_spread("var"),
        batch=batch_reduction("var"),
        implementations={"array_api": _standard_spread("var")},
        doc="Variance over ``axis``: squared deviations from the mean summed and divided by "
        "n - ddof (NumPy's default ddof=0; PyTorch's correction=/unbiased= accepted). With "
        "no degree of freedom left the value is NumPy's inf or NaN and the gradient NaN.",
    )
)

std = register(
    Primitive(
        "std",
        _spread_forward("std"),
        (
            lambda g, ans, x, *, axis, keepdims, ddof: (
                _keep(g / ans, x.ndim, axis, keepdims)
                * _centered_conjugate(x, axis)
                * _per_degree_of_freedom(x, axis, ddof)
            ),
        ),
        (
            lambda t, ans, x, *, axis, keepdims, ddof: (
                _sum(t * _centered_conjugate(x, axis), axis, keepdims)
                / ans
                * _per_degree_of_freedom(x, axis, ddof)
            ),
        ),
        kind="reduction",
        sample=_spread_samples,
        names=("std",),
        methods=("std",),
        numpy=(np.std,),
        signature=_prepare_spread("std"),
        batch=batch_reduction("std"),
        implementations={"array_api": _standard_spread("std")},
        doc="Standard deviation over ``axis``: the square root of var (same ddof). Where it "
        "is 0 its gradient is undefined and comes out NaN or inf, as in PyTorch.",
    )
)


# --- reductions that skip NaN ---------------------------------------------------------------


def _present(x):
    """1 where an entry is a number, 0 where it is NaN (a constant: no gradient flows)."""
    return ~xp.isnan(raw(x))


def _nan_as_zero(x):
    return xp.where(xp.isnan(x), 0, x)


nansum = register(
    Primitive(
        "nansum",
        lambda x, *, axis, keepdims: np.nansum(x, axis=axis, keepdims=keepdims),
        (
            lambda g, ans, x, *, axis, keepdims: xp.where(
                _present(x), _spread(g, x, axis, keepdims), 0
            ),
        ),
        (
            lambda t, ans, x, *, axis, keepdims: xp.sum(
                xp.where(_present(x), t, 0), axis=axis, keepdims=keepdims
            ),
        ),
        kind="reduction",
        sample=_samples(d.real),
        names=("nansum",),
        methods=("nansum",),
        numpy=(np.nansum,),
        signature=arguments.reduction("nansum"),
        batch=batch_reduction("nansum"),
        implementations={
            "array_api": lambda x, *, axis, keepdims: xp.sum(
                _nan_as_zero(x), axis=axis, keepdims=keepdims
            )
        },
        doc="Sum over ``axis`` treating NaN as 0; NaN entries get gradient 0.",
    )
)


def _present_counts(x, axis):
    """How many numbers each reduction averages (at least 1, so an all-NaN slice, whose
    entries get no gradient anyway, divides nothing by zero)."""
    counts = count_true(_present(x), axis=axis, keepdims=True)
    return _astype(xp.maximum(counts, 1), raw(x).dtype)


def _standard_nanmean(x, *, axis, keepdims):
    """nanmean for other array libraries: NumPy's, the sum of the numbers over their count."""
    counts = count_true(_present(x), axis=axis, keepdims=keepdims)
    return xp.sum(_nan_as_zero(x), axis=axis, keepdims=keepdims) / xp.astype(counts, x.dtype)


nanmean = register(
    Primitive(
        "nanmean",
        lambda x, *, axis, keepdims: np.nanmean(x, axis=axis, keepdims=keepdims),
        (
            lambda g, ans, x, *, axis, keepdims: xp.where(
                _present(x), _keep(g, x.ndim, axis, keepdims) / _present_counts(x, axis), 0
            ),
        ),
        (
            lambda t, ans, x, *, axis, keepdims: xp.sum(
                xp.where(_present(x), t, 0) / _present_counts(x, axis),
                axis=axis,
                keepdims=keepdims,
            ),
        ),
        kind="reduction",
        sample=_samples(d.real),
        names=("nanmean",),
        methods=("nanmean",),
        numpy=(np.nanmean,),
        signature=arguments.reduction("nanmean"),
        batch=batch_reduction("nanmean"),
        implementations={"array_api": _standard_nanmean},
        doc="Mean over ``axis`` of the entries that are not NaN; NaN entries get gradient 0.",
    )
)


# --- weighted average ------------------------------------------------------------------------


def _prepare_average(x, axis=None, weights=None, returned=False, *, keepdims=False):
    """np.average's call. Weights of another shape than ``x`` follow NumPy's rule (the
    shape of ``x`` along ``axis``) and are broadcast to ``x``'s shape on the graph, so
    their gradient is summed back. ``returned=True`` is not supported."""
    if returned:
        raise TypeError("average: returned=True is not supported; divide by weights.sum()")
    axis = arguments.normalize_axis(axis, x.ndim, "average")
    if weights is None:
        return (x,), {"axis": axis, "keepdims": bool(keepdims)}
    if not isinstance(weights, Traceable) and not hasattr(weights, "__array_namespace__"):
        weights = np.asarray(weights)
    if weights.shape != x.shape:
        if axis is None:
            raise TypeError(
                f"average: weights of shape {weights.shape} differ from the tensor's shape "
                f"{x.shape}, so axis must be given"
            )
        along = tuple(x.shape[a] for a in axis)
        if weights.shape != along:
            raise ShapeError(
                f"average: weights of shape {weights.shape} do not match shape {along} of a "
                f"tensor of shape {x.shape} along axis {axis}"
            )
        aligned = tuple(n if a in axis else 1 for a, n in enumerate(x.shape))
        weights = xp.broadcast_to(xp.reshape(weights, aligned), x.shape)
    return (x, weights), {"axis": axis, "keepdims": bool(keepdims)}


def _weight_sum(weights, axis):
    return _sum(weights, axis, keepdims=True)


def _average_vjp_x(g, ans, x, weights=None, *, axis, keepdims):
    if weights is None:
        return _spread(g / _count(x.shape, axis), x, axis, keepdims)
    return _keep(g, x.ndim, axis, keepdims) * (weights / _weight_sum(weights, axis))


def _average_jvp_x(t, ans, x, weights=None, *, axis, keepdims):
    if weights is None:
        return _mean(t, axis, keepdims)
    share = weights / _weight_sum(weights, axis)
    return _sum(t * share, axis, keepdims)


def _deviation_share(ans, x, weights, axis, keepdims):
    """∂average/∂weights: each entry's deviation from the average over the weights' sum."""
    return (x - _keep(ans, x.ndim, axis, keepdims)) / _weight_sum(weights, axis)


def _batch_average(batched, x, weights=None, *, axis, keepdims):
    """Give both operands the batch axis (one may lack it), shift the axes, call once."""
    if weights is not None:
        if not batched[0]:
            x = xp.broadcast_to(x, weights.shape)
        elif not batched[1]:
            weights = xp.broadcast_to(weights, x.shape)
    shifted = tuple(range(1, x.ndim)) if axis is None else tuple(a + 1 for a in axis)
    operands = (x,) if weights is None else (x, weights)
    return average.bind(*operands, axis=shifted, keepdims=keepdims)


def _average_samples(rng):
    return [
        ((d.real(rng, (3, 4)),), {"axis": None, "keepdims": False}),
        ((d.real(rng, (3, 4)), d.positive(rng, (3, 4))), {"axis": (1,), "keepdims": False}),
        ((d.real(rng, (2, 3, 4)), d.positive(rng, (2, 3, 4))), {"axis": None, "keepdims": False}),
        ((d.real(rng, (2, 3, 4)), d.nonzero(rng, (2, 3, 4))), {"axis": (0, 2), "keepdims": True}),
    ]


def _standard_average(x, weights=None, *, axis, keepdims):
    """average for other array libraries: NumPy's sum(x·w) / sum(w) (the mean unweighted)."""
    if weights is None:
        return xp.sum(x, axis=axis, keepdims=keepdims) / _count(x.shape, axis)
    total = xp.sum(x * weights, axis=axis, keepdims=keepdims)
    return total / xp.sum(weights, axis=axis, keepdims=keepdims)


average = register(
    Primitive(
        "average",
        lambda x, weights=None, *, axis, keepdims: np.average(
            x, axis=axis, weights=weights, keepdims=keepdims
        ),
        (
            _average_vjp_x,
            lambda g, ans, x, weights, *, axis, keepdims: (
                _keep(g, x.ndim, axis, keepdims) * _deviation_share(ans, x, weights, axis, keepdims)
            ),
        ),
        (
            _average_jvp_x,
            lambda t, ans, x, weights, *, axis, keepdims: xp.sum(
                t * _deviation_share(ans, x, weights, axis, keepdims), axis=axis, keepdims=keepdims
            ),
        ),
        kind="reduction",
        sample=_average_samples,
        names=("average",),
        numpy=(np.average,),
        signature=_prepare_average,
        batch=_batch_average,
        implementations={"array_api": _standard_average},
        doc="Weighted mean over ``axis``: sum(x·w) / sum(w), differentiable in x and in the "
        "weights (without weights, the mean). returned=True is not supported.",
    )
)
