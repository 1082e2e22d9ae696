"""Shape primitives: reshape, transpose, broadcast, indexing, concatenation, dtype casts.

Layer: ops. Every rule here is linear, so each VJP is the transposed operation
(reshape back, inverse permutation, scatter-add for indexing, slicing for
concatenation) and each JVP is the operation itself applied to the tangent.
"""

from __future__ import annotations

import numpy as np

from ..core.primitive import Primitive, register
from . import domains as d


def _shape_op(name, forward, vjps, jvps, sample, label=None):
    return register(Primitive(name, forward, vjps, jvps, kind="shape", sample=sample, label=label))


identity = _shape_op(
    "identity",
    lambda x: x,
    (lambda g, ans, x: g,),
    (lambda t, ans, x: t,),
    lambda rng: [((d.real(rng, (3,)),), {})],
    label="id",
)

reshape = _shape_op(
    "reshape",
    lambda x, *, shape: np.reshape(x, shape),
    (lambda g, ans, x, *, shape: g.reshape(x.shape),),
    (lambda t, ans, x, *, shape: t.reshape(shape),),
    lambda rng: [
        ((d.real(rng, (3, 4)),), {"shape": (2, 6)}),
        ((d.real(rng, (2, 3, 2)),), {"shape": (12,)}),
        ((d.real(rng, ()),), {"shape": (1, 1)}),
    ],
)

transpose = _shape_op(
    "transpose",
    lambda x, *, axes: np.transpose(x, axes),
    (lambda g, ans, x, *, axes: g.transpose(tuple(np.argsort(axes))),),
    (lambda t, ans, x, *, axes: t.transpose(axes),),
    lambda rng: [
        ((d.real(rng, (3, 4)),), {"axes": (1, 0)}),
        ((d.real(rng, (2, 3, 4)),), {"axes": (2, 0, 1)}),
    ],
)

broadcast_to = _shape_op(
    "broadcast_to",
    lambda x, *, shape: np.broadcast_to(x, shape),
    (lambda g, ans, x, *, shape: g,),  # the engine sums g back to x's shape
    (lambda t, ans, x, *, shape: np.broadcast_to(t, shape),),
    lambda rng: [
        ((d.real(rng, (3, 1)),), {"shape": (2, 3, 4)}),
        ((d.real(rng, ()),), {"shape": (5,)}),
    ],
)


def _cast(x, *, dtype):
    return x.astype(dtype, copy=False)


cast = _shape_op(
    "cast",
    _cast,
    (lambda g, ans, x, *, dtype: g.astype(x.dtype),),
    (lambda t, ans, x, *, dtype: t.astype(dtype),),
    lambda rng: [((d.real(rng, (3,)).astype(np.float32),), {"dtype": np.dtype(np.float64)})],
    label="astype",
)


def is_basic_index(index) -> bool:
    """True for indices made of ints, slices, None and Ellipsis (no element repeats)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(
        item is None or item is Ellipsis or isinstance(item, (int, np.integer, slice))
        for item in items
    )


def _index_add(g, *, index, shape):
    """Zeros of ``shape`` with ``g`` added at ``index``; repeated indices accumulate."""
    out = np.zeros(shape, dtype=g.dtype)
    if is_basic_index(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


index_add = _shape_op(
    "index_add",
    _index_add,
    (lambda g, ans, x, *, index, shape: g[index],),
    (lambda t, ans, x, *, index, shape: index_add.bind(t, index=index, shape=shape),),
    lambda rng: [
        ((d.real(rng, (3,)),), {"index": np.array([0, 2, 0]), "shape": (4,)}),
        ((d.real(rng, (2, 3)),), {"index": (slice(0, 2), slice(1, 4)), "shape": (3, 5)}),
    ],
)

getitem = _shape_op(
    "getitem",
    lambda x, *, index: x[index],
    (lambda g, ans, x, *, index: index_add.bind(g, index=index, shape=x.shape),),
    (lambda t, ans, x, *, index: t[index],),
    lambda rng: [
        ((d.real(rng, (4, 5)),), {"index": (1,)}),
        ((d.real(rng, (4, 5)),), {"index": (slice(1, 3), slice(None, None, 2))}),
        ((d.real(rng, (4,)),), {"index": (np.array([0, 0, 3, 1]),)}),
        ((d.real(rng, (3, 4)),), {"index": (Ellipsis, None, slice(None, 2))}),
        (
            (d.real(rng, (2, 3)),),
            {"index": (np.array([[True, False, True], [False, True, True]]),)},
        ),
    ],
    label="[]",
)


def _offsets(sizes):
    starts = np.concatenate([[0], np.cumsum(sizes)])
    return starts[:-1], starts[1:]


def _part(g, axis, start, stop):
    index = (slice(None),) * axis + (slice(int(start), int(stop)),)
    return g[index]


def _concatenate_vjp(argnum):
    def rule(g, ans, *xs, axis):
        starts, stops = _offsets([x.shape[axis] for x in xs])
        return _part(g, axis, starts[argnum], stops[argnum])

    return rule


def _concatenate_jvp(argnum):
    def rule(t, ans, *xs, axis):
        starts, stops = _offsets([x.shape[axis] for x in xs])
        index = (slice(None),) * axis + (slice(int(starts[argnum]), int(stops[argnum])),)
        return index_add.bind(t, index=index, shape=ans.shape)

    return rule


concatenate = _shape_op(
    "concatenate",
    lambda *xs, axis: np.concatenate(xs, axis=axis),
    _concatenate_vjp,
    _concatenate_jvp,
    lambda rng: [
        ((d.real(rng, (2, 3)), d.real(rng, (1, 3)), d.real(rng, (3, 3))), {"axis": 0}),
        ((d.real(rng, (2, 3)), d.real(rng, (2, 1))), {"axis": 1}),
    ],
)


def _stack_vjp(argnum):
    def rule(g, ans, *xs, axis):
        return g[(slice(None),) * axis + (argnum,)]

    return rule


def _stack_jvp(argnum):
    def rule(t, ans, *xs, axis):
        index = (slice(None),) * axis + (argnum,)
        return index_add.bind(t, index=index, shape=ans.shape)

    return rule


stack = _shape_op(
    "stack",
    lambda *xs, axis: np.stack(xs, axis=axis),
    _stack_vjp,
    _stack_jvp,
    lambda rng: [
        ((d.real(rng, (2, 3)), d.real(rng, (2, 3))), {"axis": 0}),
        ((d.real(rng, (4,)), d.real(rng, (4,)), d.real(rng, (4,))), {"axis": 1}),
    ],
)
