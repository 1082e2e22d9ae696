"""The primitives: the only place in chainrule where derivatives are written.

Layer: ops (imports numpy and chainrule.core). Importing this package registers
every primitive in chainrule.core.primitive.PRIMITIVES.
"""

from . import (
    complex,
    creation,
    decompositions,
    elementwise,
    linalg,
    nn,
    norms,
    products,
    reductions,
    shape,
    sorting,
)

__all__ = [
    "complex",
    "creation",
    "decompositions",
    "elementwise",
    "linalg",
    "nn",
    "norms",
    "products",
    "reductions",
    "shape",
    "sorting",
]
