"""Order statistics: sort, argsort, partition, median, quantile (and percentile).

Layer: ops (imports numpy, chainrule.core, chainrule.errors and the ops helpers).

Every forward on NumPy arrays is NumPy's own function, so values are bit-equal to
NumPy's; other array libraries get the Array API standard's sort and argsort, and median
and quantile composed from them (partition has no standard spelling: it runs on NumPy
and CuPy only). The rules are written with the array namespace ``xp``. The
gradient of a reordering (sort, partition) is the reordering run backwards: each
output entry passes its cotangent to the input entry it came from. Median and
quantile are weighted sums of at most two order statistics, so their gradient is
those weights put back at the entries holding the statistics. The order is locally
constant, so the weights are constants and second derivatives are exact (zero).

Ties: entries with equal values are ranked in order of position (a stable sort), and a
statistic's weight goes to the entry of that rank; the value does not depend on the
choice. Complex inputs are refused: NumPy orders them lexicographically, which is not
an order any derivative is defined by.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..core import backend
from ..core.backend import xp
from ..core.primitive import Primitive, Traceable, composite, concrete, raw, register
from ..errors import ShapeError
from . import arguments
from . import domains as d
from .reductions import _reshape, batch_reduction, batch_scan, count_true, running_count


def _real_only(op, forward):
    """``forward``, refusing complex input (NumPy would order it lexicographically)."""

    def checked(x, **params):
        if backend.is_complex(x):
            raise TypeError(f"{op}: complex inputs are not supported (they have no order)")
        return forward(x, **params)

    return checked


def _lanes(x, axis):
    """``x`` as it is and its axis, or flattened with axis 0 when ``axis`` is None."""
    return (_reshape(x, (-1,)), 0) if axis is None else (x, axis)


def _along(index, axis, shape):
    """An index tuple taking ``index`` (an integer array of ``shape``) along ``axis``:
    open ranges on the other axes, so ``x[_along(i, a, i.shape)]`` is take_along_axis."""
    grids = list(np.ogrid[tuple(slice(n) for n in shape)])
    grids[axis] = index
    return tuple(grids)


def _take_along(values, index, axis):
    """``values`` taken at ``index`` along ``axis``: by indexing where the index is NumPy's
    (faster than np.take_along_axis) or traced (under vmap), else by the standard's
    take_along_axis."""
    if type(index) is np.ndarray or isinstance(index, Traceable):
        return values[_along(index, axis, index.shape)]
    return xp.take_along_axis(values, index, axis=axis)


def _inverse(permutation, axis):
    """The inverse of a permutation along ``axis`` (linear time, no sort, on NumPy; an
    argsort elsewhere, and under vmap, where the permutation is traced)."""
    if type(concrete(permutation)) is not np.ndarray:
        return xp.argsort(permutation, axis=axis)
    inverse = np.empty_like(permutation)
    positions = np.arange(permutation.shape[axis]).reshape(
        tuple(-1 if a == axis else 1 for a in range(permutation.ndim))
    )
    np.put_along_axis(inverse, permutation, positions, axis=axis)
    return inverse


def _stable_order(x, axis):
    return xp.argsort(raw(x), axis=axis, stable=True)


def _sort_sources(x, ans, axis):
    """For each entry of sort's result, the position along ``axis`` of the entry of ``x`` it
    holds: tied entries keep their order (a stable argsort, which costs about four times
    NumPy's default one, is run only when the sorted values show a tie)."""
    values = concrete(ans)
    if values is None:
        return _stable_order(x, axis)
    ordered = xp.moveaxis(values, axis, -1)
    if xp.any(ordered[..., 1:] == ordered[..., :-1]):
        return _stable_order(x, axis)
    return xp.argsort(raw(x), axis=axis, stable=False)


def _partition_sources(x, ans, axis):
    """For each entry of partition's result, the position along ``axis`` of the entry of
    ``x`` it holds: the entries of equal rank in stable sorts of both."""
    by_ans = _stable_order(ans, axis)
    return xp.take_along_axis(_stable_order(x, axis), _inverse(by_ans, axis), axis=axis)


def _reordering_rules(sources):
    """The VJP and JVP of a reordering whose entries come from ``sources(x, ans, axis)``."""

    def vjp(g, ans, x, *, axis, **params):
        """Each output entry's cotangent goes back to the input entry it came from."""
        lanes, ax = _lanes(x, axis)
        destination = _inverse(sources(lanes, ans, ax), ax)
        return _reshape(_take_along(g, destination, ax), x.shape)

    def jvp(t, ans, x, *, axis, **params):
        lanes, ax = _lanes(x, axis)
        return _take_along(_lanes(t, axis)[0], sources(lanes, ans, ax), ax)

    return (vjp,), (jvp,)


def _prepare_sort(op):
    """``f(x, axis=-1, kind=None, order=None, *, stable=None)`` (or ``dim=``); None sorts the
    flattened tensor. ``kind`` is NumPy's choice of algorithm, ``stable=True`` (NumPy's and
    the Array API standard's) asks for kind "stable"; ``order`` (structured arrays) and the
    standard's ``descending=True`` are refused."""

    def prepare(x, axis=-1, kind=None, order=None, *, stable=None, descending=False, **aliases):
        if aliases:
            axis, _ = arguments.torch_names(op, None if "dim" in aliases else axis, False, aliases)
        if order is not None:
            raise TypeError(f"{op}: order= (fields of structured arrays) is not supported")
        if descending:
            raise TypeError(f"{op}: descending=True is not supported; use {op}(-x)")
        if stable is not None:
            if kind is not None:
                raise ValueError(f"{op}: give kind= or stable=, not both")
            kind = "stable" if stable else None
        axis = None if axis is None else arguments.one_axis(axis, x.ndim, op)
        return (x,), {"axis": axis, "kind": kind}

    prepare.__name__ = f"prepare_{op}"
    return prepare


def _sort_samples(rng):
    return [
        ((d.real(rng, (3, 5)),), {"axis": 1, "kind": None}),
        ((d.real(rng, (4, 3)),), {"axis": 0, "kind": "stable"}),
        ((d.real(rng, (2, 3)),), {"axis": None, "kind": None}),
        ((d.real(rng, (2, 3, 4)),), {"axis": 2, "kind": None}),
    ]


def _standard_order(name):
    """sort or argsort for other array libraries: the standard's, stable for NumPy's
    stable kinds, of the flattened array when ``axis`` is None."""

    def forward(x, *, axis, kind):
        if axis is None:
            x, axis = _reshape(x, (-1,)), 0
        return getattr(xp, name)(x, axis=axis, stable=kind in ("stable", "mergesort"))

    forward.__name__ = forward.__qualname__ = f"standard_{name}"
    return forward


class SortResult(NamedTuple):
    """What ``Tensor.sort`` returns, as PyTorch's does: the sorted values and their indices."""

    values: Any
    indices: Any


def _sort_with_indices(x, dim=-1, descending=False, stable=False):
    """PyTorch's ``Tensor.sort(dim=-1, descending=False, stable=False)``: (values, indices).
    Descending order sorts the negated tensor, so ties keep their order when stable."""
    axis = arguments.one_axis(dim, x.ndim, "sort")
    kind = "stable" if stable else None
    keys = -x if descending else x
    values = sort.bind(keys, axis=axis, kind=kind)
    indices = argsort.bind(keys, axis=axis, kind=kind)
    return SortResult(-values if descending else values, indices)


sort = register(
    Primitive(
        "sort",
        _real_only("sort", lambda x, *, axis, kind: np.sort(x, axis=axis, kind=kind)),
        *_reordering_rules(_sort_sources),
        kind="reduction",
        sample=_sort_samples,
        names=("sort",),
        methods=(("sort", composite(_sort_with_indices)),),
        numpy=(np.sort,),
        signature=_prepare_sort("sort"),
        batch=batch_scan("sort"),
        implementations={"array_api": _real_only("sort", _standard_order("sort"))},
        doc="The entries sorted along ``axis`` (None: flattened); the gradient goes back "
        "to where each entry came from. The method ``Tensor.sort`` is PyTorch's: it returns "
        "(values, indices).",
    )
)

argsort = register(
    Primitive(
        "argsort",
        _real_only("argsort", lambda x, *, axis, kind: np.argsort(x, axis=axis, kind=kind)),
        kind="reduction",
        sample=_sort_samples,
        names=("argsort",),
        methods=("argsort",),
        numpy=(np.argsort,),
        signature=_prepare_sort("argsort"),
        batch=batch_scan("argsort"),
        implementations={"array_api": _real_only("argsort", _standard_order("argsort"))},
        doc="The positions that sort ``x`` along ``axis``; no gradient.",
    )
)


def _prepare_partition(x, kth, axis=-1, kind="introselect", order=None):
    """np.partition's call: ``kth`` one position or several, along ``axis`` (None: flattened)."""
    if order is not None:
        raise TypeError("partition: order= (fields of structured arrays) is not supported")
    axis = None if axis is None else arguments.one_axis(axis, x.ndim, "partition")
    length = x.size if axis is None else x.shape[axis]
    positions = (kth,) if np.ndim(kth) == 0 else tuple(np.ravel(kth))
    for k in positions:
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
            raise TypeError(f"partition: kth must be integers, got {kth!r}")
        if not -length <= k < length:
            raise ShapeError(f"partition: kth={k} is out of range for an axis of length {length}")
    normalized = tuple(int(k) % length for k in positions)
    return (x,), {"kth": normalized[0] if np.ndim(kth) == 0 else normalized, "axis": axis}


partition = register(
    Primitive(
        "partition",
        _real_only("partition", lambda x, *, kth, axis: np.partition(x, kth, axis=axis)),
        *_reordering_rules(_partition_sources),
        kind="reduction",
        sample=lambda rng: [
            ((d.real(rng, (7,)),), {"kth": 3, "axis": 0}),
            ((d.real(rng, (3, 6)),), {"kth": (1, 4), "axis": 1}),
            ((d.real(rng, (5, 2)),), {"kth": 0, "axis": 0}),
            ((d.real(rng, (2, 3)),), {"kth": 5, "axis": None}),
        ],
        names=("partition",),
        numpy=(np.partition,),
        signature=_prepare_partition,
        batch=batch_scan("partition"),
        portable=False,
        implementations={"cupy": _real_only("partition", backend.library_function("partition"))},
        doc="np.partition: the entry of rank ``kth`` in its sorted place, smaller ones "
        "before it, larger after; the gradient goes back to where each entry came from.",
    )
)


# --- median and quantiles: weights on two order statistics ----------------------------


def _move_last(x, axes, leading=0):
    """``x`` with ``axes`` (after ``leading`` axes that stay first) moved, in order, after
    the others; a transpose on NumPy arrays (np.moveaxis costs several times more)."""
    if type(x) is np.ndarray:
        shifted = [leading + a for a in axes]
        return x.transpose([a for a in range(x.ndim) if a not in shifted] + shifted)
    end = x.ndim
    return xp.moveaxis(x, tuple(leading + a for a in axes), tuple(range(end - len(axes), end)))


def _move_back(x, axes, leading=0):
    """The inverse of ``_move_last(x, axes, leading)``."""
    if type(x) is np.ndarray:
        shifted = [leading + a for a in axes]
        order = [a for a in range(x.ndim) if a not in shifted] + shifted
        return x.transpose(np.argsort(order))
    end = x.ndim
    return xp.moveaxis(x, tuple(range(end - len(axes), end)), tuple(leading + a for a in axes))


def _reduced_lanes(x, axis):
    """``x`` with the axes reduced over (``axis``: None or a tuple) moved last and merged
    into one, shape (kept..., n); and its shape before they were merged."""
    axes = tuple(range(x.ndim)) if axis is None else axis
    moved = _move_last(x, axes)
    return _reshape(moved, moved.shape[: x.ndim - len(axes)] + (-1,)), moved.shape


def _reduced_shape(shape, axis, keepdims):
    """The shape of a reduction of ``shape`` over ``axis`` (None or a tuple)."""
    axes = range(len(shape)) if axis is None else axis
    if keepdims:
        return tuple(1 if a in axes else n for a, n in enumerate(shape))
    return tuple(n for a, n in enumerate(shape) if a not in axes)


def _like(values, like):
    """The NumPy array ``values`` (positions, weights) in the array library and on the
    device of the array behind ``like``, keeping its dtype."""
    space = backend.array_namespace(like)
    if space is np:
        return values
    return space.asarray(values, device=backend.native_device(like))


def _order_statistics(lanes, ranks):
    """The entries of rank ``ranks`` (NumPy ints, shape (Q,)) in each lane of ``lanes``
    (shape (..., n)), shape (..., Q): NumPy partitions (linear time), other libraries sort."""
    if backend.array_namespace(lanes) is np:
        return np.partition(lanes, np.unique(ranks), axis=-1)[..., ranks]
    return xp.take(xp.sort(lanes, axis=-1), _like(ranks, lanes), axis=-1)


def _rank_holders(lanes, ranks):
    """For each rank in ``ranks`` (ints, shape (Q,)), a mask of the entry holding that rank
    in each lane of ``lanes`` (shape (..., n)); result (Q, ..., n). Among tied entries the
    ranks go by position. Linear time: a partition finds each rank's value, then tied
    entries, if any, are counted off."""
    values = xp.moveaxis(_order_statistics(lanes, ranks), -1, 0)[..., None]
    equal = lanes == values
    counts = concrete(count_true(equal, axis=-1))
    if counts is not None and xp.all(counts == 1):  # no ties: the equal entry is the one
        return equal
    below = count_true(lanes < values, axis=-1, keepdims=True)
    wanted = _reshape(_like(ranks, lanes), (-1,) + (1,) * lanes.ndim) - below + 1
    return equal & (running_count(equal, axis=-1) == wanted)


def _statistic_weights(x, axis, lower, upper, gamma):
    """Weights (1 - gamma) on the entry of rank ``lower`` and gamma on rank ``upper``, in
    each reduction over ``axis`` (None or a tuple). ``lower``, ``upper`` and ``gamma`` have
    one value per quantile (shape q.shape); the result has shape q.shape + x.shape, in
    x's dtype."""
    xv = raw(x)
    lanes, moved_shape = _reduced_lanes(xv, axis)
    count = np.size(gamma)
    ranks = np.concatenate([np.ravel(lower), np.ravel(upper)]).astype(np.intp)
    held = _rank_holders(lanes, ranks)
    share = np.ravel(gamma).reshape((-1,) + (1,) * lanes.ndim)
    if type(held) is np.ndarray:
        weights = held[:count] * (1 - share) + held[count:] * share
    else:  # other libraries do not multiply booleans by numbers
        share = _like(share, lanes)
        weights = xp.where(held[:count, ...], 1 - share, 0) + xp.where(held[count:, ...], share, 0)
    weights = _reshape(weights, (count, *moved_shape))
    weights = _move_back(weights, tuple(range(xv.ndim)) if axis is None else axis, leading=1)
    weights = _reshape(weights, np.shape(gamma) + xv.shape)
    return xp.astype(weights, xv.dtype, copy=False)


def _reduced_count(x, axis):
    return x.size if axis is None else math.prod(x.shape[a] for a in axis)


def _keep_reduced(g, ndim, axis, keepdims, leading=0):
    """A reduced result shaped to broadcast against the input, after ``leading`` axes
    (the quantiles' axes, which come first)."""
    if keepdims:
        return g
    if axis is None:
        return _reshape(g, g.shape + (1,) * ndim) if leading else g
    shape = list(g.shape)
    for a in sorted(axis):
        shape.insert(a + leading, 1)
    return _reshape(g, tuple(shape))


def _median_weights(x, axis):
    n = _reduced_count(x, axis)
    return _statistic_weights(x, axis, (n - 1) // 2, n // 2, 0.0 if n % 2 else 0.5)


def _prepare_median(x, axis=None, out=None, overwrite_input=False, keepdims=False, **aliases):
    """np.median's call (``out`` refused); ``dim=``/``keepdim=`` accepted."""
    if aliases:
        axis, keepdims = arguments.torch_names("median", axis, keepdims, aliases)
    if out is not None:
        raise TypeError("median: out= is not supported (results are new tensors)")
    axis = arguments.normalize_axis(axis, x.ndim, "median")
    if _reduced_count(x, axis) == 0:
        raise ShapeError(f"median: zero-size reduction of a tensor of shape {x.shape}")
    return (x,), {"axis": axis, "keepdims": bool(keepdims)}


def _reduction_samples(rng):
    return [
        ((d.real(rng, (3, 4)),), {"axis": None, "keepdims": False}),
        ((d.real(rng, (3, 5)),), {"axis": (1,), "keepdims": False}),
        ((d.real(rng, (2, 3, 4)),), {"axis": (0, 2), "keepdims": True}),
        ((d.real(rng, (5,)),), {"axis": (0,), "keepdims": False}),
    ]


def _standard_median(x, *, axis, keepdims):
    """median for other array libraries: NumPy's mean of the two middle order statistics
    (the same one twice for an odd count), from a sort."""
    n = _reduced_count(x, axis)
    lanes, _ = _reduced_lanes(x, axis)
    middle = _order_statistics(lanes, np.array([(n - 1) // 2, n // 2]))
    middle_value = (middle[..., 0] + middle[..., 1]) / 2
    return _reshape(middle_value, _reduced_shape(x.shape, axis, keepdims))


median = register(
    Primitive(
        "median",
        _real_only(
            "median", lambda x, *, axis, keepdims: np.median(x, axis=axis, keepdims=keepdims)
        ),
        (
            lambda g, ans, x, *, axis, keepdims: (
                _keep_reduced(g, x.ndim, axis, keepdims) * _median_weights(x, axis)
            ),
        ),
        (
            lambda t, ans, x, *, axis, keepdims: xp.sum(
                t * _median_weights(x, axis), axis=axis, keepdims=keepdims
            ),
        ),
        kind="reduction",
        sample=_reduction_samples,
        names=("median",),
        numpy=(np.median,),
        signature=_prepare_median,
        batch=batch_reduction("median"),
        implementations={"array_api": _real_only("median", _standard_median)},
        doc="The middle entry over ``axis`` (the mean of the two middle ones for an even "
        "count); its gradient goes to those entries (ties ranked by position).",
    )
)


def _virtual_ranks(q, n):
    """NumPy's 'linear' method: q·(n-1) is a virtual rank between two order statistics,
    ``lower`` and ``upper``, weighted 1 - gamma and gamma."""
    virtual = np.asarray(q) * (n - 1)
    lower = np.floor(virtual)
    upper = np.minimum(lower + 1, n - 1)
    return lower, upper, virtual - lower


def _quantile_weights(x, q, axis):
    return _statistic_weights(x, axis, *_virtual_ranks(q, _reduced_count(x, axis)))


def _standard_quantile(x, *, q, axis, keepdims):
    """quantile for other array libraries: NumPy's interpolation between the two order
    statistics (its lerp, exact at both ends), from a sort. A Python number ``q`` keeps
    the dtype of ``x``, as in NumPy."""
    lower, upper, gamma = _virtual_ranks(q, _reduced_count(x, axis))
    lanes, _ = _reduced_lanes(x, axis)
    ranks = np.concatenate([np.ravel(lower), np.ravel(upper)]).astype(np.intp)
    statistics = _order_statistics(lanes, ranks)
    below, above = statistics[..., : np.size(gamma)], statistics[..., np.size(gamma) :]
    rise = above - below
    if type(q) is float:
        share = float(gamma)
        values = above - rise * (1 - share) if share >= 0.5 else below + rise * share
    else:
        share = _like(np.ravel(gamma), x)
        values = xp.where(share >= 0.5, above - rise * (1 - share), below + rise * share)
    values = xp.moveaxis(values, -1, 0)
    return _reshape(values, np.shape(q) + _reduced_shape(x.shape, axis, keepdims))


def _quantile_vjp(g, ans, x, *, q, axis, keepdims):
    leading = np.ndim(q)
    weights = _quantile_weights(x, q, axis)
    spread = _keep_reduced(g, x.ndim, axis, keepdims, leading) * weights
    grad = xp.sum(spread, axis=tuple(range(leading))) if leading else spread
    return grad if grad.dtype == raw(x).dtype else xp.astype(grad, raw(x).dtype)


def _quantile_jvp(t, ans, x, *, q, axis, keepdims):
    leading = np.ndim(q)
    weights = _quantile_weights(x, q, axis)
    reduced = None if axis is None else tuple(a + leading for a in axis)
    if reduced is None:
        reduced = tuple(range(leading, leading + x.ndim))
    out = xp.sum(t * weights, axis=reduced, keepdims=keepdims)
    return out if out.dtype == raw(ans).dtype else xp.astype(out, raw(ans).dtype)


def _prepare_quantile_of(op, scale):
    """np.quantile's (``scale`` 1) or np.percentile's (100) call, 'linear' method only;
    PyTorch's ``dim=``, ``keepdim=`` and ``interpolation='linear'`` accepted."""

    def prepare(
        x,
        q,
        axis=None,
        out=None,
        overwrite_input=False,
        method="linear",
        keepdims=False,
        *,
        interpolation=None,
        **aliases,
    ):
        if aliases:
            axis, keepdims = arguments.torch_names(op, axis, keepdims, aliases)
        if out is not None:
            raise TypeError(f"{op}: out= is not supported (results are new tensors)")
        method = interpolation if interpolation is not None else method
        if method != "linear":
            raise ValueError(f"{op}: only method='linear' (NumPy's default) is supported")
        weak = type(q) in (float, int)
        q = np.asanyarray(raw(q))
        if scale != 1:
            q = np.asanyarray(np.true_divide(q, scale))
        if q.dtype.kind not in "iuf" or np.any((q < 0) | (q > 1)) or np.any(np.isnan(q)):
            raise ValueError(f"{op}: q must be numbers in [0, {scale}], got {q * scale}")
        axis = arguments.normalize_axis(axis, x.ndim, op)
        if _reduced_count(x, axis) == 0:
            raise ShapeError(f"{op}: zero-size reduction of a tensor of shape {x.shape}")
        if weak:  # a Python number keeps NumPy's weak promotion (float32 stays float32)
            q = float(q)
        return (x,), {"q": q, "axis": axis, "keepdims": bool(keepdims)}

    prepare.__name__ = f"prepare_{op}"
    return prepare


def _batch_quantile(batched, x, *, q, axis, keepdims):
    """Reduce the shifted axes, then move the batch axis in front of the quantiles' axes."""
    shifted = tuple(range(1, x.ndim)) if axis is None else tuple(a + 1 for a in axis)
    out = quantile.bind(x, q=q, axis=shifted, keepdims=keepdims)
    leading = np.ndim(q)
    return xp.moveaxis(out, leading, 0) if leading else out


quantile = register(
    Primitive(
        "quantile",
        _real_only(
            "quantile",
            lambda x, *, q, axis, keepdims: np.quantile(x, q, axis=axis, keepdims=keepdims),
        ),
        (_quantile_vjp,),
        (_quantile_jvp,),
        kind="reduction",
        sample=lambda rng: [
            ((d.real(rng, (3, 4)),), {"q": 0.3, "axis": None, "keepdims": False}),
            (
                (d.real(rng, (3, 5)),),
                {"q": np.array([0.0, 0.25, 1.0]), "axis": (1,), "keepdims": False},
            ),
            (
                (d.real(rng, (2, 3, 4)),),
                {"q": np.array([[0.1], [0.9]]), "axis": (0, 2), "keepdims": True},
            ),
            ((d.real(rng, (6,)),), {"q": 0.5, "axis": (0,), "keepdims": False}),
        ],
        names=("quantile", ("percentile", _prepare_quantile_of("percentile", 100))),
        methods=("quantile",),
        numpy=(np.quantile, (np.percentile, _prepare_quantile_of("percentile", 100))),
        signature=_prepare_quantile_of("quantile", 1),
        batch=_batch_quantile,
        implementations={"array_api": _real_only("quantile", _standard_quantile)},
        doc="The q-th quantile over ``axis`` by NumPy's 'linear' method (q a number or an "
        "array, whose axes come first); the gradient goes to the two order statistics "
        "interpolated, weighted as they are (ties ranked by position).",
    )
)
