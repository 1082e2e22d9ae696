"""Reductions: sum, mean, max, min, logsumexp over an axis, several axes or all;
argmax and argmin (no gradient).

Layer: ops. ``axis`` arrives normalized (None or a tuple of non-negative ints) by
the entries' prepare functions; the rules reinsert the reduced axes (``_keep``)
and broadcast back to the input.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.primitive import Primitive, raw, register
from ..errors import ShapeError
from . import arguments
from . import domains as d


def _keep(g, ndim, axis, keepdims):
    """Reshape a reduced result to its keepdims shape so it broadcasts against the input."""
    if keepdims or axis is None:
        return g  # a full reduction's result is 0-d (or all ones): it broadcasts as it is
    shape = list(g.shape)
    for a in sorted(axis):
        shape.insert(a, 1)
    return g.reshape(tuple(shape))


def _count(shape, axis):
    if axis is None:
        return math.prod(shape)
    return math.prod(shape[a] for a in axis)


def _samples(domain):
    def sample(rng):
        return [
            ((domain(rng, (3, 4)),), {"axis": None, "keepdims": False}),
            ((domain(rng, (3, 4)),), {"axis": (1,), "keepdims": False}),
            ((domain(rng, (2, 3, 4)),), {"axis": (0, 2), "keepdims": True}),
            ((domain(rng, (5,)),), {"axis": (0,), "keepdims": False}),
        ]

    return sample


def _reduction(name, forward, vjp, jvp, *, doc, domain=d.real, numpy=(), signature=None):
    """Register a reduction: public function and Tensor method ``name``."""
    return register(
        Primitive(
            name,
            forward,
            (vjp,),
            (jvp,),
            kind="reduction",
            sample=_samples(domain),
            names=(name,),
            methods=(name,),
            numpy=numpy,
            signature=signature or arguments.reduction(name),
            doc=doc,
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
        return np.broadcast_to(kept, x.shape)
    return kept + np.zeros(x.shape, dtype=raw(g).dtype)


sum = _reduction(  # noqa: A001 - NumPy's name
    "sum",
    lambda x, *, axis, keepdims: np.add.reduce(x, axis=axis, keepdims=keepdims),
    lambda g, ans, x, *, axis, keepdims: _spread(g, x, axis, keepdims),
    lambda t, ans, x, *, axis, keepdims: t.sum(axis=axis, keepdims=keepdims),
    numpy=(np.sum,),
    doc="Sum over ``axis`` (None: all; int or tuple), keeping dims if asked.",
)

mean = _reduction(
    "mean",
    lambda x, *, axis, keepdims: (
        np.add.reduce(x, axis=axis, keepdims=keepdims) / _count(x.shape, axis)
    ),
    lambda g, ans, x, *, axis, keepdims: _spread(g / _count(x.shape, axis), x, axis, keepdims),
    lambda t, ans, x, *, axis, keepdims: t.mean(axis=axis, keepdims=keepdims),
    numpy=(np.mean,),
    doc="Mean over ``axis`` (None: all; int or tuple).",
)


def _chosen(x, ans, axis, keepdims):
    """Weights that split the gradient equally among the entries equal to the extremum."""
    xv = raw(x)
    av = raw(ans)
    hits = (xv == _keep(av, xv.ndim, axis, keepdims)).astype(xv.dtype)
    return hits / hits.sum(axis=axis, keepdims=True)


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
    return _reduction(
        name,
        lambda x, *, axis, keepdims: reduce(x, axis=axis, keepdims=keepdims),
        lambda g, ans, x, *, axis, keepdims: (
            _keep(g, x.ndim, axis, keepdims) * _chosen(x, ans, axis, keepdims)
        ),
        lambda t, ans, x, *, axis, keepdims: (t * _chosen(x, ans, axis, keepdims)).sum(
            axis=axis, keepdims=keepdims
        ),
        domain=d.distinct,
        numpy=numpy,
        signature=_nonempty(name),
        doc=doc,
    )


max = _extremum(  # noqa: A001 - NumPy's name
    "max",
    np.max,
    (np.max, np.amax),
    "Largest entry over ``axis``; tied entries share the gradient equally.",
)
min = _extremum(  # noqa: A001 - NumPy's name
    "min",
    np.min,
    (np.min, np.amin),
    "Smallest entry over ``axis``; tied entries share the gradient equally.",
)


def _logsumexp(x, *, axis, keepdims):
    """log(sum(exp(x))) shifted by the maximum, so huge logits do not overflow."""
    shift = np.max(x.real, axis=axis, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    out = np.log(np.sum(np.exp(x - shift), axis=axis, keepdims=True)) + shift
    return out if keepdims else np.squeeze(out, axis=axis)


logsumexp = _reduction(
    "logsumexp",
    _logsumexp,
    lambda g, ans, x, *, axis, keepdims: (
        _keep(g, x.ndim, axis, keepdims) * np.exp(x - _keep(ans, x.ndim, axis, keepdims))
    ),
    lambda t, ans, x, *, axis, keepdims: (t * np.exp(x - _keep(ans, x.ndim, axis, keepdims))).sum(
        axis=axis, keepdims=keepdims
    ),
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


def _position(name, reduce, doc):
    return register(
        Primitive(
            name,
            lambda x, *, axis, keepdims: reduce(x, axis=axis, keepdims=keepdims),
            kind="reduction",
            names=(name,),
            methods=(name,),
            numpy=(reduce,),
            signature=_prepare_arg(name),
            sample=_arg_samples,
            doc=doc,
        )
    )


argmax = _position("argmax", np.argmax, "Index of the largest entry (over ``axis``); no gradient.")
argmin = _position("argmin", np.argmin, "Index of the smallest entry (over ``axis``); no gradient.")
