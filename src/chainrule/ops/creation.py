"""Array creation: linspace (differentiable in its endpoints), zeros_like, ones_like and
full_like (differentiable in the fill value only).

Layer: ops (imports numpy, chainrule.core, chainrule.errors and ops.shape's helpers). A
created array's entries depend on its endpoints or fill value, never on a template's values,
so a template carries no gradient. Each function takes the Array API's ``dtype=`` (any
library's dtype) and ``device=`` ("cpu", "cuda", "cuda:N" or a Device): its operands are
moved there first, on the graph, so the result is computed by that device's library.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..core import backend
from ..core.backend import xp
from ..core.primitive import Primitive, Traceable, raw, register
from ..errors import ShapeError
from . import domains as d
from .arguments import standard_dtype
from .shape import native_dtype, on_library


def on_device(value: Any, device: backend.Device | str | None, like: Traceable) -> Any:
    """An operand of a creation function on ``device`` (as it is when None): a Tensor moved
    with ``.to`` (on the graph), an array made a Tensor of ``like``'s type first; a Python
    number belongs to no device and stays one."""
    if device is None or isinstance(value, (bool, int, float, complex)):
        return value
    if not isinstance(value, Traceable):
        value = type(like)(value)
    return value.to(device)


def _optional_dtype(dtype: Any) -> np.dtype | None:
    return None if dtype is None else standard_dtype(dtype)


def _prepare_linspace(
    start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *, device=None
):
    """np.linspace without ``retstep``: ``num`` evenly spaced values from ``start`` to
    ``stop`` (arrays give one line per entry, along ``axis`` of the result), on ``device``."""
    if retstep:
        raise TypeError(
            "linspace: retstep=True is not supported; the step is "
            "(stop - start) / (num - 1) (or / num without endpoint)"
        )
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"linspace: num must be non-negative, got {num}")
    dtype = _optional_dtype(dtype)
    if dtype is not None and dtype.kind not in "fc":
        raise TypeError(f"linspace: dtype must be floating or complex, got {dtype}")
    if isinstance(stop, (list, tuple)):
        stop = np.asarray(stop)
    start, stop = on_device(start, device, start), on_device(stop, device, start)
    ndim = 1 + len(np.broadcast_shapes(np.shape(raw(start)), np.shape(raw(stop))))
    if not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ShapeError(
            f"linspace: axis {axis!r} is out of range for a result with {ndim} dimensions"
        )
    return (start, stop), {
        "num": num,
        "endpoint": bool(endpoint),
        "dtype": dtype,
        "axis": int(axis) % ndim,
    }


def _toward_stop(like, num, endpoint, axis):
    """How far along each value lies (0 at start, 1 at stop), shaped to broadcast against
    the result along ``axis``, in the dtype and library of ``like`` (the result or its
    cotangent): the derivative by ``stop``; ``1 -`` it is that by start."""
    steps = num - 1 if endpoint else num
    fraction = np.arange(num) / steps if steps > 0 else np.zeros(num)
    shape = [1] * like.ndim
    shape[axis] = num
    return xp.astype(on_library(fraction.reshape(shape), like), like.dtype)


def _lifted(t, ans, axis):
    """A tangent of an endpoint with the line's axis inserted, to broadcast against ``ans``."""
    rank = ans.ndim - 1
    padded = (1,) * (rank - t.ndim) + t.shape
    return xp.reshape(t, shape=padded[:axis] + (1,) + padded[axis:])


def _linspace_batch(batched, start, stop, **params):
    """Endpoints carrying the batch are aligned (unit axes after it); the line's axis moves
    one place right."""
    ranks = [np.ndim(a) - b for a, b in zip((start, stop), batched, strict=True)]
    rank = max(ranks)
    aligned = [
        xp.reshape(a, shape=a.shape[:1] + (1,) * (rank - r) + a.shape[1:]) if b and r < rank else a
        for a, b, r in zip((start, stop), batched, ranks, strict=True)
    ]
    return linspace.bind(*aligned, **{**params, "axis": params["axis"] + 1})


def _linspace_standard(start, stop, *, num, endpoint, dtype, axis):
    """np.linspace with the standard's functions, step for step as NumPy computes it (so
    the values are NumPy's): ``arange * step + start``, the last value set to ``stop``."""
    start, stop = (v.item() if isinstance(v, np.generic) else v for v in (start, stop))
    like = stop if backend.is_numpy(start) else start
    space, device = backend.array_namespace(like), backend.native_device(like)
    computed = space.result_type(start, stop)
    if not space.isdtype(computed, ("real floating", "complex floating")):
        computed = space.float64
    stop = space.asarray(stop, dtype=computed, device=device)
    delta = xp.astype(stop - start, computed)
    line = space.arange(num, dtype=computed, device=device)
    y = xp.reshape(line, shape=(-1,) + (1,) * delta.ndim)
    steps = num - 1 if endpoint else num
    if steps > 0:
        step = delta / steps
        y = y / steps * delta if bool(xp.any(step == 0)) else y * step
    else:
        y = y * delta
    y = y + start
    if endpoint and num > 1:
        last = xp.expand_dims(xp.broadcast_to(stop, shape=y.shape[1:]), axis=0)
        y = xp.concat([y[:-1, ...], last], axis=0)
    if axis != 0:
        y = xp.moveaxis(y, 0, axis)
    return y if dtype is None else xp.astype(y, native_dtype(dtype, y))


linspace = register(
    Primitive(
        "linspace",
        lambda start, stop, *, num, endpoint, dtype, axis: np.linspace(
            start, stop, num, endpoint, dtype=dtype, axis=axis
        ),
        (
            lambda g, ans, start, stop, *, num, endpoint, dtype, axis: xp.sum(
                g * (1 - _toward_stop(g, num, endpoint, axis)), axis=axis
            ),
            lambda g, ans, start, stop, *, num, endpoint, dtype, axis: xp.sum(
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
        implementations={"array_api": _linspace_standard},
        doc="Evenly spaced values from start to stop (np.linspace), differentiable in both.",
    )
)


def _prepare_fill(value):
    def prepare(x, dtype=None, *, device=None):
        template = x if device is None else on_device(x.detach(), device, x)
        return (template,), {"value": value, "dtype": _optional_dtype(dtype)}

    prepare.__name__ = f"prepare_fill_{value}"
    prepare.__doc__ = (
        f"A tensor of {('zeros', 'ones')[value]} of ``x``'s shape and dtype (or "
        "``dtype``), on its device (or ``device``), without gradient."
    )
    return prepare


def _fill_like_standard(x, *, value, dtype):
    return xp.full_like(x, value, dtype=None if dtype is None else native_dtype(dtype, x))


fill_like = register(
    Primitive(
        "fill_like",
        lambda x, *, value, dtype: np.full_like(x, value, dtype=dtype),
        kind="shape",
        sample=lambda rng: [((d.real(rng, (2, 3)),), {"value": 0, "dtype": None})],
        names=(
            ("zeros_like", _prepare_fill(0)),
            ("ones_like", _prepare_fill(1)),
            ("empty_like", _prepare_fill(0)),
        ),
        numpy=((np.zeros_like, _prepare_fill(0)), (np.ones_like, _prepare_fill(1))),
        batch=lambda batched, x, *, value, dtype: fill_like.bind(x, value=value, dtype=dtype),
        implementations={"array_api": _fill_like_standard},
        doc="Zeros or ones of a tensor's shape and dtype (or ``dtype``): no gradient "
        "(empty_like gives zeros).",
    )
)


def _prepare_full_like(x, fill_value, dtype=None, *, device=None):
    """np.full_like: the template only gives the shape and dtype, so it is detached; on the
    template's device, or ``device``."""
    if getattr(x, "requires_grad", False):
        x = x.detach()
    template = on_device(x, device, x)
    return (template, on_device(fill_value, device, x)), {"dtype": _optional_dtype(dtype)}


def _full_like(x, fill_value, *, dtype):
    """``fill_value`` spread over ``x``'s shape, in ``x``'s dtype (or ``dtype``); a complex
    fill of a real template keeps its imaginary part, so the complex step passes through."""
    if dtype is None and np.iscomplexobj(fill_value) and x.dtype.kind == "f":
        dtype = np.result_type(x.dtype, np.complex64)
    return np.full_like(x, fill_value, dtype=dtype)


def _full_like_standard(x, fill_value, *, dtype):
    """full_like with an array fill value (the standard's takes a number): broadcast, then
    cast, which copies."""
    space = backend.array_namespace(x)
    target = x.dtype if dtype is None else native_dtype(dtype, x)
    if dtype is None and backend.is_complex(fill_value) and backend.kind(x) == "f":
        target = space.complex64 if x.dtype == space.float32 else space.complex128
    if backend.is_numpy(fill_value):  # a number: no device of its own
        return xp.full_like(x, np.asarray(fill_value).item(), dtype=target)
    return xp.astype(xp.broadcast_to(fill_value, shape=x.shape), target)


def _full_like_batch(batched, x, fill_value, *, dtype):
    """A batched fill value gets unit axes after its batch axis, to line up with the
    template's entries; an unbatched template is spread over the batch."""
    if not batched[1]:
        return full_like.bind(x, fill_value, dtype=dtype)
    size = fill_value.shape[0]
    if not batched[0]:
        x = xp.broadcast_to(x, shape=(size, *np.shape(x)))
    example = fill_value.shape[1:]
    lifted = (size,) + (1,) * (np.ndim(x) - 1 - len(example)) + example
    return full_like.bind(x, xp.reshape(fill_value, shape=lifted), dtype=dtype)


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
        implementations={"array_api": _full_like_standard},
        doc="``fill_value`` (broadcast) in the shape of a template (np.full_like); the "
        "gradient flows to the fill value only.",
    )
)
