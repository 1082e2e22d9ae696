"""Modes of the dispatcher: grad mode, the active trace and anomaly detection, each
scoped to a context.

Layer: core. Imports nothing else from chainrule.

All live in one :mod:`contextvars` variable, never in a process-wide flag: a
``no_grad`` block or a ``chainrule.compile`` trace in one thread (or asyncio task) is
invisible to eager code running in another. ``apply`` (the dispatcher every primitive
application goes through) reads it; nothing in the library is swapped while a mode is on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Any


class Mode:
    """The dispatcher's mode in one context: grad mode, the current trace (or None) and
    the anomaly monitor (or None, see :mod:`chainrule.core.anomaly`).

    Immutable: entering a mode sets a new Mode in the context variable, and leaving
    resets it, so one read of :data:`MODE` gives the whole mode (``apply`` reads it
    once per operation).
    """

    __slots__ = ("grad", "trace", "anomaly")

    def __init__(self, grad: bool, trace: Any, anomaly: Any = None) -> None:
        self.grad = grad
        self.trace = trace
        self.anomaly = anomaly

    def __repr__(self) -> str:
        return f"Mode(grad={self.grad}, trace={self.trace!r}, anomaly={self.anomaly!r})"


_UNTRACED = {True: Mode(True, None), False: Mode(False, None)}

#: The mode of the current context (thread or asyncio task).
MODE: ContextVar[Mode] = ContextVar("chainrule_mode", default=_UNTRACED[True])

#: ``MODE.get``, bound once: the hot path reads the mode through it.
current_mode = MODE.get


def with_grad(mode: Mode, enabled: bool) -> Mode:
    """``mode`` with grad mode set to ``enabled``."""
    if mode.trace is None and mode.anomaly is None:
        return _UNTRACED[enabled]
    return Mode(enabled, mode.trace, mode.anomaly)


def with_anomaly(mode: Mode, monitor: Any) -> Mode:
    """``mode`` with ``monitor`` checking each operation (None: no checks)."""
    if mode.trace is None and monitor is None:
        return _UNTRACED[mode.grad]
    return Mode(mode.grad, mode.trace, monitor)


def is_grad_enabled() -> bool:
    """True when new operations are recorded on the graph."""
    return current_mode().grad


def current_trace() -> Any:
    """The trace that records primitive applications in this context, or None."""
    return current_mode().trace


@contextmanager
def tracing(trace: Any) -> Iterator[None]:
    """Make ``trace`` (or None: no trace, e.g. to pause one) current inside the block."""
    mode = current_mode()
    if trace is None and mode.anomaly is None:
        token = MODE.set(_UNTRACED[mode.grad])
    else:
        token = MODE.set(Mode(mode.grad, trace, mode.anomaly))
    try:
        yield
    finally:
        MODE.reset(token)


class ModeSwitch:
    """Context manager (and decorator) that sets part of the mode and restores it after;
    a subclass says which part in :meth:`switched`. A decorated function enters a fresh
    switch of the same kind at each call, so calls in other threads never share one."""

    def __init__(self, *settings: Any) -> None:
        self._settings = settings
        self._tokens: list[Any] = []

    def switched(self, mode: Mode) -> Mode:
        """``mode`` with this switch applied."""
        raise NotImplementedError

    def __enter__(self) -> None:
        self._tokens.append(MODE.set(self.switched(current_mode())))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        MODE.reset(self._tokens.pop())

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)(*self._settings):
                return func(*args, **kwargs)

        return wrapper


class _SetGradMode(ModeSwitch):
    """Sets grad mode: recording on or off."""

    def __init__(self, enabled: bool) -> None:
        super().__init__()
        self._enabled = enabled

    def switched(self, mode: Mode) -> Mode:
        return with_grad(mode, self._enabled)


class no_grad(_SetGradMode):  # noqa: N801 - PyTorch's name
    """Do not record operations: for evaluation and optimizer updates.

    >>> import chainrule as cr
    >>> w = cr.tensor(1.0, requires_grad=True)
    >>> with cr.no_grad():
    ...     (w * 2).requires_grad
    False
    """

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(_SetGradMode):  # noqa: N801 - PyTorch's name
    """Record operations even inside an enclosing ``no_grad``."""

    def __init__(self) -> None:
        super().__init__(True)


#: Whether the complex step (chainrule.fd) is running in this context: see :func:`complex_step`.
_COMPLEX_STEP: ContextVar[bool] = ContextVar("chainrule_complex_step", default=False)


def in_complex_step() -> bool:
    """True inside :func:`complex_step`: a complex value is a real one plus an infinitesimal
    imaginary step, and forwards that are not analytic must act on it as on the real number."""
    return _COMPLEX_STEP.get()


@contextmanager
def complex_step() -> Iterator[None]:
    """Evaluate forwards as the real-analytic extensions of their real functions.

    A complex number means two different things: a value of its own (``abs(3+4j)`` is 5,
    ``conj`` flips the imaginary part) or, for the complex-step method, a real input
    ``x + ih`` whose imaginary part carries the derivative (there ``abs`` must give
    ``±(x + ih)`` and ``conj`` must leave it alone). Inside this block forwards take the
    second meaning; outside, the first.
    """
    token = _COMPLEX_STEP.set(True)
    try:
        yield
    finally:
        _COMPLEX_STEP.reset(token)
