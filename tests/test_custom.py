"""User-defined operations: custom_op, custom_vjp, custom_jvp and Function.

Oracles: closed forms and central differences (chainrule.fd); each operation is also
checked to be a registered custom primitive recorded on the graph.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import fd
from chainrule.core.primitive import PRIMITIVES
from chainrule.errors import CustomOpError, MissingRuleError


@pytest.fixture(autouse=True)
def registry():
    """Each test's user ops leave the registry as it was."""
    saved = dict(PRIMITIVES)
    yield
    PRIMITIVES.clear()
    PRIMITIVES.update(saved)


def softplus_np(x):
    return np.logaddexp(0.0, x)


def sigmoid_np(x):
    return 1.0 / (1.0 + np.exp(-x))


# --- the four spellings of one operation: softplus ------------------------------------


def make_entry_partials():
    @cr.custom_op(partials=(lambda ans, x: 1 / (1 + np.exp(-x)),))
    def softplus(x):
        return np.log1p(np.exp(x))

    return softplus


def make_entry_vjp_jvp():
    def slope(x, res):
        """The saved sigmoid, or recomputed from Tensor x on a recorded pass (res is None)."""
        return res if res is not None else 1 / (1 + np.exp(-x))

    @cr.custom_op(
        vjps=(lambda g, ans, x, *, res: g * slope(x, res),),
        jvps=(lambda t, ans, x, *, res: t * slope(x, res),),
        residuals=True,
    )
    def softplus(x):
        return np.log1p(np.exp(x)), sigmoid_np(x)

    return softplus


def make_jax_vjp():
    @cr.custom_vjp
    def softplus(x):
        return np.log1p(np.exp(x))

    def fwd(x):
        return softplus(x), 1 / (1 + np.exp(-x))

    def bwd(s, g):
        return (g * s,)

    softplus.defvjp(fwd, bwd)
    return softplus


def make_jax_jvp():
    @cr.custom_jvp
    def softplus(x):
        return np.log1p(np.exp(x))

    @softplus.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return softplus(x), t / (1 + np.exp(-x))

    return softplus


def make_function():
    class Softplus(cr.Function):
        name = "softplus"

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(1 / (1 + np.exp(-x)))
            return np.log1p(np.exp(x))  # NumPy calls that Tensors dispatch: rerun when recorded

        @staticmethod
        def backward(ctx, g):
            (s,) = ctx.saved_tensors
            return g * s

        @staticmethod
        def jvp(ctx, t):
            (s,) = ctx.saved_tensors
            return t * s

    return Softplus.apply


def make_function_jvp_only():
    class Softplus(cr.Function):
        name = "softplus"

        @staticmethod
        def forward(ctx, x):
            ctx.x = x
            return np.log1p(np.exp(x))

        @staticmethod
        def jvp(ctx, t):
            return t / (1 + np.exp(-ctx.x))

    return Softplus.apply


MAKERS = {
    "entry_partials": make_entry_partials,
    "entry_vjp_jvp": make_entry_vjp_jvp,
    "jax_vjp": make_jax_vjp,
    "jax_jvp": make_jax_jvp,
    "function": make_function,
    "function_jvp_only": make_function_jvp_only,
}
FORWARD_MODE = {"entry_partials", "entry_vjp_jvp", "jax_jvp", "function", "function_jvp_only"}
X = np.array([-1.5, 0.2, 2.0])


@pytest.fixture(params=sorted(MAKERS))
def spelled(request):
    return request.param, MAKERS[request.param]()


def test_value_and_recorded_node(spelled):
    _, softplus = spelled
    np.testing.assert_allclose(softplus(X), softplus_np(X))
    x = cr.tensor(X, requires_grad=True)
    y = softplus(x)
    assert isinstance(y, cr.Tensor) and y.grad_fn == "softplus"
    assert PRIMITIVES["softplus"].kind == "custom"


def test_backward_and_grad_match_closed_form(spelled):
    _, softplus = spelled
    x = cr.tensor(X, requires_grad=True)
    (softplus(x) * X).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), X * sigmoid_np(X), rtol=1e-12)
    g = cr.grad(lambda v: softplus(v).sum())(X)
    np.testing.assert_allclose(g, sigmoid_np(X), rtol=1e-12)


def test_second_order_hessian_and_create_graph(spelled):
    _, softplus = spelled
    s = sigmoid_np(0.7)
    assert cr.grad(cr.grad(softplus))(0.7) == pytest.approx(s * (1 - s), rel=1e-10)
    x = cr.tensor(0.7, requires_grad=True)
    softplus(x).backward(create_graph=True)
    (dx,) = [x.grad]
    x.grad = None
    dx.backward()
    assert x.grad.item() == pytest.approx(s * (1 - s), rel=1e-10)
    third = cr.grad(cr.grad(cr.grad(softplus)))(0.7)
    assert third == pytest.approx(s * (1 - s) * (1 - 2 * s), rel=1e-8)


def test_hessian_against_finite_differences(spelled):
    kind, softplus = spelled

    def f(v):
        return (softplus(v) * v).sum()

    if kind not in FORWARD_MODE:
        # Forward-over-reverse pushes tangents through softplus(v) itself, in f's gradient.
        with pytest.raises(MissingRuleError, match="'softplus'"):
            cr.hessian(f)(X)
        # Its own gradient is written in library operations: that Hessian is fine.
        s = sigmoid_np(X)
        np.testing.assert_allclose(
            cr.hessian(lambda v: softplus(v).sum())(X), np.diag(s * (1 - s)), rtol=1e-10
        )
        return
    h = cr.hessian(f)(X)
    numeric = fd.jacobian(lambda v: cr.grad(f)(v), X)[0]
    np.testing.assert_allclose(h, numeric, rtol=1e-6, atol=1e-8)


def test_forward_mode(spelled):
    kind, softplus = spelled
    if kind not in FORWARD_MODE:
        with pytest.raises(MissingRuleError, match="'softplus'.*forward mode"):
            cr.jvp(softplus, (X,), (np.ones(3),))
        return
    out, tangent = cr.jvp(softplus, (X,), (np.array([1.0, 2.0, -1.0]),))
    np.testing.assert_allclose(out, softplus_np(X))
    np.testing.assert_allclose(tangent, sigmoid_np(X) * [1.0, 2.0, -1.0], rtol=1e-12)


def test_gradcheck(spelled):
    kind, softplus = spelled
    modes = ("rev", "fwd") if kind in FORWARD_MODE else ("rev",)
    assert cr.gradcheck(lambda v: softplus(v) * v, X, modes=modes)


def test_explainer_shows_the_op(spelled):
    _, softplus = spelled
    report = cr.explain(lambda x: softplus(x) * x, x=0.5)
    text = str(report)
    assert "softplus" in text
    s = sigmoid_np(0.5)
    assert report.trace.gradient()["x"] == pytest.approx(s * 0.5 + softplus_np(0.5))


def test_compile(spelled):
    _, softplus = spelled

    def loss(v):
        return (softplus(v) * v).sum()

    compiled = cr.compile(cr.value_and_grad(loss))
    for point in (X, X + 1.0):
        value, gradient = compiled(point)
        expected_value, expected_gradient = cr.value_and_grad(loss)(point)
        assert value == pytest.approx(expected_value)
        np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-12)


# --- several arguments, keyword parameters, broadcasting -------------------------------


def test_two_arguments_with_a_parameter_and_broadcasting():
    @cr.custom_op(
        vjps=(
            lambda g, ans, x, y, *, scale: g * scale * y,
            lambda g, ans, x, y, *, scale: g * scale * x,
        ),
        jvps=(
            lambda t, ans, x, y, *, scale: t * scale * y,
            lambda t, ans, x, y, *, scale: t * scale * x,
        ),
    )
    def scaled_product(x, y, *, scale):
        return scale * x * y

    x, y = np.array([[1.0], [2.0]]), np.array([3.0, -1.0, 0.5])
    dx, dy = cr.grad(lambda a, b: scaled_product(a, b, scale=2.0).sum(), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(dx, 2.0 * y.sum() * np.ones((2, 1)))
    np.testing.assert_allclose(dy, 2.0 * x.sum() * np.ones(3))
    assert cr.gradcheck(lambda a, b: scaled_product(a, b, scale=2.0), x, y)


def test_custom_vjp_bwd_runs_once_per_application():
    calls = []

    @cr.custom_vjp
    def mul(x, y):
        return x * y

    def bwd(res, g):
        calls.append(1)
        x, y = res
        return g * y, g * x

    mul.defvjp(lambda x, y: (mul(x, y), (x, y)), bwd)
    dx, dy = cr.grad(lambda a, b: mul(a, b), argnums=(0, 1))(3.0, 4.0)
    assert (dx, dy, len(calls)) == (4.0, 3.0, 1)
    # Two applications on the same operands are two nodes: each gets its own call.
    calls.clear()
    assert cr.grad(lambda a: mul(a, a) + mul(a, 2.0 * a))(3.0) == pytest.approx(18.0)
    assert len(calls) == 2


def test_custom_vjp_with_keyword_parameter_and_none_cotangent():
    @cr.custom_vjp
    def shifted_power(x, n, *, shift=0.0):
        return (x + shift) ** n

    def fwd(x, n, *, shift=0.0):
        return shifted_power(x, n, shift=shift), (x + shift, n)

    def bwd(res, g):
        base, n = res
        return g * n * base ** (n - 1), None

    shifted_power.defvjp(fwd, bwd)
    f = lambda x: shifted_power(x, 3.0, shift=1.0)  # noqa: E731
    assert cr.grad(f)(1.0) == pytest.approx(12.0)
    assert cr.grad(cr.grad(f))(1.0) == pytest.approx(12.0)
    assert cr.grad(lambda n: shifted_power(2.0, n))(3.0) == 0.0  # declared: no gradient for n


def test_nested_custom_ops_and_vector_hessian():
    op = make_function()

    def f(v):
        return (op(op(v) * v)).sum()

    assert cr.gradcheck(f, X)
    h = cr.hessian(f)(X)
    numeric = fd.jacobian(lambda v: cr.grad(f)(v), X)[0]
    np.testing.assert_allclose(h, numeric, rtol=1e-6, atol=1e-8)


def test_jvp_only_op_reverse_mode_matrix_argument():
    """A custom_jvp op on a matrix: reverse mode is the transposed JVP."""

    @cr.custom_jvp
    def matsquare(a):
        return a @ a

    @matsquare.defjvp
    def _(primals, tangents):
        (a,), (t,) = primals, tangents
        return matsquare(a), t @ a + a @ t

    a = np.array([[1.0, 2.0], [-0.5, 0.3]])
    u = np.array([[1.0, -2.0], [0.5, 4.0]])
    g = cr.grad(lambda m: (matsquare(m) * u).sum())(a)
    np.testing.assert_allclose(g, u @ a.T + a.T @ u, rtol=1e-12)
    assert cr.gradcheck(matsquare, a)
    h = cr.hessian(lambda m: (matsquare(m) * u).sum() ** 2)(a)
    numeric = fd.jacobian(lambda m: cr.grad(lambda k: (matsquare(k) * u).sum() ** 2)(m), a)[0]
    np.testing.assert_allclose(h, numeric, rtol=1e-5, atol=1e-7)


# --- contracts: errors that name the op ---------------------------------------------------


def test_bwd_with_the_wrong_number_or_shape_of_cotangents_is_refused():
    @cr.custom_vjp
    def f(x, y):
        return x * y

    f.defvjp(lambda x, y: (f(x, y), (x, y)), lambda res, g: (g * res[1],))
    with pytest.raises(CustomOpError, match=r"'f'.*1 cotangent.*2 positional"):
        cr.grad(f)(1.0, 2.0)

    @cr.custom_vjp
    def h(x):
        return x.sum()

    h.defvjp(lambda x: (h(x), x), lambda x, g: (g,))
    with pytest.raises(CustomOpError, match=r"'h'.*shape \(\).*shape \(3,\)"):
        cr.grad(h)(X)


def test_forward_must_return_a_pair_with_residuals():
    @cr.custom_op(vjps=(lambda g, ans, x, *, res: g,), residuals=True)
    def ident(x):
        return x

    with pytest.raises(CustomOpError, match="'ident'.*pair"):
        ident(cr.tensor(1.0, requires_grad=True))


def test_an_op_needs_a_derivative_and_a_name():
    with pytest.raises(CustomOpError, match="'plain'.*partials="):
        cr.custom_op(lambda x: x, name="plain")
    with pytest.raises(CustomOpError, match="not an identifier"):
        cr.custom_op(lambda x: x, partials=(lambda ans, x: 1,))
    with pytest.raises(CustomOpError, match="'Broken'.*backward"):

        class Broken(cr.Function):
            @staticmethod
            def forward(ctx, x):
                return x


def test_custom_vjp_before_defvjp():
    @cr.custom_vjp
    def f(x):
        return 2 * x

    assert f(3.0) == 6.0  # plain values need no rule
    with pytest.raises(CustomOpError, match=r"'f'.*defvjp\(fwd, bwd\)"):
        cr.grad(f)(1.0)


# --- names --------------------------------------------------------------------------------


def test_a_library_name_is_refused():
    with pytest.raises(CustomOpError, match="'sin'.*chainrule's elementwise primitive"):
        cr.custom_op(np.sin, name="sin", partials=(lambda ans, x: np.cos(x),))
    assert PRIMITIVES["sin"].kind == "elementwise"


def define_twice():
    """The same definition site run twice, as when a notebook cell is rerun."""
    ops = []
    for scale in (2.0, 3.0):

        @cr.custom_op(name="scaled", partials=(lambda ans, x, scale=scale: scale,))
        def scaled(x, scale=scale):
            return scale * x

        ops.append(scaled)
    return ops


def test_redefinition_replaces_and_retires_the_old_op():
    old, new = define_twice()
    assert PRIMITIVES["scaled"] is new.primitive
    assert cr.grad(new)(1.0) == 3.0
    with pytest.raises(CustomOpError, match="'scaled' was redefined"):
        old(cr.tensor(1.0, requires_grad=True))


def test_graphs_recorded_before_a_redefinition_keep_their_rules():
    @cr.custom_op(name="scaled", partials=(lambda ans, x: 2.0,))
    def first(x):
        return 2.0 * x

    x = cr.tensor(1.0, requires_grad=True)
    y = first(x)
    with pytest.raises(CustomOpError, match="already defined by"):  # another site, same name

        @cr.custom_op(name="scaled", partials=(lambda ans, x: 3.0,))
        def second(x):
            return 3.0 * x

    y.backward()
    assert x.grad.item() == 2.0


# --- symbolic ----------------------------------------------------------------------------


def test_symbolic_diff_of_a_custom_op_with_notation():
    from chainrule import symbolic as S

    @cr.custom_op(
        partials=(lambda ans, x: 1 / (1 + np.exp(-x)),),
        notation=cr.Notation(latex=r"\operatorname{softplus}"),
    )
    def softplus(x):
        return np.log1p(np.exp(x))

    expr = S.parse("softplus(x) * x")
    derivative = S.diff(expr, "x")
    value = float(S.evaluate(derivative, x=0.5))
    assert value == pytest.approx(sigmoid_np(0.5) * 0.5 + softplus_np(0.5))


# --- residuals: the fused cross-entropy ------------------------------------------------------


def test_cross_entropy_saves_softmax_and_matches_closed_form():
    from chainrule.ops import nn as nn_ops
    from chainrule.tensor import apply

    rng = np.random.default_rng(0)
    logits = rng.standard_normal((4, 5))
    target = np.array([0, 4, 2, 2])
    params = {"target": target, "label_smoothing": 0.0, "reduction": "mean"}
    z = cr.tensor(logits, requires_grad=True)
    loss = apply(nn_ops.cross_entropy, (z,), params)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(loss._res, p, rtol=1e-12)
    loss.backward()
    np.testing.assert_allclose(z.grad.numpy(), (p - np.eye(5)[target]) / 4, rtol=1e-12)
    # Second order: the Hessian of the mean loss is the block diagonal (diag(p) - p p') / N.
    h = cr.hessian(lambda v: apply(nn_ops.cross_entropy, (v,), params))(logits)
    for row in range(4):
        block = (np.diag(p[row]) - np.outer(p[row], p[row])) / 4
        np.testing.assert_allclose(h[row, :, row, :], block, rtol=1e-9, atol=1e-12)


def test_custom_op_with_an_integer_result_does_not_require_grad():
    @cr.custom_op(vjps=(lambda g, ans, x: g * 0,))
    def count_positive(x):
        return (x > 0).astype(np.int64).sum()

    x = cr.tensor([1.0, -2.0, 3.0], requires_grad=True)
    count = count_positive(x)
    assert count.dtype == np.int64
    assert not count.requires_grad and count.grad_fn is None
    (count * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_custom_vjp_with_a_boolean_result_does_not_require_grad():
    @cr.custom_vjp
    def positive(x):
        return x > 0

    positive.defvjp(lambda x: (positive(x), None), lambda res, g: (g,))
    x = cr.tensor([1.0, -2.0], requires_grad=True)
    flags = positive(x)
    assert flags.dtype == np.bool_ and not flags.requires_grad
