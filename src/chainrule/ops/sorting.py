"""Order statistics: sort, argsort, partition, median, quantile (and percentile).

Layer: ops (imports numpy, chainrule.core, chainrule.errors and the ops helpers).

Every forward is NumPy's own function, so values are bit-equal to NumPy's. The
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

from typing import Any, NamedTuple

import numpy as np

from ..core.primitive import Primitive, composite, concrete, raw, register
from ..errors import ShapeError
from . import arguments
from . import domains as d
from .reductions import batch_reduction, batch_scan


def _real_only(op, forward):
    """``forward``, refusing complex input (NumPy would order it lexicographically)."""

    def checked(x, **params):
        if np.iscomplexobj(x):
            raise TypeError(f"{op}: complex inputs are not supported (they have no order)")
        return forward(x, **params)

    return checked


def _lanes(x, axis):
    """``x`` as it is and its axis, or flattened with axis 0 when ``axis`` is None."""
    return (x.reshape(-1), 0) if axis is None else (x, axis)


def _along(index, axis, shape):
    """An index tuple taking ``index`` (an integer array of ``shape``) along ``axis``:
    open ranges on the other axes, so ``x[_along(i, a, i.shape)]`` is take_along_axis."""
    grids = list(np.ogrid[tuple(slice(n) for n in shape)])
    grids[axis] = index
    return tuple(grids)


def _inverse(permutation, axis):
    """The inverse of a permutation along ``axis`` (linear time, no sort; under vmap, where
    the permutation is traced, an argsort)."""
    if concrete(permutation) is None:
        return np.argsort(permutation, axis=axis)
    inverse = np.empty_like(permutation)
    positions = np.arange(permutation.shape[axis]).reshape(
        tuple(-1 if a == axis else 1 for a in range(permutation.ndim))
    )
    np.put_along_axis(inverse, permutation, positions, axis=axis)
    return inverse


def _stable_order(x, axis):
    return np.argsort(raw(x), axis=axis, kind="stable")


def _sort_sources(x, ans, axis):
    """For each entry of sort's result, the position along ``axis`` of the entry of ``x`` it
    holds: tied entries keep their order (a stable argsort, which costs about four times
    NumPy's default one, is run only when the sorted values show a tie)."""
    values = concrete(ans)
    if values is None:
        return _stable_order(x, axis)
    ordered = np.moveaxis(values, axis, -1)
    if np.any(ordered[..., 1:] == ordered[..., :-1]):
        return _stable_order(x, axis)
    return np.argsort(raw(x), axis=axis)


def _partition_sources(x, ans, axis):
    """For each entry of partition's result, the position along ``axis`` of the entry of
    ``x`` it holds: the entries of equal rank in stable sorts of both."""
    by_ans = _stable_order(ans, axis)
    return np.take_along_axis(_stable_order(x, axis), _inverse(by_ans, axis), axis=axis)


def _reordering_rules(sources):
    """The VJP and JVP of a reordering whose entries come from ``sources(x, ans, axis)``."""

    def vjp(g, ans, x, *, axis, **params):
        """Each output entry's cotangent goes back to the input entry it came from."""
        lanes, ax = _lanes(x, axis)
        destination = _inverse(sources(lanes, ans, ax), ax)
        return g[_along(destination, ax, destination.shape)].reshape(x.shape)

    def jvp(t, ans, x, *, axis, **params):
        lanes, ax = _lanes(x, axis)
        source = sources(lanes, ans, ax)
        return _lanes(t, axis)[0][_along(source, ax, source.shape)]

    return (vjp,), (jvp,)


def _prepare_sort(op):
    """``f(x, axis=-1, kind=None, order=None)`` (or ``dim=``); None sorts the flattened
    tensor. ``kind`` is NumPy's choice of algorithm; ``order`` (structured arrays) is refused.
    """

    def prepare(x, axis=-1, kind=None, order=None, **aliases):
        if aliases:
            axis, _ = arguments.torch_names(op, None if "dim" in aliases else axis, False, aliases)
        if order is not None:
            raise TypeError(f"{op}: order= (fields of structured arrays) is not supported")
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
        doc="np.partition: the entry of rank ``kth`` in its sorted place, smaller ones "
        "before it, larger after; the gradient goes back to where each entry came from.",
    )
)


# --- median and quantiles: weights on two order statistics ----------------------------


def _rank_holders(lanes, ranks):
    """For each rank in ``ranks`` (ints, shape (Q,)), a mask of the entry holding that rank
    in each lane of ``lanes`` (shape (..., n)); result (Q, ..., n). Among tied entries the
    ranks go by position. Linear time: a partition finds each rank's value, then tied
    entries, if any, are counted off."""
    values = np.partition(lanes, np.unique(ranks), axis=-1)[..., ranks]
    values = np.moveaxis(values, -1, 0)[..., None]
    equal = lanes == values
    counts = concrete(np.sum(equal, axis=-1))
    if counts is not None and np.all(counts == 1):  # no ties: the equal entry is the one
        return equal
    below = np.sum(lanes < values, axis=-1, keepdims=True)
    wanted = ranks.reshape((-1,) + (1,) * lanes.ndim) - below + 1
    return equal & (np.cumsum(equal, axis=-1) == wanted)


def _statistic_weights(x, axis, lower, upper, gamma):
    """Weights (1 - gamma) on the entry of rank ``lower`` and gamma on rank ``upper``, in
    each reduction over ``axis`` (None or a tuple). ``lower``, ``upper`` and ``gamma`` have
    one value per quantile (shape q.shape); the result has shape q.shape + x.shape, in
    x's dtype."""
    xv = raw(x)
    axes = tuple(range(xv.ndim)) if axis is None else axis
    kept = [a for a in range(xv.ndim) if a not in axes]
    moved = np.transpose(xv, kept + list(axes))
    lanes = moved.reshape(moved.shape[: len(kept)] + (-1,))
    count = np.size(gamma)
    ranks = np.concatenate([np.ravel(lower), np.ravel(upper)]).astype(np.intp)
    held = _rank_holders(lanes, ranks)
    share = np.ravel(gamma).reshape((-1,) + (1,) * lanes.ndim)
    weights = held[:count] * (1 - share) + held[count:] * share
    weights = weights.reshape((count, *moved.shape))
    back = [0, *(1 + a for a in np.argsort(kept + list(axes)))]
    weights = np.transpose(weights, back).reshape(np.shape(gamma) + xv.shape)
    return weights.astype(xv.dtype, copy=False)


def _reduced_count(x, axis):
    return x.size if axis is None else int(np.prod([x.shape[a] for a in axis]))


def _keep_reduced(g, ndim, axis, keepdims, leading=0):
    """A reduced result shaped to broadcast against the input, after ``leading`` axes
    (the quantiles' axes, which come first)."""
    if keepdims:
        return g
    if axis is None:
        return g.reshape(g.shape + (1,) * ndim) if leading else g
    shape = list(g.shape)
    for a in sorted(axis):
        shape.insert(a + leading, 1)
    return g.reshape(tuple(shape))


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
            lambda t, ans, x, *, axis, keepdims: np.sum(
                t * _median_weights(x, axis), axis=axis, keepdims=keepdims
            ),
        ),
        kind="reduction",
        sample=_reduction_samples,
        names=("median",),
        numpy=(np.median,),
        signature=_prepare_median,
        batch=batch_reduction("median"),
        doc="The middle entry over ``axis`` (the mean of the two middle ones for an even "
        "count); its gradient goes to those entries (ties ranked by position).",
    )
)


def _quantile_weights(x, q, axis):
    """NumPy's 'linear' method: q·(n-1) is a virtual rank between two order statistics."""
    n = _reduced_count(x, axis)
    virtual = np.asarray(q) * (n - 1)
    lower = np.floor(virtual)
    upper = np.minimum(lower + 1, n - 1)
    return _statistic_weights(x, axis, lower, upper, virtual - lower)


def _quantile_vjp(g, ans, x, *, q, axis, keepdims):
    leading = np.ndim(q)
    weights = _quantile_weights(x, q, axis)
    spread = _keep_reduced(g, x.ndim, axis, keepdims, leading) * weights
    grad = np.sum(spread, axis=tuple(range(leading))) if leading else spread
    return grad if grad.dtype == raw(x).dtype else grad.astype(raw(x).dtype)


def _quantile_jvp(t, ans, x, *, q, axis, keepdims):
    leading = np.ndim(q)
    weights = _quantile_weights(x, q, axis)
    reduced = None if axis is None else tuple(a + leading for a in axis)
    if reduced is None:
        reduced = tuple(range(leading, leading + x.ndim))
    out = np.sum(t * weights, axis=reduced, keepdims=keepdims)
    return out if out.dtype == raw(ans).dtype else out.astype(raw(ans).dtype)


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
    if not leading:
        return out
    order = (leading, *range(leading), *range(leading + 1, np.ndim(out)))
    return np.transpose(out, order)


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
        doc="The q-th quantile over ``axis`` by NumPy's 'linear' method (q a number or an "
        "array, whose axes come first); the gradient goes to the two order statistics "
        "interpolated, weighted as they are (ties ranked by position).",
    )
)
