"""Complex numbers: JAX's convention for derivatives, checked against finite differences,
PyTorch and (when installed) JAX; the complex entries' surface; errors.

The convention: a holomorphic g has VJP c·g′(z) and JVP t·g′(z); ``grad`` of a
real-valued f of z = x + iy is ∂f/∂x − i·∂f/∂y (the conjugate of PyTorch's ``z.grad``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.primitive import PRIMITIVES
from chainrule.errors import DtypeError
from chainrule.tensor import apply

STEP = 1e-6

#: Elementwise entries that accept complex input but are not holomorphic: each has its own
#: tests below. Any other differentiable elementwise entry that accepts complex input must
#: be holomorphic (the generated test fails until it is, or is listed here with tests).
NOT_HOLOMORPHIC = {"abs", "real", "imag", "conj", "angle", "sign"}


def _complex_cases(prim):
    """The entry's test inputs with a random imaginary part on every differentiable operand."""
    rng = np.random.default_rng(7)
    if prim.sample is not None:
        cases = prim.sample(rng)
    else:
        cases = [(tuple(domain(rng, (2, 3)) for domain in prim.domains), {})]
    out = []
    for args, params in cases:
        moved = tuple(
            a + 0.3j * rng.uniform(-1, 1, np.shape(a))
            if a is not None and prim.vjp(i) is not None and np.asarray(a).dtype.kind == "f"
            else a
            for i, a in enumerate(args)
        )
        out.append((moved, params))
    return out


def _accepts_complex(prim, args, params):
    try:
        prim.evaluate(*args, **params)
    except TypeError:
        return False
    return True


HOLOMORPHIC = sorted(
    name
    for name, prim in PRIMITIVES.items()
    if prim.kind == "elementwise"
    and prim.differentiable
    and name not in NOT_HOLOMORPHIC
    and all(_accepts_complex(prim, args, params) for args, params in _complex_cases(prim))
)


def _derivative(prim, args, params, i, direction):
    """(g(z + h·direction) - g(z - h·direction)) / 2h in argument i, elementwise."""
    plus, minus = list(args), list(args)
    plus[i] = args[i] + STEP * direction
    minus[i] = args[i] - STEP * direction
    return (prim.evaluate(*plus, **params) - prim.evaluate(*minus, **params)) / (2 * STEP)


def _unbroadcast(a, shape):
    while a.ndim > len(shape):
        a = a.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and a.shape[axis] != 1:
            a = a.sum(axis=axis, keepdims=True)
    return a


def test_the_holomorphic_list_is_generated_from_the_registry():
    assert {"add", "multiply", "divide", "exp", "log", "sin", "tanh", "sqrt", "power"} <= set(
        HOLOMORPHIC
    )
    assert "erf" not in HOLOMORPHIC  # refuses complex input


@pytest.mark.parametrize("name", HOLOMORPHIC)
def test_holomorphic_vjp_and_jvp_are_the_complex_derivative(name):
    """VJP c·g′(z) and JVP t·g′(z), g′ from differences along the real axis; along the
    imaginary axis they must agree (Cauchy-Riemann: the entry is holomorphic)."""
    prim = PRIMITIVES[name]
    rng = np.random.default_rng(8)
    for args, params in _complex_cases(prim):
        positions = [i for i, a in enumerate(args) if a is not None and prim.vjp(i) is not None]
        positions = [i for i in positions if np.iscomplexobj(args[i])]
        out = prim.evaluate(*args, **params)
        c = rng.standard_normal(np.shape(out)) + 1j * rng.standard_normal(np.shape(out))
        tensors = [
            None if a is None else cr.tensor(a, requires_grad=i in positions)
            for i, a in enumerate(args)
        ]
        apply(prim, tuple(tensors), params).backward(gradient=c)
        for i in positions:
            slope = _derivative(prim, args, params, i, 1.0)
            along_imaginary = _derivative(prim, args, params, i, 1j) / 1j
            np.testing.assert_allclose(
                along_imaginary, slope, rtol=1e-5, atol=1e-7, err_msg=f"{name}: not holomorphic"
            )
            expected = _unbroadcast(c * slope, np.shape(args[i]))
            np.testing.assert_allclose(
                tensors[i].grad.numpy(), expected, rtol=1e-5, atol=1e-7, err_msg=f"{name} {i}"
            )
            t = rng.standard_normal(np.shape(args[i])) + 1j * rng.standard_normal(np.shape(args[i]))

            def f(z, args=args, i=i, params=params):
                moved = list(args)
                moved[i] = z
                return apply(prim, tuple(moved), params)

            _, tangent_out = cr.jvp(f, (args[i],), (t,))
            np.testing.assert_allclose(tangent_out, slope * t, rtol=1e-5, atol=1e-7)


# --- real-valued functions of complex inputs ------------------------------------------


def _gradient_by_differences(f, z):
    """∂f/∂x − i·∂f/∂y at z by central differences (f real-valued, of one complex array)."""
    z = np.asarray(z, dtype=np.complex128)
    out = np.zeros_like(z)
    for k in range(z.size):
        for direction, weight in ((1.0, 1.0), (1j, -1j)):
            plus, minus = z.copy(), z.copy()
            plus.reshape(-1)[k] += STEP * direction
            minus.reshape(-1)[k] -= STEP * direction
            value = (float(f(cr.tensor(plus))) - float(f(cr.tensor(minus)))) / (2 * STEP)
            out.reshape(-1)[k] += weight * value
    return out


W = np.array([[0.5 - 1.0j, 2.0 + 0.25j], [-1.5 + 0.5j, 0.75 - 2.0j], [1.0 + 1.0j, -0.5j]])

#: (name, f written with chainrule, the same f written with torch or None).
REAL_VALUED = [
    ("abs", lambda z: cr.sum(cr.abs(z)), lambda t, z: t.abs(z).sum()),
    ("real", lambda z: cr.sum(cr.real(z) * cr.imag(z)), lambda t, z: (z.real * z.imag).sum()),
    ("imag", lambda z: cr.sum(cr.imag(z) ** 3), lambda t, z: (z.imag**3).sum()),
    (
        "abs squared",
        lambda z: cr.sum(cr.real(z * cr.conj(z))),
        lambda t, z: (z * z.conj()).real.sum(),
    ),
    ("angle", lambda z: cr.sum(cr.angle(z) * cr.abs(z)), lambda t, z: (z.angle() * z.abs()).sum()),
    (
        "real of product",
        lambda z: cr.sum(cr.real(z * z * (1 + 2j)) + cr.imag(cr.exp(z))),
        lambda t, z: ((z * z * (1 + 2j)).real + t.exp(z).imag).sum(),
    ),
    (
        "norm of a matmul",
        lambda z: cr.sqrt(cr.sum(cr.abs(z @ W) ** 2)),
        lambda t, z: t.sqrt(((z @ t.tensor(W)).abs() ** 2).sum()),
    ),
    (
        "var and std",
        lambda z: cr.var(z) + cr.std(z, axis=1, ddof=1).sum(),
        lambda t, z: z.var(unbiased=False) + z.std(dim=1).sum(),
    ),
    (
        "mean, reshape, transpose, index",
        lambda z: cr.abs(cr.mean(cr.reshape(z, (3, 2)).T[1] * 1j - z[0, 0])),
        lambda t, z: (z.reshape(3, 2).T[1] * 1j - z[0, 0]).mean().abs(),
    ),
]

Z0 = np.array([[1.0 + 2.0j, -0.5 + 1.5j, 2.0 - 1.0j], [-1.0 - 0.5j, 0.3 + 0.7j, -2.0 + 0.4j]])


@pytest.mark.parametrize(("name", "f", "torch_f"), REAL_VALUED, ids=[c[0] for c in REAL_VALUED])
def test_gradient_of_real_valued_function_is_dx_minus_i_dy(name, f, torch_f):
    z = Z0 if "matmul" not in name else Z0[:, :3]
    expected = _gradient_by_differences(f, z)
    np.testing.assert_allclose(cr.grad(f)(z), expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(("name", "f", "torch_f"), REAL_VALUED, ids=[c[0] for c in REAL_VALUED])
def test_gradient_is_the_conjugate_of_torch_grad(name, f, torch_f):
    torch = pytest.importorskip("torch")
    z = torch.tensor(Z0, requires_grad=True)
    torch_f(torch, z).backward()
    np.testing.assert_allclose(cr.grad(f)(Z0), np.conj(z.grad.numpy()), rtol=1e-12, atol=1e-14)


def test_numbers_agree_with_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    z = 3.0 + 4.0j
    for ours, theirs in [
        (cr.abs, jnp.abs),
        (cr.real, jnp.real),
        (cr.imag, jnp.imag),
        (cr.angle, jnp.angle),
        (lambda w: cr.real(cr.conj(w) * (2 - 1j)), lambda w: jnp.real(jnp.conj(w) * (2 - 1j))),
    ]:
        np.testing.assert_allclose(cr.grad(ours)(z), complex(jax.grad(theirs)(z)), rtol=1e-12)
    holomorphic = complex(jax.grad(lambda w: jnp.sin(w) * w, holomorphic=True)(z))
    assert np.isclose(cr.grad(lambda w: cr.sin(w) * w, holomorphic=True)(z), holomorphic)


def test_jax_convention_in_numbers():
    """The numbers JAX gives (its documentation and source's transpose rules)."""
    assert np.isclose(cr.grad(cr.abs)(3 + 4j), 0.6 - 0.8j)
    assert cr.grad(cr.real)(3 + 4j) == 1
    assert cr.grad(cr.imag)(3 + 4j) == -1j
    assert np.isclose(cr.grad(cr.angle)(3 + 4j), -1j / (3 + 4j))
    _, pullback = cr.vjp(cr.conj, np.array([1 + 2j]))
    np.testing.assert_array_equal(pullback(np.array([0.5 + 3j]))[0], [0.5 - 3j])
    assert cr.grad(cr.abs)(0j) == 0  # taken as 0 at 0, as JAX does


def test_forward_mode_is_the_real_linear_map():
    """JVP of a real-valued f: Re(t·grad) (for the pairing Re(a·b)), for every direction."""
    f = REAL_VALUED[5][1]
    gradient = cr.grad(f)(Z0)
    rng = np.random.default_rng(0)
    t = rng.standard_normal(Z0.shape) + 1j * rng.standard_normal(Z0.shape)
    _, tangent = cr.jvp(f, (Z0,), (t,))
    assert isinstance(tangent, float)
    assert np.isclose(tangent, np.sum(gradient * t).real)
    plus, minus = (float(f(cr.tensor(Z0 + s * STEP * t))) for s in (1, -1))
    assert np.isclose(tangent, (plus - minus) / (2 * STEP), rtol=1e-7)


# --- real inputs, complex intermediates ---------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_real_input_gets_the_real_part_as_gradient(dtype):
    x = cr.tensor(np.array([0.5, -1.25, 2.0], dtype=dtype), requires_grad=True)
    y = cr.sum(cr.abs(x * (1 + 2j) + 1j) ** 2)  # |x + 2ix + i|^2 = x^2 + (2x + 1)^2
    y.backward()
    assert x.grad.dtype == dtype
    x0 = x.detach().numpy().astype(np.float64)
    np.testing.assert_allclose(x.grad.numpy(), 2 * x0 + 4 * (2 * x0 + 1), rtol=1e-5)


def test_complex64_stays_complex64():
    z = cr.tensor(Z0.astype(np.complex64), requires_grad=True)
    out = cr.sum(cr.abs(cr.exp(z) * z))
    out.backward()
    assert out.dtype == np.float32 and z.grad.dtype == np.complex64
    np.testing.assert_allclose(z.grad.numpy(), _abs_exp(Z0), rtol=1e-4)


def _abs_exp(z):
    """grad of |e^z z| = conj(g)/|g|·(e^z z)′ with g = e^z z, the holomorphic chain rule."""
    g = np.exp(z) * z
    return np.conj(g) / np.abs(g) * (np.exp(z) * z + np.exp(z))


def test_complex_cotangent_for_complex_output_of_real_input():
    """vjp of x ↦ x·(1+2i) with cotangent c: Re(c·(1+2i)), a real gradient."""
    _, pullback = cr.vjp(lambda x: x * (1 + 2j), np.array([1.0, 2.0]))
    (g,) = pullback(np.array([1 - 1j, 2j]))
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, [3.0, -4.0])


# --- second order ---------------------------------------------------------------------


def test_second_order_through_a_complex_gradient():
    """F = |z|^4: grad F = 4|z|²·conj(z); grad of its real part 4x(x²+y²) is
    (12x² + 4y²) − i·8xy."""
    inner = cr.grad(lambda w: cr.abs(w) ** 4)
    outer = cr.grad(lambda z: cr.real(inner(z)))
    z = 1.5 - 0.5j
    x, y = z.real, z.imag
    assert np.isclose(inner(z), 4 * abs(z) ** 2 * np.conj(z))
    assert np.isclose(outer(z), (12 * x * x + 4 * y * y) - 8j * x * y)


def test_second_derivative_of_holomorphic_function():
    f = cr.grad(cr.grad(lambda w: cr.sin(w) * w, holomorphic=True), holomorphic=True)
    z = 0.7 + 0.2j
    assert np.isclose(f(z), -np.sin(z) * z + 2 * np.cos(z))


def test_backward_with_create_graph_on_complex_tensors():
    z = cr.tensor(np.array([1.0 + 1.0j, 2.0 - 0.5j]), requires_grad=True)
    y = cr.sum(cr.abs(z * z) ** 2)  # |z|^4 per element
    y.backward(create_graph=True)
    first = z.grad
    np.testing.assert_allclose(
        first.detach().numpy(), 4 * np.abs(z.detach().numpy()) ** 2 * np.conj(z.detach().numpy())
    )
    z.grad = None
    cr.sum(cr.real(first)).backward()
    x, yy = z.detach().numpy().real, z.detach().numpy().imag
    np.testing.assert_allclose(z.grad.numpy(), (12 * x * x + 4 * yy * yy) - 8j * x * yy)


# --- values and surface ---------------------------------------------------------------

ZS = np.array([3 + 4j, -1 - 2j, 0.5 + 0j, -2 + 0.1j])


@pytest.mark.parametrize(
    ("ours", "numpys"),
    [
        (cr.real, np.real),
        (cr.imag, np.imag),
        (cr.conj, np.conj),
        (cr.conjugate, np.conjugate),
        (cr.angle, np.angle),
        (lambda t: cr.angle(t, deg=True), lambda a: np.angle(a, deg=True)),
        (cr.abs, np.abs),
        (cr.exp, np.exp),
        (cr.sqrt, np.sqrt),
        (lambda t: t.astype(np.float64), np.real),
        (lambda t: np.real(t), np.real),
        (lambda t: np.imag(t), np.imag),
        (lambda t: np.conj(t), np.conj),
        (lambda t: np.angle(t, deg=True), lambda a: np.angle(a, deg=True)),
        (lambda t: np.abs(t), np.abs),
        (lambda t: t.real, np.real),
        (lambda t: t.imag, np.imag),
        (lambda t: t.conj(), np.conj),
        (lambda t: t.conjugate(), np.conj),
        (lambda t: t.angle(), np.angle),
        (lambda t: t.abs(), np.abs),
        (lambda t: abs(t), np.abs),
    ],
)
def test_values_are_numpys_bit_for_bit(ours, numpys):
    t = cr.tensor(ZS, requires_grad=True)
    out = ours(t)
    assert out.requires_grad
    expected = numpys(ZS)
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out.detach().numpy(), expected)


def test_sign_of_a_complex_number_is_numpys():
    np.testing.assert_array_equal(cr.sign(cr.tensor(ZS)).numpy(), np.sign(ZS))


def test_tensor_attributes_real_and_imag_are_differentiable():
    z = cr.tensor(np.array([1.0 + 2.0j, -3.0 + 0.5j]), requires_grad=True)
    (z.real * 2 + z.imag * 3).sum().backward()
    np.testing.assert_array_equal(z.grad.numpy(), [2 - 3j, 2 - 3j])
    assert cr.tensor([1.0, 2.0]).imag.tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    "f",
    [
        lambda a: a @ a.T,
        lambda a: a.sum(axis=0),
        lambda a: a.mean(axis=1),
        lambda a: a.reshape(3, 2),
        lambda a: a.T,
        lambda a: a[1, ::-1],
        lambda a: a * a / (a + 3) - a**2,
    ],
)
def test_complex_values_through_other_operations(f):
    t = cr.tensor(Z0)
    np.testing.assert_array_equal(f(t).numpy(), f(Z0))


def test_concatenate_and_stack_on_complex():
    a = cr.tensor(Z0, requires_grad=True)
    out = cr.concatenate([a, cr.stack([a[0], a[1]])], axis=0)
    np.testing.assert_array_equal(out.detach().numpy(), np.concatenate([Z0, Z0]))
    cr.sum(cr.abs(out)).backward()
    np.testing.assert_allclose(a.grad.numpy(), 2 * np.conj(Z0) / np.abs(Z0))


# --- errors and the complex step ------------------------------------------------------


def test_grad_of_complex_output_is_refused():
    with pytest.raises(DtypeError, match="complex.*holomorphic=True"):
        cr.grad(lambda z: z * z)(1 + 2j)
    with pytest.raises(DtypeError, match="must be complex"):
        cr.grad(lambda x: x * x, holomorphic=True)(2.0)
    z = cr.tensor(1 + 2j, requires_grad=True)
    with pytest.raises(DtypeError, match="output is complex"):
        (z * z).backward()


def test_holomorphic_grad_is_the_complex_derivative():
    assert cr.grad(lambda z: z * z, holomorphic=True)(1 + 2j) == 2 + 4j
    np.testing.assert_allclose(
        cr.grad(lambda z: cr.sum(cr.exp(z)), holomorphic=True)(Z0), np.exp(Z0)
    )


def test_complex_step_still_sees_analytic_extensions():
    """Under fd's complex step abs, conj, real and sign act as their real functions."""
    f = lambda x: cr.abs(x) * cr.real(x) + cr.conj(x) * x + cr.sign(x) * x  # noqa: E731
    for x in (-1.5, 0.75):
        expected = 2 * abs(x) + 2 * x + np.sign(x)
        assert np.isclose(cr.fd.gradient(f, x, scheme="complex-step"), expected, rtol=1e-14)


def test_complex_step_refuses_complex_input():
    with pytest.raises(TypeError, match="complex step needs real inputs"):
        cr.fd.gradient(cr.abs, 1 + 1j, scheme="complex-step")


@pytest.mark.parametrize("name", ["erf", "floor", "ceil", "trunc", "sort"])
def test_operations_that_cannot_take_complex_refuse_clearly(name):
    with pytest.raises(TypeError, match=f"{name}.*complex"):
        getattr(cr, name)(cr.tensor(np.array([1.5 + 1j])))


def test_sign_has_zero_gradient_on_complex_input_as_in_jax():
    """JAX's sign has a zero derivative everywhere (defjvp_zero), z/|z| included."""
    assert cr.grad(lambda z: cr.real(cr.sign(z) * 2))(3 + 4j) == 0


def test_var_and_std_of_complex_values_are_numpys():
    t = cr.tensor(Z0, requires_grad=True)
    for ours, theirs in [(cr.var(t, axis=0), np.var(Z0, axis=0)), (cr.std(t), np.std(Z0))]:
        assert ours.dtype == np.float64
        np.testing.assert_array_equal(ours.detach().numpy(), theirs)


def test_angle_refuses_a_non_boolean_deg():
    with pytest.raises(TypeError, match="deg"):
        cr.angle(cr.tensor(ZS), deg="yes")


def test_jacobian_follows_jax_on_complex_values():
    z = np.array([1 + 2j, 0.5 - 1j])
    for mode in ("rev", "fwd"):
        jacobian = cr.jacobian(lambda w: w * w, mode=mode, holomorphic=True)(z)
        np.testing.assert_allclose(jacobian, np.diag(2 * z))
    rows = cr.jacobian(lambda w: cr.abs(w) ** 2)(z)  # real output: each row is a gradient
    np.testing.assert_allclose(rows, np.diag(2 * np.conj(z)))
    with pytest.raises(DtypeError, match="complex output"):
        cr.jacobian(lambda w: w * w)(z)
    with pytest.raises(DtypeError, match="complex input"):
        cr.jacobian(cr.abs, mode="fwd")(z)


def test_repr_names_a_complex_dtype_that_is_not_the_default():
    assert repr(cr.tensor(np.array([1 + 2j], dtype=np.complex64))) == (
        "tensor([1.+2.j], dtype=complex64)"
    )
    assert repr(cr.tensor(1 + 2j)) == "tensor(1.+2.j)"


def test_the_readme_example_prints_what_the_readme_shows():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    printed = [
        str(cr.grad(cr.abs)(3 + 4j)),
        f"{cr.grad(cr.real)(3 + 4j)} {cr.grad(cr.imag)(3 + 4j)}",
        str(cr.grad(cr.angle)(3 + 4j)),
        str(cr.grad(lambda z: cr.abs(z * z + 1j) ** 2)(1 + 2j)),
        f"{cr.grad(lambda x: cr.abs(x * (1 + 2j)))(2.0)}, real",
        str(cr.grad(lambda z: cr.sin(z) * z, holomorphic=True)(1 + 2j)),
        str(cr.jvp(cr.abs, (3 + 4j,), (1j,))),
    ]
    for text in printed:
        assert f"# {text}" in readme, text


@pytest.mark.parametrize("name", sorted(NOT_HOLOMORPHIC - {"sign"}))
def test_vmap_of_the_complex_entries_is_one_call_per_row(name):
    f = getattr(cr, name)
    batched = cr.vmap(f)(Z0)
    np.testing.assert_array_equal(np.asarray(batched), np.stack([f(row).numpy() for row in Z0]))
    loss = cr.grad(lambda w: cr.sum(cr.real(f(w) * (1 + 2j))))
    np.testing.assert_allclose(cr.vmap(loss)(Z0), np.stack([loss(row) for row in Z0]))


def test_jacrev_and_jacfwd_take_holomorphic():
    z = np.array([1 + 2j, 0.5 - 1j])
    for transform in (cr.jacrev, cr.jacfwd):
        np.testing.assert_allclose(
            transform(lambda w: cr.exp(w), holomorphic=True)(z), np.diag(np.exp(z))
        )


def test_a_complex_tangent_or_cotangent_for_a_real_value_is_refused():
    with pytest.raises(DtypeError, match="tangent 0 is complex"):
        cr.jvp(cr.sin, (1.0,), (1j,))
    with pytest.raises(DtypeError, match="tangent 0 is complex"):
        cr.linearize(cr.sin, 1.0)[1](1j)
    _, pullback = cr.vjp(cr.abs, 3 + 4j)
    with pytest.raises(DtypeError, match="cotangent of f's output is complex"):
        pullback(1j)
    x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(DtypeError, match="gradient is complex"):
        (x * 2).backward(gradient=np.array([1j, 1.0]))


NORMS = [
    ({"ord": None}, lambda t, z: t.linalg.norm(z)),
    ({"ord": 1, "axis": 1}, lambda t, z: t.linalg.vector_norm(z, 1, dim=1)),
    ({"ord": 3, "axis": 0}, lambda t, z: t.linalg.vector_norm(z, 3, dim=0)),
    ({"ord": 0.5, "axis": 1}, lambda t, z: t.linalg.vector_norm(z, 0.5, dim=1)),
    ({"ord": np.inf, "axis": 1}, lambda t, z: t.linalg.vector_norm(z, np.inf, dim=1)),
    ({"ord": -np.inf, "axis": 0}, lambda t, z: t.linalg.vector_norm(z, -np.inf, dim=0)),
    ({"ord": "fro", "axis": (0, 1)}, lambda t, z: t.linalg.matrix_norm(z, "fro")),
    ({"ord": 1, "axis": (0, 1)}, lambda t, z: t.linalg.matrix_norm(z, 1)),
    ({"ord": -np.inf, "axis": (0, 1)}, lambda t, z: t.linalg.matrix_norm(z, -np.inf)),
]


#: Moduli, row sums and column sums all distinct: no ties at the kinks of the ±1, ±inf norms.
ZN = Z0 + np.array([[0.1, 0.0, 0.0], [0.0, 0.0, 0.3j]])


@pytest.mark.parametrize(("arguments", "torch_norm"), NORMS, ids=[str(a) for a, _ in NORMS])
def test_norms_of_complex_values(arguments, torch_norm):
    """NumPy's values; gradients ∂/∂x − i·∂/∂y by differences and conj of PyTorch's."""
    t = cr.tensor(ZN, requires_grad=True)
    out = cr.linalg.norm(t, **arguments)
    np.testing.assert_array_equal(out.detach().numpy(), np.linalg.norm(ZN, **arguments))
    weights = np.linspace(1.0, 2.0, out.size).reshape(out.shape)

    def f(z):
        return cr.sum(cr.linalg.norm(z, **arguments) * weights)

    gradient = cr.grad(f)(ZN)
    np.testing.assert_allclose(gradient, _gradient_by_differences(f, ZN), rtol=1e-6, atol=1e-8)
    torch = pytest.importorskip("torch")
    z = torch.tensor(ZN, requires_grad=True)
    (torch_norm(torch, z) * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(gradient, np.conj(z.grad.numpy()), rtol=1e-10, atol=1e-12)


def test_norms_from_the_svd_refuse_complex_input():
    with pytest.raises(TypeError, match="norm: complex"):
        cr.linalg.norm(cr.tensor(Z0[:, :2]), "nuc")


def test_second_order_through_a_complex_norm():
    """grad of |z|_2 is conj(z)/|z|; the gradient of its real part sum, by differences."""

    def f(z):
        return cr.sum(cr.real(cr.grad(lambda w: cr.linalg.norm(w) ** 3)(z)))

    np.testing.assert_allclose(cr.grad(f)(Z0), _gradient_by_differences(f, Z0), rtol=1e-5)


@pytest.mark.parametrize("arguments", [{"ord": 3, "axis": 0}, {"ord": np.inf, "axis": 1}])
def test_second_order_through_complex_p_norms(arguments):
    def f(z):
        inner = cr.grad(lambda w: cr.sum(cr.linalg.norm(w, **arguments) ** 2))
        return cr.sum(cr.real(inner(z) * (1 + 2j)))

    np.testing.assert_allclose(cr.grad(f)(ZN), _gradient_by_differences(f, ZN), rtol=1e-5)
