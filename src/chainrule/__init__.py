"""chainrule: derivatives three ways (finite differences, symbolic, automatic) on NumPy.

Layer: top (re-exports the public API; the CLI lives in chainrule.cli).

>>> import chainrule as cr
>>> x, z = cr.tensor(2.0, requires_grad=True), cr.tensor(3.0, requires_grad=True)
>>> y = cr.exp(x * z) + x * z / cr.log(x) + cr.sin(cr.log(x)) / (x * z)
>>> y.backward()
>>> print(f"{y.item():.6f} {x.grad.item():.6f} {z.grad.item():.6f}")
412.191457 1208.381215 809.707479
"""

from . import data, errors, fd, nn, optim
from .api import (
    checkpoint,
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    linearize,
    remat,
    value_and_grad,
    vjp,
)
from .core.anomaly import detect_anomaly, is_anomaly_enabled
from .core.backend import Device
from .core.mode import enable_grad, is_grad_enabled, no_grad
from .core.primitive import PRIMITIVES, Notation
from .custom import CustomOp, Function, FunctionCtx, custom_jvp, custom_op, custom_vjp
from .explainer import draw, explain
from .fd import gradcheck
from .functions import NAMESPACES as _NAMESPACES
from .functions import PUBLIC as _GENERATED
from .functions import array, as_tensor, tensor
from .jit import compile
from .jit.vmap import vmap
from .random import manual_seed
from .tensor import Tensor, get_default_dtype, set_default_dtype

#: The operations generated from the registry: chainrule.exp, chainrule.sum, ...
globals().update(_GENERATED)
#: Their namespaces, generated from dotted names: chainrule.linalg.inv, ...
globals().update(_NAMESPACES)

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
    "Device",
    "PRIMITIVES",
    "Tensor",
    "array",
    "as_tensor",
    "checkpoint",
    "compile",
    "data",
    "detect_anomaly",
    "draw",
    "enable_grad",
    "errors",
    "explain",
    "fd",
    "get_default_dtype",
    "grad",
    "gradcheck",
    "hessian",
    "hvp",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "jacfwd",
    "jacobian",
    "jacrev",
    "jvp",
    "linearize",
    "manual_seed",
    "nn",
    "no_grad",
    "optim",
    "remat",
    "set_default_dtype",
    "tensor",
    "value_and_grad",
    "vjp",
    "vmap",
]
__all__ += sorted(_GENERATED)
__all__ += sorted(_NAMESPACES)
