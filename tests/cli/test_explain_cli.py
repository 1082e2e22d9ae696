"""``chainrule explain``, ``grad``, ``steps`` and ``explain-net`` through the command line."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import chainrule as cr
from chainrule.cli import main
from chainrule.examples import GRADIENT, VALUE
from chainrule.explainer import graph


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_default_explain_through_the_installed_entry_point():
    """The README's main command: the seed at x=2, z=3, from the real console script."""
    script = Path(sys.executable).parent / "chainrule"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "chainrule"]
    out = subprocess.run(
        [*command, "explain", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout)
    assert data["value"] == pytest.approx(VALUE, rel=1e-12)
    assert data["gradient"]["x"] == pytest.approx(GRADIENT["x"], rel=1e-12)
    assert data["gradient"]["z"] == pytest.approx(GRADIENT["z"], rel=1e-12)


def test_seed_tables_hold_the_recitation_values():
    code, out = run("explain", "--format", "json", "--mode", "both")
    assert code == 0
    data = json.loads(out)
    values = {row["variable"]: row["value"] for row in data["trace"]}
    assert values["v1"] == 6.0
    assert values["v2"] == pytest.approx(math.exp(6), rel=1e-12)
    assert values["v4"] == pytest.approx(6 / math.log(2), rel=1e-12)
    adjoints = {row["variable"]: row["value"] for row in data["reverse"]}
    assert adjoints["v1"] == pytest.approx(
        math.exp(6) + 1 / math.log(2) - math.sin(math.log(2)) / 36, rel=1e-12
    )
    assert adjoints["x"] == pytest.approx(GRADIENT["x"], rel=1e-12)
    assert adjoints["z"] == pytest.approx(GRADIENT["z"], rel=1e-12)
    assert data["forward"]["z"][-1]["value"] == pytest.approx(GRADIENT["z"], rel=1e-12)
    formulas = [row["formula"] for row in data["trace"]]
    assert formulas.count("x*z") == 1  # x*z is computed once and reused


def test_text_output_shows_every_section_and_the_partials():
    code, out = run("explain", "exp(x*z) + x*z/ln(x) + sin(ln(x))/(x*z)", "--at", "x=2", "z=3")
    assert code == 0
    for heading in ("Evaluation trace", "Reverse pass", "Cross-check", "symbolic dy/dx"):
        assert heading in out
    assert "v2 + v4" in out and "∂v4/∂v3 [= -v4/v3]" in out
    assert "central differences" in out and "complex step" in out


def test_markdown_format():
    code, out = run("explain", "x*x", "x=3", "--format", "markdown", "--mode", "forward")
    assert code == 0
    assert "### Forward mode" in out and "### Reverse pass" not in out
    assert "| v1 | x*x | 9 |" in out


def test_dot_output_has_one_box_per_variable(tmp_path):
    target = tmp_path / "seed.dot"
    code, out = run("explain", "--graph", str(target))
    assert code == 0
    dot = target.read_text()
    boxes = re.findall(r'^\s*"(\w+)" \[label=<', dot, flags=re.MULTILINE)
    assert sorted(boxes) == sorted(["x", "z"] + [f"v{i}" for i in range(1, 9)])
    assert 'TD BORDER="1"' in dot


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_svg_drawing_is_rendered_by_graphviz(tmp_path):
    target = tmp_path / "seed.svg"
    code, _ = run("explain", "--graph", str(target))
    assert code == 0
    svg = target.read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert svg.count('class="node"') == 10


def test_without_dot_the_source_is_written_with_instructions(tmp_path, monkeypatch):
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    written, message = graph.write_graph("digraph { a -> b }", tmp_path / "g.png")
    assert written == tmp_path / "g.dot" and written.read_text() == "digraph { a -> b }"
    assert "apt-get install graphviz" in message and not (tmp_path / "g.png").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x^2 + "], "column 6"),
        (["x.__class__", "x=1"], "attribute access"),
        (["x*y", "x=2"], "no value for variable y"),
        (["x*y", "x=2", "y=abc"], "'abc' is not a number"),
        (["x*y", "--at", "x2"], "write NAME=VALUE"),
        (["x*x", "x=1", "w=2"], "does not use"),
        (["ln(y) + x", "x=1", "y=-1"], "log is not defined"),
        (["foo(x)", "x=1"], "unknown function 'foo'"),
        (["x*x", "x=1", "--graph", "out.txt"], "must end in"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_no_traceback(args, message):
    code, out = run("explain", *args)
    assert code == 2
    assert message in out
    assert "Traceback" not in out


def test_domain_error_names_variable_and_primitive():
    code, out = run("explain", "ln(y) + x", "x=1", "y=-1")
    assert code == 2 and "log" in out and "y = -1" in out


EXPRESSIONS = [
    ("x**3 - 2*x", {"x": 1.3}, lambda x: x**3 - 2 * x),
    ("sin(x)*cos(y)", {"x": 0.4, "y": 1.1}, lambda x, y: cr.sin(x) * cr.cos(y)),
    ("exp(-x^2/2)", {"x": 0.7}, lambda x: cr.exp(-(x**2) / 2)),
    ("sigmoid(w*x + b)", {"w": 0.5, "x": 2.0, "b": -0.3}, lambda w, x, b: cr.sigmoid(w * x + b)),
    ("tanh(a)*tanh(b)", {"a": 0.2, "b": -0.9}, lambda a, b: cr.tanh(a) * cr.tanh(b)),
    ("sqrt(x^2 + y^2)", {"x": 3.0, "y": 4.0}, lambda x, y: cr.sqrt(x**2 + y**2)),
    ("ln(1 + exp(x))", {"x": -1.5}, lambda x: cr.log(1 + cr.exp(x))),
    ("x/(1 + abs(x))", {"x": -0.6}, lambda x: x / (1 + cr.abs(x))),
    ("x^y", {"x": 1.7, "y": 0.4}, lambda x, y: x**y),
    (
        "relu(x - 1) + maximum(x, y)",
        {"x": 2.5, "y": 1.0},
        lambda x, y: cr.relu(x - 1) + cr.maximum(x, y),
    ),
    ("tan(x)/x", {"x": 0.9}, lambda x: cr.tan(x) / x),
    ("log1p(x*y) - expm1(y)", {"x": 0.3, "y": 0.2}, lambda x, y: cr.log1p(x * y) - cr.expm1(y)),
]


@pytest.mark.parametrize(("text", "point", "function"), EXPRESSIONS)
def test_grad_command_agrees_with_the_engine(text, point, function):
    code, out = run(
        "grad", text, *(f"{k}={v}" for k, v in point.items()), "--method", "all", "--format", "json"
    )
    assert code == 0, out
    results = json.loads(out)
    names = list(point)
    expected = cr.grad(function, argnums=tuple(range(len(names))))(*point.values())
    for method, result in results.items():
        tolerance = 1e-7 if method == "fd" else 1e-12
        for name, value in zip(names, expected, strict=True):
            assert result["gradient"][name] == pytest.approx(value, rel=tolerance, abs=1e-12), (
                method
            )
    assert set(results["symbolic"]["derivatives"]) == set(names)


def test_steps_sweep_finds_the_textbook_best_steps(tmp_path):
    plot = tmp_path / "steps.png"
    code, out = run("steps", "--format", "json", "--plot", str(plot))
    assert code == 0
    data = json.loads(out[: out.rindex("}") + 1])
    best = data["best"]
    assert 1e-10 < best["forward"]["h"] < 1e-6  # about sqrt(eps) = 1.5e-8
    assert 1e-7 < best["central"]["h"] < 1e-3  # about cbrt(eps) = 6e-6
    assert best["central"]["error"] < best["forward"]["error"]
    assert best["complex-step"]["error"] < 1e-14
    errors = data["errors"]
    assert errors["central"][-1] > 1e-6  # h = 1e-16: round-off dominates
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_steps_text_table_marks_the_best_step():
    code, out = run("steps", "x^3", "x=1.5")
    assert code == 0 and out.count("← best") == 3


def test_explain_net_prints_both_notations():
    code, out = run("explain-net", "--layers", "4,2,1")
    assert code == 0
    assert "t1 = w11·x1 + w21·x2 + w31·x3 + w41·x4 + b11" in out
    assert "o1 = A σ(Wᵀx + b1) + b21" in out and "W 4 × 2" in out


def test_explain_net_evaluates_and_checks_both_forms(tmp_path):
    weights = tmp_path / "w.json"
    weights.write_text(
        json.dumps({"W": [[1, -1], [0.5, 2]], "b1": [0, 0.1], "A": [[1, 1]], "b2": [0.2]})
    )
    target = tmp_path / "net.dot"
    code, out = run(
        "explain-net",
        "--weights",
        str(weights),
        "--input",
        "1,0",
        "--target",
        "1",
        "--graph",
        str(target),
        "--level",
        "layer",
    )
    assert code == 0, out
    h = 1 / (1 + np.exp(-np.array([1.0, -1.0 + 0.1])))
    assert f"o1 = {float(h.sum() + 0.2)!r}"[:14] in out
    assert "dL/dw11" in out and "the same outputs and the same gradients" in out
    assert "matmul" in target.read_text() or "@" in target.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layers", "2,2"], "three sizes"),
        (["--layers", "2,x,1"], "comma-separated numbers"),
        (["--seed", "0", "--input", "1,2,3"], "3 values but the network has 2 inputs"),
        (["--input", "1,0"], "give --weights FILE.json or --seed N"),
    ],
)
def test_explain_net_bad_input(args, message):
    code, out = run("explain-net", *args)
    assert code == 2 and message in out


def test_unwritable_drawing_path_exits_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    for args in (
        ["explain", "--graph", str(blocker / "g.svg")],
        ["steps", "--plot", str(blocker / "s.png")],
        ["explain-net", "--seed", "0", "--graph", str(blocker / "n.dot")],
    ):
        code, out = run(*args)
        assert code == 2 and "cannot write" in out and "Traceback" not in out


def test_grad_outside_the_domain_exits_2():
    code, out = run("grad", "ln(x)", "x=-1")
    assert code == 2 and "log" in out and "x = -1" in out


def test_a_function_added_to_the_registry_is_explained_on_the_command_line():
    """sinh has one registry entry: its trace, partials, symbolic row and cross-check."""
    code, out = run("explain", "sinh(x)*x", "--at", "x=1", "--format", "json")
    assert code == 0, out
    data = json.loads(out)
    assert data["gradient"]["x"] == pytest.approx(math.sinh(1) + math.cosh(1), rel=1e-15)
    code, text = run("explain", "sinh(x)*x", "--at", "x=1")
    assert code == 0
    assert "sinh(x)" in text and "[= cosh(x)]" in text and "x*cosh(x) + sinh(x)" in text
    code, text = run("explain", "sinhh(x)*x", "--at", "x=1")
    assert code == 2 and "unknown function 'sinhh'" in text and "(column 1)" in text


@pytest.mark.parametrize(
    "args",
    [
        ("steps", "sqrt(x)", "--at", "x=0"),
        ("explain-net", "--seed", "-1"),
    ],
)
def test_bad_points_and_flags_exit_2_with_one_line(args):
    code, output = run(*args)
    assert code == 2
    assert "Traceback" not in output
    assert output.strip().startswith("Error:") or output.strip().splitlines()[-1].startswith(
        "Error:"
    )


def test_weights_files_with_non_finite_or_absurdly_nested_content_are_refused(tmp_path):
    nan_weights = tmp_path / "nan.json"
    nan_weights.write_text(
        '{"W": [[NaN, 1.0], [1.0, 1.0]], "b1": [0.0, 0.0], "A": [[1.0, 1.0]], "b2": [0.0]}'
    )
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    for path, message in ((nan_weights, "non-finite"), (deep, "nested too deeply")):
        code, output = run("explain-net", "--weights", str(path))
        assert code == 2 and message in output and "Traceback" not in output
