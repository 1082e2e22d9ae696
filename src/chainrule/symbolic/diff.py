"""Derivatives: the chain rule written once, the partials taken from the engine's registry.

Layer: symbolic (imports chainrule.core's registry and chainrule.symbolic).

Each primitive's forward rule ``jvp(t, ans, *args)`` in :mod:`chainrule.ops` is
written with NumPy ufuncs and operators, and :class:`Expr` implements
``__array_ufunc__``, so calling the rule on expressions returns the symbolic
derivative: ``PRIMITIVES["sin"].jvp(0)(t, sin(x), x)`` is ``t*cos(x)``. :func:`diff`
pushes tangents through the expression DAG in evaluation order (forward mode), so
every shared subexpression is differentiated once.

A few of the engine's partials cannot run on expressions, because they compute
masks from the values of their operands (``chainrule.core.primitive.raw``); their
entries carry symbolic closed forms in ``Notation.partials``, with the engine's
choice at the kink (``abs'(0) = relu'(0) = 0``, a tie of ``maximum`` splits 1/2 each).
An entry without derivative rules (``sign``, ``heaviside``) is piecewise constant: its
derivative is 0 (the jump itself is not represented).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .. import ops  # noqa: F401 - importing the ops package registers the primitives
from ..core.primitive import PRIMITIVES
from ..errors import SymbolicError
from . import expr as E
from .expr import Expr
from .simplify import simplify

Rule = Callable[..., Expr]


def partial_rule(op: str, argnum: int) -> Rule:
    """The forward rule ``(t, ans, *args) -> tangent`` of ``op`` for argument ``argnum``."""
    prim = PRIMITIVES.get(op)
    if prim is None:
        raise SymbolicError(f"{op!r} is not a registered operation")
    notation = prim.notation
    closed_forms = notation.partials if notation is not None else None
    if closed_forms is not None and argnum < len(closed_forms) and closed_forms[argnum]:
        partial = closed_forms[argnum]
        return _checked(op, argnum, lambda t, ans, *args: t * partial(ans, *args))
    rule = prim.jvp(argnum)
    if rule is None:
        raise SymbolicError(f"{op} has no derivative with respect to argument {argnum}")
    return _checked(op, argnum, rule)


def _checked(op: str, argnum: int, rule: Rule) -> Rule:
    """``rule``, raising SymbolicError when it does not give an expression: never a
    silent wrong derivative from a rule written for arrays only."""

    def run(t: Any, ans: Any, *args: Any) -> Expr:
        try:
            result = rule(t, ans, *args)
        except (TypeError, AttributeError, ValueError) as error:
            result = error
        if isinstance(result, int | float) and not isinstance(result, bool):
            result = E.const(result)
        if not isinstance(result, Expr):
            raise SymbolicError(
                f"the partial of {op} with respect to argument {argnum} does not run on "
                f"expressions ({result!r}); give the entry closed forms in Notation.partials"
            )
        return result

    return run


def _tangent(node: Expr, tangents: dict[Expr, Expr]) -> Expr | None:
    """The tangent of ``node`` from its arguments' tangents (None: zero)."""
    op, args = node.op, node.args
    if not PRIMITIVES[op].differentiable:
        return None
    if op == "add":
        # A sum's rule passes each term's tangent through unchanged.
        terms = [tangents[a] for a in args if a in tangents]
    elif op == "multiply":
        # The n-ary product is multiply(a_i, product of the others) for each factor.
        rule = partial_rule("multiply", 0)
        terms = [
            rule(tangents[a], node, a, E.multiply(*args[:i], *args[i + 1 :]))
            for i, a in enumerate(args)
            if a in tangents
        ]
    else:
        terms = [
            partial_rule(op, i)(tangents[a], node, *args)
            for i, a in enumerate(args)
            if a in tangents
        ]
    if not terms:
        return None
    total = E.add(*terms)
    return None if total.op == "const" and total.value == 0 else total


def _raw_derivative(expr: Expr, variable: Expr) -> Expr:
    tangents: dict[Expr, Expr] = {variable: E.const(1)}
    for node in E.postorder([expr]):
        if node.args:
            tangent = _tangent(node, tangents)
            if tangent is not None:
                tangents[node] = tangent
    return tangents.get(expr, E.const(0))


def _variable_list(expr: Expr, variables: Sequence[Any]) -> list[Expr]:
    """SymPy's convention: ``(x, y)``; ``(x, 2)`` for a second derivative; () for one symbol."""
    if not variables:
        free = expr.free_symbols
        if len(free) != 1:
            names = ", ".join(sorted(s.name for s in free)) or "none"
            raise ValueError(f"diff: say which variable to differentiate by (symbols: {names})")
        return list(free)
    order: list[Expr] = []
    for item in variables:
        if isinstance(item, int) and not isinstance(item, bool):
            if not order or item < 0:
                raise ValueError("diff: a count must follow a variable and be >= 0")
            order.extend([order[-1]] * (item - 1))
            if item == 0:
                order.pop()
        else:
            order.append(E.as_symbol(item))
    return order


def diff(expr: Any, *variables: Any) -> Expr:
    """The derivative of ``expr`` by each variable in turn, simplified.

    >>> diff("x**3 + sin(x)", "x")
    3*x**2 + cos(x)
    >>> diff("x**3", "x", 2)
    6*x
    """
    result = E.as_expr(expr)
    for variable in _variable_list(result, variables):
        result = simplify(_raw_derivative(result, variable))
    return result


def _names(variables: str | Iterable[Any]) -> list[Expr]:
    if isinstance(variables, str):
        variables = variables.replace(",", " ").split()
    return [E.as_symbol(v) for v in variables]


def gradient(expr: Any, variables: str | Iterable[Any]) -> tuple[Expr, ...]:
    """The partial derivatives of ``expr`` by each of ``variables``, in order."""
    expr = E.as_expr(expr)
    return tuple(diff(expr, v) for v in _names(variables))


def jacobian(exprs: Iterable[Any], variables: str | Iterable[Any]) -> tuple[tuple[Expr, ...], ...]:
    """Rows of partial derivatives: ``jacobian(fs, vs)[i][j] = d fs[i] / d vs[j]``."""
    names = _names(variables)
    return tuple(gradient(f, names) for f in exprs)


def hessian(expr: Any, variables: str | Iterable[Any]) -> tuple[tuple[Expr, ...], ...]:
    """Second partial derivatives (symmetric: each mixed partial is computed once)."""
    names = _names(variables)
    first = gradient(expr, names)
    rows: list[list[Expr]] = [[E.const(0)] * len(names) for _ in names]
    for i, d_i in enumerate(first):
        for j in range(i, len(names)):
            rows[i][j] = rows[j][i] = diff(d_i, names[j])
    return tuple(tuple(row) for row in rows)
