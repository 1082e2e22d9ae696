"""Elementwise primitives: arithmetic, the recitation's scalar functions and NumPy's others.

Layer: ops (imports numpy and chainrule.core only). This is the only place their
derivatives are written. Binary rules return gradients of the broadcast shape;
the engine sums them back to each operand's shape. Where NumPy has the function, the
forward is NumPy's ufunc, so results on real arrays are NumPy's to the bit.

Other array libraries (CuPy, any Array API namespace; see chainrule.core.backend): a ufunc
forward becomes the library's function of the standard's name, and forwards and rules are
written with ``xp`` (``xp.cos(x)``), so they compute with the library of their operands
(chainrule itself on Tensors). A forward that needs NumPy (``portable=False``: sinc,
nan_to_num, heaviside, ...) names its CuPy function and an "array_api" composition of the
standard's functions, equal to NumPy's to a few ulps (to the bit where NumPy uses the
same formula: sinc, deg2rad, fmod, angle).

Forward functions accept complex inputs and stay analytic there (the kinks of
relu, maximum and minimum are decided by the real part), so the complex-step method of
chainrule.fd works through them; abs (the modulus), sign (z/|z|) and floor, ceil and
trunc (refused, as in NumPy) are their real functions' extensions only under the complex
step (chainrule.core.mode.complex_step); the few with no such extension (erf, cbrt,
arctan2, remainder, ...) refuse complex input.
Piecewise-constant functions (sign, floor, round, ...) have gradient 0, as in JAX.
"""

from __future__ import annotations

import builtins
import math
import operator
from fractions import Fraction

import numpy as np

from ..core import backend
from ..core.backend import xp
from ..core.mode import in_complex_step
from ..core.primitive import (
    Notation,
    Primitive,
    Traceable,
    composite,
    mask,
    raw,
    reciprocal,
    register,
)
from ..errors import ShapeError
from . import domains as d


def _real(value):
    """The real part of a mask's operand (the complex step's perturbation is not compared);
    real values as they are, so Tensors (vmap's detached values, see ``raw``) pass too."""
    return xp.real(value) if _is_complex(value) else value


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


def _is_complex(x):
    """Whether ``x`` (an array of any library, a number or a Tensor) holds complex numbers."""
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        return isinstance(x, complex)
    kind = getattr(dtype, "kind", None)
    if kind is not None:
        return kind == "c"
    return backend.kind(x._data if isinstance(x, Traceable) else x) == "c"


def _real_only(ufunc):
    """``ufunc`` on real input; complex input, which NumPy refuses with a TypeError that only
    says the types are unsupported, is refused with one that says so (never answered wrongly).
    """
    name = ufunc.__name__

    def refused(error, *args):
        if any(_is_complex(a) for a in args):
            return TypeError(f"{name}: complex inputs are not supported")
        return error

    if ufunc.nin == 1:

        def forward(x):
            try:
                return ufunc(x)
            except TypeError as error:
                raise refused(error, x) from None

    else:

        def forward(x, y):
            try:
                return ufunc(x, y)
            except TypeError as error:
                raise refused(error, x, y) from None

    forward.__name__ = forward.__qualname__ = name
    forward.__doc__ = f"NumPy's {name} on real input."
    return forward


# --- arithmetic -------------------------------------------------------------
# The operator module's functions are NumPy's ufuncs on arrays, and on NumPy
# scalars they take NumPy's scalar path, several times faster than calling the
# ufunc, with the same IEEE results. (Not power: scalar ** rounds differently.)
# Operators are Tensor's dunder methods, so these have no named Tensor method.

add = _elementwise(
    "add",
    operator.add,
    operators=("__add__", "__radd__"),
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
    operators=("__sub__", "__rsub__"),
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
    operators=("__mul__", "__rmul__"),
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
    operators=("__truediv__", "__rtruediv__"),
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
    return xp.log(xp.where(raw(x) == 0, 1.0, x))


def _power_with(pow_function):
    """The forward x**y computed by ``pow_function`` (np.power, or the standard's pow for
    other libraries); a square is x * x, the same bits as np.power at a fraction of the cost."""

    def power(x, y):
        if type(y) in (int, float) and y == 2:
            return x * x
        return pow_function(x, y)

    return power


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
        return y * x ** (y - 1) if y != 0 else xp.zeros_like(raw(x))
    base, exponent = raw(x), raw(y)
    regular = xp.logical_and(xp.isfinite(base), base != 0)
    degenerate = xp.logical_and(exponent == 0, xp.logical_not(regular))
    # Branch on concrete values only: under vmap (raw gives Tensors) the safe form always.
    if not isinstance(degenerate, Traceable) and not xp.any(degenerate):
        return y * x ** (y - 1)
    safe = xp.where(degenerate, 1.0, x)
    return xp.where(degenerate, 0.0, y * safe ** (y - 1))


power = _elementwise(
    "power",
    _power_with(np.power),
    operators=("__pow__", "__rpow__"),
    partials=(lambda ans, x, y: _power_slope(x, y), lambda ans, x, y: ans * _log_base(x)),
    domains=(d.positive, d.real),
    names=("power", "pow"),
    numpy=(np.power,),
    portable=False,
    implementations={"array_api": _power_with(xp.pow)},
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
    operators=("__neg__",),
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
    partials=(lambda ans, x: xp.cos(x),),
    domains=(d.real,),
    numpy=(np.sin,),
    notation=Notation(r"\sin", math.sin, "sin", exact={0: 0}, parity="odd"),
    doc="Elementwise sine.",
)

cos = _elementwise(
    "cos",
    np.cos,
    partials=(lambda ans, x: -xp.sin(x),),
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
    partials=(lambda ans, x: xp.cosh(x),),
    domains=(d.real,),
    numpy=(np.sinh,),
    notation=Notation(r"\sinh", math.sinh, "sinh", exact={0: 0}, parity="odd", inverse="arcsinh"),
    doc="Elementwise hyperbolic sine.",
)

cosh = _elementwise(
    "cosh",
    np.cosh,
    partials=(lambda ans, x: xp.sinh(x),),
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

# Inverse functions: their slopes are reciprocals, with 1 - x^2 and x^2 - 1 written as
# (1 - x)(1 + x) and (x - 1)(x + 1), which keep their accuracy near x = ±1 (the symbolic
# language keeps the textbook forms).

arcsin = _elementwise(
    "arcsin",
    np.arcsin,
    partials=(reciprocal(lambda ans, x: xp.sqrt((1 - x) * (1 + x))),),
    domains=(d.unit_interior,),
    names=("arcsin", "asin"),
    methods=("arcsin", "asin"),
    numpy=(np.arcsin,),
    notation=Notation(
        r"\arcsin",
        math.asin,
        "asin",
        exact={0: 0},
        parity="odd",
        partials=(lambda ans, x: 1 / np.sqrt(1 - x * x),),
        aliases=("asin",),
    ),
    doc="Elementwise inverse sine, in [-pi/2, pi/2]; defined on [-1, 1].",
)

arccos = _elementwise(
    "arccos",
    np.arccos,
    partials=(reciprocal(lambda ans, x: -xp.sqrt((1 - x) * (1 + x))),),
    domains=(d.unit_interior,),
    names=("arccos", "acos"),
    methods=("arccos", "acos"),
    numpy=(np.arccos,),
    notation=Notation(
        r"\arccos",
        math.acos,
        "acos",
        exact={1: 0},
        partials=(lambda ans, x: -1 / np.sqrt(1 - x * x),),
        aliases=("acos",),
    ),
    doc="Elementwise inverse cosine, in [0, pi]; defined on [-1, 1].",
)

arctan = _elementwise(
    "arctan",
    np.arctan,
    partials=(reciprocal(lambda ans, x: 1 + x * x),),
    domains=(d.real,),
    names=("arctan", "atan"),
    methods=("arctan", "atan"),
    numpy=(np.arctan,),
    notation=Notation(r"\arctan", math.atan, "atan", exact={0: 0}, parity="odd", aliases=("atan",)),
    doc="Elementwise inverse tangent, in (-pi/2, pi/2).",
)

arcsinh = _elementwise(
    "arcsinh",
    np.arcsinh,
    partials=(reciprocal(lambda ans, x: xp.sqrt(x * x + 1)),),
    domains=(d.real,),
    names=("arcsinh", "asinh"),
    methods=("arcsinh", "asinh"),
    numpy=(np.arcsinh,),
    notation=Notation(
        r"\operatorname{arsinh}",
        math.asinh,
        "asinh",
        exact={0: 0},
        parity="odd",
        aliases=("asinh",),
    ),
    doc="Elementwise inverse hyperbolic sine.",
)

arccosh = _elementwise(
    "arccosh",
    np.arccosh,
    partials=(reciprocal(lambda ans, x: xp.sqrt((x - 1) * (x + 1))),),
    domains=(d.above_one,),
    names=("arccosh", "acosh"),
    methods=("arccosh", "acosh"),
    numpy=(np.arccosh,),
    notation=Notation(
        r"\operatorname{arcosh}",
        math.acosh,
        "acosh",
        exact={1: 0},
        partials=(lambda ans, x: 1 / np.sqrt(x * x - 1),),
        aliases=("acosh",),
    ),
    doc="Elementwise inverse hyperbolic cosine, >= 0; defined for x >= 1.",
)

arctanh = _elementwise(
    "arctanh",
    np.arctanh,
    partials=(reciprocal(lambda ans, x: (1 - x) * (1 + x)),),
    domains=(d.unit_interior,),
    names=("arctanh", "atanh"),
    methods=("arctanh", "atanh"),
    numpy=(np.arctanh,),
    notation=Notation(
        r"\operatorname{artanh}",
        math.atanh,
        "atanh",
        exact={0: 0},
        parity="odd",
        partials=(lambda ans, x: 1 / (1 - x * x),),
        aliases=("atanh",),
    ),
    doc="Elementwise inverse hyperbolic tangent; defined on (-1, 1).",
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

# Logarithms and powers in bases 2 and 10, and the small powers NumPy names.

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_LOG2E = 1 / _LN2

log2 = _elementwise(
    "log2",
    np.log2,
    partials=(reciprocal(lambda ans, x: x * _LN2),),
    domains=(d.positive,),
    numpy=(np.log2,),
    notation=Notation(
        r"\log_2",
        math.log2,
        (lambda sp, a: sp.log(a, 2), None),
        exact={1: 0, 2: 1},
        inverse="exp2",
    ),
    doc="Elementwise base-2 logarithm.",
)

log10 = _elementwise(
    "log10",
    np.log10,
    partials=(reciprocal(lambda ans, x: x * _LN10),),
    domains=(d.positive,),
    numpy=(np.log10,),
    notation=Notation(
        r"\log_{10}", math.log10, (lambda sp, a: sp.log(a, 10), None), exact={1: 0, 10: 1}
    ),
    doc="Elementwise base-10 logarithm.",
)

exp2 = _elementwise(
    "exp2",
    np.exp2,
    partials=(lambda ans, x: ans * _LN2,),
    domains=(d.real,),
    numpy=(np.exp2,),
    implementations={
        "cupy": backend.library_function("exp2"),
        "array_api": lambda x: xp.pow(2.0, x),
    },
    notation=Notation(
        r"2^{{{0}}}",
        math.exp2,
        (lambda sp, a: sp.Integer(2) ** a, None),
        exact={0: 1, 1: 2},
        inverse="log2",
    ),
    doc="Elementwise 2**x.",
)

square = _elementwise(
    "square",
    np.square,
    partials=(lambda ans, x: 2 * x,),
    domains=(d.real,),
    numpy=(np.square,),
    notation=Notation(rewrite=lambda x: x**2),
    doc="Elementwise x * x.",
)


def _standard_reciprocal(x):
    """1 / x with the standard's functions; integers as NumPy's C division gives them
    (±1 for ±1, else 0)."""
    if backend.kind(x) in "iu":
        return xp.where(xp.abs(x) == 1, x, 0)
    return 1 / x


def _standard_cbrt(x):
    """The real cube root with the standard's functions (within an ulp of np.cbrt): |x|**(1/3),
    then one Newton step, which undoes the rounding of 1/3 (up to 4e-14 relative at 1e-300)."""
    if _is_complex(x):
        raise TypeError("cbrt: complex inputs are not supported")
    magnitude = xp.abs(x)
    root = xp.pow(magnitude, 1 / 3)
    regular = xp.logical_and(root > 0, xp.isfinite(root))
    safe = xp.where(regular, root, 1.0)
    refined = safe + (magnitude / (safe * safe) - safe) / 3
    return xp.copysign(xp.where(regular, refined, root), x)


reciprocal_function = _elementwise(
    "reciprocal",
    np.reciprocal,
    partials=(lambda ans, x: -(ans * ans),),
    domains=(d.nonzero,),
    numpy=(np.reciprocal,),
    implementations={"array_api": _standard_reciprocal},
    notation=Notation(rewrite=lambda x: 1 / x),
    doc="Elementwise 1 / x (NumPy's: integer input gives integer division).",
)

cbrt = _elementwise(
    "cbrt",
    _real_only(np.cbrt),
    partials=(reciprocal(lambda ans, x: 3 * (ans * ans)),),
    domains=(d.nonzero,),
    numpy=(np.cbrt,),
    portable=False,
    implementations={"cupy": backend.library_function("cbrt"), "array_api": _standard_cbrt},
    notation=Notation(
        r"\sqrt[3]{{{0}}}",
        math.cbrt,
        (lambda sp, a: sp.sign(a) * sp.Abs(a) ** sp.Rational(1, 3), None),
        exact={0: 0, 1: 1, 8: 2},
        parity="odd",
    ),
    doc="Elementwise real cube root (negative for negative x); its slope at 0 is infinite.",
)


def _sinc_slope_series(count: int) -> tuple[float, ...]:
    """Coefficients of d sinc/dx = sum_k c_k x^(2k-1), k = 1..count, highest first (Horner)."""
    return tuple(
        (-1) ** k * 2 * k * math.pi ** (2 * k) / math.factorial(2 * k + 1)
        for k in range(count, 0, -1)
    )


#: Below this |x| (pi |x| < 0.5) the slope comes from its Maclaurin series: 8 terms reach
#: double precision there, where the closed form would cancel (and divide 0 by 0 at 0).
_SINC_SERIES_RADIUS = 0.5 / math.pi
_SINC_SLOPE_SERIES = _sinc_slope_series(8)


def _sinc_slope(ans, x):
    """d sinc/dx = (cos(pi x) - sinc(x)) / x, from its series near 0, so that it is accurate
    there and its own derivatives are too (sinc''(0) = -pi^2/3, not the 0 of a mask)."""
    near = xp.abs(_real(raw(x))) < _SINC_SERIES_RADIUS
    # Under vmap (raw gives Tensors) the values must not choose: both forms, selected.
    some_near = isinstance(near, Traceable) or bool(xp.any(near))
    closed = (xp.cos(math.pi * x) - ans) / (xp.where(near, 1.0, x) if some_near else x)
    if not some_near:
        return closed
    xx = x * x
    series = _SINC_SLOPE_SERIES[0]
    for c in _SINC_SLOPE_SERIES[1:]:
        series = series * xx + c
    return xp.where(near, x * series, closed)


def _standard_sinc(x):
    """sin(pi x) / (pi x), 1 at 0, with the standard's functions: NumPy's own formula."""
    y = math.pi * xp.where(x == 0, 1.0e-20, x)
    return xp.sin(y) / y


sinc = _elementwise(
    "sinc",
    np.sinc,
    partials=(_sinc_slope,),
    domains=(d.real,),
    numpy=(np.sinc,),
    portable=False,
    implementations={
        "cupy": backend.library_function("sinc"),
        "array_api": _standard_sinc,
    },
    notation=Notation(
        r"\operatorname{sinc}",
        None,
        (lambda sp, a: sp.sinc(sp.pi * a), None),
        exact={0: 1},
        parity="even",
        partials=(lambda ans, x: (np.cos(np.pi * x) - ans) / x,),
    ),
    doc="Elementwise normalized sinc, sin(pi x) / (pi x), with sinc(0) = 1.",
)


_RADIANS_PER_DEGREE = math.pi / 180.0
_DEGREES_PER_RADIAN = 180.0 / math.pi


def _degrees_to_radians(x):
    """NumPy's deg2rad; on complex input (the complex step) the same linear map."""
    return x * _RADIANS_PER_DEGREE if _is_complex(x) else np.deg2rad(x)


def _radians_to_degrees(x):
    """NumPy's rad2deg; on complex input (the complex step) the same linear map."""
    return x * _DEGREES_PER_RADIAN if _is_complex(x) else np.rad2deg(x)


deg2rad = _elementwise(
    "deg2rad",
    _degrees_to_radians,
    partials=(_RADIANS_PER_DEGREE,),
    domains=(d.real,),
    names=("deg2rad", "radians"),
    methods=("deg2rad",),
    numpy=(np.deg2rad, np.radians),
    portable=False,
    implementations={
        "cupy": backend.library_function("deg2rad"),
        "array_api": lambda x: x * _RADIANS_PER_DEGREE,
    },
    notation=Notation(
        r"\operatorname{deg2rad}",
        math.radians,
        (lambda sp, a: a * sp.pi / 180, None),
        exact={0: 0},
        parity="odd",
        aliases=("radians",),
    ),
    doc="Degrees to radians, elementwise (x * pi / 180).",
)

rad2deg = _elementwise(
    "rad2deg",
    _radians_to_degrees,
    partials=(_DEGREES_PER_RADIAN,),
    domains=(d.real,),
    names=("rad2deg", "degrees"),
    methods=("rad2deg",),
    numpy=(np.rad2deg, np.degrees),
    portable=False,
    implementations={
        "cupy": backend.library_function("rad2deg"),
        "array_api": lambda x: x * _DEGREES_PER_RADIAN,
    },
    notation=Notation(
        r"\operatorname{rad2deg}",
        math.degrees,
        (lambda sp, a: a * 180 / sp.pi, None),
        exact={0: 0},
        parity="odd",
        aliases=("degrees",),
    ),
    doc="Radians to degrees, elementwise (x * 180 / pi).",
)


def _sigmoid(x):
    """1 / (1 + exp(-x)), as PyTorch computes it: no cancellation anywhere, and where
    exp(-x) overflows to inf the result is exactly 0 (that overflow is silenced)."""
    with np.errstate(over="ignore"):
        return 1 / (1 + xp.exp(-x))


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

# --- smooth functions of two arguments ------------------------------------------------

arctan2 = _elementwise(
    "arctan2",
    _real_only(np.arctan2),
    partials=(
        lambda ans, y, x: x / (x * x + y * y),
        lambda ans, y, x: -y / (x * x + y * y),
    ),
    domains=(d.nonzero, d.real),  # off the branch cut (y = 0, x < 0) and the origin
    names=("arctan2", "atan2"),
    methods=("arctan2", "atan2"),
    numpy=(np.arctan2,),
    portable=False,
    implementations={"array_api": xp.atan2},
    notation=Notation(r"\operatorname{arctan2}", math.atan2, "atan2", aliases=("atan2",)),
    doc="Elementwise angle of the point (x, y) (first argument y), in [-pi, pi].",
)

hypot = _elementwise(
    "hypot",
    _real_only(np.hypot),
    partials=(lambda ans, x, y: x / ans, lambda ans, x, y: y / ans),
    domains=(d.nonzero, d.nonzero),
    numpy=(np.hypot,),
    portable=False,
    implementations={"array_api": xp.hypot},
    notation=Notation(
        r"\operatorname{hypot}",
        math.hypot,
        (lambda sp, a, b: sp.sqrt(a**2 + b**2), None),
        commutative=True,
    ),
    doc="Elementwise sqrt(x**2 + y**2), without overflow; its slope at (0, 0) is NaN.",
)

# log(e^x + e^y) and log2(2^x + 2^y): the slope in x is e^x / (e^x + e^y) = sigmoid(x - y),
# which never overflows, is exactly 1/2 at ties, and 1 where x = inf and y is finite.


logaddexp = _elementwise(
    "logaddexp",
    _real_only(np.logaddexp),
    partials=(lambda ans, x, y: _sigmoid(x - y), lambda ans, x, y: _sigmoid(y - x)),
    domains=(d.real, d.real),
    numpy=(np.logaddexp,),
    portable=False,
    implementations={"array_api": xp.logaddexp},
    notation=Notation(
        r"\operatorname{logaddexp}",
        None,
        (lambda sp, a, b: sp.log(sp.exp(a) + sp.exp(b)), None),
        commutative=True,
    ),
    doc="Elementwise log(exp(x) + exp(y)), without overflow; its slopes are sigmoid(x - y) "
    "and sigmoid(y - x).",
)


def _standard_logaddexp2(x, y):
    """log2(2**x + 2**y) with the standard's functions, as NumPy computes it: the larger
    operand plus log2(1 + 2**-gap) (x + 1 where they are equal, infinities included)."""
    larger = xp.maximum(x, y)
    spread = larger + xp.log1p(xp.pow(2.0, -xp.abs(x - y))) * _LOG2E
    return xp.where(x == y, x + 1.0, spread)


logaddexp2 = _elementwise(
    "logaddexp2",
    _real_only(np.logaddexp2),
    partials=(
        lambda ans, x, y: _sigmoid((x - y) * _LN2),
        lambda ans, x, y: _sigmoid((y - x) * _LN2),
    ),
    domains=(d.real, d.real),
    numpy=(np.logaddexp2,),
    portable=False,
    implementations={
        "cupy": backend.library_function("logaddexp2"),
        "array_api": _standard_logaddexp2,
    },
    notation=Notation(
        r"\operatorname{logaddexp2}",
        None,
        (lambda sp, a, b: sp.log(sp.Integer(2) ** a + sp.Integer(2) ** b, 2), None),
        commutative=True,
    ),
    doc="Elementwise log2(2**x + 2**y), without overflow.",
)

# --- piecewise functions: derivative 0 at the kink, as PyTorch and JAX choose --------


def _abs(x):
    """|x|: a complex number's modulus, except under the complex step (chainrule.fd), where
    a complex value is a real one plus a step and abs is its analytic extension ±x."""
    if _is_complex(x) and in_complex_step():
        return xp.where(xp.real(x) < 0, -x, x)
    return xp.abs(x)


def _abs_slope(ans, x):
    """sign(x) for real x; conj(x)/|x| for complex x (taken as 0 at 0, as JAX does), so
    the VJP is g·conj(x)/|x| and the JVP Re(t·conj(x)/|x|), JAX's convention."""
    if not _is_complex(raw(x)):
        return xp.sign(raw(x))
    return xp.conj(x) / xp.where(raw(ans) == 0, 1, ans)


abs = _elementwise(  # noqa: A001 - NumPy's name
    "abs",
    _abs,
    operators=("__abs__",),
    partials=(_abs_slope,),
    domains=(d.nonzero,),
    names=("abs", "absolute", "fabs"),
    methods=("abs", "absolute"),
    numpy=(np.absolute, np.fabs),
    notation=Notation(
        r"\left|{0}\right|",
        builtins.abs,
        "Abs",
        exact=builtins.abs,
        parity="even",
        idempotent=True,
        partials=(lambda ans, x: np.sign(x),),
    ),
    doc="Elementwise absolute value (a complex number's modulus); its derivative at 0 is "
    "taken as 0.",
)


def _relu(x):
    """max(x, 0); on a real NumPy scalar without a ufunc call (same result, NaN kept)."""
    kind = type(x)
    if kind is np.float64 or kind is np.float32:
        return x if x > 0 or x != x else kind(0)
    return xp.where(xp.real(x) > 0, x, 0) if _is_complex(x) else xp.maximum(x, 0)


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


def _weights(wins, ties, x, y):
    """1 where ``wins``, 0.5 where ``ties`` (never both), else 0, in the (real) floating dtype
    of ``x`` and ``y``: the selection weights of maximum, minimum, fmax and fmin."""
    if type(x) in backend.NUMPY_TYPES and type(y) in backend.NUMPY_TYPES:
        dtype = np.result_type(x, y)
    else:
        arrays = [v for v in (x, y) if hasattr(v, "dtype")]
        space = backend.array_namespace(arrays[0])
        dtype = space.result_type(*(v.dtype for v in arrays))
    return xp.where(ties, 0.5, xp.astype(wins, dtype))


def _pick_weight(x, y):
    """1 where x wins, 0.5 on ties, 0 where y wins (comparing real parts)."""
    xv, yv = _real(raw(x)), _real(raw(y))
    return _weights(xv > yv, xv == yv, xv, yv)


def _maximum(x, y):
    if _is_complex(x) or _is_complex(y):
        return xp.where(xp.real(x) >= xp.real(y), x, y)
    return xp.maximum(x, y)


def _minimum(x, y):
    if _is_complex(x) or _is_complex(y):
        return xp.where(xp.real(x) <= xp.real(y), x, y)
    return xp.minimum(x, y)


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


def _weight_ignoring_nan(x, y, beats):
    """fmax's or fmin's choice for x: 1 where x wins (``beats(x, y)``, or y is NaN and x is
    not), 0.5 on ties (both NaN included), 0 where y wins; comparing real parts."""
    xv, yv = _real(raw(x)), _real(raw(y))
    x_nan, y_nan = xp.isnan(xv), xp.isnan(yv)
    x_wins = beats(xv, yv) | (y_nan & ~x_nan)
    tie = (xv == yv) | (x_nan & y_nan)
    return _weights(x_wins, tie, xv, yv)


def _ignoring_nan(choose):
    """fmax (``choose`` is maximum) or fmin (minimum) with the standard's functions: the
    other operand where one is NaN."""

    def forward(x, y):
        return xp.where(xp.isnan(x), y, xp.where(xp.isnan(y), x, choose(x, y)))

    return forward


fmax = _elementwise(
    "fmax",
    np.fmax,
    partials=(
        mask(lambda ans, x, y: _weight_ignoring_nan(x, y, operator.gt)),
        mask(lambda ans, x, y: _weight_ignoring_nan(y, x, operator.gt)),
    ),
    domains=(d.with_nans, d.distinct),
    numpy=(np.fmax,),
    implementations={
        "cupy": backend.library_function("fmax"),
        "array_api": _ignoring_nan(xp.maximum),
    },
    doc="Elementwise larger of x and y, ignoring NaN (NaN only where both are); ties send "
    "half the gradient to each, and a NaN operand gets none.",
)

fmin = _elementwise(
    "fmin",
    np.fmin,
    partials=(
        mask(lambda ans, x, y: _weight_ignoring_nan(x, y, operator.lt)),
        mask(lambda ans, x, y: _weight_ignoring_nan(y, x, operator.lt)),
    ),
    domains=(d.with_nans, d.distinct),
    numpy=(np.fmin,),
    implementations={
        "cupy": backend.library_function("fmin"),
        "array_api": _ignoring_nan(xp.minimum),
    },
    doc="Elementwise smaller of x and y, ignoring NaN (NaN only where both are); ties send "
    "half the gradient to each, and a NaN operand gets none.",
)


def _where(condition, x, y):
    return xp.where(condition, x, y)


def _select(condlist, choicelist, default=0):
    """np.select: where the first condition holding picks its choice, else ``default``; one
    where per choice, the last first, so the first condition wins. Float32 choices stay
    float32 (NumPy promotes them with an integer default)."""
    conditions, choices = list(condlist), list(choicelist)
    if len(conditions) != len(choices) or not conditions:
        raise ShapeError(
            f"select: need as many conditions as choices, at least one; got "
            f"{len(conditions)} and {len(choices)}"
        )
    out = default
    for condition, choice in zip(reversed(conditions), reversed(choices), strict=True):
        if backend.kind(raw(condition)) != "b":
            raise TypeError(f"select: conditions must be boolean, got {raw(condition).dtype}")
        out = where.bind(condition, choice, out)
    return out


where = _elementwise(
    "where",
    _where,
    vjps=(
        None,
        lambda g, ans, c, x, y: xp.where(raw(c), g, 0.0),
        lambda g, ans, c, x, y: xp.where(raw(c), 0.0, g),
    ),
    jvps=(
        None,
        lambda t, ans, c, x, y: xp.where(raw(c), t, 0.0),
        lambda t, ans, c, x, y: xp.where(raw(c), 0.0, t),
    ),
    domains=(lambda rng, shape: rng.random(size=shape) < 0.5, d.real, d.real),
    names=("where", ("select", composite(_select))),
    numpy=(np.where, (np.select, composite(_select))),
    methods=(),
    signature="where",
    doc="``x`` where ``condition`` holds, else ``y`` (no gradient flows into the condition). "
    "As in JAX, both branches are computed and differentiated: a branch that is NaN or "
    "infinite where it is not taken (sqrt of a negative) gives a NaN gradient there. Guard "
    "its input instead: ``where(x > 0, sqrt(where(x > 0, x, 1)), 0)``.",
)


def _clip(x, lo, hi):
    return np.clip(x, lo, hi)


def _standard_clip(x, lo, hi):
    """NumPy's clip with the standard's functions: min(max(x, lo), hi), so hi wins where the
    bounds cross (the standard leaves that case to the library; array_api_strict refuses it)."""
    if lo is not None:
        x = xp.maximum(x, lo)
    return x if hi is None else xp.minimum(x, hi)


def _inside(x, lo, hi):
    """True where lo <= x <= hi (x passes through clip); a missing bound is no limit."""
    xv = _real(raw(x))
    if lo is None and hi is None:
        return xp.ones_like(xv, dtype=backend.array_namespace(xv).bool)
    above_lo = None if lo is None else xv >= _real(raw(lo))
    below_hi = None if hi is None else xv <= _real(raw(hi))
    if above_lo is None or below_hi is None:
        return below_hi if above_lo is None else above_lo
    return xp.logical_and(above_lo, below_hi)


def _below(x, lo, hi):
    """True where lo wins (x < lo, and lo <= hi): there clip's output is lo."""
    xv, lv = _real(raw(x)), _real(raw(lo))
    below = xv < lv
    if hi is not None:
        below = xp.logical_and(below, lv <= _real(raw(hi)))
    return below


def _above(x, lo, hi):
    """True where hi wins (max(x, lo) > hi, NumPy's order): there clip's output is hi."""
    xv = _real(raw(x))
    floor = xv if lo is None else xp.maximum(xv, _real(raw(lo)))
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
        portable=False,
        implementations={"array_api": _standard_clip},
        signature="clip",
        sample=_clip_samples,
        doc="Limit values to [lo, hi] (either bound may be None); the gradient is 0 outside, "
        "and flows to a bound where it wins. PyTorch's clamp(min=, max=) is the same operation.",
    )
)

# --- remainders: slope 1 in x and -quotient in y, jumps not represented (as in PyTorch, JAX) ---


def _quotient(ans, x, y):
    """The integer q with x = q y + ans, recovered from the remainder itself (so it agrees with
    the forward at the jumps, where x / y may round across an integer)."""
    return xp.round((x - ans) / y)


remainder = _elementwise(
    "remainder",
    _real_only(np.remainder),
    operators=("__mod__", "__rmod__"),
    partials=(1, lambda ans, x, y: -_quotient(ans, x, y)),
    domains=(d.dividend, d.divisor),
    names=("remainder", "mod"),
    methods=("remainder",),
    numpy=(np.remainder,),
    portable=False,
    implementations={"array_api": xp.remainder},
    label="%",
    doc="Elementwise x - y * floor(x / y): the sign of y, as Python's % (also ``t % y``).",
)

fmod = _elementwise(
    "fmod",
    _real_only(np.fmod),
    partials=(1, lambda ans, x, y: -_quotient(ans, x, y)),
    domains=(d.dividend, d.divisor),
    numpy=(np.fmod,),
    portable=False,
    implementations={
        "cupy": backend.library_function("fmod"),
        "array_api": lambda x, y: xp.copysign(xp.remainder(xp.abs(x), xp.abs(y)), x),
    },
    doc="Elementwise x - y * trunc(x / y): the sign of x, as C's fmod.",
)

# --- nan_to_num: the gradient passes where x is finite and is 0 where a value was replaced ---


def _nan_to_num(x, *, nan, posinf, neginf):
    """NumPy's nan_to_num; complex input is replaced by its real part's finiteness (the
    extension the complex step needs: the identity where finite, a constant where not)."""
    if _is_complex(x):
        replaced = np.nan_to_num(x.real, nan=nan, posinf=posinf, neginf=neginf)
        return np.where(np.isfinite(x.real), x, replaced)
    return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


def _standard_nan_to_num(x, *, nan, posinf, neginf):
    """nan_to_num with the standard's functions (real input): None is the dtype's extreme."""
    if _is_complex(x):
        raise TypeError("nan_to_num: complex inputs are supported on NumPy arrays only")
    if backend.kind(x) not in "fc":
        return x
    limits = backend.array_namespace(x).finfo(x.dtype)
    posinf = float(limits.max) if posinf is None else posinf
    neginf = float(limits.min) if neginf is None else neginf
    replaced = xp.where(x > 0, xp.full_like(x, posinf), neginf)
    return xp.where(xp.isnan(x), nan, xp.where(xp.isinf(x), replaced, x))


def _replacement(value, op, what):
    """A replacement value as a float (None: NumPy's default), or a TypeError naming it."""
    if value is None and what != "nan":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: {what} must be a real number, got {value!r}")
    return float(value)


def _prepare_nan_to_num(x, nan=0.0, posinf=None, neginf=None, *, copy=True):
    """``nan_to_num(x, nan=0.0, posinf=None, neginf=None)``, PyTorch's order (NumPy's puts
    ``copy`` second: pass it by keyword). None means the dtype's largest (smallest) value."""
    if not copy:
        raise ValueError(
            "nan_to_num: copy=False (replacing in place) is not supported; use the result"
        )
    params = {
        "nan": _replacement(nan, "nan_to_num", "nan"),
        "posinf": _replacement(posinf, "nan_to_num", "posinf"),
        "neginf": _replacement(neginf, "nan_to_num", "neginf"),
    }
    return (x,), params


nan_to_num = register(
    Primitive(
        "nan_to_num",
        _nan_to_num,
        partials=(mask(lambda ans, x, **replacements: xp.isfinite(_real(raw(x)))),),
        kind="elementwise",
        names=("nan_to_num",),
        methods=("nan_to_num",),
        numpy=(np.nan_to_num,),
        portable=False,
        implementations={
            "cupy": backend.library_function("nan_to_num"),
            "array_api": _standard_nan_to_num,
        },
        signature=_prepare_nan_to_num,
        sample=lambda rng: [
            ((_specials(rng, (3, 4)),), {"nan": 0.0, "posinf": 5.0, "neginf": -5.0}),
            ((_specials(rng, (5,)),), {"nan": -1.5, "posinf": 3.0, "neginf": -3.0}),
            ((d.real(rng, ()),), {"nan": 0.0, "posinf": None, "neginf": None}),
        ],
        doc="Replace NaN by ``nan``, inf by ``posinf`` and -inf by ``neginf`` (None: the "
        "dtype's extreme); the gradient is 0 at the replaced entries.",
    )
)

# --- piecewise constant: zero gradient, as JAX and PyTorch give ------------------------
# Their slope is 0 wherever they have one, and the jumps are not represented: the gradient
# of floor, sign or round is 0 everywhere (a mask, so not even an infinite cotangent flows).

_FLAT = mask(lambda ans, *args, **params: False)


def _on_real_part(function):
    """``function`` (``xp.floor``: the standard's, NumPy's ufunc on NumPy arrays), extended
    under the complex step by applying it to the real part: constant in the imaginary
    direction, the real-analytic extension the step needs (as sign's). Other complex input
    is refused, as NumPy does."""
    name = function.__name__

    def forward(x):
        if not _is_complex(x):
            return function(x)
        if not in_complex_step():  # a complex value of its own: NumPy refuses it too
            raise TypeError(f"{name}: complex inputs are not supported")
        return xp.astype(function(xp.real(x)), x.dtype)

    forward.__name__ = forward.__qualname__ = name
    forward.__doc__ = f"The standard's {name}; under the complex step, of the real part."
    return forward


def _sign(x):
    """-1, 0 or 1; a complex number's z/|z| as in NumPy 2, except under the complex step,
    where it is the sign of the real part (the real-analytic extension the step needs)."""
    if _is_complex(x) and in_complex_step():
        return xp.astype(xp.sign(xp.real(x)), x.dtype)
    return xp.sign(x)


sign = register(
    Primitive(
        "sign",
        _sign,
        partials=(_FLAT,),
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
            partials=(lambda ans, x: 0,),
        ),
        doc="Elementwise sign (-1, 0 or 1); its gradient is 0.",
    )
)


def _heaviside(x, at_zero=0):
    """NumPy's step function of the real part: 0 below zero, ``at_zero`` at zero, 1 above."""
    if _is_complex(at_zero):
        raise TypeError("heaviside: a complex value at zero is not supported")
    return np.heaviside(np.real(x), at_zero)


def _standard_heaviside(x, at_zero):
    """The step function with the standard's functions: NaN stays NaN, as in NumPy."""
    if _is_complex(at_zero):
        raise TypeError("heaviside: a complex value at zero is not supported")
    x = _real(x)
    step = xp.where(x > 0, xp.ones_like(x), xp.where(x < 0, xp.zeros_like(x), at_zero))
    return xp.where(xp.isnan(x), x, step)


def _scalar_heaviside(v: float, at_zero: float = 0.0) -> float:
    if v != v:
        return v
    return 1.0 if v > 0.0 else 0.0 if v < 0.0 else at_zero


heaviside = register(
    Primitive(
        "heaviside",
        _heaviside,
        partials=(_FLAT, mask(lambda ans, x, at_zero: _real(raw(x)) == 0)),
        kind="elementwise",
        names=("heaviside",),
        methods=("heaviside",),
        numpy=(np.heaviside,),
        portable=False,
        implementations={
            "cupy": backend.library_function("heaviside"),
            "array_api": _standard_heaviside,
        },
        signature="binary",
        domains=(d.nonzero, lambda rng, shape: rng.choice([0.0, 0.5, 1.0], size=shape)),
        notation=Notation(
            r"\theta\left({0}\right)",
            _scalar_heaviside,
            "Heaviside",
            exact=lambda v, at_zero=0: 1 if v > 0 else 0 if v < 0 else at_zero,
            # 1 exactly where x = 0, where the value is at_zero (NaN where x is NaN).
            partials=(
                lambda ans, x, at_zero: 0,
                lambda ans, x, at_zero: 1 - np.heaviside(x, 0) - np.heaviside(-x, 0),
            ),
        ),
        doc="Heaviside step (the derivative of relu, abs and max, symbolically); its gradient "
        "is 0 in x, and 1 in ``at_zero`` where x is 0 (the value it takes there).",
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
    operators=("__lt__",),
    doc="x < y elementwise.",
    domains=(_half_steps,) * 2,
    numpy=(np.less,),
    methods=("less", "lt"),
    infix="<",
)
less_equal = _elementwise(
    "less_equal",
    np.less_equal,
    operators=("__le__",),
    doc="x <= y elementwise.",
    domains=(_half_steps,) * 2,
    numpy=(np.less_equal,),
    methods=("less_equal", "le"),
    infix="<=",
)
greater = _elementwise(
    "greater",
    np.greater,
    operators=("__gt__",),
    doc="x > y elementwise.",
    domains=(_half_steps,) * 2,
    numpy=(np.greater,),
    methods=("greater", "gt"),
    infix=">",
)
greater_equal = _elementwise(
    "greater_equal",
    np.greater_equal,
    operators=("__ge__",),
    doc="x >= y elementwise.",
    domains=(_half_steps,) * 2,
    numpy=(np.greater_equal,),
    methods=("greater_equal", "ge"),
    infix=">=",
)
equal = _elementwise(
    "equal",
    np.equal,
    operators=("__eq__",),
    doc="x == y elementwise.",
    domains=(_half_steps,) * 2,
    numpy=(np.equal,),
    methods=("equal", "eq"),
    infix="==",
)
not_equal = _elementwise(
    "not_equal",
    np.not_equal,
    operators=("__ne__",),
    doc="x != y elementwise.",
    domains=(_half_steps,) * 2,
    numpy=(np.not_equal,),
    methods=("not_equal", "ne"),
    infix="!=",
)
logical_and = _elementwise(
    "logical_and",
    np.logical_and,
    operators=("__and__", "__rand__"),
    doc="Elementwise truth of x and y.",
    domains=(_truths,) * 2,
    numpy=(np.logical_and,),
    infix="&",
)
logical_or = _elementwise(
    "logical_or",
    np.logical_or,
    operators=("__or__", "__ror__"),
    doc="Elementwise truth of x or y.",
    domains=(_truths,) * 2,
    numpy=(np.logical_or,),
    infix="|",
)
logical_xor = _elementwise(
    "logical_xor",
    np.logical_xor,
    operators=("__xor__", "__rxor__"),
    doc="Elementwise truth of x xor y.",
    domains=(_truths,) * 2,
    numpy=(np.logical_xor,),
    infix="^",
)
logical_not = _elementwise(
    "logical_not",
    np.logical_not,
    operators=("__invert__",),
    doc="Elementwise truth of not x.",
    domains=(_truths,),
    numpy=(np.logical_not,),
    infix="~",
)

# Rounding: zero gradient (see the piecewise-constant section above).

floor = _elementwise(
    "floor",
    _on_real_part(xp.floor),
    partials=(_FLAT,),
    doc="Largest integer <= x, elementwise; its gradient is 0.",
    domains=(d.between_integers,),
    numpy=(np.floor,),
)
ceil = _elementwise(
    "ceil",
    _on_real_part(xp.ceil),
    partials=(_FLAT,),
    doc="Smallest integer >= x, elementwise; its gradient is 0.",
    domains=(d.between_integers,),
    numpy=(np.ceil,),
)
trunc = _elementwise(
    "trunc",
    _on_real_part(xp.trunc),
    partials=(_FLAT,),
    doc="x rounded toward zero, elementwise (NumPy's fix is the same); its gradient is 0.",
    domains=(d.between_integers,),
    names=("trunc", "fix"),
    methods=("trunc", "fix"),
    numpy=(np.trunc, np.fix),
)


def _round(x, *, decimals):
    return np.round(x, decimals)


def _standard_round(x, *, decimals):
    """NumPy's rounding with the standard's functions: halves to even after scaling by a
    power of ten (multiplying for decimals > 0, dividing for < 0), as NumPy scales."""
    if decimals == 0:
        return xp.round(x)
    if decimals > 0:
        scale = 10.0**decimals
        return xp.round(x * scale) / scale
    scale = 10.0**-decimals
    return xp.round(x / scale) * scale


def _prepare_round(x, decimals=0):
    """``round(x, decimals=0)``: halves go to the even neighbour, as in NumPy."""
    if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, bool):
        raise TypeError(f"round: decimals must be an integer, got {decimals!r}")
    return (x,), {"decimals": int(decimals)}


def _prepare_rint(x):
    """``rint(x)``: round to the nearest integer, halves to even (round with decimals=0)."""
    return (x,), {"decimals": 0}


round = register(  # noqa: A001 - NumPy's name
    Primitive(
        "round",
        _round,
        partials=(_FLAT,),
        kind="elementwise",
        names=("round", ("rint", _prepare_rint)),
        methods=("round",),
        numpy=(np.round, np.around, (np.rint, _prepare_rint)),
        portable=False,
        implementations={
            "cupy": backend.library_function("round"),
            "array_api": _standard_round,
        },
        signature=_prepare_round,
        sample=lambda rng: [
            ((d.between_halves(rng, (3, 4)),), {"decimals": 0}),
            ((d.between_halves(rng, (5,)) / 100,), {"decimals": 2}),
            ((d.between_halves(rng, ()) * 10,), {"decimals": -1}),
        ],
        doc="Round to ``decimals`` places, halves to even; its gradient is 0.",
    )
)

# Tests of special values.

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

# --- the error function and its relatives -------------------------------------------------
# Cephes' rational approximations (S. L. Moshier, public domain), the ones SciPy compiles:
# erf(x) = x T(x^2) / U(x^2) for |x| <= 1 (relative error < 3.7e-16 in IEEE double), and
# erfc(x) = exp(-x^2) P(x) / Q(x) for 1 <= x < 8 and exp(-x^2) R(x) / S(x) from 8 on, with
# erf = 1 - erfc beyond 1. U, Q and S have an implicit leading coefficient 1. These are
# piecewise in |x|, so not analytic: complex inputs are refused rather than answered wrongly.

_ERF_T = (
    9.60497373987051638749e0,
    9.00260197203842689217e1,
    2.23200534594684319226e3,
    7.00332514112805075473e3,
    5.55923013010394962768e4,
)
_ERF_U = (
    3.35617141647503099647e1,
    5.21357949780152679795e2,
    4.59432382970980127987e3,
    2.26290000613890934246e4,
    4.92673942608635921086e4,
)
_ERFC_P = (
    2.46196981473530512524e-10,
    5.64189564831068821977e-1,
    7.46321056442269912687e0,
    4.86371970985681366614e1,
    1.96520832956077098242e2,
    5.26445194995477358631e2,
    9.34528527171957607540e2,
    1.02755188689515710272e3,
    5.57535335369399327526e2,
)
_ERFC_Q = (
    1.32281951154744992508e1,
    8.67072140885989742329e1,
    3.54937778887819891062e2,
    9.75708501743205489753e2,
    1.82390916687909736289e3,
    2.24633760818710981792e3,
    1.65666309194161350182e3,
    5.57535340817727675546e2,
)
_ERFC_R = (
    5.64189583547755073984e-1,
    1.27536670759978104416e0,
    5.01905042251180477414e0,
    6.16021097993053585195e0,
    7.40974269950448939160e0,
    2.97886665372100240670e0,
)
_ERFC_S = (
    2.26052863220117276590e0,
    9.39603524938001434673e0,
    1.20489539808096656605e1,
    1.70814450747565897222e1,
    9.60896809063285878198e0,
    3.36907645100081516050e0,
)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_HALF_SQRT_PI = math.sqrt(math.pi) / 2.0


def _cupyx_special(name):
    """The forward ``cupyx.scipy.special.<name>`` for CuPy arrays (imported when first used)."""

    def forward(x):
        from cupyx.scipy import special

        return getattr(special, name)(x)

    forward.__name__ = forward.__qualname__ = name
    return forward


def _polynomial(x, coefficients, leading_one=False):
    """Horner's rule, highest power first (Cephes' polevl, or p1evl with ``leading_one``)."""
    result = x + coefficients[0] if leading_one else xp.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        result = result * x + c
    return result


def _refuse_complex(x, op):
    if _is_complex(x):
        raise TypeError(f"{op}: complex inputs are not supported (its formula is piecewise in |x|)")


def _erf_near_zero(x):
    """erf(x) for |x| <= 1."""
    z = x * x
    return x * _polynomial(z, _ERF_T) / _polynomial(z, _ERF_U, leading_one=True)


def _erfc_tail(a):
    """erfc(a) for a >= 1 (a is clipped to [1, 30]: erfc(30) underflows to 0 already).

    exp(-a^2) is taken as exp(-h^2) exp(-(2h + l) l) with a = h + l and h a multiple of
    1/16 (so h^2 is exact): the rounding of a^2 would cost up to a^2 ulps.
    """
    a = xp.clip(a, 1.0, 30.0)
    ratio = xp.where(
        a < 8.0,
        _polynomial(a, _ERFC_P) / _polynomial(a, _ERFC_Q, leading_one=True),
        _polynomial(a, _ERFC_R) / _polynomial(a, _ERFC_S, leading_one=True),
    )
    high = xp.round(a * 16.0) / 16.0
    low = a - high
    return xp.exp(-high * high) * xp.exp(-(2.0 * high + low) * low) * ratio


def _erf(x):
    """The error function of real x (within a few ulps of math.erf)."""
    _refuse_complex(x, "erf")
    inside = xp.abs(x) <= 1.0
    near = _erf_near_zero(xp.where(inside, x, 0.0))
    return xp.where(inside, near, xp.sign(x) * (1.0 - _erfc_tail(xp.abs(x))))


def _erfc(x):
    """1 - erf(x) of real x, to full relative precision where it is tiny (large x)."""
    _refuse_complex(x, "erfc")
    inside = xp.abs(x) <= 1.0
    near = _erf_near_zero(xp.where(inside, x, 0.0))
    tail = _erfc_tail(xp.abs(x))
    return xp.where(inside, 1.0 - near, xp.where(x > 0, tail, 2.0 - tail))


#: Above this |x|, erfinv's Halley steps solve log erfc(y) = log(1 - |x|), which stays well
#: conditioned as |x| -> 1 (1 - |x| is exact there); below, erf(y) = |x|.
_ERFINV_TAIL = 0.8
_ERFINV_STEPS = 2


def _erfinv(x):
    """The inverse error function of real x in [-1, 1] (±inf at ±1, NaN outside).

    A start within 2e-3 (Winitzki's closed form, a = 0.147) and two Halley steps (cubic
    convergence) reach double precision: within a few ulps, also as |x| -> 1.
    """
    _refuse_complex(x, "erfinv")
    a = xp.abs(x)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_gap = xp.log1p(-a * a)
        b = 2.0 / (math.pi * 0.147) + log_gap / 2.0
        y = xp.sqrt(xp.sqrt(b * b - log_gap / 0.147) - b)
        target = xp.log(1.0 - a)
        for _ in range(_ERFINV_STEPS):
            inside = y <= 1.0  # y >= 0: erf and erfc of y from one evaluation of each piece
            near = _erf_near_zero(xp.where(inside, y, 0.0))
            far = _erfc_tail(y)
            slope = _TWO_OVER_SQRT_PI * xp.exp(-y * y)
            residual = xp.where(inside, near, 1.0 - far) - a  # Halley on erf(y) - a: f'' = -2y f'
            central = y - residual / (slope * (1.0 + y * residual))
            complement = xp.where(inside, 1.0 - near, far)  # Halley on log erfc(y) - log(1 - a)
            h = xp.log(complement) - target
            m = slope / complement  # -h', and h'' = m (2 y - m)
            tail = y + 2.0 * h / (2.0 * m - h * (2.0 * y - m))
            y = xp.where(a <= _ERFINV_TAIL, central, tail)
        y = xp.where(a == 1.0, math.inf, y)
    return xp.copysign(y, x)


erf = _elementwise(
    "erf",
    _erf,
    implementations={"cupy": _cupyx_special("erf")},
    partials=(lambda ans, x: _TWO_OVER_SQRT_PI * xp.exp(-x * x),),
    domains=(lambda rng, shape: rng.uniform(-3.0, 3.0, size=shape),),
    notation=Notation(r"\operatorname{erf}", math.erf, "erf", exact={0: 0}, parity="odd"),
    doc="Elementwise error function (exact GELU uses it); real inputs only.",
)

erfc = _elementwise(
    "erfc",
    _erfc,
    implementations={"cupy": _cupyx_special("erfc")},
    partials=(lambda ans, x: -_TWO_OVER_SQRT_PI * xp.exp(-x * x),),
    domains=(lambda rng, shape: rng.uniform(-3.0, 3.0, size=shape),),
    notation=Notation(r"\operatorname{erfc}", math.erfc, "erfc", exact={0: 1}),
    doc="Elementwise complementary error function 1 - erf(x), accurate where it is tiny; "
    "real inputs only.",
)

erfinv = _elementwise(
    "erfinv",
    _erfinv,
    implementations={"cupy": _cupyx_special("erfinv")},
    partials=(lambda ans, x: _HALF_SQRT_PI * xp.exp(ans * ans),),
    domains=(d.unit_interior,),
    notation=Notation(r"\operatorname{erf}^{-1}", None, "erfinv", exact={0: 0}, parity="odd"),
    doc="Elementwise inverse error function on [-1, 1] (±inf at ±1); real inputs only.",
)
