"""Modes of the dispatcher: grad mode and the active trace, each scoped to a context.

Layer: core. Imports nothing else from chainrule.

Both are :mod:`contextvars` variables, never process-wide flags: a ``no_grad`` block
or a ``chainrule.compile`` trace in one thread (or asyncio task) is invisible to
eager code running in another. ``apply`` (the dispatcher every primitive application
goes through) reads them; nothing in the library is swapped while a mode is on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Any

#: Whether new primitive applications are recorded for differentiation.
GRAD_ENABLED: ContextVar[bool] = ContextVar("chainrule_grad_enabled", default=True)

#: The trace recording primitive applications (``chainrule.compile``), or None.
TRACE: ContextVar[Any] = ContextVar("chainrule_trace", default=None)


def is_grad_enabled() -> bool:
    """True when new operations are recorded on the graph."""
    return GRAD_ENABLED.get()


def current_trace() -> Any:
    """The trace that records primitive applications in this context, or None."""
    return TRACE.get()


@contextmanager
def tracing(trace: Any) -> Iterator[None]:
    """Make ``trace`` (or None: no trace, e.g. to pause one) current inside the block."""
    token = TRACE.set(trace)
    try:
        yield
    finally:
        TRACE.reset(token)


@contextmanager
def grad_enabled(enabled: bool) -> Iterator[None]:
    """Set grad mode inside the block (the engine uses it around its sweeps)."""
    token = GRAD_ENABLED.set(enabled)
    try:
        yield
    finally:
        GRAD_ENABLED.reset(token)


class _SetGradMode:
    """Context manager (and decorator) that sets grad mode and restores it after."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._tokens: list[Any] = []

    def __enter__(self) -> None:
        self._tokens.append(GRAD_ENABLED.set(self._enabled))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        GRAD_ENABLED.reset(self._tokens.pop())

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return func(*args, **kwargs)

        return wrapper


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
