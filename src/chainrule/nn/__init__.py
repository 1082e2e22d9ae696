"""Neural networks with PyTorch's interface: modules, layers, losses, initialization.

Layer: nn (imports numpy and chainrule's core, ops, tensor and functions; no
optional dependency).

>>> import chainrule as cr
>>> from chainrule import nn
>>> nn.manual_seed(0)  # doctest: +ELLIPSIS
Generator(PCG64) at ...
>>> model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid())
>>> x = cr.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
>>> loss = nn.MSELoss()(model(x), cr.tensor([[0.0], [1.0], [1.0], [0.0]]))
>>> loss.backward()
>>> model[0].weight.grad.shape
(2, 2)
"""

from ..random import default_generator, manual_seed
from . import functional, init
from .layers import (
    ACTIVATIONS,
    GELU,
    MLP,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import IncompatibleKeys, Module, ModuleList, Sequential, StateDictError
from .parameter import Parameter
from .serialization import ModelFileError, load, load_with_metadata, save

__all__ = [
    "ACTIVATIONS",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "GELU",
    "Identity",
    "IncompatibleKeys",
    "L1Loss",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MLP",
    "MSELoss",
    "ModelFileError",
    "Module",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "StateDictError",
    "Tanh",
    "default_generator",
    "functional",
    "init",
    "load",
    "load_with_metadata",
    "manual_seed",
    "save",
]
