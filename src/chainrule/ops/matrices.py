"""Shared pieces of the linear-algebra entries: shape checks, LAPACK error translation,
test matrices, and the masks that map symmetric gradients onto the triangle read.

Layer: ops (imports numpy, chainrule.core and chainrule.errors). Matrices are the last two
axes; leading axes are a batch, as in NumPy. Everything here runs on arrays of any Array API
library and on Tensors (``xp``); the test matrices are NumPy's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..core import backend
from ..core.backend import xp
from ..core.primitive import PRIMITIVES, Traceable, raw
from ..errors import LinAlgError, ShapeError


def transposed(x: Any) -> Any:
    """Each matrix of a stack transposed: arrays of any library (the standard's
    matrix_transpose; CuPy's arrays lack the ``mT`` attribute) and Tensors."""
    if type(x) is np.ndarray:
        return x.mT
    return x.swapaxes(-1, -2) if isinstance(x, Traceable) else xp.matrix_transpose(x)


def as_operand(value: Any) -> Any:
    """Python lists and numbers as NumPy arrays (a right-hand side given as a list); arrays of
    any library and Tensors as they are (CuPy's refuse a silent copy to NumPy)."""
    return np.asarray(value) if isinstance(value, (list, tuple, int, float)) else value


def check_matrix(op: str, a: Any, square: bool = True) -> None:
    """A ShapeError naming ``op`` unless ``a`` is a (stack of) matrices, square if asked."""
    shape = np.shape(a)
    if len(shape) < 2:
        raise ShapeError(f"{op}: expected a matrix or a stack of matrices, got shape {shape}")
    if square and shape[-1] != shape[-2]:
        raise ShapeError(f"{op}: expected square matrices, got shape {shape}")


def refuse_complex(op: str, *arrays: Any) -> None:
    """A TypeError for complex input to an operation whose forward is not complex-analytic
    (it conjugates), so a complex step through it would give a wrong derivative."""
    if any(backend.kind(a) == "c" for a in arrays):
        raise TypeError(f"{op}: complex input is not supported")


def lapack(op: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` with NumPy's LinAlgError reported as ours, naming ``op``.

    Where NumPy raises (a singular matrix to invert, a Cholesky factor of an indefinite one),
    another library may return inf or NaN instead (CuPy does): a non-finite result from
    finite operands of another library raises LinAlgError too, never a silent wrong number.
    """
    try:
        result = function(*args, **kwargs)
    except np.linalg.LinAlgError as error:
        raise LinAlgError(f"{op}: {error} (shapes {_shapes(args)})") from None
    if type(args[0]) not in backend.NUMPY_TYPES and not _all_finite(result) and _all_finite(args):
        raise LinAlgError(
            f"{op}: the result is not finite for finite input (shapes {_shapes(args)}): "
            "the matrix is singular, not positive definite, or the algorithm did not converge"
        )
    return result


def _shapes(args: Any) -> str:
    return " and ".join(str(np.shape(a)) for a in args if hasattr(a, "shape"))


def _all_finite(values: Any) -> bool:
    """Whether every array among ``values`` (an array, or a tuple of them) is finite."""
    if not isinstance(values, tuple):
        values = (values,)
    return all(bool(xp.all(xp.isfinite(v))) for v in values if backend.kind(v) in "fc")


def eye_like(x: Any) -> Any:
    """The identity of ``x``'s matrix size and dtype, in the library of the array behind ``x``."""
    value = raw(x)
    if type(value) is np.ndarray:  # the common case, without looking up a namespace
        return np.eye(value.shape[-1], dtype=value.dtype)
    return backend.array_namespace(value).eye(
        np.shape(x)[-1], dtype=value.dtype, device=backend.native_device(value)
    )


def diagonal(m: Any) -> Any:
    """The diagonals of a stack of square matrices (written with products and a sum, so it
    records on Tensors)."""
    return xp.sum(m * eye_like(m), axis=-1)


def triangle_mask(x: Any, k: int = 0, upper: bool = False) -> Any:
    """Ones on and below diagonal ``k`` of ``x``'s matrices (on and above it if ``upper``),
    zeros elsewhere, in ``x``'s dtype and library: a triangle of ``x`` is a product with it."""
    value = raw(x)
    n = np.shape(x)[-1]
    if type(value) is np.ndarray:  # the common case: one call
        return np.tri(n, k=-k, dtype=value.dtype).T if upper else np.tri(n, k=k, dtype=value.dtype)
    space = backend.array_namespace(value)
    ones = space.ones((n, n), dtype=value.dtype, device=backend.native_device(value))
    return space.triu(ones, k=k) if upper else space.tril(ones, k=k)


def from_triangle(t: Any, upper: bool) -> Any:
    """The symmetric matrices an operation reading one triangle of ``t`` sees."""
    part = t * triangle_mask(t, 1, upper=True) if upper else t * triangle_mask(t, -1)
    return part + transposed(part) + t * eye_like(t)


def onto_triangle(m: Any, upper: bool) -> Any:
    """The gradient with respect to the triangle read, from ``m`` with ``<m, dA>`` the
    differential for symmetric ``dA``: ``m_ij + m_ji`` off the diagonal, 0 in the other half.
    """
    half = triangle_mask(m, 1, upper=True) if upper else triangle_mask(m, -1)
    return (m + transposed(m)) * half + m * eye_like(m)


def well_conditioned(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Square matrices with a dominant diagonal: far from singular."""
    n = shape[-1]
    return rng.uniform(-1.0, 1.0, size=shape) + (n + 1) * np.eye(n)


def positive_definite(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Symmetric positive-definite matrices with eigenvalues at least 1."""
    b = rng.uniform(-1.0, 1.0, size=shape)
    return b @ transposed(b) + np.eye(shape[-1])


def symmetric_distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Symmetric matrices whose eigenvalues are at least 0.5 apart (eigenvectors smooth)."""
    n = shape[-1]
    q, _ = np.linalg.qr(rng.standard_normal(shape))
    values = np.arange(n) * 1.0 + rng.uniform(0.0, 0.5, size=(*shape[:-2], n)) - n / 2
    return (q * values[..., None, :]) @ transposed(q)


def distinct_singular(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Matrices whose singular values are at least 0.5 apart and at least 1."""
    m, n = shape[-2:]
    k = min(m, n)
    u, _ = np.linalg.qr(rng.standard_normal((*shape[:-2], m, k)))
    v, _ = np.linalg.qr(rng.standard_normal((*shape[:-2], n, k)))
    values = 1.0 + np.arange(k)[::-1] + rng.uniform(0.0, 0.5, size=(*shape[:-2], k))
    return (u * values[..., None, :]) @ transposed(v)


def batch_solve(prim: Any, batched: Any, a: Any, b: Any, **params: Any) -> Any:
    """The batching rule of a solve (a: matrices, b: one vector or matrices): the batch
    axis goes in front of both operands' own leading axes, then one call on matrices."""
    vector = b.ndim - batched[1] == 1
    own = (a.ndim - batched[0] - 2, b.ndim - batched[1] - (1 if vector else 2))
    rank = max(own)
    a, b = (
        xp.reshape(x, x.shape[:1] + (1,) * (rank - r) + x.shape[1:]) if flag and r < rank else x
        for x, flag, r in zip((a, b), batched, own, strict=True)
    )
    if vector and batched[1]:
        return prim.bind(a, b[..., None], **params)[..., 0]
    return prim.bind(a, b, **params)


def per_matrix(name: str) -> Callable[..., Any]:
    """The batching rule of an operation on (stacks of) matrices: it already maps over
    leading axes, so the batch axis is one more and the rule is one call."""

    def rule(batched: Any, *args: Any, **params: Any) -> Any:
        return PRIMITIVES[name].bind(*args, **params)

    return rule
