"""Drawings: cr.draw of tensor code and models, names in their own boxes, operand order, no
Python graphviz package, and explain-net's layer graph with values and weight names."""

from __future__ import annotations

import re
import shutil
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import chainrule as cr
from chainrule import nn
from chainrule.cli import main
from chainrule.explainer import graph


class TwoLayer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(2, 3, generator=np.random.default_rng(0))
        self.fc2 = nn.Linear(3, 1, generator=np.random.default_rng(1))

    def forward(self, x):
        return self.fc2(cr.tanh(self.fc1(x)))


def boxes(dot: str) -> dict[str, str]:
    """Each node's id and the text of its box (the bordered cell of its HTML-like label)."""
    found = re.findall(r'^\s*"([^"]+)" \[label=<(.*)>\];$', dot, flags=re.MULTILINE)
    return {name: re.search(r'BORDER="1"[^>]*>(.*?)</TD>', label).group(1) for name, label in found}


def captions(dot: str) -> dict[str, str]:
    found = re.findall(r'^\s*"([^"]+)" \[label=<.*?ALIGN="RIGHT">([^<]*)</TD>', dot, re.MULTILINE)
    return dict(found)


def loss_of(model: nn.Module) -> cr.Tensor:
    x = cr.tensor([[1.0, 2.0], [0.5, -1.0]])
    return ((model(x) - cr.tensor([[1.0], [0.0]])) ** 2).mean()


def test_a_models_loss_is_drawn_with_named_parameters_shapes_and_dtypes():
    model = TwoLayer()
    dot = cr.draw(loss_of(model), params=model).source
    box = boxes(dot)
    assert {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"} <= set(box)
    assert captions(dot)["fc1.weight"] == "fc1.weight"
    assert box["fc1.weight"] == "input<BR/>(3, 2) float64"
    assert box["v1"] == "linear<BR/>(2, 3) float64"
    assert "mean<BR/>scalar float64" in box.values()
    assert '"fc1.weight" -> "v1" [label="2"]' in dot  # linear(x, weight, bias): order matters
    assert "xlabel" not in dot and "= " not in dot and "grad" not in dot


def test_values_and_gradients_on_request_match_backward():
    from chainrule.explainer.graph import value_text

    model = TwoLayer()
    loss = loss_of(model)
    dot = cr.draw(loss, params=dict(model.named_parameters()), values=True, grads=True).source
    loss.backward()
    box = boxes(dot)
    bias = model.fc1.bias
    expected = (
        f"input<BR/>(3,) float64<BR/>= {value_text(bias.data)}<BR/>grad {value_text(bias.grad)}"
    )
    assert box["fc1.bias"] == expected


def test_plain_tensor_code_names_its_unnamed_leaves_and_numbers_ordered_operands():
    x = cr.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    z = cr.tensor(np.float32(3.0), requires_grad=True)
    dot = cr.draw((x / z - x**z).sum()).source
    box = boxes(dot)
    assert sorted(n for n in box if n.startswith("input")) == ["input1", "input2"]
    assert all("float32" in text for text in box.values())
    divide = next(n for n, t in box.items() if t.startswith("/"))
    power = next(n for n, t in box.items() if t.startswith("**"))
    subtract = next(n for n, t in box.items() if t.startswith("-"))
    for op in (divide, power, subtract):
        incoming = re.findall(rf'-> "{op}" \[label="(\d)"\]', dot)
        assert incoming == ["1", "2"]


def test_commutative_operations_have_plain_edges():
    dot = cr.explain("x*z + x", x=2.0, z=3.0).to_dot()
    assert 'label="1"' not in dot and 'label="2"' not in dot


def test_every_name_is_a_caption_in_its_own_box():
    report = cr.explain("x/z - z**x", x=2.0, z=3.0)
    dot = report.to_dot()
    names = [v.name for v in report.trace.inputs + report.trace.variables]
    assert captions(dot) == {name: name for name in names}
    assert "xlabel" not in dot
    assert re.findall(r'-> "v1" \[label="(\d)"\]', dot) == ["1", "2"]  # v1 = x/z


def test_draw_needs_a_recorded_graph():
    with pytest.raises(ValueError, match="no recorded graph"):
        cr.draw(cr.tensor([1.0, 2.0]) * 2)


def test_without_the_python_graphviz_package_or_dot_the_notebook_still_shows_tables(
    monkeypatch,
):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # `import graphviz` now fails
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    page = cr.explain("x*sin(x)", x=1.0)._repr_html_()
    assert "<h4>Evaluation trace (forward pass)</h4><table>" in page
    assert "apt-get install graphviz" in page and "report.graph.save" in page


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_dot_renders_a_models_graph_to_svg():
    model = TwoLayer()
    svg = cr.draw(loss_of(model), params=model, values=True)._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and svg.count('class="node"') >= 10
    assert "fc1.weight" in svg


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_the_layer_level_network_graph_shows_values(tmp_path):
    target = tmp_path / "net.dot"
    code, _ = run(
        "explain-net", "--seed", "0", "--target", "1", "--level", "layer", "--graph", str(target)
    )
    assert code == 0
    dot = target.read_text()
    assert "array(" not in dot
    box = boxes(dot)
    assert box["b1"].startswith("input<BR/>= [") and "adjoint [" in box["b1"]
    assert re.match(r"input<BR/>= \[\[", box["W"])


def test_the_scalar_notation_says_how_names_map_onto_the_weights_file(tmp_path):
    code, out = run("explain-net", "--layers", "2,3,1")
    assert code == 0
    assert "w_ij = W[i-1][j-1]" in out and "a31 = A[0][2]" in out
    assert all(len(line) <= 80 for line in out.splitlines())
