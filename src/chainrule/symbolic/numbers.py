"""Exact and floating point constants of symbolic expressions, and safe arithmetic on them.

Layer: symbolic (imports nothing else from chainrule).

Constants are Python ``int`` and ``fractions.Fraction`` (exact, as SymPy's Integer and
Rational) or finite ``float``. Arithmetic on two exact numbers stays exact; anything
that touches a float becomes a float. Folding is capped so hostile input cannot make a
constant eat memory: a power whose exact result would exceed :data:`MAX_EXACT_BITS`
is not folded (the expression keeps ``9**387420489`` as a power), and sums or products
past the cap raise :class:`OverflowError`.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

Number = int | Fraction | float

#: Exact constants stay below this many bits (about 3000 decimal digits, under
#: Python's own 4300-digit limit for printing integers).
MAX_EXACT_BITS = 10_000


def normalize(value: object) -> Number:
    """``value`` as int, Fraction (denominator > 1) or finite float; raises for anything else."""
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, int | np.integer):
        return _checked(int(value))
    if isinstance(value, Fraction):
        return _checked(value.numerator if value.denominator == 1 else value)
    if isinstance(value, float | np.floating):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"symbolic constants must be finite, got {value}")
        return value + 0.0  # turns -0.0 into 0.0
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return normalize(value.item())
    raise TypeError(f"cannot make a symbolic constant from {type(value).__name__} {value!r}")


def is_exact(value: Number) -> bool:
    return not isinstance(value, float)


def _bits(value: int | Fraction) -> int:
    if isinstance(value, int):
        return value.bit_length()
    return max(value.numerator.bit_length(), value.denominator.bit_length())


def _checked(value: Number) -> Number:
    if not isinstance(value, float) and _bits(value) > MAX_EXACT_BITS:
        raise OverflowError(f"exact constant with more than {MAX_EXACT_BITS} bits")
    return value


def _to_float(value: Number) -> float:
    try:
        result = float(value)
    except OverflowError:
        raise OverflowError("constant too large for a float") from None
    return result


def _float_result(value: float) -> float:
    if not math.isfinite(value):
        raise OverflowError("floating point constant overflows")
    return value + 0.0


def add(a: Number, b: Number) -> Number:
    if isinstance(a, float) or isinstance(b, float):
        return _float_result(_to_float(a) + _to_float(b))
    return normalize(a + b)


def mul(a: Number, b: Number) -> Number:
    if isinstance(a, float) or isinstance(b, float):
        return _float_result(_to_float(a) * _to_float(b))
    if a and b and _bits(a) + _bits(b) > MAX_EXACT_BITS + 2:
        raise OverflowError(f"exact constant with more than {MAX_EXACT_BITS} bits")
    return normalize(a * b)


def _exact_root(value: int, degree: int) -> int | None:
    """The integer ``degree``-th root of ``value`` >= 0 when it is exact, else None."""
    if value.bit_length() > 2000:
        return None
    guess = round(value ** (1.0 / degree)) if value.bit_length() < 1000 else None
    if guess is None:
        return None
    for candidate in (guess - 1, guess, guess + 1):
        if candidate >= 0 and candidate**degree == value:
            return candidate
    return None


def power(base: Number, exponent: Number) -> Number | None:
    """``base ** exponent`` if it is a real number of bounded size, else None (stay symbolic)."""
    if is_exact(base) and isinstance(exponent, int):
        if exponent == 0:
            return 1
        if base == 0:
            return 0 if exponent > 0 else None
        if base in (1, -1):
            return base**exponent
        if abs(exponent) * _bits(base) > MAX_EXACT_BITS:
            return None
        return normalize(Fraction(base) ** exponent)
    if is_exact(base) and isinstance(exponent, Fraction):
        if base < 0:
            return None
        base = Fraction(base)
        numerator = _exact_root(base.numerator, exponent.denominator)
        denominator = _exact_root(base.denominator, exponent.denominator)
        if numerator is None or denominator is None:
            return None
        return power(Fraction(numerator, denominator), exponent.numerator)
    try:
        result = _to_float(base) ** _to_float(exponent)
    except (OverflowError, ZeroDivisionError):
        return None
    if not isinstance(result, float) or not math.isfinite(result):
        return None
    return result + 0.0


def as_float(value: Number) -> float:
    """The float nearest ``value`` (inf for exact values beyond the float range)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf
