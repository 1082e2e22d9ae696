"""chainrule's compiled mode as a contender: the same eager step, through ``chainrule.compile``.

The compiled step is traced on a trial copy first (a step updates the weights), then
a fresh copy is compiled and measured, so it starts from the initial weights like
every other contender and is checked against the hand-written NumPy step. The trial's
first call (trace, and for numba its compilation) is timed apart: it is paid once per
input signature, and the table reports it as a note.
"""

from __future__ import annotations

import time
from collections.abc import Callable

NAME = "chainrule compiled"
#: The native column: ``chainrule.compile(step, backend="numba")``, when numba is installed.
NATIVE = "chainrule numba"


def compiled_step(
    make_training: Callable[[], tuple], backend: str = "numpy"
) -> Callable[[], object]:
    """A zero-argument compiled step; ``make_training()`` returns (step, inputs, targets).

    The first (tracing and compiling) call's time is kept as ``compile_seconds``.
    """
    import chainrule as cr

    step, inputs, targets = make_training()
    start = time.perf_counter()
    cr.compile(step, backend=backend)(inputs, targets)
    seconds = time.perf_counter() - start
    step, inputs, targets = make_training()
    fast = cr.compile(step, backend=backend)
    run = lambda: fast(inputs, targets)  # noqa: E731
    run.compile_seconds = seconds
    return run
