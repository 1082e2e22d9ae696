"""Symbolic differentiation: the recitation's approach 2.

Layer: symbolic (imports numpy, chainrule.core and the primitive registry; the
``trace`` bridge imports the tensor engine when called, ``to_sympy``/``from_sympy``
import SymPy when called).

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
"""

from .bridges import from_sympy, to_sympy, trace
from .compile import compile, compile_gradient
from .diff import diff, gradient, hessian, jacobian
from .evaluate import evaluate
from .expr import (
    Expr,
    Size,
    abs,
    as_expr,
    const,
    cos,
    exp,
    expm1,
    heaviside,
    log,
    log1p,
    maximum,
    minimum,
    relu,
    sigmoid,
    sign,
    sin,
    sqrt,
    symbols,
    tan,
    tanh,
)
from .parse import ParseError, parse
from .printing import to_latex, to_str
from .simplify import simplify

ln = log

__all__ = [
    "Expr",
    "ParseError",
    "Size",
    "abs",
    "as_expr",
    "compile",
    "compile_gradient",
    "const",
    "cos",
    "diff",
    "evaluate",
    "exp",
    "expm1",
    "from_sympy",
    "gradient",
    "heaviside",
    "hessian",
    "jacobian",
    "ln",
    "log",
    "log1p",
    "maximum",
    "minimum",
    "parse",
    "relu",
    "sigmoid",
    "sign",
    "simplify",
    "sin",
    "sqrt",
    "symbols",
    "tan",
    "tanh",
    "to_latex",
    "to_str",
    "to_sympy",
    "trace",
]
