"""chainrule: derivatives three ways (finite differences, symbolic, automatic) on NumPy.

Layer: top (re-exports the public API; the CLI lives in chainrule.cli).

>>> import chainrule as cr
>>> x, z = cr.tensor(2.0, requires_grad=True), cr.tensor(3.0, requires_grad=True)
>>> y = cr.exp(x * z) + x * z / cr.log(x) + cr.sin(cr.log(x)) / (x * z)
>>> y.backward()
>>> print(f"{y.item():.6f} {x.grad.item():.6f} {z.grad.item():.6f}")
412.191457 1208.381215 809.707479
"""

from typing import Any

from . import data, errors, fd, nn, optim
from .api import grad, hessian, jacobian, jvp, value_and_grad, vjp
from .core.mode import enable_grad, is_grad_enabled, no_grad
from .core.primitive import PRIMITIVES, Notation
from .custom import CustomOp, Function, FunctionCtx, custom_jvp, custom_op, custom_vjp
from .explainer import explain
from .fd import gradcheck
from .functions import (
    abs,
    add,
    as_tensor,
    astype,
    broadcast_to,
    clip,
    concatenate,
    cos,
    divide,
    exp,
    expand_dims,
    expm1,
    log,
    log1p,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    multiply,
    negative,
    power,
    relu,
    reshape,
    sigmoid,
    sign,
    sin,
    softmax,
    sqrt,
    squeeze,
    stack,
    subtract,
    sum,
    swapaxes,
    tan,
    tanh,
    transpose,
    where,
)
from .jit import compile
from .random import manual_seed
from .tensor import Tensor, _to_array, get_default_dtype, set_default_dtype


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new Tensor holding a copy of ``data``.

    Python floats and lists of floats get the default dtype (float64), Python ints
    int64; NumPy arrays keep their dtype unless ``dtype`` is given.

    >>> tensor([1.0, 2.0], requires_grad=True)
    tensor([1., 2.], requires_grad=True)
    """
    if type(data) in (float, int, bool, complex):
        return Tensor(data, requires_grad, dtype)
    array = _to_array(data, dtype, copy=True)
    return Tensor(array[()] if array.ndim == 0 else array, requires_grad=requires_grad)


__version__ = "0.1.0"

__all__ = [
    # user-defined operations (chainrule.custom)
    "CustomOp",
    "Function",
    "FunctionCtx",
    "Notation",
    "custom_jvp",
    "custom_op",
    "custom_vjp",
    # the library
    "PRIMITIVES",
    "Tensor",
    "abs",
    "add",
    "as_tensor",
    "astype",
    "broadcast_to",
    "clip",
    "compile",
    "concatenate",
    "cos",
    "divide",
    "enable_grad",
    "errors",
    "data",
    "nn",
    "optim",
    "exp",
    "explain",
    "expand_dims",
    "expm1",
    "fd",
    "get_default_dtype",
    "grad",
    "gradcheck",
    "hessian",
    "is_grad_enabled",
    "jacobian",
    "jvp",
    "log",
    "log1p",
    "log_softmax",
    "logsumexp",
    "manual_seed",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "multiply",
    "negative",
    "no_grad",
    "power",
    "relu",
    "reshape",
    "set_default_dtype",
    "sigmoid",
    "sign",
    "sin",
    "softmax",
    "sqrt",
    "squeeze",
    "stack",
    "subtract",
    "sum",
    "swapaxes",
    "tan",
    "tanh",
    "tensor",
    "transpose",
    "value_and_grad",
    "vjp",
    "where",
]
