"""Exception types of chainrule, so callers can catch what they expect.

Layer: bottom (imports nothing from chainrule).
"""

from __future__ import annotations


class ChainruleError(Exception):
    """Base class of chainrule's own errors."""


class ShapeError(ChainruleError, ValueError):
    """Operands whose shapes do not fit the operation (broadcasting, matmul, reshape)."""


class DtypeError(ChainruleError, TypeError):
    """A dtype that cannot take part, such as gradients of integer tensors."""


class TraceError(ChainruleError, ValueError):
    """A function that cannot become a scalar expression (a non-scalar operation)."""


class CompileError(ChainruleError, RuntimeError):
    """Something ``chainrule.compile`` cannot trace or replay faithfully."""


class DetachError(ChainruleError, RuntimeError, TypeError):
    """Leaving the graph implicitly: an array taken from a tensor that requires grad, or a
    NumPy operation with no derivative applied to one. Call ``.detach()`` to do it on purpose."""
