"""detect_anomaly: the first operation that makes NaN or inf is named, with its line."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import AnomalyError

THIS_FILE = __file__

# NumPy's own warnings for log(0) and friends come before the error these tests expect.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def test_forward_nan_names_the_operation_and_the_users_line():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.detect_anomaly(), pytest.raises(AnomalyError) as caught:
        y = x * 2
        cr.log(y - 3)  # log of -1: NaN
    message = str(caught.value)
    assert "log produced nan" in message
    assert "(2,)" in message
    assert f"{THIS_FILE}:" in message


def test_backward_inf_names_the_primitive_and_where_it_was_applied():
    x = cr.tensor([0.0, 4.0], requires_grad=True)
    with cr.detect_anomaly():
        y = cr.sqrt(x)  # finite forward, infinite slope at 0
        loss = (y * 3).sum()
        with pytest.raises(AnomalyError) as caught:
            loss.backward()
    message = str(caught.value)
    assert "backward pass of sqrt" in message
    assert "produced inf" in message
    assert f"{THIS_FILE}:" in message


def test_the_first_culprit_is_named_not_a_later_one():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with cr.detect_anomaly(), pytest.raises(AnomalyError) as caught:
        cr.exp(cr.log(x))  # log(0) = -inf; exp of it is finite again
    assert "log produced inf" in str(caught.value)


def test_finite_programs_run_unchanged_and_give_the_same_gradients():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((4, 3))
    grads = []
    for checking in (False, True):
        x = cr.tensor(data, requires_grad=True)
        with cr.detect_anomaly(checking):
            loss = (cr.tanh(x @ x.T) ** 2).mean() + cr.logsumexp(x, axis=1).sum()
            loss.backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


def test_nan_already_in_the_inputs_is_not_blamed_on_the_operation():
    x = cr.tensor([np.nan, 1.0], requires_grad=True)
    with cr.detect_anomaly():
        y = (x * 2).sum()  # NaN in, NaN out: not this operation's doing
    assert np.isnan(y.item())


def test_decorator_form_and_is_anomaly_enabled():
    @cr.detect_anomaly()
    def inside():
        return cr.is_anomaly_enabled()

    assert inside() is True
    assert cr.is_anomaly_enabled() is False
    with cr.detect_anomaly():
        with cr.detect_anomaly(False):
            assert cr.is_anomaly_enabled() is False
        assert cr.is_anomaly_enabled() is True


def test_anomaly_mode_survives_no_grad_and_is_local_to_the_thread():
    seen = {}

    def other_thread():
        seen["other"] = cr.is_anomaly_enabled()

    with cr.detect_anomaly():
        with cr.no_grad():
            assert cr.is_anomaly_enabled()
            with pytest.raises(AnomalyError):
                cr.log(cr.tensor(-1.0))
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
    assert seen["other"] is False


def test_second_order_backward_is_checked_too():
    x = cr.tensor(0.0, requires_grad=True)
    with cr.detect_anomaly():
        y = x**3
        (slope,) = (cr.api.grad(lambda v: v**3)(x),)
        assert np.isfinite(slope.item())
        with pytest.raises(AnomalyError):
            cr.grad(lambda v: cr.sqrt(v))(x)
    assert y.item() == 0.0
