"""Elementwise primitives: arithmetic and the scalar functions of the recitation.

Layer: ops (imports numpy and chainrule.core only). This is the only place their
derivatives are written. Binary rules return gradients of the broadcast shape;
the engine sums them back to each operand's shape.

Forward functions accept complex inputs and stay analytic there (the kinks of
abs, relu, maximum and minimum are decided by the real part), so the complex-step
method of chainrule.fd works through them.
"""

from __future__ import annotations

import operator

import numpy as np

from ..core.primitive import Primitive, raw, register
from . import domains as d


def _elementwise(name, forward, vjps, jvps, domains, label=None):
    return register(
        Primitive(name, forward, vjps, jvps, kind="elementwise", domains=domains, label=label)
    )


# --- arithmetic -------------------------------------------------------------
# The operator module's functions are NumPy's ufuncs on arrays, and on NumPy
# scalars they take NumPy's scalar path, several times faster than calling the
# ufunc, with the same IEEE results. (Not power: scalar ** rounds differently.)

add = _elementwise(
    "add",
    operator.add,
    (lambda g, ans, x, y: g, lambda g, ans, x, y: g),
    (lambda t, ans, x, y: t, lambda t, ans, x, y: t),
    (d.real, d.real),
    label="+",
)

subtract = _elementwise(
    "subtract",
    operator.sub,
    (lambda g, ans, x, y: g, lambda g, ans, x, y: -g),
    (lambda t, ans, x, y: t, lambda t, ans, x, y: -t),
    (d.real, d.real),
    label="-",
)

multiply = _elementwise(
    "multiply",
    operator.mul,
    (lambda g, ans, x, y: g * y, lambda g, ans, x, y: g * x),
    (lambda t, ans, x, y: t * y, lambda t, ans, x, y: x * t),
    (d.real, d.real),
    label="*",
)

divide = _elementwise(
    "divide",
    operator.truediv,
    (lambda g, ans, x, y: g / y, lambda g, ans, x, y: -g * ans / y),
    (lambda t, ans, x, y: t / y, lambda t, ans, x, y: -t * ans / y),
    (d.real, d.nonzero),
    label="/",
)


def _log_base(x):
    """log(x) where the base is nonzero; 0 where it is zero (there x**y is flat in y for y > 0)."""
    return np.log(np.where(raw(x) == 0, 1.0, x))


def _power(x, y):
    """x**y; a square is x * x, the same bits as np.power at a fraction of the cost."""
    if type(y) in (int, float) and y == 2:
        return x * x
    return np.power(x, y)


def _power_slope(x, y):
    """d(x**y)/dx = y * x**(y-1), exactly 0 where y == 0 (x**0 is constant, even at x = 0)."""
    if type(y) in (int, float):
        if y == 2:
            return y * x
        return y * x ** (y - 1) if y != 0 else 0 * x
    exponent = raw(y)
    if np.all(exponent != 0):
        return y * x ** (y - 1)
    return y * x ** np.where(exponent == 0, 1, y - 1)


power = _elementwise(
    "power",
    _power,
    (
        lambda g, ans, x, y: g * _power_slope(x, y),
        lambda g, ans, x, y: g * ans * _log_base(x),
    ),
    (
        lambda t, ans, x, y: t * _power_slope(x, y),
        lambda t, ans, x, y: t * ans * _log_base(x),
    ),
    (d.positive, d.real),
    label="**",
)

negative = _elementwise(
    "negative",
    operator.neg,
    (lambda g, ans, x: -g,),
    (lambda t, ans, x: -t,),
    (d.real,),
    label="neg",
)

# --- transcendental functions -------------------------------------------------

exp = _elementwise(
    "exp", np.exp, (lambda g, ans, x: g * ans,), (lambda t, ans, x: t * ans,), (d.real,)
)

log = _elementwise(
    "log", np.log, (lambda g, ans, x: g / x,), (lambda t, ans, x: t / x,), (d.positive,)
)

log1p = _elementwise(
    "log1p",
    np.log1p,
    (lambda g, ans, x: g / (1 + x),),
    (lambda t, ans, x: t / (1 + x),),
    (d.small,),
)

expm1 = _elementwise(
    "expm1",
    np.expm1,
    (lambda g, ans, x: g * (ans + 1),),
    (lambda t, ans, x: t * (ans + 1),),
    (d.real,),
)

sin = _elementwise(
    "sin", np.sin, (lambda g, ans, x: g * np.cos(x),), (lambda t, ans, x: t * np.cos(x),), (d.real,)
)

cos = _elementwise(
    "cos",
    np.cos,
    (lambda g, ans, x: -g * np.sin(x),),
    (lambda t, ans, x: -t * np.sin(x),),
    (d.real,),
)

tan = _elementwise(
    "tan",
    np.tan,
    (lambda g, ans, x: g * (1 + ans * ans),),
    (lambda t, ans, x: t * (1 + ans * ans),),
    (d.tan_safe,),
)

tanh = _elementwise(
    "tanh",
    np.tanh,
    (lambda g, ans, x: g * (1 - ans * ans),),
    (lambda t, ans, x: t * (1 - ans * ans),),
    (d.real,),
)

sqrt = _elementwise(
    "sqrt",
    np.sqrt,
    (lambda g, ans, x: g / (2 * ans),),
    (lambda t, ans, x: t / (2 * ans),),
    (d.positive,),
)


def _is_complex(x):
    dtype = getattr(x, "dtype", None)
    return np.iscomplexobj(x) if dtype is None else dtype.kind == "c"


def _sigmoid(x):
    """1 / (1 + exp(-x)), as PyTorch computes it: no cancellation anywhere, and where
    exp(-x) overflows to inf the result is exactly 0 (that overflow is silenced)."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


sigmoid = _elementwise(
    "sigmoid",
    _sigmoid,
    (lambda g, ans, x: g * ans * (1 - ans),),
    (lambda t, ans, x: t * ans * (1 - ans),),
    (d.real,),
    label="σ",
)

# --- piecewise functions: derivative 0 at the kink, as PyTorch and JAX choose --------


def _abs(x):
    return np.where(x.real < 0, -x, x) if _is_complex(x) else np.abs(x)


abs = _elementwise(  # noqa: A001 - NumPy's name
    "abs",
    _abs,
    (lambda g, ans, x: g * np.sign(raw(x).real),),
    (lambda t, ans, x: t * np.sign(raw(x).real),),
    (d.nonzero,),
)


def _relu(x):
    """max(x, 0); on a real NumPy scalar without a ufunc call (same result, NaN kept)."""
    kind = type(x)
    if kind is np.float64 or kind is np.float32:
        return x if x > 0 or x != x else kind(0)
    return np.where(x.real > 0, x, 0) if _is_complex(x) else np.maximum(x, 0)


def _step(x):
    """Heaviside step with step(0) = 0, as a boolean mask: the derivative of relu."""
    return raw(x).real > 0


relu = _elementwise(
    "relu",
    _relu,
    (lambda g, ans, x: g * _step(x),),
    (lambda t, ans, x: t * _step(x),),
    (d.nonzero,),
)


def _pick_weight(x, y):
    """1 where x wins, 0.5 on ties, 0 where y wins (comparing real parts)."""
    xv, yv = raw(x).real, raw(y).real
    return np.where(xv > yv, 1.0, np.where(xv == yv, 0.5, 0.0)).astype(
        np.result_type(xv, yv), copy=False
    )


def _maximum(x, y):
    if np.iscomplexobj(x) or np.iscomplexobj(y):
        return np.where(np.real(x) >= np.real(y), x, y)
    return np.maximum(x, y)


def _minimum(x, y):
    if np.iscomplexobj(x) or np.iscomplexobj(y):
        return np.where(np.real(x) <= np.real(y), x, y)
    return np.minimum(x, y)


maximum = _elementwise(
    "maximum",
    _maximum,
    (
        lambda g, ans, x, y: g * _pick_weight(x, y),
        lambda g, ans, x, y: g * _pick_weight(y, x),
    ),
    (
        lambda t, ans, x, y: t * _pick_weight(x, y),
        lambda t, ans, x, y: t * _pick_weight(y, x),
    ),
    (d.distinct, d.distinct),
)

minimum = _elementwise(
    "minimum",
    _minimum,
    (
        lambda g, ans, x, y: g * _pick_weight(y, x),
        lambda g, ans, x, y: g * _pick_weight(x, y),
    ),
    (
        lambda t, ans, x, y: t * _pick_weight(y, x),
        lambda t, ans, x, y: t * _pick_weight(x, y),
    ),
    (d.distinct, d.distinct),
)


def _where(condition, x, y):
    return np.where(condition, x, y)


where = _elementwise(
    "where",
    _where,
    (
        None,
        lambda g, ans, c, x, y: np.where(raw(c), g, 0.0),
        lambda g, ans, c, x, y: np.where(raw(c), 0.0, g),
    ),
    (
        None,
        lambda t, ans, c, x, y: np.where(raw(c), t, 0.0),
        lambda t, ans, c, x, y: np.where(raw(c), 0.0, t),
    ),
    (lambda rng, shape: rng.random(size=shape) < 0.5, d.real, d.real),
)


def _clip(x, *, lo, hi):
    return np.clip(x, lo, hi)


def _inside(x, lo, hi):
    """1 where lo <= x <= hi (x passes through clip), else 0."""
    xv = raw(x).real
    mask = np.ones(xv.shape, dtype=bool)
    if lo is not None:
        mask &= xv >= lo
    if hi is not None:
        mask &= xv <= hi
    return mask.astype(xv.dtype)


clip = register(
    Primitive(
        "clip",
        _clip,
        (lambda g, ans, x, *, lo, hi: g * _inside(x, lo, hi),),
        (lambda t, ans, x, *, lo, hi: t * _inside(x, lo, hi),),
        kind="elementwise",
        sample=lambda rng: [
            ((d.distinct(rng, (3, 4)),), {"lo": -0.9, "hi": 1.1}),
            ((d.distinct(rng, (5,)),), {"lo": None, "hi": 0.1}),
        ],
    )
)

# --- piecewise constant: no gradient flows through it ----------------------------------

sign = register(Primitive("sign", np.sign, kind="elementwise"))
