"""``chainrule serve`` and ``chainrule export-html``: thin commands over chainrule.web."""

import json
import re
import socket

import pytest
from click.testing import CliRunner

from chainrule.cli.app import main


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def embedded(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="embedded">(.*?)</script>', page, re.S)
    assert found
    return json.loads(found.group(1))


def test_export_html_embeds_the_report_of_its_expression(tmp_path):
    output = tmp_path / "out" / "page.html"
    result = run("export-html", "x*sin(x)", "--at", "x=1", "-o", str(output))
    assert result.exit_code == 0, result.output
    assert f"page written to {output}" in result.output
    page = output.read_text("utf-8")
    assert 'data-mode="static"' in page
    data = embedded(page)
    cli = json.loads(
        run("explain", "x*sin(x)", "--at", "x=1", "--mode", "both", "--format", "json").output
    )
    assert data["report"] == cli
    assert data["steps"]["best"]["complex-step"][1] < 1e-14


def test_export_html_without_an_expression_is_the_seed(tmp_path):
    output = tmp_path / "seed.html"
    assert run("export-html", "-o", str(output)).exit_code == 0
    assert embedded(output.read_text("utf-8"))["report"]["point"] == {"x": 2.0, "z": 3.0}


def test_export_html_keeps_markup_in_the_expression_out_of_the_page(tmp_path):
    output = tmp_path / "page.html"
    result = run("export-html", "x</script><b>", "-o", str(output))
    assert result.exit_code == 2 and "column" in result.output
    assert not output.exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["x +", "-o", "p.html"], "column 4"),
        (["log(x)", "--at", "x=-1", "-o", "p.html"], "log"),
        (["x", "--at", "x=nan", "-o", "p.html"], "finite"),
    ],
)
def test_export_html_bad_input_is_one_line_and_exit_2(args, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("export-html", *args)
    assert result.exit_code == 2 and words in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "p.html").exists()


def test_serve_runs_uvicorn_on_loopback_and_prints_the_url(monkeypatch):
    uvicorn = pytest.importorskip("uvicorn")
    calls = []
    monkeypatch.setattr(
        uvicorn.Server,
        "run",
        lambda server, sockets: calls.append((server, sockets[0].getsockname()[:2])),
    )
    result = run("serve", "--port", "0")
    assert result.exit_code == 0, result.output
    ((server, (host, port)),) = calls
    assert (
        host == "127.0.0.1" and f"chainrule explorer at http://127.0.0.1:{port}/" in result.output
    )
    assert {route.path for route in server.config.app.routes} >= {"/", "/api/explain"}


def test_serve_on_a_port_in_use_is_one_line_and_exit_2():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run("serve", "--port", str(port))
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: cannot listen on 127.0.0.1:{port}: ")
    assert len(result.output.strip().splitlines()) == 1
