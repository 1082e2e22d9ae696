"""Bridges to and from SymPy, generated from the registry's notations.

Layer: symbolic. :func:`to_sympy` and :func:`from_sympy` import SymPy, the optional
``sympy`` extra, when they are called. Each function's SymPy counterpart is its
``Notation.sympy``: a SymPy name (``"sinh"``), or a ``(to_sympy, from_sympy)`` pair for
one that SymPy writes in other terms (``sigmoid`` is ``1/(1 + exp(-x))``, and is not
recognized on the way back).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from ..errors import MissingExtraError, SymbolicError
from . import expr as E
from . import language
from .expr import Expr


def _sympy() -> Any:
    try:
        import sympy
    except ImportError:
        raise MissingExtraError(
            "to_sympy/from_sympy needs sympy, which is not installed: "
            "pip install 'chainrule[sympy]'",
            name="sympy",
        ) from None
    return sympy


def _to_sympy_function(sp: Any, op: str) -> Callable[..., Any]:
    """SymPy's version of function ``op``, from its notation."""
    notation = language.notation(op)
    counterpart = notation.sympy if notation is not None else None
    if counterpart is None:
        raise SymbolicError(f"to_sympy: {op} has no SymPy counterpart (its Notation.sympy)")
    if isinstance(counterpart, str):
        return getattr(sp, counterpart)
    to_sympy_, _ = counterpart
    return lambda *args: to_sympy_(sp, *args)


def to_sympy(expr: Any) -> Any:
    """The same expression in SymPy (sigmoid as 1/(1 + exp(-x)), relu as Max(0, x)).

    >>> to_sympy("x*log(x)**2")
    x*log(x)**2
    """
    sp = _sympy()
    canonical = {"add": sp.Add, "multiply": sp.Mul, "power": sp.Pow}
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
            build = canonical.get(node.op) or _to_sympy_function(sp, node.op)
            converted[node] = build(*(converted[a] for a in node.args))
    return converted[E.as_expr(expr)]


def _from_sympy_functions(sp: Any) -> dict[Any, Callable[..., Expr]]:
    """SymPy classes -> builders of the same Expr, for every function that names one."""
    functions: dict[Any, Callable[..., Expr]] = {sp.Add: E.add, sp.Mul: E.multiply, sp.Pow: E.power}
    for name, prim in language.functions().items():
        if name != prim.name or prim.notation.rewrite is not None:
            continue  # an alias, or a function written in other terms (never a node)
        counterpart = prim.notation.sympy
        if isinstance(counterpart, tuple):
            counterpart = counterpart[1]
        elif isinstance(counterpart, str):
            counterpart = getattr(sp, counterpart)
        if counterpart is not None:
            functions[counterpart] = _builder(prim.name, prim.notation.commutative)
    # SymPy has no relu: Max(0, x) is read back as relu(x).
    maximum = functions.get(sp.Max)
    if maximum is not None and language.function_entry("relu") is not None:
        functions[sp.Max] = _relu_or(maximum)
    return functions


def _builder(name: str, commutative: bool) -> Callable[..., Expr]:
    """``name`` on SymPy's arguments; a commutative function's n-ary SymPy form as pairs."""

    def build(*args: Expr) -> Expr:
        if not commutative or len(args) <= 2:
            return E.function(name, *args)
        result, *rest = args
        for item in rest:
            result = E.function(name, result, item)
        return result

    return build


def _relu_or(maximum: Callable[..., Expr]) -> Callable[..., Expr]:
    def build(*args: Expr) -> Expr:
        if len(args) == 2 and any(a == 0 for a in args):
            (other,) = [a for a in args if not a == 0]
            return E.function("relu", other)
        return maximum(*args)

    return build


def from_sympy(sympy_expr: Any) -> Expr:
    """A SymPy expression as an Expr (Max(0, x) becomes relu(x), E becomes exp(1)).

    >>> import sympy
    >>> from_sympy(sympy.sqrt(sympy.Symbol("x")) + sympy.Rational(1, 3))
    sqrt(x) + 1/3
    """
    sp = _sympy()
    functions = _from_sympy_functions(sp)
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
            converted[node] = E.function("exp", 1)
        elif node is sp.pi:
            converted[node] = E.const(math.pi)  # as the parser reads "pi": the float
        elif node.func in functions:
            converted[node] = functions[node.func](*(converted[a] for a in node.args))
        else:
            raise SymbolicError(f"from_sympy: no chainrule counterpart for {node} ({node.func})")
    return converted[sympy_expr]
