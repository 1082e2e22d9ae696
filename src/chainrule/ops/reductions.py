"""Reductions: sum, mean, max, min, logsumexp over an axis, several axes or all.

Layer: ops. ``axis`` arrives normalized (None or a tuple of non-negative ints);
the rules reinsert the reduced axes (``_keep``) and broadcast back to the input.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.primitive import Primitive, raw, register
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


def _reduction(name, forward, vjp, jvp, domain=d.real):
    return register(
        Primitive(name, forward, (vjp,), (jvp,), kind="reduction", sample=_samples(domain))
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
)

mean = _reduction(
    "mean",
    lambda x, *, axis, keepdims: (
        np.add.reduce(x, axis=axis, keepdims=keepdims) / _count(x.shape, axis)
    ),
    lambda g, ans, x, *, axis, keepdims: _spread(g / _count(x.shape, axis), x, axis, keepdims),
    lambda t, ans, x, *, axis, keepdims: t.mean(axis=axis, keepdims=keepdims),
)


def _chosen(x, ans, axis, keepdims):
    """Weights that split the gradient equally among the entries equal to the extremum."""
    xv = raw(x)
    av = raw(ans)
    hits = (xv == _keep(av, xv.ndim, axis, keepdims)).astype(xv.dtype)
    return hits / hits.sum(axis=axis, keepdims=True)


def _extremum(name, reduce):
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
    )


max = _extremum("max", np.max)  # noqa: A001 - NumPy's name
min = _extremum("min", np.min)  # noqa: A001 - NumPy's name


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
)
