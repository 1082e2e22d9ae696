"""What chainrule.compile refuses (with CompileError) and what it documents as frozen."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.core import engine
from chainrule.errors import CompileError
from chainrule.jit import compile
from chainrule.tensor import Tensor

X = np.array([[0.5, -1.0], [2.0, 0.25], [-0.5, 1.5]])


def test_higher_order_derivatives_are_refused():
    with pytest.raises(CompileError, match="higher-order"):
        compile(cr.grad(cr.grad(lambda x: x**3)))(2.0)


def test_forward_mode_is_refused():
    with pytest.raises(CompileError, match="forward mode"):
        compile(lambda x: cr.jvp(cr.sin, (x,), (1.0,)))(np.array(0.5))


def test_dropout_in_training_mode_is_refused():
    model = nn.Sequential(nn.Linear(2, 4), nn.Dropout(0.5), nn.Linear(4, 1))
    with pytest.raises(CompileError, match="random"):
        compile(lambda x: model(x).sum())(X)
    model.eval()
    out = compile(lambda x: model(x).sum())(X)
    assert out.item() == model(X).sum().item()


def test_in_place_updates_other_than_optimizer_steps_are_refused():
    w = nn.Parameter(np.ones(2))

    def manual_step(x):
        loss = (w * x).sum()
        loss.backward()
        with cr.no_grad():
            for p in [w]:
                p -= 0.1 * p.grad
        return loss

    with pytest.raises(CompileError, match="in-place update"):
        compile(manual_step)(np.ones(2))


def test_assigning_data_is_refused():
    w = nn.Parameter(np.ones(2))

    def reset(x):
        w.data = np.zeros(2)
        return (w * x).sum()

    with pytest.raises(CompileError, match="in-place update"):
        compile(reset)(np.ones(2))


def test_raw_numpy_on_traced_values_is_refused():
    def f(x):
        h = cr.tanh(cr.as_tensor(x))
        return cr.where(h.data > 0, h, 0.1 * h).sum()  # the mask is computed outside chainrule

    with pytest.raises(CompileError, match=r"\.data of a traced tensor"):
        compile(f)(X)


def test_converted_arguments_are_refused():
    cr.manual_seed(0)
    model = nn.Linear(2, 3)
    labels = np.array([0, 2, 1], dtype=np.int32)  # cross_entropy converts them to np.intp
    with pytest.raises(CompileError, match="converted"):
        compile(lambda x, y: nn.functional.cross_entropy(model(x), y))(X, labels)
    loss = compile(lambda x, y: nn.functional.cross_entropy(model(x), y))(X, labels.astype(np.intp))
    assert np.isfinite(loss.item())


def test_grad_of_tensor_made_inside_is_refused():
    def f(x):
        w = cr.tensor([1.0, 2.0], requires_grad=True)
        (w * x).sum().backward()
        return w.grad

    with pytest.raises(CompileError, match="made inside"):
        compile(f)(np.ones(2))


def test_hooks_are_removed_after_an_error():
    with pytest.raises(CompileError):
        compile(cr.grad(cr.grad(lambda x: x**3)))(2.0)
    assert engine.backprop.__module__ == "chainrule.core.engine"
    assert type(Tensor.__dict__["_data"]).__name__ == "member_descriptor"
    assert cr.grad(cr.grad(lambda x: x**3))(2.0) == 12.0


def test_data_dependent_control_flow_is_refused():
    """A branch on a traced value would be frozen at trace time: refused instead."""

    def f(x):
        if (x.sum() > 0).item():
            return x * 2.0
        return x * 3.0

    with pytest.raises(CompileError, match=r"\.item\(\) of a traced tensor"):
        compile(lambda x: f(cr.as_tensor(x)))(np.ones(2))


def test_static_arguments_are_part_of_the_signature():
    compiled = compile(lambda x, power: (cr.as_tensor(x) ** power).sum())
    assert compiled(np.array([2.0]), 2).item() == 4.0
    assert compiled(np.array([2.0]), 3).item() == 8.0
    assert len(compiled.programs) == 2


def test_step_with_closure_is_refused():
    w = nn.Parameter(np.ones(2))
    opt = optim.SGD([w], lr=0.1)

    def step(x):
        def closure():
            opt.zero_grad()
            loss = (w * x).sum()
            loss.backward()
            return loss

        return opt.step(closure)

    with pytest.raises(CompileError, match="closure"):
        compile(step)(np.ones(2))


def test_compiled_function_inside_a_trace_runs_eagerly():
    inner = compile(lambda x: cr.sin(cr.as_tensor(x)) * 2.0)
    outer = compile(cr.value_and_grad(lambda x: inner(x).sum()))
    inner(np.zeros(3))  # traced on its own first
    x = np.array([0.1, 0.2, 0.3])
    value, gradient = outer(x)
    outer(x)
    x = np.array([1.0, -2.0, 0.5])
    value, gradient = outer(x)
    np.testing.assert_allclose(gradient, 2.0 * np.cos(x), rtol=1e-15)
    assert "sin(" in outer.source  # the inner operations are part of the outer program


def test_unhashable_arguments_are_static_by_identity():
    class Scale:
        __hash__ = None  # an object compile cannot look into: a constant of the signature

        def __init__(self, k):
            self.k = k

    compiled = compile(lambda x, scale: (cr.as_tensor(x) * scale.k).sum())
    first, second = Scale(2.0), Scale(3.0)
    assert compiled(np.ones(2), first).item() == 4.0
    assert compiled(np.ones(2), second).item() == 6.0
    assert compiled(np.ones(2), first).item() == 4.0
    assert len(compiled.programs) == 2


def test_floats_inside_lists_are_traced_not_frozen():
    compiled = compile(lambda x, scale: (cr.as_tensor(x) * scale[0]).sum())
    assert compiled(np.ones(2), [2.0]).item() == 4.0
    assert compiled(np.ones(2), [3.0]).item() == 6.0
    assert len(compiled.programs) == 1
