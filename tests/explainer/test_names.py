"""The trace's own names never collide with the user's: variables, output and constants."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import explain
from chainrule.cli import main


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def summary(text: str) -> dict[str, float]:
    """The 'dy/dx = ...' lines of a text report, by their left-hand side."""
    return {
        m.group(1): float(m.group(2))
        for m in re.finditer(r"^(d\w+/d\w+) = (\S+)$", text, flags=re.MULTILINE)
    }


def test_a_user_variable_called_v3_keeps_its_value_and_its_gradient():
    code, out = cli("explain", "sin(x)*cos(x) + v3", "--at", "x=1", "v3=10")
    assert code == 0
    lines = summary(out)
    assert lines["dy/dx"] == pytest.approx(-0.4161468365471424, rel=1e-12)
    assert lines["dy/dv3"] == 1.0
    assert "w4        w3 + v3" in out  # the trace's own variables moved to w1, w2, ...
    report = explain("sin(x)*cos(x) + v3", x=1.0, v3=10.0)
    data = json.loads(report.to_json())
    assert data["gradient"] == pytest.approx({"x": -0.4161468365471424, "v3": 1.0})
    assert "dy/dv3 = 1.0" in report.to_text()


def test_an_input_called_y_gets_an_output_of_another_name():
    code, out = cli("explain", "x^2 + y^2", "--at", "x=1", "y=2")
    assert code == 0
    assert summary(out) == {"df/dx": 2.0, "df/dy": 4.0}
    assert "dy/dy" not in out and "1 (seed: df/df = 1)" in out
    assert explain("x^2 + y^2", x=1.0, y=2.0).to_dict()["output"] == "f"


def test_a_variable_named_v1_no_longer_crashes():
    code, out = cli("explain", "v1*x + sin(v1)", "--at", "v1=2", "x=3")
    assert code == 0, out
    lines = summary(out)
    assert lines["dy/dv1"] == pytest.approx(3 + 0.4161468365471424 * -1, rel=1e-12)
    assert lines["dy/dx"] == 2.0


def test_an_input_called_const1_keeps_its_box_beside_a_constant(tmp_path):
    target = tmp_path / "c.dot"
    code, _ = cli("explain", "const1*x + 2*x", "--at", "const1=5", "x=1", "--graph", str(target))
    assert code == 0
    dot = target.read_text()
    const1_box = re.search(r'^\s*"const1" \[label=<(.*)>\];$', dot, flags=re.MULTILINE)
    assert const1_box is not None and "input<BR/>= 5" in const1_box.group(1)
    assert re.search(r'^\s*"#constant1" \[label="2", shape=plaintext\];$', dot, re.MULTILINE)
    assert '"const1" -> "v1"' in dot and '"#constant1" -> "v2"' in dot


def test_the_naming_scheme_steps_around_every_taken_name():
    from chainrule.explainer.trace import output_name, variable_prefix

    assert variable_prefix({"x"}) == "v"
    assert variable_prefix({"v1", "w12", "u3"}) == "vv"
    assert variable_prefix({"v", "w", "vx"}) == "v"  # only v<digits> collides
    assert output_name({"y", "f", "out"}) == "yy"


# Names drawn from the trace's own schemes (v1, w1, ..., the output's y and f, constants).
NAMES = ["v1", "v2", "v3", "v10", "w1", "w2", "u1", "vv1", "y", "f", "out", "const1", "x"]
UNARY = ["sin", "cos", "tanh", "exp"]


def expressions(depth: int) -> st.SearchStrategy[str]:
    leaf = st.one_of(st.sampled_from(NAMES), st.sampled_from(["2", "3", "0.5"]))
    if depth == 0:
        return leaf
    smaller = expressions(depth - 1)
    binary = st.tuples(smaller, st.sampled_from(["+", "-", "*"]), smaller).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"
    )
    unary = st.tuples(st.sampled_from(UNARY), smaller).map(lambda t: f"{t[0]}({t[1]})")
    return st.one_of(leaf, binary, unary)


@settings(max_examples=60, deadline=None)
@given(expressions(3), st.data())
def test_random_expressions_over_the_traces_own_names_agree_with_chainrule_grad(text, data):
    used = [name for name in NAMES if re.search(rf"\b{name}\b", text)]
    assume(used)
    point = {name: data.draw(st.floats(-1.5, 1.5), label=name) for name in used}
    report = explain(text, **point)
    trace_names = {v.name for v in report.trace.variables}
    assert not trace_names & set(point) and report.output_name not in point
    at = [f"{name}={value!r}" for name, value in point.items()]
    code, out = cli("grad", text, "--at", *at, "--method", "symbolic", "--format", "json")
    assert code == 0, out
    expected = json.loads(out)["symbolic"]["gradient"]
    assert set(report.gradient) == set(expected)
    for name, value in expected.items():
        assert report.gradient[name] == pytest.approx(value, rel=1e-9, abs=1e-12)
    y = report.output_name
    printed = summary(report.to_text())
    for name, value in expected.items():
        assert printed[f"d{y}/d{name}"] == pytest.approx(value, rel=1e-9, abs=1e-12)


def test_a_domain_message_uses_the_outputs_own_name():
    with pytest.raises(cr.explainer.DomainError, match=r"so df/dy = inf"):
        explain("sqrt(y)", y=0.0)
