"""Masked rules select, never multiply: an infinite cotangent where the mask is 0 gives 0.

relu, clip, maximum and minimum pass the cotangent through a mask; multiplying would
turn inf·0 into NaN (the common ``sqrt(clamp(d2, min=0))`` distance pattern). PyTorch
and JAX give 0 there, and so must reverse mode, forward mode, second order and compile.
"""

import numpy as np
import pytest

import chainrule as cr

X = np.array([-1.0, 0.0, 4.0, 9.0])
CASES = {
    "clip": (lambda x: cr.clip(x, 0.0, None), [0.0, np.inf, 0.25, 1 / 6]),
    "clamp-min": (lambda x: x.clamp(min=0.0), [0.0, np.inf, 0.25, 1 / 6]),
    "relu": (cr.relu, [0.0, 0.0, 0.25, 1 / 6]),
    "maximum": (lambda x: cr.maximum(x, 0.0), [0.0, np.inf, 0.25, 1 / 6]),
    "minimum": (lambda x: -cr.minimum(-x, 0.0), [0.0, np.inf, 0.25, 1 / 6]),
}


def distance(inner):
    return lambda x: cr.sqrt(inner(x)).sum()


@pytest.mark.parametrize("name", CASES)
def test_reverse_mode_gives_zero_not_nan(name):
    inner, expected = CASES[name]
    with np.errstate(divide="ignore"):
        gradient = cr.grad(distance(inner))(X)
    assert not np.isnan(gradient).any()
    np.testing.assert_allclose(gradient[[0, 2, 3]], np.array(expected)[[0, 2, 3]])


@pytest.mark.parametrize("name", CASES)
def test_forward_mode_and_compile_agree(name):
    inner, expected = CASES[name]
    f = distance(inner)
    # An infinite tangent on the masked entry does not flow either.
    _, tangent = cr.jvp(lambda x: inner(x).sum(), (X,), (np.array([np.inf, 0.0, 0.0, 0.0]),))
    assert tangent == 0.0
    with np.errstate(divide="ignore"):
        compiled = cr.compile(cr.grad(f))
        for shift in (0.0, 1.0):
            np.testing.assert_array_equal(compiled(X + shift), cr.grad(f)(X + shift))


@pytest.mark.parametrize("name", ["relu", "clip"])
def test_second_order_through_the_mask(name):
    inner, _ = CASES[name]
    # d²/dx² of inner(x)³ is 6x inside and 0 where the mask is 0.
    second = cr.grad(lambda x: cr.grad(lambda y: (inner(y) ** 3).sum())(x).sum())(X)
    np.testing.assert_allclose(second, np.where(X > 0, 6 * X, 0.0))


def test_scalar_path_selects_too():
    x = cr.tensor(-1.0, requires_grad=True)
    with np.errstate(divide="ignore"):  # sqrt's slope at 0 is infinite, as it should be
        cr.sqrt(cr.relu(x)).backward()
    assert x.grad.item() == 0.0


def test_where_with_a_guarded_branch_has_a_finite_gradient():
    """The documented safe pattern: the untaken branch gets a harmless input."""
    x = np.array([-4.0, 0.0, 9.0])

    def safe(v):
        positive = v > 0
        return cr.where(positive, cr.sqrt(cr.where(positive, v, 1.0)), 0.0).sum()

    np.testing.assert_allclose(cr.grad(safe)(x), [0.0, 0.0, 1 / 6])
    np.testing.assert_allclose(cr.compile(cr.grad(safe))(x), [0.0, 0.0, 1 / 6])
