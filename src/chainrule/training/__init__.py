"""What ``chainrule train`` and ``chainrule evaluate`` run: MLP specs, model files, the loop.

Layer: training (imports nn, optim, data and io).
"""

from .mlp import (
    LOSSES,
    MODEL_FORMAT,
    MODEL_VERSION,
    OPTIMIZERS,
    SPEC_KEYS,
    BatchGradient,
    DivergedError,
    build_model,
    fit,
    load_model,
    local_gradient,
    loss_function,
    make_optimizer,
    predict,
    save_model,
    score,
    splits,
    standardized,
    targets,
)

__all__ = [
    "LOSSES",
    "MODEL_FORMAT",
    "MODEL_VERSION",
    "OPTIMIZERS",
    "SPEC_KEYS",
    "BatchGradient",
    "DivergedError",
    "build_model",
    "fit",
    "load_model",
    "local_gradient",
    "loss_function",
    "make_optimizer",
    "predict",
    "save_model",
    "score",
    "splits",
    "standardized",
    "targets",
]
