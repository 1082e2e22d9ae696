"""The gradient by every method at once, each compared with reverse mode.

Layer: explain (imports api, fd). Reverse mode is the reference; the others are
forward mode (one sweep per input), the symbolic derivative (when the function
came from an expression), central differences and the complex step, each with
the number of evaluations of f it cost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import api, fd
from ..errors import MissingRuleError


@dataclass
class MethodResult:
    """One method's gradient, its worst relative error against reverse mode, and its cost."""

    method: str
    gradient: dict[str, float]
    max_rel_error: float
    evaluations: str
    note: str = ""


def _relative_error(values: Mapping[str, float], reference: Mapping[str, float]) -> float:
    errors = [
        abs(values[k] - reference[k]) / max(abs(reference[k]), np.finfo(float).tiny)
        for k in reference
    ]
    return max(errors, default=0.0)


def _positional(f: Callable[..., Any], names: list[str]) -> Callable[..., Any]:
    return lambda *values: f(**dict(zip(names, values, strict=True)))


def cross_check(
    f: Callable[..., Any],
    point: Mapping[str, float],
    symbolic: Mapping[str, float] | None = None,
) -> list[MethodResult]:
    """The gradient of scalar ``f`` at ``point`` by every method, compared with reverse mode.

    ``symbolic`` holds the symbolic derivatives already evaluated at the point
    (None when f has no expression). The complex step is left out when f applies an
    operation that refuses complex input (erf).
    """
    names = list(point)
    values = [float(point[n]) for n in names]
    g = _positional(f, names)
    n = len(names)

    reverse = api.grad(g, argnums=tuple(range(n)))(*values)
    reference = {name: float(v) for name, v in zip(names, reverse, strict=True)}
    results = [MethodResult("reverse mode", reference, 0.0, "1 forward + 1 reverse sweep")]

    forward = {}
    try:
        for i, name in enumerate(names):
            tangents = [1.0 if j == i else 0.0 for j in range(n)]
            forward[name] = float(api.jvp(g, values, tangents)[1])
    except MissingRuleError:  # an operation with reverse rules only (a user's custom_vjp)
        forward = {}
    if forward:
        results.append(
            MethodResult(
                "forward mode",
                forward,
                _relative_error(forward, reference),
                f"{n} forward sweep{'s' if n != 1 else ''} (one per input)",
            )
        )

    if symbolic is not None:
        results.append(
            MethodResult(
                "symbolic",
                dict(symbolic),
                _relative_error(symbolic, reference),
                f"{n} derivative expression{'s' if n != 1 else ''}",
            )
        )

    for scheme, label, cost in (
        ("central", "central differences", 2 * n),
        ("complex-step", "complex step", n),
    ):
        step = fd.default_step(scheme)
        try:
            estimate = fd.gradient(g, *values, scheme=scheme)
        except TypeError as error:  # an operation with no complex extension (erf) refuses
            if scheme != "complex-step" or "complex" not in str(error):
                raise
            continue
        estimate = (estimate,) if n == 1 else estimate
        numeric = {name: float(v) for name, v in zip(names, estimate, strict=True)}
        results.append(
            MethodResult(
                label,
                numeric,
                _relative_error(numeric, reference),
                f"{cost} evaluations of f",
                f"h = {step:.3g}·max(1, |x|)",
            )
        )
    return results
