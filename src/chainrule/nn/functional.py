"""Layers and losses as functions (``import chainrule.nn.functional as F``), PyTorch's names.

Layer: nn (imports chainrule.tensor, chainrule.functions and chainrule.ops). The
modules in :mod:`chainrule.nn` hold parameters and call these. The fused
primitives ``linear`` and ``cross_entropy`` record one node each; the others
are compositions of existing primitives, so their gradients need no new rules.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functions as fn
from ..core import backend
from ..core.backend import xp
from ..core.mode import current_trace
from ..errors import DtypeError, ShapeError
from ..ops import nn as nn_ops
from ..random import default_generator
from ..tensor import _NO_PARAMS, Tensor, apply
from .module import array_like

_REDUCTIONS = ("mean", "sum", "none")


def linear(input: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias, with weight of shape (out_features, in_features)."""
    x = fn.as_tensor(input)
    shape, weight_shape = x.shape, weight.shape
    if not shape or len(weight_shape) != 2 or shape[-1] != weight_shape[1]:
        raise ShapeError(
            f"linear: the input of shape {x.shape} has {x.shape[-1] if x.ndim else 0} features, "
            f"but the weight of shape {weight.shape} expects {weight.shape[-1]}"
        )
    args = (x, weight) if bias is None else (x, weight, bias)
    return apply(nn_ops.linear, args, _NO_PARAMS)


# --- activations --------------------------------------------------------------


def relu(input: Any) -> Tensor:
    """max(x, 0)."""
    return fn.relu(input)


def leaky_relu(input: Any, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    x = fn.as_tensor(input)
    return fn.where(x > 0, x, x * negative_slope)


def sigmoid(input: Any) -> Tensor:
    """1 / (1 + exp(-x)), without overflow."""
    return fn.sigmoid(input)


def tanh(input: Any) -> Tensor:
    """Elementwise hyperbolic tangent."""
    return fn.tanh(input)


_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def erf(input: Any) -> Tensor:
    """The error function (Cephes' rational approximation, accurate to ~4e-16)."""
    return fn.erf(input)


def gelu(input: Any, approximate: str = "none") -> Tensor:
    """x Phi(x) (exact, with erf), or PyTorch's tanh approximation with approximate="tanh"."""
    x = fn.as_tensor(input)
    if approximate == "none":
        return 0.5 * x * (1.0 + erf(x * _SQRT_HALF))
    if approximate == "tanh":
        return 0.5 * x * (1.0 + fn.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def softmax(input: Any, dim: int = -1) -> Tensor:
    """Probabilities along ``dim`` (computed stably)."""
    return fn.softmax(input, dim)


def log_softmax(input: Any, dim: int = -1) -> Tensor:
    """Log-probabilities along ``dim`` (computed stably)."""
    return fn.log_softmax(input, dim)


def dropout(
    input: Any,
    p: float = 0.5,
    training: bool = True,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Zero each entry with probability p, scale the rest by 1/(1-p); identity unless training."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, got {p}")
    x = fn.as_tensor(input)
    if not training or p == 0.0:
        return x
    trace = current_trace()
    if trace is not None and generator is not None:
        trace.refuse("dropout's random mask", "use model.eval(), or keep this step eager")
    rng = default_generator() if generator is None else generator
    keep = rng.random(x.shape) >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return x * array_like(keep * scale, x)


# --- losses -------------------------------------------------------------------


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(losses: Tensor, reduction: str) -> Tensor:
    _check_reduction(reduction)
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _same_shape(op: str, x: Tensor, target: Any) -> None:
    if x.shape != np.shape(target):
        raise ShapeError(
            f"{op}: input of shape {x.shape} and target of shape {np.shape(target)} differ; "
            "they must match (broadcasting them is a common silent bug, e.g. (N, 1) vs (N,))"
        )


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean (or sum) of squared differences."""
    x = fn.as_tensor(input)
    _same_shape("mse_loss", x, target)
    diff = x - target
    return _reduce(diff * diff, reduction)


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean (or sum) of absolute differences."""
    x = fn.as_tensor(input)
    _same_shape("l1_loss", x, target)
    return _reduce(fn.abs(x - target), reduction)


def _target_array(target: Any, dtype: np.dtype) -> Tensor:
    """A float target as a Tensor of the input's dtype: an operand, so compile traces it."""
    target = fn.as_tensor(target)
    return target if target.dtype == dtype else target.astype(dtype)


def binary_cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """-(y log p + (1 - y) log(1 - p)) for probabilities p; log is floored at -100 as in PyTorch."""
    p = fn.as_tensor(input)
    _same_shape("binary_cross_entropy", p, target)
    target_values = _target_array(target, p.dtype)._data
    losses = apply(nn_ops.binary_cross_entropy, (p,), {"target": target_values})
    return _reduce(losses, reduction)


def binary_cross_entropy_with_logits(
    input: Any, target: Any, reduction: str = "mean", pos_weight: Any = None
) -> Tensor:
    """BCE of sigmoid(x), computed from the logits x so large |x| stays finite and exact.

    Uses max(x, 0) - x y + log(1 + exp(-|x|)), which never exponentiates a
    positive number; ``pos_weight`` scales the positive term, as in PyTorch.
    """
    x = fn.as_tensor(input)
    _same_shape("binary_cross_entropy_with_logits", x, target)
    y = _target_array(target, x.dtype)
    # log(1 + exp(-x)), stably. maximum (not relu) splits a tie at x = 0 half and half, so
    # the slope there is the true sigmoid(0) - 1 = -1/2 rather than a kink's choice.
    softplus_neg = fn.log1p(fn.exp(-fn.abs(x))) + fn.maximum(-x, 0.0)
    if pos_weight is None:
        losses = (1.0 - y) * x + softplus_neg
    else:
        weight = 1.0 + (_target_array(pos_weight, x.dtype) - 1.0) * y
        losses = (1.0 - y) * x + weight * softplus_neg
    return _reduce(losses, reduction)


def _target_values(target: Any) -> Any:
    """A target's array: a Tensor's own, another library's as it is, else a NumPy array."""
    values = target._data if isinstance(target, Tensor) else target
    if type(values) is np.ndarray or backend.array_namespace(values) is np:
        return np.asarray(values)
    return values


def _class_indices(op: str, logits: Tensor, target: Any) -> Any:
    """Class-index targets as an index array, checked for dtype and shape.

    A Tensor's own array is used as it is (a compiled step follows it by identity), and so
    is an array of another library (the labels of a batch on the GPU); values out of range
    are refused by the primitive itself, at every call.
    """
    indices = _target_values(target)
    kind = indices.dtype.kind if type(indices) is np.ndarray else backend.kind(indices)
    if kind not in "iu":
        raise DtypeError(
            f"{op}: class-index targets must be integers, got dtype {indices.dtype} "
            "(for class probabilities pass a float target of the input's shape)"
        )
    if logits.ndim != 2 or indices.shape != (logits.shape[0],):
        raise ShapeError(
            f"{op}: expected input of shape (N, C) and target of shape (N,), got "
            f"{logits.shape} and {indices.shape}"
        )
    return indices.astype(np.intp, copy=False) if backend.is_numpy(indices) else indices


def cross_entropy(
    input: Any, target: Any, reduction: str = "mean", label_smoothing: float = 0.0
) -> Tensor:
    """Softmax cross-entropy of logits (N, C) against class indices (N,), as one primitive.

    A float target of shape (N, C) is read as class probabilities instead. A
    1-D input (C,) with a scalar target is one unbatched sample.
    """
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    logits = fn.as_tensor(input)
    target_array = _target_values(target)
    if logits.ndim == 1:
        logits = logits.reshape(1, -1)
        target_array = xp.reshape(target_array, (1, *target_array.shape))
        if reduction == "none":
            return cross_entropy(logits, target_array, "none", label_smoothing).reshape(())
    if backend.kind(target_array) == "f" and target_array.shape == logits.shape:
        classes = logits.shape[1]
        q = array_like(target_array, logits) * (1.0 - label_smoothing) + label_smoothing / classes
        return _reduce(-(fn.log_softmax(logits, 1) * q).sum(axis=1), reduction)
    indices = _class_indices("cross_entropy", logits, target_array)
    params = {"target": indices, "label_smoothing": float(label_smoothing), "reduction": reduction}
    return apply(nn_ops.cross_entropy, (logits,), params)


def nll_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities (N, C) at class indices (N,)."""
    _check_reduction(reduction)
    log_probs = fn.as_tensor(input)
    indices = _class_indices("nll_loss", log_probs, target)
    return apply(nn_ops.nll_loss, (log_probs,), {"target": indices, "reduction": reduction})


__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "erf",
    "gelu",
    "l1_loss",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]
