"""The default random generator: initial weights, dropout masks, data shuffling.

Layer: bottom (imports numpy and chainrule.core.mode). Every random draw in chainrule comes from
:func:`default_generator` unless a ``generator`` is passed, so ``manual_seed(0)``
makes a whole training run reproducible, as ``torch.manual_seed`` does.
"""

from __future__ import annotations

import numpy as np

from .core.mode import current_trace

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the default generator and return it."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def default_generator() -> np.random.Generator:
    """The generator used when no ``generator=`` is given.

    A draw inside ``chainrule.compile`` would be frozen at trace time, so it is refused.
    """
    trace = current_trace()
    if trace is not None:
        trace.refuse(
            "a random draw (Dropout in training mode, a random mask, shuffling)",
            "use model.eval(), or keep this step eager",
        )
    return _generator
