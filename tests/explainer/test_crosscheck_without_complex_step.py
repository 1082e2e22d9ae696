"""The cross-check leaves out the complex step where an operation refuses complex input."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.explainer.crosscheck import cross_check


def test_an_operation_without_a_complex_extension_drops_only_the_complex_step_row():
    results = cross_check(lambda x: cr.logaddexp(x, cr.erfinv(x)), {"x": 0.3})
    methods = [r.method for r in results]
    assert methods == ["reverse mode", "forward mode", "central differences"]
    assert results[-1].max_rel_error < 1e-8
    complete = [r.method for r in cross_check(lambda x: cr.arcsin(x) * x, {"x": 0.3})]
    assert complete[-1] == "complex step"


def test_a_type_error_that_is_not_a_refusal_of_complex_input_still_surfaces():
    def picky(x):
        if np.iscomplexobj(getattr(x, "data", x)):
            raise TypeError("unsupported operand types")
        return x * x

    with pytest.raises(TypeError, match="unsupported operand types"):
        cross_check(picky, {"x": 0.3})
