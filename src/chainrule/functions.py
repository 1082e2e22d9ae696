"""The public operations: ``chainrule.exp(t)``, ``chainrule.sum(t, axis=1)``, ...

Layer: tensor. Each function normalizes its arguments (operands to Tensors, axes to
tuples, PyTorch's ``dim``/``keepdim`` to NumPy's ``axis``/``keepdims``) and applies
one primitive from :mod:`chainrule.ops`; a few (squeeze, expand_dims, swapaxes)
are compositions of those.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .core.primitive import Primitive
from .errors import ShapeError
from .ops import elementwise as ew
from .ops import linalg, nn, reductions
from .ops import shape as shape_ops
from .tensor import _NO_PARAMS, Tensor, apply

_SCALARS = (int, float, complex, bool, np.generic)


def as_tensor(x: Any) -> Tensor:
    """``x`` itself if it is a Tensor, else a new Tensor (no copy of ndarrays)."""
    return x if isinstance(x, Tensor) else Tensor(x)


def as_operand(x: Any) -> Any:
    """Tensors, arrays and Python scalars pass through (scalars stay weak); lists become arrays."""
    if isinstance(x, (Tensor, np.ndarray, *_SCALARS)):
        return x
    return Tensor(x)._data


def _unary(prim: Primitive, doc: str) -> Callable[[Any], Tensor]:
    def op(x: Any) -> Tensor:
        return apply(prim, (x if isinstance(x, Tensor) else Tensor(x),), _NO_PARAMS)

    op.__name__ = op.__qualname__ = prim.name
    op.__doc__ = doc
    return op


def _binary(prim: Primitive, doc: str) -> Callable[[Any, Any], Tensor]:
    def op(x: Any, y: Any) -> Tensor:
        if not isinstance(x, Tensor) and not isinstance(y, Tensor):
            x = as_tensor(x)
        return apply(prim, (as_operand(x), as_operand(y)), _NO_PARAMS)

    op.__name__ = op.__qualname__ = prim.name
    op.__doc__ = doc
    return op


exp = _unary(ew.exp, "Elementwise e**x.")
log = _unary(ew.log, "Elementwise natural logarithm (the recitation's ln).")
log1p = _unary(ew.log1p, "Elementwise log(1 + x), accurate for small x.")
expm1 = _unary(ew.expm1, "Elementwise exp(x) - 1, accurate for small x.")
sin = _unary(ew.sin, "Elementwise sine.")
cos = _unary(ew.cos, "Elementwise cosine.")
tan = _unary(ew.tan, "Elementwise tangent.")
tanh = _unary(ew.tanh, "Elementwise hyperbolic tangent.")
sigmoid = _unary(ew.sigmoid, "Elementwise logistic function 1 / (1 + exp(-x)), without overflow.")
relu = _unary(ew.relu, "Elementwise max(x, 0); its derivative at 0 is taken as 0.")
sqrt = _unary(ew.sqrt, "Elementwise square root.")
abs = _unary(ew.abs, "Elementwise absolute value; its derivative at 0 is taken as 0.")  # noqa: A001
negative = _unary(ew.negative, "Elementwise -x.")
sign = _unary(ew.sign, "Elementwise sign (-1, 0 or 1); no gradient flows through it.")

add = _binary(ew.add, "x + y with broadcasting.")
subtract = _binary(ew.subtract, "x - y with broadcasting.")
multiply = _binary(ew.multiply, "x * y with broadcasting.")
divide = _binary(ew.divide, "x / y with broadcasting.")
power = _binary(ew.power, "x ** y with broadcasting.")
maximum = _binary(ew.maximum, "Elementwise larger of x and y; ties send half the gradient to each.")
minimum = _binary(
    ew.minimum, "Elementwise smaller of x and y; ties send half the gradient to each."
)
matmul = _binary(linalg.matmul, "Matrix product with np.matmul's rules (1-D operands, batches).")


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """``x`` where ``condition`` holds, else ``y`` (no gradient flows into the condition)."""
    condition = np.asarray(condition._data if isinstance(condition, Tensor) else condition)
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = as_tensor(x)
    return apply(ew.where, (condition, as_operand(x), as_operand(y)), _NO_PARAMS)


def clip(x: Any, lo: Any = None, hi: Any = None) -> Tensor:
    """Limit values to [lo, hi] (either bound may be None); the gradient is 0 outside."""
    if lo is None and hi is None:
        raise ValueError("clip: give at least one of lo and hi")
    lo = lo._data if isinstance(lo, Tensor) else lo
    hi = hi._data if isinstance(hi, Tensor) else hi
    return apply(ew.clip, (as_tensor(x),), {"lo": lo, "hi": hi})


def compare(ufunc: np.ufunc, x: Any, y: Any) -> Tensor:
    """A comparison or logical ufunc on values: a boolean Tensor without gradient."""
    xv = x._data if isinstance(x, Tensor) else x
    yv = y._data if isinstance(y, Tensor) else y
    try:
        return Tensor(ufunc(xv, yv))
    except ValueError:
        raise ShapeError(
            f"{ufunc.__name__}: cannot broadcast operands of shapes {np.shape(xv)} and "
            f"{np.shape(yv)}"
        ) from None


# --- reductions --------------------------------------------------------------


def normalize_axis(axis: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """None, or a sorted tuple of non-negative axes; a clear error when out of range."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    normalized = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ShapeError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
        normalized.append(int(a) % ndim)
    if len(set(normalized)) != len(normalized):
        raise ShapeError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(normalized))


def _torch_aliases(op: str, axis: Any, keepdims: bool, torch_names: dict) -> tuple[Any, bool]:
    """Accept PyTorch's dim= and keepdim= beside NumPy's axis= and keepdims=."""
    unknown = set(torch_names) - {"dim", "keepdim"}
    if unknown:
        raise TypeError(f"{op}() got unexpected keyword arguments {sorted(unknown)}")
    if "dim" in torch_names:
        if axis is not None:
            raise TypeError(f"{op}(): give axis= or dim=, not both")
        axis = torch_names["dim"]
    if "keepdim" in torch_names:
        keepdims = torch_names["keepdim"]
    return axis, bool(keepdims)


def _reduction(prim: Primitive, doc: str) -> Callable[..., Tensor]:
    def op(x: Any, axis: Any = None, keepdims: bool = False, **torch_names: Any) -> Tensor:
        x = as_tensor(x)
        if torch_names:
            axis, keepdims = _torch_aliases(prim.name, axis, keepdims, torch_names)
        axis = normalize_axis(axis, x.ndim, prim.name)
        if axis is not None and prim.name in ("max", "min") and x.size == 0:
            raise ShapeError(f"{prim.name}: zero-size tensor of shape {x.shape} has no extremum")
        return apply(prim, (x,), {"axis": axis, "keepdims": bool(keepdims)})

    op.__name__ = op.__qualname__ = prim.name
    op.__doc__ = doc
    return op


sum = _reduction(
    reductions.sum, "Sum over ``axis`` (None: all; int or tuple), keeping dims if asked."
)  # noqa: A001
mean = _reduction(reductions.mean, "Mean over ``axis`` (None: all; int or tuple).")
max = _reduction(  # noqa: A001
    reductions.max, "Largest entry over ``axis``; tied entries share the gradient equally."
)
min = _reduction(  # noqa: A001
    reductions.min, "Smallest entry over ``axis``; tied entries share the gradient equally."
)
logsumexp = _reduction(
    reductions.logsumexp,
    "log(sum(exp(x))) over ``axis``, shifted by the maximum so it never overflows.",
)


def _axis_of(op: str, axis: int, torch_names: dict) -> int:
    axis, _ = _torch_aliases(op, None if "dim" in torch_names else axis, False, torch_names)
    return axis


def softmax(x: Any, axis: int = -1, **torch_names: Any) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``, computed stably."""
    x = as_tensor(x)
    (axis,) = normalize_axis(_axis_of("softmax", axis, torch_names), x.ndim, "softmax")
    return apply(nn.softmax, (x,), {"axis": axis})


def log_softmax(x: Any, axis: int = -1, **torch_names: Any) -> Tensor:
    """x - logsumexp(x) along ``axis``, computed stably."""
    x = as_tensor(x)
    (axis,) = normalize_axis(_axis_of("log_softmax", axis, torch_names), x.ndim, "log_softmax")
    return apply(nn.log_softmax, (x,), {"axis": axis})


# --- shapes ------------------------------------------------------------------


def reshape(x: Any, shape: Any) -> Tensor:
    """The same values in a new shape (one entry may be -1)."""
    x = as_tensor(x)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)
    try:
        target = np.empty(x.shape, dtype=np.bool_).reshape(shape).shape
    except ValueError:
        raise ShapeError(
            f"reshape: cannot reshape a tensor of shape {x.shape} into {shape}"
        ) from None
    return apply(shape_ops.reshape, (x,), {"shape": target})


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """Permute axes as np.transpose does (default: reverse them)."""
    x = as_tensor(x)
    if axes is None:
        axes = tuple(reversed(range(x.ndim)))
    else:
        axes = tuple(int(a) % x.ndim if x.ndim else int(a) for a in axes)
        if sorted(axes) != list(range(x.ndim)):
            raise ShapeError(f"transpose: axes {axes} are not a permutation for shape {x.shape}")
    return apply(shape_ops.transpose, (x,), {"axes": axes})


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes."""
    x = as_tensor(x)
    axes = list(range(x.ndim))
    a, b = (normalize_axis(axis, x.ndim, "swapaxes")[0] for axis in (axis1, axis2))
    axes[a], axes[b] = axes[b], axes[a]
    return apply(shape_ops.transpose, (x,), {"axes": tuple(axes)})


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    """Repeat ``x`` along broadcast axes to reach ``shape``."""
    x = as_tensor(x)
    shape = tuple(shape)
    try:
        np.broadcast_shapes(x.shape, shape)
    except ValueError:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return apply(shape_ops.broadcast_to, (x,), {"shape": shape})


def expand_dims(x: Any, axis: int) -> Tensor:
    """Insert a length-1 axis at ``axis``."""
    x = as_tensor(x)
    return reshape(x, np.expand_dims(np.empty(x.shape, dtype=np.bool_), axis).shape)


def squeeze(x: Any, axis: Any = None) -> Tensor:
    """Drop length-1 axes (all of them, or those in ``axis``)."""
    x = as_tensor(x)
    axes = normalize_axis(axis, x.ndim, "squeeze")
    if axes is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    if builtins.any(x.shape[a] != 1 for a in axes):
        raise ShapeError(f"squeeze: axis {axis} of shape {x.shape} does not have length 1")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def astype(x: Any, dtype: Any) -> Tensor:
    """Convert to ``dtype``; the gradient is converted back to the input's dtype."""
    return apply(shape_ops.cast, (as_tensor(x),), {"dtype": np.dtype(dtype)})


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate: need at least one tensor")
    (axis,) = normalize_axis(axis, tensors[0].ndim, "concatenate")
    _check_same_shapes("concatenate", tensors, skip_axis=axis)
    return apply(shape_ops.concatenate, tuple(tensors), {"axis": axis})


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of equal shape along a new axis."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: need at least one tensor")
    (axis,) = normalize_axis(axis, tensors[0].ndim + 1, "stack")
    _check_same_shapes("stack", tensors, skip_axis=None)
    return apply(shape_ops.stack, tuple(tensors), {"axis": axis})


def _check_same_shapes(op: str, tensors: list[Tensor], skip_axis: int | None) -> None:
    def key(t: Tensor) -> tuple:
        return tuple(n for i, n in enumerate(t.shape) if i != skip_axis), t.ndim

    first = key(tensors[0])
    for i, t in enumerate(tensors[1:], start=1):
        if key(t) != first:
            raise ShapeError(
                f"{op}: tensor {i} has shape {t.shape}, which does not match tensor 0's "
                f"shape {tensors[0].shape}"
                + ("" if skip_axis is None else f" outside axis {skip_axis}")
            )


def normalize_index(index: Any) -> tuple:
    """An index as a tuple, with Tensors and lists turned into arrays."""
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for item in items:
        if isinstance(item, Tensor):
            item = item._data
        elif isinstance(item, list):
            item = np.asarray(item)
        out.append(item)
    return tuple(out)


# --- NumPy dispatch ------------------------------------------------------------

_UFUNCS: dict[np.ufunc, Callable[..., Tensor]] = {
    np.add: add,
    np.subtract: subtract,
    np.multiply: multiply,
    np.true_divide: divide,
    np.power: power,
    np.negative: negative,
    np.exp: exp,
    np.log: log,
    np.log1p: log1p,
    np.expm1: expm1,
    np.sin: sin,
    np.cos: cos,
    np.tan: tan,
    np.tanh: tanh,
    np.sqrt: sqrt,
    np.absolute: abs,
    np.maximum: maximum,
    np.minimum: minimum,
    np.matmul: matmul,
    np.sign: sign,
    np.positive: lambda x: x,
}

_COMPARISONS = {
    np.less,
    np.less_equal,
    np.greater,
    np.greater_equal,
    np.equal,
    np.not_equal,
    np.logical_and,
    np.logical_or,
}


def _values(items: Any) -> Any:
    if isinstance(items, Tensor):
        return items._data
    if isinstance(items, (list, tuple)):
        return type(items)(_values(i) for i in items)
    return items


def _needs_grad(items: Any) -> bool:
    if isinstance(items, Tensor):
        return items.requires_grad
    if isinstance(items, (list, tuple)):
        return builtins.any(_needs_grad(i) for i in items)
    return False


def dispatch_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    """np.<ufunc>(tensor, ...): the chainrule operation of the same name."""
    if method == "__call__" and not kwargs:
        if ufunc in _UFUNCS:
            return _UFUNCS[ufunc](*inputs)
        if ufunc in _COMPARISONS:
            return compare(ufunc, *inputs)
    if method == "reduce" and ufunc is np.add and set(kwargs) <= {"axis", "keepdims"}:
        return sum(inputs[0], kwargs.get("axis", 0), kwargs.get("keepdims", False))
    if _needs_grad(inputs) or _needs_grad(kwargs.get("out", ())):
        raise TypeError(
            f"np.{ufunc.__name__}{'' if method == '__call__' else '.' + method} is not "
            "differentiable in chainrule; use a chainrule operation, or detach() first"
        )
    result = getattr(ufunc, method)(*_values(inputs), **_values(kwargs))
    return Tensor(result) if isinstance(result, np.ndarray) else result


def _np_sum(a, axis=None, keepdims=False, **_):  # type: ignore[no-untyped-def]
    return sum(a, axis, keepdims)


_FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    np.sum: _np_sum,
    np.mean: lambda a, axis=None, keepdims=False: mean(a, axis, keepdims),
    np.max: lambda a, axis=None, keepdims=False: max(a, axis, keepdims),
    np.min: lambda a, axis=None, keepdims=False: min(a, axis, keepdims),
    np.reshape: lambda a, shape: reshape(a, shape),
    np.transpose: lambda a, axes=None: transpose(a, axes),
    np.swapaxes: swapaxes,
    np.broadcast_to: lambda a, shape: broadcast_to(a, shape),
    np.expand_dims: expand_dims,
    np.squeeze: lambda a, axis=None: squeeze(a, axis),
    np.concatenate: lambda arrays, axis=0: concatenate(arrays, axis),
    np.stack: lambda arrays, axis=0: stack(arrays, axis),
    np.where: where,
    np.clip: lambda a, a_min=None, a_max=None: clip(a, a_min, a_max),
    np.shape: lambda a: a.shape,
    np.ndim: lambda a: a.ndim,
}


def dispatch_function(func: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """np.<function>(tensor, ...): chainrule's version, or NumPy's when no gradient is involved."""
    if func in _FUNCTIONS:
        return _FUNCTIONS[func](*args, **kwargs)
    if _needs_grad(args) or _needs_grad(kwargs):
        raise TypeError(
            f"np.{func.__name__} is not differentiable in chainrule; use a chainrule "
            "operation, or detach() first"
        )
    return func(*_values(args), **_values(kwargs))
