"""chainrule.nn: modules, layers and losses.

Oracles: central differences in float64 (chainrule.gradcheck), formulas written
out by hand with NumPy, math.erf, and PyTorch where it is installed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F


def rng(seed=0):
    return np.random.default_rng(seed)


def params_gradcheck(module, x, loss=lambda y: (y * y).sum()):
    """Gradcheck a float64 module's output wrt its input and every parameter."""
    names = [name for name, _ in module.named_parameters()]

    originals = dict(module.named_parameters())

    def f(inp, *values):
        return loss(_functional_call(module, originals, dict(zip(names, values, strict=True)), inp))

    values = [p.data.copy() for p in module.parameters()]
    return cr.gradcheck(f, x, *values, atol=1e-6, rtol=1e-5)


def _functional_call(module, originals, values, inp):
    """Call ``module`` with its parameters replaced by (possibly traced) ``values``."""
    for name, value in values.items():
        owner = module
        *path, leaf = name.split(".")
        for part in path:
            owner = getattr(owner, part)
        object.__setattr__(owner, leaf, value)
    try:
        return module(inp)
    finally:
        for name, param in originals.items():
            owner = module
            *path, leaf = name.split(".")
            for part in path:
                owner = getattr(owner, part)
            object.__setattr__(owner, leaf, param)


# --- Module mechanics ----------------------------------------------------------------------


def test_sequential_state_dict_uses_pytorch_keys_and_copies():
    model = nn.MLP([3, 4, 2], dtype=np.float64)
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert state["0.weight"].shape == (4, 3)  # (out, in)
    state["0.weight"][...] = 0.0
    assert np.any(model[0].weight.data != 0.0)


def test_named_parameters_children_and_nested_modules():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
            self.head = nn.Linear(3, 1, bias=False)

        def forward(self, x):
            return self.head(self.body(x))

    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["body.0.weight", "body.0.bias", "head.weight"]
    assert [type(m).__name__ for m in net.children()] == ["Sequential", "Linear"]
    assert len(list(net.modules())) == 5
    assert net.head.bias is None and "head.bias" not in net.state_dict()
    shared = nn.Linear(2, 2)
    tied = nn.Sequential(shared, shared)
    assert len(list(tied.parameters())) == 2


def test_load_state_dict_round_trip_keeps_dtype_and_accepts_tensors():
    source = nn.MLP([2, 3, 1], dtype=np.float64, generator=rng(1))
    target = nn.MLP([2, 3, 1], dtype=np.float32, generator=rng(2))
    state = {k: cr.tensor(v) if k.endswith("bias") else v for k, v in source.state_dict().items()}
    result = target.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert target[0].weight.dtype == np.float32
    np.testing.assert_allclose(target[0].weight.data, source[0].weight.data, rtol=1e-6)
    x = rng(3).standard_normal((5, 2))
    np.testing.assert_allclose(target(x.astype(np.float32)).data, source(x).data, rtol=1e-5)


def test_load_state_dict_errors_are_clear_and_change_nothing():
    model = nn.MLP([2, 3, 1], dtype=np.float64)
    before = model[0].weight.data.copy()
    state = model.state_dict()
    bad = dict(state, **{"0.weight": np.zeros((3, 5))})
    with pytest.raises(nn.StateDictError, match=r"size mismatch for 0.weight.*\(3, 5\)"):
        model.load_state_dict(bad)
    missing = {k: v for k, v in state.items() if k != "2.bias"}
    with pytest.raises(nn.StateDictError, match="Missing key.*'2.bias'"):
        model.load_state_dict(missing)
    with pytest.raises(nn.StateDictError, match="Unexpected key.*'extra'"):
        model.load_state_dict(dict(state, extra=np.zeros(1)))
    np.testing.assert_array_equal(model[0].weight.data, before)
    result = model.load_state_dict(dict(missing, extra=np.zeros(1)), strict=False)
    assert result == (["2.bias"], ["extra"])


def test_setattr_rejects_tensor_for_registered_parameter():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="nn.Parameter or None expected"):
        layer.weight = cr.tensor(np.zeros((2, 2)))


def test_module_before_init_gives_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Broken()


def test_repr_train_eval_zero_grad():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.25), nn.GELU())
    assert repr(model) == (
        "Sequential(\n  (0): Linear(in_features=2, out_features=2, bias=True)\n"
        "  (1): Dropout(p=0.25)\n  (2): GELU(approximate='none')\n)"
    )
    assert model.eval() is model and not model[1].training
    model.train()
    assert model[1].training
    model(np.ones((1, 2))).sum().backward()
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_to_converts_dtype():
    model = nn.MLP([2, 2, 1], dtype=np.float32).double()
    assert all(p.dtype == np.float64 for p in model.parameters())


# --- Linear and initialization -----------------------------------------------------------


def test_linear_default_init_matches_pytorch_bounds_and_is_seedable():
    nn.manual_seed(5)
    a = nn.Linear(100, 50)
    nn.manual_seed(5)
    b = nn.Linear(100, 50)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    bound = 1 / math.sqrt(100)
    for p in (a.weight, a.bias):
        assert np.abs(p.data).max() <= bound
        assert np.abs(p.data).max() > 0.9 * bound  # spread over the whole interval
    # U(-b, b) has standard deviation b / sqrt(3).
    assert abs(a.weight.data.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert a.weight.dtype == cr.get_default_dtype()
    assert nn.Linear(3, 2, dtype=np.float32).weight.dtype == np.float32


def test_init_functions():
    w = nn.Parameter(np.zeros((200, 300)))
    nn.init.xavier_uniform_(w, generator=rng())
    assert np.abs(w.data).max() <= math.sqrt(6 / 500)
    nn.init.kaiming_normal_(w, nonlinearity="relu", generator=rng())
    assert abs(w.data.std() - math.sqrt(2 / 300)) < 0.01
    nn.init.zeros_(w)
    assert not w.data.any()
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)


def test_linear_matches_formula_and_gradchecks():
    layer = nn.Linear(4, 3, dtype=np.float64, generator=rng(1))
    x = rng(2).standard_normal((5, 4))
    expected = x @ layer.weight.data.T + layer.bias.data
    np.testing.assert_allclose(layer(x).data, expected)
    assert params_gradcheck(layer, x)
    no_bias = nn.Linear(4, 3, bias=False, dtype=np.float64, generator=rng(3))
    assert params_gradcheck(no_bias, x)


def test_linear_shape_error_names_the_sizes():
    with pytest.raises(cr.errors.ShapeError, match="has 5 features.*expects 4"):
        nn.Linear(4, 3)(np.zeros((2, 5)))


# --- activations -----------------------------------------------------------------------


ACTIVATION_FORMULAS = {
    "ReLU": (nn.ReLU(), lambda x: np.maximum(x, 0)),
    "LeakyReLU": (nn.LeakyReLU(0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    "Sigmoid": (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    "Tanh": (nn.Tanh(), np.tanh),
    "GELU": (
        nn.GELU(),
        lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2))),
    ),
    "GELU-tanh": (
        nn.GELU("tanh"),
        lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    ),
    "Softmax": (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    "LogSoftmax": (
        nn.LogSoftmax(dim=1),
        lambda x: x - np.log(np.exp(x).sum(1, keepdims=True)),
    ),
}


@pytest.mark.parametrize("name", sorted(ACTIVATION_FORMULAS))
def test_activation_values_and_gradients(name):
    module, formula = ACTIVATION_FORMULAS[name]
    x = rng(4).uniform(-3, 3, (3, 4))
    x[np.abs(x) < 0.05] = 0.5  # keep away from the kinks of relu and leaky relu
    np.testing.assert_allclose(module(x).data, formula(x), rtol=1e-12, atol=1e-14)
    weights = rng(5).standard_normal((3, 4))
    assert cr.gradcheck(lambda t: (module(t) * weights).sum(), x, atol=1e-7, rtol=1e-6)


def test_erf_matches_math_erf_to_rounding():
    x = np.concatenate([np.linspace(-7, 7, 5001), [0.0, 1e-300, -1.0, 1.0, 8.0, 30.0]])
    expected = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(F.erf(x).data, expected, rtol=1e-15, atol=3e-16)


def test_dropout_is_identity_in_eval_and_scales_in_training():
    drop = nn.Dropout(0.5, generator=rng(6))
    x = np.ones((200, 50))
    out = drop(x).data
    assert set(np.unique(out)) == {0.0, 2.0}
    assert abs((out == 0).mean() - 0.5) < 0.02
    drop.eval()
    np.testing.assert_array_equal(drop(x).data, x)
    t = cr.tensor(np.ones(10), requires_grad=True)
    kept = nn.Dropout(0.3, generator=rng(7))(t)
    kept.sum().backward()
    np.testing.assert_array_equal(t.grad.data, kept.data)  # d out / d x = mask / (1 - p)


# --- losses ------------------------------------------------------------------------------


def log_softmax_np(z):
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_values_and_gradients(reduction, smoothing):
    logits = rng(8).standard_normal((6, 4))
    target = np.array([0, 3, 1, 1, 2, 0])
    logp = log_softmax_np(logits)
    q = np.full((6, 4), smoothing / 4)
    q[np.arange(6), target] += 1 - smoothing
    per_row = -(q * logp).sum(1)
    expected = {"mean": per_row.mean(), "sum": per_row.sum(), "none": per_row}[reduction]
    loss_fn = nn.CrossEntropyLoss(reduction=reduction, label_smoothing=smoothing)
    np.testing.assert_allclose(loss_fn(logits, target).data, expected, rtol=1e-12)
    weights = rng(9).standard_normal(per_row.shape) if reduction == "none" else 1.0
    assert cr.gradcheck(lambda z: (loss_fn(z, target) * weights).sum(), logits)
    # Class probabilities as targets give the same loss as the indices they encode.
    one_hot = np.eye(4)[target]
    np.testing.assert_allclose(loss_fn(logits, one_hot).data, expected, rtol=1e-12)


def test_cross_entropy_is_stable_for_huge_logits_and_checks_targets():
    logits = np.array([[1000.0, 0.0, -1000.0]])
    assert F.cross_entropy(logits, [0]).item() == 0.0
    assert F.cross_entropy(logits, [2]).item() == 2000.0
    with pytest.raises(ValueError, match="target 3 is out of bounds for 3 classes"):
        F.cross_entropy(logits, [3])
    with pytest.raises(cr.errors.DtypeError, match="integers"):
        F.cross_entropy(logits, np.array([0.5]))
    np.testing.assert_allclose(
        F.cross_entropy(np.array([2.0, 0.0, 0.0]), 0).data, math.log(1 + 2 * math.exp(-2))
    )


def test_nll_loss_after_log_softmax_equals_cross_entropy():
    logits = rng(10).standard_normal((5, 3))
    target = np.array([2, 0, 1, 1, 0])
    nll = nn.NLLLoss()(nn.LogSoftmax(dim=1)(logits), target)
    np.testing.assert_allclose(nll.data, F.cross_entropy(logits, target).data, rtol=1e-12)
    assert cr.gradcheck(lambda z: nn.NLLLoss(reduction="sum")(z, target), logits)


def test_mse_and_l1_losses():
    x, y = rng(11).standard_normal((2, 4, 3))
    np.testing.assert_allclose(nn.MSELoss()(x, y).data, ((x - y) ** 2).mean())
    np.testing.assert_allclose(nn.L1Loss(reduction="sum")(x, y).data, np.abs(x - y).sum())
    assert cr.gradcheck(lambda t: nn.MSELoss()(t, y), x)
    with pytest.raises(cr.errors.ShapeError, match=r"\(4, 3\).*\(4,\)"):
        nn.MSELoss()(x, y[:, 0])


def test_bce_losses_values_gradients_and_stability():
    p = rng(12).uniform(0.05, 0.95, (4, 2))
    y = (rng(13).random((4, 2)) < 0.5) * 1.0
    expected = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()
    np.testing.assert_allclose(nn.BCELoss()(p, y).data, expected, rtol=1e-12)
    assert cr.gradcheck(lambda t: nn.BCELoss()(t, y), p)
    logits = np.log(p / (1 - p))
    np.testing.assert_allclose(nn.BCEWithLogitsLoss()(logits, y).data, expected, rtol=1e-10)
    assert cr.gradcheck(lambda t: nn.BCEWithLogitsLoss(pos_weight=3.0)(t, y), logits)
    big = np.array([800.0, -800.0])
    loss = nn.BCEWithLogitsLoss(reduction="none")(big, np.array([0.0, 1.0]))
    np.testing.assert_allclose(loss.data, [800.0, 800.0])
    clamped = nn.BCELoss(reduction="none")(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    np.testing.assert_array_equal(clamped.data, [100.0, 100.0])  # PyTorch's log floor


def test_mlp_gradchecks_end_to_end():
    model = nn.MLP([3, 4, 2], activation="tanh", dtype=np.float64, generator=rng(14))
    x = rng(15).standard_normal((5, 3))
    target = np.array([0, 1, 1, 0, 1])
    assert params_gradcheck(model, x, loss=lambda out: F.cross_entropy(out, target))


# --- PyTorch as an oracle ------------------------------------------------------------------


def test_losses_and_layers_match_pytorch():
    torch = pytest.importorskip("torch")
    logits = rng(16).standard_normal((6, 5))
    target = np.array([4, 0, 2, 2, 1, 3])
    for smoothing in (0.0, 0.1):
        z = torch.tensor(logits, requires_grad=True)
        expected = torch.nn.functional.cross_entropy(
            z, torch.tensor(target), label_smoothing=smoothing
        )
        expected.backward()
        t = cr.tensor(logits, requires_grad=True)
        F.cross_entropy(t, target, label_smoothing=smoothing).backward()
        np.testing.assert_allclose(t.grad.data, z.grad.numpy(), rtol=1e-12, atol=1e-15)
    x = rng(17).uniform(-3, 3, (4, 5))
    for ours, theirs in (
        (nn.GELU(), torch.nn.GELU()),
        (nn.GELU("tanh"), torch.nn.GELU("tanh")),
        (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    ):
        expected = theirs(torch.tensor(x)).numpy()
        np.testing.assert_allclose(ours(x).data, expected, rtol=1e-12, atol=1e-15)
    layer = nn.Linear(5, 3, dtype=np.float64, generator=rng(18))
    reference = torch.nn.Linear(5, 3, dtype=torch.float64)
    reference.load_state_dict({k: torch.tensor(v) for k, v in layer.state_dict().items()})
    np.testing.assert_allclose(layer(x).data, reference(torch.tensor(x)).detach().numpy())


def test_bce_with_logits_slope_is_sigmoid_minus_target_at_zero():
    """At logit 0 the loss is smooth: its slope is sigmoid(0) - y, not a kink's choice."""
    x = cr.tensor([0.0, 0.0, 1e-9, -2.0], requires_grad=True)
    y = np.array([1.0, 0.0, 1.0, 0.0])
    nn.BCEWithLogitsLoss(reduction="sum")(x, y).backward()
    expected = 1 / (1 + np.exp(-x.detach().numpy())) - y
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-15)
