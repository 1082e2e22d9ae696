"""Symbolic differentiation: the recitation's approach 2.

Layer: symbolic (imports numpy, chainrule.core, the primitive registry and
chainrule.errors; ``to_sympy``/``from_sympy`` import SymPy when called). To turn a
chainrule function into an expression, see :func:`chainrule.explainer.to_expression`.

>>> from chainrule.symbolic import parse, diff, gradient
>>> y = parse("exp(x*z) + x*z/ln(x) + sin(ln(x))/(x*z)")
>>> diff(y, "z")
x*exp(x*z) + x/log(x) - sin(log(x))/(x*z**2)
>>> [round(float(d.evaluate(x=2, z=3)), 6) for d in gradient(y, ["x", "z"])]
[1208.381215, 809.707479]

Expressions are immutable, hash-consed DAGs kept in a canonical form
(:mod:`~chainrule.symbolic.expr`); derivatives use the tensor engine's own rules
(:mod:`~chainrule.symbolic.diff`); :func:`compile` and :func:`compile_gradient`
generate straight-line NumPy code.

The language's functions are the registry entries with a ``Notation``: each is a
constructor here (``sinh(x)``, ``ln`` for ``log``), looked up when asked for, so an
operation registered after import is one too.

>>> from chainrule.symbolic import sinh, symbols
>>> sinh(-symbols("x")).diff("x")
-cosh(x)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import language
from .bridges import from_sympy, to_sympy
from .compile import compile, compile_gradient
from .diff import diff, gradient, hessian, jacobian
from .evaluate import evaluate
from .expr import Expr, Size, as_expr, const, function, symbols
from .parse import ParseError, parse
from .printing import to_latex, to_str
from .simplify import simplify

__all__ = [
    "Expr",
    "ParseError",
    "Size",
    "as_expr",
    "compile",
    "compile_gradient",
    "const",
    "constructor",
    "diff",
    "evaluate",
    "from_sympy",
    "function",
    "gradient",
    "hessian",
    "jacobian",
    "parse",
    "simplify",
    "symbols",
    "to_latex",
    "to_str",
    "to_sympy",
]

_constructors: dict[str, tuple[Any, Callable[..., Expr]]] = {}


def constructor(name: str) -> Callable[..., Expr]:
    """The symbolic function ``name`` of the language (``sinh``), built from its registry entry."""
    prim = language.function_entry(name)
    if prim is None:
        raise AttributeError(f"chainrule.symbolic has no function {name!r}")
    cached = _constructors.get(name)
    if cached is not None and cached[0] is prim:
        return cached[1]

    def build(*args: Any) -> Expr:
        return function(prim.name, *args)

    build.__name__ = build.__qualname__ = name
    build.__doc__ = f"The symbolic {prim.name}: {prim.doc}"
    _constructors[name] = (prim, build)
    return build


def __getattr__(name: str) -> Callable[..., Expr]:
    """``chainrule.symbolic.sinh``: every function of the language, read from the registry."""
    if language.function_entry(name) is None:
        raise AttributeError(f"module 'chainrule.symbolic' has no attribute {name!r}")
    return constructor(name)


def __dir__() -> list[str]:
    return sorted({*globals(), *language.functions()})


# ``from chainrule.symbolic import *`` also gives the functions registered when this
# package was imported; ones registered later are reachable as attributes.
__all__ += sorted(set(language.functions()) - set(__all__))
