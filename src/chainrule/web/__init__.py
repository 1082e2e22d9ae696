"""The browser explorer: the recitation, stepped through node by node in a web page.

Layer: web (on top: imports the explainer, symbolic and io; only the cli imports it).
:func:`~chainrule.web.page.render_page` builds the single-page app (HTML, CSS and
vanilla JS from ``static/``, no build step, nothing fetched from a CDN);
:func:`~chainrule.web.app.create_app` serves it with the JSON API (Starlette, the
``web`` extra). Each API request is worked in a fresh worker process under a time
limit (:mod:`chainrule.web.work`), so no state survives between requests.
"""

from __future__ import annotations

from .page import render_page

__all__ = ["render_page"]
