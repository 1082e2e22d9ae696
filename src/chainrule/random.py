"""The default random generator: initial weights, dropout masks, data shuffling.

Layer: bottom (imports numpy only). Every random draw in chainrule comes from
:func:`default_generator` unless a ``generator`` is passed, so ``manual_seed(0)``
makes a whole training run reproducible, as ``torch.manual_seed`` does.
"""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the default generator and return it."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def default_generator() -> np.random.Generator:
    """The generator used when no ``generator=`` is given."""
    return _generator
