"""Figures for files: matplotlib without a screen, saved whole or not at all.

Layer: bottom (imports chainrule.files; matplotlib lazily, from the ``cli`` extra).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from .files import write_bytes


def subplots(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """``matplotlib.pyplot.subplots`` on the headless Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def save_figure(figure: Any, path: str | os.PathLike[str], dpi: int = 100) -> Path:
    """Write ``figure`` to ``path`` (the suffix picks PNG, SVG or PDF) atomically; close it."""
    import matplotlib.pyplot as plt

    target = Path(path)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=target.suffix.lstrip(".").lower() or "png", dpi=dpi)
    plt.close(figure)
    return write_bytes(target, buffer.getvalue())
