"""0-d values: what operations hand each other, and what users get back.

A 0-d value computed by an operation travels as a NumPy scalar, so scalar graphs run
on NumPy's scalar fast path. That is seen where it matters, in what the next
primitive's forward function receives (:func:`forward_sees`); users still get
ndarrays from ``.data``/``.numpy()``, writes through them stick, and no dtype or bit
changes on the way, eager or compiled.
"""

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import chainrule as cr
from chainrule import PRIMITIVES
from chainrule.core.primitive import Primitive
from chainrule.examples import GRADIENT, seed_function
from chainrule.tensor import Tensor

MODIFIED = "modified by an in-place operation"
SETTINGS = settings(max_examples=60, deadline=None)


def forward_sees(t):
    """The type of ``t``'s value as the forward function of an operation on ``t`` receives it."""
    seen = []
    probe = Primitive("probe", lambda x: seen.append(type(x)) or x, kind="custom")
    probe.bind(t)
    return seen[0]


# --- 0-d values as NumPy scalars ---------------------------------------------


def test_0d_results_reach_the_next_operation_as_numpy_scalars():
    """A 0-d result is handed on as the NumPy scalar its forward returned; others as arrays."""
    x = cr.tensor(2.0, requires_grad=True)
    y = x * 3.0 + 1.0
    s = cr.tensor([1.0, 2.0, 3.0], requires_grad=True).sum()
    assert forward_sees(y) is np.float64 and y.item() == 7.0
    assert forward_sees(s) is np.float64 and s.item() == 6.0
    assert forward_sees(x * np.ones(2)) is np.ndarray


def test_python_float_becomes_default_dtype_scalar():
    """Tensor(2.0) and cr.tensor(2.0) hold a NumPy scalar of the default dtype."""
    for t in (Tensor(2.0), cr.tensor(2.0)):
        assert t.dtype == np.float64 and forward_sees(t) is np.float64
    t = cr.tensor(2.0, dtype=np.float32)
    assert t.dtype == np.float32 and forward_sees(t) is np.float32
    # A NumPy scalar given to Tensor is held as it is (the optimizer tests rely on it).
    assert forward_sees(Tensor(np.float32(1.5))) is np.float32
    assert forward_sees(Tensor(np.float64(1.5))) is np.float64


def test_python_float_scalar_under_float32_default(float32_default):
    """With a float32 default, a Python float becomes an np.float32 scalar."""
    for t in (Tensor(2.0), cr.tensor(2.0)):
        assert t.dtype == np.float32 and forward_sees(t) is np.float32


def test_data_converts_scalar_to_0d_array_once():
    """.data gives a 0-d ndarray, keeps giving the same one, and writes through it stick."""
    t = cr.tensor(2.0) * 3.0
    d = t.data
    assert type(d) is np.ndarray and d.shape == () and d.dtype == np.float64
    assert t.data is d and t.numpy() is d
    d[...] = 5.0
    assert t.item() == 5.0
    assert (t * 2.0).item() == 10.0  # operations see the write too


def test_numpy_on_scalar_returns_shared_0d_array():
    """.numpy() also converts a float32 scalar into a shared 0-d array of the same dtype."""
    t = Tensor(np.float32(1.5))
    a = t.numpy()
    assert type(a) is np.ndarray and a.dtype == np.float32 and a.shape == ()
    a[...] = 4.0
    assert t.item() == 4.0 and t.dtype == np.float32


def test_tensor_from_0d_ndarray_shares_it():
    """Tensor(0-d ndarray) keeps that very array: no copy, no conversion to a scalar."""
    a = np.array(2.0)
    t = Tensor(a)
    assert t.data is a
    a[...] = 3.0
    assert t.item() == 3.0
    assert (t * 2.0).item() == 6.0


def test_float32_scalar_graph_stays_float32():
    """Values and gradients of a float32 scalar graph stay float32 end to end."""
    x = cr.tensor(np.float32(2.0), requires_grad=True)
    y = x * x + cr.exp(x)
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32
    assert x.grad.item() == pytest.approx(4.0 + np.exp(2.0), rel=1e-6)
    z = cr.tensor(np.float32(0.5), requires_grad=True)
    w = (2.0 * z - 1) / 3.0 + cr.sin(z) ** 2
    w.backward()
    assert w.dtype == np.float32 and z.grad.dtype == np.float32
    assert z.grad.item() == pytest.approx(2 / 3 + np.sin(1.0), rel=1e-6)


def _iadd(t):
    t += 1.0


def _zero(t):
    t.zero_()


def _copy(t):
    t.copy_(3.0)


def _setitem(t):
    t[...] = 4.0


@pytest.mark.parametrize(
    ("update", "expected"),
    [(_iadd, 3.0), (_zero, 0.0), (_copy, 3.0), (_setitem, 4.0)],
    ids=["iadd", "zero_", "copy_", "setitem"],
)
def test_inplace_on_scalar_tensor_works_and_counts_as_a_write(update, expected):
    """In-place ops on a tensor holding a NumPy scalar change it and refuse older graphs."""
    t = cr.tensor(2.0, requires_grad=True)
    recorded = t * t
    with cr.no_grad():
        update(t)
    assert type(t.data) is np.ndarray and t.shape == () and t.dtype == np.float64
    assert t.item() == expected and (t * 1.0).item() == expected
    with pytest.raises(RuntimeError, match=MODIFIED):
        recorded.backward()
    (t * t).backward()
    assert t.grad.item() == 2 * expected


# --- forwards of the scalar fast path ------------------------------------------------

BINARY = [
    ("add", np.add),
    ("subtract", np.subtract),
    ("multiply", np.multiply),
    ("divide", np.true_divide),
]


def _numpy_operand(dtype):
    width = np.dtype(dtype).itemsize * 8
    elements = st.floats(width=width, allow_nan=True, allow_infinity=True)
    return st.one_of(
        elements.map(dtype),  # NumPy scalar
        arrays(dtype, (), elements=elements),
        arrays(dtype, st.sampled_from([(3,), (2, 3)]), elements=elements),
    )


NUMPY_OPERAND = st.one_of(_numpy_operand(np.float32), _numpy_operand(np.float64))
PYTHON_OPERAND = st.one_of(st.floats(), st.integers(-(10**6), 10**6))
# Shapes (), (3,) and (2, 3) all broadcast together.
PAIRS = st.one_of(
    st.tuples(NUMPY_OPERAND, NUMPY_OPERAND),
    st.tuples(NUMPY_OPERAND, PYTHON_OPERAND),
    st.tuples(PYTHON_OPERAND, NUMPY_OPERAND),
)


def assert_same_result(got, expected):
    """Same type, dtype and bits (NaN anywhere matches NaN)."""
    assert type(got) is type(expected)
    assert got.dtype == expected.dtype and np.shape(got) == np.shape(expected)
    got, expected = np.asarray(got), np.asarray(expected)
    nan = np.isnan(expected)
    np.testing.assert_array_equal(np.isnan(got), nan)
    np.testing.assert_array_equal(got[~nan].tobytes(), expected[~nan].tobytes())


@pytest.mark.parametrize(("name", "ufunc"), BINARY, ids=[n for n, _ in BINARY])
@SETTINGS
@given(pair=PAIRS)
def test_binary_forward_matches_ufunc(name, ufunc, pair):
    """add/subtract/multiply/divide forwards give the ufunc's bits and dtype."""
    x, y = pair
    with np.errstate(all="ignore"):
        assert_same_result(PRIMITIVES[name].forward(x, y), ufunc(x, y))


@SETTINGS
@given(x=NUMPY_OPERAND)
def test_negative_forward_matches_ufunc(x):
    """The negative forward gives np.negative's bits and dtype (signed zeros included)."""
    assert_same_result(PRIMITIVES["negative"].forward(x), np.negative(x))


def test_arithmetic_forwards_are_operator_functions():
    """The arithmetic primitives' forwards are the operator module's functions."""
    assert PRIMITIVES["add"].forward is operator.add
    assert PRIMITIVES["subtract"].forward is operator.sub
    assert PRIMITIVES["multiply"].forward is operator.mul
    assert PRIMITIVES["divide"].forward is operator.truediv
    assert PRIMITIVES["negative"].forward is operator.neg


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("value", [3.0, -2.0, 0.0, -0.0, np.nan, np.inf, -np.inf, 1e-40])
def test_relu_scalar_path_matches_np_maximum(dtype, value):
    """relu on a NumPy scalar skips the ufunc but keeps its type, signed zeros and NaN."""
    ours = PRIMITIVES["relu"].forward(dtype(value))
    reference = np.maximum(dtype(value), 0)
    assert type(ours) is type(reference)
    assert np.array_equal(ours, reference, equal_nan=True)
    assert np.signbit(ours) == np.signbit(reference)


# --- compiled mode ----------------------------------------------------------------


def _seed_step(x, z):
    seed_function(x, z).backward()
    return x.grad, z.grad


def test_compiled_scalar_backward_equals_eager_bit_for_bit():
    """compile(seed_function(...).backward()) accumulates the same bits as eager mode."""
    compiled = cr.compile(_seed_step)
    eager = [cr.tensor(2.0, requires_grad=True), cr.tensor(3.0, requires_grad=True)]
    traced = [cr.tensor(2.0, requires_grad=True), cr.tensor(3.0, requires_grad=True)]
    for _ in range(3):  # gradients accumulate over the calls in both modes
        got = compiled(*traced)
        expected = _seed_step(*eager)
        assert [g.item() for g in got] == [g.item() for g in expected]
        assert [g.dtype for g in got] == [g.dtype for g in expected]
    assert eager[0].grad.item() == pytest.approx(3 * GRADIENT["x"], rel=1e-14)
    assert eager[1].grad.item() == pytest.approx(3 * GRADIENT["z"], rel=1e-14)
    for x, z in [(1.5, -0.7), (3.25, 2.0)]:  # new leaves, same signature: no retrace
        fresh_eager = [cr.tensor(x, requires_grad=True), cr.tensor(z, requires_grad=True)]
        fresh_traced = [cr.tensor(x, requires_grad=True), cr.tensor(z, requires_grad=True)]
        compiled(*fresh_traced)
        _seed_step(*fresh_eager)
        assert [t.grad.item() for t in fresh_traced] == [t.grad.item() for t in fresh_eager]
    assert len(compiled.programs) == 1


def test_compiled_returns_grad_of_the_arguments_it_was_called_with():
    """A compiled function returning x.grad returns the .grad of the x it was given."""
    compiled = cr.compile(_seed_step)
    compiled(cr.tensor(2.0, requires_grad=True), cr.tensor(3.0, requires_grad=True))
    x, z = cr.tensor(1.5, requires_grad=True), cr.tensor(-0.7, requires_grad=True)
    gx, gz = compiled(x, z)
    assert (gx.item(), gz.item()) == (x.grad.item(), z.grad.item())
