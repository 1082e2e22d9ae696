"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay.

Layer: optim. The update is PyTorch's (torch.optim.SGD), for gradient g of parameter p::

    g = g + weight_decay * p
    b = g                                   on the first step
    b = momentum * b + (1 - dampening) * g  afterwards
    g = g + momentum * b  (nesterov)  or  g = b
    p = p - lr * g
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..core.backend import xp
from ..tensor import Tensor
from .optimizer import Optimizer, subtract_


class SGD(Optimizer):
    """Gradient descent, optionally with (Nesterov) momentum and L2 weight decay."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        maximize: bool = False,
    ) -> None:
        if lr < 0.0:
            raise ValueError(f"invalid learning rate: {lr}")
        if momentum < 0.0 or weight_decay < 0.0:
            raise ValueError("momentum and weight_decay must be non-negative")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(
        self, param: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param.data
        momentum = group["momentum"]
        if momentum:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = xp.astype(grad, param.dtype, copy=True)
            else:
                buffer *= momentum
                buffer += (1.0 - group["dampening"]) * grad
            grad = grad + momentum * buffer if group["nesterov"] else buffer
        subtract_(param, group["lr"] * grad)
