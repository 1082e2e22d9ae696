"""fit: a rule's contribution brought to its operand's shape (unbroadcast) and dtype."""

import numpy as np
import pytest

from chainrule.core import engine


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
