"""chainrule.optim: each optimizer against its published update formula, step by step.

The problem: f(w) = sum(c * w^2) + sum(d * w^3) (gradients change every step),
one parameter of shape (3,). The reference loops below are written straight from
the formulas in PyTorch's documentation, in float64; PyTorch itself is a second
oracle where installed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.optim import lr_scheduler

W0 = np.array([1.0, -2.0, 0.5])
C = np.array([1.0, 0.5, 3.0])
D = np.array([0.1, -0.2, 0.05])
STEPS = 6


def loss_of(w):
    return (C * w * w).sum() + (D * w * w * w).sum()


def grad_of(w):
    return 2 * C * w + 3 * D * w * w


def run(make_optimizer, steps=STEPS):
    w = nn.Parameter(W0.copy())
    opt = make_optimizer([w])
    history = []
    for _ in range(steps):
        opt.zero_grad()
        loss_of(w).backward()
        opt.step()
        history.append(w.data.copy())
    return np.array(history), opt


def reference_sgd(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    w, buf, history = W0.copy(), None, []
    for _ in range(STEPS):
        g = grad_of(w) + weight_decay * w
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        w = w - lr * g
        history.append(w.copy())
    return np.array(history)


def reference_adam(lr, betas, eps, weight_decay=0.0, decoupled=False, amsgrad=False):
    w, m, v, v_max, history = W0.copy(), 0.0, 0.0, 0.0, []
    for t in range(1, STEPS + 1):
        g = grad_of(w)
        if decoupled:
            w = w * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * w
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        m_hat = m / (1 - betas[0] ** t)
        v_max = np.maximum(v_max, v)
        v_hat = (v_max if amsgrad else v) / (1 - betas[1] ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append(w.copy())
    return np.array(history)


SGD_CASES = [
    {"lr": 0.05},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.3},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1},
]


@pytest.mark.parametrize("settings", SGD_CASES, ids=str)
def test_sgd_matches_formula(settings):
    history, _ = run(lambda params: optim.SGD(params, **settings))
    np.testing.assert_allclose(history, reference_sgd(**settings), rtol=1e-13, atol=1e-15)


ADAM_CASES = [
    (optim.Adam, {"lr": 0.1}),
    (optim.Adam, {"lr": 0.1, "betas": (0.8, 0.99), "eps": 1e-3}),
    (optim.Adam, {"lr": 0.1, "weight_decay": 0.2}),
    (optim.Adam, {"lr": 0.1, "amsgrad": True}),
    (optim.AdamW, {"lr": 0.1}),
    (optim.AdamW, {"lr": 0.1, "weight_decay": 0.3, "amsgrad": True}),
]


@pytest.mark.parametrize(("cls", "settings"), ADAM_CASES, ids=str)
def test_adam_and_adamw_match_formula(cls, settings):
    history, _ = run(lambda params: cls(params, **settings))
    full = {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, **settings}
    if cls is optim.AdamW and "weight_decay" not in settings:
        full["weight_decay"] = 1e-2  # AdamW's default
    expected = reference_adam(
        full["lr"],
        full["betas"],
        full["eps"],
        full["weight_decay"],
        decoupled=cls is optim.AdamW,
        amsgrad=full.get("amsgrad", False),
    )
    np.testing.assert_allclose(history, expected, rtol=1e-12, atol=1e-14)


def test_first_adam_step_moves_each_weight_by_lr():
    """With m_hat = g and v_hat = g^2 after one step, every weight moves by lr (up to eps)."""
    history, _ = run(lambda params: optim.Adam(params, lr=0.01), steps=1)
    np.testing.assert_allclose(W0 - history[0], 0.01 * np.sign(grad_of(W0)), rtol=1e-6)


MODIFIED = "modified by an in-place operation"


def test_float32_parameters_stay_float32_and_updates_count_as_writes():
    """A float32 parameter and its state stay float32; a graph recorded before step is refused."""
    w = nn.Parameter(np.array([1.0, 2.0], dtype=np.float32))
    opt = optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    recorded = (w * 3.0).sum()
    opt.step()
    assert w.dtype == np.float32 and opt.state[w]["exp_avg"].dtype == np.float32
    with pytest.raises(RuntimeError, match=MODIFIED):
        recorded.backward()


@pytest.mark.parametrize("make", [optim.SGD, optim.Adam])
def test_optimizers_update_scalar_and_view_parameters(make):
    """A 0-d parameter made from a NumPy scalar and one viewing a read-only array both update.

    Tensor keeps a NumPy scalar as it is (tests/core/test_scalar_values.py), so the first
    parameter is immutable until the step writes it.
    """
    base = np.array([1.0, 2.0, 3.0])
    base.flags.writeable = False
    scalar, view = nn.Parameter(np.float64(2.0)), nn.Parameter(base[1:])
    opt = make([scalar, view], lr=0.1)
    ((scalar * scalar) + (view * view).sum()).backward()
    recorded = [scalar * 1.0, (view * 1.0).sum()]
    opt.step()
    assert scalar.item() < 2.0 and np.all(view.data < [2.0, 3.0])
    np.testing.assert_array_equal(base, [1.0, 2.0, 3.0])  # the caller's array is untouched
    for stale in recorded:  # each step counts as a write to its parameter
        with pytest.raises(RuntimeError, match=MODIFIED):
            stale.backward()


def test_skips_parameters_without_grad_and_zero_grad_clears():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    (a * 2.0).sum().backward()
    opt.step()
    np.testing.assert_allclose(a.data, [0.8, 0.8])
    np.testing.assert_array_equal(b.data, [1.0, 1.0])
    opt.zero_grad()
    assert a.grad is None
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.0


def test_optimizer_state_dict_round_trip_resumes_identically():
    straight, _ = run(lambda params: optim.Adam(params, lr=0.1), steps=STEPS)
    first, opt = run(lambda params: optim.Adam(params, lr=0.1), steps=3)
    saved = opt.state_dict()
    assert set(saved["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert saved["param_groups"][0]["params"] == [0]
    w = nn.Parameter(first[-1].copy())
    resumed = optim.Adam([w], lr=999.0)
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == 0.1
    for _ in range(3):
        resumed.zero_grad()
        loss_of(w).backward()
        resumed.step()
    np.testing.assert_allclose(w.data, straight[-1], rtol=1e-14)


def test_invalid_settings_are_rejected():
    w = [nn.Parameter(np.ones(1))]
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD(w, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam(w, betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)


def test_schedulers_follow_their_closed_forms():
    opt = optim.SGD([nn.Parameter(np.ones(1))], lr=1.0)
    step = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    lrs = []
    for _ in range(7):
        lrs.append(step.get_last_lr()[0])
        opt.step()
        step.step()
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
    opt = optim.SGD([nn.Parameter(np.ones(1))], lr=0.1)
    cosine = lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    seen = []
    for _ in range(11):
        seen.append(opt.param_groups[0]["lr"])
        cosine.step()
    expected = [0.01 + 0.09 * (1 + math.cos(math.pi * t / 10)) / 2 for t in range(11)]
    np.testing.assert_allclose(seen, expected, rtol=1e-14)


def test_optimizers_and_schedulers_match_pytorch():
    torch = pytest.importorskip("torch")
    cases = [
        (optim.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
        (optim.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}),
        (optim.Adam, torch.optim.Adam, {"lr": 0.1, "weight_decay": 0.1, "amsgrad": True}),
        (optim.AdamW, torch.optim.AdamW, {"lr": 0.1}),
    ]
    c, d = torch.tensor(C), torch.tensor(D)
    for ours, theirs, settings in cases:
        history, opt = run(lambda params, ours=ours, settings=settings: ours(params, **settings))
        w = torch.tensor(W0.copy(), requires_grad=True)
        reference = theirs([w], **settings)
        for expected in history:
            reference.zero_grad()
            ((c * w * w).sum() + (d * w * w * w).sum()).backward()
            reference.step()
            np.testing.assert_allclose(w.detach().numpy(), expected, rtol=1e-12, atol=1e-14)
    ours_opt = optim.SGD([nn.Parameter(np.ones(1))], lr=0.1)
    theirs_opt = torch.optim.SGD([torch.ones(1, requires_grad=True)], lr=0.1)
    ours_sched = lr_scheduler.CosineAnnealingLR(ours_opt, T_max=7, eta_min=0.001)
    theirs_sched = torch.optim.lr_scheduler.CosineAnnealingLR(theirs_opt, T_max=7, eta_min=0.001)
    for _ in range(15):
        ours_opt.step(), theirs_opt.step()
        ours_sched.step(), theirs_sched.step()
        assert ours_sched.get_last_lr()[0] == pytest.approx(theirs_sched.get_last_lr()[0], 1e-12)


def test_training_steps_match_pytorch_on_an_mlp():
    """Same weights, same batches: chainrule and PyTorch take the same Adam steps (float64)."""
    torch = pytest.importorskip("torch")
    model = nn.MLP([4, 8, 3], dtype=np.float64, generator=np.random.default_rng(0))
    reference = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)
    ).double()
    reference.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    opt = optim.Adam(model.parameters(), lr=0.01)
    reference_opt = torch.optim.Adam(reference.parameters(), lr=0.01)
    rng = np.random.default_rng(1)
    for _ in range(5):
        x = rng.standard_normal((16, 4))
        y = rng.integers(0, 3, 16)
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(cr.tensor(x)), y).backward()
        opt.step()
        reference_opt.zero_grad()
        torch.nn.functional.cross_entropy(reference(torch.tensor(x)), torch.tensor(y)).backward()
        reference_opt.step()
    for key, value in reference.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[key], value.numpy(), rtol=1e-10, atol=1e-12)
