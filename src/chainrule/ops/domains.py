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


def unit_interior(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Inside (-1, 1) with a margin (arcsin, arccos, arctanh, erfinv: poles or kinks at ±1)."""
    return rng.uniform(-0.9, 0.9, size=shape)


def above_one(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Greater than 1 with a margin (arccosh, whose slope is infinite at 1)."""
    return rng.uniform(1.2, 3.0, size=shape)


def between_integers(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """At least 0.15 from every integer (floor, ceil, trunc jump at the integers)."""
    return rng.integers(-3, 3, size=shape) + rng.uniform(0.15, 0.85, size=shape)


def between_halves(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """At least 0.15 from every half-integer (round jumps there)."""
    return rng.integers(-3, 4, size=shape) + rng.uniform(-0.35, 0.35, size=shape)


def divisor(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Magnitude in [0.9, 1.1], either sign: with :func:`dividend`, quotients stay off integers."""
    return _either_sign(rng, rng.uniform(0.9, 1.1, size=shape))


def dividend(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Magnitude in [0.3, 0.7], [1.3, 1.6] or [2.4, 2.6], either sign: divided by any
    :func:`divisor` the quotient is at least 0.18 from an integer (fmod and remainder jump
    there), and it takes the integer parts 0, 1 and 2."""
    pick = rng.integers(0, 3, size=shape)
    magnitude = np.array([0.3, 1.3, 2.4])[pick] + np.array([0.4, 0.3, 0.2])[pick] * rng.random(
        size=shape
    )
    return _either_sign(rng, magnitude)


def with_nans(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """:func:`distinct` values with about one in four NaN (fmax and fmin ignore NaN)."""
    return np.where(rng.random(size=shape) < 0.25, np.nan, distinct(rng, shape))


def _either_sign(rng: np.random.Generator, magnitude: np.ndarray) -> np.ndarray:
    return np.where(rng.random(size=np.shape(magnitude)) < 0.5, -magnitude, magnitude)
