"""Where each primitive may be sampled in tests: one sampler ``(rng, shape) -> array`` per domain.

Layer: ops. Points are kept away from poles, kinks and ties by a margin larger
than any finite-difference step, so a gradient check failure means a wrong rule.
"""

from __future__ import annotations

import numpy as np


def real(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Anywhere on a moderate range."""
    return rng.uniform(-2.0, 2.0, size=shape)


def positive(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Strictly positive, away from zero (log, sqrt, bases of powers)."""
    return rng.uniform(0.3, 3.0, size=shape)


def nonzero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Either sign, away from zero (divisors, the kinks of abs and relu)."""
    magnitude = rng.uniform(0.2, 2.0, size=shape)
    return np.where(rng.random(size=shape) < 0.5, -magnitude, magnitude)


def tan_safe(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Inside (-pi/2, pi/2) with a margin, where tan is smooth."""
    return rng.uniform(-1.2, 1.2, size=shape)


def small(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Greater than -1 with a margin (log1p)."""
    return rng.uniform(-0.7, 2.0, size=shape)


def distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values on a grid with spacing 0.25: ties between two samples are exact or far apart.

    Used by maximum/minimum and max/min reductions, whose gradient jumps at ties.
    """
    return rng.integers(-8, 9, size=shape) * 0.25 + rng.uniform(-0.02, 0.02, size=shape)
