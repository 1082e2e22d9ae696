"""cr.explain on tensor code: array inputs, shapes in the tables, small values, summaries."""

from __future__ import annotations

import json

import numpy as np
import pytest

import chainrule as cr


def test_the_measured_sum_of_squares_is_explained_with_shapes_and_values():
    report = cr.explain(lambda x: (x * x).sum(), x=np.array([1.0, 2.0]))
    assert report.value == 5.0
    np.testing.assert_array_equal(report.gradient["x"], [2.0, 4.0])
    text = report.to_text()
    assert "variable  formula  shape   value" in text
    assert "x         input    (2,)    [1., 2.]" in text
    assert "v2        sum(v1)  scalar  5" in text
    assert "dy/dx = [2., 4.]" in text


def test_every_cross_check_method_agrees_on_an_array_gradient():
    w = np.array([[0.5, -1.0], [2.0, 0.25]])
    report = cr.explain(lambda x, b: cr.tanh(x @ w + b).sum(), x=np.array([0.3, -0.2]), b=0.1)
    rows = {r.method: r for r in report.cross_check}
    assert set(rows) == {"reverse mode", "forward mode", "central differences", "complex step"}
    assert all(r.max_rel_error < 1e-6 for r in rows.values())
    assert rows["forward mode"].evaluations == "3 forward sweeps (one per input element)"
    expected = (1 - np.tanh(np.array([0.3, -0.2]) @ w + 0.1) ** 2) @ w.T
    np.testing.assert_allclose(report.gradient["x"], expected, rtol=1e-12)
    assert isinstance(report.gradient["b"], float)


def test_large_arrays_are_summarised_not_printed_in_full():
    x = np.arange(100.0)
    report = cr.explain(lambda x: (x * x).mean(), x=x)
    text = report.to_text()
    assert "array of shape (100,): min 0, mean 49.5, max 99" in text
    assert "98." not in text  # no element listing
    np.testing.assert_allclose(report.gradient["x"], 2 * x / 100, rtol=1e-12)


def test_tensor_reports_are_json_with_nested_lists():
    report = cr.explain(lambda x: (x * x).sum(), x=np.array([[1.0, 2.0], [3.0, 4.0]]))
    data = json.loads(report.to_json())
    assert data["gradient"]["x"] == [[2.0, 4.0], [6.0, 8.0]]
    assert data["trace"][0]["shape"] == [2, 2] and data["trace"][-1]["shape"] == []


def test_a_non_scalar_result_is_refused_clearly():
    with pytest.raises(cr.errors.ShapeError, match=r"explain: <lambda> returned shape \(2,\)"):
        cr.explain(lambda x: x * x, x=np.array([1.0, 2.0]))


def test_forward_mode_on_an_array_says_its_direction_is_all_ones():
    report = cr.explain(lambda x: (x * x).sum(), x=np.array([1.0, 2.0]), mode="forward")
    assert "tangents in direction x (x\u0307 = 1 in every element)" in report.to_text()
    assert report.forward["x"][-1].value == 6.0  # the directional derivative along (1, 1)
