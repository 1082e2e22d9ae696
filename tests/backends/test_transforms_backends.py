"""The transforms on another library's arrays (array_api_strict): grad, jacobians, hessian and
compile give that library's arrays and NumPy's numbers; vmap refuses them clearly."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import DeviceError

xs = pytest.importorskip("array_api_strict")


def f(v):
    return (cr.sin(v) * v).sum()


def strict(values):
    return xs.asarray(np.asarray(values, dtype=np.float64))


def host(value):
    assert type(value).__module__.startswith("array_api_strict"), type(value)
    return np.from_dlpack(value)


POINTS = ([[1.0, 2.0], [3.0, 4.0]], [[0.5, 2.0], [3.0, -4.0]], [[1.0, 1.0], [1.0, 1.0]])


@pytest.mark.parametrize("transform", [cr.jacobian, cr.jacfwd, cr.jacrev])
def test_jacobians_on_strict_arrays_equal_numpy(transform):
    g = transform(lambda v: cr.tanh(v) * v[::-1])
    point = [0.3, -1.2, 2.0]
    np.testing.assert_allclose(host(g(strict(point))), g(np.array(point)), rtol=1e-13)


def test_hessian_on_strict_arrays_equals_numpy():
    h = cr.hessian(lambda v: (v**3).sum() * v[0])
    np.testing.assert_allclose(host(h(strict([1.0, 2.0]))), h(np.array([1.0, 2.0])), rtol=1e-13)


def test_a_compiled_gradient_follows_strict_values_at_every_call():
    compiled = cr.compile(cr.grad(f))
    for point in POINTS:
        expected = cr.grad(f)(np.array(point))
        np.testing.assert_allclose(host(compiled(strict(point))), expected, rtol=1e-13)
    # the same compiled function on NumPy arrays traces its own program
    assert isinstance(compiled(np.array(POINTS[0])), np.ndarray)


def test_vmap_refuses_other_libraries_instead_of_moving_them():
    with pytest.raises(DeviceError, match="vmap"):
        cr.vmap(cr.grad(f))(strict(POINTS[0]))
    with pytest.raises(DeviceError, match="vmap"):
        cr.vmap(f)(cr.tensor(strict(POINTS[1])))
