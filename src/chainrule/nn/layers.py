"""Layers: Linear, activations, Dropout, Flatten, Identity, and the MLP convenience.

Layer: nn. Every module that creates parameters takes ``dtype`` (default:
chainrule's default dtype) and ``generator`` (default: the generator that
``manual_seed`` seeds) the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import functions as fn
from ..tensor import Tensor, get_default_dtype
from . import functional as F
from . import init
from .module import Module, Sequential
from .parameter import Parameter


def _empty(shape: tuple[int, ...], dtype: Any) -> Parameter:
    return Parameter(np.zeros(shape, dtype=get_default_dtype() if dtype is None else dtype))


class Linear(Module):
    """y = x Wᵀ + b with W of shape (out_features, in_features), initialized as in PyTorch.

    W ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform_ with a = sqrt(5)) and
    b ~ U(-1/sqrt(in), 1/sqrt(in)).

    >>> from chainrule import nn
    >>> nn.Linear(4, 3).weight.shape
    (3, 4)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        dtype: Any = None,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = _empty((out_features, in_features), dtype)
        if bias:
            self.bias = _empty((out_features,), dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """Draw fresh weights with PyTorch's default scheme."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, x: Any) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Identity(Module):
    """Returns its input unchanged (a placeholder layer)."""

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """Flatten dims ``start_dim``..``end_dim`` into one (default: all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x: Any) -> Tensor:
        x = fn.as_tensor(x)
        start = self.start_dim % x.ndim
        end = self.end_dim % x.ndim
        shape = x.shape[:start] + (math.prod(x.shape[start : end + 1]),) + x.shape[end + 1 :]
        return x.reshape(shape)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x: Any) -> Tensor:
        return F.relu(x)


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Any) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """1 / (1 + exp(-x)): the recitation's σ."""

    def forward(self, x: Any) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, x: Any) -> Tensor:
        return F.tanh(x)


class GELU(Module):
    """x Phi(x), exact (erf) or with PyTorch's tanh approximation (approximate="tanh")."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Any) -> Tensor:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``dim``."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Any) -> Tensor:
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """x - logsumexp(x) along ``dim``."""

    def forward(self, x: Any) -> Tensor:
        return F.log_softmax(x, self.dim)


class Dropout(Module):
    """Training: zero entries with probability p, scale the rest by 1/(1-p). Eval: identity."""

    def __init__(self, p: float = 0.5, generator: np.random.Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, got {p}")
        self.p = p
        self.generator = generator

    def forward(self, x: Any) -> Tensor:
        return F.dropout(x, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


#: Activation names accepted by MLP and the command line.
ACTIVATIONS: dict[str, Callable[[], Module]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "gelu": GELU,
    "identity": Identity,
}


def _activation(spec: str | Callable[[], Module]) -> Module:
    if isinstance(spec, str):
        if spec not in ACTIVATIONS:
            raise ValueError(f"unknown activation {spec!r}; choose one of {sorted(ACTIVATIONS)}")
        return ACTIVATIONS[spec]()
    return spec()


class MLP(Sequential):
    """Linear layers of the given sizes with an activation between them.

    ``MLP([64, 64, 10])`` is Sequential(Linear(64, 64), ReLU(), Linear(64, 10)): the
    last layer has no activation (it gives logits) unless ``output_activation`` is
    set, as in the recitation's 2-2-1 network ``MLP([2, 2, 1], "sigmoid", "sigmoid")``.

    >>> from chainrule import nn
    >>> nn.MLP([2, 2, 1], activation="sigmoid", output_activation="sigmoid")
    MLP(
      (0): Linear(in_features=2, out_features=2, bias=True)
      (1): Sigmoid()
      (2): Linear(in_features=2, out_features=1, bias=True)
      (3): Sigmoid()
    )
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str | Callable[[], Module] = "relu",
        output_activation: str | Callable[[], Module] | None = None,
        bias: bool = True,
        dtype: Any = None,
        generator: np.random.Generator | None = None,
    ) -> None:
        sizes = [int(n) for n in sizes]
        if len(sizes) < 2 or any(n <= 0 for n in sizes):
            raise ValueError(f"MLP needs at least two positive sizes (in, ..., out), got {sizes}")
        layers: list[Module] = []
        for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            layers.append(Linear(n_in, n_out, bias=bias, dtype=dtype, generator=generator))
            if index < len(sizes) - 2:
                layers.append(_activation(activation))
        if output_activation is not None:
            layers.append(_activation(output_activation))
        super().__init__(*layers)
        self.sizes = sizes
