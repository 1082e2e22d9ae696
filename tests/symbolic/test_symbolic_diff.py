"""Derivatives of a corpus of expressions against two independent oracles.

The oracles never see chainrule.symbolic: SymPy differentiates the same text itself,
and the tensor engine runs the text and differentiates it by reverse mode.
"""

import numpy as np
import pytest
import sympy as sp
from symbolic_corpus import CORPUS, SX, SZ, engine_function, points, sympy_expression

import chainrule as cr
import chainrule.symbolic as S
from chainrule.examples import recitation as seed

RTOL, ATOL = 1e-9, 1e-9


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 60
    assert len(set(CORPUS)) == len(CORPUS)


def _sympy_values(expression, at):
    """SymPy's values at the points; DiracDelta (from kinks, which the points avoid) is 0."""
    expression = expression.replace(sp.DiracDelta, lambda *args: sp.S.Zero)
    f = sp.lambdify((SX, SZ), expression, modules="numpy")
    return np.broadcast_to(np.asarray(f(at[:, 0], at[:, 1]), dtype=float), (len(at),))


@pytest.mark.parametrize("text", CORPUS)
def test_first_derivatives(text):
    expr = S.parse(text)
    at = points(seed=len(text))
    ours = [np.atleast_1d(d.evaluate(x=at[:, 0], z=at[:, 1])) for d in S.gradient(expr, "x z")]
    reference = sympy_expression(text)
    for d, variable in zip(ours, (SX, SZ), strict=True):
        want = _sympy_values(sp.diff(reference, variable), at)
        np.testing.assert_allclose(np.broadcast_to(d, want.shape), want, rtol=RTOL, atol=ATOL)
    engine = cr.grad(engine_function(text))
    for i, point in enumerate(at):
        want = np.asarray(engine(point))
        got = np.array([np.broadcast_to(d, (len(at),))[i] for d in ours])
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("text", CORPUS)
def test_second_derivatives(text):
    expr = S.parse(text)
    at = points(seed=len(text) + 1, count=2)
    ours = S.hessian(expr, "x z")
    reference = sympy_expression(text)
    engine = cr.hessian(engine_function(text))
    for i, a in enumerate((SX, SZ)):
        for j, b in enumerate((SX, SZ)):
            got = np.broadcast_to(ours[i][j].evaluate(x=at[:, 0], z=at[:, 1]), (len(at),))
            want = _sympy_values(sp.diff(reference, a, b), at)
            np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-8)
            for k, point in enumerate(at):
                np.testing.assert_allclose(got[k], engine(point)[i, j], rtol=1e-8, atol=1e-8)


def test_seed_gradient_matches_reference_values():
    y = S.parse(seed.EXPRESSION)
    assert y.evaluate(seed.POINT) == pytest.approx(seed.VALUE, rel=1e-14)
    dx, dz = S.gradient(y, ["x", "z"])
    assert dx.evaluate(seed.POINT) == pytest.approx(seed.GRADIENT["x"], rel=1e-14)
    assert dz.evaluate(seed.POINT) == pytest.approx(seed.GRADIENT["z"], rel=1e-14)


def test_seed_derivative_reads_like_the_hand_derivation():
    dx = S.diff(S.parse("exp(x*z) + x*z/ln(x) + sin(ln(x))/(x*z)"), "x")
    assert dx == S.parse(
        "z*exp(x*z) + z/log(x) - z/log(x)**2 + (cos(log(x)) - sin(log(x)))/(x**2*z)"
    )
    assert str(dx) == "(cos(log(x)) - sin(log(x)))/(x**2*z) + z*exp(x*z) - z/log(x)**2 + z/log(x)"


@pytest.mark.parametrize(
    ("text", "variables", "expected"),
    [
        ("x**3", ("x",), "3*x**2"),
        ("x**3", ("x", 2), "6*x"),
        ("x**3", ("x", 3), "6"),
        ("x**3", ("x", 0), "x**3"),
        ("x**2*z**2", ("x", "z"), "4*x*z"),
        ("sin(x)", (), "cos(x)"),
        ("exp(2*x)", ("x",), "2*exp(2*x)"),
        ("log(x)", ("x",), "1/x"),
        ("sqrt(x)", ("x",), "1/(2*sqrt(x))"),
        ("tanh(x)", ("x",), "1 - tanh(x)**2"),
        ("sigmoid(x)", ("x",), "sigmoid(x)*(1 - sigmoid(x))"),
        ("x**z", ("z",), "x**z*log(x)"),
        ("5", ("x",), "0"),
        ("z", ("x",), "0"),
    ],
)
def test_exact_derivatives(text, variables, expected):
    assert S.diff(text, *variables) == S.parse(expected)


def test_kinks_take_the_engines_values():
    """abs'(0) = relu'(0) = 0 and maximum splits a tie 1/2-1/2, as the tensor engine does."""
    x, z = S.symbols("x z")
    assert S.diff(S.relu(x), x) == S.heaviside(x, 0)
    assert S.diff(S.relu(x), x).evaluate(x=0.0) == 0.0
    assert S.diff(abs(x), x).evaluate(x=0.0) == 0.0
    tie = tuple(float(d.evaluate(x=1.0, z=1.0)) for d in S.gradient(S.maximum(x, z), "x z"))
    assert tie == cr.grad(cr.maximum, argnums=(0, 1))(1.0, 1.0) == (0.5, 0.5)
    assert S.diff(S.sign(x), x) == 0


def test_derivatives_reuse_the_registry_rules():
    """A registry JVP rule called on expressions returns the symbolic partial."""
    x, t = S.symbols("x t")
    assert cr.PRIMITIVES["sin"].jvp(0)(t, S.sin(x), x) == t * S.cos(x)
    assert cr.PRIMITIVES["tan"].jvp(0)(t, S.tan(x), x) == t * (1 + S.tan(x) ** 2)


def test_jacobian_and_hessian_shapes():
    x, z = S.symbols("x z")
    rows = S.jacobian([x * z, x + z, S.sin(x)], [x, z])
    assert rows == ((z, x), (1, 1), (S.cos(x), 0))
    h = S.hessian(x**2 * z, "x z")
    assert h == ((2 * z, 2 * x), (2 * x, 0))


def test_diff_needs_a_variable_when_ambiguous():
    with pytest.raises(ValueError, match="which variable"):
        S.diff("x*z")


def test_derivative_dag_stays_small():
    y = S.parse(seed.EXPRESSION)
    gradient_size = sum(d.size().dag for d in S.gradient(y, "x z"))
    assert gradient_size <= 4 * y.size().dag
