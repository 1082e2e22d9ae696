"""The explorer in a real browser: Debian's chromium, driven by Playwright for Python.

Playwright's own browser download is not used: the tests point ``executable_path`` at the
system's ``chromium`` and skip when there is none. Screenshots go to the test's tmp_path.
"""

import shutil

import numpy as np
import pytest

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("no chromium on PATH (apt-get install chromium)", allow_module_level=True)

from click.testing import CliRunner  # noqa: E402

from chainrule import symbolic  # noqa: E402
from chainrule.cli.app import main  # noqa: E402
from chainrule.explainer import network  # noqa: E402

BAD_EXPRESSION = "exp(x*z) + * 2"


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], errors


def load(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]", timeout=10_000)


def shown_number(text: str) -> float:
    return float(text.split("=")[-1].strip())


def current_node(page) -> str:
    return page.get_attribute("#graph .node.current", "data-variable")


def step_forward_through(page, report: dict) -> None:
    """Each step highlights the next trace variable and shows its value, box and table."""
    page.check("input[name=sweep][value=forward]")
    for k, variable in enumerate(report["trace"]):
        page.click("#step")
        assert current_node(page) == variable["variable"]
        row = page.locator("#trace-table tr.current")
        assert row.get_attribute("data-variable") == variable["variable"]
        assert float(row.locator("td").nth(2).inner_text()) == pytest.approx(
            variable["value"], rel=1e-14
        )
        box = page.text_content(f'#graph .node[data-variable="{variable["variable"]}"] .val')
        assert shown_number(box) == pytest.approx(variable["value"], rel=1e-5)
        assert (
            page.inner_text("#step-status")
            == f"forward pass: step {k + 1} of {len(report['trace'])}"
        )


def step_reverse_through(page, report: dict) -> None:
    """Each step highlights the next adjoint and shows its chain-rule sum, in numbers."""
    page.check("input[name=sweep][value=reverse]")
    for row in report["reverse"]:
        page.click("#step")
        assert current_node(page) == row["variable"]
        numbers = page.inner_text("#chain-numbers")
        formula = page.inner_text("#chain-formula")
        if row["terms"]:
            assert shown_number(numbers) == pytest.approx(row["value"], rel=1e-14)
            for term in row["terms"]:
                assert term["partial"] in formula
        else:
            assert "seed" in formula
        adjoint = page.text_content(f'#graph .node[data-variable="{row["variable"]}"] .adj')
        assert shown_number(adjoint) == pytest.approx(row["value"], rel=1e-5)
    # Back undoes one step: the highlight returns to the previous adjoint.
    page.click("#back")
    assert current_node(page) == report["reverse"][-2]["variable"]


def test_the_served_page_steps_through_the_seed(page, live_server, seed_report, tmp_path):
    load(page, live_server)
    assert page.input_value("#expr") == seed_report["function"]
    assert page.input_value("#var-x") == "2" and page.input_value("#var-z") == "3"
    step_forward_through(page, seed_report)
    page.screenshot(path=tmp_path / "forward.png", full_page=True)
    step_reverse_through(page, seed_report)
    page.screenshot(path=tmp_path / "reverse.png", full_page=True)
    # Forward mode walks the tangents in direction z.
    page.select_option("#direction", "z")
    for row in seed_report["forward"]["z"]:
        page.click("#step")
        assert current_node(page) == row["variable"]
    assert shown_number(page.inner_text("#chain-numbers")) == pytest.approx(
        seed_report["gradient"]["z"], rel=1e-14
    )
    assert page.locator("#crosscheck tbody tr").count() == len(seed_report["cross_check"])
    assert page.locator("#steps-plot polyline").count() == 3


def test_a_bad_expression_shows_the_parse_error_and_its_column(page, live_server, tmp_path):
    with pytest.raises(symbolic.ParseError) as expected:
        symbolic.parse(BAD_EXPRESSION)
    load(page, live_server)
    page.fill("#expr", BAD_EXPRESSION)
    page.click("#explain-btn")
    page.wait_for_selector("#error:not([hidden])")
    column = expected.value.column
    assert page.get_attribute("#error", "data-column") == str(column)
    text = page.inner_text("#error")
    assert f"{expected.value.message} (column {column})" in text
    assert f"{BAD_EXPRESSION}\n{' ' * (column - 1)}^" in text
    page.screenshot(path=tmp_path / "error.png")
    # A good expression then replaces the graph, with one input per variable.
    page.fill("#expr", "x*sin(y)")
    page.click("#explain-btn")
    page.wait_for_selector("#var-y")
    assert page.is_hidden("#error")
    assert page.locator("#graph .node").count() == 4


def test_moving_a_network_slider_updates_the_loss(page, live_server, tmp_path):
    load(page, live_server)
    page.fill("#slider-w11", "1.5")
    weights = {
        "W": np.array([[1.5, -0.3], [0.8, 0.2]]),
        "b1": np.array([0.1, -0.1]),
        "A": np.array([[1.2, -0.7]]),
        "b2": np.array([0.05]),
    }
    net = network.Network(2, 2, 1, weights=weights)
    expected = network.evaluate(net, np.array([1.0, 0.0]), np.array([1.0]))
    loss = float(expected.scalar_trace.output.value)
    assert float(page.inner_text("#net-loss")) == pytest.approx(loss, rel=1e-14)
    grad = page.locator('#net-grads tr[data-quantity="dL/dw11"] td.value').inner_text()
    assert float(grad) == pytest.approx(expected.gradients["w11"], rel=1e-12)
    page.wait_for_function("document.getElementById('net-check').textContent.includes('agrees')")
    for _ in range(5):
        page.click("#net-step")
    assert page.locator("#net-grads tr.current").first.get_attribute("data-quantity") == "dL/dw11"
    page.screenshot(path=tmp_path / "network.png", full_page=True)


def test_the_exported_page_steps_offline(page, seed_report, tmp_path):
    output = tmp_path / "seed.html"
    result = CliRunner().invoke(main, ["export-html", "-o", str(output)])
    assert result.exit_code == 0, result.output
    page.route("http*://**", lambda route: route.abort())  # offline: any fetch would fail
    load(page, output.as_uri())
    assert page.is_visible("#static-note")
    step_forward_through(page, seed_report)
    step_reverse_through(page, seed_report)
    page.click("#explain-btn")  # the same expression: nothing to fetch
    assert page.is_hidden("#error")
    page.fill("#expr", "x^2")
    page.click("#explain-btn")
    assert "need the server" in page.inner_text("#error")
    page.click("#export-md")
    markdown = page.input_value("#export-text")
    assert "| x̄ |" in markdown and "1208.38121512661" in markdown
    with page.expect_download() as svg:
        page.click("#export-svg")
    drawing = svg.value.path().read_text("utf-8")
    assert drawing.startswith("<svg") and 'data-variable="v8"' in drawing
    with page.expect_download() as png:
        page.click("#export-png")
    assert png.value.path().read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page.screenshot(path=tmp_path / "static.png", full_page=True)
