"""Computation graphs drawn in the recitation's convention, as DOT text.

Layer: explain (imports the trace; no Python Graphviz package). One box per
variable with its operation and value inside and its name in a caption cell
beside the box (part of the node's own HTML-like label, so it never drifts onto
an edge), directed edges from operands to the operations that use them, numbered
by operand position where the operation is not commutative (``x - z``: x is 1,
z is 2). Constants are small plain nodes in their own namespace. Graphviz's
``dot`` program renders the text; without it the DOT source is still written.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..io.files import write_bytes
from ..tensor import Tensor
from .trace import Trace, Variable, read_trace

FORMATS = ("svg", "png", "pdf", "dot")
INSTALL_HINT = (
    "Graphviz's `dot` program is not installed, so the drawing was written as DOT source "
    "to {path}. Install Graphviz (Debian/Ubuntu: `apt-get install graphviz`; macOS: "
    "`brew install graphviz`; conda: `conda install graphviz`) and run "
    "`dot -T{fmt} {path} -o {target}`."
)
#: Arrays with at most this many elements are drawn with their values; larger ones summarised.
SHOWN_ELEMENTS = 6


def value_text(value: Any) -> str:
    """A value for a box: 6 significant digits; small arrays in full, large ones summarised.

    >>> value_text(2.0), value_text([0.5, -1.25]), value_text(np.zeros((20, 3)))
    ('2', '[0.5, -1.25]', '(20, 3) min 0 max 0')
    """
    array = np.asarray(value)
    if array.ndim == 0:
        return f"{array.item():.6g}"
    if array.size <= SHOWN_ELEMENTS:
        text = np.array2string(array, separator=", ", formatter={"all": lambda v: f"{v:.4g}"})
        return text.replace("\n", "")
    if array.size == 0 or not np.issubdtype(array.dtype, np.number):
        return f"{array.shape}"
    return f"{array.shape} min {array.min():.4g} max {array.max():.4g}"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html_label(name: str | None, lines: list[str]) -> str:
    """A box of ``lines`` with ``name`` in a caption cell on its left (one node, one label)."""
    box = "<BR/>".join(html.escape(line) for line in lines)
    caption = f'<TD BORDER="0" ALIGN="RIGHT">{html.escape(name)}</TD>' if name else ""
    return (
        '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2"><TR>'
        f'{caption}<TD BORDER="1" CELLPADDING="5">{box}</TD></TR></TABLE>>'
    )


#: The operator entries whose operands commute (the symbolic layer sorts their arguments too);
#: functions say so in their Notation (``maximum``).
COMMUTATIVE_OPERATORS = frozenset({"add", "multiply"})


def _ordered(var: Variable) -> bool:
    """Whether operand order matters for ``var``'s operation (so the edges are numbered)."""
    if len(var.operands) < 2 or var.node is None or var.op in COMMUTATIVE_OPERATORS:
        return False
    notation = var.node._prim.notation
    return not (notation is not None and notation.commutative)


def to_dot(
    trace: Trace,
    adjoints: Mapping[str, Any] | None = None,
    title: str = "",
    *,
    values: bool = True,
    details: bool = False,
    adjoint_word: str = "adjoint",
) -> str:
    """DOT source for ``trace``.

    ``adjoints`` (name -> value) adds the reverse pass to each box (after
    ``adjoint_word``), ``values`` the forward values, ``details`` each value's
    shape and dtype.
    """
    lines = [
        "digraph computation_graph {",
        f"  graph [rankdir=LR, labelloc=t, label={_quote(title)}];",
        "  node [shape=plain, fontname=Helvetica];",
        "  edge [arrowsize=0.7, fontname=Helvetica, fontsize=10];",
    ]

    def box(var: Variable, operation: str) -> None:
        text = [operation]
        if details:
            array = np.asarray(var.value)
            text.append(f"{array.shape if array.ndim else 'scalar'} {array.dtype}")
        if values:
            text.append(f"= {value_text(var.value)}")
        if adjoints is not None and var.name in adjoints:
            text.append(f"{adjoint_word} {value_text(adjoints[var.name])}")
        lines.append(f"  {_quote(var.name)} [label={_html_label(var.name, text)}];")

    for var in trace.inputs:
        box(var, "input")
    constants = 0
    for var in trace.variables:
        box(var, var.label)
        numbered = _ordered(var)
        for position, operand in enumerate(var.operands):
            edge = " [label=" + _quote(str(position + 1)) + "]" if numbered else ""
            if operand in trace.by_name:
                source = _quote(operand)
            else:  # a constant: its own node, in a namespace no variable name can enter
                constants += 1
                source = _quote(f"#constant{constants}")
                lines.append(f"  {source} [label={_quote(operand)}, shape=plaintext];")
            lines.append(f"  {source} -> {_quote(var.name)}{edge};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(dot_source: str, fmt: str) -> bytes:
    """The drawing rendered by Graphviz's ``dot`` program (which must be installed)."""
    return subprocess.run(
        ["dot", f"-T{fmt}"], input=dot_source.encode(), capture_output=True, check=True
    ).stdout


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
    write_bytes(target, render(dot_source, fmt))
    return target, None


class Drawing:
    """A computation graph as DOT source; Jupyter shows it as SVG (``_repr_svg_``)."""

    def __init__(self, source: str) -> None:
        self.source = source

    def _repr_svg_(self) -> str | None:
        if shutil.which("dot") is None:
            return None  # Jupyter then falls back to the text representation
        return render(self.source, "svg").decode()

    def save(self, path: str | os.PathLike[str]) -> tuple[Path, str | None]:
        """Write to ``path`` (svg, png, pdf or dot); see :func:`write_graph`."""
        return write_graph(self.source, path)

    def __repr__(self) -> str:
        return self.source


def _named_leaves(params: Any) -> dict[str, Tensor]:
    """``params`` as {name: tensor}: a mapping, (name, tensor) pairs, or a Module."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        params = params.named_parameters()
    pairs: Iterable[tuple[str, Any]] = params.items() if isinstance(params, Mapping) else params
    named = dict(pairs)
    for name, value in named.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"draw: params[{name!r}] is a {type(value).__name__}, not a Tensor")
    return named


def draw(
    output: Tensor,
    params: Any = None,
    *,
    values: bool = False,
    grads: bool = False,
    title: str = "",
) -> Drawing:
    """The recorded backward graph of ``output``, like torchviz's ``make_dot``.

    One box per operation with its shape and dtype; ``params`` (a mapping of names
    to tensors, or a Module, whose ``named_parameters`` give ``fc1.weight``) names
    the leaves, other leaves that require grad are called ``input1``, ... and
    everything else is a constant. ``values`` adds each value, ``grads`` the
    gradient of ``output`` (summed, if not a scalar) at every box.

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> print(draw((w * w).sum(), {"w": w}).source.count("->"))
    3
    """
    if not isinstance(output, Tensor) or not output.requires_grad:
        raise ValueError(
            "draw: the output has no recorded graph; compute it from tensors with "
            "requires_grad=True (and outside no_grad)"
        )
    named = _named_leaves(params)
    leaves = {id(t) for t in named.values()}
    unnamed = [t for t in _graph_leaves(output) if id(t) not in leaves]
    for t in unnamed:
        named[_fresh_name("input", named)] = t
    recorded = read_trace(output, named)
    adjoints = {row.name: row.value for row in recorded.reverse()} if grads else None
    return Drawing(
        to_dot(recorded, adjoints, title, values=values, details=True, adjoint_word="grad")
    )


def _graph_leaves(output: Tensor) -> list[Tensor]:
    """The leaves that require grad, reached from ``output`` (iteratively, each once)."""
    leaves, seen, stack = [], {id(output)}, [output]
    while stack:
        node = stack.pop()
        if node._prim is None:
            leaves.append(node)
            continue
        for inp in node._inputs:
            if isinstance(inp, Tensor) and inp.requires_grad and id(inp) not in seen:
                seen.add(id(inp))
                stack.append(inp)
    return leaves


def _fresh_name(stem: str, taken: Mapping[str, Any]) -> str:
    number = 1
    while f"{stem}{number}" in taken:
        number += 1
    return f"{stem}{number}"
