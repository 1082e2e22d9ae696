"""In-place writes, version counters and the 'modified by an in-place operation' check."""

import numpy as np
import pytest

import chainrule as cr

MODIFIED = "modified by an in-place operation"


def _iadd(t):
    t += 1.0
    return t


def _isub(t):
    t -= 1.0
    return t


def _imul(t):
    t *= 2.0
    return t


def _itruediv(t):
    t /= 2.0
    return t


def _setitem(t):
    t[0] = 5.0
    return t


def _setitem_slice(t):
    t[1:] = np.array([7.0, 8.0])
    return t


def _assign_data(t):
    t.data = np.array([9.0, 9.0, 9.0])
    return t


MUTATIONS = [_iadd, _isub, _imul, _itruediv, _setitem, _setitem_slice, _assign_data]
IDS = [m.__name__.lstrip("_") for m in MUTATIONS]


@pytest.mark.parametrize("mutate", MUTATIONS, ids=IDS)
def test_mutating_saved_constant_raises_at_backward(mutate):
    w = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = cr.tensor([4.0, 5.0, 6.0])
    y = (w * x).sum()
    mutate(x)
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_unmutated_graph_backprops_normally():
    w = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = cr.tensor([4.0, 5.0, 6.0])
    (w * x).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [4.0, 5.0, 6.0])


@pytest.mark.parametrize("mutate", MUTATIONS, ids=IDS)
def test_inplace_ops_change_values(mutate):
    x = cr.tensor([4.0, 5.0, 6.0])
    want = mutate(np.array([4.0, 5.0, 6.0])) if mutate is not _assign_data else np.full(3, 9.0)
    out = mutate(x)
    assert isinstance(out, cr.Tensor)
    np.testing.assert_array_equal(x.numpy(), want)


@pytest.mark.parametrize("op", [_iadd, _isub, _imul, _itruediv])
def test_augmented_assignment_keeps_object_identity(op):
    x = cr.tensor([4.0, 5.0, 6.0])
    assert op(x) is x


def test_mutating_unrelated_tensor_is_fine():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([3.0, 4.0])
    other = cr.tensor([0.0, 0.0])
    y = (w * x).sum()
    other += 1.0
    y.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 4.0])


def test_graph_built_after_mutation_uses_new_values():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([3.0, 4.0])
    x += 1.0
    (w * x).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [4.0, 5.0])


def test_mutating_constant_deep_in_graph_raises():
    x = cr.tensor([0.5, 1.0], requires_grad=True)
    c = cr.tensor([2.0, 3.0])
    y = cr.sin(cr.exp(x) * c).sum()
    c[1] = 0.0
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_mutating_saved_non_leaf_under_no_grad_raises():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    h = w * 2.0
    y = (h * h).sum()
    with cr.no_grad():
        h += 1.0
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_mutating_after_backward_does_not_affect_computed_grad():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([3.0, 4.0])
    (w * x).sum().backward()
    x += 100.0
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 4.0])


# ------------------------------------------------------- leaves that require grad


@pytest.mark.parametrize("mutate", MUTATIONS[:-1], ids=IDS[:-1])
def test_inplace_on_grad_leaf_with_grad_mode_on_raises(mutate):
    w = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError):
        mutate(w)


@pytest.mark.parametrize("mutate", MUTATIONS, ids=IDS)
def test_inplace_on_grad_leaf_under_no_grad_is_fine(mutate):
    w = cr.tensor([4.0, 5.0, 6.0], requires_grad=True)
    with cr.no_grad():
        mutate(w)
    assert w.requires_grad
    assert w.is_leaf
    assert w.grad is None
    want = mutate(np.array([4.0, 5.0, 6.0])) if mutate is not _assign_data else np.full(3, 9.0)
    np.testing.assert_array_equal(w.detach().numpy(), want)


def test_optimizer_update_under_no_grad():
    w = cr.tensor([1.0, -2.0], requires_grad=True)
    (w * w).sum().backward()
    with cr.no_grad():
        w -= 0.1 * w.grad
    np.testing.assert_allclose(w.detach().numpy(), [0.8, -1.6], rtol=1e-15)
    assert w.requires_grad and w.is_leaf
    w.grad = None
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [1.6, -3.2], rtol=1e-15)


def test_gradient_descent_converges():
    target = np.array([3.0, -1.0])
    w = cr.tensor([0.0, 0.0], requires_grad=True)
    for _ in range(100):
        w.grad = None
        ((w - target) ** 2).sum().backward()
        with cr.no_grad():
            w -= 0.1 * w.grad
    np.testing.assert_allclose(w.detach().numpy(), target, atol=1e-8)


def test_stale_graph_after_optimizer_step_raises():
    """A graph recorded before an update saved the old w; backward must refuse it."""
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    with cr.no_grad():
        w -= 0.5
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


def test_setitem_with_tensor_value_and_mask():
    x = cr.tensor([1.0, -2.0, 3.0])
    x[0] = cr.tensor(5.0)
    x[x < 0] = 0.0
    np.testing.assert_array_equal(x.numpy(), [5.0, 0.0, 3.0])


def test_float32_inplace_keeps_dtype():
    x = cr.tensor(np.array([1.0, 2.0], dtype=np.float32))
    x += 1.0
    x *= 0.5
    assert x.dtype == np.float32
