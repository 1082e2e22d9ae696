"""Simplification beyond the canonical form: sums over a shared denominator.

Layer: symbolic (imports chainrule.symbolic.expr).

The constructors already fold constants, collect like terms and factors and sort
(:mod:`chainrule.symbolic.expr`). :func:`simplify` adds one rewrite that a person
does by hand and the canonical form does not: terms of a sum that share the same
denominator are written over it once, so ``cos(u)/(x**2*z) - sin(u)/(x**2*z)``
becomes ``(cos(u) - sin(u))/(x**2*z)``. Numbers are not touched, so values are
unchanged wherever the original is defined.
"""

from __future__ import annotations

from typing import Any

from . import expr as E
from .expr import Expr


def _denominator(term: Expr) -> tuple[Expr, ...]:
    """The factors of ``term`` with a negative numeric exponent."""
    factors = term.args if term.op == "multiply" else (term,)
    return tuple(
        f for f in factors if f.op == "power" and f.args[1].op == "const" and f.args[1].value < 0
    )


def _over_common_denominators(node: Expr) -> Expr:
    groups: dict[tuple[Expr, ...], list[Expr]] = {}
    for term in node.args:
        groups.setdefault(_denominator(term), []).append(term)
    if all(len(terms) == 1 or not key for key, terms in groups.items()):
        return node
    terms = []
    for denominator, members in groups.items():
        if len(members) == 1 or not denominator:
            terms.extend(members)
            continue
        shared = E.multiply(*denominator)
        numerators = [E.divide(term, shared) for term in members]
        terms.append(E.multiply(E.add(*numerators), shared))
    return E.add(*terms)


def simplify(expr: Any) -> Expr:
    """``expr`` with sums over shared denominators combined, bottom up.

    >>> simplify("cos(x)/(x*z) - sin(x)/(x*z) + 1")
    (cos(x) - sin(x))/(x*z) + 1
    """
    expr = E.as_expr(expr)
    done: dict[Expr, Expr] = {}
    for node in E.postorder([expr]):
        if not node.args:
            done[node] = node
            continue
        rebuilt = E.rebuild(node, [done[a] for a in node.args])
        done[node] = _over_common_denominators(rebuilt) if rebuilt.op == "add" else rebuilt
    return done[expr]
