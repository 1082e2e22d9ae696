"""The symbolic language generated from the registry, tested from the registry.

Every entry with a ``Notation`` gets these tests with no test code of its own: a
parse/print round trip, its derivative against SymPy's at points from its domains,
compiled gradients against the symbolic derivative, the SymPy round trip, and the
notation's claims (exact values, parity, inverse, idempotence, commutativity)
checked against the entry's own forward function.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

import chainrule.symbolic as S
from chainrule.core.primitive import PRIMITIVES
from chainrule.ops import domains
from chainrule.symbolic import language

FUNCTIONS = sorted(
    name
    for name, prim in language.functions().items()
    if name == prim.name and prim.notation.rewrite is None
)
NAMES = ["x", "y"]


def _entry(name):
    return PRIMITIVES[name]


def _samplers(prim):
    """The entry's domains, or points away from zero (the kinks of piecewise functions)."""
    count = language.arity(prim.name).highest
    return prim.domains or (domains.nonzero,) * count


def _points(prim, n=4):
    rng = np.random.default_rng(sum(map(ord, prim.name)))
    columns = [sample(rng, (n,)) for sample in _samplers(prim)]
    return [dict(zip(NAMES, row, strict=False)) for row in zip(*columns, strict=True)]


def _call(name):
    """name(x) or name(x, y) with every operand a symbol."""
    count = language.arity(name).highest
    return S.function(name, *S.symbols(" ".join(NAMES[:count])) if count > 1 else (S.symbols("x"),))


def _real(expr):
    """SymPy's form of ``expr`` with real symbols (so Abs and Max differentiate as reals)."""
    converted = S.to_sympy(expr)
    return converted.subs({sp.Symbol(n): sp.Symbol(n, real=True) for n in NAMES})


@pytest.fixture(params=FUNCTIONS)
def name(request):
    return request.param


def test_parse_and_print_round_trip(name):
    e = _call(name)
    assert S.parse(str(e)) is e
    assert str(e).startswith(f"{name}(")
    latex = e.latex()
    assert latex and "{0}" not in latex
    assert S.parse(f"{e}**2 - 1") is e**2 - 1


def test_diff_agrees_with_sympy(name):
    prim = _entry(name)
    e = _call(name)
    variables = sorted(s.name for s in e.free_symbols)
    theirs = _real(e)
    real = {n: sp.Symbol(n, real=True) for n in variables}
    for point in _points(prim):
        at = {real[n]: sp.Float(point[n], 30) for n in variables}
        for v in variables:
            ours = S.diff(e, v).evaluate({n: point[n] for n in variables})
            expected = float(sp.diff(theirs, real[v]).subs(at).evalf(20))
            assert ours == pytest.approx(expected, rel=1e-12, abs=1e-12), (name, v, point)


def test_compile_gradient_agrees_with_diff(name):
    prim = _entry(name)
    e = _call(name) * S.symbols("x") + 1
    variables = sorted(s.name for s in e.free_symbols)
    g = S.compile_gradient(e, variables)
    partials = S.gradient(e, variables)
    points = _points(prim)
    for point in points:
        args = [float(point[v]) for v in variables]
        value, grads = g(*args)
        at = {v: point[v] for v in variables}
        assert value == pytest.approx(e.evaluate(at), rel=1e-13)
        assert grads == pytest.approx([d.evaluate(at) for d in partials], rel=1e-13, abs=1e-15)
    arrays = [np.array([p[v] for p in points]) for v in variables]
    value, grads = g(*arrays)
    at = dict(zip(variables, arrays, strict=True))
    np.testing.assert_allclose(value, e.evaluate(at), rtol=1e-13)
    for got, d in zip(grads, partials, strict=True):
        np.testing.assert_allclose(got, d.evaluate(at), rtol=1e-13, atol=1e-15)


def test_sympy_round_trip(name):
    counterpart = _entry(name).notation.sympy
    e = _call(name)
    if isinstance(counterpart, tuple) and counterpart[1] is None:
        pytest.skip(f"SymPy writes {name} in other terms: it is not read back")
    assert S.from_sympy(S.to_sympy(e)) is e


def test_notation_claims_hold_for_the_forward(name):
    prim = _entry(name)
    notation = prim.notation
    f = prim.evaluate
    x = np.concatenate([s(np.random.default_rng(0), (6,)) for s in _samplers(prim)[:1]])
    if not callable(notation.exact):
        for argument, value in notation.exact.items():
            assert S.function(name, argument) == value
            assert float(f(np.float64(argument))) == pytest.approx(float(value), abs=1e-15)
    if notation.parity == "odd":
        np.testing.assert_allclose(f(-x), -f(x), rtol=1e-14)
        assert S.function(name, -S.symbols("x")) is -S.function(name, S.symbols("x"))
    if notation.parity == "even":
        np.testing.assert_allclose(f(-x), f(x), rtol=1e-14)
    if notation.inverse is not None:
        inverse = _entry(notation.inverse).evaluate
        inside = np.abs(x) + 0.5  # in the domain of both (log of a positive number)
        np.testing.assert_allclose(f(inverse(inside)), inside, rtol=1e-14)
    if notation.idempotent and language.arity(name).highest == 1:
        np.testing.assert_allclose(f(f(x)), f(x))
    if notation.commutative:
        y = x[::-1]
        np.testing.assert_allclose(f(x, y), f(y, x))
        a, b = S.symbols("x y")
        assert S.function(name, a, b) is S.function(name, b, a)


def test_exact_values_fold_to_the_forward_value(name):
    """A constant argument folds to the forward's value (exactly, where it is exact)."""
    prim = _entry(name)
    for point in _points(prim, n=2):
        args = [float(point[n]) for n in NAMES[: language.arity(name).highest]]
        folded = S.function(name, *args)
        assert folded.is_number
        assert float(folded) == pytest.approx(float(prim.evaluate(*map(np.float64, args))))


def test_numpy_ufuncs_build_the_function(name):
    prim = _entry(name)
    args = S.symbols(" ".join(NAMES[: language.arity(name).highest]))
    args = args if isinstance(args, tuple) else (args,)
    for ufunc in prim.numpy:
        if isinstance(ufunc, np.ufunc) and ufunc.nin == len(args):
            assert ufunc(*args) is S.function(name, *args)


def test_every_function_is_a_constructor_of_the_package(name):
    assert getattr(S, name)(*S.symbols("x y")[: language.arity(name).lowest]) is not None
    assert name in dir(S)


def test_aliases_and_rewrites():
    x = S.symbols("x")
    assert S.parse("ln(x)") is S.log(x) is S.ln(x)
    assert S.sqrt(x) is x ** S.const(Fraction(1, 2)) and str(S.sqrt(x)) == "sqrt(x)"
    assert np.sqrt(x) is S.parse("x**(1/2)")
    assert S.heaviside(x) is S.heaviside(x, 0)
    assert math.isclose(float(S.sigmoid(0)), 0.5) and S.sigmoid(0) == S.const(1) / 2
