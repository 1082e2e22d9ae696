"""JAX-style functional transforms: grad, value_and_grad, vjp, jvp, jacobian, hessian."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr

SETTINGS = settings(max_examples=25, deadline=None)
RNG = np.random.default_rng(1)
coef = st.floats(-3.0, 3.0)


# ----------------------------------------------------------------------- grad


def test_grad_scalar_returns_python_float():
    g = cr.grad(lambda x: x**3)(2.0)
    assert isinstance(g, float)
    assert g == pytest.approx(12.0, rel=1e-15)


@SETTINGS
@given(a=coef, b=coef, c=coef, x=st.floats(-2.0, 2.0))
def test_grad_of_cubic(a, b, c, x):
    g = cr.grad(lambda t: a * t**3 + b * t**2 + c * t)(x)
    assert g == pytest.approx(3 * a * x**2 + 2 * b * x + c, rel=1e-12, abs=1e-12)


def test_grad_array_input_returns_ndarray():
    xv = np.array([[1.0, 2.0], [3.0, 4.0]])
    g = cr.grad(lambda x: (cr.sin(x) * x).sum())(xv)
    assert isinstance(g, np.ndarray)
    assert g.shape == (2, 2)
    np.testing.assert_allclose(g, np.cos(xv) * xv + np.sin(xv), rtol=1e-13)


@pytest.mark.parametrize(
    "x",
    [[1.0, 2.0], np.array([1.0, 2.0]), cr.tensor([1.0, 2.0])],
    ids=["list", "ndarray", "tensor"],
)
def test_grad_accepts_lists_arrays_and_tensors(x):
    g = cr.grad(lambda t: (t * t).sum())(x)
    assert isinstance(g, np.ndarray)
    np.testing.assert_array_equal(g, [2.0, 4.0])


def test_grad_of_python_int_input_is_float():
    g = cr.grad(lambda x: x * x)(3)
    assert isinstance(g, float)
    assert g == 6.0


def test_int_list_inputs_use_default_float_dtype(float32_default):
    jac = cr.jacobian(lambda x: x * x)([1, 2])
    assert jac.dtype == np.float32
    np.testing.assert_array_equal(jac, np.diag([2.0, 4.0]))
    _, tan = cr.jvp(lambda x: x * x, ([1, 2],), ([1, 1],))
    assert tan.dtype == np.float32


def test_grad_preserves_float32():
    g = cr.grad(lambda x: (x * x).sum())(np.ones(3, dtype=np.float32))
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, [2.0, 2.0, 2.0])


def test_grad_argnums():
    def f(x, y, z):
        return x * y**2 + z

    assert cr.grad(f, argnums=1)(2.0, 3.0, 4.0) == pytest.approx(12.0)
    gs = cr.grad(f, argnums=(0, 2))(2.0, 3.0, 4.0)
    assert isinstance(gs, tuple)
    assert len(gs) == 2
    assert gs[0] == pytest.approx(9.0)
    assert gs[1] == pytest.approx(1.0)


def test_grad_wrt_unused_argument_is_zero():
    g = cr.grad(lambda x, y: x * 2.0 + 0.0 * x, argnums=1)(1.0, 5.0)
    assert float(np.asarray(g)) == 0.0


def test_grad_does_not_leak_grad_into_tensor_argument():
    x = cr.tensor(2.0, requires_grad=True)
    cr.grad(lambda t: t * t)(x)
    assert x.grad is None


def test_value_and_grad():
    value, g = cr.value_and_grad(lambda x: cr.exp(x) * x)(1.5)
    assert isinstance(value, float)
    assert value == pytest.approx(np.exp(1.5) * 1.5, rel=1e-14)
    assert g == pytest.approx(np.exp(1.5) * 2.5, rel=1e-14)


def test_value_and_grad_argnums_tuple():
    value, (gx, gy) = cr.value_and_grad(lambda x, y: (x * y).sum(), argnums=(0, 1))(
        np.array([1.0, 2.0]), np.array([3.0, 4.0])
    )
    assert value == pytest.approx(11.0)
    np.testing.assert_array_equal(gx, [3.0, 4.0])
    np.testing.assert_array_equal(gy, [1.0, 2.0])


# ------------------------------------------------------------------------ vjp


def test_vjp_single_primal():
    xv = np.array([0.5, 1.0, 2.0])
    out, vjp_fn = cr.vjp(lambda x: cr.sin(x) * x, xv)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, np.sin(xv) * xv, rtol=1e-14)
    ct = np.array([1.0, -2.0, 3.0])
    grads = vjp_fn(ct)
    assert isinstance(grads, tuple)
    assert len(grads) == 1
    np.testing.assert_allclose(grads[0], ct * (np.cos(xv) * xv + np.sin(xv)), rtol=1e-13)


def test_vjp_multiple_primals_and_repeated_calls():
    xv, yv = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    out, vjp_fn = cr.vjp(lambda x, y: x * y, xv, yv)
    np.testing.assert_array_equal(out, xv * yv)
    for ct in (np.array([1.0, 1.0]), np.array([2.0, -1.0]), np.array([1.0, 1.0])):
        gx, gy = vjp_fn(ct)
        np.testing.assert_array_equal(gx, ct * yv)
        np.testing.assert_array_equal(gy, ct * xv)


def test_vjp_matrix_output():
    a = RNG.normal(size=(3, 2))
    xv = RNG.normal(size=2)
    _, vjp_fn = cr.vjp(lambda x: a @ x, xv)
    ct = RNG.normal(size=3)
    (g,) = vjp_fn(ct)
    np.testing.assert_allclose(g, a.T @ ct, rtol=1e-13)


# ------------------------------------------------------------------------ jvp


def test_jvp_elementwise():
    xv = np.array([0.5, 1.0, 2.0])
    tv = np.array([1.0, -1.0, 0.5])
    out, tan = cr.jvp(lambda x: cr.sin(x) * x, (xv,), (tv,))
    np.testing.assert_allclose(out, np.sin(xv) * xv, rtol=1e-14)
    np.testing.assert_allclose(tan, tv * (np.cos(xv) * xv + np.sin(xv)), rtol=1e-13)


@SETTINGS
@given(x=st.floats(0.2, 3.0), y=st.floats(0.2, 3.0), tx=coef, ty=coef)
def test_jvp_two_inputs_is_directional_derivative(x, y, tx, ty):
    out, tan = cr.jvp(lambda a, b: cr.log(a) * b**2, (x, y), (tx, ty))
    assert float(out) == pytest.approx(np.log(x) * y**2, rel=1e-13, abs=1e-13)
    want = tx * y**2 / x + ty * 2 * y * np.log(x)
    assert float(tan) == pytest.approx(want, rel=1e-12, abs=1e-12)


def test_jvp_matmul():
    a = RNG.normal(size=(3, 4))
    xv, tv = RNG.normal(size=(4, 2)), RNG.normal(size=(4, 2))
    out, tan = cr.jvp(lambda x: cr.tanh(a @ x), (xv,), (tv,))
    np.testing.assert_allclose(out, np.tanh(a @ xv), rtol=1e-13)
    np.testing.assert_allclose(tan, (1 - np.tanh(a @ xv) ** 2) * (a @ tv), rtol=1e-12)


# ------------------------------------------------------------------- jacobian

M = RNG.normal(size=(4, 2, 3))


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_jacobian_shape_and_values(mode):
    xv = RNG.normal(size=(2, 3))

    def f(x):
        return (cr.tensor(M) * x**2).sum(axis=(1, 2))

    jac = cr.jacobian(f, mode=mode)(xv)
    assert isinstance(jac, np.ndarray)
    assert jac.shape == (4, 2, 3)
    np.testing.assert_allclose(jac, M * 2 * xv, rtol=1e-13)


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_jacobian_of_matrix_output(mode):
    a = RNG.normal(size=(3, 2))
    xv = RNG.normal(size=(2, 2))
    jac = cr.jacobian(lambda x: a @ x, mode=mode)(xv)
    assert jac.shape == (3, 2, 2, 2)
    want = np.einsum("ik,jl->ijkl", a, np.eye(2))
    np.testing.assert_allclose(jac, want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_jacobian_argnums(mode):
    jac = cr.jacobian(lambda x, y: x * y, argnums=1, mode=mode)(
        np.array([1.0, 2.0]), np.array([3.0, 4.0])
    )
    np.testing.assert_array_equal(jac, np.diag([1.0, 2.0]))


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_jacobian_scalar_input_and_scalar_output(mode):
    jac = cr.jacobian(lambda x: cr.stack([x, x**2, x**3]), mode=mode)(2.0)
    assert np.shape(jac) == (3,)
    np.testing.assert_allclose(jac, [1.0, 4.0, 12.0])
    jac = cr.jacobian(lambda x: (x**2).sum(), mode=mode)(np.array([1.0, 2.0]))
    assert np.shape(jac) == (2,)
    np.testing.assert_allclose(jac, [2.0, 4.0])


# -------------------------------------------------------------------- hessian


def test_hessian_against_sympy():
    v = sp.symbols("v0:3")
    expr = sp.exp(v[0] * v[1]) + sp.sin(v[1]) * v[2] ** 2 + v[0] ** 3 * v[2]
    point = np.array([0.3, -0.7, 1.2])
    want = np.array(
        [[float(sp.diff(expr, a, b).subs(dict(zip(v, point, strict=True)))) for b in v] for a in v]
    )

    def f(x):
        return cr.exp(x[0] * x[1]) + cr.sin(x[1]) * x[2] ** 2 + x[0] ** 3 * x[2]

    h = cr.hessian(f)(point)
    assert h.shape == (3, 3)
    np.testing.assert_allclose(h, want, rtol=1e-12)


def test_hessian_of_matrix_input_has_doubled_shape():
    xv = np.array([[1.0, 2.0], [3.0, 4.0]])
    h = cr.hessian(lambda x: (x**3).sum() + x[0, 0] * x[1, 1])(xv)
    assert h.shape == (2, 2, 2, 2)
    want = np.zeros((2, 2, 2, 2))
    for i in range(2):
        for j in range(2):
            want[i, j, i, j] = 6 * xv[i, j]
    want[0, 0, 1, 1] = want[1, 1, 0, 0] = 1.0
    np.testing.assert_allclose(h, want, rtol=1e-14)


def test_hessian_argnums():
    h = cr.hessian(lambda x, y: (x**2 * y).sum(), argnums=1)(np.array([1.0, 2.0]), np.ones(2))
    np.testing.assert_array_equal(h, np.zeros((2, 2)))


# ---------------------------------------------------------------- composition


@SETTINGS
@given(a=coef, b=coef, x=st.floats(-2.0, 2.0))
def test_grad_of_grad(a, b, x):
    d2 = cr.grad(cr.grad(lambda t: a * t**4 + b * t**3))(x)
    assert d2 == pytest.approx(12 * a * x**2 + 6 * b * x, rel=1e-12, abs=1e-12)


def test_third_derivative():
    d3 = cr.grad(cr.grad(cr.grad(lambda t: cr.sin(t) * t)))(0.7)
    assert d3 == pytest.approx(-3 * np.sin(0.7) - 0.7 * np.cos(0.7), rel=1e-13)


def test_jacobian_of_grad_is_hessian():
    xv = np.array([0.5, -1.0, 2.0])

    def f(x):
        return (x**4).sum() / 4 + x[0] * x[1]

    want = np.diag(3 * xv**2) + np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    for mode in ("rev", "fwd"):
        np.testing.assert_allclose(cr.jacobian(cr.grad(f), mode=mode)(xv), want, rtol=1e-13)


def test_jvp_of_grad_is_hessian_vector_product():
    xv = np.array([0.5, -1.0, 2.0])
    v = np.array([1.0, 2.0, -3.0])

    def f(x):
        return (x**4).sum() / 4 + x[0] * x[1]

    h = np.diag(3 * xv**2) + np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    g, hv = cr.jvp(cr.grad(f), (xv,), (v,))
    np.testing.assert_allclose(g, xv**3 + np.array([xv[1], xv[0], 0.0]), rtol=1e-14)
    np.testing.assert_allclose(hv, h @ v, rtol=1e-13)


def test_grad_through_inner_grad_closing_over_outer_variable():
    g = cr.grad(lambda x: cr.grad(lambda y: x * y)(1.0))(2.0)
    assert g == pytest.approx(1.0)


def test_no_perturbation_confusion():
    """d/dx [x * d/dy (x + y)] = 1; a confused implementation gives 2."""
    g = cr.grad(lambda x: x * cr.grad(lambda y: x + y)(1.0))(2.0)
    assert g == pytest.approx(1.0)


def test_inner_grad_called_at_outer_variable():
    """d/dx [d/dy (x*y) at y=x] = d/dx x = 1; reusing x as the inner variable gives 2."""
    g = cr.grad(lambda x: cr.grad(lambda y: x * y)(x))(3.0)
    assert g == pytest.approx(1.0)


def test_nested_transform_outputs_are_tensors():
    inner = []

    def outer(x):
        g = cr.grad(lambda y: y**3)(x)
        inner.append(g)
        return g

    assert cr.grad(outer)(2.0) == pytest.approx(12.0)
    assert isinstance(inner[0], cr.Tensor)


def test_grad_of_value_and_grad_value():
    g = cr.grad(lambda x: cr.value_and_grad(lambda y: y**3)(x)[1] * x)(2.0)
    # d/dx (3x^2 * x) = 9x^2
    assert g == pytest.approx(36.0)


def test_grad_of_vjp_inside():
    def f(x):
        _, vjp_fn = cr.vjp(lambda y: y**2, x)
        return vjp_fn(1.0)[0] * x  # 2x * x

    assert cr.grad(f)(3.0) == pytest.approx(12.0)


# --- pullbacks are differentiable -----------------------------------------------------


def _sin3(x):
    return 3.0 * cr.sin(x)


def test_pullback_is_differentiable_in_cotangent_and_primal():
    def g(x, v):
        return cr.vjp(_sin3, x)[1](v)[0]

    dx, dv = cr.grad(g, argnums=(0, 1))(0.3, 1.0)
    assert dx == pytest.approx(-3.0 * np.sin(0.3))  # -0.8866
    assert dv == pytest.approx(3.0 * np.cos(0.3))  # 2.8660
    assert cr.jvp(g, (0.3, 1.0), (0.0, 1.0))[1] == pytest.approx(3.0 * np.cos(0.3))
    assert cr.jvp(g, (0.3, 1.0), (1.0, 2.0))[1] == pytest.approx(
        -3.0 * np.sin(0.3) + 2.0 * 3.0 * np.cos(0.3)
    )
    assert cr.hessian(lambda v: g(0.3, v) ** 2)(1.0) == pytest.approx(2 * (3 * np.cos(0.3)) ** 2)


def test_pullback_created_outside_differentiates_in_the_cotangent():
    x = np.array([0.5, -1.0, 2.0])
    _, pullback = cr.vjp(lambda a: a * a * a, x)
    u = np.array([1.0, 2.0, -0.5])
    gradient = cr.grad(lambda v: (pullback(v)[0] * u).sum())(np.ones(3))
    np.testing.assert_allclose(gradient, 3 * x**2 * u)
    v = cr.tensor(np.ones(3), requires_grad=True)
    (pullback(v)[0] * u).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), 3 * x**2 * u)


def test_pullback_of_vector_function_of_two_arguments():
    a0, b0 = np.array([0.3, -0.7]), np.array([1.5, 0.2])

    def f(a, b):
        return cr.sin(a) * b

    def h(a, b, v):
        da, db = cr.vjp(f, a, b)[1](v)
        return (da * db).sum()

    v0 = np.array([0.4, -1.1])
    grads = cr.grad(h, argnums=(0, 1, 2))(a0, b0, v0)
    points = (a0, b0, v0)

    def moving(i):
        return lambda t: h(*[t if j == i else p for j, p in enumerate(points)])

    numeric = [cr.fd.gradient(moving(i), p) for i, p in enumerate(points)]
    for analytic, expected in zip(grads, numeric, strict=True):
        np.testing.assert_allclose(analytic, expected, rtol=1e-6, atol=1e-8)
    tangents = (np.array([1.0, 0.5]), np.array([-0.3, 2.0]), np.array([0.7, 0.1]))
    _, directional = cr.jvp(h, (a0, b0, v0), tangents)
    expected = sum(np.sum(g * t) for g, t in zip(numeric, tangents, strict=True))
    assert directional == pytest.approx(expected, rel=1e-6)


def test_vjp_of_a_pullback():
    """The pullback's own pullback: for f = 3 sin, w ↦ (x̄ = 3 cos(x) w, v̄ = -3 sin(x) v w)."""

    def pulled(x, v):
        return cr.vjp(_sin3, x)[1](v)[0]

    out, pullback = cr.vjp(pulled, 0.3, 2.0)
    assert out == pytest.approx(2.0 * 3.0 * np.cos(0.3))
    dx, dv = pullback(1.5)
    assert dx == pytest.approx(-3.0 * np.sin(0.3) * 2.0 * 1.5)
    assert dv == pytest.approx(3.0 * np.cos(0.3) * 1.5)
    second = cr.grad(lambda w: cr.vjp(pulled, 0.3, 2.0)[1](w)[0] * w)(1.5)
    assert second == pytest.approx(2 * -3.0 * np.sin(0.3) * 2.0 * 1.5)


@pytest.mark.parametrize("y", [0.0, -0.0])
def test_hessian_of_power_at_zero_exponent_is_symmetric(y):
    """d/dy d/dx x**y at y = 0 is 1/x; the slope's guard for y == 0 must not hide it."""
    h = cr.hessian(lambda v: v[0] ** v[1])(np.array([2.0, y]))
    np.testing.assert_allclose(h, [[0.0, 0.5], [0.5, np.log(2.0) ** 2]], atol=1e-12)


@pytest.mark.parametrize("x", [0.0, np.inf, np.nan])
def test_power_slope_is_zero_at_zero_exponent_even_at_degenerate_bases(x):
    v = cr.tensor([x, 0.0], requires_grad=True)
    (v[0] ** v[1]).backward()
    assert v.grad.numpy()[0] == 0.0
