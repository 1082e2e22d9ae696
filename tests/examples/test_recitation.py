"""The seed function y = exp(x*z) + x*z/log(x) + sin(log(x))/(x*z) at x=2, z=3.

Every way of differentiating it must agree with the reference values (and with SymPy
for the second derivatives).
"""

import numpy as np
import pytest
import sympy as sp

import chainrule as cr

X0, Z0 = 2.0, 3.0
Y_REF = 412.19145728412118
DYDX_REF = 1208.3812151266096
DYDZ_REF = 809.70747921856408
RTOL = 1e-12


def seed(x, z):
    return cr.exp(x * z) + x * z / cr.log(x) + cr.sin(cr.log(x)) / (x * z)


def assert_rel(got, want, rtol=RTOL):
    got = float(np.asarray(got.item() if isinstance(got, cr.Tensor) else got))
    assert abs(got - want) <= rtol * abs(want), f"got {got!r}, want {want!r}"


def sympy_second_derivatives():
    x, z = sp.symbols("x z")
    y = sp.exp(x * z) + x * z / sp.log(x) + sp.sin(sp.log(x)) / (x * z)
    at = {x: 2, z: 3}
    return {
        "xx": float(sp.N(sp.diff(y, x, x).subs(at), 30)),
        "xz": float(sp.N(sp.diff(y, x, z).subs(at), 30)),
        "zz": float(sp.N(sp.diff(y, z, z).subs(at), 30)),
    }


SECOND = sympy_second_derivatives()


def test_reference_values_agree_with_sympy():
    """Guards the constants in this file against typos."""
    x, z = sp.symbols("x z")
    y = sp.exp(x * z) + x * z / sp.log(x) + sp.sin(sp.log(x)) / (x * z)
    at = {x: 2, z: 3}
    assert_rel(float(sp.N(y.subs(at), 30)), Y_REF)
    assert_rel(float(sp.N(sp.diff(y, x).subs(at), 30)), DYDX_REF)
    assert_rel(float(sp.N(sp.diff(y, z).subs(at), 30)), DYDZ_REF)


def test_forward_value():
    y = seed(cr.tensor(X0), cr.tensor(Z0))
    assert_rel(y.item(), Y_REF)


def test_tensor_backward():
    x = cr.tensor(X0, requires_grad=True)
    z = cr.tensor(Z0, requires_grad=True)
    y = seed(x, z)
    y.backward()
    assert_rel(y, Y_REF)
    assert_rel(x.grad, DYDX_REF)
    assert_rel(z.grad, DYDZ_REF)


def test_grad_with_argnums_tuple():
    gx, gz = cr.grad(seed, argnums=(0, 1))(X0, Z0)
    assert_rel(gx, DYDX_REF)
    assert_rel(gz, DYDZ_REF)


@pytest.mark.parametrize(("argnums", "want"), [(0, DYDX_REF), (1, DYDZ_REF)])
def test_grad_single_argnum(argnums, want):
    assert_rel(cr.grad(seed, argnums=argnums)(X0, Z0), want)


def test_value_and_grad():
    value, (gx, gz) = cr.value_and_grad(seed, argnums=(0, 1))(X0, Z0)
    assert_rel(value, Y_REF)
    assert_rel(gx, DYDX_REF)
    assert_rel(gz, DYDZ_REF)


@pytest.mark.parametrize(("tangents", "want"), [((1.0, 0.0), DYDX_REF), ((0.0, 1.0), DYDZ_REF)])
def test_jvp_one_direction_at_a_time(tangents, want):
    out, tangent_out = cr.jvp(seed, (X0, Z0), tangents)
    assert_rel(out, Y_REF)
    assert_rel(tangent_out, want)


def test_vjp():
    out, vjp_fn = cr.vjp(seed, X0, Z0)
    gx, gz = vjp_fn(1.0)
    assert_rel(out, Y_REF)
    assert_rel(gx, DYDX_REF)
    assert_rel(gz, DYDZ_REF)


def test_handwritten_central_differences_agree():
    """Plain-NumPy oracle, independent of cr.fd."""

    def f(x, z):
        return np.exp(x * z) + x * z / np.log(x) + np.sin(np.log(x)) / (x * z)

    h = 1e-5
    assert_rel((f(X0 + h, Z0) - f(X0 - h, Z0)) / (2 * h), DYDX_REF, rtol=1e-7)
    assert_rel((f(X0, Z0 + h) - f(X0, Z0 - h)) / (2 * h), DYDZ_REF, rtol=1e-7)


def test_fd_central():
    gx, gz = cr.fd.gradient(seed, X0, Z0, scheme="central")
    assert_rel(gx, DYDX_REF, rtol=1e-7)
    assert_rel(gz, DYDZ_REF, rtol=1e-7)


def test_fd_complex_step():
    gx, gz = cr.fd.gradient(seed, X0, Z0, scheme="complex-step")
    assert_rel(gx, DYDX_REF, rtol=1e-12)
    assert_rel(gz, DYDZ_REF, rtol=1e-12)


def test_hessian_against_sympy():
    h = cr.hessian(lambda v: seed(v[0], v[1]))(np.array([X0, Z0]))
    h = np.asarray(h)
    assert h.shape == (2, 2)
    want = np.array([[SECOND["xx"], SECOND["xz"]], [SECOND["xz"], SECOND["zz"]]])
    np.testing.assert_allclose(h, want, rtol=1e-10)


@pytest.mark.parametrize(
    ("outer", "inner", "key"), [(0, 0, "xx"), (1, 0, "xz"), (0, 1, "xz"), (1, 1, "zz")]
)
def test_grad_of_grad_against_sympy(outer, inner, key):
    d2 = cr.grad(cr.grad(seed, argnums=inner), argnums=outer)(X0, Z0)
    assert_rel(d2, SECOND[key], rtol=1e-10)


def test_create_graph_backward_against_sympy():
    x = cr.tensor(X0, requires_grad=True)
    z = cr.tensor(Z0, requires_grad=True)
    seed(x, z).backward(create_graph=True)
    gx = x.grad
    assert gx.requires_grad
    assert_rel(gx, DYDX_REF)
    gx_before, gz_before = x.grad.item(), z.grad.item()
    # Backward of dy/dx accumulates d2y/dx2 into x.grad and d2y/dxdz into z.grad.
    gx.backward()
    assert_rel(x.grad.item() - gx_before, SECOND["xx"], rtol=1e-10)
    assert_rel(z.grad.item() - gz_before, SECOND["xz"], rtol=1e-10)


def test_create_graph_backward_d2y_dz2_against_sympy():
    x = cr.tensor(X0, requires_grad=True)
    z = cr.tensor(Z0, requires_grad=True)
    seed(x, z).backward(create_graph=True)
    gz = z.grad
    gz_before = gz.item()
    gz.backward()
    assert_rel(z.grad.item() - gz_before, SECOND["zz"], rtol=1e-10)
