"""Bridges: chainrule functions to expressions (trace), and to and from SymPy.

Layer: symbolic. :func:`trace` imports the tensor engine when it is called (it runs
the user's function on Tensors); :func:`to_sympy` and :func:`from_sympy` import
SymPy, the optional ``sympy`` extra, when they are called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from ..core.primitive import Traceable
from ..errors import TraceError
from . import expr as E
from .expr import Expr


def _negative(x: Expr) -> Expr:
    return -x


#: The tensor engine's primitives that have a scalar symbolic counterpart.
_FROM_PRIMITIVE: dict[str, Callable[..., Expr]] = {
    "add": lambda x, y: x + y,
    "subtract": lambda x, y: x - y,
    "multiply": lambda x, y: x * y,
    "divide": lambda x, y: x / y,
    "power": lambda x, y: x**y,
    "negative": _negative,
    "sqrt": E.sqrt,
    "maximum": E.maximum,
    "minimum": E.minimum,
    "identity": lambda x: x,
    **{name: getattr(E, name) for name in E.UNARY_FUNCTIONS},
}


def _constant(value: Any, op: str) -> Expr:
    if np.ndim(value) != 0:
        raise TraceError(
            f"trace: {op} has an operand of shape {np.shape(value)}; symbolic expressions "
            "are scalar, so every value in the function must be a scalar"
        )
    return E.const(value)


def trace(
    f: Callable[..., Any], variables: str | Sequence[Any], at: Sequence[float] | None = None
) -> Expr:
    """The expression computed by ``f``, a Python function written with chainrule operations.

    ``f`` is called once with scalar Tensors (at the point ``at``, 1.5 for every
    variable by default) and the recorded graph is read back as an expression, so
    Python control flow follows the branch taken at that point.

    >>> import chainrule as cr
    >>> trace(lambda x, z: cr.exp(x * z) + x * z / cr.log(x), ["x", "z"])
    x*z/log(x) + exp(x*z)
    """
    from ..core import engine
    from ..core.mode import enable_grad
    from ..tensor import Tensor

    if isinstance(variables, str):
        variables = variables.replace(",", " ").split()
    symbols = [E.as_symbol(v) for v in variables]
    point = [1.5] * len(symbols) if at is None else [float(v) for v in at]
    if len(point) != len(symbols):
        raise ValueError(f"trace: {len(symbols)} variables but {len(point)} values in at=")
    leaves = [Tensor(np.array(v), requires_grad=True) for v in point]
    with enable_grad():
        out = f(*leaves)
    if not isinstance(out, Tensor):
        return _constant(out, "the result")
    if out.ndim != 0:
        raise TraceError(f"trace: the function returned shape {out.shape}, not a scalar")
    if not out.requires_grad:
        return _constant(out.data, "the result")
    built: dict[int, Expr] = {id(leaf): s for leaf, s in zip(leaves, symbols, strict=True)}
    for node in reversed(engine.toposort([out])):
        if id(node) in built:
            continue
        if node._prim is None:
            built[id(node)] = _constant(node.data, "a leaf tensor")
            continue
        name = node._prim.name
        if name not in _FROM_PRIMITIVE or node._params:
            supported = ", ".join(sorted(_FROM_PRIMITIVE))
            raise TraceError(
                f"trace: the operation {name!r} has no scalar symbolic form "
                f"(supported: {supported})"
            )
        args = [_operand(inp, built, name) for inp in node._inputs]
        built[id(node)] = _FROM_PRIMITIVE[name](*args)
    return built[id(out)]


def _operand(value: Any, built: dict[int, Expr], op: str) -> Expr:
    """A recorded operand: the expression of a traced tensor, or a constant."""
    if id(value) in built:
        return built[id(value)]
    if isinstance(value, Traceable):
        return _constant(value.data, op)
    return _constant(value, op)


def _sympy() -> Any:
    try:
        import sympy
    except ImportError:  # pragma: no cover - the extra is installed in the test environment
        raise ImportError("to_sympy/from_sympy need SymPy: pip install chainrule[sympy]") from None
    return sympy


def to_sympy(expr: Any) -> Any:
    """The same expression in SymPy (sigmoid as 1/(1 + exp(-x)), relu as Max(0, x)).

    >>> to_sympy("x*log(x)**2")
    x*log(x)**2
    """
    sp = _sympy()
    functions: dict[str, Callable[..., Any]] = {
        "exp": sp.exp,
        "log": sp.log,
        "sin": sp.sin,
        "cos": sp.cos,
        "tan": sp.tan,
        "tanh": sp.tanh,
        "abs": sp.Abs,
        "sign": sp.sign,
        "log1p": lambda a: sp.log(1 + a),
        "expm1": lambda a: sp.exp(a) - 1,
        "sigmoid": lambda a: 1 / (1 + sp.exp(-a)),
        "relu": lambda a: sp.Max(0, a),
        "heaviside": sp.Heaviside,
        "maximum": sp.Max,
        "minimum": sp.Min,
        "add": sp.Add,
        "multiply": sp.Mul,
        "power": sp.Pow,
    }
    converted: dict[Expr, Any] = {}
    for node in E.postorder([E.as_expr(expr)]):
        if node.op == "const":
            value = node.value
            converted[node] = (
                sp.Float(value) if isinstance(value, float) else sp.Rational(Fraction(value))
            )
        elif node.op == "symbol":
            converted[node] = sp.Symbol(node.name)
        else:
            converted[node] = functions[node.op](*(converted[a] for a in node.args))
    return converted[E.as_expr(expr)]


def from_sympy(sympy_expr: Any) -> Expr:
    """A SymPy expression as an Expr (Max(0, x) becomes relu(x), E becomes exp(1)).

    >>> import sympy
    >>> from_sympy(sympy.sqrt(sympy.Symbol("x")) + sympy.Rational(1, 3))
    sqrt(x) + 1/3
    """
    sp = _sympy()
    functions: dict[Any, Callable[..., Expr]] = {
        sp.Add: E.add,
        sp.Mul: E.multiply,
        sp.Pow: E.power,
        sp.exp: E.exp,
        sp.log: E.log,
        sp.sin: E.sin,
        sp.cos: E.cos,
        sp.tan: E.tan,
        sp.tanh: E.tanh,
        sp.Abs: E.abs,
        sp.sign: E.sign,
        sp.Heaviside: E.heaviside,
        sp.Max: _extremum(E.maximum, E.relu),
        sp.Min: _extremum(E.minimum, None),
    }
    converted: dict[Any, Expr] = {}
    for node in sp.postorder_traversal(sympy_expr):
        if node in converted:
            continue
        if node.is_Symbol:
            converted[node] = E.symbol(node.name)
        elif node.is_Integer:
            converted[node] = E.const(int(node))
        elif node.is_Rational:
            converted[node] = E.const(Fraction(int(node.p), int(node.q)))
        elif node.is_Float:
            converted[node] = E.const(float(node))
        elif node is sp.E:
            converted[node] = E.exp(E.const(1))
        elif node.func in functions:
            converted[node] = functions[node.func](*(converted[a] for a in node.args))
        else:
            raise ValueError(f"from_sympy: no chainrule counterpart for {node} ({node.func})")
    return converted[sympy_expr]


def _extremum(
    pairwise: Callable[[Expr, Expr], Expr], with_zero: Callable[[Expr], Expr] | None
) -> Callable[..., Expr]:
    """SymPy's n-ary Max/Min as nested pairs; Max(0, x) is relu(x)."""

    def build(*args: Expr) -> Expr:
        items: Iterable[Expr] = args
        if with_zero is not None and len(args) == 2 and any(a == 0 for a in args):
            (other,) = [a for a in args if not a == 0]
            return with_zero(other)
        result, *rest = items
        for item in rest:
            result = pairwise(result, item)
        return result

    return build
