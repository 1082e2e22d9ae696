"""Adam and AdamW, with PyTorch's update formulas (torch.optim.Adam / AdamW).

Layer: optim. For gradient g of parameter p at step t (starting at 1)::

    g = g + weight_decay * p           (Adam: L2 penalty in the gradient)
    p = p * (1 - lr * weight_decay)    (AdamW instead: decoupled decay)
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g^2
    v_max = max(v_max, v)              (amsgrad; v_max replaces v below)
    p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

A complex parameter's real and imaginary parts are two real parameters here (PyTorch's
``view_as_real``): m, v and the update are taken part by part (NumPy arrays only: the
standard has no real view of complex memory).

On NumPy the update is written into a scratch array with ufuncs' ``out=`` (no temporaries);
other libraries (CuPy, any Array API namespace) compute it with the same operations in
the same order through their namespace, so the numbers agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..core import backend
from ..core.backend import xp
from ..errors import DeviceError
from ..tensor import Tensor
from .optimizer import Optimizer, subtract_


class Adam(Optimizer):
    """Adaptive moment estimation (Kingma & Ba), L2 weight decay added to the gradient."""

    _decoupled_weight_decay = False

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        if lr < 0.0 or eps < 0.0 or weight_decay < 0.0:
            raise ValueError("lr, eps and weight_decay must be non-negative")
        if not all(0.0 <= beta < 1.0 for beta in betas):
            raise ValueError(f"betas must be in [0, 1), got {betas}")
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
        )
        super().__init__(params, defaults)
        self._scratch: dict[Tensor, np.ndarray] = {}

    def _update(
        self, param: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        weight_decay = group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(param._data)
            state["exp_avg_sq"] = xp.zeros_like(param._data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(param._data)
        on_numpy = backend.is_numpy(param._data)
        if weight_decay and self._decoupled_weight_decay:
            if on_numpy:
                param *= 1.0 - lr * weight_decay
            else:
                shrink = 1.0 - lr * weight_decay
                param._write(lambda data: data.__imul__(shrink), "an optimizer's update")
        elif weight_decay:
            grad = grad + weight_decay * param.data
        state["step"] += 1
        step = state["step"]
        grad = _parts(grad)
        exp_avg, exp_avg_sq = _parts(state["exp_avg"]), _parts(state["exp_avg_sq"])
        exp_avg *= beta1
        exp_avg += (1.0 - beta1) * grad
        exp_avg_sq *= beta2
        exp_avg_sq += (1.0 - beta2) * (grad * grad)
        if group["amsgrad"]:
            largest = _parts(state["max_exp_avg_sq"])
            if on_numpy:
                np.maximum(largest, exp_avg_sq, out=largest)
            else:
                largest[...] = xp.maximum(largest, exp_avg_sq)
            second_moment = largest
        else:
            second_moment = exp_avg_sq
        step_size = lr / (1.0 - beta1**step)
        bias_correction2_sqrt = math.sqrt(1.0 - beta2**step)
        if not on_numpy:
            denominator = xp.sqrt(second_moment) / bias_correction2_sqrt + eps
            subtract_(param, (exp_avg / denominator) * step_size)
            return
        update = self._scratch.get(param)
        if update is None or update.shape != param.shape:
            update = self._scratch[param] = np.empty(param.shape, param.dtype)
        parts = _parts(update)
        np.sqrt(second_moment, out=parts)
        parts /= bias_correction2_sqrt
        parts += eps
        np.divide(exp_avg, parts, out=parts)
        parts *= step_size
        param._subtract_(update)


def _parts(array: np.ndarray) -> np.ndarray:
    """A complex array's real and imaginary parts as one real array: over the same memory
    when ``array`` is C-contiguous (the state and scratch arrays are), else a copy (fine
    for the gradient, which is only read); a real array itself."""
    if not backend.is_complex(array):
        return array
    if not backend.is_numpy(array):
        raise DeviceError("Adam: complex parameters are stepped on NumPy arrays only")
    return array.reshape(-1).view(array.real.dtype)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p shrinks by lr * weight_decay."""

    _decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
