"""Tensor methods that mirror NumPy and PyTorch: each keeps the graph or detaches as documented."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def test_clone_copies_the_values_and_keeps_the_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x.clone()
    assert not np.shares_memory(y.detach().numpy(), x.detach().numpy())
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_flatten_and_unsqueeze_route_gradients_back():
    x = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    flat = x.flatten()
    assert flat.shape == (6,)
    column = flat.unsqueeze(1)
    assert column.shape == (6, 1)
    (column * cr.tensor(np.arange(6.0).reshape(6, 1))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(6.0).reshape(2, 3))


def test_zero_fills_in_place_and_counts_as_a_write():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    with cr.no_grad():
        w.zero_()
    np.testing.assert_array_equal(w.detach().numpy(), [0.0, 0.0])
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_grad_buffers_are_not_shared_between_leaves():
    """y = a + b hands the same cotangent to both leaves; their .grad must not alias."""
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    (a + b).sum().backward()  # accumulates in place into a.grad
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(b.grad.numpy(), [2.0, 2.0])


def test_user_gradient_is_not_adopted_as_grad():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    seed = np.array([1.0, 1.0])
    (x + 0.0).backward(gradient=seed)  # add passes the seed itself through to x
    x.grad.numpy()[0] = 100.0
    np.testing.assert_array_equal(seed, [1.0, 1.0])
