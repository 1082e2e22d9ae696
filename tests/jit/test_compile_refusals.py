"""Acceptance tests for the dispatcher-based compiler (issue #10, part 4): what it refuses.

Anything the trace cannot record raises ``CompileError`` at trace time (the first call),
naming the operation and the user's source file and line; it is never frozen as a
constant, so a later call raises again instead of returning a number. The same
operations on values that are not traced (a constant tensor made inside the function,
Python ints of the signature) are fine and give eager's results.

Each refused statement below carries the marker comment ``# refused``; the expected line
number is found from the marker, so moving code does not break the tests.
"""

from __future__ import annotations

import inspect
import os
import re
from dataclasses import dataclass

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.errors import CompileError

FILE = os.path.basename(__file__)
MARKER = "# refused"
X = np.array([0.5, -1.0, 2.0, 0.25])
X2 = np.array([-1.5, 3.0, -0.5, 1.0])


def marked_line(fn) -> int:
    """The line number of the one statement of ``fn`` marked ``# refused``."""
    lines, start = inspect.getsourcelines(fn)
    hits = [start + i for i, line in enumerate(lines) if line.rstrip().endswith(MARKER)]
    assert len(hits) == 1, f"{fn.__name__} must mark exactly one line"
    return hits[0]


# --- traced values leaving for Python ------------------------------------------------------


def leaves_by_float(x):
    y = cr.as_tensor(x) * 2.0
    k = float(y.sum())  # refused
    return (y * k).sum()


def leaves_by_int(x):
    y = cr.as_tensor(x) * 2.0
    k = int(y.sum())  # refused
    return (y * k).sum()


def leaves_by_bool(x):
    y = cr.as_tensor(x) * 2.0
    positive = bool(y.sum() > 0)  # refused
    return (y * (2.0 if positive else 3.0)).sum()


def branches_on_traced_value(x):
    y = cr.as_tensor(x) * 2.0
    if y.sum() > 0:  # refused
        return (y * y).sum()
    return (-y).sum()


def leaves_by_item(x):
    y = cr.as_tensor(x) * 2.0
    k = y.sum().item()  # refused
    return (y * k).sum()


def leaves_by_asarray(x):
    y = cr.as_tensor(x) * 2.0
    a = np.asarray(y)  # refused
    return (y * a).sum()


def leaves_by_array(x):
    y = cr.as_tensor(x) * 2.0
    a = np.array(y)  # refused
    return (y * a).sum()


def leaves_by_numpy(x):
    y = cr.as_tensor(x) * 2.0
    a = y.numpy()  # refused
    return (y * a).sum()


def leaves_by_data(x):
    y = cr.as_tensor(x) * 2.0
    a = y.data * 2.0 + 1.0  # refused
    return (y * a).sum()


def leaves_by_tolist(x):
    y = cr.as_tensor(x) * 2.0
    values = y.tolist()  # refused
    return (y * values[0]).sum()


DROPOUT = nn.Dropout(0.5)  # training mode: every call draws a new mask


def draws_at_random(x):
    y = cr.as_tensor(x) * 2.0
    z = DROPOUT(y)  # refused
    return (z * y).sum()


OUTSIDE = cr.tensor([1.0, 2.0, 3.0, 4.0])


def updates_outside_tensor_in_place(x):
    y = cr.as_tensor(x) * 2.0
    w = OUTSIDE
    w += 1  # refused
    return (w * y).sum()


@dataclass
class Refusal:
    fn: object
    operation: str  # a regular expression the message must match (case-insensitive)


REFUSALS = {
    "float": Refusal(leaves_by_float, r"\bfloat\b"),
    "int": Refusal(leaves_by_int, r"\bint\b"),
    "bool": Refusal(leaves_by_bool, r"\bbool\b"),
    "if": Refusal(branches_on_traced_value, r"\bbool\b|control flow|\bif\b|branch"),
    "item": Refusal(leaves_by_item, r"\bitem\b"),
    "asarray": Refusal(leaves_by_asarray, r"asarray"),
    "array": Refusal(leaves_by_array, r"array"),
    "numpy": Refusal(leaves_by_numpy, r"numpy"),
    "data": Refusal(leaves_by_data, r"\bdata\b"),
    "tolist": Refusal(leaves_by_tolist, r"tolist"),
    "random": Refusal(draws_at_random, r"random|dropout"),
    "in-place": Refusal(updates_outside_tensor_in_place, r"in-place|in place|\+=|iadd"),
}

TRANSFORMS = {
    "plain": lambda fn: fn,
    "value_and_grad": cr.value_and_grad,
}


def assert_refused(compiled, refusal, args):
    with pytest.raises(CompileError) as info:
        compiled(*args)
    message = str(info.value)
    line = marked_line(refusal.fn)
    assert re.search(refusal.operation, message, re.IGNORECASE), (
        f"the message does not name the operation ({refusal.operation}): {message}"
    )
    assert FILE in message, f"the message does not name {FILE}: {message}"
    assert re.search(rf"(?<!\d){line}(?!\d)", message), (
        f"the message does not name line {line}: {message}"
    )


@pytest.mark.parametrize("transform", list(TRANSFORMS))
@pytest.mark.parametrize("name", list(REFUSALS))
def test_refused_at_trace_time_naming_operation_file_and_line(name, transform):
    refusal = REFUSALS[name]
    compiled = cr.compile(TRANSFORMS[transform](refusal.fn))
    before = OUTSIDE.numpy().copy()
    try:
        assert_refused(compiled, refusal, (X,))
        # Never frozen: the next call (same signature) and a call with new data refuse too.
        assert_refused(compiled, refusal, (X,))
        assert_refused(compiled, refusal, (X2,))
    finally:
        with cr.no_grad():
            OUTSIDE.copy_(before)  # the first call may run eagerly up to the refusal


# --- the same operations on values that are not traced -----------------------------------


def constant_float(x, n):
    c = cr.tensor(3.0)
    return (cr.as_tensor(x) * float(c) * float(n)).sum()


def constant_int(x, n):
    c = cr.tensor(2.0)
    return (cr.as_tensor(x) * int(c) * int(n)).sum()


def constant_bool(x, n):
    c = cr.tensor(1.0)
    y = cr.as_tensor(x)
    if bool(c) and n > 0:
        y = y * 2.0
    if c:
        y = y + 1.0
    return (y * y).sum()


def constant_item(x, n):
    c = cr.tensor([1.5, 2.5])
    k = cr.tensor(n).item()
    return (cr.as_tensor(x) * c.tolist()[1] * k).sum() + c[0].item()


def constant_asarray(x, n):
    c = cr.tensor([1.0, 2.0, 3.0, 4.0])
    return (cr.as_tensor(x) * np.asarray(c) + np.array(c) * n).sum()


def constant_numpy_and_data(x, n):
    c = cr.tensor([1.0, -2.0, 3.0, 0.5])
    return (cr.as_tensor(x) * (c.numpy() * 2.0) + c.data * n).sum()


def constant_in_place(x, n):
    c = cr.tensor([1.0, 2.0, 3.0, 4.0])
    c += 1
    c *= n
    return (cr.as_tensor(x) * c).sum()


def dropout_in_eval_mode(x, n):
    drop = nn.Dropout(0.5)
    drop.eval()
    return (drop(cr.as_tensor(x)) * n).sum()


NOT_TRACED = [
    constant_float,
    constant_int,
    constant_bool,
    constant_item,
    constant_asarray,
    constant_numpy_and_data,
    constant_in_place,
    dropout_in_eval_mode,
]


@pytest.mark.parametrize("transform", list(TRANSFORMS))
@pytest.mark.parametrize("fn", NOT_TRACED, ids=lambda fn: fn.__name__)
def test_same_operations_on_values_not_traced_are_fine(fn, transform):
    compiled = cr.compile(TRANSFORMS[transform](fn))
    eager = TRANSFORMS[transform](fn)
    for x, n in [(X, 2), (X2, 2), (X * 3.0, 2), (X2, 3)]:
        actual, expected = compiled(x, n), eager(x, n)
        if transform == "plain":
            actual, expected = actual.item(), expected.item()
            assert actual == pytest.approx(expected, rel=1e-12, abs=1e-12)
        else:
            assert actual[0] == pytest.approx(expected[0], rel=1e-12, abs=1e-12)
            np.testing.assert_allclose(actual[1], expected[1], rtol=1e-12, atol=1e-12)


def test_a_numpy_view_of_an_argument_made_inside_the_function_is_refused():
    """cross_entropy of one sample reshapes a 0-d target with NumPy: compiled, that view
    would be frozen at the first target, so every later call gave the first one's loss."""
    from chainrule.nn import functional as F

    step = cr.compile(cr.value_and_grad(lambda x, t: F.cross_entropy(x, t)))
    with pytest.raises(CompileError, match="view of shape \\(1,\\) of an argument"):
        step(np.array([0.2, 1.0, -0.5]), np.array(1))

    # A view used as an operand is followed, not refused: it is recomputed at every call.
    scaled = cr.compile(lambda a, w: (cr.tensor(a) * w.reshape(-1)[:2]).sum())
    for w in (np.arange(3.0), np.arange(3.0) + 5):
        assert scaled(np.ones(2), w).item() == w[:2].sum()
