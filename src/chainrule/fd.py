"""Finite differences (the recitation's approach 1), complex step, and gradcheck.

Layer: api (imports tensor and api). These only ever *evaluate* ``f``, so they are
an independent oracle for the derivative rules.

Step sizes. With machine epsilon u of the input's dtype and a relative step h
(the actual step is h * max(1, |x_i|)):

* forward ``(f(x+h) - f(x)) / h``: truncation error ~ h f''/2, round-off ~ u f / h;
  balanced at h = sqrt(u) (1.5e-8 in float64), giving ~ sqrt(u) accuracy.
* central ``(f(x+h) - f(x-h)) / 2h``: truncation ~ h² f'''/6, round-off ~ u f / h;
  balanced at h = cbrt(u) (6.1e-6 in float64), giving ~ u^(2/3) accuracy.
* complex step ``Im f(x + ih) / h``: no subtraction, hence no cancellation; any
  tiny h works for a real-analytic f. We use h = 1e-20, giving ~ u accuracy. It runs
  under :func:`chainrule.core.mode.complex_step`, so operations that are not analytic on
  complex numbers (abs, conj, real) act as their real functions' analytic extensions.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .core.mode import complex_step, no_grad
from .errors import ShapeError
from .tensor import Tensor, _to_array

SCHEMES = ("forward", "central", "complex-step")


def default_step(scheme: str = "central", dtype: Any = np.float64) -> float:
    """The relative step each scheme uses by default for inputs of ``dtype`` (see the module doc).

    >>> default_step("central")  # doctest: +ELLIPSIS
    6.05...e-06
    """
    eps = float(np.finfo(np.dtype(dtype)).eps)
    if scheme == "forward":
        return float(eps**0.5)
    if scheme == "central":
        return float(eps ** (1 / 3))
    if scheme == "complex-step":
        return 1e-20
    raise ValueError(f"unknown finite-difference scheme {scheme!r}; choose one of {SCHEMES}")


def _evaluate(f: Callable[..., Any], arrays: list[np.ndarray]) -> np.ndarray:
    with no_grad():
        out = f(*[Tensor(a) for a in arrays])
    return np.asarray(out._data if isinstance(out, Tensor) else out)


def _float_inputs(inputs: tuple[Any, ...]) -> list[np.ndarray]:
    arrays = []
    for i, value in enumerate(inputs):
        array = np.array(_to_array(value), copy=True)
        if array.dtype.kind not in "fc":
            if isinstance(value, (np.ndarray, Tensor)):
                raise TypeError(
                    f"finite differences: input {i} has dtype {array.dtype}; use floats"
                )
            array = array.astype(np.float64)
        arrays.append(array)
    return arrays


def jacobian(
    f: Callable[..., Any], *inputs: Any, eps: float | None = None, scheme: str = "central"
) -> tuple[np.ndarray, ...]:
    """Numerical Jacobians of ``f``, one per input, each of shape ``out.shape + input.shape``.

    Uses 1 + n (forward), 2n (central) or n (complex step) evaluations of ``f``
    for n input elements.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown finite-difference scheme {scheme!r}; choose one of {SCHEMES}")
    arrays = _float_inputs(inputs)
    if scheme == "complex-step":
        for i, x in enumerate(arrays):
            if x.dtype.kind == "c":
                raise TypeError(
                    f"finite differences: the complex step needs real inputs, input {i} is "
                    f"{x.dtype} (use scheme='central', which steps the real part)"
                )
    base = _evaluate(f, arrays) if scheme == "forward" else None
    blocks = []
    for j, x in enumerate(arrays):
        step = eps if eps is not None else default_step(scheme, x.dtype)
        flat = x.reshape(-1)
        columns = []
        for i in range(flat.size):
            h = step * max(1.0, abs(flat[i]))
            columns.append(_difference(f, arrays, j, i, h, scheme, base))
        out_shape = columns[0].shape if columns else _evaluate(f, arrays).shape
        stacked = np.stack(columns, axis=-1) if columns else np.zeros(out_shape + (0,))
        blocks.append(stacked.reshape(out_shape + x.shape))
    return tuple(blocks)


def _difference(
    f: Callable[..., Any],
    arrays: list[np.ndarray],
    j: int,
    i: int,
    h: float,
    scheme: str,
    base: np.ndarray | None,
) -> np.ndarray:
    def at(offset: complex) -> np.ndarray:
        moved = list(arrays)
        x = arrays[j]
        shifted = x.astype(np.result_type(x.dtype, np.complex64)) if offset.imag else x.copy()
        shifted.reshape(-1)[i] += offset
        moved[j] = shifted
        return _evaluate(f, moved)

    if scheme == "central":
        return np.asarray((at(h) - at(-h)) / (2 * h))
    if scheme == "forward":
        return np.asarray((at(h) - base) / h)
    with complex_step():
        return np.asarray(np.imag(at(1j * h)) / h)


def gradient(
    f: Callable[..., Any], *inputs: Any, eps: float | None = None, scheme: str = "central"
) -> Any:
    """The gradient of a scalar-valued ``f`` by finite differences.

    Returns one array per input (a float for 0-d inputs; a single value when
    there is one input). ``eps`` is the relative step; by default
    :func:`default_step` for the scheme and the input's dtype.

    >>> import chainrule as cr
    >>> round(gradient(lambda x: x ** 3, 2.0), 6)
    12.0
    >>> gradient(lambda x: cr.exp(x), 1.0, scheme="complex-step") == float(np.exp(1.0))
    True
    """
    blocks = jacobian(f, *inputs, eps=eps, scheme=scheme)
    results = []
    for block, x in zip(blocks, _float_inputs(inputs), strict=True):
        out_shape = block.shape[: block.ndim - x.ndim]
        if int(np.prod(out_shape)) != 1:
            raise ShapeError(
                f"fd.gradient: f must return a scalar, it returned shape {out_shape}; "
                "use fd.jacobian"
            )
        g = block.reshape(x.shape)
        results.append(g.item() if g.ndim == 0 else g)
    return results[0] if len(results) == 1 else tuple(results)


@dataclass
class GradcheckRow:
    """Agreement of one input's analytical Jacobian with central differences."""

    input: int
    mode: str
    shape: tuple[int, ...]
    max_abs_error: float
    max_rel_error: float
    passed: bool


@dataclass
class GradcheckResult:
    """Truthy when every row passed; ``str()`` gives the per-input table."""

    rows: list[GradcheckRow] = field(default_factory=list)
    atol: float = 0.0
    rtol: float = 0.0

    @property
    def passed(self) -> bool:
        """Whether every input's gradient agrees with finite differences."""
        return all(row.passed for row in self.rows)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        lines = [
            f"gradcheck {verdict} (atol={self.atol:g}, rtol={self.rtol:g})",
            f"{'input':>5}  {'mode':<4}  {'shape':<12}  {'max abs err':>12}  "
            f"{'max rel err':>12}  ok",
        ]
        for r in self.rows:
            lines.append(
                f"{r.input:>5}  {r.mode:<4}  {str(r.shape):<12}  {r.max_abs_error:>12.3e}  "
                f"{r.max_rel_error:>12.3e}  {'yes' if r.passed else 'NO'}"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The same table for Jupyter, one row per input and mode."""
        verdict = "passed" if self.passed else "FAILED"
        header = ("input", "mode", "shape", "max abs err", "max rel err", "ok")
        rows = [
            (
                str(r.input),
                r.mode,
                str(r.shape),
                f"{r.max_abs_error:.3e}",
                f"{r.max_rel_error:.3e}",
                "yes" if r.passed else "NO",
            )
            for r in self.rows
        ]
        head = "".join(f"<th>{h}</th>" for h in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
        )
        caption = f"gradcheck {verdict} (atol={self.atol:g}, rtol={self.rtol:g})"
        return f"<table><caption>{caption}</caption><tr>{head}</tr>{body}</table>"


def gradcheck(
    f: Callable[..., Any],
    *inputs: Any,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    eps: float | None = None,
    modes: tuple[str, ...] = ("rev", "fwd"),
) -> GradcheckResult:
    """Compare chainrule's Jacobians of ``f`` with central differences, input by input.

    Checks reverse mode (and forward mode unless ``modes=("rev",)``). An entry
    agrees when ``|analytic - numeric| <= atol + rtol * |numeric|``. Use float64
    inputs: in float32 the numerical side itself is only good to ~1e-3.

    >>> import chainrule as cr
    >>> bool(gradcheck(lambda x: cr.sin(x) * x, np.array([0.5, 1.5])))
    True
    """
    from .api import jacobian as ad_jacobian

    arrays = _float_inputs(inputs)
    numeric = jacobian(f, *arrays, eps=eps, scheme="central")
    argnums = tuple(range(len(arrays)))
    result = GradcheckResult(atol=atol, rtol=rtol)
    for mode in modes:
        analytic = ad_jacobian(f, argnums, mode=mode)(*arrays)
        for j, (a, n) in enumerate(zip(analytic, numeric, strict=True)):
            a = np.asarray(a)
            error = np.abs(a - n)
            rel = error / np.maximum(np.abs(n), np.finfo(np.float64).tiny)
            result.rows.append(
                GradcheckRow(
                    input=j,
                    mode=mode,
                    shape=arrays[j].shape,
                    max_abs_error=float(error.max(initial=0.0)),
                    max_rel_error=float(rel.max(initial=0.0)),
                    passed=bool(np.all(error <= atol + rtol * np.abs(n))),
                )
            )
    return result
