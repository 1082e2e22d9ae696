"""A small notebook, executed by a real Jupyter kernel: what each cell displays."""

from __future__ import annotations

import shutil
import sys

import pytest

import chainrule as cr
from chainrule import symbolic

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

CELLS = [
    "import numpy as np\nimport chainrule as cr\nfrom chainrule import symbolic",
    "cr.explain('x*sin(x)', x=1.0)",
    "symbolic.parse('x^2/sin(x)')",
    "cr.gradcheck(lambda x: cr.sin(x) * x, np.array([0.5, 1.5]))",
    "w = cr.tensor([1.0, 2.0], requires_grad=True)\ncr.draw((w * w).sum(), {'w': w})",
    "cr.explain(lambda x: (x * x).sum(), x=np.array([1.0, 2.0]))",
]


def displayed(cell) -> dict[str, str]:
    """The rich outputs of a cell, by MIME type (errors fail the run before this)."""
    data: dict[str, str] = {}
    for output in cell.outputs:
        data.update(output.get("data", {}))
    return data


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    path = tmp_path_factory.mktemp("notebook") / "explainer.ipynb"
    nbformat.write(notebook, path)
    client = nbclient.NotebookClient(
        nbformat.read(path, as_version=4), timeout=120, kernel_name="python3"
    )
    limit = sys.getrecursionlimit()
    try:
        return client.execute().cells
    finally:  # Jupyter's client raises the recursion limit; the parser's tests rely on it
        sys.setrecursionlimit(limit)


def test_an_explanation_shows_its_tables_as_html(executed):
    page = displayed(executed[1])["text/html"]
    assert "<h4>Evaluation trace (forward pass)</h4>" in page and "<td>v1</td>" in page
    assert ("<svg" in page) == (shutil.which("dot") is not None)


def test_an_expression_is_typeset(executed):
    assert displayed(executed[2])["text/latex"] == r"$\frac{x^{2}}{\sin\left(x\right)}$"


def test_a_gradcheck_result_is_an_html_table(executed):
    page = displayed(executed[3])["text/html"]
    assert page.startswith("<table><caption>gradcheck passed")
    assert page.count("<td>yes</td>") == 2


def test_a_drawing_is_svg_with_dot_and_dot_text_without(executed):
    shown = displayed(executed[4])
    if shutil.which("dot") is None:
        assert shown["text/plain"].startswith("digraph")
    else:
        assert "<svg" in shown["image/svg+xml"]


def test_tensor_code_is_explained_in_the_notebook(executed):
    assert "[2., 4.]" in displayed(executed[5])["text/html"]


def test_the_notebook_displays_match_the_library():
    """The same representations, in-process (fast, and a guard for the kernel test)."""
    assert symbolic.parse("x^2/sin(x)")._repr_latex_() == r"$\frac{x^{2}}{\sin\left(x\right)}$"
    row = cr.fd.GradcheckRow(0, "rev", (2,), 0.5, 0.25, passed=False)
    page = cr.fd.GradcheckResult([row], atol=1e-5, rtol=1e-3)._repr_html_()
    assert "gradcheck FAILED" in page
    assert "<td>(2,)</td><td>5.000e-01</td><td>2.500e-01</td><td>NO</td>" in page
