"""The explorer's API: the explainer's report, the limits, and hostile input (never a 500)."""

import json
import re
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("starlette")
httpx = pytest.importorskip("httpx")
jsonschema = pytest.importorskip("jsonschema")

from starlette.testclient import TestClient  # noqa: E402

from chainrule import symbolic  # noqa: E402
from chainrule.examples.recitation import EXPRESSION, GRADIENT  # noqa: E402
from chainrule.explainer import network  # noqa: E402
from chainrule.explainer.report import json_schema  # noqa: E402
from chainrule.web import app as web_app  # noqa: E402
from chainrule.web.work import run_limited  # noqa: E402

client = TestClient(web_app.create_app())
WEIGHTS = {"W": [[0.5, -0.3], [0.8, 0.2]], "b1": [0.1, -0.1], "A": [[1.2, -0.7]], "b2": [0.05]}


def valid_report(data: dict) -> dict:
    jsonschema.validate(data, json_schema(), cls=jsonschema.Draft202012Validator)
    return data


def test_the_seed_report_is_the_cli_report(seed_report):
    response = client.post(
        "/api/explain", json={"expression": EXPRESSION, "point": {"x": 2, "z": 3}}
    )
    assert response.status_code == 200
    assert valid_report(response.json()) == seed_report
    assert response.json()["gradient"] == pytest.approx(GRADIENT, rel=1e-14)


def test_variables_left_out_start_at_one_and_unused_ones_are_dropped():
    response = client.post("/api/explain", json={"expression": "x*y", "point": {"x": 3, "q": 7}})
    assert response.status_code == 200
    report = valid_report(response.json())
    assert report["point"] == {"x": 3.0, "y": 1.0}
    assert report["gradient"] == {"x": 1.0, "y": 3.0}


@pytest.mark.parametrize("text", ["exp(x*z) + * 2", "sin(x", "x $ 2", "x +"])
def test_a_parse_error_is_400_with_the_parsers_message_and_column(text):
    with pytest.raises(symbolic.ParseError) as expected:
        symbolic.parse(text)
    response = client.post("/api/explain", json={"expression": text, "point": {"x": 1}})
    assert response.status_code == 400
    assert response.json() == {"error": expected.value.message, "column": expected.value.column}


def test_a_point_outside_the_domain_is_422_naming_it():
    response = client.post("/api/explain", json={"expression": "log(x)", "point": {"x": -1}})
    assert response.status_code == 422
    assert "log" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"expression": "x" * (web_app.MAX_EXPRESSION_LENGTH + 1)}, 413, "limit is 500"),
        ({"expression": "x", "point": {"x": "2"}}, 400, "must be a number"),
        ({"expression": "x", "point": {"x": True}}, 400, "must be a number"),
        ({"expression": "x", "point": [1]}, 400, "point must be an object"),
        ({"expression": ""}, 400, "non-empty string"),
        ({"expression": 3}, 400, "non-empty string"),
        ({"point": {}}, 400, "non-empty string"),
        ({"expression": "x", "point": {f"v{i}": 1 for i in range(17)}}, 400, "at most 16"),
    ],
)
def test_malformed_requests_are_4xx_saying_why(body, status, words):
    response = client.post("/api/explain", json=body)
    assert response.status_code == status
    assert words in response.json()["error"]


@pytest.mark.parametrize(
    "content",
    [b"not json", b"[1, 2]", b'{"expression": "x", "point": {"x": NaN}}', b"\xff\xfe", b"[" * 5000],
)
def test_bodies_that_are_not_a_json_object_are_400(content):
    response = client.post("/api/explain", content=content)
    assert response.status_code == 400
    assert response.json()["column"] is None


def test_a_body_over_the_size_limit_is_413_before_it_is_parsed():
    content = b'{"expression": "' + b"x" * web_app.MAX_BODY_BYTES + b'"}'
    response = client.post("/api/explain", content=content)
    assert response.status_code == 413
    streamed = client.post("/api/explain", content=iter([content[:9000], content[9000:]]))
    assert streamed.status_code == 413


def test_work_past_the_time_limit_is_stopped_with_422():
    started = time.monotonic()
    status, text = run_limited(time.sleep, 30, seconds=0.5)
    assert status == 422 and "longer than 0.5 s" in json.loads(text)["error"]
    assert time.monotonic() - started < 10


def test_the_network_report_is_the_explainers_and_matches_explain_net():
    body = {"weights": WEIGHTS, "x": [1, 0], "y": [1]}
    response = client.post("/api/explain-net", json=body)
    assert response.status_code == 200
    report = valid_report(response.json())
    net = network.Network(2, 2, 1, weights={k: np.array(v) for k, v in WEIGHTS.items()})
    expected = network.evaluate(net, np.array([1.0, 0.0]), np.array([1.0]))
    assert report["value"] == pytest.approx(float(expected.scalar_trace.output.value), rel=1e-15)
    for name, value in expected.gradients.items():
        assert report["gradient"][name] == pytest.approx(value, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"weights": {**WEIGHTS, "W": [[1, 2]]}}, "W must hold"),
        ({"weights": None}, "weights must be"),
        ({"x": [1, 2, 3]}, "x needs 2"),
        ({"x": "1,0"}, "short list"),
        ({"activation": "gelu"}, "activation must be"),
    ],
)
def test_bad_network_requests_are_400(change, words):
    body = {"weights": WEIGHTS, "x": [1, 0], "y": [1], **change}
    response = client.post("/api/explain-net", json=body)
    assert response.status_code == 400
    assert words in response.json()["error"]


def test_a_network_weight_that_overflows_is_400():
    content = json.dumps({"weights": WEIGHTS, "x": [1, 0], "y": [1]}).replace("0.05", "1e400")
    response = client.post("/api/explain-net", content=content.encode())
    assert response.status_code == 400
    assert response.json()["error"] == "b2 must be finite"


def test_the_step_sweep_finds_the_complex_step_best():
    response = client.post("/api/steps", json={"expression": EXPRESSION, "point": {"x": 2, "z": 3}})
    assert response.status_code == 200
    data = response.json()
    assert set(data["errors"]) == {"forward", "central", "complex-step"}
    assert data["best"]["complex-step"][1] < 1e-14 < data["best"]["central"][1]


def test_the_openapi_document_and_the_report_schema_are_served():
    document = client.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert {"/api/explain", "/api/explain-net", "/api/steps"} <= set(document["paths"])
    assert document["components"]["schemas"]["Report"] == json_schema()
    assert client.get("/api/report.schema.json").json() == json_schema()


def test_the_page_is_served_with_the_seed_embedded(seed_report):
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert 'data-mode="server"' in response.text
    assert json.dumps(seed_report["function"]) in response.text
    # Nothing is fetched from elsewhere: the only address on the page is SVG's namespace.
    assert set(re.findall(r"https?://[^\s\"']+", response.text)) == {"http://www.w3.org/2000/svg"}


TOKENS = st.sampled_from([*"xyz0123456789+-*/^().,e ", "sin", "exp", "log", "**", "1e308"])
EXPRESSION_TEXT = st.lists(TOKENS, max_size=25).map("".join) | st.text(max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=EXPRESSION_TEXT, x=st.floats(-1e6, 1e6) | st.integers(-(10**30), 10**30))
def test_fuzzed_expressions_get_an_answer_never_a_500(text, x):
    response = client.post("/api/explain", json={"expression": text, "point": {"x": x}})
    assert response.status_code in (200, 400, 413, 422), response.text
    data = response.json()
    if response.status_code == 200:
        valid_report(data)
    elif data["column"] is not None:
        assert 1 <= data["column"] <= max(len(text), 1) + 1


def test_a_real_uvicorn_on_loopback_answers(live_server):
    assert live_server.startswith("http://127.0.0.1:")
    with httpx.Client(base_url=live_server, timeout=30) as http:
        assert "chainrule explorer" in http.get("/").text
        good = http.post("/api/explain", json={"expression": "x^2", "point": {"x": 3}})
        assert good.status_code == 200 and good.json()["gradient"] == {"x": 6.0}
        bad = http.post("/api/explain", json={"expression": "x^^2"})
        assert bad.status_code == 400 and bad.json()["column"] == 3
        huge = http.post("/api/explain", content=b"{" + b" " * 100_000 + b"}")
        assert huge.status_code == 413
        nan = http.post("/api/explain", content=b'{"expression": "x", "point": {"x": Infinity}}')
        assert nan.status_code == 400
