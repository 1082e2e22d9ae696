"""Code generation: expressions to straight-line Python/NumPy functions.

Layer: symbolic (imports numpy, the primitive registry and chainrule.symbolic).

Each distinct subexpression becomes one assignment, computed once (common
subexpression elimination on the DAG, and on the text of products and sums, so
``x*z`` inside ``x*z/log(x)`` reuses an earlier ``x*z``). Subexpressions without
symbols are evaluated once at compile time. The same source is compiled twice:
with each entry's ``Notation.scalar`` (the ``math`` module's functions) for Python
floats (fast: no array overhead) and with the registry's NumPy forward functions
for arrays. A float input that
leaves ``math``'s domain (log of 0, overflow, division by zero) is recomputed with
NumPy, so results follow NumPy's rules (inf, nan) either way.
"""

from __future__ import annotations

import builtins
import keyword
import math
import re
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from ..core.primitive import PRIMITIVES, Primitive
from . import expr as E
from . import language
from .diff import gradient
from .evaluate import as_float_input, evaluate
from .expr import Expr

#: Names the generated code uses besides the functions: literals that are not numbers.
_LITERALS = {"inf": math.inf, "nan": math.nan}


def _callees() -> dict[str, Primitive]:
    """The entries generated code calls by name: the language's functions and ``power``."""
    return {**language.functions(), "power": PRIMITIVES["power"]}


def _array_namespace() -> dict[str, Any]:
    """The registry's forward functions, by name."""
    return {name: prim.evaluate for name, prim in _callees().items()} | _LITERALS


def _scalar_namespace() -> dict[str, Any]:
    """Each entry's scalar (``math``) function, by name."""
    return {name: language.scalar_function(p) for name, p in _callees().items()} | _LITERALS


def _literal(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "(-inf)"
    return repr(value) if value >= 0 else f"({value!r})"


class _Emitter:
    """Writes one assignment per distinct operation and returns the name holding it."""

    def __init__(self, parameters: dict[Expr, str]) -> None:
        self.atoms: dict[Expr, str] = dict(parameters)
        self.assigned: dict[str, str] = {}
        self.lines: list[tuple[str, str]] = []

    def emit(self, code: str) -> str:
        name = self.assigned.get(code)
        if name is None:
            name = f"_{len(self.assigned)}"
            self.assigned[code] = name
            self.lines.append((name, code))
        return name

    def atom(self, node: Expr) -> str:
        """The name or literal holding ``node`` (emitting it and what it needs first)."""
        found = self.atoms.get(node)
        if found is None:
            for sub in E.postorder([node]):
                if sub not in self.atoms:
                    self.atoms[sub] = self._code(sub)
            found = self.atoms[node]
        return found

    def _code(self, node: Expr) -> str:
        op = node.op
        if op == "const":
            return _literal(float(node))
        if op == "symbol":
            raise ValueError(f"compile: {node.name!r} is not among the variables")
        if not node.free_symbols:
            return _literal(float(evaluate(node)))
        if op == "add":
            return self._sum(node)
        if op == "multiply":
            return self._product(node)
        if op == "power":
            return self._power(node.args[0], node.args[1])
        return self.emit(f"{op}({', '.join(self.atom(a) for a in node.args)})")

    def _sum(self, node: Expr) -> str:
        terms = list(node.args)
        if terms[0].op == "const":
            terms.append(terms.pop(0))
        total = self.atom(terms[0])
        for term in terms[1:]:
            if term.op == "multiply" and term.args[0].op == "const" and term.args[0].value < 0:
                total = self.emit(f"{total} - {self.atom(E.negative(term))}")
            else:
                total = self.emit(f"{total} + {self.atom(term)}")
        return total

    def _chain(self, names: list[str], operator: str) -> str:
        total = names[0]
        for name in names[1:]:
            total = self.emit(f"{total} {operator} {name}")
        return total

    def _product(self, node: Expr) -> str:
        factors = list(node.args)
        coefficient = factors.pop(0).value if factors[0].op == "const" else 1
        numerator, denominator = [], []
        for factor in factors:
            base, exponent = factor.args if factor.op == "power" else (factor, None)
            if exponent is not None and exponent.op == "const" and exponent.value < 0:
                denominator.append(self.atom(E.power(base, E.const(-exponent.value))))
            else:
                numerator.append(self.atom(factor))
        if denominator:
            top = self._chain(numerator, "*") if numerator else "1.0"
            result = self.emit(f"{top} / {self._chain(denominator, '*')}")
        else:
            result = self._chain(numerator, "*")
        if coefficient == -1:
            return self.emit(f"-{result}")
        if coefficient != 1:
            return self.emit(f"{_literal(float(coefficient))} * {result}")
        return result

    def _power(self, base: Expr, exponent: Expr) -> str:
        b = self.atom(base)
        if exponent.op != "const":
            return self.emit(f"power({b}, {self.atom(exponent)})")
        value = exponent.value
        if value == Fraction(1, 2):
            return self.emit(f"sqrt({b})")
        if value == Fraction(-1, 2):
            return self.emit(f"1.0 / sqrt({b})")
        if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
            k = int(value)
            if k == 2:
                return self.emit(f"{b} * {b}")
            if k < 0:
                return self.emit(f"1.0 / {self._power(base, E.const(-k))}")
            return self.emit(f"{b} ** {k}")
        return self.emit(f"power({b}, {_literal(float(value))})")


def _parameter_names(variables: Sequence[Expr]) -> list[str]:
    names = []
    reserved = set(_callees()) | set(_LITERALS)
    for i, v in enumerate(variables):
        name = v.name
        if keyword.iskeyword(name) or name.startswith("_") or name in reserved:
            name = f"_v{i}"
        names.append(name)
    return names


def _symbols(variables: str | Iterable[Any]) -> list[Expr]:
    if isinstance(variables, str):
        variables = variables.replace(",", " ").split()
    symbols = [E.as_symbol(v) for v in variables]
    if len(set(symbols)) != len(symbols):
        raise ValueError("compile: the variables repeat")
    return symbols


def _generate(
    name: str, outputs: Sequence[Expr], variables: list[Expr], layout: Callable[[list[str]], str]
) -> tuple[str, list[str]]:
    missing = set().union(*(o.free_symbols for o in outputs)) - set(variables)
    if missing:
        names = ", ".join(sorted(s.name for s in missing))
        raise ValueError(f"compile: the expression also depends on {names}; list it in variables")
    parameters = _parameter_names(variables)
    emitter = _Emitter(dict(zip(variables, parameters, strict=True)))
    results = [emitter.atom(o) for o in outputs]
    lines, results = _prune(emitter.lines, results)
    body = [f"    {target} = {code}" for target, code in lines]
    body.append(f"    return {layout(results)}")
    source = f"def {name}({', '.join(parameters)}):\n" + "\n".join(body) + "\n"
    return source, parameters


_TEMPORARY = re.compile(r"\b_\d+\b")


def _prune(
    lines: list[tuple[str, str]], results: list[str]
) -> tuple[list[tuple[str, str]], list[str]]:
    """Drop assignments no output needs, then number the temporaries in order."""
    live = set(results)
    kept = []
    for target, code in reversed(lines):
        if target in live:
            kept.append((target, code))
            live.update(_TEMPORARY.findall(code))
    kept.reverse()
    renamed = {target: f"_{i}" for i, (target, _) in enumerate(kept)}

    def rename(text: str) -> str:
        return _TEMPORARY.sub(lambda m: renamed.get(m.group(), m.group()), text)

    return [(renamed[t], rename(code)) for t, code in kept], [rename(r) for r in results]


_DISPATCH = """\
def {name}({params}):
    if {all_float}:
        try:
            return _scalar({params})
        except (ArithmeticError, ValueError):
            pass
    return _general({params})
"""


def _build(
    name: str,
    source: str,
    parameters: list[str],
    shape_result: Callable[[Any, tuple[int, ...]], Any],
) -> Callable[..., Any]:
    """Compile ``source`` for floats and for arrays, behind a dispatcher on the input types."""
    code = builtins.compile(source, f"<chainrule.symbolic {name}>", "exec")
    scalar_namespace, array_namespace = _scalar_namespace(), _array_namespace()
    exec(code, scalar_namespace)
    exec(code, array_namespace)
    scalar, array = scalar_namespace[name], array_namespace[name]

    def general(*values: Any) -> Any:
        inputs = [as_float_input(v) for v in values]
        if all(type(v) is float for v in inputs):
            try:
                return scalar(*inputs)
            except (ArithmeticError, ValueError):
                pass
        shape = np.broadcast_shapes(*(np.shape(v) for v in inputs))
        arrays = [np.float64(v) if type(v) is float else v for v in inputs]
        with np.errstate(all="ignore"):
            return shape_result(array(*arrays), shape)

    params = ", ".join(parameters)
    all_float = " and ".join(f"type({p}) is float" for p in parameters) or "True"
    namespace = {"_scalar": scalar, "_general": general}
    exec(_DISPATCH.format(name=name, params=params, all_float=all_float), namespace)
    function = namespace[name]
    function.source = source
    function.__doc__ = f"Generated by chainrule.symbolic; see .source.\n\n{source}"
    return function


def _fit(value: Any, shape: tuple[int, ...]) -> Any:
    """An output as a float for scalar inputs, or an array of the inputs' broadcast shape."""
    if not shape:
        return float(value)
    return np.array(np.broadcast_to(value, shape), dtype=np.result_type(value, np.float64))


def compile(  # noqa: A001 - the issue's name, as in SymPy's lambdify-style APIs
    expr: Any, variables: str | Iterable[Any], name: str = "f"
) -> Callable[..., Any]:
    """A fast function ``f(*values) -> value`` computing ``expr``; its code is ``f.source``.

    >>> f = compile("x*z + exp(x*z)", ["x", "z"])
    >>> f(0.0, 5.0)
    1.0
    >>> print(f.source, end="")
    def f(x, z):
        _0 = x * z
        _1 = exp(_0)
        _2 = _0 + _1
        return _2
    """
    symbols = _symbols(variables)
    source, parameters = _generate(name, [E.as_expr(expr)], symbols, lambda r: r[0])
    return _build(name, source, parameters, _fit)


def compile_gradient(
    expr: Any, variables: str | Iterable[Any], name: str = "value_and_gradient"
) -> Callable[..., Any]:
    """A fast ``g(*values) -> (value, (d_1, ..., d_n))``, partials in the order of ``variables``.

    The value and all partials share their common subexpressions.

    >>> g = compile_gradient("x**2 * z", "x z")
    >>> g(3.0, 2.0)
    (18.0, (12.0, 9.0))
    """
    expr = E.as_expr(expr)
    symbols = _symbols(variables)
    outputs = [expr, *gradient(expr, symbols)]

    def layout(results: list[str]) -> str:
        partials = ", ".join(results[1:]) + ("," if len(results) == 2 else "")
        return f"{results[0]}, ({partials})"

    def shape_result(result: Any, shape: tuple[int, ...]) -> Any:
        value, partials = result
        return _fit(value, shape), tuple(_fit(p, shape) for p in partials)

    source, parameters = _generate(name, outputs, symbols, layout)
    return _build(name, source, parameters, shape_result)
