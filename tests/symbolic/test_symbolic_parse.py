"""The parser: the accepted language, and errors that point at the right column, fast."""

import sys
import time

import pytest

import chainrule.symbolic as S
from chainrule.symbolic import ParseError, parse
from chainrule.symbolic.parse import MAX_LENGTH


def test_accepts_the_recitation_spelling():
    assert parse("exp(x*z) + x*z/ln(x) + sin(ln(x))/(x*z)") == parse(
        "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
    )
    assert parse("x^2 + 1") == parse("x**2 + 1")
    assert parse("2^3^2") == S.const(512)
    assert parse("-x^2") == -(parse("x") ** 2)


def test_builds_the_same_expressions_as_the_operators():
    x, z = S.symbols("x z")
    assert parse("x - z/2") == x - z / 2
    assert parse("+x * -z") == -x * z
    assert parse("sqrt(x) + heaviside(x) + heaviside(x, 1)") == (
        S.sqrt(x) + S.heaviside(x, 0) + S.heaviside(x, 1)
    )
    assert parse("maximum(x, 1) - minimum(z, x)") == S.maximum(x, 1) - S.minimum(z, x)
    assert parse("1.5e3*x") == 1500.0 * x


def test_variables_restrict_the_names():
    assert parse("x + z", variables=["x", "z"]) == parse("z + x")
    with pytest.raises(ParseError, match="unknown name 'y'") as info:
        parse("x + y", variables=["x", "z"])
    assert info.value.column == 5


def _error(text):
    start = time.perf_counter()
    with pytest.raises(ParseError) as info:
        parse(text)
    # A guard against hangs and blow-ups, loose enough for a busy machine; the typical
    # time (well under 100 ms per case) is measured by benchmarks/bench_symbolic.py.
    assert time.perf_counter() - start < 10.0, f"{text[:40]!r} took too long"
    error = info.value
    assert isinstance(error, ValueError)
    return error


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("x +", 4, "ends early"),
        ("sin(x", 4, "never closed"),
        ("x)", 2, "unmatched ')'"),
        ("x + * z", 5, "invalid syntax"),
        ("x.__class__", 2, "attribute access"),
        ("sin(x).real", 7, "attribute access"),
        ("__import__('os')", 1, "unknown function '__import__'"),
        ("__import__", 1, "names starting with '_'"),
        ("foo(x)", 1, "unknown function 'foo'"),
        ("x + sin", 5, "is a function"),
        ("sin(x, z)", 1, "takes 1 argument, got 2"),
        ("maximum(x)", 1, "takes 2 arguments"),
        ("sin(x=1)", 5, "keyword"),
        ("x[0]", 1, "subscripts"),
        ("x < z", 1, "comparisons"),
        ("lambda: 1", 1, "lambda"),
        ("'text'", 1, "not a number"),
        ("True + x", 1, "not a number"),
        ("2j * x", 1, "not a number"),
        ("x // z", 6, "operator //"),
        ("x % 2", 5, "operator %"),
        ("", 1, "empty"),
        ("x +\n z", 4, "one line"),
        ("(" * 10000 + "x" + ")" * 10000, 101, "nested deeper"),
        ("-" * 100000 + "x", 101, "signs in a row"),
        ("x" + "+x" * MAX_LENGTH, MAX_LENGTH, "longer than"),
        ("7" * 5000, 1, "4300 digits"),
    ],
)
def test_errors_point_at_the_column(text, column, message):
    error = _error(text)
    assert message in error.message
    assert error.column == column
    lines = str(error).splitlines()
    assert lines[-1].index("^") - 2 == column - 1


def test_caret_sits_under_the_problem():
    error = _error("exp(x) + y.__class__")
    assert str(error).splitlines()[1:] == ["  exp(x) + y.__class__", "            ^"]


def test_huge_powers_are_not_folded():
    start = time.perf_counter()
    e = parse("9**9**9")
    # A runaway guard, not a speed target: folding it would take minutes and gigabytes.
    assert time.perf_counter() - start < 30.0
    assert str(e) == "9**387420489"
    assert parse("2**10") == 1024
    assert parse(str(e)) is e
    with pytest.raises(ParseError, match="bits"):
        parse("(2**5000)*(2**5000)*(2**5000)")


def test_non_ascii_columns_count_characters():
    error = _error("α + β.real")
    assert error.column == 6


def test_pi_is_a_number_not_a_variable():
    import math

    e = parse("sin(pi*x)")
    assert e.free_symbols == parse("x").free_symbols
    assert float(e.evaluate(x=0.5)) == math.sin(math.pi * 0.5)
    assert parse(str(e)) is e


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x + 1 # a comment", "comments are not allowed"),
        ("x+\udcff", "lone surrogate"),
        ("\uff58 + x", "would be read as 'x'"),
        ("x\u00b2", "would be read as '2'"),
    ],
)
def test_comments_surrogates_and_folded_characters_are_refused(text, message):
    with pytest.raises(S.ParseError, match=message):
        S.parse(text)


def test_other_unicode_names_are_kept_apart():
    assert str(S.parse("\u03b1 + \u03b2*x")) in ("\u03b1 + x*\u03b2", "x*\u03b2 + \u03b1")


def test_long_products_are_built_as_one_product():
    """A product of n factors is built once (it was rebuilt at every '*': quadratic time;
    benchmarks, not tests, time it)."""
    product = S.parse("*".join(f"x{i}" for i in range(2000)))
    assert product.size().tree == 2001  # one multiply node over 2000 symbols


def _grouped(pieces, operator, size=500):
    """The same chain as short bracketed chains, which Python's parser takes directly."""
    return operator.join(
        "(" + operator.join(pieces[i : i + size]) + ")" for i in range(0, len(pieces), size)
    )


@pytest.mark.parametrize("operator", ["+", "*"])
def test_chains_of_thousands_of_terms_parse_like_short_ones(operator):
    """Python's parser recurses once per term of a chain; chainrule splits long chains."""
    pieces = [f"x{i}" for i in range(6000)]
    built = S.parse(operator.join(pieces))
    assert S.parse(_grouped(pieces, operator)) is built
    assert S.parse(str(built)) is built


@pytest.mark.parametrize(
    "text",
    [
        " - ".join(f"x{i}" for i in range(5000)),
        "(" + "+".join(f"x{i}" for i in range(4000)) + ")*y - 2e-5",
        "-y + " + " + ".join(f"3*x{i}**-1" for i in range(4000)),
        "x0" + "".join(f" {'/' if i % 2 else '*'} (x{i} - y)" for i in range(1, 4000)),
    ],
    ids=["difference", "bracketed-sum-times-y", "signed-terms", "quotients"],
)
def test_long_chains_with_signs_and_brackets_keep_their_meaning(text):
    built = S.parse(text)
    names = sorted(symbol.name for symbol in built.free_symbols if symbol.name != "y")
    point = {name: 1.0 + 0.001 * int(name[1:]) for name in names} | {"y": 2.0}
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(50_000)  # Python's own evaluation of the same text, as the oracle
    try:
        expected = eval(text, {}, dict(point))
    finally:
        sys.setrecursionlimit(limit)
    assert S.evaluate(built, point) == pytest.approx(expected, rel=1e-9)
    assert S.parse(str(built)) is built


def test_errors_after_a_long_chain_keep_their_column():
    text = "+".join(f"x{i}" for i in range(4000)) + " + y.z"
    with pytest.raises(S.ParseError, match="attribute access") as caught:
        S.parse(text)
    assert caught.value.column == text.index(".") + 1


def test_a_long_chain_inside_a_call_is_refused_clearly():
    with pytest.raises(S.ParseError, match="too deeply nested"):
        S.parse("sin(" + "+".join(f"x{i}" for i in range(4000)) + ")")


def test_products_and_quotients_read_left_to_right():
    assert S.parse("a*b/c*d/e") == S.parse("(a*b*d)/(c*e)")
    assert S.parse("x/y/z") == S.parse("x/(y*z)")
