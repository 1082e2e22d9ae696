"""Training on more than one process: synchronous data-parallel SGD on Dask distributed.

Layer: distributed (above training, nn and optim; imports Dask lazily, through
:func:`chainrule.extras.require`, so that ``import chainrule`` never needs the
``distributed`` extra). ``chainrule train --workers N`` / ``--cluster ADDRESS`` and
``chainrule sweep`` are thin over this package.
"""

from .data_parallel import (
    CONNECTION_LOSS,
    DataParallel,
    SchedulerLostError,
    StepTiming,
    WorkerTiming,
    connect,
    shard_gradient,
)

__all__ = [
    "CONNECTION_LOSS",
    "DataParallel",
    "SchedulerLostError",
    "StepTiming",
    "WorkerTiming",
    "connect",
    "shard_gradient",
]
