"""Copies and conversions of traced values inside a compiled function are recomputed per call.

``cr.tensor(y)``, ``cr.Tensor(y)`` and dtype conversions of a traced value make a new
array: the compiled program must compute it from each call's inputs, never replay the
trace's copy. A list of raw traced arrays has no operation to record and is refused.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import CompileError

CALLS = [np.array([1.0, 2.0, -0.5]), np.array([3.0, -1.0, 0.25]), np.array([-2.0, 0.5, 4.0])]


@pytest.mark.parametrize(
    "convert",
    [
        lambda y: cr.tensor(y),
        lambda y: cr.array(y),
        lambda y: cr.Tensor(y),
        lambda y: cr.tensor(y, dtype=np.float32).astype(np.float64),
        lambda y: cr.Tensor(y, dtype=np.float32).astype(np.float64),
        lambda y: cr.tensor(y.sum()) * cr.tensor([1.0, 1.0, 1.0]),
        lambda y: cr.tensor([y[0], y[1] * 2.0, 3.0]),
    ],
    ids=["tensor", "array", "Tensor", "tensor-dtype", "Tensor-dtype", "0-d", "list-of-tensors"],
)
@pytest.mark.parametrize("transform", [lambda f: f, cr.value_and_grad], ids=["plain", "grad"])
def test_a_copy_of_a_traced_value_follows_each_call(convert, transform):
    def f(x):
        y = x * 2.0
        return (convert(y) * x).sum()

    compiled = cr.compile(transform(f))
    for x in CALLS:
        result, expected = compiled(x), transform(f)(x)
        if isinstance(result, cr.Tensor):
            result, expected = result.item(), expected.item()
            assert result == pytest.approx(expected, rel=1e-6)
        else:
            assert result[0] == pytest.approx(expected[0], rel=1e-6)
            np.testing.assert_allclose(result[1], expected[1], rtol=1e-6)


def test_a_list_of_traced_arrays_is_refused():
    def f(x):
        a = cr.as_tensor(x) * 2.0
        return cr.tensor([a._data, a._data])  # raw arrays: no operation to record

    with pytest.raises(CompileError, match="list of traced values"):
        cr.compile(f)(CALLS[0])
