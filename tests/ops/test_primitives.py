"""Every primitive in the registry, checked automatically.

The oracle is the primitive's own forward function, differentiated by central
differences in float64 with plain NumPy (no Tensor machinery involved). A new
primitive gets these checks by being registered with samples or domains.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import chainrule as cr
from chainrule.core.mode import complex_step
from chainrule.core.primitive import PRIMITIVES
from chainrule.tensor import apply

STEP = 1e-6
DIFFERENTIABLE = sorted(name for name, p in PRIMITIVES.items() if p.differentiable)

UNARY_SHAPES = [((),), ((3,),), ((2, 3),)]
BINARY_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3, 1), (1, 4)), ((), (2, 2))]
TERNARY_SHAPES = [((2, 3), (2, 3), (2, 3)), ((3,), (2, 3), ())]


def cases(prim, seed=0):
    """(args, params) pairs drawn inside the primitive's domain."""
    rng = np.random.default_rng(seed)
    if prim.sample is not None:
        return prim.sample(rng)
    shapes = {1: UNARY_SHAPES, 2: BINARY_SHAPES, 3: TERNARY_SHAPES}[len(prim.domains)]
    return [
        (tuple(domain(rng, shape) for domain, shape in zip(prim.domains, combo, strict=True)), {})
        for combo in shapes
    ]


def diff_positions(prim, args):
    """The differentiable arguments; None stands for an absent optional operand (a clip bound)."""
    return [i for i in range(len(args)) if prim.vjp(i) is not None and args[i] is not None]


def numeric_vjp(prim, args, params, u, i):
    """d<u, f(args)>/d args[i] by central differences on the forward function."""
    x = np.array(args[i], dtype=np.float64)
    grad = np.zeros_like(x)
    for k in range(x.size):
        values = []
        for sign in (1, -1):
            moved = x.copy()
            moved.reshape(-1)[k] += sign * STEP
            shifted = list(args)
            shifted[i] = moved
            values.append(np.sum(u * prim.evaluate(*shifted, **params)))
        grad.reshape(-1)[k] = (values[0] - values[1]) / (2 * STEP)
    return grad


def numeric_jvp(prim, args, params, tangents):
    """d f(args + h * tangents)/dh at h = 0 by central differences."""
    plus = [a + STEP * t if t is not None else a for a, t in zip(args, tangents, strict=True)]
    minus = [a - STEP * t if t is not None else a for a, t in zip(args, tangents, strict=True)]
    return (prim.evaluate(*plus, **params) - prim.evaluate(*minus, **params)) / (2 * STEP)


def engine_vjp(prim, args, params, u, create_graph=False):
    tensors = [
        None if a is None else cr.tensor(a, requires_grad=i in diff_positions(prim, args))
        for i, a in enumerate(args)
    ]
    out = apply(prim, tuple(tensors), params)
    out.backward(gradient=u, create_graph=create_graph)
    return tensors, out


def random_like(rng, a):
    return rng.standard_normal(np.shape(a))


def assert_close(actual, expected, what):
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-7, err_msg=what)


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_registry_entry_is_complete(name):
    prim = PRIMITIVES[name]
    assert prim.sample is not None or prim.domains is not None, f"{name} has no test inputs"
    for args, _ in cases(prim):
        for i in range(len(args)):
            assert (prim.vjp(i) is None) == (prim.jvp(i) is None), f"{name} arg {i}"
        assert diff_positions(prim, args), f"{name} has no differentiable argument"


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_vjp_matches_finite_differences(name):
    prim = PRIMITIVES[name]
    rng = np.random.default_rng(1)
    for args, params in cases(prim):
        out_shape = np.shape(prim.evaluate(*args, **params))
        u = rng.standard_normal(out_shape)
        tensors, _ = engine_vjp(prim, args, params, u)
        for i in diff_positions(prim, args):
            assert tensors[i].grad.shape == np.shape(args[i])
            expected = numeric_vjp(prim, args, params, u, i)
            assert_close(tensors[i].grad.numpy(), expected, f"{name} VJP wrt arg {i} {params}")


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_jvp_matches_finite_differences_and_is_adjoint_to_vjp(name):
    prim = PRIMITIVES[name]
    rng = np.random.default_rng(2)
    for args, params in cases(prim):
        positions = diff_positions(prim, args)
        tangents = [random_like(rng, a) if i in positions else None for i, a in enumerate(args)]

        def f(*xs, args=args, positions=positions, params=params):
            full = list(args)
            for i, x in zip(positions, xs, strict=True):
                full[i] = x
            return apply(prim, tuple(full), params)

        primals = [args[i] for i in positions]
        _, tangent_out = cr.jvp(f, primals, [tangents[i] for i in positions])
        expected = numeric_jvp(prim, args, params, tangents)
        assert_close(tangent_out, expected, f"{name} JVP {params}")

        u = rng.standard_normal(np.shape(expected))
        tensors, _ = engine_vjp(prim, args, params, u)
        lhs = np.sum(u * tangent_out)
        rhs = sum(np.sum(tensors[i].grad.numpy() * tangents[i]) for i in positions)
        tol = 1e-10 if all(np.asarray(a).dtype != np.float32 for a in args) else 1e-6
        assert np.isclose(lhs, rhs, rtol=tol, atol=tol), f"{name}: <u,Jv> != <J'u,v>"


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_vjp_rule_is_itself_differentiable(name):
    """create_graph records the VJP rule; its derivative must match differences of the rule."""
    prim = PRIMITIVES[name]
    rng = np.random.default_rng(3)
    for args, params in cases(prim):
        u = rng.standard_normal(np.shape(prim.evaluate(*args, **params)))
        for i in diff_positions(prim, args):
            w = random_like(rng, args[i])

            def pulled_back(*values, params=params, u=u, w=w, i=i):
                tensors, _ = engine_vjp(prim, values, params, u)
                return np.sum(w * tensors[i].grad.numpy())

            tensors, _ = engine_vjp(prim, args, params, u, create_graph=True)
            second = (w * tensors[i].grad).sum()
            if not second.requires_grad:  # a linear rule: the VJP does not depend on the inputs
                continue
            for t in tensors:
                t.grad = None
            second.backward()
            for j in diff_positions(prim, args):
                x = np.array(args[j], dtype=np.float64)
                expected = np.zeros_like(x)
                for k in range(x.size):
                    values = []
                    for sign in (1, -1):
                        moved = list(args)
                        moved[j] = x.copy()
                        moved[j].reshape(-1)[k] += sign * STEP
                        values.append(pulled_back(*moved))
                    expected.reshape(-1)[k] = (values[0] - values[1]) / (2 * STEP)
                actual = tensors[j].grad.numpy() if tensors[j].grad is not None else 0 * x
                np.testing.assert_allclose(
                    actual, expected, rtol=1e-4, atol=1e-6, err_msg=f"{name} second order {i},{j}"
                )


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_float32_in_float32_gradient_out(name):
    prim = PRIMITIVES[name]
    args, params = cases(prim)[0]
    args32 = tuple(
        a.astype(np.float32) if a is not None and a.dtype.kind == "f" else a for a in args
    )
    u = np.ones(np.shape(prim.evaluate(*args32, **params)), dtype=np.float32)
    tensors, out = engine_vjp(prim, args32, params, u)
    if name != "cast":
        assert out.dtype == np.float32
    for i in diff_positions(prim, args32):
        assert tensors[i].grad.dtype == np.float32, f"{name} arg {i}"
        assert tensors[i].grad.shape == args32[i].shape


BINARY_ELEMENTWISE = sorted(
    name
    for name, p in PRIMITIVES.items()
    if p.differentiable
    and p.kind == "elementwise"
    and p.domains is not None
    and len(p.domains) == 2
)


@pytest.mark.parametrize("name", BINARY_ELEMENTWISE)
@settings(max_examples=15, deadline=None)
@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
    seed=st.integers(0, 2**16),
)
def test_binary_broadcasting_gradients(name, shapes, seed):
    prim = PRIMITIVES[name]
    rng = np.random.default_rng(seed)
    args = tuple(
        domain(rng, shape) for domain, shape in zip(prim.domains, shapes.input_shapes, strict=True)
    )
    u = rng.standard_normal(shapes.result_shape)
    tensors, _ = engine_vjp(prim, args, {}, u)
    for i in range(2):
        assert tensors[i].grad.shape == shapes.input_shapes[i]
        assert_close(tensors[i].grad.numpy(), numeric_vjp(prim, args, {}, u, i), f"{name} {i}")


def test_sign_passes_no_gradient():
    x = cr.tensor([-1.5, 2.0], requires_grad=True)
    (cr.sign(x) * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, 1.0])


COMPLEX_STEP = 1e-20


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_complex_step_agrees_or_complex_input_is_refused(name):
    """Every primitive is complex-step safe (its forward is the real-analytic extension, kinks
    decided by the real part), or refuses complex input with a clear TypeError."""
    prim = PRIMITIVES[name]
    rng = np.random.default_rng(4)
    for args, params in cases(prim):
        for i in diff_positions(prim, args):
            v = rng.standard_normal(np.shape(args[i]))
            stepped = list(args)
            stepped[i] = args[i] + 1j * COMPLEX_STEP * v
            try:
                with complex_step():
                    out = prim.evaluate(*stepped, **params)
            except TypeError as error:
                assert "complex" in str(error), f"{name}: unclear refusal {error!r}"
                return
            tangents = [None] * len(args)
            tangents[i] = v
            assert_close(
                np.imag(out) / COMPLEX_STEP,
                numeric_jvp(prim, args, params, tangents),
                f"{name} complex step wrt arg {i} {params}",
            )
