"""Complex numbers: real and imaginary parts, the conjugate and the angle.

Layer: ops (imports numpy and chainrule.core only). None of these is holomorphic, so
their rules are written for JAX's convention, the one every rule in chainrule follows:

- a rule's VJP is the transpose of its JVP for the pairing ⟨a, b⟩ = Re(a·b), without
  a conjugate: a holomorphic g has JVP ``t·g′(z)`` and VJP ``c·g′(z)``, so the
  elementwise ``partials`` serve complex inputs unchanged;
- hence ``grad`` of a real-valued f of z = x + iy is ∂f/∂x − i·∂f/∂y (the conjugate of
  PyTorch's ``z.grad``), and a real input fed to complex operations receives the real
  part of its cotangent (the engine takes it, where a contribution meets its operand).

The real-valued results (real, imag, angle and complex abs, in ops.elementwise) take
the partial ∂ with JVP Re(t·∂) and VJP g·∂: ``real`` has ∂ = 1, ``imag`` ∂ = −i and
``angle`` ∂ = −i/z. Under the complex step (:func:`chainrule.core.mode.complex_step`)
a complex value stands for a real one, and ``real`` and ``conj`` act as the identity.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import backend
from ..core.backend import xp
from ..core.mode import in_complex_step
from ..core.primitive import Primitive, register
from . import domains as d


def _real(x):
    """The real part; under the complex step the identity (the analytic extension of x ↦ x)."""
    return x if in_complex_step() else xp.real(x)


def _imag(x):
    """The imaginary part; 0 for real x (which the standard's imag refuses)."""
    if backend.is_numpy(x):
        return np.imag(x)
    return xp.imag(x) if backend.kind(x) == "c" else xp.zeros_like(x)


def _conj(x):
    """The complex conjugate; under the complex step the identity (real x is its own)."""
    return x if in_complex_step() else xp.conj(x)


def _angle(x, *, deg=False):
    """The argument of x in (-π, π] (0 or π for real x), in degrees when ``deg``."""
    return np.angle(x, deg)


def _standard_angle(x, *, deg=False):
    """NumPy's angle with the standard's functions: atan2 of the parts (times 180/π)."""
    imag = xp.imag(x) if backend.kind(x) == "c" else xp.zeros_like(x)
    angle = xp.atan2(imag, xp.real(x))
    return angle * (180 / math.pi) if deg else angle


def _angle_slope(ans, x, *, deg):
    """d angle = Re(dz·(−i/z)): so the VJP is g·(−i/z) (JAX's), in degrees when ``deg``.
    Undefined at z = 0, where it is NaN or infinite, as in JAX."""
    slope = -1j / x
    return slope * (180 / np.pi) if deg else slope


def _prepare_angle(x, deg=False):
    """``angle(z, deg=False)``, NumPy's signature."""
    if not isinstance(deg, (bool, np.bool_)):
        raise TypeError(f"angle: deg must be True or False, got {deg!r}")
    return (x,), {"deg": bool(deg)}


real = register(
    Primitive(
        "real",
        _real,
        partials=(1,),
        kind="elementwise",
        names=("real",),
        numpy=(np.real,),
        signature="unary",
        domains=(d.nonzero,),
        doc="The real part of each element (the value itself for real input); also the "
        "Tensor attribute ``t.real``.",
    )
)

imag = register(
    Primitive(
        "imag",
        _imag,  # 0 for real x, so also right under the complex step
        partials=(lambda ans, x: -1j,),
        kind="elementwise",
        names=("imag",),
        numpy=(np.imag,),
        signature="unary",
        domains=(d.nonzero,),
        doc="The imaginary part of each element (0 for real input); also the Tensor "
        "attribute ``t.imag``. Its gradient is −i, as in JAX.",
    )
)

conj = register(
    Primitive(
        "conj",
        _conj,
        (lambda g, ans, x: xp.conj(g),),
        (lambda t, ans, x: xp.conj(t),),
        kind="elementwise",
        names=("conj", "conjugate"),
        methods=("conj", "conjugate"),
        numpy=(np.conjugate,),
        signature="unary",
        domains=(d.nonzero,),
        doc="The complex conjugate of each element (the value itself for real input). Not "
        "holomorphic: its VJP conjugates the cotangent, as JAX's transpose does.",
    )
)

angle = register(
    Primitive(
        "angle",
        _angle,
        partials=(_angle_slope,),
        kind="elementwise",
        names=("angle",),
        methods=("angle",),
        numpy=(np.angle,),
        portable=False,
        implementations={
            "cupy": backend.library_function("angle"),
            "array_api": _standard_angle,
        },
        signature=_prepare_angle,
        sample=lambda rng: [
            ((d.nonzero(rng, (3, 4)),), {"deg": False}),
            ((d.nonzero(rng, ()),), {"deg": True}),
        ],
        doc="The argument (phase) of each element in (-π, π], in degrees with deg=True; "
        "its gradient −i/z is undefined at 0 (NaN there, as in JAX).",
    )
)
