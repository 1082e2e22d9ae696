"""The recitation's network in scalar and vector notation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chainrule.explainer.network import Network, evaluate


def test_scalar_equations_of_the_warmup_network():
    assert Network(2, 2, 1).scalar_equations() == [
        "t1 = w11·x1 + w21·x2 + b11",
        "t2 = w12·x1 + w22·x2 + b12",
        "h1 = σ(t1)",
        "h2 = σ(t2)",
        "o1 = a11·h1 + a21·h2 + b21",
    ]


def test_vector_equations_spell_out_section_1_1_shapes():
    lines = Network(4, 2, 1).vector_equations()
    assert lines[:4] == ["t = Wᵀx + b1", "h = σ(t)", "o1 = Ah + b21", "o1 = A σ(Wᵀx + b1) + b21"]
    assert "W 4 × 2" in lines[4] and "A 1 × 2" in lines[4] and "b1 2" in lines[4]


def sigmoid(t):
    return 1 / (1 + np.exp(-t))


def test_forward_values_and_gradients_match_hand_computation(tmp_path):
    weights = {"W": [[0.5, -1.0], [2.0, 0.25]], "b1": [0.1, -0.2], "A": [[1.5, -0.5]], "b2": [0.3]}
    path = tmp_path / "w.json"
    path.write_text(json.dumps(weights))
    net = Network(2, 2, 1).with_weights_file(path)
    x, y = np.array([1.0, 0.0]), np.array([1.0])
    result = evaluate(net, x, y)

    W, b1, A, b2 = (np.array(weights[k]) for k in ("W", "b1", "A", "b2"))
    t = W.T @ x + b1
    h = sigmoid(t)
    o = A @ h + b2
    assert result.forward_values["t1"] == pytest.approx(t[0], rel=1e-14)
    assert result.forward_values["h2"] == pytest.approx(h[1], rel=1e-14)
    assert result.forward_values["o1"] == pytest.approx(o[0], rel=1e-14)

    do = 2 * (o - y)  # d/do of (o - y)²
    dh = A.T @ do
    dt = dh * h * (1 - h)
    assert result.gradients["a21"] == pytest.approx((do[:, None] * h)[0, 1], rel=1e-12)
    assert result.gradients["b21"] == pytest.approx(do[0], rel=1e-12)
    assert result.gradients["w12"] == pytest.approx(x[0] * dt[1], rel=1e-12)
    assert result.gradients["b12"] == pytest.approx(dt[1], rel=1e-12)
    assert result.outputs_agree and result.gradients_agree


def test_both_forms_agree_for_random_weights_and_every_activation():
    for activation in ("sigmoid", "tanh", "relu"):
        net = Network(3, 4, 2, activation=activation).with_random_weights(7)
        result = evaluate(net, np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.0]))
        assert result.outputs_agree and result.gradients_agree


def test_neuron_level_trace_has_one_variable_per_scalar_operation():
    net = Network(2, 2, 1).with_random_weights(0)
    result = evaluate(net, np.array([1.0, 0.0]), None)
    names = {v.name for v in result.scalar_trace.inputs}
    assert {"x1", "x2", "w11", "w22", "b11", "a21", "b21"} <= names
    # 2 hidden units × (2 products + 1 add + bias add + activation) + output (2 products, 2 adds)
    assert len(result.scalar_trace) == 2 * 5 + 4


def test_bad_weights_files_are_reported(tmp_path):
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"W": [[1.0, 2.0]], "b1": [0, 0], "A": [[1, 1]], "b2": [0]}))
    with pytest.raises(ValueError, match=r"W has shape \(1, 2\)"):
        Network(2, 2, 1).with_weights_file(path)
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        Network(2, 2, 1).with_weights_file(path)
    with pytest.raises(ValueError, match="does not exist"):
        Network(2, 2, 1).with_weights_file(tmp_path / "missing.json")


def test_layer_sizes_are_checked():
    with pytest.raises(ValueError, match="1 to 9 units"):
        Network(2, 12, 1)
    with pytest.raises(ValueError, match="unknown activation"):
        Network(2, 2, 1, activation="swish")
