"""Numerically stable softmax and log-softmax along one axis.

Layer: ops. Both subtract the maximum before exponentiating, so logits of 1000
give finite, exact results.
"""

from __future__ import annotations

import numpy as np

from ..core.primitive import Primitive, register
from . import domains as d


def _shifted(x, axis):
    return x - np.max(x.real, axis=axis, keepdims=True)


def _softmax(x, *, axis):
    e = np.exp(_shifted(x, axis))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, *, axis):
    z = _shifted(x, axis)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def _samples(rng):
    return [
        ((d.real(rng, (3, 4)),), {"axis": 1}),
        ((d.real(rng, (3, 4)),), {"axis": 0}),
        ((d.real(rng, (5,)),), {"axis": 0}),
    ]


softmax = register(
    Primitive(
        "softmax",
        _softmax,
        (lambda g, ans, x, *, axis: ans * (g - (g * ans).sum(axis=axis, keepdims=True)),),
        (lambda t, ans, x, *, axis: ans * (t - (t * ans).sum(axis=axis, keepdims=True)),),
        kind="nn",
        sample=_samples,
    )
)

log_softmax = register(
    Primitive(
        "log_softmax",
        _log_softmax,
        (lambda g, ans, x, *, axis: g - np.exp(ans) * g.sum(axis=axis, keepdims=True),),
        (lambda t, ans, x, *, axis: t - (np.exp(ans) * t).sum(axis=axis, keepdims=True),),
        kind="nn",
        sample=_samples,
    )
)
