"""chainrule.compile on whole training steps: N compiled steps leave the model as N eager steps."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.errors import CompileError
from chainrule.jit import compile

X_XOR = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y_XOR = np.array([[0.0], [1.0], [1.0], [0.0]])


def training_step(model, opt, loss_fn):
    """The usual eager step: zero_grad, loss, backward, update; returns the loss."""

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def xor_setup(seed=0, lr=0.5):
    """The recitation's 2-2-1 sigmoid network, MSE, SGD, and its training step."""
    cr.manual_seed(seed)
    model = nn.MLP([2, 2, 1], activation="sigmoid", output_activation="sigmoid")
    opt = optim.SGD(model.parameters(), lr=lr)
    return model, opt, training_step(model, opt, nn.MSELoss())


def assert_same_parameters(a, b, **tolerance):
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        if tolerance:
            np.testing.assert_allclose(p.data, q.data, err_msg=name, **tolerance)
            np.testing.assert_allclose(p.grad.data, q.grad.data, err_msg=name, **tolerance)
        else:
            np.testing.assert_array_equal(p.data, q.data, err_msg=name)
            np.testing.assert_array_equal(p.grad.data, q.grad.data, err_msg=name)


def test_xor_sgd_steps_equal_eager_bit_for_bit():
    eager_model, _, eager_step = xor_setup()
    model, _, step = xor_setup()
    start = [p.data.copy() for p in model.parameters()]
    compiled = compile(step)
    for _ in range(25):
        ref = eager_step(X_XOR, Y_XOR)
        loss = compiled(X_XOR, Y_XOR)
        assert loss.item() == ref.item()
    assert_same_parameters(model, eager_model)
    assert not np.array_equal(start[0], model[0].weight.data)  # it did train
    assert len(compiled.programs) == 1
    assert compiled.source.count("linear(") == 2 and "sgd0.step()" in compiled.source


def test_eager_and_compiled_steps_mix():
    eager_model, _, eager_step = xor_setup(seed=3)
    model, opt, step = xor_setup(seed=3)
    compiled = compile(step)
    for i in range(6):
        eager_step(X_XOR, Y_XOR)
        (step if i % 2 else compiled)(X_XOR, Y_XOR)
    assert_same_parameters(model, eager_model)


def test_hyperparameters_and_reloaded_weights_are_read_at_every_call():
    eager_model, eager_opt, eager_step = xor_setup(seed=1)
    model, opt, step = xor_setup(seed=1)
    compiled = compile(step)
    compiled(X_XOR, Y_XOR)
    eager_step(X_XOR, Y_XOR)
    for o in (opt, eager_opt):
        o.param_groups[0]["lr"] = 0.05
    snapshot = {k: v.copy() for k, v in eager_model.state_dict().items()}
    for m in (model, eager_model):
        m.load_state_dict(snapshot)
    for _ in range(3):
        assert compiled(X_XOR, Y_XOR).item() == eager_step(X_XOR, Y_XOR).item()
    assert_same_parameters(model, eager_model)


def test_retraces_for_a_new_batch_size():
    eager_model, _, eager_step = xor_setup(seed=2)
    model, _, step = xor_setup(seed=2)
    compiled = compile(step)
    for x, y in [(X_XOR, Y_XOR), (X_XOR[:3], Y_XOR[:3]), (X_XOR, Y_XOR), (X_XOR[1:], Y_XOR[1:])]:
        assert compiled(x, y).item() == eager_step(x, y).item()
    assert_same_parameters(model, eager_model)
    assert [p.signature for p in compiled.programs] == [
        "step(x0: float64[4, 2], x1: float64[4, 1])",
        "step(x0: float64[3, 2], x1: float64[3, 1])",
    ]


def mlp_setup(make_optimizer):
    cr.manual_seed(0)
    model = nn.MLP([784, 256, 128, 10], activation="relu", dtype=np.float32)
    opt = make_optimizer(model.parameters())
    return model, training_step(model, opt, nn.CrossEntropyLoss())


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda params: optim.SGD(params, lr=0.05),
        lambda params: optim.SGD(params, lr=0.05, momentum=0.9, weight_decay=1e-4),
        lambda params: optim.Adam(params, lr=1e-3),
    ],
    ids=["sgd", "sgd-momentum", "adam"],
)
def test_mlp_float32_steps_equal_eager(make_optimizer):
    rng = np.random.default_rng(0)
    eager_model, eager_step = mlp_setup(make_optimizer)
    model, step = mlp_setup(make_optimizer)
    compiled = compile(step)
    for _ in range(3):
        x = rng.standard_normal((32, 784)).astype(np.float32)
        y = rng.integers(0, 10, 32)
        loss, ref = compiled(x, y), eager_step(x, y)
        assert loss.dtype == np.float32
        assert loss.item() == pytest.approx(ref.item(), rel=1e-6)
    assert_same_parameters(model, eager_model, rtol=1e-6, atol=1e-7)
    assert model[0].weight.dtype == np.float32


def test_value_and_grad_of_a_model_loss():
    cr.manual_seed(4)
    model = nn.MLP([3, 5, 2], activation="tanh")
    x = np.random.default_rng(4).standard_normal((6, 3))
    y = np.array([0, 1, 1, 0, 1, 0])

    def loss(x):
        return nn.functional.cross_entropy(model(x), y)

    compiled = compile(cr.value_and_grad(loss))
    compiled(x)
    value, gradient = compiled(x)
    ref_value, ref_gradient = cr.value_and_grad(loss)(x)
    assert value == ref_value
    np.testing.assert_array_equal(gradient, ref_gradient)
    # Weights are read at every call: a change in place shows in the next result.
    with cr.no_grad():
        model[0].weight *= 2.0
    assert compiled(x)[0] == cr.value_and_grad(loss)(x)[0] != value


def test_zero_grad_replays_the_parameters_the_optimizer_has_then():
    """A parameter group added after tracing is cleared and stepped by the replay too."""
    cr.manual_seed(5)
    first, second = nn.Linear(2, 1), nn.Linear(2, 1)
    opt = optim.SGD(first.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = first(x).sum() + second(x).sum()
        loss.backward()
        opt.step()
        return loss

    compiled = compile(step)
    x = np.ones((3, 2))
    compiled(x)
    opt.add_param_group({"params": list(second.parameters())})
    before = second.weight.detach().numpy().copy()
    compiled(x)
    compiled(x)
    # d loss / d weight = 3 per entry at every step: two steps of lr 0.1, no stale gradient.
    np.testing.assert_allclose(second.weight.detach().numpy(), before - 0.6)


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_out_of_range_class_indices_raise_in_the_compiled_program_too(loss):
    """Labels are checked by the loss primitive itself, so a replay never wraps -1 around."""
    from chainrule.errors import TargetError

    cr.manual_seed(6)
    model = nn.Linear(3, 4)
    if loss == "nll_loss":
        head = lambda x: nn.functional.log_softmax(model(x), dim=1)  # noqa: E731
    else:
        head = model
    compiled = compile(lambda x, y: getattr(nn.functional, loss)(head(x), y))
    x = np.ones((2, 3))
    compiled(x, np.array([0, 3]))
    for bad in ([0, -1], [4, 1]):
        with pytest.raises(TargetError, match="out of bounds for 4 classes"):
            compiled(x, np.array(bad))


def test_a_program_serves_only_calls_with_the_same_aliasing():
    compiled = compile(lambda a, b: (a * b).sum())
    t = cr.tensor([1.0, 2.0])
    assert compiled(t, t).item() == 5.0
    assert compiled(cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0])).item() == 11.0
    x = np.array([1.0, 2.0])
    gradient = compile(cr.grad(lambda a, b: (a * b).sum(), argnums=(0, 1)))
    np.testing.assert_array_equal(gradient(x, x)[0], [1.0, 2.0])
    np.testing.assert_array_equal(gradient(x, np.array([3.0, 4.0]))[0], [3.0, 4.0])


def test_changed_module_state_retraces():
    """requires_grad, train()/eval() and replaced Parameters are guards, never frozen."""
    cr.manual_seed(7)
    model = nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.5), nn.Linear(3, 1))
    opt = optim.SGD(model.parameters(), lr=0.1)
    model.eval()

    def step(x):
        opt.zero_grad()
        loss = model(x).sum()
        loss.backward()
        opt.step()
        return loss

    compiled = compile(step)
    x = np.ones((4, 2))
    compiled(x)
    compiled(x)
    assert len(compiled.programs) == 1
    model[0].weight.requires_grad = False
    frozen = model[0].weight.detach().numpy().copy()
    compiled(x)
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), frozen)
    model[2].weight = nn.Parameter(np.zeros((1, 3)))
    compiled(x)
    assert model[2].weight.grad is not None  # the new Parameter took part
    model.train()  # Dropout now draws: refused rather than silently skipped
    with pytest.raises(CompileError, match="random draw"):
        compiled(x)
