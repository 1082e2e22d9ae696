"""Complex parameters: optimizers descend in both the real and the imaginary part, with
PyTorch's numbers (its z.grad is the conjugate of ours, and its Adam treats the parts as
two real parameters)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

TARGET = np.array([1.0 + 2.0j, -0.5 - 1.0j])

SETTINGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.1}),
    ("Adam", {"lr": 0.1, "weight_decay": 0.01, "amsgrad": True}),
    ("AdamW", {"lr": 0.1, "weight_decay": 0.01}),
]


def _run(name, settings, steps=40):
    z = cr.tensor(np.zeros(2, dtype=np.complex128), requires_grad=True)
    optimizer = getattr(cr.optim, name)([z], **settings)
    for _ in range(steps):
        optimizer.zero_grad()
        cr.sum(cr.abs(z - TARGET) ** 2).backward()
        optimizer.step()
    return z.detach().numpy()


@pytest.mark.parametrize(("name", "settings"), SETTINGS)
def test_complex_parameter_moves_to_the_minimum(name, settings):
    final = _run(name, settings, steps=300)
    np.testing.assert_allclose(final, TARGET, atol=0.05)


@pytest.mark.parametrize(("name", "settings"), SETTINGS)
def test_complex_steps_match_pytorch(name, settings):
    torch = pytest.importorskip("torch")
    z = torch.zeros(2, dtype=torch.complex128, requires_grad=True)
    optimizer = getattr(torch.optim, name)([z], **settings)
    for _ in range(40):
        optimizer.zero_grad()
        ((z - torch.tensor(TARGET)).abs() ** 2).sum().backward()
        optimizer.step()
    np.testing.assert_allclose(_run(name, settings), z.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_complex64_parameter_stays_complex64():
    z = cr.tensor(np.zeros((), dtype=np.complex64), requires_grad=True)
    optimizer = cr.optim.Adam([z], lr=0.1)
    cr.abs(z - (1 + 1j)).backward()
    optimizer.step()
    assert z.dtype == np.complex64
    np.testing.assert_allclose(z.detach().numpy(), 0.1 + 0.1j, rtol=1e-5)
