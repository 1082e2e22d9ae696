"""Computation graphs drawn in the recitation's convention, with Graphviz.

Layer: explain. One rectangle per variable with its operation inside and its name
outside (Graphviz's ``xlabel``), directed unlabeled edges from operands to the
operations that use them. Each box also shows the forward value and, when
known, the adjoint.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..io.files import write_bytes
from .trace import Trace

FORMATS = ("svg", "png", "pdf", "dot")
INSTALL_HINT = (
    "Graphviz's `dot` program is not installed, so the drawing was written as DOT source "
    "to {path}. Install Graphviz (Debian/Ubuntu: `apt-get install graphviz`; macOS: "
    "`brew install graphviz`; conda: `conda install graphviz`) and run "
    "`dot -T{fmt} {path} -o {target}`."
)


def _number(value: Any) -> str:
    array = np.asarray(value)
    if array.ndim == 0:
        return f"{array.item():.6g}"
    return f"array{array.shape}"


def to_dot(trace: Trace, adjoints: Mapping[str, Any] | None = None, title: str = "") -> str:
    """DOT source for ``trace``; ``adjoints`` (name -> value) adds the reverse pass to each box."""
    import graphviz

    graph = graphviz.Digraph("computation_graph")
    graph.attr(rankdir="LR", forcelabels="true", label=title, labelloc="t")
    graph.attr("node", shape="box", fontname="Helvetica")
    graph.attr("edge", arrowsize="0.7")

    def box(name: str, operation: str, value: Any) -> None:
        lines = [operation, f"= {_number(value)}"]
        if adjoints is not None and name in adjoints:
            lines.append(f"adjoint {_number(adjoints[name])}")
        graph.node(name, "\n".join(lines), xlabel=name)

    for var in trace.inputs:
        box(var.name, var.name, var.value)
    constants = 0
    for var in trace.variables:
        box(var.name, var.label, var.value)
        for operand in var.operands:
            if operand not in trace.by_name:
                constants += 1
                constant_id = f"const{constants}"
                graph.node(constant_id, operand, shape="plaintext")
                graph.edge(constant_id, var.name)
            else:
                graph.edge(operand, var.name)
    return graph.source


def write_graph(dot_source: str, path: str | os.PathLike[str]) -> tuple[Path, str | None]:
    """Write the drawing to ``path`` (its suffix picks svg, png, pdf or dot).

    Returns the file written and a message for the user (None when all went as
    asked). Without Graphviz's ``dot`` program the DOT source is written beside
    the requested file instead, with instructions. The file appears whole or not
    at all (written to a temporary file, then renamed).
    """
    target = Path(path)
    fmt = target.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(
            f"cannot draw to {target.name}: the file must end in one of "
            f"{', '.join('.' + f for f in FORMATS)}"
        )
    if fmt == "dot":
        write_bytes(target, dot_source.encode())
        return target, None
    if shutil.which("dot") is None:
        fallback = target.with_suffix(".dot")
        write_bytes(fallback, dot_source.encode())
        return fallback, INSTALL_HINT.format(path=fallback, fmt=fmt, target=target)
    import graphviz

    rendered = graphviz.Source(dot_source).pipe(format=fmt)
    write_bytes(target, rendered)
    return target, None


class Drawing:
    """A computation graph as DOT source; Jupyter shows it as SVG (``_repr_svg_``)."""

    def __init__(self, source: str) -> None:
        self.source = source

    def _repr_svg_(self) -> str | None:
        if shutil.which("dot") is None:
            return None  # Jupyter then falls back to the text representation
        import graphviz

        return graphviz.Source(self.source).pipe(format="svg").decode()

    def save(self, path: str | os.PathLike[str]) -> tuple[Path, str | None]:
        """Write to ``path`` (svg, png, pdf or dot); see :func:`write_graph`."""
        return write_graph(self.source, path)

    def __repr__(self) -> str:
        return self.source
