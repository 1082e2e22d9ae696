"""Exception types of chainrule, so callers can catch what they expect.

Layer: bottom (imports nothing from chainrule).
"""

from __future__ import annotations


class ChainruleError(Exception):
    """Base class of chainrule's own errors."""


class ShapeError(ChainruleError, ValueError):
    """Operands whose shapes do not fit the operation (broadcasting, matmul, reshape)."""


class LinAlgError(ChainruleError, ValueError):
    """A matrix a linear-algebra operation cannot handle: singular, not positive definite,
    or a decomposition that did not converge (NumPy's LinAlgError, named with the op)."""


class DtypeError(ChainruleError, TypeError):
    """A dtype that cannot take part, such as gradients of integer tensors."""


class TargetError(ChainruleError, ValueError):
    """A loss target outside its range (a class index out of bounds)."""


class TraceError(ChainruleError, ValueError):
    """A function that cannot become a scalar expression (a non-scalar operation)."""


class CompileError(ChainruleError, RuntimeError):
    """Something ``chainrule.compile`` cannot trace or replay faithfully."""


class CustomOpError(ChainruleError, TypeError):
    """A user-defined operation that cannot be registered, or whose rule broke its contract."""


class MissingRuleError(ChainruleError, NotImplementedError):
    """A transform needs a derivative rule that an operation does not have."""


class SymbolicError(ChainruleError, ValueError):
    """An expression the symbolic language cannot build or differentiate (an unknown
    function, a wrong number of arguments, an operation without a derivative)."""


class DetachError(ChainruleError, RuntimeError, TypeError):
    """Leaving the graph implicitly: an array taken from a tensor that requires grad, or a
    NumPy operation with no derivative applied to one. Call ``.detach()`` to do it on purpose."""


class AnomalyError(ChainruleError, FloatingPointError):
    """Under ``detect_anomaly()``: an operation made NaN or inf from finite numbers."""


class MissingExtraError(ChainruleError, ImportError):
    """An optional package is not installed; the message names the extra that brings it
    (``pip install 'chainrule[cli]'``)."""


class VmapError(ChainruleError, RuntimeError):
    """Something ``chainrule.vmap`` cannot batch faithfully: a value that differs per example
    leaving for Python (``if`` on it, ``float()``), an in-place write, ``backward()``."""


class DeviceError(ChainruleError, ValueError):
    """Values on different devices (or array libraries) in one operation, an unknown device
    name, or an operation with no implementation for the values' array library."""
