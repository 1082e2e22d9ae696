"""The gradient by every method at once, each compared with reverse mode.

Layer: explain (imports api, fd). Reverse mode is the reference; the others are
forward mode (one sweep per input), the symbolic derivative (when the function
came from an expression), central differences and the complex step, each with
the number of evaluations of f it cost. Inputs may be arrays: a gradient is then
an array of the input's shape, and a cost counts one sweep or two evaluations per
element.
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
    gradient: dict[str, Any]  # a float per scalar input, an array per array input
    max_rel_error: float
    evaluations: str
    note: str = ""


def _relative_error(values: Mapping[str, Any], reference: Mapping[str, Any]) -> float:
    """The worst elementwise |value - reference| / |reference| over every input."""
    errors = [
        float(
            np.max(
                np.abs(np.asarray(values[k]) - reference[k])
                / np.maximum(np.abs(reference[k]), np.finfo(float).tiny),
                initial=0.0,
            )
        )
        for k in reference
    ]
    return max(errors, default=0.0)


def _result(value: Any) -> Any:
    """A float for a 0-d gradient (as the scalar tables print it), else a float64 array."""
    array = np.asarray(value, dtype=np.float64)
    return float(array) if array.ndim == 0 else array


def _positional(f: Callable[..., Any], names: list[str]) -> Callable[..., Any]:
    return lambda *values: f(**dict(zip(names, values, strict=True)))


def cross_check(
    f: Callable[..., Any],
    point: Mapping[str, Any],
    symbolic: Mapping[str, float] | None = None,
) -> list[MethodResult]:
    """The gradient of scalar ``f`` at ``point`` by every method, compared with reverse mode.

    ``point`` maps names to scalars or arrays. ``symbolic`` holds the symbolic
    derivatives already evaluated at the point (None when f has no expression). The
    complex step is left out when f applies an operation that refuses complex input (erf).
    """
    names = list(point)
    values = [np.asarray(point[n], dtype=np.float64) for n in names]
    g = _positional(f, names)
    n = sum(v.size for v in values)  # one forward sweep (two differences) per element
    per = "input" if all(v.ndim == 0 for v in values) else "input element"

    reverse = api.grad(g, argnums=tuple(range(len(names))))(*values)
    reference = {name: _result(v) for name, v in zip(names, reverse, strict=True)}
    results = [MethodResult("reverse mode", reference, 0.0, "1 forward + 1 reverse sweep")]

    forward = {}
    try:
        for i, name in enumerate(names):
            columns = []
            for k in range(values[i].size):
                tangents = [np.zeros_like(v) for v in values]
                tangents[i].flat[k] = 1.0
                columns.append(np.asarray(api.jvp(g, values, tangents)[1]).item())
            forward[name] = _result(np.reshape(columns, values[i].shape))
    except MissingRuleError:  # an operation with reverse rules only (a user's custom_vjp)
        forward = {}
    if forward:
        results.append(
            MethodResult(
                "forward mode",
                forward,
                _relative_error(forward, reference),
                f"{n} forward sweep{'s' if n != 1 else ''} (one per {per})",
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
        estimate = (estimate,) if len(names) == 1 else estimate
        numeric = {name: _result(v) for name, v in zip(names, estimate, strict=True)}
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
