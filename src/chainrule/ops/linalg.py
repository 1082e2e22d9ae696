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


def _as_stacked_matrices(a, batched, vector_shape):
    """A matmul operand with a leading batch axis (a unit one when not batched) and at
    least two axes per example: a 1-D example becomes a row (first operand) or column."""
    if not batched:
        a = a.reshape((1,) + np.shape(a))
    shape = np.shape(a)
    if len(shape) == 2:
        a = a.reshape(shape[:1] + vector_shape(shape[1]))
    return a


def _batch_matmul(batched, x, y):
    """One matmul over the batch: the batch axes line up by broadcasting, after unit axes
    pad the operand with fewer axes per example; 1-D examples are taken as a row (x) or a
    column (y) and that axis is dropped from the result, as np.matmul does."""
    x_batched, y_batched = batched
    x_rank, y_rank = np.ndim(x) - x_batched, np.ndim(y) - y_batched
    if x_batched and not y_batched and y_rank <= 2:
        return matmul.bind(x, y)  # (B, ..., n) @ (n, m) or (n,): already lined up
    if y_batched and not x_batched and x_rank == 2 and y_rank >= 2:
        return matmul.bind(x, y)
    xs = _as_stacked_matrices(x, x_batched, lambda n: (1, n))
    ys = _as_stacked_matrices(y, y_batched, lambda n: (n, 1))
    rank = max(np.ndim(xs), np.ndim(ys))
    xs = xs.reshape(np.shape(xs)[:1] + (1,) * (rank - np.ndim(xs)) + np.shape(xs)[1:])
    ys = ys.reshape(np.shape(ys)[:1] + (1,) * (rank - np.ndim(ys)) + np.shape(ys)[1:])
    if np.shape(xs)[-1] == 1:
        # Outer products (per-example weight gradients): the same numbers as a broadcast
        # product, far faster than np.matmul's loop over a stack of tiny matrices; on arrays
        # einsum's one-term contraction is faster still (about 2x at (128, 64, 64)).
        if type(xs) is np.ndarray and type(ys) is np.ndarray:
            out = np.einsum("...ik,...kj->...ij", xs, ys)
        else:
            out = xs * ys
    else:
        out = matmul.bind(xs, ys)
    shape = np.shape(out)
    if x_rank == 1:
        shape = shape[:-2] + shape[-1:]
    if y_rank == 1:
        shape = shape[:-1]
    return out.reshape(shape) if shape != np.shape(out) else out


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
        batch=_batch_matmul,
        doc="Matrix product with np.matmul's rules (1-D operands, batches).",
    )
)
