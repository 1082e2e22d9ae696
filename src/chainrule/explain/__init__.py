"""The explainer: a function at a point, worked the way the recitation works it.

Layer: explain (imports the engine, fd and symbolic). ``explain(f_or_text, x=2, z=3)``
returns an :class:`~chainrule.explain.report.Explanation`: the evaluation trace,
the reverse (adjoint) and forward (tangent) tables, a cross-check of five ways to
get the gradient, the symbolic derivatives, and the computation graph.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from . import network, steps
from .crosscheck import MethodResult, cross_check
from .report import Explanation, build
from .trace import DomainError, Trace, trace

__all__ = [
    "DomainError",
    "Explanation",
    "MethodResult",
    "Trace",
    "cross_check",
    "explain",
    "gradient_by",
    "network",
    "steps",
    "trace",
]

MODES = ("reverse", "forward", "both")


class Source:
    """What is being explained: a function of named scalars, and its expression when known."""

    def __init__(
        self,
        title: str,
        function: Callable[..., Any],
        variables: list[str],
        point: Mapping[str, float],
    ) -> None:
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
                f"(its variables: {', '.join(variables) or 'none'})"
            )
        self.title = title
        self.function = function
        self.variables = variables
        self.point = {name: float(point[name]) for name in variables}


def _callable_source(f: Callable[..., Any], point: Mapping[str, float]) -> Source:
    parameters = [
        name
        for name, p in inspect.signature(f).parameters.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and (name in point or p.default is p.empty)
    ]
    return Source(getattr(f, "__name__", "f"), f, parameters, point)


def _source(target: str | Callable[..., Any], point: Mapping[str, float]) -> Source:
    if callable(target):
        return _callable_source(target, point)
    raise TypeError(
        f"explain: expected an expression string or a function, got {type(target).__name__}"
    )


def explain(
    target: str | Callable[..., Any], *, mode: str = "reverse", **point: float
) -> Explanation:
    """Explain ``target`` (an expression in text, or a Python function) at ``point``.

    >>> from chainrule.explain import explain
    >>> from chainrule.seed import seed_function
    >>> report = explain(seed_function, x=2, z=3)
    >>> [f"{v.name} = {v.formula}" for v in report.trace.variables][:3]
    ['v1 = x*z', 'v2 = exp(v1)', 'v3 = log(x)']
    >>> round(report.gradient["x"], 6), round(report.gradient["z"], 6)
    (1208.381215, 809.707479)
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    source = _source(target, point)
    recorded = trace(source.function, source.point)
    forward = list(source.point) if mode in ("forward", "both") else []
    return build(
        source.title,
        recorded,
        source.point,
        cross_check(source.function, source.point),
        forward,
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
    rows = {row.method: row for row in cross_check(source.function, source.point)}
    chosen = list(_METHOD_ROWS) if method == "all" else [method]
    results: dict[str, dict[str, Any]] = {}
    for name in chosen:
        row = rows.get(_METHOD_ROWS[name])
        if row is None:
            raise ValueError(f"no {name} gradient for this function")
        results[name] = {"gradient": row.gradient, "max_rel_error": row.max_rel_error}
    return results
