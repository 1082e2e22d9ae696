"""The explorer's ASGI application: the page, the JSON API and its OpenAPI document.

Layer: web (Starlette, from the ``web`` extra). Every request is checked before any work:
a body of at most :data:`MAX_BODY_BYTES`, an expression of at most
:data:`MAX_EXPRESSION_LENGTH` characters, finite numbers; the work then runs in a fresh
process for at most :data:`TIME_LIMIT_S` seconds. Bad input is a 4xx answer with
``{"error": message, "column": n}`` (the column of a parse error, else null), never a 500.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..explainer import network
from ..explainer.report import json_schema
from .page import render_page
from .work import RequestError, explain_report, network_report, run_limited, step_sweep

MAX_BODY_BYTES = 16_384
MAX_EXPRESSION_LENGTH = 500
MAX_VARIABLES = 16
TIME_LIMIT_S = 10.0


async def _read_json(request: Request) -> dict[str, Any]:
    """The request's JSON object, read no further than :data:`MAX_BODY_BYTES`."""
    too_large = RequestError(413, f"the request body is over {MAX_BODY_BYTES} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise too_large
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise RequestError(400, f"the body is not JSON: {str(error)[:120]}") from None
    if not isinstance(data, dict):
        raise RequestError(400, "the body must be a JSON object")
    return data


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RequestError(400, f"{what} must be a number, got {json.dumps(value)[:40]}")
    number = float(value)
    if not math.isfinite(number):
        raise RequestError(400, f"{what} must be finite")
    return number


def _numbers(value: Any, what: str) -> list[Any]:
    """A (possibly nested, at most two-deep) list of finite numbers."""
    if not isinstance(value, list) or len(value) > 9:
        raise RequestError(400, f"{what} must be a short list of numbers")
    return [
        _numbers(item, what) if isinstance(item, list) else _number(item, what) for item in value
    ]


def _expression_and_point(data: dict[str, Any]) -> tuple[str, dict[str, float]]:
    expression = data.get("expression")
    if not isinstance(expression, str) or not expression.strip():
        raise RequestError(400, "give the expression as a non-empty string", 1)
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise RequestError(
            413,
            f"the expression has {len(expression)} characters; the limit is "
            f"{MAX_EXPRESSION_LENGTH}",
            MAX_EXPRESSION_LENGTH + 1,
        )
    point = data.get("point", {})
    if not isinstance(point, dict) or len(point) > MAX_VARIABLES:
        raise RequestError(400, f"point must be an object of at most {MAX_VARIABLES} numbers")
    return expression, {str(k): _number(v, f"point[{k!r}]") for k, v in point.items()}


async def _answer(request: Request, handler: Any) -> Response:
    """Validate the request with ``handler`` and run its work under the time limit."""
    try:
        action, args = handler(await _read_json(request))
    except RequestError as error:
        return JSONResponse(error.body(), status_code=error.status)
    status, text = await asyncio.to_thread(run_limited, action, *args, seconds=TIME_LIMIT_S)
    return Response(text, status_code=status, media_type="application/json")


async def explain_endpoint(request: Request) -> Response:
    """POST /api/explain: the explainer's report for {"expression", "point"}."""
    return await _answer(request, lambda data: (explain_report, _expression_and_point(data)))


async def steps_endpoint(request: Request) -> Response:
    """POST /api/steps: finite-difference error against the step h, for the plot."""
    return await _answer(request, lambda data: (step_sweep, _expression_and_point(data)))


def _network_request(data: dict[str, Any]) -> tuple[Any, tuple[Any, ...]]:
    weights = data.get("weights")
    if not isinstance(weights, dict):
        raise RequestError(400, "weights must be an object with W, b1, A and b2")
    arrays = {name: _numbers(weights.get(name), name) for name in ("W", "b1", "A", "b2")}
    activation = data.get("activation", "sigmoid")
    if activation not in network.ACTIVATIONS:
        raise RequestError(400, f"activation must be one of {', '.join(network.ACTIVATIONS)}")
    x, y = _numbers(data.get("x"), "x"), _numbers(data.get("y"), "y")
    return network_report, (arrays, x, y, activation)


async def network_endpoint(request: Request) -> Response:
    """POST /api/explain-net: the report for the 2-2-1 network's loss at given weights."""
    return await _answer(request, _network_request)


async def openapi_endpoint(request: Request) -> JSONResponse:
    return JSONResponse(openapi_document())


async def schema_endpoint(request: Request) -> JSONResponse:
    return JSONResponse(json_schema())


def openapi_document() -> dict[str, Any]:
    """The API described in OpenAPI 3.1; responses refer to the explainer's report schema."""
    error = {
        "description": "Bad input: the message, and the column of a parse error (1-based).",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    report = {
        "description": "The explainer's JSON report.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Report"}}},
    }
    expression_body = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Expression"}}},
    }
    bad = {"400": error, "413": error, "422": error}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "chainrule explorer",
            "version": "1",
            "description": (
                f"Bodies of at most {MAX_BODY_BYTES} bytes, expressions of at most "
                f"{MAX_EXPRESSION_LENGTH} characters, {TIME_LIMIT_S:g} s per request."
            ),
        },
        "paths": {
            "/api/explain": {
                "post": {
                    "summary": "Explain an expression at a point",
                    "requestBody": expression_body,
                    "responses": {"200": report, **bad},
                }
            },
            "/api/steps": {
                "post": {
                    "summary": "Finite-difference error against the step h",
                    "requestBody": expression_body,
                    "responses": {
                        "200": {
                            "description": "steps, errors per scheme, best (h, error)",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **bad,
                    },
                }
            },
            "/api/explain-net": {
                "post": {
                    "summary": "Explain the 2-2-1 network's loss",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Network"}}
                        },
                    },
                    "responses": {"200": report, **bad},
                }
            },
            "/api/report.schema.json": {
                "get": {
                    "summary": "The report's JSON Schema",
                    "responses": {"200": {"description": "JSON Schema (2020-12)"}},
                }
            },
        },
        "components": {
            "schemas": {
                "Report": json_schema(),
                "Error": {
                    "type": "object",
                    "required": ["error", "column"],
                    "properties": {
                        "error": {"type": "string"},
                        "column": {"type": ["integer", "null"]},
                    },
                },
                "Expression": {
                    "type": "object",
                    "required": ["expression"],
                    "properties": {
                        "expression": {"type": "string", "maxLength": MAX_EXPRESSION_LENGTH},
                        "point": {
                            "type": "object",
                            "additionalProperties": {"type": "number"},
                            "maxProperties": MAX_VARIABLES,
                        },
                    },
                },
                "Network": {
                    "type": "object",
                    "required": ["weights", "x", "y"],
                    "properties": {
                        "weights": {
                            "type": "object",
                            "description": "W (2x2, W[i][j] = w_(i+1)(j+1)), b1 (2), "
                            "A (1x2), b2 (1)",
                        },
                        "x": {"type": "array", "items": {"type": "number"}},
                        "y": {"type": "array", "items": {"type": "number"}},
                        "activation": {"enum": list(network.ACTIVATIONS)},
                    },
                },
            }
        },
    }


def create_app() -> Starlette:
    """The explorer: ``/`` the page, ``/api/...`` the JSON API, ``/api/openapi.json`` its schema.

    The page (with the seed's report) is built once here: it is the same for every request.
    """
    page = render_page()

    async def page_endpoint(request: Request) -> HTMLResponse:
        return HTMLResponse(page)

    return Starlette(
        routes=[
            Route("/", page_endpoint),
            Route("/api/explain", explain_endpoint, methods=["POST"]),
            Route("/api/steps", steps_endpoint, methods=["POST"]),
            Route("/api/explain-net", network_endpoint, methods=["POST"]),
            Route("/api/openapi.json", openapi_endpoint),
            Route("/api/report.schema.json", schema_endpoint),
        ]
    )
