"""exp, log, sin and sigmoid for micrograd's Value, which has only +, *, ** and relu.

micrograd (https://github.com/karpathy/micrograd) keeps one closure per node that
adds the local derivative times the output's gradient into the input's; these
follow the same pattern, so the comparison stays micrograd's own design.
"""

from __future__ import annotations

import math

from micrograd.engine import Value


def _unary(x: Value, value: float, slope: float, op: str) -> Value:
    out = Value(value, (x,), op)

    def _backward() -> None:
        x.grad += slope * out.grad

    out._backward = _backward
    return out


def exp(x: Value) -> Value:
    e = math.exp(x.data)
    return _unary(x, e, e, "exp")


def log(x: Value) -> Value:
    return _unary(x, math.log(x.data), 1 / x.data, "log")


def sin(x: Value) -> Value:
    return _unary(x, math.sin(x.data), math.cos(x.data), "sin")


def sigmoid(x: Value) -> Value:
    s = 1.0 / (1.0 + math.exp(-x.data))
    return _unary(x, s, s * (1.0 - s), "sigmoid")
