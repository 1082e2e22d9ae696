"""The recitation's worked examples: its running function and the point it is evaluated at.

Layer: examples (imports the public operations only).
"""

from .recitation import EXPRESSION, GRADIENT, POINT, VALUE, seed_function

__all__ = ["EXPRESSION", "GRADIENT", "POINT", "VALUE", "seed_function"]
