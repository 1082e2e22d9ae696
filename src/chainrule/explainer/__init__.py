"""The explainer: a function at a point, worked the way the recitation works it.

Layer: explain (imports the engine, fd and symbolic). ``explain(f_or_text, x=2, z=3)``
returns an :class:`~chainrule.explainer.report.Explanation`: the evaluation trace,
the reverse (adjoint) and forward (tangent) tables, a cross-check of five ways to
get the gradient, the symbolic derivatives, and the computation graph. The
function may take arrays (tensor code): the tables then show shapes, and values
or summaries. :func:`draw` draws the recorded graph of any computation, a model's
loss included. :func:`to_expression` turns a chainrule function into a symbolic
expression.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..errors import ShapeError
from . import network, steps
from .crosscheck import MethodResult, cross_check
from .domain import check_derivatives
from .expression import to_expression
from .graph import Drawing, draw
from .report import Explanation, build
from .source import Source, from_callable, from_text, partial_formulas
from .trace import DomainError, Trace, trace

__all__ = [
    "DomainError",
    "Drawing",
    "Explanation",
    "MethodResult",
    "Source",
    "Trace",
    "cross_check",
    "draw",
    "explain",
    "gradient_by",
    "network",
    "steps",
    "to_expression",
    "trace",
]

MODES = ("reverse", "forward", "both")


def _source(target: str | Callable[..., Any], point: Mapping[str, Any]) -> Source:
    if isinstance(target, str):
        return from_text(target, point)
    if callable(target):
        return from_callable(target, point)
    raise TypeError(
        f"explain: expected an expression string or a function, got {type(target).__name__}"
    )


def explain(
    target: str | Callable[..., Any], *, mode: str = "reverse", **point: Any
) -> Explanation:
    """Explain ``target`` (an expression in text, or a Python function) at ``point``.

    A Python function may take arrays and use any chainrule operation, as long as
    it returns a scalar: ``explain(lambda x: (x * x).sum(), x=np.array([1.0, 2.0]))``.

    >>> from chainrule import explain
    >>> report = explain("exp(x*z) + x*z/ln(x) + sin(ln(x))/(x*z)", x=2, z=3)
    >>> [f"{v.name} = {v.formula}" for v in report.trace.variables][:3]
    ['v1 = x*z', 'v2 = exp(v1)', 'v3 = log(x)']
    >>> round(report.gradient["x"], 6), round(report.gradient["z"], 6)
    (1208.381215, 809.707479)
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    source = _source(target, point)
    recorded = trace(source.function, source.point)
    if np.ndim(recorded.output.value) != 0:
        raise ShapeError(
            f"explain: {source.title} returned shape {np.shape(recorded.output.value)}; a "
            "gradient needs a scalar output (reduce it first, e.g. with .sum() or .mean())"
        )
    check_derivatives(recorded)
    forward = list(source.point) if mode in ("forward", "both") else []
    derivatives = source.derivatives()
    values = source.derivative_values(derivatives) if derivatives else None
    return build(
        source.title,
        recorded,
        source.point,
        cross_check(source.function, source.point, values),
        forward,
        derivatives={name: str(d) for name, d in derivatives.items()},
        partial_formula=partial_formulas(recorded),
        show_reverse=mode != "forward",
        function=source.function,
    )


GRADIENT_METHODS = ("reverse", "forward", "symbolic", "fd", "complex-step", "all")
_METHOD_ROWS = {
    "reverse": "reverse mode",
    "forward": "forward mode",
    "symbolic": "symbolic",
    "fd": "central differences",
    "complex-step": "complex step",
}


def gradient_by(
    target: str | Callable[..., Any], point: Mapping[str, float], method: str = "reverse"
) -> dict[str, dict[str, Any]]:
    """The gradient at ``point`` by one method (or all): {method: {"gradient": {...}, ...}}."""
    if method not in GRADIENT_METHODS:
        raise ValueError(f"method must be one of {', '.join(GRADIENT_METHODS)}, got {method!r}")
    source = _source(target, point)
    check_derivatives(trace(source.function, source.point))  # as explain does
    derivatives = source.derivatives()
    values = source.derivative_values(derivatives) if derivatives else None
    rows = {row.method: row for row in cross_check(source.function, source.point, values)}
    chosen = list(_METHOD_ROWS) if method == "all" else [method]
    results: dict[str, dict[str, Any]] = {}
    for name in chosen:
        row = rows.get(_METHOD_ROWS[name])
        if row is None:
            raise ValueError(f"no {name} gradient for this function")
        results[name] = {"gradient": row.gradient, "max_rel_error": row.max_rel_error}
        if name == "symbolic":
            results[name]["derivatives"] = {k: str(d) for k, d in derivatives.items()}
    return results
