"""Engine internals: NumPy-scalar values, creation order, the write clock, accumulation, fit.

These pin down the representation the fast paths rely on (0-d values held as NumPy
scalars, creation numbers as a topological order, one process-wide write clock) and
check that none of it changes a number: gradients, dtypes and compiled results.
"""

import copy
import operator
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import chainrule as cr
from chainrule import PRIMITIVES, nn, optim
from chainrule.core import engine
from chainrule.examples import GRADIENT, seed_function
from chainrule.tensor import Tensor

MODIFIED = "modified by an in-place operation"
SETTINGS = settings(max_examples=60, deadline=None)


def bump(t):
    """An in-place write outside grad mode: ticks the write clock."""
    with cr.no_grad():
        t += 1.0


# --- 0-d values as NumPy scalars ---------------------------------------------


def test_0d_results_are_numpy_scalars():
    """A 0-d result of an operation is kept as the NumPy scalar the forward returned."""
    x = cr.tensor(2.0, requires_grad=True)
    y = x * 3.0 + 1.0
    s = cr.tensor([1.0, 2.0, 3.0], requires_grad=True).sum()
    assert type(y._data) is np.float64 and y.item() == 7.0
    assert type(s._data) is np.float64 and s.item() == 6.0
    assert type((x * np.ones(2))._data) is np.ndarray


def test_python_float_becomes_default_dtype_scalar():
    """Tensor(2.0) and cr.tensor(2.0) hold a NumPy scalar of the default dtype."""
    assert type(Tensor(2.0)._data) is np.float64
    assert type(cr.tensor(2.0)._data) is np.float64
    assert type(cr.tensor(2.0, dtype=np.float32)._data) is np.float32


def test_python_float_scalar_under_float32_default(float32_default):
    """With a float32 default, a Python float becomes an np.float32 scalar."""
    assert type(Tensor(2.0)._data) is np.float32
    assert type(cr.tensor(2.0)._data) is np.float32


def test_data_converts_scalar_to_0d_array_once():
    """.data gives a 0-d ndarray, stores it, and writes through it are seen by item()."""
    t = cr.tensor(2.0) * 3.0
    assert type(t._data) is np.float64
    d = t.data
    assert type(d) is np.ndarray and d.shape == () and d.dtype == np.float64
    assert t.data is d and t.numpy() is d and t._data is d
    d[...] = 5.0
    assert t.item() == 5.0


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
    assert t._data is a and t.data is a
    a[...] = 3.0
    assert t.item() == 3.0


def test_float32_scalar_graph_stays_float32():
    """Values and gradients of a float32 scalar graph stay float32 end to end."""
    x = cr.tensor(np.float32(2.0), requires_grad=True)
    y = x * x + cr.exp(x)
    assert y.dtype == np.float32 and type(y._data) is np.float32
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
def test_inplace_on_scalar_tensor_converts_to_0d_array(update, expected):
    """In-place ops on a tensor holding a NumPy scalar work and leave a 0-d ndarray."""
    t = cr.tensor(2.0, requires_grad=True)
    assert type(t._data) is np.float64
    with cr.no_grad():
        update(t)
    assert type(t._data) is np.ndarray and t.shape == () and t.dtype == np.float64
    assert t.item() == expected
    assert t._version == engine.WRITE_CLOCK.now


# --- creation order ---------------------------------------------------------------


def test_inputs_are_older_than_their_consumers():
    """Every tensor gets a creation number; a result's is larger than its operands'."""
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor(3.0, requires_grad=True)
    c = a * b
    d = cr.exp(c).sum() + b
    assert a._seq < b._seq < c._seq < d._seq
    assert all(inp._seq < d._seq for inp in d._inputs)


def _fan_graph():
    """A small graph with fan-out and fan-in; returns (root, every node in it)."""
    x = cr.tensor([0.5, 1.5], requires_grad=True)
    w = cr.tensor(2.0, requires_grad=True)
    h = x * w
    u = cr.sin(h)
    v = h * h
    root = (u + v + w).sum()
    return root, {x, w, h, u, v, root}


def test_toposort_is_newest_first_and_complete():
    """toposort returns every reachable node, root first, by strictly decreasing _seq."""
    root, nodes = _fan_graph()
    order = engine.toposort([root])
    assert order[0] is root and set(order) >= nodes
    seqs = [node._seq for node in order]
    assert all(a > b for a, b in zip(seqs, seqs[1:], strict=False))


def test_backprop_visits_nodes_in_toposort_order():
    """The heap sweep reaches the nodes in the order toposort gives."""
    root, _ = _fan_graph()
    expected = engine.toposort([root])
    for node in expected:
        if not node.is_leaf:
            node.retain_grad()  # so that the sweep reports every node it reaches
    visited = []
    engine.backprop(root, np.float64(1.0), accumulate=lambda node, g, owned: visited.append(node))
    assert [node._seq for node in visited] == [node._seq for node in expected]


def test_deepcopy_and_pickle_give_fresh_creation_numbers():
    """Copies are new nodes: fresh, distinct _seq values, same values."""
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    copied = copy.deepcopy(t)
    loaded = pickle.loads(pickle.dumps(t))
    assert len({t._seq, copied._seq, loaded._seq}) == 3
    assert copied._seq > t._seq and loaded._seq > t._seq
    np.testing.assert_array_equal(copied.data, t.data)
    np.testing.assert_array_equal(loaded.data, t.data)


def test_deepcopied_graph_keeps_inputs_older():
    """A deep-copied graph node gets copies of its inputs, created before it."""
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    y2 = copy.deepcopy(y)
    (x2, _) = y2._inputs
    assert x2 is not x and x2._seq < y2._seq and y2._seq > y._seq
    y2.sum().backward()
    np.testing.assert_array_equal(x2.grad.data, [3.0, 3.0])
    assert x.grad is None


def test_module_and_its_deepcopy_backprop_together():
    """A loss mixing a module and its deepcopy gives both the analytic gradients."""
    cr.manual_seed(0)
    model = nn.Linear(3, 2)
    clone = copy.deepcopy(model)
    for p, q in zip(model.parameters(), clone.parameters(), strict=True):
        assert p._seq != q._seq
        np.testing.assert_array_equal(p.data, q.data)
    x = np.arange(12.0).reshape(4, 3) / 10
    loss = (model(x) + clone(x)).sum()
    loss.backward()
    for m in (model, clone):
        np.testing.assert_allclose(m.weight.grad.data, np.tile(x.sum(axis=0), (2, 1)))
        np.testing.assert_allclose(m.bias.grad.data, [4.0, 4.0])


class Tagged(Tensor):
    """A Tensor subclass without __slots__: its instances have a __dict__."""


@pytest.mark.parametrize("roundtrip", [copy.deepcopy, lambda t: pickle.loads(pickle.dumps(t))])
def test_subclass_attributes_survive_copies(roundtrip):
    """Copying a Tensor subclass keeps its instance attributes (it did before __setstate__)."""
    t = Tagged([1.0, 2.0])
    t.tag = "weights"
    copied = roundtrip(t)
    assert copied.tag == "weights"
    assert copied._seq != t._seq


# --- the write clock ----------------------------------------------------------------


def test_note_write_ticks_clock_and_sets_version():
    """note_write advances the process-wide clock by one and stamps the tensor with it."""
    t = cr.tensor([1.0])
    before = engine.WRITE_CLOCK.now
    engine.note_write(t)
    assert engine.WRITE_CLOCK.now == before + 1 and t._version == before + 1


def test_recorded_node_stamp_is_clock_reading():
    """A node records the clock reading at the time it was recorded."""
    x = cr.tensor(1.0, requires_grad=True)
    bump(cr.tensor(0.0))
    y = x * 2.0
    assert y._stamp == engine.WRITE_CLOCK.now
    assert not engine.modified(y)


def test_modified_only_for_writes_to_the_node_or_its_inputs():
    """modified() ignores unrelated writes, sees writes to an input and to the node."""
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([3.0, 4.0])
    y = w * x
    bump(cr.tensor([0.0]))
    assert not engine.modified(y)
    bump(x)
    assert engine.modified(y)
    z = w * 2.0
    bump(z)
    assert engine.modified(z)


def test_write_to_input_after_recording_raises():
    """Backward refuses a node whose operand was written after it was recorded."""
    w = cr.tensor(2.0, requires_grad=True)
    x = cr.tensor(3.0)
    y = w * x
    bump(x)
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_unrelated_write_between_forward_and_backward_is_fine():
    """A write to a tensor outside the graph does not trip the check; gradient is right."""
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([3.0, 4.0])
    y = (w * x).sum()
    other = cr.tensor([0.0, 0.0])
    bump(other)
    y.backward()
    np.testing.assert_array_equal(w.grad.data, [3.0, 4.0])


def test_write_before_recording_is_fine():
    """Writing an input before the node is recorded is not a modification."""
    w = cr.tensor(2.0, requires_grad=True)
    x = cr.tensor(3.0)
    bump(x)
    y = w * x
    bump(cr.tensor(0.0))  # the clock moves on, so the full check runs
    y.backward()
    assert w.grad.item() == 4.0


def test_data_assignment_counts_as_write():
    """t.data = value is an in-place write: it bumps _version and trips the check."""
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([3.0, 4.0])
    y = (w * x).sum()
    before = x._version
    x.data = np.array([5.0, 6.0])
    assert x._version > before and x._version == engine.WRITE_CLOCK.now
    assert engine.modified(y._inputs[0])
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_version_strictly_increases_with_every_write():
    """Every write, optimizer steps included, gives a strictly larger _version."""
    p = nn.Parameter(np.array([1.0, -1.0]))
    opt = optim.SGD([p], lr=0.1)
    versions = [p._version]
    with cr.no_grad():
        p += 1.0
        versions.append(p._version)
        p[0] = 0.0
        versions.append(p._version)
    for _ in range(2):
        opt.zero_grad()
        (p * p).sum().backward()
        opt.step()
        versions.append(p._version)
    assert all(a < b for a, b in zip(versions, versions[1:], strict=False))


def test_tensor_pickled_in_another_process_is_not_modified():
    """A tensor whose write-clock reading came from another (busier) process still works."""
    c = cr.tensor([1.0, 2.0])
    c._version = engine.WRITE_CLOCK.now + 10**6  # as pickled by a long-running process
    c = pickle.loads(pickle.dumps(c))
    assert c._version <= engine.WRITE_CLOCK.now
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    y = (w * c).sum()
    bump(cr.tensor([0.0]))  # an unrelated write, e.g. an optimizer step on another tensor
    y.backward()
    np.testing.assert_array_equal(w.grad.data, [1.0, 2.0])
    z = (w * c).sum()
    with cr.no_grad():
        c += 1.0
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.backward()


# --- gradient accumulation ----------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scalar_leaf_accumulates_over_two_backwards(dtype):
    """Two backward passes on separate graphs add up in .grad, keeping the leaf's dtype."""
    x = cr.tensor(dtype(2.0), requires_grad=True)
    (x * x).backward()
    assert x.grad.dtype == dtype and x.grad.item() == 4.0
    (3.0 * x).backward()
    assert x.grad.dtype == dtype and x.grad.item() == 7.0


def test_scalar_leaf_accumulates_into_0d_array_grad():
    """If .grad was turned into a 0-d array by .data, accumulation writes into that array."""
    x = cr.tensor(2.0, requires_grad=True)
    (x * x).backward()
    assert type(x.grad._data) is np.float64
    held = x.grad.data
    (3.0 * x).backward()
    assert x.grad.item() == 7.0 and held[()] == 7.0 and x.grad.data is held


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_array_leaf_accumulates_over_two_backwards(dtype):
    """Array leaves accumulate too, in their own dtype, even with float64 constants."""
    x = cr.tensor(np.array([1.0, 2.0], dtype=dtype), requires_grad=True)
    (x * np.array([3.0, 4.0])).sum().backward()
    (x * x).sum().backward()
    assert x.grad.dtype == dtype
    np.testing.assert_array_equal(x.grad.data, np.array([5.0, 8.0], dtype=dtype))


def test_fan_in_sums_every_use():
    """A leaf used many times gets the sum of all its contributions."""
    x = cr.tensor(1.5, requires_grad=True)
    v = cr.tensor([1.0, -2.0], requires_grad=True)
    total = x * 0.0
    for i in range(1, 51):
        total = total + x * float(i) + (v * x).sum()
    total.backward()
    assert x.grad.item() == pytest.approx(sum(range(1, 51)) + 50 * (1.0 - 2.0))
    np.testing.assert_allclose(v.grad.data, [75.0, 75.0])


def test_leaves_never_share_a_gradient_array():
    """Two leaves fed the same adjoint each get their own array."""
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    assert a.grad.data is not b.grad.data
    assert not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.data[0] = 100.0
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])


def test_gradient_seed_is_not_handed_to_a_leaf():
    """The caller's gradient array is copied, never stored as .grad."""
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    seed = np.array([1.0, 1.0])
    (a + b).backward(gradient=seed)
    for leaf in (a, b):
        assert not np.shares_memory(leaf.grad.data, seed)
    a.grad.data[...] = 9.0
    np.testing.assert_array_equal(seed, [1.0, 1.0])
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])


# --- fit --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gshape", "shape", "reduce"),
    [
        ((4, 3), (3,), lambda g: g.sum(axis=0)),
        ((4, 3), (1, 3), lambda g: g.sum(axis=0, keepdims=True)),
        ((4, 3), (4, 1), lambda g: g.sum(axis=1, keepdims=True)),
        ((4, 3), (), lambda g: g.sum()),
        ((2, 4, 3), (4, 1), lambda g: g.sum(axis=0).sum(axis=1, keepdims=True)),
    ],
    ids=["lead-axis", "stretched-row", "stretched-column", "to-0d", "both"],
)
def test_fit_unbroadcasts(gshape, shape, reduce):
    """A contribution of the broadcast shape is summed back to the operand's shape."""
    g = np.arange(float(np.prod(gshape))).reshape(gshape)
    out = engine.fit(g, np.zeros(shape))
    assert np.shape(out) == shape and out.dtype == np.float64
    np.testing.assert_array_equal(out, reduce(g))


def test_fit_casts_dtype_of_arrays_and_scalars():
    """float64 contributions become float32 for float32 operands, scalars included."""
    out = engine.fit(np.ones((2, 3)), np.zeros(3, dtype=np.float32))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [2.0, 2.0, 2.0])
    scalar = engine.fit(np.float64(1.25), np.float32(0.0))
    assert type(scalar) is np.float32 and scalar == 1.25


def test_fit_accepts_python_floats():
    """A Python float is brought to the 0-d operand's dtype."""
    out = engine.fit(2.5, np.float32(0.0))
    assert out.dtype == np.float32 and out.shape == () and out == 2.5
    out = engine.fit(2.5, np.array(0.0))
    assert out.dtype == np.float64 and out == 2.5


def test_fit_leaves_a_matching_contribution_alone():
    """Same shape and dtype: the very same object comes back (no copy)."""
    g = np.ones((2, 3))
    assert engine.fit(g, np.zeros((2, 3))) is g
    s = np.float32(3.0)
    assert engine.fit(s, np.float32(0.0)) is s


# --- operator-module forwards ----------------------------------------------------------

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


def test_inplace_update_with_an_operand_that_requires_grad_is_refused():
    """t += w would drop w's gradient silently: it raises, as t[...] = w does."""
    t = cr.tensor([1.0, 2.0])
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="out of place"):
        t += w
    with cr.no_grad():
        t += w
    np.testing.assert_array_equal(t.data, [4.0, 6.0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("value", [3.0, -2.0, 0.0, -0.0, np.nan, np.inf, -np.inf, 1e-40])
def test_relu_scalar_path_matches_np_maximum(dtype, value):
    """relu on a NumPy scalar skips the ufunc but keeps its type, signed zeros and NaN."""
    ours = PRIMITIVES["relu"].forward(dtype(value))
    reference = np.maximum(dtype(value), 0)
    assert type(ours) is type(reference)
    assert np.array_equal(ours, reference, equal_nan=True)
    assert np.signbit(ours) == np.signbit(reference)


def test_a_failed_backward_leaves_no_half_summed_adjoint():
    """After backward raises mid-sweep, the next backward through the same leaves is exact."""
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    c = cr.tensor([3.0, 4.0])
    broken = (w * c).sum() + (w * w).sum()
    with cr.no_grad():
        c += 1.0  # (w * c) now needs a value that changed
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        broken.backward()
    assert all(t._adjoint is None for t in (w, c, broken))
    w.grad = None
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [2.0, 4.0])


@pytest.mark.parametrize("make", [optim.SGD, optim.Adam])
def test_optimizers_update_scalar_and_view_parameters(make):
    """A 0-d parameter held as a NumPy scalar and one viewing a read-only array both update."""
    base = np.array([1.0, 2.0, 3.0])
    base.flags.writeable = False
    scalar, view = nn.Parameter(cr.tensor(2.0).data), nn.Parameter(base[1:])
    scalar._data = scalar._data[()]  # as an operation's 0-d result would be stored
    opt = make([scalar, view], lr=0.1)
    ((scalar * scalar) + (view * view).sum()).backward()
    versions = scalar._version, view._version
    opt.step()
    assert scalar.item() < 2.0 and np.all(view.data < [2.0, 3.0])
    np.testing.assert_array_equal(base, [1.0, 2.0, 3.0])  # the caller's array is untouched
    assert scalar._version > versions[0] and view._version > versions[1]


def test_functional_gradients_prune_only_when_other_leaves_are_reached():
    """_needed is None when the inputs are the only leaves, else it leaves out w-only nodes."""
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    only_x = (cr.sin(x) * x).sum()
    assert engine._needed(engine.toposort([only_x], {x}), {x}) is None
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    w_branch = cr.exp(w)
    y = (x * x).sum() + w_branch.sum()
    needed = engine._needed(engine.toposort([y], {x}), {x})
    assert x in needed and y in needed and w_branch not in needed and w not in needed
    (gx,) = engine.backprop(y, np.float64(1.0), [x])
    np.testing.assert_array_equal(gx, [2.0, 4.0])
    assert w.grad is None
