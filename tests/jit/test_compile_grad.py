"""chainrule.compile on gradient functions: the same numbers as eager mode, bit for bit."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.core import engine
from chainrule.errors import CompileError
from chainrule.examples import GRADIENT, VALUE, seed_function
from chainrule.jit import compile
from chainrule.tensor import Tensor

RNG = np.random.default_rng(7)


def test_seed_function_gradient_equals_eager_bit_for_bit():
    eager = cr.value_and_grad(seed_function, argnums=(0, 1))
    compiled = compile(cr.value_and_grad(seed_function, argnums=(0, 1)))
    first = compiled(2.0, 3.0)  # traces
    assert compiled(2.0, 3.0) == first == eager(2.0, 3.0)
    assert first[0] == pytest.approx(VALUE, rel=1e-15)
    assert first[1] == pytest.approx((GRADIENT["x"], GRADIENT["z"]), rel=1e-15)
    for x, z in [(1.5, -0.7), (3.25, 2.0), (0.2, 11.0)]:
        assert compiled(x, z) == eager(x, z)
    assert len(compiled.programs) == 1  # new values of the same signature: no retrace


def test_source_is_readable_straight_line_code():
    compiled = compile(cr.value_and_grad(seed_function, argnums=(0, 1)))
    with pytest.raises(RuntimeError, match="call it once"):
        compiled.source  # noqa: B018 - the property raises
    compiled(2.0, 3.0)
    source = compiled.source
    assert source.startswith("def seed_function(x0, x1):")
    # log(x) appears twice in the function but is computed once.
    assert source.count("log(x0)") == 1
    assert "multiply_vjp0(" in source and "# backward of" in source
    assert "return (" in source and ".item()" in source


def broadcasting_loss(w, b, x):
    """Uses h twice and broadcasts b over the batch: fan-in and unbroadcasting."""
    h = x @ w + b
    return (cr.sigmoid(h) * h).sum() + (h * h).mean()


def test_broadcasting_and_fan_in_match_eager():
    w, b, x = RNG.standard_normal((3, 4)), RNG.standard_normal(4), RNG.standard_normal((5, 3))
    eager = cr.value_and_grad(broadcasting_loss, argnums=(0, 1))
    compiled = compile(cr.value_and_grad(broadcasting_loss, argnums=(0, 1)))
    for _ in range(2):
        value, (gw, gb) = compiled(w, b, x)
        ref_value, (ref_gw, ref_gb) = eager(w, b, x)
        assert value == ref_value
        np.testing.assert_array_equal(gw, ref_gw)
        np.testing.assert_array_equal(gb, ref_gb)
        w, x = w + 0.5, x * 1.5
    assert "fit_to(" in compiled.source  # b's gradient summed over the batch by the engine
    assert "np.add(" in compiled.source  # h's two contributions summed in place


def test_float32_stays_float32():
    w = RNG.standard_normal((4, 3)).astype(np.float32)
    x = RNG.standard_normal((6, 4)).astype(np.float32)

    def loss(w, x):
        return cr.tanh(x @ w).sum() * 0.5

    compiled = compile(cr.value_and_grad(loss))
    compiled(w, x)
    value, gradient = compiled(w, x)
    ref_value, ref_gradient = cr.value_and_grad(loss)(w, x)
    assert gradient.dtype == np.float32
    np.testing.assert_allclose(gradient, ref_gradient, rtol=1e-6)
    assert value == pytest.approx(ref_value, rel=1e-6)


def test_retraces_on_new_shape_and_dtype():
    compiled = compile(cr.grad(lambda w: (w * w * w).sum()))
    np.testing.assert_array_equal(compiled(np.array([1.0, 2.0])), [3.0, 12.0])
    np.testing.assert_array_equal(compiled(np.array([1.0, 2.0, 3.0])), [3.0, 12.0, 27.0])
    result = compiled(np.array([2.0], dtype=np.float32))
    assert result.dtype == np.float32 and result[0] == 12.0
    np.testing.assert_array_equal(compiled(np.array([-1.0, 0.5])), [3.0, 0.75])
    assert [p.signature for p in compiled.programs] == [
        "compiled(x0: float64[2])",
        "compiled(x0: float64[3])",
        "compiled(x0: float32[1])",
    ]


def test_backward_into_grad_accumulates_like_eager():
    def make():
        w = nn.Parameter(np.array([0.5, -1.0, 2.0]))

        def f(x):
            loss = (cr.sin(w * x) * w).sum()
            loss.backward()
            return loss, w.grad

        return w, f

    w_eager, f_eager = make()
    w_comp, f_comp = make()
    compiled = compile(f_comp)
    x = np.array([1.0, 2.0, 3.0])
    for _ in range(3):  # no zero_grad: gradients add up over the calls, in both modes
        loss, grad = compiled(x)
        ref_loss, ref_grad = f_eager(x)
        assert loss.item() == ref_loss.item()
        np.testing.assert_array_equal(grad.data, ref_grad.data)
    np.testing.assert_array_equal(w_comp.grad.data, w_eager.grad.data)
    assert not np.array_equal(w_comp.grad.data, ref_grad.data * 0)


def test_comparisons_and_where_are_traced_not_frozen():
    def f(x):
        return cr.where(x > 0, x * x, -x).sum()

    compiled = compile(cr.value_and_grad(f))
    compiled(np.array([1.0, 2.0, 3.0]))
    x = np.array([-1.0, 2.0, -3.0])
    value, gradient = compiled(x)
    assert value == 1.0 + 4.0 + 3.0
    np.testing.assert_array_equal(gradient, [-1.0, 4.0, -1.0])
    assert "greater(" in compiled.source


def test_hooks_are_removed_after_tracing():
    compile(cr.grad(lambda w: (w * w).sum()))(np.ones(2))
    assert engine.backprop.__module__ == "chainrule.core.engine"
    assert type(Tensor.__dict__["_data"]).__name__ == "member_descriptor"
    x = cr.tensor(2.0, requires_grad=True)
    (x * x).backward()
    assert x.grad.item() == 4.0


def test_data_of_a_computed_value_is_refused_not_frozen():
    """.data hands a traced value to Python: refused, where .detach() stays traced."""

    def normalized(x):
        s = (x * x).sum()
        return (x / s.data).sum()

    with pytest.raises(CompileError, match=r"\.data of a traced tensor"):
        compile(normalized)(cr.tensor([1.0, 2.0]))


def test_detached_computed_scalar_is_traced_not_frozen():
    """x / norm.detach() with a 0-d norm replays with each call's norm."""

    def normalized(x):
        return (x / (x * x).sum().detach()).sum()

    compiled = compile(normalized)
    for values in ([1.0, 2.0], [3.0, 5.0]):
        x = cr.tensor(values)
        assert compiled(x).item() == normalized(x).item()


def test_a_forward_that_hands_back_its_operand_is_not_mistaken_for_it():
    """relu of a positive NumPy scalar returns the scalar itself; a trace follows values by
    identity, so compiled (and vmapped) gradients read relu's result as its operand, and at a
    point where relu is flat they gave b - a instead of 0."""

    def g(a, b):
        return cr.relu(b - a) * a

    compiled = cr.compile(cr.grad(g))
    for a, b in ((-4.0, 2.0), (0.8, -0.08), (-1.0, 3.0)):
        assert compiled(np.float64(a), np.float64(b)) == cr.grad(g)(np.float64(a), np.float64(b))

    def f(a, b):
        return 10.0 / (cr.relu(b - a) + a) ** 2

    a, b = np.array([-4.0, 0.8]), np.array([2.0, -0.08])
    expected = [cr.grad(f)(x, y) for x, y in zip(a, b, strict=True)]
    np.testing.assert_allclose(cr.vmap(cr.grad(f))(a, b), expected, rtol=1e-12)

    power = cr.compile(cr.grad(lambda m: (cr.linalg.matrix_power(m, 1) * m).sum()))
    for scale in (1.0, -2.0):
        m = scale * np.eye(2)
        np.testing.assert_allclose(power(m), 2 * m)
