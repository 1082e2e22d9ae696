"""Acceptance tests for the dispatcher-based compiler (issue #10, part 4): data-dependent paths.

A compiled function must equal eager evaluation at a call whose data takes a different
path than at trace time. Non-differentiable operations (comparisons, ``~``, ``&``, ``|``,
``argmax``/``argmin``, ``sign``, ``floor``, clip's bounds) are primitives with no rules,
so they are traced like any other operation and recomputed at every call; nothing read
from a traced value is frozen as a constant.

Every case here is traced at one input and then called at inputs that take other
branches; results are compared with eager evaluation of the same function at the same
inputs (float64, 1e-12). Names that may not exist yet (``floor``, ``logical_not``,
``argmax`` as a function) are looked up when a case runs, so a missing one fails its own
tests only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
from chainrule import nn, optim
from chainrule.examples import GRADIENT, POINT, VALUE, seed_function

TOL = {"rtol": 1e-12, "atol": 1e-12}
APPROX = {"rel": 1e-12, "abs": 1e-12}


def assert_same(actual, expected, path="result"):
    """Equal structure (tuples), equal shapes and values within 1e-12."""
    if isinstance(expected, (tuple, list)):
        assert isinstance(actual, (tuple, list)), f"{path}: {type(actual)} is not a sequence"
        assert len(actual) == len(expected), f"{path}: length {len(actual)} != {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, f"{path}[{i}]")
        return
    a = actual.data if isinstance(actual, cr.Tensor) else actual
    e = expected.data if isinstance(expected, cr.Tensor) else expected
    assert np.shape(a) == np.shape(e), f"{path}: shape {np.shape(a)} != {np.shape(e)}"
    np.testing.assert_allclose(np.asarray(a), np.asarray(e), err_msg=path, **TOL)


def assert_compiled_equals_eager(transform, f, calls):
    """compile(transform(f)) at each call (the first one traces) equals transform(f)."""
    eager = transform(f)
    compiled = cr.compile(transform(f))
    for i, args in enumerate(calls):
        expected = eager(*args)
        actual = compiled(*args)
        assert_same(actual, expected, f"call {i} ({'trace' if i == 0 else 'replay'})")
    return compiled


# --- the two bugs of today's compiler named in the issue --------------------------------


def where_not_positive(x):
    return cr.where(~(x > 0), x * x, 2 * x)


def square_of_max(x):
    return 0.5 * x[x.argmax()] ** 2


def test_issue_where_of_not_traced_at_positive_called_at_negative():
    compiled = cr.compile(cr.value_and_grad(where_not_positive))
    value, gradient = compiled(1.0)
    assert (value, gradient) == pytest.approx((2.0, 2.0), **APPROX)
    value, gradient = compiled(-2.0)
    assert gradient == pytest.approx(-4.0, **APPROX)  # today's compiler: 2.0
    assert value == pytest.approx(4.0, **APPROX)
    assert_same(compiled(0.5), cr.value_and_grad(where_not_positive)(0.5))
    assert_same(compiled(-0.25), cr.value_and_grad(where_not_positive)(-0.25))


def test_issue_index_by_argmax_traced_at_one_maximum_called_at_another():
    compiled = cr.compile(cr.value_and_grad(square_of_max))
    value, gradient = compiled(np.array([3.0, 1.0, 2.0]))
    assert value == pytest.approx(4.5, **APPROX)
    np.testing.assert_allclose(gradient, [3.0, 0.0, 0.0], **TOL)
    value, gradient = compiled(np.array([1.0, 5.0, 2.0]))
    np.testing.assert_allclose(gradient, [0.0, 5.0, 0.0], **TOL)  # today's: [1, 0, 0]
    assert value == pytest.approx(12.5, **APPROX)
    x = np.array([0.0, -1.0, 4.0])
    assert_same(compiled(x), cr.value_and_grad(square_of_max)(x))


# --- one case per non-differentiable operation --------------------------------------------


@dataclass
class Case:
    """A function, the inputs it is traced and called at, and how to draw more inputs."""

    name: str
    f: Callable
    calls: list  # [trace args, args taking another path, ...]
    shapes: tuple = ((4,),)  # one shape per argument, for hypothesis
    argnums: int | tuple = 0
    kinds: tuple = field(default=("value_and_grad", "grad"))


A = np.array([1.0, 2.0, 0.5, 3.0])
B = np.array([-1.0, 1.0, 0.0, 2.0])
C = np.array([0.0, -3.0, 1.5, 1.0])
VECTORS = [(A,), (B,), (C,)]

M1 = np.array([[1.0, 2.0, 3.0, 4.0], [0.5, 0.25, 0.125, 0.0], [-1.0, -2.0, 3.0, 2.5]])
M2 = np.array([[4.0, 3.0, 2.0, 1.0], [0.0, 0.5, 2.0, -1.0], [3.0, -2.0, -1.0, 2.5]])
M3 = np.array([[-4.0, 0.0, 2.0, 1.5], [1.0, 0.5, -2.0, 7.0], [2.0, -2.0, 3.0, 0.0]])
MATRICES = [(M1,), (M2,), (M3,)]

ROWS = np.arange(3)
COLUMNS = np.arange(4)


def public(name):
    """chainrule.<name>, looked up when a case runs: a missing name fails that case only."""
    return getattr(cr, name)


def comparison(name, op):
    def f(x):
        return (
            cr.where(op(x, 1.0), x * x, 3.0 * x).sum()
            + (op(x, 0.0) * x).sum()
            + (op(x, x.mean()) * x * x).sum()
        )

    f.__name__ = f"compare_{name}"
    return f


def not_(x):
    return cr.where(~(x > 0.5), x**2, -x).sum()


def logical_not(x):
    return cr.where(public("logical_not")(x > 0.5), x**2, -x).sum()


def and_(x):
    return cr.where((x > -1.0) & (x < 1.0), x**3, x).sum()


def or_(x):
    return cr.where((x < -1.0) | (x > 1.0), x * x, -x).sum()


def where_of_two_arguments(x, y):
    return cr.where(x > y, x * y, x + y * y).sum()


def mask_times_value(x):
    return ((x > 0) * x).sum() + ((x <= 0) * x * x).sum()


def argmin_index(x):
    return x[x.argmin()] ** 3 + x.sum()


def argmax_axis1(x):
    return (x[ROWS, x.argmax(axis=1)] ** 2).sum()


def argmin_axis0(x):
    return (x[x.argmin(axis=0), COLUMNS] * x.sum(axis=0)).sum()


def argmax_function(x):
    return x[public("argmax")(x)] ** 2


def sign_times_square(x):
    return (cr.sign(x) * x * x).sum() + (cr.sign(x - 0.5) * x).sum()


def floor_times_value(x):
    return (public("floor")(x) * x).sum() + public("floor")(x * 0.5).sum() * x[0]


def clip_bounds_from_arguments(x, lo, hi):
    return (cr.clip(x, lo, hi) ** 2).sum()


def clip_bounds_from_x(x):
    return (cr.clip(x, x.mean() - 0.5, x.mean() + 0.5) * x).sum()


OPERATORS = {
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
}

CASES = [
    *(Case(f"compare-{name}", comparison(name, op), VECTORS) for name, op in OPERATORS.items()),
    Case("invert", not_, VECTORS),
    Case("logical_not", logical_not, VECTORS),
    Case("and", and_, VECTORS),
    Case("or", or_, VECTORS),
    Case(
        "where-two-arguments",
        where_of_two_arguments,
        [(A, B), (B, A), (C, A)],
        shapes=((4,), (4,)),
        argnums=(0, 1),
    ),
    Case("mask-times-value", mask_times_value, VECTORS),
    Case(
        "argmax-index",
        lambda x: square_of_max(x),
        [(np.array([3.0, 1.0, 2.0]),), (np.array([1.0, 5.0, 2.0]),), (np.array([0.0, 1.0, 4.0]),)],
        shapes=((3,),),
    ),
    Case("argmin-index", argmin_index, VECTORS),
    Case("argmax-axis1-index", argmax_axis1, MATRICES, shapes=((3, 4),)),
    Case("argmin-axis0-index", argmin_axis0, MATRICES, shapes=((3, 4),)),
    Case("argmax-function", argmax_function, VECTORS),
    Case("sign", sign_times_square, VECTORS),
    Case("floor", floor_times_value, [(A,), (B + 0.3,), (C * 1.7,)]),
    Case(
        "clip-bounds-arguments",
        clip_bounds_from_arguments,
        [
            (A, np.full(4, 0.75), np.full(4, 2.5)),
            (A, np.full(4, -2.0), np.full(4, 1.25)),
            (B, np.array([0.5, -2.0, 0.25, 1.0]), np.array([1.0, 0.0, 3.0, 1.5])),
        ],
        shapes=((4,), (4,), (4,)),
    ),
    Case("clip-bounds-from-x", clip_bounds_from_x, VECTORS),
]

TRANSFORMS = {
    "value_and_grad": lambda argnums: lambda f: cr.value_and_grad(f, argnums=argnums),
    "grad": lambda argnums: lambda f: cr.grad(f, argnums=argnums),
}

PARAMS = [
    pytest.param(case, kind, id=f"{case.name}-{kind}") for case in CASES for kind in case.kinds
]


@pytest.mark.parametrize(("case", "kind"), PARAMS)
def test_compiled_equals_eager_on_another_path(case, kind):
    assert_compiled_equals_eager(TRANSFORMS[kind](case.argnums), case.f, case.calls)


# A few values repeat exactly (ties, zeros, the constants compared with), the rest vary.
ELEMENTS = st.one_of(
    st.sampled_from([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0]),
    st.floats(-3.0, 3.0, allow_nan=False, allow_subnormal=False),
)


@st.composite
def three_calls(draw, shapes):
    return [
        tuple(draw(hnp.arrays(np.float64, shape, elements=ELEMENTS)) for shape in shapes)
        for _ in range(3)
    ]


@pytest.mark.parametrize(("case", "kind"), PARAMS)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_compiled_equals_eager_on_drawn_inputs(case, kind, data):
    calls = data.draw(three_calls(case.shapes), label="calls")
    assert_compiled_equals_eager(TRANSFORMS[kind](case.argnums), case.f, calls)


# --- training steps whose path depends on the data ------------------------------------------


def _flat(out):
    return out.reshape(-1)


#: Loss terms whose path depends on the data, each tried alone and all together.
STEP_TERMS = {
    "where": lambda out, y: cr.where(out > y, (out - y) ** 2, y - out).mean(),
    "mask": lambda out, y: ((out > 0) * out).sum() * 0.1,
    "argmax": lambda out, y: _flat(out)[_flat(out).argmax()] * 0.5,
    "argmin": lambda out, y: -_flat(out)[_flat(out).argmin()] * 0.25,
    "sign": lambda out, y: (cr.sign(out - y) * out).mean(),
    "clip": lambda out, y: (cr.clip(out, y - 0.5, y + 0.5) * out).mean(),
}


def linear_setup(terms, seed=0, lr=0.1):
    cr.manual_seed(seed)
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=lr)

    def step(x, y):
        opt.zero_grad()
        y = cr.as_tensor(y)  # so that y - 0.5 is an operation of chainrule, not raw NumPy
        out = model(x)
        loss = sum(STEP_TERMS[name](out, y) for name in terms)
        loss.backward()
        opt.step()
        return loss

    return model, step


def assert_same_model(model, reference):
    for (name, p), (_, q) in zip(
        model.named_parameters(), reference.named_parameters(), strict=True
    ):
        np.testing.assert_allclose(p.data, q.data, err_msg=name, **TOL)
        np.testing.assert_allclose(p.grad.data, q.grad.data, err_msg=f"{name}.grad", **TOL)


def run_steps(batches, terms=tuple(STEP_TERMS), seed=0):
    model, step = linear_setup(terms, seed)
    reference, eager_step = linear_setup(terms, seed)
    compiled = cr.compile(step)
    for i, (x, y) in enumerate(batches):
        loss = compiled(x, y)
        ref = eager_step(x, y)
        assert loss.item() == pytest.approx(ref.item(), **APPROX), f"loss of step {i}"
        assert_same_model(model, reference)


@pytest.mark.parametrize(
    "terms", [(name,) for name in STEP_TERMS] + [tuple(STEP_TERMS)], ids="+".join
)
def test_training_step_with_data_dependent_path_equals_eager(terms):
    rng = np.random.default_rng(3)
    x1 = np.abs(rng.standard_normal((5, 3)))
    y1 = -np.ones((5, 2))  # every output above its target while tracing
    x2 = -np.abs(rng.standard_normal((5, 3))) * 3.0
    y2 = np.ones((5, 2)) * 2.0  # every output below its target
    x3 = rng.standard_normal((5, 3)) * 2.0
    y3 = rng.standard_normal((5, 2))
    run_steps([(x1, y1), (x2, y2), (x3, y3), (x1, y1)], terms)


@settings(max_examples=15, deadline=None)
@given(
    batches=st.lists(
        st.tuples(
            hnp.arrays(np.float64, (4, 3), elements=st.floats(-3, 3, allow_subnormal=False)),
            hnp.arrays(np.float64, (4, 2), elements=st.floats(-3, 3, allow_subnormal=False)),
        ),
        min_size=3,
        max_size=3,
    ),
    seed=st.integers(0, 5),
)
def test_training_step_equals_eager_on_drawn_batches(batches, seed):
    run_steps(batches, seed=seed)


# --- bit for bit against eager's .grad -------------------------------------------------------


def backward_seed_function(x, z):
    y = seed_function(x, z)
    y.backward()
    return y


@pytest.mark.parametrize("point", [(POINT["x"], POINT["z"]), (1.5, -0.7), (3.25, 2.0)])
def test_compiled_backward_on_recitation_function_equals_eager_grad_bit_for_bit(point):
    compiled = cr.compile(backward_seed_function)
    # Trace at the recitation's point, then replay at `point` (and at the point again).
    for xv, zv in [(POINT["x"], POINT["z"]), point, point]:
        xc, zc = cr.tensor(xv, requires_grad=True), cr.tensor(zv, requires_grad=True)
        xe, ze = cr.tensor(xv, requires_grad=True), cr.tensor(zv, requires_grad=True)
        yc = compiled(xc, zc)
        ye = backward_seed_function(xe, ze)
        assert yc.item() == ye.item()
        assert xc.grad.item() == xe.grad.item()
        assert zc.grad.item() == ze.grad.item()
        if (xv, zv) == (POINT["x"], POINT["z"]):
            assert yc.item() == pytest.approx(VALUE, rel=1e-15)
            assert xc.grad.item() == pytest.approx(GRADIENT["x"], rel=1e-15)
            assert zc.grad.item() == pytest.approx(GRADIENT["z"], rel=1e-15)


def mlp_adam_setup():
    cr.manual_seed(5)
    model = nn.MLP([4, 16, 8, 3], activation="relu")
    opt = optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, step


def test_mlp_adam_step_equals_eager_bit_for_bit():
    rng = np.random.default_rng(11)
    model, step = mlp_adam_setup()
    reference, eager_step = mlp_adam_setup()
    compiled = cr.compile(step)
    for i in range(6):
        x = rng.standard_normal((8, 4)) * (1.0 + i)
        y = rng.integers(0, 3, 8)
        loss = compiled(x, y)
        ref = eager_step(x, y)
        assert loss.item() == ref.item(), f"step {i}"
        for (name, p), (_, q) in zip(
            model.named_parameters(), reference.named_parameters(), strict=True
        ):
            np.testing.assert_array_equal(p.data, q.data, err_msg=f"step {i}: {name}")
            np.testing.assert_array_equal(p.grad.data, q.grad.data, err_msg=f"step {i}: {name}")
    assert len(compiled.programs) == 1
