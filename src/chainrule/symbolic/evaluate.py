"""Numeric evaluation of expressions with the engine's forward functions.

Layer: symbolic (imports numpy, the primitive registry and chainrule.symbolic.expr).

Each node is computed once (the DAG is walked in evaluation order), with the same
forward function the tensor engine uses for the primitive of that name, so a
symbolic expression and its traced tensor computation give the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import reduce
from typing import Any

import numpy as np

from .. import ops  # noqa: F401 - importing the ops package registers the primitives
from ..core.primitive import PRIMITIVES
from . import numbers as num
from .expr import Expr, as_expr, postorder


def as_float_input(value: Any) -> Any:
    """A Python number as float, an array-like as a floating point ndarray."""
    if isinstance(value, float):
        return value
    if isinstance(value, int | np.integer | np.floating):
        return float(value)
    array = np.asarray(value)
    if array.dtype.kind not in "fc":
        array = array.astype(np.float64)
    return array


def forward_function(op: str) -> Any:
    """The NumPy function computing ``op`` on arrays: the registry entry's forward value."""
    return PRIMITIVES[op].evaluate


def evaluate(expr: Any, values: Mapping[Any, Any] | None = None, **kwargs: Any) -> Any:
    """The value of ``expr`` with numbers or arrays for its symbols.

    Arrays broadcast as in NumPy; the result is a float for scalar inputs and an
    array of the inputs' broadcast shape otherwise.

    >>> from chainrule.symbolic import parse
    >>> parse("x**2 + z").evaluate(x=3, z=1)
    10.0
    >>> parse("x**2").evaluate(x=[1, 2])
    array([1., 4.])
    """
    expr = as_expr(expr)
    given = {**(values or {}), **kwargs}
    inputs = {(k.name if isinstance(k, Expr) else k): as_float_input(v) for k, v in given.items()}
    result: dict[Expr, Any] = {}
    with np.errstate(over="ignore"):
        for node in postorder([expr]):
            result[node] = _value(node, result, inputs)
    shape = np.broadcast_shapes(*(np.shape(v) for v in inputs.values()))
    value = result[expr]
    if shape:
        return np.array(np.broadcast_to(value, shape))
    return float(value) if np.ndim(value) == 0 else value


def _value(node: Expr, result: dict[Expr, Any], inputs: dict[str, Any]) -> Any:
    op = node.op
    if op == "const":
        return num.as_float(node.value)
    if op == "symbol":
        if node.value not in inputs:
            raise ValueError(f"evaluate: no value given for the symbol {node.value!r}")
        return inputs[node.value]
    args = [result[a] for a in node.args]
    if op == "add":
        return reduce(np.add, args)
    if op == "multiply":
        return reduce(np.multiply, args)
    return forward_function(op)(*args)
