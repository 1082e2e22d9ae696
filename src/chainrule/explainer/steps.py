"""How the finite-difference error depends on the step h: truncation versus round-off.

Layer: explain (imports api, fd). For each step h from 1e-1 down to 1e-16 the
gradient is estimated by forward, central and complex-step differences and
compared with reverse mode. Large h suffers truncation error (O(h) forward,
O(h²) central), small h suffers cancellation (O(u/h)) except for the complex
step, which subtracts nothing: "small for accuracy but not too small".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import api, fd
from ..io.plotting import save_figure, subplots
from .trace import DomainError

SCHEMES = ("forward", "central", "complex-step")


@dataclass
class StepSweep:
    """Relative gradient error of each scheme at each step, and each scheme's best step."""

    steps: np.ndarray
    errors: dict[str, np.ndarray]

    def best(self, scheme: str) -> tuple[float, float]:
        """(h, error) where ``scheme`` does best (the first such h, scanning from large h)."""
        errors = self.errors[scheme]
        k = int(np.nanargmin(errors))
        return float(self.steps[k]), float(errors[k])

    def rows(self) -> list[tuple[float, ...]]:
        return [
            (float(h), *(float(self.errors[s][k]) for s in SCHEMES))
            for k, h in enumerate(self.steps)
        ]


def sweep(
    f: Callable[..., Any], point: Mapping[str, float], steps: np.ndarray | None = None
) -> StepSweep:
    """Errors ``|g_fd - g_rev| / |g_rev|`` (max over inputs) for each scheme and relative step."""
    if steps is None:
        steps = np.logspace(-1, -16, 31)
    names = list(point)
    values = [float(point[n]) for n in names]

    def g(*xs: Any) -> Any:
        return f(**dict(zip(names, xs, strict=True)))

    with np.errstate(all="ignore"):
        gradient = api.grad(g, argnums=tuple(range(len(names))))(*values)
    reference = np.atleast_1d(np.asarray(gradient))
    if not np.all(np.isfinite(reference)):
        at = ", ".join(f"{n}={v:g}" for n, v in zip(names, values, strict=True))
        raise DomainError(
            f"the gradient at {at} is not finite ({', '.join(f'{r:g}' for r in reference)}), "
            "so there is no error of finite differences to measure; pick a point inside "
            "the function's domain"
        )
    scale = np.maximum(np.abs(reference), np.finfo(float).tiny)
    errors = {s: np.empty(len(steps)) for s in SCHEMES}
    with np.errstate(all="ignore"):
        for k, h in enumerate(steps):
            for scheme in SCHEMES:
                estimate = np.atleast_1d(np.asarray(fd.gradient(g, *values, eps=h, scheme=scheme)))
                errors[scheme][k] = float(np.max(np.abs(estimate - reference) / scale))
    # A zero error cannot be drawn on a log axis: show it at the float64 resolution.
    floor = np.finfo(float).eps / 2
    return StepSweep(np.asarray(steps), {s: np.maximum(e, floor) for s, e in errors.items()})


def plot(result: StepSweep, path: str | os.PathLike[str], title: str = "") -> Path:
    """A log-log plot of error against h, one line per scheme, best steps marked (PNG/SVG/PDF)."""
    figure, axes = subplots(figsize=(7, 4.5))
    for scheme, marker in zip(SCHEMES, ("o", "s", "^"), strict=True):
        (line,) = axes.loglog(
            result.steps, result.errors[scheme], marker=marker, ms=3, label=scheme
        )
        h, error = result.best(scheme)
        axes.loglog([h], [error], marker="*", ms=14, color=line.get_color(), linestyle="none")
        axes.annotate(
            f"best h={h:.0e}", (h, error), textcoords="offset points", xytext=(6, -12), fontsize=8
        )
    axes.invert_xaxis()
    axes.set_xlabel("relative step h (large → small)")
    axes.set_ylabel("relative error vs reverse mode")
    axes.set_title(title or "finite differences: truncation vs round-off")
    axes.grid(True, which="major", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    return save_figure(figure, path)
