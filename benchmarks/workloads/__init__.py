"""The suite's workloads, in the order ``run.py`` runs them.

Each workload is a function ``(Options) -> list[Result]`` that builds its
contenders (chainrule, the installed peers, a hand-written lower bound), checks
that they compute the same thing, and measures them; a few add a printer of
their own for a table the generic one cannot show.
"""

from __future__ import annotations

from collections.abc import Callable

from harness import Result

from workloads import isolated, mlp, scalar, scaling
from workloads.common import Options

WORKLOADS: dict[str, Callable[[Options], list[Result]]] = {
    "seed_scalar": scalar.seed_scalar,
    "micrograd_expr": scalar.micrograd_expr,
    "tiny_mlp_step": mlp.tiny_mlp_step,
    "mlp_step": mlp.mlp_step,
    "mlp_step_adam": mlp.mlp_step_adam,
    "cheap_gradient": mlp.cheap_gradient,
    "scaling": scaling.scaling,
    "deep_chain": isolated.deep_chain,
    "train_digits": isolated.train_digits,
}

PRINTERS: dict[str, Callable[[list[Result]], None]] = {"scaling": scaling.print_table}

TITLES = {
    "seed_scalar": "gradient of exp(xz) + xz/ln(x) + sin(ln(x))/(xz) at x=2, z=3 (float64)",
    "micrograd_expr": "micrograd's README expression, forward + backward (float64)",
    "tiny_mlp_step": "2-2-1 sigmoid net, XOR batch of 4, MSE, one SGD step with zero_grad "
    "(float32)",
    "mlp_step": "MLP 784-256-128-10 ReLU, batch 128, softmax cross-entropy, one SGD step (float32)",
    "mlp_step_adam": "mlp_step with one Adam step (float32)",
    "cheap_gradient": "time(value_and_grad) / time(forward) of the mlp_step loss (float32)",
    "scaling": "f(x) = sum(sin(x)·x²) + sum(x[:-1]·x[1:]): reverse mode vs central differences "
    "(float64)",
    "deep_chain": "y = sin(y)·1.0001 chained to 1,000,000 ops (--chain-ops), backward; each "
    "contender in its own process (float64)",
    "train_digits": "`chainrule train --data digits` vs the same training in PyTorch; each in "
    "its own process (float32)",
}
