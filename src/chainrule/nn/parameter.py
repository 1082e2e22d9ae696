"""Parameter: a Tensor that a Module registers as one of its learnable weights.

Layer: nn (imports chainrule.tensor).
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor that requires grad by default and is found by ``Module.parameters()``.

    Assigning a Parameter to a Module attribute registers it under that name;
    operations on it give ordinary Tensors.

    >>> import numpy as np
    >>> Parameter(np.zeros(2))
    Parameter containing:
    tensor([0., 0.], requires_grad=True)
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
