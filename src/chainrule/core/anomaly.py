"""Anomaly detection: a mode of the dispatcher that stops at the first NaN or infinity.

Layer: core. Imports numpy and chainrule.core.mode only.

Inside ``with chainrule.detect_anomaly():`` (a context-local mode, like ``no_grad``),
every primitive application is checked after its forward pass, and every VJP
contribution after the reverse sweep computes it. The first operation that turns
finite numbers into NaN or an infinity raises :class:`~chainrule.errors.AnomalyError`
naming the operation, the operand shapes and the line of the user's code where the
operation was applied (remembered for every node made in the mode), so a NaN found in
a gradient is traced to the step that made it, not to the loss that shows it.
Outside the mode the dispatcher and the sweep pay one ``is None`` test each.
"""

from __future__ import annotations

import os
import sys
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import AnomalyError
from .mode import Mode, ModeSwitch, current_mode, with_anomaly

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NUMPY = os.path.dirname(os.path.abspath(np.__file__))


def user_line() -> str:
    """``file:line`` of the innermost frame outside chainrule and NumPy: the user's code."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith((_PACKAGE, _NUMPY)):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"


def _bad(value: Any) -> str | None:
    """ "nan" or "inf" when a floating value holds one (NaN first), else None."""
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        if not isinstance(value, (float, complex)):
            return None
        value = np.asarray(value)
        dtype = value.dtype
    if dtype.kind not in "fc":
        return None
    if np.isfinite(value).all():
        return None
    return "nan" if np.isnan(value).any() else "inf"


def _all_finite(values: Sequence[Any]) -> bool:
    return all(_bad(v) is None for v in values)


def _shapes(values: Sequence[Any]) -> str:
    return ", ".join(str(np.shape(v)) for v in values if v is not None)


class AnomalyMonitor:
    """The state of one ``detect_anomaly`` block: where each node was made."""

    __slots__ = ("origins",)

    def __init__(self) -> None:
        # By id, with a weak reference that tells a live node from a recycled id
        # (Tensors compare elementwise, so they cannot be dictionary keys themselves).
        self.origins: dict[int, tuple[weakref.ref, str]] = {}

    def origin(self, node: Any) -> str:
        """Where ``node``'s operation was applied, if it was made in this mode."""
        ref, line = self.origins.get(id(node), (None, None))
        if ref is None or ref() is not node:
            return "<a line outside detect_anomaly>"
        return line

    def forward(self, prim: Any, values: Sequence[Any], ans: Any, out: Any) -> None:
        """Called by the dispatcher after ``prim`` ran: remember where, and check the answer."""
        line = user_line()
        key = id(out)
        self.origins[key] = (weakref.ref(out, lambda _: self.origins.pop(key, None)), line)
        kind = _bad(ans)
        if kind is not None and _all_finite(values):
            raise AnomalyError(
                f"detect_anomaly: {prim.name} produced {kind} in its forward pass from finite "
                f"operands of shapes {_shapes(values)}, at {line}"
            )

    def backward(self, node: Any, operand: Any, g: Any, contribution: Any) -> None:
        """Called by the reverse sweep after a VJP rule gave ``operand``'s contribution."""
        kind = _bad(contribution)
        if kind is None or _bad(g) is not None:
            return
        values = node._values or ()
        argnum = next(i for i, o in enumerate(node._inputs) if o is operand)
        raise AnomalyError(
            f"detect_anomaly: the backward pass of {node._prim.name} (operand {argnum}) "
            f"produced {kind} from a finite cotangent of shape {np.shape(g)}; operand shapes "
            f"{_shapes(values)}; the operation was applied at "
            f"{self.origin(node)}"
        )


class detect_anomaly(ModeSwitch):  # noqa: N801 - PyTorch's name
    """Raise at the first operation whose forward or backward pass makes NaN or inf.

    A context manager and a decorator; the mode is local to this thread or task.

    >>> import chainrule as cr
    >>> x = cr.tensor(0.0, requires_grad=True)
    >>> with cr.detect_anomaly():
    ...     y = cr.sqrt(x)
    ...     with np.errstate(divide="ignore"):
    ...         y.backward()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    chainrule.errors.AnomalyError: detect_anomaly: the backward pass of sqrt ... produced inf ...
    """

    def __init__(self, enabled: bool = True) -> None:
        super().__init__(enabled)
        self._enabled = enabled

    def switched(self, mode: Mode) -> Mode:
        return with_anomaly(mode, AnomalyMonitor() if self._enabled else None)


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` in this context."""
    return current_mode().anomaly is not None
