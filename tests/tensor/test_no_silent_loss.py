"""No gradient is lost silently: sequences of Tensors stay on the graph, and turning a
tensor that requires grad into an array is refused unless asked for (.detach())."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import DetachError, ShapeError


def test_grad_through_a_list_given_to_sum():
    assert cr.grad(lambda x: cr.sum([x, x + 2]))(0.0) == 2.0


def test_grad_through_cr_tensor_and_its_array_alias():
    assert cr.grad(lambda x: cr.sum(cr.tensor([x, 2 * x])))(1.0) == 3.0
    assert cr.grad(lambda x: cr.sum(cr.array((x, 2 * x, 5.0))))(1.0) == 3.0
    assert cr.array is cr.tensor


@pytest.mark.parametrize(
    ("f", "value", "slope"),
    [
        (lambda x: cr.mean([x, 3 * x]), 4.0, 2.0),
        (lambda x: cr.max([x, 2 * x, 0.5]), 4.0, 2.0),
        (lambda x: cr.min((x, 2 * x)), 2.0, 1.0),
        (lambda x: cr.sum([[x, 1.0], [2.0, x * x]]), 9.0, 5.0),  # nested, mixed
        (lambda x: cr.sum(cr.stack([x, 1.0]) * cr.concatenate([[x], [3.0]])), 7.0, 4.0),
        (lambda x: cr.sum(cr.exp([x, 0.0])), np.exp(2.0) + 1, np.exp(2.0)),
        (lambda x: cr.sum(cr.maximum([x, 1.0], 1.5)), 3.5, 1.0),
        (lambda x: cr.sum(cr.where([True, False], [x, 1.0], [0.0, x])), 4.0, 2.0),
        (lambda x: cr.sum(np.stack([x, x * x])), 6.0, 5.0),  # NumPy dispatch
        (lambda x: cr.logsumexp([x, x]), 2.0 + np.log(2.0), 1.0),
    ],
)
def test_sequences_holding_tensors_are_differentiable(f, value, slope):
    v, g = cr.value_and_grad(f)(2.0)
    assert v == pytest.approx(value, rel=1e-12)
    assert g == pytest.approx(slope, rel=1e-12)


def test_sequence_with_axis_keeps_each_gradient():
    x = cr.tensor(2.0, requires_grad=True)
    y = cr.sum([[x, 1.0], [3.0, x * x]], axis=0)
    np.testing.assert_allclose(y.detach().numpy(), [5.0, 5.0])
    y.backward(gradient=np.array([1.0, 10.0]))
    assert x.grad.item() == pytest.approx(1.0 + 10.0 * 4.0)


def test_sequences_take_the_tensors_float32():
    x = cr.tensor(1.5, requires_grad=True, dtype=np.float32)
    y = cr.tensor([x, 2.0, 3])
    assert y.dtype == np.float32 and y.requires_grad
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.item() == 1.0


def test_cr_tensor_of_a_tensor_on_the_graph_is_a_tracked_copy():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor(x)
    assert y.requires_grad and not np.shares_memory(y._data, x._data)
    (3 * y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    assert not cr.tensor(x.detach()).requires_grad


def test_ragged_sequence_is_a_shape_error():
    x = cr.tensor(1.0, requires_grad=True)
    with pytest.raises(ShapeError, match="ragged"):
        cr.tensor([x, [1.0, 2.0]])


def test_asarray_and_numpy_refuse_a_tensor_that_requires_grad():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    for convert in (np.asarray, np.array, lambda t: t.numpy(), lambda t: t.__array__()):
        with pytest.raises(DetachError, match=r"detach\(\)"):
            convert(x)
    with pytest.raises(RuntimeError):
        np.array([x[0], x[1] * 1.0, x[0] + 2.5])
    with pytest.raises(TypeError):
        np.sum([x, x])  # NumPy converts the list itself: refused, not summed without gradient
    np.testing.assert_array_equal(np.asarray(x.detach()), [1.0, 2.0])
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(cr.tensor([1.0, 2.0])), [1.0, 2.0])


def test_grad_of_a_function_that_converts_its_input_raises():
    with pytest.raises(DetachError):
        cr.grad(lambda x: x * np.asarray(x))(3.0)


def test_numpy_function_without_a_derivative_raises_on_a_tracked_tensor():
    x = cr.tensor([0.5, 0.25], requires_grad=True)
    with pytest.raises(DetachError, match="np.spacing"):
        np.spacing(x)
    np.testing.assert_array_equal(np.spacing(x.detach()).numpy(), np.spacing([0.5, 0.25]))


def test_under_no_grad_conversions_are_allowed():
    """Nothing is recorded under no_grad, so nothing can be lost (PyTorch raises here)."""
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.no_grad():
        np.testing.assert_array_equal(np.asarray(x), [1.0, 2.0])
        np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
        np.testing.assert_allclose(np.arccos(x / 4).numpy(), np.arccos([0.25, 0.5]))


def test_a_cast_to_an_integer_dtype_carries_no_gradient():
    x = cr.tensor([1.5, -2.5], requires_grad=True)
    for dtype in (np.int64, np.int32, np.bool_):
        assert not x.astype(dtype).requires_grad
        assert not cr.astype(x, dtype).requires_grad
    through = x.astype(np.int64).astype(np.float64).sum()
    assert not through.requires_grad
    assert x.astype(np.float32).requires_grad  # float casts keep the gradient
