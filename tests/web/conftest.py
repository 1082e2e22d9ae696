"""Fixtures for the explorer's tests: the seed's report from the CLI, and a live server."""

import json
import threading
import time

import pytest
from click.testing import CliRunner

from chainrule.cli.app import main


def cli_json(*args: str) -> dict:
    """What ``chainrule ARGS --format json`` prints, parsed."""
    result = CliRunner().invoke(main, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture(scope="session")
def seed_report() -> dict:
    """``chainrule explain --mode both --format json``: the recitation's function at x=2, z=3."""
    return cli_json("explain", "--mode", "both")


@pytest.fixture(scope="session")
def live_server() -> str:
    """The explorer under a real uvicorn on loopback (a free port); yields its base URL."""
    uvicorn = pytest.importorskip("uvicorn")
    pytest.importorskip("starlette")
    from chainrule.web.app import create_app

    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=0, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    yield f"http://{host}:{port}/"
    server.should_exit = True
    thread.join(timeout=10)
