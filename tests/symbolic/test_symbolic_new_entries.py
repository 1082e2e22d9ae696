"""One registry entry is all a new function needs: sinh and cosh, and one registered in a test."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import chainrule.symbolic as S
from chainrule.core.primitive import PRIMITIVES, Notation, Primitive, register
from chainrule.ops import domains
from chainrule.symbolic import ParseError

CLOSED_FORM = {"sinh": (math.sinh, math.cosh), "cosh": (math.cosh, math.sinh)}


@pytest.mark.parametrize("name", ["sinh", "cosh"])
def test_sinh_and_cosh_work_everywhere_from_their_entries(name):
    f, df = CLOSED_FORM[name]
    other = "cosh" if name == "sinh" else "sinh"
    x = S.symbols("x")
    e = S.parse(f"{name}(x)")
    assert e is getattr(S, name)(x) is getattr(np, name)(x)
    assert str(e) == f"{name}(x)" and e.latex() == rf"\{name}\left(x\right)"
    assert S.diff(e, "x") is S.parse(f"{other}(x)")
    assert S.parse(f"{name}(0)") == (0 if name == "sinh" else 1)
    assert getattr(S, name)(-x) is (-e if name == "sinh" else e)
    g = S.compile_gradient(f"{name}(x)*x", "x")
    value, (grad,) = g(1.0)
    assert (value, grad) == pytest.approx((f(1.0), df(1.0) + f(1.0)), rel=1e-15)
    value, (grad,) = g(np.array([0.5, 2.0]))
    np.testing.assert_allclose(grad, [df(v) * v + f(v) for v in (0.5, 2.0)], rtol=1e-15)
    assert f"{name}(x)" in g.source
    assert S.to_sympy(e) == getattr(sp, name)(sp.Symbol("x"))
    assert S.from_sympy(getattr(sp, name)(sp.Symbol("x"))) is e


@pytest.fixture
def softsign():
    """x / (1 + |x|), registered for the duration of one test."""
    prim = register(
        Primitive(
            "softsign",
            lambda x: x / (1 + np.abs(x)),
            kind="custom",
            partials=(lambda ans, x: 1 / (1 + np.abs(x)) ** 2,),
            domains=(domains.nonzero,),
            notation=Notation(
                r"\operatorname{softsign}",
                lambda v: v / (1.0 + abs(v)),
                (lambda sp_, a: a / (1 + sp_.Abs(a)), None),
                exact={0: 0},
                parity="odd",
            ),
        )
    )
    try:
        yield prim
    finally:
        del PRIMITIVES["softsign"]


def test_an_operation_registered_after_import_joins_the_language(softsign):
    x = S.symbols("x")
    e = S.parse("softsign(x)*x")
    assert e is S.softsign(x) * x and str(e) == "x*softsign(x)"
    assert e.latex() == r"x \operatorname{softsign}\left(x\right)"
    assert S.softsign(0) == 0 and S.softsign(-x) is -S.softsign(x)
    d = S.diff(e, "x")
    assert str(d) == "x/(abs(x) + 1)**2 + softsign(x)"
    xs = sp.Symbol("x", real=True)
    theirs = sp.diff(xs * xs / (1 + sp.Abs(xs)), xs)
    for v in (-1.7, 0.3, 2.5):
        assert d.evaluate(x=v) == pytest.approx(float(theirs.subs(xs, v)), rel=1e-14)
        value, (grad,) = S.compile_gradient(e, "x")(v)
        assert (value, grad) == pytest.approx((v * v / (1 + abs(v)), d.evaluate(x=v)), rel=1e-15)
    assert S.to_sympy(e) == sp.Symbol("x") ** 2 / (1 + sp.Abs(sp.Symbol("x")))


def test_a_removed_operation_leaves_the_language(softsign):
    assert "softsign" in dir(S)
    del PRIMITIVES["softsign"]
    try:
        with pytest.raises(ParseError, match="unknown function 'softsign'") as caught:
            S.parse("x + softsign(x)")
        assert caught.value.column == 5
        with pytest.raises(AttributeError):
            _ = S.softsign
    finally:
        PRIMITIVES["softsign"] = softsign


def test_a_partial_that_cannot_run_on_expressions_raises_instead_of_guessing():
    prim = register(
        Primitive(
            "masked",
            lambda x: np.where(x > 0, x, 0.0),
            kind="custom",
            partials=(lambda ans, x: (np.asarray(x) > 0).astype(float),),
            notation=Notation(),
        )
    )
    try:
        with pytest.raises(ValueError, match="masked.*Notation.partials"):
            S.diff("masked(x)", "x")
    finally:
        del PRIMITIVES[prim.name]


SYMBOLIC = Path(S.__file__).parent
FORBIDDEN = ("chainrule.tensor", "chainrule.functions", "chainrule.api", "chainrule.core.engine")
ALLOWED = ("chainrule.symbolic", "chainrule.core", "chainrule.ops", "chainrule.errors")


def _imports(path: Path) -> list[str]:
    """The chainrule modules ``path`` imports, relative imports resolved."""
    package = "chainrule.symbolic"
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module) if p)
            found += [module] + [f"{module}.{alias.name}" for alias in node.names]
    return [m for m in found if m.startswith("chainrule")]


@pytest.mark.parametrize("path", sorted(SYMBOLIC.glob("*.py")), ids=lambda p: p.name)
def test_symbolic_imports_only_core_ops_and_errors(path):
    for module in _imports(path):
        assert not module.startswith(FORBIDDEN), f"{path.name} imports {module}"
        assert (
            module == "chainrule" or module.startswith(ALLOWED) or module in ("chainrule.ops",)
        ), f"{path.name} imports {module}"
