"""``--format json`` is strict JSON (RFC 8259) in every command that has it.

A number that is not finite is written as null and listed under ``non_finite`` by its
JSON Pointer, with what it was. The parser below refuses NaN and Infinity outright.
"""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from chainrule.cli import main
from chainrule.io import strict_json


def refuse(constant: str):
    raise AssertionError(f"{constant} is not JSON (RFC 8259)")


def strict(text: str):
    return json.loads(text, parse_constant=refuse)


def run_json(*args: str):
    result = CliRunner().invoke(main, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return strict(result.output)


def resolve(document, pointer: str):
    for token in pointer.lstrip("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        document = document[int(token)] if isinstance(document, list) else document[token]
    return document


def test_steps_where_differences_overflow_writes_null_and_says_why():
    """exp at 700: the large steps overflow; those errors were Infinity before."""
    data = run_json("steps", "exp(x)", "--at", "x=700")
    reasons = data["non_finite"]
    assert reasons and set(reasons.values()) == {"inf"}
    for pointer in reasons:
        assert pointer.startswith("/errors/") and resolve(data, pointer) is None
    assert all(math.isfinite(e) for e in data["errors"]["complex-step"])


def test_explain_at_a_tiny_point_writes_null_for_the_undefined_difference():
    """x**0.5 at 1e-300: central differences step below zero, giving NaN there."""
    data = run_json("explain", "x**0.5", "--at", "x=1e-300")
    assert data["gradient"]["x"] == pytest.approx(5e149)
    assert data["non_finite"] and set(data["non_finite"].values()) == {"nan"}
    for pointer in data["non_finite"]:
        assert resolve(data, pointer) is None


def test_grad_all_methods_strict():
    data = run_json("grad", "x**0.5", "--at", "x=1e-300", "--method", "all")
    assert data["fd"]["gradient"]["x"] is None
    assert data["non_finite"]["/fd/gradient/x"] == "nan"
    assert data["reverse"]["gradient"]["x"] == pytest.approx(5e149)


def test_finite_output_has_no_non_finite_field():
    data = run_json("explain")
    assert "non_finite" not in data
    assert data["gradient"]["x"] == pytest.approx(1208.3812151266096, rel=1e-13)


def test_train_and_evaluate_print_one_json_document(tmp_path):
    out = tmp_path / "run"
    trained = run_json("train", "--epochs", "20", "--out", str(out))
    assert trained["config"]["epochs"] == 20 and len(trained["epochs"]) == 20
    assert trained["saved"] == [
        str(out / name) for name in ("model.npz", "metrics.json", "metrics.csv", "curves.png")
    ]
    assert strict((out / "metrics.json").read_text())["test_accuracy"] == trained["test_accuracy"]
    evaluated = run_json("evaluate", str(out / "model.npz"))
    assert evaluated["samples"] == 4 and evaluated["classes"] == ["0", "1"]
    assert evaluated["accuracy"] == trained["test_accuracy"]
    assert evaluated["loss"] == pytest.approx(trained["test_loss"], rel=1e-6)
    assert sum(map(sum, evaluated["confusion_matrix"])) == 4


def test_train_json_without_out_says_nothing_was_saved(tmp_path):
    data = run_json("train", "--epochs", "3")
    assert data["saved"] is None and len(data["epochs"]) == 3


def test_strict_dumps_escapes_pointer_tokens():
    text = strict_json.dumps({"a/b": [0.0, float("-inf")], "c~": float("nan")}, indent=None)
    assert strict(text)["non_finite"] == {"/a~1b/1": "-inf", "/c~0": "nan"}
