"""An operation is one registry entry: sinh and cosh, each written once, work everywhere.

The issue's acceptance check for "one operation, one entry": the only place under
``src/chainrule`` that mentions sinh or cosh is their entry in ``ops/elementwise.py``,
and with no other edit they work in the public API, NumPy dispatch, Tensor methods,
reverse and forward mode, second order, chainrule.compile, the symbolic language
(parse, diff, print, LaTeX, compile_gradient, SymPy) and the explainer's command line.
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import chainrule as cr
import chainrule.symbolic as S
from chainrule.cli import main

SOURCE = Path(cr.__file__).parent
#: name -> (the function, its derivative, the derivative's name)
CASES = {"sinh": (np.sinh, np.cosh, "cosh"), "cosh": (np.cosh, np.sinh, "sinh")}
POINTS = np.array([-1.5, -0.25, 0.0, 0.7, 2.0])


def _code_mentions(path: Path, name: str) -> bool:
    """Whether the module's code (not its docstrings or comments) names ``name``: as an
    identifier, an attribute or inside a string literal."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    word = re.compile(rf"\b{name}\b")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == name:
            return True
        if isinstance(node, ast.Attribute) and node.attr == name:
            return True
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and word.search(node.value)
        ):
            return True
    return False


@pytest.mark.parametrize("name", CASES)
def test_the_entry_is_the_only_place_that_names_it(name):
    places = sorted(
        str(path.relative_to(SOURCE)) for path in SOURCE.rglob("*.py") if _code_mentions(path, name)
    )
    assert places == ["ops/elementwise.py"]


@pytest.mark.parametrize("name", CASES)
def test_public_function_method_and_numpy_dispatch(name):
    f, df, _ = CASES[name]
    for spelling in (
        lambda t: getattr(cr, name)(t),
        lambda t: getattr(t, name)(),
        lambda t: getattr(np, name)(t),
    ):
        x = cr.tensor(POINTS, requires_grad=True)
        y = spelling(x)
        assert y.grad_fn == name
        np.testing.assert_allclose(y.detach().numpy(), f(POINTS), rtol=1e-15)
        y.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), df(POINTS), rtol=1e-15)


@pytest.mark.parametrize("name", CASES)
def test_forward_mode_and_second_order(name):
    f, df, _ = CASES[name]
    op = getattr(cr, name)
    for x in POINTS:
        value, tangent = cr.jvp(op, (float(x),), (1.0,))
        assert value == pytest.approx(f(x), rel=1e-15)
        assert tangent == pytest.approx(df(x), rel=1e-15, abs=1e-300)
        # d²/dx² sinh = sinh and d²/dx² cosh = cosh.
        assert cr.grad(cr.grad(op))(float(x)) == pytest.approx(f(x), rel=1e-14, abs=1e-15)


@pytest.mark.parametrize("name", CASES)
def test_compiled_gradient_equals_eager(name):
    op = getattr(cr, name)

    def loss(x):
        return (op(x) * x).sum()

    compiled = cr.compile(cr.value_and_grad(loss))
    for shift in (0.0, 0.5, -1.25):
        value, gradient = compiled(POINTS + shift)
        expected_value, expected_gradient = cr.value_and_grad(loss)(POINTS + shift)
        assert value == expected_value
        np.testing.assert_array_equal(gradient, expected_gradient)
    assert f"{name}(" in compiled.source


@pytest.mark.parametrize("name", CASES)
def test_symbolic_language(name):
    f, df, dname = CASES[name]
    expr = S.parse(f"{name}(x)*x")
    assert str(expr) == f"x*{name}(x)"
    assert f"\\{name}" in expr.latex()
    derivative = S.diff(expr, "x")
    assert str(derivative) in (f"x*{dname}(x) + {name}(x)", f"{name}(x) + x*{dname}(x)")
    gradient = S.compile_gradient(expr, ["x"])
    for x in POINTS:
        _, (slope,) = gradient(float(x))
        assert slope == pytest.approx(df(x) * x + f(x), rel=1e-14, abs=1e-15)
    assert str(getattr(S, name)(S.parse("0"))) == ("0" if name == "sinh" else "1")
    sympy = pytest.importorskip("sympy")
    converted = S.to_sympy(expr)
    assert converted == sympy.Symbol("x") * getattr(sympy, name)(sympy.Symbol("x"))
    assert S.from_sympy(converted) == expr


@pytest.mark.parametrize("name", CASES)
def test_explain_command(name):
    result = CliRunner().invoke(main, ["explain", f"{name}(x)*x", "--at", "x=1"])
    assert result.exit_code == 0, result.output
    assert f"{name}(" in result.output
    # d/dx (x sinh x) = sinh x + x cosh x and d/dx (x cosh x) = cosh x + x sinh x: both e at 1.
    assert f"{math.e:.12f}"[:12] in result.output
