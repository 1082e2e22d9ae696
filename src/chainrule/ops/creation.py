"""Array creation: linspace (differentiable in its endpoints), zeros_like, ones_like and
full_like (differentiable in the fill value only).

Layer: ops (imports numpy, chainrule.core and chainrule.errors). A created array's entries
depend on its endpoints or fill value, never on a template's values, so a template carries
no gradient.
"""

from __future__ import annotations

import operator

import numpy as np

from ..core.primitive import Primitive, Traceable, raw, register
from ..errors import ShapeError
from . import domains as d


def _prepare_linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """np.linspace without ``retstep``: ``num`` evenly spaced values from ``start`` to
    ``stop`` (arrays give one line per entry, along ``axis`` of the result)."""
    if retstep:
        raise TypeError(
            "linspace: retstep=True is not supported; the step is "
            "(stop - start) / (num - 1) (or / num without endpoint)"
        )
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"linspace: num must be non-negative, got {num}")
    if dtype is not None and np.dtype(dtype).kind not in "fc":
        raise TypeError(f"linspace: dtype must be floating or complex, got {np.dtype(dtype)}")
    if not isinstance(stop, (Traceable, np.ndarray, int, float, complex, np.generic)):
        stop = np.asarray(stop)
    ndim = 1 + len(np.broadcast_shapes(np.shape(raw(start)), np.shape(raw(stop))))
    if not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ShapeError(
            f"linspace: axis {axis!r} is out of range for a result with {ndim} dimensions"
        )
    return (start, stop), {
        "num": num,
        "endpoint": bool(endpoint),
        "dtype": None if dtype is None else np.dtype(dtype),
        "axis": int(axis) % ndim,
    }


def _toward_stop(ans, num, endpoint, axis):
    """How far along each value lies (0 at start, 1 at stop), shaped to broadcast against
    the result along ``axis``: the derivative by ``stop``; ``1 -`` it is that by start."""
    steps = num - 1 if endpoint else num
    fraction = np.arange(num) / steps if steps > 0 else np.zeros(num)
    shape = [1] * ans.ndim
    shape[axis] = num
    return fraction.astype(ans.dtype).reshape(shape)


def _lifted(t, ans, axis):
    """A tangent of an endpoint with the line's axis inserted, to broadcast against ``ans``."""
    rank = ans.ndim - 1
    padded = (1,) * (rank - t.ndim) + t.shape
    return t.reshape(padded[:axis] + (1,) + padded[axis:])


def _linspace_batch(batched, start, stop, **params):
    """Endpoints carrying the batch are aligned (unit axes after it); the line's axis moves
    one place right."""
    ranks = [np.ndim(a) - b for a, b in zip((start, stop), batched, strict=True)]
    rank = max(ranks)
    aligned = [
        a.reshape(a.shape[:1] + (1,) * (rank - r) + a.shape[1:]) if b and r < rank else a
        for a, b, r in zip((start, stop), batched, ranks, strict=True)
    ]
    return linspace.bind(*aligned, **{**params, "axis": params["axis"] + 1})


linspace = register(
    Primitive(
        "linspace",
        lambda start, stop, *, num, endpoint, dtype, axis: np.linspace(
            start, stop, num, endpoint, dtype=dtype, axis=axis
        ),
        (
            lambda g, ans, start, stop, *, num, endpoint, dtype, axis: np.sum(
                g * (1 - _toward_stop(g, num, endpoint, axis)), axis=axis
            ),
            lambda g, ans, start, stop, *, num, endpoint, dtype, axis: np.sum(
                g * _toward_stop(g, num, endpoint, axis), axis=axis
            ),
        ),
        (
            lambda t, ans, start, stop, *, num, endpoint, dtype, axis: (
                _lifted(t, ans, axis) * (1 - _toward_stop(ans, num, endpoint, axis))
            ),
            lambda t, ans, start, stop, *, num, endpoint, dtype, axis: (
                _lifted(t, ans, axis) * _toward_stop(ans, num, endpoint, axis)
            ),
        ),
        kind="shape",
        sample=lambda rng: [
            (
                (d.real(rng, ()), d.real(rng, ())),
                {"num": 5, "endpoint": True, "dtype": None, "axis": 0},
            ),
            (
                (d.real(rng, (3,)), d.real(rng, (3,))),
                {"num": 4, "endpoint": False, "dtype": None, "axis": 0},
            ),
            (
                (d.real(rng, (2, 1)), d.real(rng, (3,))),
                {"num": 3, "endpoint": True, "dtype": None, "axis": 2},
            ),
            (
                (d.real(rng, ()), d.real(rng, (2,))),
                {"num": 1, "endpoint": True, "dtype": None, "axis": 1},
            ),
        ],
        names=("linspace",),
        numpy=(np.linspace,),
        signature=_prepare_linspace,
        batch=_linspace_batch,
        doc="Evenly spaced values from start to stop (np.linspace), differentiable in both.",
    )
)


def _prepare_fill(value):
    def prepare(x, dtype=None):
        return (x,), {"value": value, "dtype": None if dtype is None else np.dtype(dtype)}

    prepare.__name__ = f"prepare_fill_{value}"
    prepare.__doc__ = (
        f"A tensor of {('zeros', 'ones')[value]} of ``x``'s shape and dtype (or "
        "``dtype``), without gradient."
    )
    return prepare


fill_like = register(
    Primitive(
        "fill_like",
        lambda x, *, value, dtype: np.full_like(x, value, dtype=dtype),
        kind="shape",
        sample=lambda rng: [((d.real(rng, (2, 3)),), {"value": 0, "dtype": None})],
        names=(("zeros_like", _prepare_fill(0)), ("ones_like", _prepare_fill(1))),
        numpy=((np.zeros_like, _prepare_fill(0)), (np.ones_like, _prepare_fill(1))),
        batch=lambda batched, x, *, value, dtype: np.full_like(x, value, dtype=dtype),
        doc="Zeros or ones of a tensor's shape and dtype (or ``dtype``): no gradient.",
    )
)


def _prepare_full_like(x, fill_value, dtype=None):
    """np.full_like: the template only gives the shape and dtype, so it is detached."""
    if getattr(x, "requires_grad", False):
        x = x.detach()
    return (x, fill_value), {"dtype": None if dtype is None else np.dtype(dtype)}


def _full_like(x, fill_value, *, dtype):
    """``fill_value`` spread over ``x``'s shape, in ``x``'s dtype (or ``dtype``); a complex
    fill of a real template keeps its imaginary part, so the complex step passes through."""
    if dtype is None and np.iscomplexobj(fill_value) and x.dtype.kind == "f":
        dtype = np.result_type(x.dtype, np.complex64)
    return np.full_like(x, fill_value, dtype=dtype)


def _full_like_batch(batched, x, fill_value, *, dtype):
    """A batched fill value gets unit axes after its batch axis, to line up with the
    template's entries; an unbatched template is spread over the batch."""
    if not batched[1]:
        return full_like.bind(x, fill_value, dtype=dtype)
    size = fill_value.shape[0]
    if not batched[0]:
        x = np.broadcast_to(x, (size, *np.shape(x)))
    example = fill_value.shape[1:]
    lifted = (size,) + (1,) * (np.ndim(x) - 1 - len(example)) + example
    return full_like.bind(x, fill_value.reshape(lifted), dtype=dtype)


full_like = register(
    Primitive(
        "full_like",
        _full_like,
        (None, lambda g, ans, x, fill_value, *, dtype: g),
        (None, lambda t, ans, x, fill_value, *, dtype: t),
        kind="shape",
        sample=lambda rng: [
            ((d.real(rng, (2, 3)), d.real(rng, ())), {"dtype": None}),
            ((d.real(rng, (2, 3)), d.real(rng, (3,))), {"dtype": None}),
            ((d.real(rng, (4, 1, 2)), d.real(rng, (1, 2))), {"dtype": None}),
        ],
        names=("full_like",),
        numpy=(np.full_like,),
        signature=_prepare_full_like,
        batch=_full_like_batch,
        doc="``fill_value`` (broadcast) in the shape of a template (np.full_like); the "
        "gradient flows to the fill value only.",
    )
)
