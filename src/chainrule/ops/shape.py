"""Shape primitives: reshape, transpose, broadcast, indexing, concatenation, dtype casts.

Layer: ops. Every rule here is linear, so each VJP is the transposed operation
(reshape back, inverse permutation, scatter-add for indexing, slicing for
concatenation) and each JVP is the operation itself applied to the tangent.

On other array libraries (CuPy, any Array API namespace) each entry runs its
``implementations["array_api"]`` forward, written with the standard's functions (NumPy's
own forward stays the fast path for NumPy arrays), and its rules run through
:data:`~chainrule.core.backend.xp`. NumPy's indexing, which the standard only partly has,
becomes a gather of flat positions worked out on the host, and its transpose, np.add.at,
gathers and sums (the standard has no scatter).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core import backend
from ..core.backend import xp
from ..core.mode import in_complex_step
from ..core.primitive import Primitive, Traceable, composite, raw, register
from ..errors import ShapeError
from . import arguments
from . import domains as d
from .arguments import normalize_axis, one_axis, operand_sequence, standard_dtype


def _shape_op(name, forward, vjps, jvps, sample, label=None, **surface):
    return register(
        Primitive(name, forward, vjps, jvps, kind="shape", sample=sample, label=label, **surface)
    )


# --- other array libraries: parameters and constants in the operand's library ----------


def native_dtype(dtype: np.dtype, like: Any) -> Any:
    """NumPy's ``dtype`` (an entry's parameter) as the dtype of the library of ``like``, an
    array or a Tensor."""
    space = backend.array_namespace(like)
    return dtype if space is np else getattr(space, dtype.name)


def on_library(values: np.ndarray, like: Any) -> Any:
    """A NumPy constant (index positions, weights) as an array of ``like``'s library, on its
    device; the NumPy array itself beside NumPy values."""
    space = backend.array_namespace(like)
    if space is np:
        return values
    return space.asarray(values, device=backend.native_device(like))


def host(value: Any) -> Any:
    """An index or a count given as any library's array, as a NumPy one: it is a parameter,
    which the host reads (slices, None and numbers as they are)."""
    if backend.is_numpy(value) or value is None or isinstance(value, slice) or value is Ellipsis:
        return value
    return np.asarray(backend.to_device(value, backend.CPU))


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


def _prepare_matrix_transpose(x):
    """Swap the last two axes (the Array API's matrix_transpose, a stack of matrices)."""
    if x.ndim < 2:
        raise ShapeError(f"matrix_transpose: needs at least 2 dimensions, got shape {x.shape}")
    return (x,), {"axes": (*range(x.ndim - 2), x.ndim - 1, x.ndim - 2)}


def _inverse_permutation(axes):
    return tuple(int(a) for a in np.argsort(axes))


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


def _prepare_astype(x, dtype, copy=True):
    """A cast to an integer or boolean dtype has no gradient (its result is piecewise
    constant), so it is applied to the detached value: the result never requires grad.
    ``copy`` is NumPy's; a cast is a new node either way, so it changes nothing here."""
    dtype = standard_dtype(dtype)
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
    aligned = xp.reshape(x, shape=xshape[:1] + (1,) * (len(shape) - len(xshape) + 1) + xshape[1:])
    return broadcast_to.bind(aligned, shape=xshape[:1] + tuple(shape))


# --- NumPy's rearrangements as aliases of the entries below ---------------------------


def _along(ndim, axis, item):
    """An index applying ``item`` on ``axis`` and keeping every other axis whole."""
    return (slice(None),) * axis + (item,) + (slice(None),) * (ndim - axis - 1)


def _like(first, value):
    """``value`` as an operand of the same kind as ``first`` (a Tensor beside a Tensor), so
    every result of a function of several arguments is on the graph. A Python number takes
    ``first``'s dtype where it fits (float32 stays float32), as in arithmetic, and its
    library and device."""
    if isinstance(value, Traceable):
        return value
    if isinstance(value, (list, tuple)) and _holds_traceable(value):
        return stack.bind(*(_like(first, item) for item in value), axis=0)
    if isinstance(value, (int, float, complex)):
        space = backend.array_namespace(first)
        dtype = space.result_type(first.dtype, value)
        value = space.asarray(value, dtype=dtype, device=backend.native_device(first))
    return type(first)(value)


def _holds_traceable(items):
    return any(
        isinstance(i, Traceable) or (isinstance(i, (list, tuple)) and _holds_traceable(i))
        for i in items
    )


def _flip_index(x, axes):
    reverse = slice(None, None, -1)
    return tuple(reverse if a in axes else slice(None) for a in range(x.ndim))


def _prepare_flip(x, axis=None, *, dims=None):
    """Reverse ``axis`` (an int, a tuple, or all axes; PyTorch's ``dims=``) by a strided view."""
    if dims is not None:
        if axis is not None:
            raise TypeError("flip(): give axis= or dims=, not both")
        axis = dims
    axes = normalize_axis(axis, x.ndim, "flip")
    return (x,), {"index": _flip_index(x, range(x.ndim) if axes is None else axes)}


def _prepare_flipud(x):
    """Reverse the first axis (np.flipud: up to down)."""
    if x.ndim < 1:
        raise ShapeError(f"flipud: needs at least 1 dimension, got shape {x.shape}")
    return (x,), {"index": _flip_index(x, (0,))}


def _prepare_fliplr(x):
    """Reverse the second axis (np.fliplr: left to right)."""
    if x.ndim < 2:
        raise ShapeError(f"fliplr: needs at least 2 dimensions, got shape {x.shape}")
    return (x,), {"index": _flip_index(x, (1,))}


def _rot90(m, k=1, axes=(0, 1), *, dims=None):
    """Rotate by 90 degrees ``k`` times from the first axis towards the second, as
    np.rot90 (PyTorch's ``dims=`` accepted): one flip, then a transpose for odd ``k``."""
    axes = tuple(axes if dims is None else dims)
    if len(axes) != 2 or m.ndim < 2:
        raise ShapeError(
            f"rot90: needs two axes of a tensor with at least 2 dimensions, got "
            f"axes {axes} for shape {m.shape}"
        )
    first, second = (one_axis(a, m.ndim, "rot90") for a in axes)
    if first == second:
        raise ShapeError(f"rot90: the axes {axes} must differ")
    k = int(k) % 4
    flipped = {0: (), 1: (second,), 2: (first, second), 3: (first,)}[k]
    out = getitem.bind(m, index=_flip_index(m, flipped))
    if k % 2 == 0:
        return out
    order = list(range(m.ndim))
    order[first], order[second] = order[second], order[first]
    return transpose.bind(out, axes=tuple(order))


def _prepare_moveaxis(x, source, destination):
    """Move axes ``source`` to positions ``destination`` (np.moveaxis) by a transpose."""
    source = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    destination = (
        (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    )
    if len(source) != len(destination):
        raise ShapeError(
            f"moveaxis: source {source} and destination {destination} differ in length"
        )
    source = tuple(one_axis(a, x.ndim, "moveaxis") for a in source)
    destination = tuple(one_axis(a, x.ndim, "moveaxis") for a in destination)
    if len(set(source)) != len(source) or len(set(destination)) != len(destination):
        raise ShapeError(f"moveaxis: repeated axis in {source} or {destination}")
    order = [a for a in range(x.ndim) if a not in source]
    for dest, src in sorted(zip(destination, source, strict=True)):
        order.insert(dest, src)
    return (x,), {"axes": tuple(order)}


def _prepare_rollaxis(x, axis, start=0):
    """Move ``axis`` to stand before position ``start`` (np.rollaxis) by a transpose."""
    axis = one_axis(axis, x.ndim, "rollaxis")
    if not isinstance(start, (int, np.integer)) or not -x.ndim <= start <= x.ndim:
        raise ShapeError(f"rollaxis: start {start!r} is out of range for shape {x.shape}")
    start = int(start) + x.ndim if start < 0 else int(start)
    if axis < start:
        start -= 1
    order = [a for a in range(x.ndim) if a != axis]
    order.insert(start, axis)
    return (x,), {"axes": tuple(order)}


def _prepare_flatten_dims(x, start_dim=0, end_dim=-1):
    """Merge axes ``start_dim``..``end_dim`` into one (PyTorch's flatten; default: all)."""
    if x.ndim == 0:
        return (x,), {"shape": (1,)}
    start = one_axis(start_dim, x.ndim, "flatten")
    end = one_axis(end_dim, x.ndim, "flatten")
    if start > end:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    merged = int(np.prod(x.shape[start : end + 1]))
    return (x,), {"shape": x.shape[:start] + (merged,) + x.shape[end + 1 :]}


def _promoted(x, ndim):
    """``x`` with unit axes added as np.atleast_{1,2,3}d adds them (itself if already so)."""
    if x.ndim >= ndim:
        return x
    if ndim == 1 or x.ndim == 0:
        shape = (1,) * (ndim - x.ndim) + x.shape
    elif ndim == 2:
        shape = (1,) + x.shape
    else:
        shape = (1, *x.shape, 1) if x.ndim == 1 else (*x.shape, 1)
    return reshape.bind(x, shape=shape)


def _at_least(ndim):
    def at_least(x, *more):
        promoted = tuple(_promoted(t, ndim) for t in (x, *(_like(x, m) for m in more)))
        return promoted if more else promoted[0]

    at_least.__name__ = f"atleast_{ndim}d"
    at_least.__doc__ = (
        f"Each argument with at least {ndim} dimensions (a tuple for several, as NumPy)."
    )
    return at_least


def _stacking(op, ndim, axis_of):
    """The prepare of vstack/hstack/dstack/column_stack: promote each tensor (reshapes on
    the graph), then one concatenate along ``axis_of(first promoted tensor)``."""

    @operand_sequence
    def prepare(tensors):
        if not tensors:
            raise ShapeError(f"{op}: need at least one tensor")
        if op == "column_stack":
            parts = tuple(reshape.bind(t, shape=(t.size, 1)) if t.ndim < 2 else t for t in tensors)
        else:
            parts = tuple(_promoted(t, ndim) for t in tensors)
        axis = axis_of(parts[0])
        _check_same_shapes(op, parts, skip_axis=axis)
        return parts, {"axis": axis}

    prepare.__name__ = f"prepare_{op}"
    prepare.__doc__ = (
        f"np.{op}: join a sequence of tensors"
        + {
            "vstack": " as rows (1-d tensors become rows).",
            "hstack": " along the second axis (along the first for 1-d tensors).",
            "dstack": " along the third axis (lower ranks get unit axes, as np.atleast_3d).",
            "column_stack": " as columns (1-d tensors become columns).",
        }[op]
    )
    return prepare


def _prepare_append(x, values, axis=None):
    """np.append: ``values`` after ``x`` along ``axis``, both flattened when axis is None."""
    values = _like(x, values)
    if axis is None:
        x, values = (reshape.bind(t, shape=(t.size,)) for t in (x, values))
        return (x, values), {"axis": 0}
    axis = one_axis(axis, x.ndim, "append")
    _check_same_shapes("append", (x, values), skip_axis=axis)
    return (x, values), {"axis": axis}


def _splitting(op, equal):
    """split (``equal``: sections must divide the axis) or array_split: a list of slices,
    one getitem each, so every piece has its own gradient."""

    def function(x, indices_or_sections, axis=0, **aliases):
        if aliases:
            axis, _ = arguments.torch_names(op, None if "dim" in aliases else axis, False, aliases)
        axis = one_axis(axis, x.ndim, op)
        length = x.shape[axis]
        if isinstance(indices_or_sections, (int, np.integer)):
            sections = int(indices_or_sections)
            if sections <= 0:
                raise ShapeError(f"{op}: the number of sections must be positive, got {sections}")
            if equal and length % sections:
                raise ShapeError(
                    f"{op}: axis {axis} of shape {x.shape} does not divide into {sections} "
                    "equal sections (array_split allows unequal ones)"
                )
            each, extra = divmod(length, sections)
            bounds = np.cumsum([0] + [each + 1] * extra + [each] * (sections - extra))
        else:
            bounds = [0, *(int(i) for i in indices_or_sections), length]
        return [
            getitem.bind(x, index=_along(x.ndim, axis, slice(int(start), int(stop))))
            for start, stop in zip(bounds[:-1], bounds[1:], strict=True)
        ]

    function.__name__ = op
    function.__doc__ = (
        f"np.{'split' if equal else 'array_split'}: a list of pieces along ``axis``, at "
        "``indices`` or in ``sections`` "
        + ("of equal length." if equal else "whose lengths differ by at most one.")
    )
    return function


def _unstack(x, axis=0):
    """The slices of ``x`` along ``axis``, as a tuple (the Array API's unstack)."""
    axis = one_axis(axis, x.ndim, "unstack")
    return tuple(getitem.bind(x, index=_along(x.ndim, axis, i)) for i in range(x.shape[axis]))


def _meshgrid(x, *more, indexing="xy", sparse=False):
    """np.meshgrid: coordinate tensors over the grid of the (flattened) inputs, one reshape
    and one broadcast each (``indexing`` "xy": the first two axes swapped, as NumPy)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    inputs = (x, *(_like(x, m) for m in more))
    sizes = [t.size for t in inputs]
    position = list(range(len(inputs)))
    if indexing == "xy" and len(inputs) > 1:
        position[0], position[1] = 1, 0
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grids = []
    for t, at in zip(inputs, position, strict=True):
        line = reshape.bind(t, shape=tuple(t.size if a == at else 1 for a in range(len(sizes))))
        grids.append(line if sparse else broadcast_to.bind(line, shape=tuple(sizes)))
    return tuple(grids)


def _broadcast_arrays(x, *more):
    """np.broadcast_arrays: every argument broadcast to their common shape (a tuple)."""
    tensors = (x, *(_like(x, m) for m in more))
    try:
        shape = np.broadcast_shapes(*(t.shape for t in tensors))
    except ValueError:
        shown = ", ".join(str(t.shape) for t in tensors)
        raise ShapeError(f"broadcast_arrays: shapes {shown} do not broadcast together") from None
    return tuple(t if t.shape == shape else broadcast_to.bind(t, shape=shape) for t in tensors)


def _index_array(indices, op):
    indices = np.asarray(host(raw(indices)))
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers, got dtype {indices.dtype}")
    return indices


def _prepare_take(x, indices, axis=None, mode="raise"):
    """np.take: entries of ``x`` at ``indices`` along ``axis`` (of the flattened ``x`` when
    None); ``mode`` raise (out of range is an error), wrap or clip. One getitem."""
    indices = _index_array(indices, "take")
    if axis is None:
        x, axis = reshape.bind(x, shape=(x.size,)), 0
    axis = one_axis(axis, x.ndim, "take")
    length = x.shape[axis]
    if mode == "wrap":
        indices = np.mod(indices, length)
    elif mode == "clip":
        indices = np.clip(indices, 0, length - 1)
    elif mode != "raise":
        raise ValueError(f"take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    elif indices.size and not (-length <= indices.min() and indices.max() < length):
        raise ShapeError(
            f"take: an index in {indices.min()}..{indices.max()} is out of range for axis "
            f"{axis} of length {length} (shape {x.shape})"
        )
    return (x,), {"index": _along(x.ndim, axis, indices)}


def _prepare_take_along_axis(x, indices, axis=-1, **aliases):
    """np.take_along_axis: ``x[..., indices, ...]`` matched entry by entry along ``axis``
    (the flattened ``x`` when None), the other axes broadcast. One getitem."""
    if aliases:
        axis, _ = arguments.torch_names(
            "take_along_axis", None if "dim" in aliases else axis, False, aliases
        )
    indices = _index_array(indices, "take_along_axis")
    if axis is None:
        x, axis = reshape.bind(x, shape=(x.size,)), 0
    axis = one_axis(axis, x.ndim, "take_along_axis")
    if indices.ndim != x.ndim:
        raise ShapeError(
            f"take_along_axis: indices of shape {indices.shape} need as many dimensions as "
            f"the tensor's shape {x.shape}"
        )
    index = tuple(
        indices if a == axis else np.arange(n).reshape((1,) * a + (n,) + (1,) * (x.ndim - a - 1))
        for a, n in enumerate(x.shape)
    )
    return (x,), {"index": index}


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


def _to_device_vjp(g, ans, x, *, device):
    """The cotangent goes back to the operand's device."""
    return to_device.bind(g, device=backend.device_of(x))


to_device = _shape_op(
    "to_device",
    lambda x, *, device: backend.to_device(x, device),
    (_to_device_vjp,),
    (lambda t, ans, x, *, device: to_device.bind(t, device=device),),
    lambda rng: [((d.real(rng, (3,)),), {"device": backend.CPU})],
    label="to",
    batch=lambda batched, x, *, device: to_device.bind(x, device=device),
    doc="The same values on another device (t.to('cuda'), t.cpu()): a copy on the graph.",
)

reshape = _shape_op(
    "reshape",
    lambda x, *, shape: np.reshape(x, shape),
    (lambda g, ans, x, *, shape: xp.reshape(g, shape=x.shape),),
    (lambda t, ans, x, *, shape: xp.reshape(t, shape=shape),),
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
        ("flatten", _prepare_flatten_dims),
        ("atleast_1d", composite(_at_least(1))),
        ("atleast_2d", composite(_at_least(2))),
        ("atleast_3d", composite(_at_least(3))),
    ),
    methods=(
        "reshape",
        "view",
        ("flatten", _prepare_flatten_dims),
        ("ravel", _prepare_flatten),
        ("squeeze", _prepare_squeeze),
        ("unsqueeze", _prepare_expand_dims),
    ),
    numpy=(
        np.reshape,
        (np.squeeze, _prepare_squeeze),
        (np.expand_dims, _prepare_expand_dims),
        (np.ravel, _prepare_flatten),
        (np.atleast_1d, composite(_at_least(1))),
        (np.atleast_2d, composite(_at_least(2))),
        (np.atleast_3d, composite(_at_least(3))),
    ),
    signature=_prepare_reshape,
    batch=lambda batched, x, *, shape: reshape.bind(x, shape=np.shape(x)[:1] + shape),
    implementations={"array_api": lambda x, *, shape: xp.reshape(x, shape=shape)},
    doc="The same values in a new shape (one entry may be -1).",
)

transpose = _shape_op(
    "transpose",
    lambda x, *, axes: np.transpose(x, axes),
    (lambda g, ans, x, *, axes: xp.permute_dims(g, axes=_inverse_permutation(axes)),),
    (lambda t, ans, x, *, axes: xp.permute_dims(t, axes=axes),),
    lambda rng: [
        ((d.real(rng, (3, 4)),), {"axes": (1, 0)}),
        ((d.real(rng, (2, 3, 4)),), {"axes": (2, 0, 1)}),
    ],
    names=(
        "transpose",
        ("permute_dims", _prepare_transpose),
        ("matrix_transpose", _prepare_matrix_transpose),
        ("swapaxes", _prepare_swapaxes),
        ("moveaxis", _prepare_moveaxis),
        ("rollaxis", _prepare_rollaxis),
    ),
    methods=(
        "transpose",
        ("permute", _prepare_transpose),
        ("swapaxes", _prepare_swapaxes),
        ("moveaxis", _prepare_moveaxis),
        ("movedim", _prepare_moveaxis),
    ),
    numpy=(
        np.transpose,
        (np.swapaxes, _prepare_swapaxes),
        (np.moveaxis, _prepare_moveaxis),
        (np.rollaxis, _prepare_rollaxis),
    ),
    signature=_prepare_transpose,
    batch=lambda batched, x, *, axes: transpose.bind(x, axes=(0, *(a + 1 for a in axes))),
    implementations={"array_api": lambda x, *, axes: xp.permute_dims(x, axes=axes)},
    doc="Permute axes as np.transpose does (default: reverse them).",
)

broadcast_to = _shape_op(
    "broadcast_to",
    lambda x, *, shape: np.broadcast_to(x, shape),
    (lambda g, ans, x, *, shape: g,),  # the engine sums g back to x's shape
    (lambda t, ans, x, *, shape: xp.broadcast_to(t, shape=shape),),
    lambda rng: [
        ((d.real(rng, (3, 1)),), {"shape": (2, 3, 4)}),
        ((d.real(rng, ()),), {"shape": (5,)}),
    ],
    names=(
        "broadcast_to",
        ("broadcast_arrays", composite(_broadcast_arrays)),
        ("meshgrid", composite(_meshgrid)),
    ),
    numpy=(
        np.broadcast_to,
        (np.broadcast_arrays, composite(_broadcast_arrays)),
        (np.meshgrid, composite(_meshgrid)),
    ),
    signature=_prepare_broadcast_to,
    batch=_batch_broadcast_to,
    implementations={"array_api": lambda x, *, shape: xp.broadcast_to(x, shape=shape)},
    doc="Repeat ``x`` along broadcast axes to reach ``shape``.",
)


def _cast(x, *, dtype):
    """``x`` in ``dtype``. A complex value cast to a real float dtype loses its imaginary
    part, as in NumPy and JAX, except under the complex step (chainrule.fd), where it keeps
    it (in the complex dtype of that precision) so that the step passes through."""
    if dtype.kind == "f" and np.iscomplexobj(x):
        if in_complex_step():
            dtype = np.result_type(dtype, np.complex64)
        else:
            x = np.real(x)
    return x.astype(dtype, copy=False)


def _cast_standard(x, *, dtype):
    if dtype.kind == "f" and backend.is_complex(x):
        x = xp.real(x)
    return xp.astype(x, native_dtype(dtype, x))


cast = _shape_op(
    "cast",
    _cast,
    # The engine brings each contribution to its operand's dtype (the real part of a
    # complex one, for a real operand), so both rules pass the value on.
    (lambda g, ans, x, *, dtype: g,),
    (lambda t, ans, x, *, dtype: t,),
    lambda rng: [((d.real(rng, (3,)).astype(np.float32),), {"dtype": np.dtype(np.float64)})],
    label="astype",
    names=("astype",),
    methods=("astype",),
    signature=_prepare_astype,
    batch=lambda batched, x, *, dtype: cast.bind(x, dtype=dtype),
    implementations={"array_api": _cast_standard},
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


def _is_basic_item(item):
    return (
        item is None
        or item is Ellipsis
        or isinstance(item, slice)
        or isinstance(item, (int, np.integer))
        and not isinstance(item, (bool, np.bool_))
    )


def _standard_basic_index(shape, index):
    """A basic index as the Array API standard takes it: every axis named (a trailing
    Ellipsis), Python ints, and slice bounds inside their axis (NumPy clips bounds; the
    standard leaves others unspecified). None for an index that is not basic, or selects
    nothing."""
    items = index if isinstance(index, tuple) else (index,)
    if not all(_is_basic_item(item) for item in items):
        return None
    if not any(item is Ellipsis for item in items):
        items = (*items, Ellipsis)
    named = sum(1 for item in items if item is not None and item is not Ellipsis)
    standard = []
    axis = 0
    for item in items:
        if item is Ellipsis:
            axis += len(shape) - named
        elif isinstance(item, slice):
            steps = range(*item.indices(shape[axis]))
            if not steps:
                return None
            stop = steps[-1] + steps.step
            item = slice(steps[0], stop if 0 <= stop <= shape[axis] else None, steps.step)
            axis += 1
        elif item is not None:
            item = int(item)
            axis += 1
        standard.append(item)
    return tuple(standard)


def _positions(shape, index):
    """Where each entry of ``array_of(shape)[index]`` comes from, as flat positions (NumPy)."""
    items = index if isinstance(index, tuple) else (index,)
    return np.arange(math.prod(shape)).reshape(shape)[tuple(host(item) for item in items)]


def _getitem_standard(x, *, index):
    """x[index] with NumPy's indexing on a standard array: a basic index as the standard
    spells it; any other (integer and boolean arrays) as one gather of flat positions."""
    basic = _standard_basic_index(x.shape, index)
    if basic is not None:
        return x[basic]
    positions = _positions(x.shape, index)
    flat = xp.take(xp.reshape(x, shape=(-1,)), on_library(positions.reshape(-1), x), axis=0)
    return xp.reshape(flat, shape=positions.shape)


def _gather_plan(targets, size):
    """How to add up entries sent to ``size`` places (``targets[i]``: entry i's place) with
    gathers alone, as the standard has no scatter. ``sources`` has one row per place hit:
    the entries sent there, padded with ``len(targets)`` (a zero appended to the entries);
    ``rows`` gives each place its row of sums, or ``len(sources)`` (a zero) when none."""
    count = len(targets)
    hit, inverse, hits = np.unique(targets, return_inverse=True, return_counts=True)
    order = np.argsort(inverse, kind="stable")
    rank = np.arange(count) - (np.cumsum(hits) - hits)[inverse[order]]
    sources = np.full((len(hit), max(int(hits.max(initial=0)), 1)), count)
    sources[inverse[order], rank] = order
    rows = np.full(size, len(hit))
    rows[hit] = np.arange(len(hit))
    return sources, rows


def _index_add_standard(x, *, index, shape):
    """np.add.at into zeros on a standard array: each place's entries gathered into a row
    and summed (in index order, as add.at adds them), then one gather puts the sums in place."""
    positions = _positions(shape, index)
    sources, rows = _gather_plan(positions.reshape(-1), math.prod(shape))
    zero = backend.array_namespace(x).zeros((1,), dtype=x.dtype, device=backend.native_device(x))
    entries = xp.reshape(xp.broadcast_to(x, shape=positions.shape), shape=(-1,))
    gathered = xp.take(xp.concat([entries, zero]), on_library(sources.reshape(-1), x), axis=0)
    sums = xp.sum(xp.reshape(gathered, shape=sources.shape), axis=1)
    placed = xp.take(xp.concat([sums, zero]), on_library(rows, x), axis=0)
    return xp.reshape(placed, shape=shape)


index_add = _shape_op(
    "index_add",
    _index_add,
    (lambda g, ans, x, *, index, shape: getitem.bind(g, index=index),),
    (lambda t, ans, x, *, index, shape: index_add.bind(t, index=index, shape=shape),),
    lambda rng: [
        ((d.real(rng, (3,)),), {"index": np.array([0, 2, 0]), "shape": (4,)}),
        ((d.real(rng, (2, 3)),), {"index": (slice(0, 2), slice(1, 4)), "shape": (3, 5)}),
    ],
    batch=_batch_index_add,
    implementations={"array_api": _index_add_standard},
    doc="Zeros of ``shape`` with ``x`` added at ``index`` (the transpose of indexing).",
)

getitem = _shape_op(
    "getitem",
    lambda x, *, index: x[index],
    (lambda g, ans, x, *, index: index_add.bind(g, index=index, shape=x.shape),),
    (lambda t, ans, x, *, index: getitem.bind(t, index=index),),
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
    names=(
        ("flip", _prepare_flip),
        ("flipud", _prepare_flipud),
        ("fliplr", _prepare_fliplr),
        ("rot90", composite(_rot90)),
        ("take", _prepare_take),
        ("take_along_axis", _prepare_take_along_axis),
        ("split", composite(_splitting("split", equal=True))),
        ("array_split", composite(_splitting("array_split", equal=False))),
        ("unstack", composite(_unstack)),
    ),
    methods=(
        ("flip", _prepare_flip),
        ("flipud", _prepare_flipud),
        ("fliplr", _prepare_fliplr),
        ("rot90", composite(_rot90)),
        ("take", _prepare_take),
        ("take_along_dim", _prepare_take_along_axis),
        ("tensor_split", composite(_splitting("tensor_split", equal=False))),
    ),
    numpy=(
        (np.flip, _prepare_flip),
        (np.flipud, _prepare_flipud),
        (np.fliplr, _prepare_fliplr),
        (np.rot90, composite(_rot90)),
        (np.take, _prepare_take),
        (np.take_along_axis, _prepare_take_along_axis),
        (np.split, composite(_splitting("split", equal=True))),
        (np.array_split, composite(_splitting("array_split", equal=False))),
    ),
    batch=_batch_getitem,
    implementations={"array_api": _getitem_standard},
    doc="x[index] (Tensor.__getitem__).",
)


def _offsets(sizes):
    starts = np.concatenate([[0], np.cumsum(sizes)])
    return starts[:-1], starts[1:]


def _part(g, axis, start, stop):
    return g[(slice(None),) * axis + (slice(int(start), int(stop)), Ellipsis)]


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
        ((d.real(rng, (2, 3)), d.real(rng, (2, 3))), {"axis": 0}),
        ((d.real(rng, (2, 3)), d.real(rng, (1, 3)), d.real(rng, (3, 3))), {"axis": 0}),
        ((d.real(rng, (2, 3)), d.real(rng, (2, 1))), {"axis": 1}),
    ],
    names=(
        "concatenate",
        ("concat", _joining("concat", 0)),
        ("vstack", _stacking("vstack", 2, lambda first: 0)),
        ("hstack", _stacking("hstack", 1, lambda first: 0 if first.ndim == 1 else 1)),
        ("dstack", _stacking("dstack", 3, lambda first: 2)),
        ("column_stack", _stacking("column_stack", 2, lambda first: 1)),
        ("append", _prepare_append),
    ),
    numpy=(
        np.concatenate,
        (np.vstack, _stacking("vstack", 2, lambda first: 0)),
        (np.hstack, _stacking("hstack", 1, lambda first: 0 if first.ndim == 1 else 1)),
        (np.dstack, _stacking("dstack", 3, lambda first: 2)),
        (np.column_stack, _stacking("column_stack", 2, lambda first: 1)),
        (np.append, _prepare_append),
    ),
    signature=_joining("concatenate", 0),
    batch=lambda batched, *xs, axis: concatenate.bind(*_lifted(xs, batched), axis=axis + 1),
    implementations={"array_api": lambda *xs, axis: xp.concat(xs, axis=axis)},
    doc="Join tensors along an existing axis.",
)


def _stack_vjp(argnum):
    def rule(g, ans, *xs, axis):
        return g[(slice(None),) * axis + (argnum, Ellipsis)]

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
    implementations={"array_api": lambda *xs, axis: xp.stack(xs, axis=axis)},
    doc="Join tensors of equal shape along a new axis.",
)


# --- rearrangements with rules of their own -------------------------------------------


def _prepare_roll(x, shift=None, axis=None, *, shifts=None, dims=None):
    """np.roll (or PyTorch's ``shifts=``/``dims=``): entries moved ``shift`` places along
    ``axis`` (several shifts for several axes), wrapping around; the flattened tensor when
    axis is None."""
    shift = shifts if shift is None else shift
    axis = dims if axis is None else axis
    if shift is None:
        raise TypeError("roll() needs a shift")
    if axis is None:
        total = np.sum(shift, dtype=np.int64)
        return (x,), {"shift": int(total), "axis": None}
    shift_array, axis_array = np.broadcast_arrays(np.asarray(shift), np.asarray(axis))
    if shift_array.ndim > 1:
        raise ShapeError(f"roll: shift {shift} and axis {axis} must be integers or 1-d")
    axes = tuple(one_axis(int(a), x.ndim, "roll") for a in axis_array.reshape(-1))
    return (x,), {"shift": tuple(int(s) for s in shift_array.reshape(-1)), "axis": axes}


def _negated(shift):
    return -shift if isinstance(shift, int) else tuple(-s for s in shift)


def _roll_batch(batched, x, *, shift, axis):
    if axis is None:
        flat = roll.bind(xp.reshape(x, shape=(x.shape[0], -1)), shift=(shift,), axis=(1,))
        return xp.reshape(flat, shape=x.shape)
    return roll.bind(x, shift=shift, axis=tuple(a + 1 for a in axis))


roll = _shape_op(
    "roll",
    lambda x, *, shift, axis: np.roll(x, shift, axis),
    (lambda g, ans, x, *, shift, axis: roll.bind(g, shift=_negated(shift), axis=axis),),
    (lambda t, ans, x, *, shift, axis: roll.bind(t, shift=shift, axis=axis),),
    lambda rng: [
        ((d.real(rng, (5,)),), {"shift": (2,), "axis": (0,)}),
        ((d.real(rng, (3, 4)),), {"shift": -3, "axis": None}),
        ((d.real(rng, (2, 3, 4)),), {"shift": (1, 5), "axis": (0, 2)}),
    ],
    names=("roll",),
    methods=("roll",),
    numpy=(np.roll,),
    signature=_prepare_roll,
    batch=_roll_batch,
    implementations={"array_api": lambda x, *, shift, axis: xp.roll(x, shift=shift, axis=axis)},
    doc="Shift entries along axes with wrap-around (np.roll); the gradient rolls back.",
)


#: np.pad modes served, with the gradient of each (constant values carry none).
PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def _pairs(value, ndim, op, what):
    """NumPy's forms of a per-axis (before, after) value (one number, one pair, or one pair
    per axis) as a pair per axis."""
    try:
        pairs = np.broadcast_to(np.asarray(value), (ndim, 2))
    except ValueError:
        raise ShapeError(
            f"{op}: {what} {value!r} is not a number, a pair or {ndim} pairs"
        ) from None
    return tuple((a.item(), b.item()) for a, b in pairs)


def _prepare_pad(x, pad_width, mode="constant", *, constant_values=None):
    """np.pad with ``mode`` constant (``constant_values`` in any NumPy form; they carry no
    gradient), edge, reflect, symmetric or wrap; ``pad_width`` in any NumPy form."""
    if mode not in PAD_MODES:
        raise ValueError(f"pad: mode must be one of {PAD_MODES}, got {mode!r}")
    width = _pairs(host(raw(pad_width)), x.ndim, "pad", "pad_width")
    if any(not isinstance(n, int) or n < 0 for pair in width for n in pair):
        raise ShapeError(f"pad: pad_width {pad_width!r} must hold non-negative integers")
    if mode != "constant" and any(
        n == 0 and pair != (0, 0) for n, pair in zip(x.shape, width, strict=True)
    ):
        raise ShapeError(f"pad: mode {mode!r} cannot pad an empty axis of shape {x.shape}")
    if mode != "constant" and constant_values is not None:
        raise ValueError(f"pad: constant_values apply to mode 'constant', not {mode!r}")
    values = None
    if mode == "constant":
        constant_values = 0 if constant_values is None else constant_values
        if getattr(constant_values, "requires_grad", False):
            raise TypeError(
                "pad: constant_values carry no gradient; pass numbers (or .detach() them)"
            )
        values = _pairs(host(raw(constant_values)), x.ndim, "pad", "constant_values")
    return (x,), {"width": width, "mode": mode, "constant_values": values}


def _pad(x, *, width, mode, constant_values):
    if constant_values is None:
        return np.pad(x, width, mode)
    return np.pad(x, width, mode, constant_values=constant_values)


def _pad_standard(x, *, width, mode, constant_values):
    """np.pad with the standard's functions: a gather of np.pad's index map per axis for the
    copying modes; for constants, blocks joined to each axis in turn, each spanning the
    axes padded before it, so that a corner holds the last axis's value, as NumPy's."""
    if mode != "constant":
        for axis, ((before, after), length) in enumerate(zip(width, x.shape, strict=True)):
            if before or after:
                source = np.pad(np.arange(length), (before, after), mode)
                x = xp.take(x, on_library(source, x), axis=axis)
        return x
    space = backend.array_namespace(x)
    values = constant_values or ((0, 0),) * x.ndim
    for axis in range(x.ndim):
        blocks = [x]
        for at, size, value in zip((0, 1), width[axis], values[axis], strict=True):
            if size:
                block_shape = x.shape[:axis] + (size,) + x.shape[axis + 1 :]
                fill = space.full(
                    block_shape, value, dtype=x.dtype, device=backend.native_device(x)
                )
                blocks.insert(0 if at == 0 else len(blocks), fill)
        if len(blocks) > 1:
            x = xp.concat(blocks, axis=axis)
    return x


def _pad_vjp(g, ans, x, *, width, mode, constant_values):
    """Each entry of ``x`` gets the cotangents of every place it was copied to: the interior
    for constant padding, and for the other modes the places np.pad's index map sends it."""
    if mode == "constant":
        return g[tuple(slice(b, b + n) for (b, _), n in zip(width, x.shape, strict=True))]
    for axis, ((before, after), length) in enumerate(zip(width, x.shape, strict=True)):
        if before == after == 0:
            continue
        source = np.pad(np.arange(length), (before, after), mode)
        shape = g.shape[:axis] + (length,) + g.shape[axis + 1 :]
        inside = g[_along(g.ndim, axis, slice(before, before + length))]
        for border in (slice(0, before), slice(before + length, before + length + after)):
            if border.stop > border.start:  # only the border is scattered: a slow add.at
                copies = g[_along(g.ndim, axis, border)]
                index = _along(g.ndim, axis, source[border])
                inside = inside + index_add.bind(copies, index=index, shape=shape)
        g = inside
    return g


def _pad_batch(batched, x, *, width, mode, constant_values):
    values = None if constant_values is None else ((0, 0), *constant_values)
    return pad.bind(x, width=((0, 0), *width), mode=mode, constant_values=values)


pad = _shape_op(
    "pad",
    _pad,
    (_pad_vjp,),
    (
        lambda t, ans, x, *, width, mode, constant_values: pad.bind(
            t, width=width, mode=mode, constant_values=None
        ),
    ),
    lambda rng: [
        (
            (d.real(rng, (3, 4)),),
            {
                "width": ((1, 2), (0, 3)),
                "mode": "constant",
                "constant_values": ((0.5, -1.0), (2.0, 0.0)),
            },
        ),
        ((d.real(rng, (4,)),), {"width": ((2, 3),), "mode": "edge", "constant_values": None}),
        (
            (d.real(rng, (3, 4)),),
            {"width": ((2, 1), (5, 3)), "mode": "reflect", "constant_values": None},
        ),
        (
            (d.real(rng, (2, 3)),),
            {"width": ((1, 3), (2, 2)), "mode": "symmetric", "constant_values": None},
        ),
        ((d.real(rng, (3,)),), {"width": ((4, 2),), "mode": "wrap", "constant_values": None}),
    ],
    names=("pad",),
    numpy=(np.pad,),
    signature=_prepare_pad,
    batch=_pad_batch,
    implementations={"array_api": _pad_standard},
    doc="Pad with constants or copies of the edges (np.pad modes " + ", ".join(PAD_MODES) + ").",
)


def _prepare_repeat(x, repeats, axis=None, **aliases):
    """np.repeat: each entry ``repeats`` times (one count, or one per entry) along ``axis``
    (of the flattened tensor when None). PyTorch's repeat_interleave is the same function;
    its Tensor.repeat is np.tile (see tile)."""
    if aliases:
        axis, _ = arguments.torch_names(
            "repeat", None if "dim" in aliases else axis, False, aliases
        )
    counts = np.asarray(host(raw(repeats)))
    if counts.dtype.kind not in "iu" or counts.ndim > 1 or (counts < 0).any():
        raise ShapeError(f"repeat: repeats must be non-negative integers, got {repeats!r}")
    axis = None if axis is None else one_axis(axis, x.ndim, "repeat")
    length = x.size if axis is None else x.shape[axis]
    if counts.size == 1:
        return (x,), {"repeats": int(counts.reshape(-1)[0]), "axis": axis}
    if counts.size != length:
        raise ShapeError(
            f"repeat: {counts.size} repeat counts for an axis of length {length} (shape {x.shape})"
        )
    return (x,), {"repeats": tuple(int(c) for c in counts), "axis": axis}


def _repeat_vjp(g, ans, x, *, repeats, axis):
    """Sum each entry's copies: a reshape and sum for one count, a scatter-add for several."""
    flat = axis is None
    shape = (x.size,) if flat else x.shape
    axis = 0 if flat else axis
    length = shape[axis]
    if isinstance(repeats, int):
        copies = g.shape[:axis] + (length, repeats) + g.shape[axis + 1 :]
        summed = xp.sum(xp.reshape(g, shape=copies), axis=axis + 1)
    else:
        source = np.repeat(np.arange(length), repeats)
        summed = index_add.bind(g, index=_along(g.ndim, axis, source), shape=shape)
    return xp.reshape(summed, shape=x.shape) if flat else summed


def _repeat_batch(batched, x, *, repeats, axis):
    if axis is None:
        return repeat.bind(xp.reshape(x, shape=(x.shape[0], -1)), repeats=repeats, axis=1)
    return repeat.bind(x, repeats=repeats, axis=axis + 1)


def _repeat_standard(x, *, repeats, axis):
    counts = repeats if isinstance(repeats, int) else on_library(np.asarray(repeats), x)
    return xp.repeat(x, counts, axis=axis)


repeat = _shape_op(
    "repeat",
    lambda x, *, repeats, axis: np.repeat(x, repeats, axis),
    (_repeat_vjp,),
    (lambda t, ans, x, *, repeats, axis: repeat.bind(t, repeats=repeats, axis=axis),),
    lambda rng: [
        ((d.real(rng, (2, 3)),), {"repeats": 2, "axis": 1}),
        ((d.real(rng, (2, 3)),), {"repeats": 3, "axis": None}),
        ((d.real(rng, (3, 2)),), {"repeats": (1, 0, 3), "axis": 0}),
        ((d.real(rng, (4,)),), {"repeats": (2, 1, 1, 2), "axis": None}),
    ],
    names=("repeat",),
    methods=("repeat_interleave",),
    numpy=(np.repeat,),
    signature=_prepare_repeat,
    batch=_repeat_batch,
    implementations={"array_api": _repeat_standard},
    doc="Repeat each entry (np.repeat; Tensor.repeat_interleave as in PyTorch). There is no "
    "Tensor.repeat: NumPy's means this, PyTorch's means tile.",
)


def _prepare_tile(x, reps=None, *, dims=None):
    """np.tile (PyTorch's ``dims=``): the tensor repeated ``reps`` times along each axis."""
    reps = dims if reps is None else reps
    counts = np.atleast_1d(np.asarray(host(raw(reps))))
    if counts.size == 0:  # np.tile(x, ()): no repetition
        counts = counts.astype(np.int64)
    if counts.dtype.kind not in "iu" or counts.ndim != 1 or (counts < 0).any():
        raise ShapeError(f"tile: reps must be non-negative integers, got {reps!r}")
    counts = (1,) * (x.ndim - counts.size) + tuple(int(c) for c in counts)
    return (x,), {"reps": counts}


def _tile_vjp(g, ans, x, *, reps):
    """Sum the copies: the result's axis k is (copy, entry), so reshape and sum the copies."""
    shape = (1,) * (len(reps) - x.ndim) + x.shape
    interleaved = tuple(size for pair in zip(reps, shape, strict=True) for size in pair)
    copies = tuple(range(0, 2 * len(reps), 2))
    return xp.reshape(xp.sum(xp.reshape(g, shape=interleaved), axis=copies), shape=x.shape)


def _tile_batch(batched, x, *, reps):
    example = x.shape[1:]
    lifted = xp.reshape(x, shape=x.shape[:1] + (1,) * (len(reps) - len(example)) + example)
    return tile.bind(lifted, reps=(1, *reps))


tile = _shape_op(
    "tile",
    lambda x, *, reps: np.tile(x, reps),
    (_tile_vjp,),
    (lambda t, ans, x, *, reps: tile.bind(t, reps=reps),),
    lambda rng: [
        ((d.real(rng, (2, 3)),), {"reps": (2, 3)}),
        ((d.real(rng, (3,)),), {"reps": (2, 1, 2)}),
        ((d.real(rng, ()),), {"reps": (4,)}),
        ((d.real(rng, (2, 1, 2)),), {"reps": (1, 3, 2)}),
    ],
    names=("tile",),
    methods=("tile",),
    numpy=(np.tile,),
    signature=_prepare_tile,
    batch=_tile_batch,
    implementations={"array_api": lambda x, *, reps: xp.tile(x, reps)},
    doc="Repeat the whole tensor along each axis (np.tile, PyTorch's Tensor.tile/repeat).",
)


def _triangle(op, keep):
    """tril (``keep`` = np.tril) or triu: zero the entries on one side of diagonal ``k`` of
    the last two axes. Linear, so both rules apply the same operation."""

    def prepare(x, k=0, *, diagonal=None):
        if x.ndim < 2:
            raise ShapeError(f"{op}: needs at least 2 dimensions, got shape {x.shape}")
        return (x,), {"k": int(k if diagonal is None else diagonal)}

    prepare.__name__ = f"prepare_{op}"

    def batch(batched, x, *, k):
        return entry.bind(x, k=k)

    entry = _shape_op(
        op,
        lambda x, *, k: keep(x, k),
        (lambda g, ans, x, *, k: entry.bind(g, k=k),),
        (lambda t, ans, x, *, k: entry.bind(t, k=k),),
        lambda rng: [
            ((d.real(rng, (3, 4)),), {"k": 0}),
            ((d.real(rng, (4, 3)),), {"k": -1}),
            ((d.real(rng, (2, 3, 3)),), {"k": 1}),
        ],
        names=(op,),
        methods=(op,),
        numpy=(keep,),
        signature=prepare,
        batch=batch,
        implementations={"array_api": lambda x, *, k: getattr(xp, op)(x, k=k)},
        doc=f"The {'lower' if op == 'tril' else 'upper'} triangle of the last two axes from "
        "diagonal ``k`` on (np." + op + "); the other entries 0.",
    )
    return entry


tril = _triangle("tril", np.tril)
triu = _triangle("triu", np.triu)


def _prepare_diff(x, n=1, axis=-1, prepend=None, append=None, **aliases):
    """np.diff (PyTorch's ``dim=``): ``n``-th differences along ``axis``, after joining
    ``prepend`` and ``append`` (a number is spread to a slice of the axis, as NumPy does)."""
    if aliases:
        axis, _ = arguments.torch_names("diff", None if "dim" in aliases else axis, False, aliases)
    if x.ndim == 0:
        raise ShapeError("diff: needs at least 1 dimension, got a 0-d tensor")
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"diff: order n must be a non-negative integer, got {n!r}")
    axis = one_axis(axis, x.ndim, "diff")
    if prepend is not None or append is not None:
        edge = x.shape[:axis] + (1,) + x.shape[axis + 1 :]
        parts = []
        for part in (prepend, x, append):
            if part is None:
                continue
            part = _like(x, part)
            parts.append(broadcast_to.bind(part, shape=edge) if part.ndim == 0 else part)
        _check_same_shapes("diff", parts, skip_axis=axis)
        x = concatenate.bind(*parts, axis=axis)
    return (x,), {"n": int(n), "axis": axis}


def _diff_vjp(g, ans, x, *, n, axis):
    """The transpose of one difference is minus the difference of the zero-bordered
    cotangent; applied ``n`` times."""
    for _ in range(n):
        shape = g.shape[:axis] + (1,) + g.shape[axis + 1 :]
        space = backend.array_namespace(g)
        border = space.zeros(shape, dtype=g.dtype, device=backend.native_device(g))
        g = -diff.bind(xp.concat([border, g, border], axis=axis), n=1, axis=axis)
    return g


diff = _shape_op(
    "diff",
    lambda x, *, n, axis: np.diff(x, n, axis),
    (_diff_vjp,),
    (lambda t, ans, x, *, n, axis: diff.bind(t, n=n, axis=axis),),
    lambda rng: [
        ((d.real(rng, (5,)),), {"n": 1, "axis": 0}),
        ((d.real(rng, (3, 5)),), {"n": 2, "axis": 1}),
        ((d.real(rng, (4, 3)),), {"n": 1, "axis": 0}),
    ],
    names=("diff",),
    methods=("diff",),
    numpy=(np.diff,),
    signature=_prepare_diff,
    batch=lambda batched, x, *, n, axis: diff.bind(x, n=n, axis=axis + 1),
    implementations={"array_api": lambda x, *, n, axis: xp.diff(x, axis=axis, n=n)},
    doc="Differences of neighbours along an axis, ``n`` times (np.diff).",
)
