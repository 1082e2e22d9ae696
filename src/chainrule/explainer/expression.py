"""Chainrule functions as symbolic expressions: run once on Tensors, read the graph back.

Layer: explain (imports the tensor engine and chainrule.symbolic). It sits here, above
both, because it needs the two: the symbolic package itself knows only the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import symbolic
from ..core import engine
from ..core.mode import enable_grad
from ..core.primitive import Traceable
from ..errors import TraceError
from ..symbolic import expr as E
from ..symbolic import language
from ..tensor import Tensor

#: Nodes that pass their operand through unchanged (the API's fresh-leaf copies).
_PASSTHROUGH = frozenset({"identity"})


def _constant(value: Any, op: str) -> symbolic.Expr:
    if np.ndim(value) != 0:
        raise TraceError(
            f"to_expression: {op} has an operand of shape {np.shape(value)}; symbolic "
            "expressions are scalar, so every value in the function must be a scalar"
        )
    return E.const(value)


def _has_symbolic_form(name: str) -> bool:
    return name in E.OPERATORS or language.function_entry(name) is not None


def to_expression(
    f: Callable[..., Any], variables: str | Sequence[Any], at: Sequence[float] | None = None
) -> symbolic.Expr:
    """The expression computed by ``f``, a Python function written with chainrule operations.

    ``f`` is called once with scalar Tensors (at the point ``at``, 1.5 for every
    variable by default) and the recorded graph is read back as an expression, so
    Python control flow follows the branch taken at that point. Every operator and
    every function of the symbolic language (a registry entry with a ``Notation``)
    has a scalar form; any other operation raises TraceError.

    >>> import chainrule as cr
    >>> to_expression(lambda x, z: cr.exp(x * z) + x * z / cr.log(x), ["x", "z"])
    x*z/log(x) + exp(x*z)
    """
    if isinstance(variables, str):
        variables = variables.replace(",", " ").split()
    symbols = [E.as_symbol(v) for v in variables]
    point = [1.5] * len(symbols) if at is None else [float(v) for v in at]
    if len(point) != len(symbols):
        raise ValueError(f"to_expression: {len(symbols)} variables but {len(point)} values in at=")
    leaves = [Tensor(np.array(v), requires_grad=True) for v in point]
    with enable_grad():
        out = f(*leaves)
    if not isinstance(out, Tensor):
        return _constant(out, "the result")
    if out.ndim != 0:
        raise TraceError(f"to_expression: the function returned shape {out.shape}, not a scalar")
    if not out.requires_grad:
        return _constant(out.data, "the result")
    built: dict[int, symbolic.Expr] = {id(leaf): s for leaf, s in zip(leaves, symbols, strict=True)}
    for node in reversed(engine.toposort([out])):
        if id(node) in built:
            continue
        if node._prim is None:
            built[id(node)] = _constant(node.data, "a leaf tensor")
            continue
        name = node._prim.name
        if node._params or not (name in _PASSTHROUGH or _has_symbolic_form(name)):
            raise TraceError(
                f"to_expression: the operation {name!r} has no scalar symbolic form (the "
                "operators and the functions with a Notation in the registry have one)"
            )
        args = [_operand(inp, built, name) for inp in node._inputs]
        built[id(node)] = args[0] if name in _PASSTHROUGH else E.apply(name, *args)
    return built[id(out)]


def _operand(value: Any, built: dict[int, symbolic.Expr], op: str) -> symbolic.Expr:
    """A recorded operand: the expression of a traced tensor, or a constant."""
    if id(value) in built:
        return built[id(value)]
    if isinstance(value, Traceable):
        return _constant(value.data, op)
    return _constant(value, op)
