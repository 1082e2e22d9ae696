"""Grad mode: whether primitive applications are recorded for differentiation.

Layer: core. Imports nothing else from chainrule. The flag is process-wide (like
the rest of the engine, it is not meant to be shared between threads).
"""

from __future__ import annotations

from types import TracebackType


class _GradMode:
    __slots__ = ("enabled",)

    def __init__(self) -> None:
        self.enabled = True


GRAD_MODE = _GradMode()


def is_grad_enabled() -> bool:
    """True when new operations are recorded on the graph."""
    return GRAD_MODE.enabled


class _SetGradMode:
    """Context manager (and decorator) that sets grad mode and restores it after."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(GRAD_MODE.enabled)
        GRAD_MODE.enabled = self._enabled

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        GRAD_MODE.enabled = self._previous.pop()

    def __call__(self, func):  # type: ignore[no-untyped-def]
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            with type(self)(self._enabled):
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
