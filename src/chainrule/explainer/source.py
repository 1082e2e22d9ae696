"""What is explained: an expression in text or a Python function, as a function of named scalars.

Layer: explain (imports the registry, the tensor engine and symbolic). Text is
parsed by the symbolic parser twice over: once exactly as written, each operator
and function applied to Tensors through its registry entry (``Primitive.bind``), so
the trace shows the user's own steps (``x*z/log(x)`` stays a product and a
quotient), and once into a canonical :class:`~chainrule.symbolic.Expr` for the
symbolic derivatives. The functions it knows are the symbolic language's: the
registry entries with a ``Notation``. A Python function is traced into an Expr when
it is made of scalar operations only.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import symbolic
from ..core.primitive import PRIMITIVES
from ..errors import TraceError
from ..symbolic import expr as E
from ..symbolic.diff import partial_rule
from ..symbolic.parse import Builder
from ..symbolic.simplify import simplify
from .expression import to_expression
from .trace import Trace


class _NameCollector(Builder):
    """Collects variable names in order of first appearance; builds nothing."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def const(self, value: int | float) -> None:
        return None

    def symbol(self, name: str) -> None:
        if name not in self.names:
            self.names.append(name)

    def negative(self, x: Any) -> None:
        return None

    def binary(self, op: str, left: Any, right: Any) -> None:
        return None

    def sum(self, first: Any, rest: list[tuple[str, Any]]) -> None:
        return None

    def product(self, first: Any, rest: list[tuple[str, Any]]) -> None:
        return None

    def call(self, name: str, args: list[Any]) -> None:
        return None


class _TensorBuilder(Builder):
    """Builds the expression as written, with chainrule operations on the given values."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values

    def const(self, value: int | float) -> float:
        return float(value)

    def symbol(self, name: str) -> Any:
        return self.values[name]

    def negative(self, x: Any) -> Any:
        return self._apply("negative", x)

    def binary(self, op: str, left: Any, right: Any) -> Any:
        return self._apply(op, left, right)

    def _apply(self, op: str, *args: Any) -> Any:
        """The registry entry ``op`` on Tensors (or on constants, which must stay finite)."""
        with np.errstate(all="ignore"):
            try:
                result = PRIMITIVES[op].bind(*args)
            except (OverflowError, ZeroDivisionError):
                result = np.inf
        if all(isinstance(a, float) for a in args) and not np.isfinite(result):
            shown = ", ".join(repr(a) for a in args)
            raise ValueError(f"the constant {op}({shown}) is not a finite float64")
        return result

    def sum(self, first: Any, rest: list[tuple[str, Any]]) -> Any:
        """As written: left to right, one operation at a time."""
        total = first
        for op, term in rest:
            total = self.binary(op, total, term)
        return total

    product = sum  # also left to right, one operation at a time

    def call(self, name: str, args: list[Any]) -> Any:
        return self._apply(name, *args)


def _point_value(value: Any) -> Any:
    """A float for a scalar, a float64 array for an array (tensor code is explained too)."""
    array = np.asarray(value, dtype=np.float64)
    return float(array) if array.ndim == 0 else array


class Source:
    """A function of named scalars or arrays, its point, and its canonical expression when known."""

    def __init__(
        self,
        title: str,
        function: Callable[..., Any],
        variables: list[str],
        point: Mapping[str, float],
        expression: symbolic.Expr | None,
    ) -> None:
        if not variables:
            raise ValueError(f"{title!r} has no variables to differentiate by")
        missing = [name for name in variables if name not in point]
        if missing:
            raise ValueError(
                f"no value for variable {', '.join(missing)}: give it with --at "
                + " ".join(f"{name}=..." for name in missing)
            )
        unknown = [name for name in point if name not in variables]
        if unknown:
            raise ValueError(
                f"--at names {', '.join(unknown)}, which the expression does not use "
                f"(its variables: {', '.join(variables)})"
            )
        self.title = title
        self.function = function
        self.variables = variables
        self.point = {name: _point_value(point[name]) for name in variables}
        self.expression = expression

    def derivatives(self) -> dict[str, symbolic.Expr]:
        """The symbolic partial derivatives (empty when there is no expression)."""
        if self.expression is None:
            return {}
        return dict(
            zip(self.variables, symbolic.gradient(self.expression, self.variables), strict=True)
        )

    def derivative_values(self, derivatives: Mapping[str, symbolic.Expr]) -> dict[str, float]:
        return {name: float(d.evaluate(**self.point)) for name, d in derivatives.items()}


def from_text(text: str, point: Mapping[str, float]) -> Source:
    """A Source for an expression in text (parse errors propagate as ParseError)."""
    collector = _NameCollector()
    symbolic.parse(text, builder=collector)
    expression = symbolic.parse(text)

    def function(**values: Any) -> Any:
        return symbolic.parse(text, builder=_TensorBuilder(values))

    return Source(text, function, collector.names, point, expression)


def from_callable(f: Callable[..., Any], point: Mapping[str, float]) -> Source:
    """A Source for a Python function written with chainrule operations."""
    variables = [
        name
        for name, p in inspect.signature(f).parameters.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and (name in point or p.default is p.empty)
    ]
    title = getattr(f, "__name__", "f")
    expression = None
    scalar = all(np.ndim(point[name]) == 0 for name in variables if name in point)
    if variables and scalar and all(name in point for name in variables):
        try:
            expression = to_expression(
                lambda *xs: f(**dict(zip(variables, xs, strict=True))),
                variables,
                at=[point[name] for name in variables],
            )
        except TraceError:
            expression = None  # not scalar-only: no symbolic row, the rest still works
    return Source(title, f, variables, point, expression)


def partial_formulas(trace: Trace) -> Callable[[str, str], str | None]:
    """``formula(child, operand)``: ∂child/∂operand written with the trace's variable names.

    The registry's forward rule runs on symbols named after the trace's variables,
    so the partial reuses them as the recitation does (∂v2/∂v1 = v2 for v2 = exp(v1)).
    None where no scalar formula exists (array operations).
    """
    cache: dict[tuple[str, str], str | None] = {}

    def formula(child: str, operand: str) -> str | None:
        key = (child, operand)
        if key not in cache:
            cache[key] = _partial_text(trace, child, operand)
        return cache[key]

    return formula


def _operand_expr(trace: Trace, text: str) -> symbolic.Expr:
    """A variable by name, or a constant as the symbolic printer writes it (2, not 2.0)."""
    if text in trace.by_name:
        return E.symbol(text)
    number = float(text)
    return E.const(int(number) if number.is_integer() and abs(number) < 1e15 else number)


def _partial_text(trace: Trace, child: str, operand: str) -> str | None:
    var = trace.by_name[child]
    if var.node is None or var.node._params or var.node._prim.kind != "elementwise":
        return None
    try:
        args = [_operand_expr(trace, text) for text in var.operands]
        total = E.add(
            *(
                partial_rule(var.op, position)(E.const(1), E.symbol(child), *args)
                for position, name in enumerate(var.operands)
                if name == operand
            )
        )
    except ValueError:  # SymbolicError: no symbolic partial; or an array constant
        return None
    return str(simplify(total))
