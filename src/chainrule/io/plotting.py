"""Figures for files: matplotlib's object API without a screen, saved whole or not at all.

Layer: io (imports chainrule.io.files and chainrule.extras; matplotlib lazily, from the
``cli`` extra). No global backend is switched: a figure is a ``matplotlib.figure.Figure``
drawn on its own Agg canvas, so a notebook's or a program's pyplot state is left as it was.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from ..extras import require
from .files import write_bytes


def subplots(nrows: int = 1, ncols: int = 1, **kwargs: Any) -> tuple[Any, Any]:
    """A new figure and its axes, like ``pyplot.subplots`` but outside pyplot."""
    require("matplotlib", "drawing a plot")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure_options = {k: kwargs.pop(k) for k in ("figsize", "dpi", "layout") if k in kwargs}
    figure = Figure(**figure_options)
    FigureCanvasAgg(figure)
    return figure, figure.subplots(nrows, ncols, **kwargs)


def save_figure(figure: Any, path: str | os.PathLike[str], dpi: int = 100) -> Path:
    """Write ``figure`` to ``path`` (the suffix picks PNG, SVG or PDF) atomically."""
    target = Path(path)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=target.suffix.lstrip(".").lower() or "png", dpi=dpi)
    return write_bytes(target, buffer.getvalue())
