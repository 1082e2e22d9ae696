"""Shape primitives: reshape, transpose, broadcast, indexing, concatenation, dtype casts.

Layer: ops. Every rule here is linear, so each VJP is the transposed operation
(reshape back, inverse permutation, scatter-add for indexing, slicing for
concatenation) and each JVP is the operation itself applied to the tangent.
"""

from __future__ import annotations

import numpy as np

from ..core.primitive import Primitive, register
from ..errors import ShapeError
from . import arguments
from . import domains as d
from .arguments import normalize_axis, one_axis, operand_sequence


def _shape_op(name, forward, vjps, jvps, sample, label=None, **surface):
    return register(
        Primitive(name, forward, vjps, jvps, kind="shape", sample=sample, label=label, **surface)
    )


# --- prepare functions: a public call's arguments to operands and parameters ----------


def _target_shape(x, shape, op):
    """``shape`` with its -1 resolved, or a ShapeError naming both shapes."""
    try:
        return np.empty(x.shape, dtype=np.bool_).reshape(shape).shape
    except (ValueError, TypeError):
        raise ShapeError(f"{op}: cannot reshape a tensor of shape {x.shape} into {shape}") from None


def _prepare_reshape(x, *dims, shape=None):
    """``reshape(x, (2, 3))``, ``reshape(x, 2, 3)`` (PyTorch) or ``reshape(x, shape=...)``."""
    if dims and shape is not None:
        raise TypeError("reshape(): give the shape once, positionally or as shape=")
    if shape is None:
        if not dims:
            raise TypeError("reshape() needs a shape")
        shape = dims[0] if len(dims) == 1 else dims
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return (x,), {"shape": _target_shape(x, shape, "reshape")}


def _prepare_flatten(x):
    """All entries in one axis."""
    return (x,), {"shape": (x.size,)}


def _prepare_squeeze(x, axis=None, **aliases):
    """Drop length-1 axes (all of them, or those in ``axis``) by a reshape."""
    if aliases:
        axis, _ = arguments.torch_names("squeeze", axis, False, aliases)
    axes = normalize_axis(axis, x.ndim, "squeeze")
    if axes is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    if any(x.shape[a] != 1 for a in axes):
        raise ShapeError(f"squeeze: axis {axis} of shape {x.shape} does not have length 1")
    return (x,), {"shape": tuple(n for i, n in enumerate(x.shape) if i not in axes)}


def _prepare_expand_dims(x, axis=None, **aliases):
    """Insert length-1 axes at ``axis`` (an int or a tuple, as in the result) by a reshape."""
    if aliases:
        axis, _ = arguments.torch_names("expand_dims", axis, False, aliases)
    if axis is None:
        raise TypeError("expand_dims() needs an axis")
    count = 1 if isinstance(axis, (int, np.integer)) else len(axis)
    axes = normalize_axis(axis, x.ndim + count, "expand_dims")
    sizes = iter(x.shape)
    shape = tuple(1 if i in axes else next(sizes) for i in range(x.ndim + count))
    return (x,), {"shape": shape}


def _prepare_transpose(x, *dims, axes=None):
    """``transpose(x)`` reverses the axes; ``transpose(x, (1, 0))`` or ``(x, 1, 0)`` permutes."""
    if dims and axes is not None:
        raise TypeError("transpose(): give the axes once, positionally or as axes=")
    if dims:
        axes = dims[0] if len(dims) == 1 else dims
    if axes is None:
        return (x,), {"axes": tuple(reversed(range(x.ndim)))}
    axes = (axes,) if isinstance(axes, (int, np.integer)) else tuple(axes)
    normalized = tuple(one_axis(a, x.ndim, "transpose") for a in axes)
    if sorted(normalized) != list(range(x.ndim)):
        raise ShapeError(f"transpose: axes {axes} are not a permutation for shape {x.shape}")
    return (x,), {"axes": normalized}


def _prepare_swapaxes(x, axis1, axis2):
    """Exchange two axes by a transpose."""
    axes = list(range(x.ndim))
    a, b = one_axis(axis1, x.ndim, "swapaxes"), one_axis(axis2, x.ndim, "swapaxes")
    axes[a], axes[b] = axes[b], axes[a]
    return (x,), {"axes": tuple(axes)}


def _prepare_broadcast_to(x, shape):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    try:
        target = np.broadcast_shapes(x.shape, shape)
    except ValueError:
        target = None
    if target != shape:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}")
    return (x,), {"shape": shape}


def _prepare_astype(x, dtype):
    """A cast to an integer or boolean dtype has no gradient (its result is piecewise
    constant), so it is applied to the detached value: the result never requires grad."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc" and getattr(x, "requires_grad", False):
        x = x.detach()
    return (x,), {"dtype": dtype}


def _check_same_shapes(op, tensors, skip_axis):
    def key(t):
        return tuple(n for i, n in enumerate(t.shape) if i != skip_axis), t.ndim

    first = key(tensors[0])
    for i, t in enumerate(tensors[1:], start=1):
        if key(t) != first:
            raise ShapeError(
                f"{op}: tensor {i} has shape {t.shape}, which does not match tensor 0's "
                f"shape {tensors[0].shape}"
                + ("" if skip_axis is None else f" outside axis {skip_axis}")
            )


def _joining(op, extra_axis):
    """The prepare of concatenate (``extra_axis=0``) or stack (1): checks shapes and axis."""

    @operand_sequence
    def prepare(tensors, axis=0, **aliases):
        if aliases:
            axis, _ = arguments.torch_names(op, None if "dim" in aliases else axis, False, aliases)
        if not tensors:
            raise ShapeError(f"{op}: need at least one tensor")
        axis = one_axis(axis, tensors[0].ndim + extra_axis, op)
        _check_same_shapes(op, tensors, skip_axis=None if extra_axis else axis)
        return tuple(tensors), {"axis": axis}

    prepare.__name__ = f"prepare_{op}"
    return prepare


prepare_stack = _joining("stack", 1)

# --- batching rules (chainrule.vmap): the batch axis is axis 0 of batched operands ------


def _size(args, batched):
    """The batch size: the length of axis 0 of the first batched operand."""
    return next(np.shape(a)[0] for a, b in zip(args, batched, strict=True) if b)


def lift(x, size):
    """An operand without a batch axis given one by broadcasting (a view, no copy)."""
    return broadcast_to.bind(x, shape=(size,) + np.shape(x))


def _lifted(args, batched):
    size = _size(args, batched)
    return [a if b else lift(a, size) for a, b in zip(args, batched, strict=True)]


def _is_array_index(item):
    return isinstance(item, np.ndarray) and item.ndim > 0 or isinstance(item, list)


def _advanced_span(index):
    """For an index with arrays, ``(first, ndim)``: when NumPy moves the advanced-index axes
    to the front (arrays, or ints among arrays, separated by a slice, None or Ellipsis),
    their count ``ndim``, else None; a batch slice put in front then lands after them."""
    if not any(_is_array_index(item) for item in index):
        return None
    advanced = [
        i
        for i, item in enumerate(index)
        if _is_array_index(item)
        or isinstance(item, (int, np.integer))
        and not isinstance(item, bool)
    ]
    if advanced[-1] - advanced[0] + 1 == len(advanced):
        return None
    shapes = [
        (int(np.count_nonzero(item)),) if np.asarray(item).dtype == np.bool_ else np.shape(item)
        for item in (index[i] for i in advanced)
    ]
    return len(np.broadcast_shapes(*shapes))


def _batch_getitem(batched, x, *, index):
    """``x[:, *index]``, with the batch axis moved back to the front when NumPy put the
    advanced-index axes before it."""
    index = index if isinstance(index, tuple) else (index,)
    out = getitem.bind(x, index=(slice(None),) + index)
    moved = _advanced_span(index)
    if moved is None:
        return out
    order = (moved,) + tuple(range(moved)) + tuple(range(moved + 1, np.ndim(out)))
    return transpose.bind(out, axes=order)


def _batch_index_add(batched, x, *, index, shape):
    """Scatter into ``(batch, *shape)`` at ``[:, *index]`` (the transpose of getitem's rule)."""
    index = index if isinstance(index, tuple) else (index,)
    size = np.shape(x)[0]
    moved = _advanced_span(index)
    if moved is not None:
        order = tuple(range(1, moved + 1)) + (0,) + tuple(range(moved + 1, np.ndim(x)))
        x = transpose.bind(x, axes=order)
    return index_add.bind(x, index=(slice(None),) + index, shape=(size,) + shape)


def _batch_broadcast_to(batched, x, *, shape):
    """Unit axes after the batch axis up to the target's rank, then one broadcast."""
    xshape = np.shape(x)
    aligned = x.reshape(xshape[:1] + (1,) * (len(shape) - len(xshape) + 1) + xshape[1:])
    return broadcast_to.bind(aligned, shape=xshape[:1] + tuple(shape))


identity = _shape_op(
    "identity",
    lambda x: x,
    (lambda g, ans, x: g,),
    (lambda t, ans, x: t,),
    lambda rng: [((d.real(rng, (3,)),), {})],
    label="id",
    batch=lambda batched, x: identity.bind(x),
    doc="The same value on a new node (clone, the inputs of transforms).",
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
    names=(
        "reshape",
        ("squeeze", _prepare_squeeze),
        ("expand_dims", _prepare_expand_dims),
        ("ravel", _prepare_flatten),
    ),
    methods=(
        "reshape",
        "view",
        ("flatten", _prepare_flatten),
        ("ravel", _prepare_flatten),
        ("squeeze", _prepare_squeeze),
        ("unsqueeze", _prepare_expand_dims),
    ),
    numpy=(
        np.reshape,
        (np.squeeze, _prepare_squeeze),
        (np.expand_dims, _prepare_expand_dims),
        (np.ravel, _prepare_flatten),
    ),
    signature=_prepare_reshape,
    batch=lambda batched, x, *, shape: reshape.bind(x, shape=np.shape(x)[:1] + shape),
    doc="The same values in a new shape (one entry may be -1).",
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
    names=("transpose", ("swapaxes", _prepare_swapaxes)),
    methods=("transpose", ("swapaxes", _prepare_swapaxes)),
    numpy=(np.transpose, (np.swapaxes, _prepare_swapaxes)),
    signature=_prepare_transpose,
    batch=lambda batched, x, *, axes: transpose.bind(x, axes=(0, *(a + 1 for a in axes))),
    doc="Permute axes as np.transpose does (default: reverse them).",
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
    names=("broadcast_to",),
    numpy=(np.broadcast_to,),
    signature=_prepare_broadcast_to,
    batch=_batch_broadcast_to,
    doc="Repeat ``x`` along broadcast axes to reach ``shape``.",
)


def _cast(x, *, dtype):
    """``x`` in ``dtype``; a complex value cast to a real float dtype keeps its imaginary
    part (in the complex dtype of that precision), so the complex step passes through."""
    if dtype.kind == "f" and np.iscomplexobj(x):
        dtype = np.result_type(dtype, np.complex64)
    return x.astype(dtype, copy=False)


cast = _shape_op(
    "cast",
    _cast,
    (lambda g, ans, x, *, dtype: g.astype(x.dtype),),
    (lambda t, ans, x, *, dtype: t.astype(dtype),),
    lambda rng: [((d.real(rng, (3,)).astype(np.float32),), {"dtype": np.dtype(np.float64)})],
    label="astype",
    names=("astype",),
    methods=("astype",),
    signature=_prepare_astype,
    batch=lambda batched, x, *, dtype: cast.bind(x, dtype=dtype),
    doc="Convert to ``dtype``; the gradient is converted back to the input's dtype.",
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
    batch=_batch_index_add,
    doc="Zeros of ``shape`` with ``x`` added at ``index`` (the transpose of indexing).",
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
    batch=_batch_getitem,
    doc="x[index] (Tensor.__getitem__).",
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
    names=("concatenate",),
    numpy=(np.concatenate,),
    signature=_joining("concatenate", 0),
    batch=lambda batched, *xs, axis: concatenate.bind(*_lifted(xs, batched), axis=axis + 1),
    doc="Join tensors along an existing axis.",
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
    names=("stack",),
    numpy=(np.stack,),
    signature=prepare_stack,
    batch=lambda batched, *xs, axis: stack.bind(*_lifted(xs, batched), axis=axis + 1),
    doc="Join tensors of equal shape along a new axis.",
)
