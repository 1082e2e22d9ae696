"""Optimizers with PyTorch's names and update formulas: SGD, Adam, AdamW; schedules.

Layer: optim (imports numpy and chainrule's core and tensor).

>>> import chainrule as cr
>>> from chainrule import nn, optim
>>> w = nn.Parameter(cr.tensor([1.0, -2.0]).data)
>>> opt = optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step()
>>> w
Parameter containing:
tensor([ 0.8, -1.6], requires_grad=True)
"""

from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "lr_scheduler"]
