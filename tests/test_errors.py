"""Error types and messages."""

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import ShapeError

ANY_ERROR = (RuntimeError, ValueError, TypeError)


def test_shape_error_is_value_error():
    assert issubclass(ShapeError, ValueError)
    assert cr.errors.ShapeError is ShapeError


def test_broadcast_failure_in_add_names_op_and_shapes():
    with pytest.raises(ShapeError) as info:
        cr.tensor(np.ones(3)) + cr.tensor(np.ones(4))
    msg = str(info.value)
    assert "add" in msg
    assert "(3,)" in msg
    assert "(4,)" in msg


@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: a - b,
        lambda a, b: a * b,
        lambda a, b: a / b,
        lambda a, b: a**b,
        lambda a, b: cr.maximum(a, b),
        lambda a, b: cr.where(np.ones((2, 3), dtype=bool), a, b),
    ],
)
def test_broadcast_failure_in_other_ops_names_both_shapes(op):
    with pytest.raises(ShapeError) as info:
        op(cr.tensor(np.ones((2, 3))), cr.tensor(np.ones((4, 2))))
    msg = str(info.value)
    assert "(2, 3)" in msg
    assert "(4, 2)" in msg


def test_broadcast_failure_with_numpy_operand_is_shape_error():
    with pytest.raises(ShapeError):
        cr.tensor(np.ones(3)) + np.ones(4)
    with pytest.raises(ShapeError):
        np.ones(4) + cr.tensor(np.ones(3))


def test_broadcast_failure_in_inplace_add_is_shape_error():
    t = cr.tensor(np.ones(3))
    with pytest.raises(ShapeError) as info:
        t += np.ones(4)
    assert "(3,)" in str(info.value)
    assert "(4,)" in str(info.value)


def test_shape_error_catchable_as_value_error():
    with pytest.raises(ValueError, match="add"):
        cr.tensor(np.ones(3)) + cr.tensor(np.ones(4))


@pytest.mark.parametrize(
    ("sa", "sb"), [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (4,)), ((2, 2, 3), (2, 4, 5))]
)
def test_matmul_mismatch_names_op_and_shapes(sa, sb):
    with pytest.raises(ShapeError) as info:
        cr.tensor(np.ones(sa)) @ cr.tensor(np.ones(sb))
    msg = str(info.value)
    assert "matmul" in msg
    assert str(sa) in msg
    assert str(sb) in msg


def test_matmul_function_mismatch():
    with pytest.raises(ShapeError, match="matmul"):
        cr.matmul(cr.tensor(np.ones((2, 3))), np.ones((2, 3)))


# -------------------------------------------------------------- integer dtypes


def test_integer_tensor_requiring_grad_raises_type_error_naming_dtype():
    with pytest.raises(TypeError, match="int64"):
        cr.tensor(2, requires_grad=True)


def test_int32_array_requiring_grad_raises():
    with pytest.raises(TypeError, match=re.compile("int32|integer", re.I)):
        cr.tensor(np.array([1, 2], dtype=np.int32), requires_grad=True)


def test_integer_tensor_from_float_data_with_int_dtype_requiring_grad_raises():
    with pytest.raises(TypeError, match=re.compile("int64|integer", re.I)):
        cr.tensor([1.0, 2.0], dtype=np.int64, requires_grad=True)


@pytest.mark.parametrize("transform", [cr.grad, cr.value_and_grad, cr.hessian])
def test_transform_of_integer_array_raises(transform):
    with pytest.raises(TypeError, match=re.compile("int|integer", re.I)):
        transform(lambda x: (x * x).sum())(np.array([1, 2]))


def test_jacobian_and_vjp_of_integer_array_raise():
    with pytest.raises(TypeError):
        cr.jacobian(lambda x: x * x)(np.array([1, 2]))
    with pytest.raises(TypeError):
        cr.vjp(lambda x: x * x, np.array([1, 2]))
    with pytest.raises(TypeError):
        cr.jvp(lambda x: x * x, (np.array([1, 2]),), (np.array([1, 1]),))


def test_float_and_int_tensor_mix_promotes_to_float():
    y = cr.tensor([1.0, 2.0], requires_grad=True) * cr.tensor([2, 3])
    assert y.dtype == np.float64
    y.sum().backward()


# ------------------------------------------------------------------- backward


def test_backward_non_scalar_without_gradient_mentions_shape():
    x = cr.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ANY_ERROR, match=re.escape("(2, 3)")):
        (x * 2.0).backward()


def test_backward_twice_without_retain_graph_raises():
    x = cr.tensor(2.0, requires_grad=True)
    y = cr.exp(x * x)
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_backward_through_partially_freed_graph_raises():
    x = cr.tensor(2.0, requires_grad=True)
    h = cr.sin(x) * x
    (h * 2.0).backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        (h * 3.0).backward()


# ------------------------------------------------------------------ transforms


def test_grad_of_non_scalar_output_mentions_scalar():
    with pytest.raises(ANY_ERROR, match="scalar"):
        cr.grad(lambda x: x * 2.0)(np.ones(3))


def test_value_and_grad_of_non_scalar_output_mentions_scalar():
    with pytest.raises(ANY_ERROR, match="scalar"):
        cr.value_and_grad(lambda x: x * 2.0)(np.ones(3))


@pytest.mark.parametrize("argnums", [2, -3, (0, 5)])
def test_bad_argnums_raises_value_error(argnums):
    with pytest.raises(ValueError, match="argnums"):
        cr.grad(lambda x, y: x * y, argnums=argnums)(1.0, 2.0)


def test_bad_argnums_in_jacobian_raises_value_error():
    with pytest.raises(ValueError, match="argnums"):
        cr.jacobian(lambda x: x * 2.0, argnums=1)(np.ones(2))


def test_unknown_jacobian_mode_raises():
    with pytest.raises(ValueError):
        cr.jacobian(lambda x: x * 2.0, mode="sideways")(np.ones(2))
