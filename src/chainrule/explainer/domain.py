"""The domain-edge policy: a value or derivative that is not finite is an error, in words.

Layer: explain (imports the trace and the report's number format). A forward value that
is not finite (``log`` at 0, ``exp`` past overflow, ``x/0``) is reported by
:func:`~chainrule.explainer.trace.trace` as it is recorded. A derivative that is not
finite where the value is (``sqrt`` at 0, ``1/x`` at tiny x) is reported here, naming
the operation and the variable, rather than printed as inf or nan as if it were an answer.
"""

from __future__ import annotations

import numpy as np

from .report import adjoint_name, number
from .trace import DomainError, Trace


def check_derivatives(recorded: Trace) -> None:
    """Raise DomainError if a derivative of the output is not finite at the traced point.

    The message says where the reverse sweep first meets a local partial that is not
    finite: the operation, its variable and the value there (``sqrt`` at x = 0).
    """
    problem = _infinite_derivative(recorded)
    if problem is not None:
        raise DomainError(problem)


def _infinite_derivative(recorded: Trace) -> str | None:
    """What is not finite in the reverse sweep, and why, in one line (None if all is)."""
    with np.errstate(all="ignore"):  # the infinities are reported below, not as warnings
        rows = recorded.reverse()
    inputs = [v.name for v in recorded.inputs]
    adjoints = {row.name: row.value for row in rows}
    failed = [name for name in inputs if not np.all(np.isfinite(adjoints[name]))]
    if not failed:
        return None
    y = recorded.output_name
    result = ", ".join(f"d{y}/d{name} = {number(adjoints[name])}" for name in failed)
    # Output first: the first adjoint that is not finite is where the trouble starts.
    row = next(row for row in rows if not np.all(np.isfinite(row.value)))
    operand = recorded.by_name[row.name]
    at = row.name if row.name in inputs else f"{row.name} = {operand.formula}"
    for term in row.terms:
        if term.partial_value is not None and not np.all(np.isfinite(term.partial_value)):
            child = recorded.by_name[term.other]
            return (
                f"{child.op} has no finite derivative at {at} = {number(operand.value)} "
                f"(in {term.other} = {child.formula}, {term.partial} = "
                f"{number(term.partial_value)}), so {result}; pick a point inside its domain"
            )
    return (
        f"the derivative overflows at {at} = {number(operand.value)} "
        f"({adjoint_name(row.name)} = {number(row.value)}, although every local partial "
        f"is finite), so {result}"
    )
