"""``chainrule serve`` and ``chainrule export-html``: the browser explorer.

Layer: cli. ``serve`` runs :func:`chainrule.web.app.create_app` under uvicorn (the ``web``
extra) on loopback unless told otherwise; ``export-html`` writes the same page as one
self-contained file that steps through its expression offline.
"""

from __future__ import annotations

import socket
import threading
import webbrowser
from pathlib import Path

import click

from ..io.files import write_bytes
from ..web.page import embedded_data, render_page
from .app import ExpressionCommand, InputError, main, need
from .explain import _AT, _WORDS, _resolve, _run, _run_write


@main.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on; the default is this machine only.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a web browser.")
def serve_command(port: int, host: str, open_browser: bool) -> None:
    """Serve the explorer: step through forward and reverse passes in a browser."""
    uvicorn = need("uvicorn", "chainrule serve")
    need("starlette", "chainrule serve")
    from ..web.app import create_app

    try:  # bind here, so a port in use is one line, and --port 0 prints the port it got
        listener = socket.create_server(
            (host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET
        )
    except (OSError, OverflowError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise InputError(f"cannot listen on {host}:{port}: {reason}") from None
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{listener.getsockname()[1]}/"
    click.echo(f"chainrule explorer at {url}  (Ctrl+C stops it)")
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning"))
    with listener:
        server.run(sockets=[listener])


@main.command("export-html", cls=ExpressionCommand)
@_WORDS
@_AT
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("explorer.html"),
    show_default=True,
    help="The HTML file to write.",
)
def export_html_command(words: tuple[str, ...], at: tuple[str, ...], output: Path) -> None:
    """Write the explorer for EXPR at a point as one static HTML file (works offline)."""
    expression, point = _resolve(words, at)
    data = _run(lambda: embedded_data(expression, point))
    page = render_page(data, static=True).encode("utf-8")
    written = _run_write(lambda: write_bytes(output, page))
    click.echo(f"page written to {written} ({len(page) / 1024:.0f} KiB)", err=True)
