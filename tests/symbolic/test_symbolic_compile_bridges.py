"""Compiled functions and the SymPy bridge."""

import math

import numpy as np
import pytest
import sympy as sp

import chainrule.symbolic as S
from chainrule.examples import recitation as seed


def test_compile_gradient_of_the_seed():
    g = S.compile_gradient(seed.EXPRESSION, ["x", "z"])
    value, (dx, dz) = g(2.0, 3.0)
    assert value == pytest.approx(seed.VALUE, rel=1e-14)
    assert (dx, dz) == pytest.approx((seed.GRADIENT["x"], seed.GRADIENT["z"]), rel=1e-14)
    assert g(2, 3) == g(2.0, 3.0)
    assert all(type(v) is float for v in (value, dx, dz))
    assert g.source.startswith("def value_and_gradient(x, z):")
    assert g.source.count("log(x)") == 1, "log(x) is computed once"


def test_compiled_functions_vectorize():
    g = S.compile_gradient("x**2*z + 3", "x z")
    value, (dx, dz) = g(np.array([1.0, 2.0]), 3.0)
    np.testing.assert_allclose(value, [6.0, 15.0])
    np.testing.assert_allclose(dx, [6.0, 12.0])
    np.testing.assert_allclose(dz, [1.0, 4.0])
    f = S.compile("x + 1", ["x", "z"])
    np.testing.assert_allclose(f(np.zeros(2), np.ones((3, 1))), np.ones((3, 2)))


def test_compiled_functions_follow_numpy_outside_the_domain():
    f = S.compile("log(x) + 1/z + exp(x)", "x z")
    assert f(0.0, 1.0) == -math.inf
    assert f(1.0, 0.0) == math.inf
    assert f(1000.0, 1.0) == math.inf
    assert math.isnan(S.compile("x**0.5", "x")(-1.0))
    assert math.isnan(S.compile("sqrt(x)", "x")(-1.0))


def test_compile_checks_its_variables():
    with pytest.raises(ValueError, match="also depends on z"):
        S.compile("x*z", ["x"])
    f = S.compile(S.symbols("exp") * 2, ["exp"])
    assert f(2.0) == 4.0


def test_compile_agrees_with_evaluate_on_the_corpus():
    from symbolic_corpus import CORPUS, points

    at = points(seed=0, count=3)
    for text in CORPUS:
        expr = S.parse(text)
        g = S.compile_gradient(expr, "x z")
        for x, z in at:
            value, partials = g(float(x), float(z))
            assert value == pytest.approx(expr.evaluate(x=x, z=z), rel=1e-12, abs=1e-12)
            for got, d in zip(partials, S.gradient(expr, "x z"), strict=True):
                assert got == pytest.approx(d.evaluate(x=x, z=z), rel=1e-12, abs=1e-12)


def test_sympy_round_trip():
    x, z = sp.symbols("x z")
    e = S.parse("exp(x*z) + x*z/log(x) + sqrt(x)/3 - 2.5*abs(z) + relu(x)")
    back = S.from_sympy(S.to_sympy(e))
    assert back is e
    assert S.to_sympy("sigmoid(x)") == 1 / (1 + sp.exp(-x))
    assert S.from_sympy(sp.Max(x, z)) is S.maximum(*S.symbols("x z"))
    assert S.from_sympy(sp.Max(x, z, 1)).evaluate(x=0.5, z=-2.0) == 1.0
    assert S.from_sympy(sp.E * x) == S.exp(1) * S.symbols("x")
    with pytest.raises(ValueError, match="no chainrule counterpart"):
        S.from_sympy(sp.gamma(x))


def test_to_sympy_derivative_agrees():
    e = S.parse("tanh(x*z)/(1 + x**2) + sigmoid(z)")
    x, z = sp.symbols("x z")
    ours = S.to_sympy(S.diff(e, "x"))
    theirs = sp.diff(S.to_sympy(e), x)
    assert abs(float((ours - theirs).subs({x: 0.7, z: -1.1}))) < 1e-12


def test_from_sympy_reads_pi_as_the_parser_does():
    sympy = pytest.importorskip("sympy")
    assert S.from_sympy(sympy.pi * sympy.Symbol("x")) == S.parse("pi*x")
