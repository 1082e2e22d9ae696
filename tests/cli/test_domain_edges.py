"""Domain edges and leading minus signs on the command line.

The policy (README, "Domain edges"): a value or a derivative that is not finite at the
point stops the command with one line naming the operation and the variable, exit 2; a
finite answer, however large, is printed. NumPy's floating-point warnings never reach
the user.
"""

from __future__ import annotations

import json
import warnings

import pytest
from click.testing import CliRunner

import chainrule as cr
from chainrule.cli import main
from chainrule.explainer import DomainError


def run(*args: str):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = CliRunner().invoke(main, list(args))
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], caught
    assert "RuntimeWarning" not in result.output and "Traceback" not in result.output
    return result


@pytest.mark.parametrize(
    ("expression", "at", "message"),
    [
        (
            "sqrt(x)",
            "x=0",
            "sqrt has no finite derivative at x = 0 (in v1 = sqrt(x), ∂v1/∂x = inf), "
            "so dy/dx = inf; pick a point inside its domain",
        ),
        ("log(x)", "x=0", "log is not defined (or overflows) at x = 0 in log(x): it gave -inf"),
        ("1/x", "x=0", "divide is not defined (or overflows) at x = 0 in 1/x: it gave inf"),
        ("x/0", "x=1", "divide is not defined (or overflows) at x = 1 in x/0: it gave inf"),
        ("exp(x)", "x=1000", "exp is not defined (or overflows) at x = 1000 in exp(x): it gave"),
        (
            "1/x",
            "x=1e-200",
            "divide has no finite derivative at x = 1e-200 (in v1 = 1/x, ∂v1/∂x = -inf), "
            "so dy/dx = -inf",
        ),
        (
            "sqrt(x - 1)",
            "x=1",
            "sqrt has no finite derivative at v1 = x - 1 = 0 (in v2 = sqrt(v1), ∂v2/∂v1 = inf)",
        ),
        (
            "1e300*sqrt(x)",
            "x=1e-300",
            "the derivative overflows at x = 1e-300 (x̄ = inf, although every local partial "
            "is finite), so dy/dx = inf",
        ),
    ],
)
@pytest.mark.parametrize("command", ["grad", "explain", "steps"])
def test_a_point_at_a_domain_edge_is_one_line_and_exit_2(command, expression, at, message):
    result = run(command, expression, "--at", at)
    assert result.exit_code == 2
    assert result.output.splitlines()[0].startswith("Error: " + message)
    assert len(result.output.strip().splitlines()) == 1


def test_a_constant_is_never_named_as_if_it_were_a_variable():
    result = run("grad", "x/0", "--at", "x=1")
    assert "0 = 0" not in result.output and "at x = 1 in x/0" in result.output
    result = run("grad", "1/x", "--at", "x=0")
    assert "1 = 1" not in result.output


def test_a_large_but_finite_derivative_is_an_answer():
    """x**0.5 at x = 1e-300: the derivative 5e149 is a float64; nothing to refuse."""
    result = run("grad", "x**0.5", "--at", "x=1e-300")
    assert result.exit_code == 0 and result.output == "reverse: d/dx = 5e+149\n"


def test_the_python_entry_points_follow_the_same_policy():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DomainError, match=r"sqrt has no finite derivative at x = 0"):
            cr.explain("sqrt(x)", x=0.0)
        with pytest.raises(DomainError, match=r"sqrt has no finite derivative"):
            cr.explainer.gradient_by("sqrt(x)", {"x": 0.0})
        assert cr.explain("x**0.5", x=1e-300).gradient["x"] == pytest.approx(5e149)


@pytest.mark.parametrize(
    "args",
    [
        ["grad", "-x^2", "--at", "x=3"],
        ["grad", "--", "-x^2", "--at", "x=3"],
        ["grad", "--at", "x=3", "-x^2"],
        ["grad", "-x^2", "x=3"],
        ["grad", "--method", "reverse", "--", "-x^2", "x=3"],
    ],
)
def test_an_expression_may_start_with_a_minus(args):
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert result.output == "reverse: d/dx = -6.0\n"


def test_a_leading_minus_works_in_every_expression_command():
    explained = run("explain", "-x*z", "--at", "x=2", "z=3", "--format", "json")
    assert explained.exit_code == 0, explained.output
    assert json.loads(explained.output)["gradient"] == {"x": -3.0, "z": -2.0}
    swept = run("steps", "-2*x^2", "--at", "x=1", "--format", "json")
    assert swept.exit_code == 0 and "errors" in json.loads(swept.output)


def test_options_still_work_beside_a_leading_minus():
    assert run("grad", "-h").output.startswith("Usage:")
    result = run("grad", "-x^2", "--at", "x=3", "--format", "json")
    assert json.loads(result.output)["reverse"]["gradient"] == {"x": -6.0}
    result = run("grad", "-x^2", "--at", "x=3", "--method", "bogus")
    assert result.exit_code == 2 and "Invalid value for '--method'" in result.output
