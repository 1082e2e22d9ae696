"""Finite differences (cr.fd) and gradcheck."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr

SETTINGS = settings(max_examples=25, deadline=None)
EPS64 = np.finfo(np.float64).eps
EPS32 = np.finfo(np.float32).eps


def sum_sin_times_x(x):
    return cr.sum(cr.sin(x) * x)


def d_sum_sin_times_x(x):
    return np.cos(x) * x + np.sin(x)


XV = np.array([0.3, -1.2, 2.5, 0.9])


# ------------------------------------------------------------------ gradient


@pytest.mark.parametrize(
    ("scheme", "rtol"), [("central", 1e-8), ("forward", 1e-5), ("complex-step", 1e-14)]
)
def test_gradient_schemes_on_vector_input(scheme, rtol):
    g = cr.fd.gradient(sum_sin_times_x, XV, scheme=scheme)
    assert isinstance(g, np.ndarray)
    assert g.shape == XV.shape
    np.testing.assert_allclose(g, d_sum_sin_times_x(XV), rtol=rtol, atol=rtol)


def test_default_scheme_is_central_accuracy():
    g = cr.fd.gradient(sum_sin_times_x, XV)
    np.testing.assert_allclose(g, d_sum_sin_times_x(XV), rtol=1e-8, atol=1e-8)


def test_gradient_of_matrix_input_has_input_shape():
    xv = np.arange(1.0, 7.0).reshape(2, 3)
    g = cr.fd.gradient(lambda x: cr.sum(x**3), xv)
    assert g.shape == (2, 3)
    np.testing.assert_allclose(g, 3 * xv**2, rtol=1e-7)


def test_gradient_multiple_inputs_returns_one_array_per_input():
    xv, yv = np.array([1.0, 2.0]), np.array([0.5, -1.5, 3.0])
    gs = cr.fd.gradient(lambda x, y: cr.sum(x**2) * cr.sum(y), xv, yv, scheme="complex-step")
    assert len(gs) == 2
    np.testing.assert_allclose(gs[0], 2 * xv * yv.sum(), rtol=1e-14)
    np.testing.assert_allclose(gs[1], np.full(3, (xv**2).sum()), rtol=1e-14)


def test_gradient_scalar_float_inputs():
    gx, gy = cr.fd.gradient(lambda x, y: cr.exp(x) * y, 0.5, 2.0)
    assert float(gx) == pytest.approx(2 * np.exp(0.5), rel=1e-8)
    assert float(gy) == pytest.approx(np.exp(0.5), rel=1e-8)


@pytest.mark.parametrize("scheme", ["central", "forward", "complex-step"])
def test_gradient_of_float32_input(scheme):
    xv = np.array([0.5, 1.5], dtype=np.float32)
    g = cr.fd.gradient(lambda x: cr.sum(x * x), xv, scheme=scheme)
    np.testing.assert_allclose(
        np.asarray(g, dtype=np.float64), 2 * xv.astype(np.float64), rtol=2e-3
    )


def test_complex_step_beats_central_on_analytic_function():
    x0 = 1.3

    def f(x):
        return cr.exp(x) * cr.sin(3.0 * x) / (1.0 + x * x)

    def df(x):
        d = np.exp(x) * (np.sin(3 * x) + 3 * np.cos(3 * x)) / (1 + x * x)
        return d - np.exp(x) * np.sin(3 * x) * 2 * x / (1 + x * x) ** 2

    cs = float(np.asarray(cr.fd.gradient(f, x0, scheme="complex-step")))
    assert cs == pytest.approx(df(x0), rel=1e-14)


def test_explicit_eps_changes_step():
    """Forward differences of x**2 at x=1 have error proportional to the step."""
    g_small = float(np.asarray(cr.fd.gradient(lambda x: x**2, 1.0, scheme="forward")))
    g_big = float(np.asarray(cr.fd.gradient(lambda x: x**2, 1.0, scheme="forward", eps=0.1)))
    assert g_small == pytest.approx(2.0, rel=1e-6)
    assert 0.05 < g_big - 2.0 < 0.25
    # central differences are exact on quadratics whatever the step
    g_c = float(np.asarray(cr.fd.gradient(lambda x: x**2, 1.0, scheme="central", eps=0.1)))
    assert g_c == pytest.approx(2.0, rel=1e-12)


@SETTINGS
@given(a=st.floats(-3, 3), b=st.floats(-3, 3), c=st.floats(-3, 3), x=st.floats(-2, 2))
def test_central_and_complex_step_on_random_cubics(a, b, c, x):
    def f(t):
        return a * t**3 + b * t**2 + c * t

    want = 3 * a * x**2 + 2 * b * x + c
    central = float(np.asarray(cr.fd.gradient(f, x, scheme="central")))
    cs = float(np.asarray(cr.fd.gradient(f, x, scheme="complex-step")))
    assert central == pytest.approx(want, rel=1e-6, abs=1e-6)
    assert cs == pytest.approx(want, rel=1e-13, abs=1e-13)


def test_gradient_agrees_with_handwritten_central_difference():
    """Plain-NumPy oracle for cr.fd's central scheme on a non-polynomial function."""
    xv = np.array([0.4, 1.1])

    def np_f(x):
        return np.sum(np.tanh(x) * np.exp(x))

    h = 1e-6
    want = np.array([(np_f(xv + h * e) - np_f(xv - h * e)) / (2 * h) for e in np.eye(2)])
    got = cr.fd.gradient(lambda x: cr.sum(cr.tanh(x) * cr.exp(x)), xv, scheme="central")
    np.testing.assert_allclose(got, want, rtol=1e-7)


def test_unknown_scheme_raises():
    with pytest.raises(ValueError, match="scheme"):
        cr.fd.gradient(lambda x: x * x, 1.0, scheme="backwards-ish")


# --------------------------------------------------------------- default_step


def test_default_step_central_is_cube_root_of_eps_order():
    s64 = cr.fd.default_step("central", np.float64)
    assert EPS64 ** (1 / 3) / 100 < s64 < EPS64 ** (1 / 3) * 100


def test_default_step_forward_is_sqrt_eps_order():
    s64 = cr.fd.default_step("forward", np.float64)
    assert EPS64**0.5 / 100 < s64 < EPS64**0.5 * 100


def test_default_step_larger_for_float32():
    for scheme in ("central", "forward"):
        s32 = cr.fd.default_step(scheme, np.float32)
        s64 = cr.fd.default_step(scheme, np.float64)
        assert s32 > s64 > 0


def test_default_step_complex_is_tiny():
    s = cr.fd.default_step("complex-step", np.float64)
    assert 0 < s <= 1e-8


# ------------------------------------------------------------------- gradcheck


def test_gradcheck_passes_correct_function():
    res = cr.gradcheck(sum_sin_times_x, XV)
    assert res
    assert bool(res) is True


def test_gradcheck_passes_with_two_inputs():
    res = cr.gradcheck(lambda x, y: cr.sum(cr.exp(x) @ y), np.array([[0.1, 0.2]]), np.ones(2))
    assert res


def test_gradcheck_fails_broken_gradient():
    res = cr.gradcheck(lambda x: cr.sum(x * x.detach()), np.array([1.0, 2.0, 3.0]))
    assert not res
    assert bool(res) is False


def test_gradcheck_report_shows_input_index_and_max_abs_error():
    res = cr.gradcheck(lambda x: cr.sum(x * x.detach()), np.array([1.0, 2.0, 3.0]))
    text = str(res)
    assert "0" in text
    numbers = [float(m) for m in re.findall(r"[-+]?\d+\.?\d*(?:[eE][-+]?\d+)?", text)]
    # reverse mode says x, central differences say 2x: the largest error is 3
    assert any(abs(n - 3.0) < 1e-3 for n in numbers), text


def test_gradcheck_flags_only_the_broken_input():
    def f(x, y):
        return cr.sum(x * y * y.detach())

    res = cr.gradcheck(f, np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert not res
    text = str(res)
    assert "1" in text
    assert cr.gradcheck(lambda x: f(x, cr.tensor([3.0, 4.0])), np.array([1.0, 2.0]))


def _off_by(c):
    """Value sum(x*x), but reverse mode reports 2x + c (x - x.detach() is 0 with slope 1)."""
    return lambda x: cr.sum(x * x) + c * cr.sum(x - x.detach())


def test_gradcheck_atol_threshold():
    xv = np.array([1.0, 2.0, 3.0])
    assert cr.gradcheck(_off_by(5e-5), xv, atol=1e-4, rtol=0.0)
    assert not cr.gradcheck(_off_by(5e-5), xv, atol=2e-5, rtol=0.0)


def test_gradcheck_rtol_threshold():
    xv = np.array([1.0, 2.0, 3.0])  # numeric gradient 2x; relative errors 0.01 / (2x)
    assert cr.gradcheck(_off_by(1e-2), xv, atol=0.0, rtol=1e-2)
    assert not cr.gradcheck(_off_by(1e-2), xv, atol=0.0, rtol=1e-3)


def test_gradcheck_respects_atol():
    res = cr.gradcheck(lambda x: cr.sum(x * x.detach()), np.array([1.0, 2.0, 3.0]), atol=10.0)
    assert res


def test_complex_step_through_sign_and_pow_at_zero():
    """sign takes the real part's sign (NumPy's complex sign z/|z| broke the complex step)."""
    assert cr.fd.gradient(lambda x: cr.sign(x) * x, 2.0, scheme="complex-step") == 1.0
    assert cr.fd.gradient(lambda x: cr.sign(x) * x, -3.0, scheme="complex-step") == -1.0
