"""to_expression: chainrule functions read back as symbolic expressions."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.symbolic as S
from chainrule.errors import TraceError
from chainrule.examples import recitation as seed
from chainrule.explainer import to_expression


def test_to_expression_turns_an_engine_function_into_an_expression():
    y = to_expression(seed.seed_function, ["x", "z"])
    assert y is S.parse(seed.EXPRESSION)
    f = lambda x: cr.sqrt(x) * 2 - cr.relu(x) / x**3 + cr.maximum(x, 1.0)
    assert to_expression(f, "x") is S.parse("2*sqrt(x) - relu(x)/x**3 + maximum(x, 1.0)")
    assert to_expression(lambda x: cr.tensor(3.0), "x") == 3.0


def test_to_expression_rejects_non_scalar_operations():
    with pytest.raises(TraceError, match="'sum'"):
        to_expression(lambda x: cr.sum(x * 2.0), "x")
    with pytest.raises(ValueError, match="shape"):
        to_expression(lambda x: x * np.ones(2), "x")


def test_three_ways_agree_on_a_traced_function():
    f = lambda x, z: cr.tanh(x * z) * cr.sigmoid(x - z) + cr.log(x) ** 2
    expr = to_expression(f, "x z")
    symbolic = [d.evaluate(x=1.3, z=0.4) for d in S.gradient(expr, "x z")]
    reverse = cr.grad(f, argnums=(0, 1))(1.3, 0.4)
    central = cr.fd.gradient(f, 1.3, 0.4)
    np.testing.assert_allclose(symbolic, reverse, rtol=1e-12)
    np.testing.assert_allclose(symbolic, np.ravel(central), rtol=1e-7)


def test_to_expression_reads_every_function_of_the_language():
    from chainrule.core.primitive import PRIMITIVES

    f = lambda x: PRIMITIVES["sinh"].bind(x) * PRIMITIVES["cosh"].bind(x) + cr.sqrt(x)
    assert to_expression(f, "x") is S.parse("sinh(x)*cosh(x) + sqrt(x)")
