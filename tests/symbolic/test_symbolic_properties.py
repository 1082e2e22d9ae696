"""Properties of the canonical form, checked on random expression trees with hypothesis.

Each random tree comes as text plus a plain NumPy evaluator of that same tree, an
oracle that never goes through chainrule.symbolic's simplifications.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule.symbolic as S

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)

_UNARY = {
    "exp": np.exp,
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
    "abs": np.abs,
    "log": np.log,
    "sqrt": np.sqrt,
}
_BINARY = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
}

leaves = st.one_of(
    st.sampled_from(["x", "z"]).map(lambda n: (n, lambda p, n=n: p[n])),
    st.integers(-3, 3).map(lambda k: (f"({k})", lambda p, k=k: float(k))),
    st.sampled_from([0.5, 1.25, -2.5]).map(lambda c: (f"({c!r})", lambda p, c=c: c)),
)


def _extend(children):
    unary = st.tuples(st.sampled_from(sorted(_UNARY)), children).map(
        lambda t: (f"{t[0]}({t[1][0]})", lambda p, f=_UNARY[t[0]], a=t[1][1]: f(a(p)))
    )
    binary = st.tuples(st.sampled_from(sorted(_BINARY)), children, children).map(
        lambda t: (
            f"({t[1][0]} {t[0]} {t[2][0]})",
            lambda p, f=_BINARY[t[0]], a=t[1][1], b=t[2][1]: f(a(p), b(p)),
        )
    )
    powers = st.tuples(children, st.integers(-3, 3)).map(
        lambda t: (f"({t[0][0]})**({t[1]})", lambda p, a=t[0][1], k=t[1]: np.power(a(p), float(k)))
    )
    return st.one_of(unary, binary, powers)


trees = st.recursive(leaves, _extend, max_leaves=10)
points = st.fixed_dictionaries({"x": st.floats(-2, 2), "z": st.floats(-2, 2)})


def _close(got, want):
    with np.errstate(all="ignore"):
        if not np.isfinite(want) or abs(want) > 1e8:
            return True
        return abs(got - want) <= 1e-7 * (1 + abs(want))


@SETTINGS
@given(trees, points)
def test_canonical_form_keeps_the_value(tree, point):
    text, oracle = tree
    with np.errstate(all="ignore"):
        want = float(oracle(point))
        got = S.parse(text).evaluate(point)
    assert _close(got, want), (text, S.parse(text), got, want)


@SETTINGS
@given(trees)
def test_printing_then_parsing_gives_the_same_expression(tree):
    expr = S.parse(tree[0])
    assert S.parse(str(expr)) is expr


@SETTINGS
@given(trees, st.sampled_from(["x", "z"]))
def test_printing_then_parsing_is_a_fixed_point_for_derivatives(tree, name):
    expr = S.parse(tree[0])
    first = S.diff(expr, name)
    second = S.diff(first, name)
    for built in (first, second, S.simplify(first)):
        text = str(built)
        again = S.parse(text)
        assert again is built, (text, str(again))
        assert str(again) == text


def test_a_sign_in_front_of_a_product_belongs_to_the_product():
    derivative = S.diff(S.parse("(x + 1)/(x - 3)"), "x")
    assert str(derivative) == "-(x + 1)/(x - 3)**2 + 1/(x - 3)"
    assert S.parse(str(derivative)) is derivative
    assert str(S.parse("-(x + 1)")) == "-x - 1"


@SETTINGS
@given(trees, points)
def test_simplify_keeps_the_value_and_round_trips(tree, point):
    expr = S.parse(tree[0])
    simplified = S.simplify(expr)
    assert S.parse(str(simplified)) is simplified
    with np.errstate(all="ignore"):
        assert _close(simplified.evaluate(point), expr.evaluate(point))


@SETTINGS
@given(trees, points)
def test_derivative_matches_central_differences(tree, point):
    expr = S.parse(tree[0])
    derivative = S.diff(expr, "x")
    step = 1e-6
    with np.errstate(all="ignore"):
        up = expr.evaluate({**point, "x": point["x"] + step})
        down = expr.evaluate({**point, "x": point["x"] - step})
        here = expr.evaluate(point)
        got = derivative.evaluate(point)
        want = (up - down) / (2 * step)
    if not all(np.isfinite([up, down, here, got, want])) or abs(want) > 1e4:
        return
    # A kink (abs) within a step of the point makes the difference quotient meaningless:
    # there the derivative itself jumps across the stencil.
    with np.errstate(all="ignore"):
        nearby = [derivative.evaluate({**point, "x": point["x"] + h}) for h in (-step, step)]
    if any(not abs(d - got) <= 1e-3 * (1 + abs(got)) for d in nearby):
        return
    assert abs(got - want) <= 1e-4 * (1 + abs(want)), (tree[0], derivative)
