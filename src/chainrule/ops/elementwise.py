"""Elementwise primitives: arithmetic and the scalar functions of the recitation.

Layer: ops (imports numpy and chainrule.core only). This is the only place their
derivatives are written. Binary rules return gradients of the broadcast shape;
the engine sums them back to each operand's shape.

Forward functions accept complex inputs and stay analytic there (the kinks of
abs, relu, maximum and minimum are decided by the real part), so the complex-step
method of chainrule.fd works through them.
"""

from __future__ import annotations

import builtins
import math
import operator
from fractions import Fraction

import numpy as np

from ..core.primitive import Notation, Primitive, mask, raw, reciprocal, register
from . import domains as d


def _real(value):
    """The real part of a mask's operand (the complex step's perturbation is not compared);
    real values as they are, so Tensors (vmap's detached values, see ``raw``) pass too."""
    return value.real if np.result_type(getattr(value, "dtype", type(value))).kind == "c" else value


def _elementwise(name, forward, *, domains, numpy=(), methods=None, names=None, **entry):
    """Register an elementwise primitive: public function ``name``, Tensor method ``name``."""
    signature = entry.pop("signature", "unary" if len(domains) == 1 else "binary")
    return register(
        Primitive(
            name,
            forward,
            kind="elementwise",
            domains=domains,
            names=(name,) if names is None else names,
            methods=(name,) if methods is None else methods,
            numpy=numpy,
            signature=signature,
            **entry,
        )
    )


# --- arithmetic -------------------------------------------------------------
# The operator module's functions are NumPy's ufuncs on arrays, and on NumPy
# scalars they take NumPy's scalar path, several times faster than calling the
# ufunc, with the same IEEE results. (Not power: scalar ** rounds differently.)
# Operators are Tensor's dunder methods, so these have no named Tensor method.

add = _elementwise(
    "add",
    operator.add,
    partials=(1, 1),
    domains=(d.real, d.real),
    numpy=(np.add,),
    methods=(),
    label="+",
    infix="+",
    precedence=1,
    doc="x + y with broadcasting.",
)

subtract = _elementwise(
    "subtract",
    operator.sub,
    partials=(1, -1),
    domains=(d.real, d.real),
    numpy=(np.subtract,),
    methods=(),
    label="-",
    infix="-",
    precedence=1,
    doc="x - y with broadcasting.",
)

multiply = _elementwise(
    "multiply",
    operator.mul,
    partials=(lambda ans, x, y: y, lambda ans, x, y: x),
    domains=(d.real, d.real),
    numpy=(np.multiply,),
    methods=(),
    label="*",
    infix="*",
    precedence=2,
    doc="x * y with broadcasting.",
)

divide = _elementwise(
    "divide",
    operator.truediv,
    partials=(reciprocal(lambda ans, x, y: y), lambda ans, x, y: -ans / y),
    domains=(d.real, d.nonzero),
    numpy=(np.true_divide,),
    methods=(),
    label="/",
    infix="/",
    precedence=2,
    doc="x / y with broadcasting.",
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
    """d(x**y)/dx = y * x**(y-1), exactly 0 where y == 0 (x**0 is constant, even at x = 0,
    inf or NaN), and written so that its own derivative in y there is 1/x.

    Where y == 0 and x is not a finite nonzero number, y * x**(y-1) would be 0·inf or NaN:
    there x is replaced by 1 before the power (so no infinity reaches a derivative either)
    and the slope is selected to be 0.
    """
    if type(y) in (int, float):
        if y == 2:
            return y * x
        return y * x ** (y - 1) if y != 0 else np.zeros_like(raw(x))
    base, exponent = raw(x), raw(y)
    regular = np.logical_and(np.isfinite(base), base != 0)
    degenerate = np.logical_and(exponent == 0, np.logical_not(regular))
    # Branch on concrete values only: under vmap (raw gives Tensors) the safe form always.
    if isinstance(degenerate, (np.ndarray, np.generic)) and not degenerate.any():
        return y * x ** (y - 1)
    safe = np.where(degenerate, 1.0, x)
    return np.where(degenerate, 0.0, y * safe ** (y - 1))


power = _elementwise(
    "power",
    _power,
    partials=(lambda ans, x, y: _power_slope(x, y), lambda ans, x, y: ans * _log_base(x)),
    domains=(d.positive, d.real),
    numpy=(np.power,),
    methods=(),
    label="**",
    infix="**",
    precedence=4,
    # Symbolically d/dx x**y = y x**(y-1) and d/dy x**y = x**y log x (the engine's rules
    # guard y == 0 and log(0) with masks that expressions do not need).
    notation=Notation(
        scalar=math.pow,
        partials=(lambda ans, x, y: y * x ** (y - 1), lambda ans, x, y: ans * np.log(x)),
    ),
    doc="x ** y with broadcasting.",
)

negative = _elementwise(
    "negative",
    operator.neg,
    partials=(-1,),
    domains=(d.real,),
    numpy=(np.negative,),
    methods=(),
    label="neg",
    infix="-",
    precedence=3,
    doc="Elementwise -x.",
)

# --- transcendental functions -------------------------------------------------
# Each entry is everything about the function: its partial derivative, its NumPy
# ufunc, and its notation (LaTeX, the math-module function compiled scalar
# gradients call, SymPy's name, exact values and symmetry for the simplifier).

exp = _elementwise(
    "exp",
    np.exp,
    partials=(lambda ans, x: ans,),
    domains=(d.real,),
    numpy=(np.exp,),
    notation=Notation(r"e^{{{0}}}", math.exp, "exp", exact={0: 1}, inverse="log"),
    doc="Elementwise e**x.",
)

log = _elementwise(
    "log",
    np.log,
    partials=(reciprocal(lambda ans, x: x),),
    domains=(d.positive,),
    numpy=(np.log,),
    notation=Notation(r"\ln", math.log, "log", exact={1: 0}, inverse="exp", aliases=("ln",)),
    doc="Elementwise natural logarithm (the recitation's ln).",
)

log1p = _elementwise(
    "log1p",
    np.log1p,
    partials=(reciprocal(lambda ans, x: 1 + x),),
    domains=(d.small,),
    numpy=(np.log1p,),
    notation=Notation(
        r"\operatorname{log1p}",
        math.log1p,
        (lambda sp, a: sp.log(1 + a), None),
        exact={0: 0},
    ),
    doc="Elementwise log(1 + x), accurate for small x.",
)

expm1 = _elementwise(
    "expm1",
    np.expm1,
    partials=(lambda ans, x: ans + 1,),
    domains=(d.real,),
    numpy=(np.expm1,),
    notation=Notation(
        r"\operatorname{expm1}",
        math.expm1,
        (lambda sp, a: sp.exp(a) - 1, None),
        exact={0: 0},
    ),
    doc="Elementwise exp(x) - 1, accurate for small x.",
)

sin = _elementwise(
    "sin",
    np.sin,
    partials=(lambda ans, x: np.cos(x),),
    domains=(d.real,),
    numpy=(np.sin,),
    notation=Notation(r"\sin", math.sin, "sin", exact={0: 0}, parity="odd"),
    doc="Elementwise sine.",
)

cos = _elementwise(
    "cos",
    np.cos,
    partials=(lambda ans, x: -np.sin(x),),
    domains=(d.real,),
    numpy=(np.cos,),
    notation=Notation(r"\cos", math.cos, "cos", exact={0: 1}, parity="even"),
    doc="Elementwise cosine.",
)

tan = _elementwise(
    "tan",
    np.tan,
    partials=(lambda ans, x: 1 + ans * ans,),
    domains=(d.tan_safe,),
    numpy=(np.tan,),
    notation=Notation(r"\tan", math.tan, "tan", exact={0: 0}, parity="odd"),
    doc="Elementwise tangent.",
)

sinh = _elementwise(
    "sinh",
    np.sinh,
    partials=(lambda ans, x: np.cosh(x),),
    domains=(d.real,),
    numpy=(np.sinh,),
    notation=Notation(r"\sinh", math.sinh, "sinh", exact={0: 0}, parity="odd"),
    doc="Elementwise hyperbolic sine.",
)

cosh = _elementwise(
    "cosh",
    np.cosh,
    partials=(lambda ans, x: np.sinh(x),),
    domains=(d.real,),
    numpy=(np.cosh,),
    notation=Notation(r"\cosh", math.cosh, "cosh", exact={0: 1}, parity="even"),
    doc="Elementwise hyperbolic cosine.",
)

tanh = _elementwise(
    "tanh",
    np.tanh,
    partials=(lambda ans, x: 1 - ans * ans,),
    domains=(d.real,),
    numpy=(np.tanh,),
    notation=Notation(r"\tanh", math.tanh, "tanh", exact={0: 0}, parity="odd"),
    doc="Elementwise hyperbolic tangent.",
)

sqrt = _elementwise(
    "sqrt",
    np.sqrt,
    partials=(reciprocal(lambda ans, x: 2 * ans),),
    domains=(d.positive,),
    numpy=(np.sqrt,),
    notation=Notation(r"\sqrt", math.sqrt, "sqrt", rewrite=lambda x: x ** Fraction(1, 2)),
    doc="Elementwise square root.",
)


def _is_complex(x):
    dtype = getattr(x, "dtype", None)
    return np.iscomplexobj(x) if dtype is None else dtype.kind == "c"


def _sigmoid(x):
    """1 / (1 + exp(-x)), as PyTorch computes it: no cancellation anywhere, and where
    exp(-x) overflows to inf the result is exactly 0 (that overflow is silenced)."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def _scalar_sigmoid(v: float) -> float:
    """1 / (1 + exp(-v)) on a float, without overflow for very negative v."""
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


sigmoid = _elementwise(
    "sigmoid",
    _sigmoid,
    partials=(lambda ans, x: ans * (1 - ans),),
    domains=(d.real,),
    label="σ",
    notation=Notation(
        r"\sigma",
        _scalar_sigmoid,
        (lambda sp, a: 1 / (1 + sp.exp(-a)), None),
        exact={0: Fraction(1, 2)},
    ),
    doc="Elementwise logistic function 1 / (1 + exp(-x)), without overflow.",
)

# --- piecewise functions: derivative 0 at the kink, as PyTorch and JAX choose --------


def _abs(x):
    return np.where(x.real < 0, -x, x) if _is_complex(x) else np.abs(x)


abs = _elementwise(  # noqa: A001 - NumPy's name
    "abs",
    _abs,
    partials=(lambda ans, x: np.sign(_real(raw(x))),),
    domains=(d.nonzero,),
    numpy=(np.absolute,),
    notation=Notation(
        r"\left|{0}\right|",
        builtins.abs,
        "Abs",
        exact=builtins.abs,
        parity="even",
        idempotent=True,
        partials=(lambda ans, x: np.sign(x),),
    ),
    doc="Elementwise absolute value; its derivative at 0 is taken as 0.",
)


def _relu(x):
    """max(x, 0); on a real NumPy scalar without a ufunc call (same result, NaN kept)."""
    kind = type(x)
    if kind is np.float64 or kind is np.float32:
        return x if x > 0 or x != x else kind(0)
    return np.where(x.real > 0, x, 0) if _is_complex(x) else np.maximum(x, 0)


def _step(x):
    """Heaviside step with step(0) = 0, as a boolean mask: the derivative of relu."""
    return _real(raw(x)) > 0


relu = _elementwise(
    "relu",
    _relu,
    partials=(mask(lambda ans, x: _step(x)),),
    domains=(d.nonzero,),
    notation=Notation(
        r"\operatorname{relu}",
        lambda v: v if v > 0.0 else 0.0 * v,
        (lambda sp, a: sp.Max(0, a), None),
        exact=lambda v: max(v, 0),
        idempotent=True,
        partials=(lambda ans, x: np.heaviside(x, 0),),
    ),
    doc="Elementwise max(x, 0); its derivative at 0 is taken as 0.",
)


def _pick_weight(x, y):
    """1 where x wins, 0.5 on ties, 0 where y wins (comparing real parts)."""
    xv, yv = _real(raw(x)), _real(raw(y))
    dtype = np.result_type(*(getattr(v, "dtype", v) for v in (xv, yv)))
    weight = np.where(xv > yv, 1.0, np.where(xv == yv, 0.5, 0.0))
    return weight if weight.dtype == dtype else weight.astype(dtype)


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
    partials=(
        mask(lambda ans, x, y: _pick_weight(x, y)),
        mask(lambda ans, x, y: _pick_weight(y, x)),
    ),
    domains=(d.distinct, d.distinct),
    numpy=(np.maximum,),
    methods=(),
    notation=Notation(
        r"\max",
        lambda a, b: a if a >= b else b,
        "Max",
        exact=max,
        idempotent=True,
        commutative=True,
        partials=(
            lambda ans, x, y: np.heaviside(x - y, Fraction(1, 2)),
            lambda ans, x, y: np.heaviside(y - x, Fraction(1, 2)),
        ),
    ),
    doc="Elementwise larger of x and y; ties send half the gradient to each.",
)

minimum = _elementwise(
    "minimum",
    _minimum,
    partials=(
        mask(lambda ans, x, y: _pick_weight(y, x)),
        mask(lambda ans, x, y: _pick_weight(x, y)),
    ),
    domains=(d.distinct, d.distinct),
    numpy=(np.minimum,),
    methods=(),
    notation=Notation(
        r"\min",
        lambda a, b: a if a <= b else b,
        "Min",
        exact=min,
        idempotent=True,
        commutative=True,
        partials=(
            lambda ans, x, y: np.heaviside(y - x, Fraction(1, 2)),
            lambda ans, x, y: np.heaviside(x - y, Fraction(1, 2)),
        ),
    ),
    doc="Elementwise smaller of x and y; ties send half the gradient to each.",
)


def _where(condition, x, y):
    return np.where(condition, x, y)


where = _elementwise(
    "where",
    _where,
    vjps=(
        None,
        lambda g, ans, c, x, y: np.where(raw(c), g, 0.0),
        lambda g, ans, c, x, y: np.where(raw(c), 0.0, g),
    ),
    jvps=(
        None,
        lambda t, ans, c, x, y: np.where(raw(c), t, 0.0),
        lambda t, ans, c, x, y: np.where(raw(c), 0.0, t),
    ),
    domains=(lambda rng, shape: rng.random(size=shape) < 0.5, d.real, d.real),
    numpy=(np.where,),
    methods=(),
    signature="where",
    doc="``x`` where ``condition`` holds, else ``y`` (no gradient flows into the condition). "
    "As in JAX, both branches are computed and differentiated: a branch that is NaN or "
    "infinite where it is not taken (sqrt of a negative) gives a NaN gradient there. Guard "
    "its input instead: ``where(x > 0, sqrt(where(x > 0, x, 1)), 0)``.",
)


def _clip(x, lo, hi):
    return np.clip(x, lo, hi)


def _inside(x, lo, hi):
    """True where lo <= x <= hi (x passes through clip); a missing bound is no limit."""
    xv = _real(raw(x))
    inside = np.ones(np.shape(xv), dtype=bool)
    if lo is not None:
        inside = np.logical_and(inside, xv >= _real(raw(lo)))
    if hi is not None:
        inside = np.logical_and(inside, xv <= _real(raw(hi)))
    return inside


def _below(x, lo, hi):
    """True where lo wins (x < lo, and lo <= hi): there clip's output is lo."""
    xv, lv = _real(raw(x)), _real(raw(lo))
    below = xv < lv
    if hi is not None:
        below = np.logical_and(below, lv <= _real(raw(hi)))
    return below


def _above(x, lo, hi):
    """True where hi wins (max(x, lo) > hi, NumPy's order): there clip's output is hi."""
    xv = _real(raw(x))
    floor = xv if lo is None else np.maximum(xv, _real(raw(lo)))
    return floor > _real(raw(hi))


def _clip_samples(rng):
    """Bounds as numbers, arrays that broadcast, or None; values kept off ties."""
    x = d.distinct(rng, (3, 4))
    return [
        ((x, np.asarray(-0.9), np.asarray(1.1)), {}),
        ((d.distinct(rng, (5,)), None, np.asarray(0.1)), {}),
        ((x, d.distinct(rng, (4,)) - 1.1, d.distinct(rng, (3, 1)) + 1.1), {}),
    ]


clip = register(
    Primitive(
        "clip",
        _clip,
        partials=(
            mask(lambda ans, x, lo, hi: _inside(x, lo, hi)),
            mask(lambda ans, x, lo, hi: _below(x, lo, hi)),
            mask(lambda ans, x, lo, hi: _above(x, lo, hi)),
        ),
        kind="elementwise",
        names=("clip", "clamp"),
        methods=("clip", "clamp"),
        numpy=(np.clip,),
        signature="clip",
        sample=_clip_samples,
        doc="Limit values to [lo, hi] (either bound may be None); the gradient is 0 outside, "
        "and flows to a bound where it wins. PyTorch's clamp(min=, max=) is the same operation.",
    )
)

# --- piecewise constant: no gradient flows through them --------------------------------


def _sign(x):
    """-1, 0 or 1 by the real part: the real-analytic extension the complex step needs
    (NumPy 2's complex sign is z/|z|, which would make the complex step of sign(x)*x wrong)."""
    return np.sign(x.real).astype(x.dtype) if _is_complex(x) else np.sign(x)


sign = register(
    Primitive(
        "sign",
        _sign,
        kind="elementwise",
        names=("sign",),
        methods=("sign",),
        numpy=(np.sign,),
        signature="unary",
        domains=(d.nonzero,),
        notation=Notation(
            r"\operatorname{sgn}",
            None,
            "sign",
            exact=lambda v: (v > 0) - (v < 0),
            parity="odd",
            idempotent=True,
        ),
        doc="Elementwise sign (-1, 0 or 1); no gradient flows through it.",
    )
)


def _heaviside(x, at_zero=0):
    """NumPy's step function of the real part: 0 below zero, ``at_zero`` at zero, 1 above."""
    return np.heaviside(np.real(x), at_zero)


def _scalar_heaviside(v: float, at_zero: float = 0.0) -> float:
    if v != v:
        return v
    return 1.0 if v > 0.0 else 0.0 if v < 0.0 else at_zero


heaviside = register(
    Primitive(
        "heaviside",
        _heaviside,
        kind="elementwise",
        names=("heaviside",),
        methods=("heaviside",),
        numpy=(np.heaviside,),
        signature="binary",
        domains=(d.nonzero, lambda rng, shape: rng.choice([0.0, 0.5, 1.0], size=shape)),
        notation=Notation(
            r"\theta\left({0}\right)",
            _scalar_heaviside,
            "Heaviside",
            exact=lambda v, at_zero=0: 1 if v > 0 else 0 if v < 0 else at_zero,
        ),
        doc="Heaviside step (the derivative of relu, abs and max, symbolically); no gradient "
        "flows through it.",
    )
)


def _half_steps(rng, shape):
    """Multiples of 0.5 in [-1, 1]: comparisons see ties as often as not."""
    return rng.integers(-2, 3, size=shape) * 0.5


def _truths(rng, shape):
    return rng.random(size=shape) < 0.5


def _specials(rng, shape):
    """Finite numbers mixed with nan, inf and -inf."""
    pick = rng.integers(0, 4, size=shape)
    return np.choose(pick, [d.real(rng, shape), np.nan, np.inf, -np.inf])


# --- comparisons and logic: no rules, so no gradient; they record and trace like any op ---
# Boolean results, reached by the operators < <= > >= == != & | ^ ~.

less = _elementwise(
    "less",
    np.less,
    doc="x < y elementwise.",
    domains=(_half_steps,) * 2,
    numpy=(np.less,),
    methods=("less", "lt"),
    infix="<",
)
less_equal = _elementwise(
    "less_equal",
    np.less_equal,
    doc="x <= y elementwise.",
    domains=(_half_steps,) * 2,
    numpy=(np.less_equal,),
    methods=("less_equal", "le"),
    infix="<=",
)
greater = _elementwise(
    "greater",
    np.greater,
    doc="x > y elementwise.",
    domains=(_half_steps,) * 2,
    numpy=(np.greater,),
    methods=("greater", "gt"),
    infix=">",
)
greater_equal = _elementwise(
    "greater_equal",
    np.greater_equal,
    doc="x >= y elementwise.",
    domains=(_half_steps,) * 2,
    numpy=(np.greater_equal,),
    methods=("greater_equal", "ge"),
    infix=">=",
)
equal = _elementwise(
    "equal",
    np.equal,
    doc="x == y elementwise.",
    domains=(_half_steps,) * 2,
    numpy=(np.equal,),
    methods=("equal", "eq"),
    infix="==",
)
not_equal = _elementwise(
    "not_equal",
    np.not_equal,
    doc="x != y elementwise.",
    domains=(_half_steps,) * 2,
    numpy=(np.not_equal,),
    methods=("not_equal", "ne"),
    infix="!=",
)
logical_and = _elementwise(
    "logical_and",
    np.logical_and,
    doc="Elementwise truth of x and y.",
    domains=(_truths,) * 2,
    numpy=(np.logical_and,),
    infix="&",
)
logical_or = _elementwise(
    "logical_or",
    np.logical_or,
    doc="Elementwise truth of x or y.",
    domains=(_truths,) * 2,
    numpy=(np.logical_or,),
    infix="|",
)
logical_xor = _elementwise(
    "logical_xor",
    np.logical_xor,
    doc="Elementwise truth of x xor y.",
    domains=(_truths,) * 2,
    numpy=(np.logical_xor,),
    infix="^",
)
logical_not = _elementwise(
    "logical_not",
    np.logical_not,
    doc="Elementwise truth of not x.",
    domains=(_truths,),
    numpy=(np.logical_not,),
    infix="~",
)

# Rounding and tests of special values.

floor = _elementwise(
    "floor",
    np.floor,
    doc="Largest integer <= x, elementwise; no gradient.",
    domains=(d.real,),
    numpy=(np.floor,),
)
ceil = _elementwise(
    "ceil",
    np.ceil,
    doc="Smallest integer >= x, elementwise; no gradient.",
    domains=(d.real,),
    numpy=(np.ceil,),
)


def _round(x, *, decimals):
    return np.round(x, decimals)


def _prepare_round(x, decimals=0):
    """``round(x, decimals=0)``: halves go to the even neighbour, as in NumPy."""
    if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, bool):
        raise TypeError(f"round: decimals must be an integer, got {decimals!r}")
    return (x,), {"decimals": int(decimals)}


round = register(  # noqa: A001 - NumPy's name
    Primitive(
        "round",
        _round,
        kind="elementwise",
        names=("round",),
        methods=("round",),
        numpy=(np.round, np.around, np.rint),
        signature=_prepare_round,
        sample=lambda rng: [
            ((_half_steps(rng, (3, 4)) + d.real(rng, (3, 4)) * 0.1,), {"decimals": 0}),
            ((d.real(rng, (5,)),), {"decimals": 2}),
        ],
        doc="Round to ``decimals`` places, halves to even; no gradient.",
    )
)

isnan = _elementwise(
    "isnan",
    np.isnan,
    doc="True where x is nan.",
    domains=(_specials,),
    numpy=(np.isnan,),
)
isinf = _elementwise(
    "isinf",
    np.isinf,
    doc="True where x is inf or -inf.",
    domains=(_specials,),
    numpy=(np.isinf,),
)
isfinite = _elementwise(
    "isfinite",
    np.isfinite,
    doc="True where x is neither nan nor infinite.",
    domains=(_specials,),
    numpy=(np.isfinite,),
)
