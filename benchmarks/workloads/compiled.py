"""chainrule's compiled mode as a contender: the same eager step, through ``chainrule.compile``.

The compiled step is traced on a trial copy first (a step updates the weights), then
a fresh copy is compiled and measured, so it starts from the initial weights like
every other contender and is checked against the hand-written NumPy step.
"""

from __future__ import annotations

from collections.abc import Callable

NAME = "chainrule compiled"


def compiled_step(make_training: Callable[[], tuple]) -> Callable[[], object]:
    """A zero-argument compiled step; ``make_training()`` returns (step, inputs, targets)."""
    import chainrule as cr

    step, inputs, targets = make_training()
    cr.compile(step)(inputs, targets)
    step, inputs, targets = make_training()
    fast = cr.compile(step)
    return lambda: fast(inputs, targets)
