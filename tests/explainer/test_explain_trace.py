"""The explainer's trace and sweeps, checked against the engine and hand-worked values."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

import chainrule as cr
from chainrule.examples import GRADIENT, VALUE, seed_function
from chainrule.explainer import DomainError, explain, trace

# The recitation's intermediate values at x=2, z=3, worked by hand.
HAND = {
    "v1": 6.0,
    "v2": math.exp(6.0),
    "v3": math.log(2.0),
    "v4": 6.0 / math.log(2.0),
    "v6": math.sin(math.log(2.0)),
}


def test_seed_trace_reads_like_the_recitation_and_reuses_xz():
    t = trace(seed_function, {"x": 2.0, "z": 3.0})
    formulas = [f"{v.name} = {v.formula}" for v in t.variables]
    assert formulas == [
        "v1 = x*z",
        "v2 = exp(v1)",
        "v3 = log(x)",
        "v4 = v1/v3",
        "v5 = v2 + v4",
        "v6 = sin(v3)",
        "v7 = v6/v1",
        "v8 = v5 + v7",
    ]
    for name, value in HAND.items():
        assert t.by_name[name].value == pytest.approx(value, rel=1e-15)
    assert float(t.output.value) == pytest.approx(VALUE, rel=1e-15)


def test_seed_adjoints_match_hand_derivation_and_reference():
    t = trace(seed_function, {"x": 2.0, "z": 3.0})
    adjoint = {row.name: float(row.value) for row in t.reverse()}
    x, z = 2.0, 3.0
    v1, v3 = x * z, math.log(x)
    # v̄7 = 1, v̄6 = 1/v1, v̄3 = -v1/v3² + cos(v3)/v1, v̄1 = exp(v1) + 1/v3 - sin(v3)/v1²
    assert adjoint["v6"] == pytest.approx(1 / v1, rel=1e-14)
    assert adjoint["v3"] == pytest.approx(-v1 / v3**2 + math.cos(v3) / v1, rel=1e-14)
    assert adjoint["v1"] == pytest.approx(math.exp(v1) + 1 / v3 - math.sin(v3) / v1**2, rel=1e-14)
    assert adjoint["x"] == pytest.approx(GRADIENT["x"], rel=1e-12)
    assert adjoint["z"] == pytest.approx(GRADIENT["z"], rel=1e-12)


def test_reverse_terms_sum_to_the_adjoint():
    for row in trace(seed_function, {"x": 2.0, "z": 3.0}).reverse():
        if row.terms:
            assert sum(t.value for t in row.terms) == pytest.approx(float(row.value), rel=1e-14)
            for term in row.terms:
                assert term.value == pytest.approx(term.other_value * term.partial_value, rel=1e-14)


def test_forward_tables_give_each_partial():
    t = trace(seed_function, {"x": 2.0, "z": 3.0})
    for name in ("x", "z"):
        assert float(t.forward(name)[-1].value) == pytest.approx(GRADIENT[name], rel=1e-12)


EXPRESSIONS = [
    (lambda x: x * x * x, {"x": 1.7}),
    (lambda x, y: x / y - y / x, {"x": 0.7, "y": -1.3}),
    (lambda x: cr.tanh(cr.sigmoid(x) * 3.0), {"x": 0.4}),
    (lambda x, y: cr.sqrt(x * x + y * y), {"x": 3.0, "y": 4.0}),
    (lambda x: cr.exp(cr.sin(x)) * cr.cos(x), {"x": 1.1}),
    (lambda a, b: a**b, {"a": 1.5, "b": 2.5}),
    (lambda x: cr.log(1.0 + cr.exp(x)), {"x": -0.3}),
    (lambda x, y: cr.maximum(x, y) * cr.minimum(x, y), {"x": 0.2, "y": 0.9}),
    (lambda x: cr.abs(x) + cr.relu(-x), {"x": -0.8}),
    (lambda x, y, z: x * y * z + cr.tan(x - y), {"x": 0.3, "y": 0.1, "z": 2.0}),
    (lambda w, b: cr.sigmoid(w * 2.0 + b) - 1.0, {"w": 0.5, "b": -0.25}),
    (lambda x: -x / (1 + x**2), {"x": 0.6}),
]


@pytest.mark.parametrize("index", range(len(EXPRESSIONS)))
def test_explained_gradient_equals_engine_gradient(index):
    f, point = EXPRESSIONS[index]
    report = explain(f, **point)
    names = list(point)
    expected = cr.grad(f, argnums=tuple(range(len(names))))(*point.values())
    for name, value in zip(names, expected, strict=True):
        assert report.gradient[name] == pytest.approx(value, rel=1e-12, abs=1e-15)
    for row in report.cross_check:
        assert row.max_rel_error < (1e-6 if row.method == "central differences" else 1e-12)


def test_json_round_trips_with_full_precision():
    report = explain(seed_function, x=2, z=3, mode="both")
    data = json.loads(report.to_json())
    assert data["gradient"] == {"x": report.gradient["x"], "z": report.gradient["z"]}
    assert data["gradient"]["x"] == pytest.approx(GRADIENT["x"], rel=1e-12)
    assert [row["variable"] for row in data["trace"]][:3] == ["x", "z", "v1"]
    assert set(data["forward"]) == {"x", "z"}
    assert data["reverse"][0]["variable"] == "v8"


def test_markdown_has_every_table():
    text = explain(seed_function, x=2, z=3, mode="both").to_markdown()
    assert text.count("### ") == 5  # trace, reverse, two forward directions, cross-check
    assert "| v1 | x*z | 6 |" in text


def test_dot_has_one_box_per_variable():
    report = explain(seed_function, x=2, z=3)
    dot = report.to_dot()
    for var in report.trace.inputs + report.trace.variables:
        assert f'<TD BORDER="0" ALIGN="RIGHT">{var.name}</TD>' in dot
    assert "xlabel" not in dot
    assert dot.count("->") == sum(len(v.operands) for v in report.trace.variables)


def test_domain_error_names_the_primitive_and_the_variable():
    with pytest.raises(DomainError, match=r"log .* x = -1"):
        trace(lambda x: cr.log(x) * 2.0, {"x": -1.0})


def test_missing_and_unknown_variables_are_named():
    with pytest.raises(ValueError, match="no value for variable z"):
        explain(lambda x, z: x * z, x=1.0)
    with pytest.raises(ValueError, match="does not use"):
        explain(lambda x: x * x, x=1.0, w=2.0)


def test_five_thousand_primitives_explain():
    def long_sum(x):
        total = x
        for k in range(2500):
            total = total + cr.sin(x * float(k))
        return total

    report = explain(long_sum, x=0.1)
    assert len(report.trace) > 5000
    expected = 1 + sum(k * np.cos(0.1 * k) for k in range(2500))
    assert report.gradient["x"] == pytest.approx(expected, rel=1e-10)


def test_notebook_tables():
    report = explain(seed_function, x=2, z=3)
    html = report._repr_html_()
    assert "<table>" in html and "<td>v1</td>" in html
    assert report.graph.source == report.to_dot()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_notebook_graph_is_svg():
    report = explain(seed_function, x=2, z=3)
    assert "<svg" in report.graph._repr_svg_() and "<svg" in report._repr_html_()


def test_without_dot_the_notebook_says_how_to_get_the_graph(monkeypatch):
    from chainrule.explainer import graph

    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    report = explain(seed_function, x=2, z=3)
    assert report.graph._repr_svg_() is None and "install Graphviz" in report._repr_html_()


def test_different_array_constants_stay_different_variables():
    f = lambda x: (x * np.array([1.0, 2.0])).sum() + (x * np.array([3.0, 4.0])).sum()  # noqa: E731
    report = explain(f, x=1.0)
    assert report.gradient["x"] == pytest.approx(10.0)
    assert len(report.trace) == 5


def test_a_new_registry_function_is_explained_from_its_entry():
    """sinh has one registry entry and nothing else: trace, tables, symbolic row, cross-check."""
    report = explain("sinh(x)*x", x=1.0)
    assert [v.formula for v in report.trace.variables] == ["sinh(x)", "v1*x"]
    assert [v.label for v in report.trace.variables] == ["sinh", "*"]
    exact = math.sinh(1.0) + math.cosh(1.0)
    assert report.gradient["x"] == pytest.approx(exact, rel=1e-15)
    assert report.derivatives == {"x": "x*cosh(x) + sinh(x)"}
    assert {row.method for row in report.cross_check} >= {
        "reverse mode",
        "symbolic",
        "complex step",
    }
    assert all(row.max_rel_error < 1e-9 for row in report.cross_check)
    assert report.partial_formula("v1", "x") == "cosh(x)"
