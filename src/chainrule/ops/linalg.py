"""Matrix product with NumPy's matmul semantics (1-D operands, batch broadcasting).

Layer: ops.
"""

from __future__ import annotations

import numpy as np

from ..core.primitive import Primitive, register
from ..errors import ShapeError
from . import domains as d


def _matmul(x, y):
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        raise ShapeError(
            f"matmul: operands must have at least one dimension, got shapes {np.shape(x)} "
            f"and {np.shape(y)}; use * for scalars"
        )
    inner_x = x.shape[-1]
    inner_y = y.shape[-2] if y.ndim > 1 else y.shape[0]
    if inner_x != inner_y:
        raise ShapeError(
            f"matmul: shapes {x.shape} and {y.shape} are not aligned: the last dimension "
            f"of the first ({inner_x}) must equal the "
            f"{'second-to-last' if y.ndim > 1 else 'only'} dimension of the second ({inner_y})"
        )
    return np.matmul(x, y)


def _matmul_vjp_x(g, ans, x, y):
    if y.ndim == 1:
        return g * y if x.ndim == 1 else g[..., None] * y
    if x.ndim == 1:
        return (y @ g[..., None])[..., 0]
    return g @ y.swapaxes(-1, -2)


def _matmul_vjp_y(g, ans, x, y):
    if x.ndim == 1:
        return x * g if y.ndim == 1 else x[:, None] * g[..., None, :]
    if y.ndim == 1:
        return (x.swapaxes(-1, -2) @ g[..., None])[..., 0]
    return x.swapaxes(-1, -2) @ g


matmul = register(
    Primitive(
        "matmul",
        _matmul,
        (_matmul_vjp_x, _matmul_vjp_y),
        (lambda t, ans, x, y: t @ y, lambda t, ans, x, y: x @ t),
        kind="linalg",
        sample=lambda rng: [
            ((d.real(rng, (3, 4)), d.real(rng, (4, 2))), {}),
            ((d.real(rng, (4,)), d.real(rng, (4, 3))), {}),
            ((d.real(rng, (3, 4)), d.real(rng, (4,))), {}),
            ((d.real(rng, (4,)), d.real(rng, (4,))), {}),
            ((d.real(rng, (2, 3, 4)), d.real(rng, (4, 2))), {}),
            ((d.real(rng, (2, 3, 4)), d.real(rng, (2, 4, 2))), {}),
            ((d.real(rng, (4,)), d.real(rng, (2, 4, 3))), {}),
        ],
        label="@",
        names=("matmul",),
        methods=("matmul",),
        numpy=(np.matmul,),
        signature="binary",
        doc="Matrix product with np.matmul's rules (1-D operands, batches).",
    )
)
