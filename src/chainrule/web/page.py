"""The explorer's single page: HTML, CSS and vanilla JS from ``static/``, in one file.

Layer: web (imports the explainer and io only, so ``export-html`` needs no server
packages). The page draws the graph itself (SVG from the report's trace, a layered
layout), so it needs no Graphviz, no build step and nothing from a CDN.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from ..examples.recitation import EXPRESSION, POINT
from ..explainer import explain, steps
from ..io import strict_json

_STATIC = resources.files(__package__).joinpath("static")


def _asset(name: str) -> str:
    return _STATIC.joinpath(name).read_text("utf-8")


def _script_json(data: Any) -> str:
    """Strict JSON safe inside a <script> element (no ``</script>`` can end it early)."""
    return strict_json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e")


def embedded_data(expression: str, point: dict[str, float]) -> dict[str, Any]:
    """What a page carries for one expression at one point: the report and the step sweep."""
    report = explain(expression, mode="both", **point)
    sweep = steps.sweep(report.function, report.point)
    return {
        "report": report.to_dict(),
        "steps": {
            "steps": sweep.steps.tolist(),
            "errors": {s: e.tolist() for s, e in sweep.errors.items()},
            "best": {s: list(sweep.best(s)) for s in steps.SCHEMES},
        },
    }


def render_page(data: dict[str, Any] | None = None, static: bool = False) -> str:
    """The page, holding ``data`` (default: the recitation's function at x=2, z=3).

    ``static`` marks an exported page: it steps through its own report offline and says
    that other expressions need ``chainrule serve``.
    """
    if data is None:
        data = embedded_data(EXPRESSION, dict(POINT))
    return (
        _asset("index.html")
        .replace("/*STYLE*/", _asset("explorer.css"))
        .replace("/*SCRIPT*/", _asset("explorer.js"))
        .replace("{{MODE}}", "static" if static else "server")
        .replace("{{DATA}}", _script_json(data))
    )
