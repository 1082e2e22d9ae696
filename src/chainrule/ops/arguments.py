"""Argument conventions shared by the entries' ``signature`` (prepare) functions.

Layer: ops (imports numpy, chainrule.core and chainrule.errors). A prepare function
turns a public call's arguments into a primitive's operands and parameters; it sees
its first argument already converted to a Tensor (so it may read ``.shape`` and
``.ndim``) and raises ShapeError or TypeError naming the op when the call cannot be
served. These helpers normalize axes and accept PyTorch's keyword spellings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ShapeError


def normalize_axis(axis: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """None, or a sorted tuple of non-negative axes; a clear error when out of range."""
    if axis is None:
        return None
    if type(axis) is int and -ndim <= axis < ndim:  # the common case, checked cheaply
        return (axis % ndim,)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    normalized = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{op}: an axis must be an integer, got {a!r}")
        if not -ndim <= a < ndim:
            raise ShapeError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
        normalized.append(int(a) % ndim)
    if len(set(normalized)) != len(normalized):
        raise ShapeError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(normalized))


def one_axis(axis: Any, ndim: int, op: str) -> int:
    """A single axis as a non-negative int."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{op}: axis must be one integer, got {axis!r}")
    (a,) = normalize_axis(axis, ndim, op)  # type: ignore[misc]
    return a


def torch_names(op: str, axis: Any, keepdims: Any, aliases: dict[str, Any]) -> tuple[Any, Any]:
    """Accept PyTorch's ``dim=`` and ``keepdim=`` beside NumPy's ``axis=`` and ``keepdims=``."""
    unknown = set(aliases) - {"dim", "keepdim"}
    if unknown:
        raise TypeError(f"{op}() got unexpected keyword arguments {sorted(unknown)}")
    if "dim" in aliases:
        if axis is not None:
            raise TypeError(f"{op}(): give axis= or dim=, not both")
        axis = aliases["dim"]
    if "keepdim" in aliases:
        keepdims = aliases["keepdim"]
    return axis, keepdims


def reduction(op: str) -> Callable[..., tuple[tuple, dict]]:
    """``f(x, axis=None, keepdims=False)`` (or ``dim=``/``keepdim=``): params axis, keepdims."""

    def prepare(x: Any, axis: Any = None, keepdims: bool = False, **aliases: Any) -> tuple:
        if aliases:
            axis, keepdims = torch_names(op, axis, keepdims, aliases)
        return (x,), {"axis": normalize_axis(axis, x.ndim, op), "keepdims": bool(keepdims)}

    prepare.__name__ = f"prepare_{op}"
    return prepare


def along_axis(op: str, default: int | None) -> Callable[..., tuple[tuple, dict]]:
    """``f(x, axis=default)`` (or ``dim=``) along one axis: param axis (None: all)."""

    def prepare(x: Any, axis: Any = default, **aliases: Any) -> tuple:
        if aliases:
            axis, _ = torch_names(op, None if "dim" in aliases else axis, False, aliases)
        return (x,), {"axis": None if axis is None else one_axis(axis, x.ndim, op)}

    prepare.__name__ = f"prepare_{op}"
    return prepare


def standard_dtype(dtype: Any) -> np.dtype:
    """A dtype given as any library's (NumPy's, CuPy's, array_api_strict's, a name) as the
    NumPy dtype of the same name: what entries hold as their ``dtype`` parameter, so that
    parameters compare and hash alike whatever library the caller named it in. A forward
    on another library's arrays turns it back into that library's (``shape.native_dtype``).
    """
    try:
        return np.dtype(dtype)
    except TypeError:
        name = str(dtype).rpartition(".")[2]  # array_api_strict.float32, torch.float32
        try:
            return np.dtype(name)
        except TypeError:
            raise TypeError(f"not a dtype: {dtype!r}") from None


def operand_sequence(prepare: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a prepare function whose first argument is a sequence of operands
    (concatenate, stack): it receives them as a tuple of Tensors."""
    prepare.operand_sequence = True  # type: ignore[attr-defined]
    return prepare


def leading_parameter(prepare: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a prepare function whose first argument is a parameter, not an operand
    (a subscripts string): every later positional argument is an operand, received as a
    Tensor."""
    prepare.leading_parameter = True  # type: ignore[attr-defined]
    return prepare


_BOUND_NAMES = {"min": 0, "a_min": 0, "max": 1, "a_max": 1}


def clip_bounds(op: str, lo: Any, hi: Any, aliases: dict[str, Any]) -> tuple[Any, Any]:
    """clip's bounds from ``(lo, hi)``, NumPy's ``a_min=``/``a_max=`` or ``min=``/``max=``
    (PyTorch's ``clamp(min=, max=)``); at least one must be given."""
    bounds = [lo, hi]
    for name, value in aliases.items():
        if name not in _BOUND_NAMES:
            raise TypeError(f"{op}() got an unexpected keyword argument {name!r}")
        position = _BOUND_NAMES[name]
        if bounds[position] is not None:
            raise TypeError(f"{op}(): the {('lower', 'upper')[position]} bound is given twice")
        bounds[position] = value
    if bounds[0] is None and bounds[1] is None:
        raise ValueError(f"{op}: give at least one of the bounds (lo/min, hi/max)")
    return bounds[0], bounds[1]
