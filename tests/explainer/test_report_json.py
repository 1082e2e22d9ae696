"""The explainer report's JSON: strict RFC 8259 (no NaN or Infinity) and valid against the
published schema."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import chainrule as cr
from chainrule.cli import main

jsonschema = pytest.importorskip("jsonschema")


def strict_loads(text: str):
    def refuse(constant: str):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def json_schema() -> dict:
    from chainrule.explainer.report import json_schema as published

    return published()


def validate(text: str) -> dict:
    data = strict_loads(text)
    jsonschema.validate(data, json_schema(), cls=jsonschema.Draft202012Validator)
    return data


def test_the_schema_is_itself_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(json_schema())


@pytest.mark.parametrize(
    ("target", "point", "mode"),
    [
        ("exp(x*z) + x*z/ln(x) + sin(ln(x))/(x*z)", {"x": 2.0, "z": 3.0}, "both"),
        ("sin(x)*cos(x) + v3", {"x": 1.0, "v3": 10.0}, "reverse"),
        (lambda x, b: cr.tanh(x * b).sum(), {"x": np.array([0.5, -1.0]), "b": 2.0}, "forward"),
        (lambda w: (w @ w.T).mean(), {"w": np.arange(6.0).reshape(2, 3)}, "reverse"),
    ],
)
def test_reports_validate_against_the_schema(target, point, mode):
    data = validate(cr.explain(target, mode=mode, **point).to_json())
    assert "non_finite" not in data


def test_non_finite_numbers_become_null_with_the_reason():
    """x**0.5 at 1e-300: central differences step below zero and get NaN."""
    text = cr.explain("x**0.5", x=1e-300).to_json()
    assert ": NaN" not in text and "Infinity," not in text  # json.dumps's spellings
    data = validate(text)
    central = next(r for r in data["cross_check"] if r["method"] == "central differences")
    assert central["gradient"]["x"] is None
    assert data["non_finite"]["/cross_check/3/gradient/x"] == "nan"


def test_cli_explain_json_is_strict_and_valid():
    result = CliRunner().invoke(main, ["explain", "x**0.5", "--at", "x=1e-300", "--format", "json"])
    assert result.exit_code == 0
    data = validate(result.output)
    assert data["gradient"]["x"] == pytest.approx(0.5e150)


def test_an_infinite_value_validates_with_its_reason():
    """Hand-made: the schema accepts null for a value and the non_finite map beside it."""
    data = json.loads(cr.explain("x*x", x=2.0).to_json())
    data["value"] = None
    data["non_finite"] = {"/value": "inf"}
    jsonschema.validate(data, json_schema(), cls=jsonschema.Draft202012Validator)
    data["non_finite"] = {"/value": "Infinity"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, json_schema(), cls=jsonschema.Draft202012Validator)


def test_the_schema_ships_inside_the_package():
    from importlib import resources

    assert resources.files("chainrule.explainer").joinpath("report.schema.json").is_file()
