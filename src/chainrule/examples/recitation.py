"""The recitation's running example, y = exp(xz) + xz/ln(x) + sin(ln(x))/(xz), at x=2, z=3.

Layer: examples. Used by the README's first command, the tests and the benchmarks.
"""

from __future__ import annotations

from typing import Any

from .. import functions as F

EXPRESSION = "exp(x*z) + x*z/ln(x) + sin(ln(x))/(x*z)"
POINT = {"x": 2.0, "z": 3.0}
#: Reference values (computed in 50-digit arithmetic), rounded to float64.
VALUE = 412.19145728412118
GRADIENT = {"x": 1208.3812151266096, "z": 809.70747921856408}


def seed_function(x: Any, z: Any) -> Any:
    """y = exp(x z) + x z / ln(x) + sin(ln(x)) / (x z), written with chainrule operations."""
    xz = x * z
    return F.exp(xz) + xz / F.log(x) + F.sin(F.log(x)) / xz
