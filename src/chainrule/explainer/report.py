"""The explanation of one function at one point, and its renderings.

Layer: explain. :class:`Explanation` holds the trace, the sweeps, the cross-check
and the symbolic derivatives; it renders as rich tables in a terminal, plain
text, Markdown, JSON, DOT and, in Jupyter, HTML with the SVG graph. The JSON
follows the published schema ``report.schema.json`` and is strict (RFC 8259): a
non-finite number is written as null and listed, by its path, under
``non_finite`` (:mod:`chainrule.io.strict_json`).
"""

from __future__ import annotations

import html
import json
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from ..io import strict_json
from .crosscheck import MethodResult
from .graph import SHOWN_ELEMENTS, Drawing, to_dot
from .trace import SweepRow, Trace

BAR = "\u0304"  # combining macron: v̄ is the adjoint of v
DOT = "\u0307"  # combining dot above: v̇ is the tangent of v


def adjoint_name(name: str) -> str:
    return name[0] + BAR + name[1:]


def tangent_name(name: str) -> str:
    return name[0] + DOT + name[1:]


def number(value: Any) -> str:
    """A value with 15 significant digits (enough to check to 1e-12).

    Small arrays are shown in full (6 digits), large ones summarised by their
    shape, smallest, mean and largest element.
    """
    array = np.asarray(value)
    if array.ndim == 0:
        return f"{array.item():.15g}"
    if array.size > SHOWN_ELEMENTS:
        return (
            f"array of shape {array.shape}: min {array.min():.6g}, "
            f"mean {array.mean():.6g}, max {array.max():.6g}"
        )
    return np.array2string(array, precision=6, separator=", ")


def shape_text(value: Any) -> str:
    """The shape column: ``scalar`` or ``(2, 3)``."""
    shape = np.shape(value)
    return str(shape) if shape else "scalar"


@dataclass
class Explanation:
    """Everything ``chainrule explain`` prints about one function at one point."""

    title: str
    point: dict[str, Any]  # a float per scalar input, an array per array input
    trace: Trace
    reverse: list[SweepRow]
    forward: dict[str, list[SweepRow]]
    cross_check: list[MethodResult]
    derivatives: dict[str, str] = field(default_factory=dict)
    partial_formula: Callable[[str, str], str | None] = field(
        default=lambda child, operand: None, repr=False
    )
    show_reverse: bool = True
    #: The function explained (keyword arguments named as the variables).
    function: Callable[..., Any] | None = field(default=None, repr=False)

    @property
    def output_name(self) -> str:
        """What the tables call the output (``y``), never the name of an input."""
        return self.trace.output_name

    @property
    def gradient(self) -> dict[str, Any]:
        """d(output)/d(input) by reverse mode: a float, or an array shaped like the input."""
        adjoints = {row.name: row.value for row in self.reverse}
        return {v.name: _scalar_or_array(adjoints[v.name]) for v in self.trace.inputs}

    @property
    def value(self) -> Any:
        return _scalar_or_array(self.trace.output.value)

    @property
    def has_arrays(self) -> bool:
        return any(np.ndim(v.value) for v in self.trace.inputs + self.trace.variables)

    # --- the rows of each table, shared by every renderer ------------------------
    def trace_header(self) -> tuple[str, ...]:
        shape = ("shape",) if self.has_arrays else ()
        return ("variable", "formula", *shape, "value")

    def trace_rows(self) -> list[tuple[str, ...]]:
        def row(name: str, formula: str, value: Any) -> tuple[str, ...]:
            shape = (shape_text(value),) if self.has_arrays else ()
            return (name, formula, *shape, number(value))

        rows = [row(v.name, "input", v.value) for v in self.trace.inputs]
        rows += [row(v.name, v.formula, v.value) for v in self.trace.variables]
        return rows

    def _term_text(self, row: SweepRow, reverse: bool) -> tuple[str, str]:
        """The chain-rule sum for a row, in symbols and in numbers."""
        mark = adjoint_name if reverse else tangent_name
        if not row.terms:
            if reverse:
                y = self.output_name
                return f"1 (seed: d{y}/d{y} = 1)", ""
            chosen = bool(np.all(np.asarray(row.value) == 1))
            return ("1 (the chosen direction)" if chosen else "0 (held fixed)"), ""
        symbols, numbers = [], []
        for term in row.terms:
            child, operand = (term.other, row.name) if reverse else (row.name, term.other)
            partial = term.partial
            formula = self.partial_formula(child, operand)
            if formula:
                partial = f"{partial} [= {formula}]"
            symbols.append(
                f"{mark(term.other)}·{partial}" if reverse else f"{partial}·{mark(term.other)}"
            )
            if term.partial_value is None:  # arrays: show the product (a VJP or JVP) itself
                numbers.append(number(term.value))
                continue
            pv, ov = _factor(term.partial_value), _factor(term.other_value)
            numbers.append(f"{ov}·{pv}" if reverse else f"{pv}·{ov}")
        return " + ".join(symbols), " + ".join(numbers)

    def sweep_rows(self, rows: list[SweepRow], reverse: bool) -> list[tuple[str, str, str, str]]:
        mark = adjoint_name if reverse else tangent_name
        out = []
        for row in rows:
            symbols, numbers = self._term_text(row, reverse)
            out.append((mark(row.name), symbols, numbers, number(row.value)))
        return out

    def check_rows(self) -> list[tuple[str, ...]]:
        names = list(self.point)
        return [
            (
                r.method,
                *(number(r.gradient[n]) for n in names),
                f"{r.max_rel_error:.2e}",
                r.evaluations + (f"; {r.note}" if r.note else ""),
            )
            for r in self.cross_check
        ]

    def check_header(self) -> tuple[str, ...]:
        y = self.output_name
        return ("method", *(f"d{y}/d{n}" for n in self.point), "rel. error vs reverse", "cost")

    # --- renderers ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A dictionary with every number at full precision (arrays as nested lists).

        It may hold NaN or infinity; :meth:`to_json` writes those as null.
        """

        def sweep(rows: list[SweepRow]) -> list[dict[str, Any]]:
            return [
                {
                    "variable": row.name,
                    "value": _json_number(row.value),
                    "terms": [
                        {
                            "with": t.other,
                            "partial": t.partial,
                            "partial_formula": self.partial_formula(
                                *(
                                    (t.other, row.name)
                                    if rows is self.reverse
                                    else (row.name, t.other)
                                )
                            ),
                            "partial_value": _json_number(t.partial_value),
                            "value": _json_number(t.value),
                        }
                        for t in row.terms
                    ],
                }
                for row in rows
            ]

        return {
            "function": self.title,
            "output": self.output_name,
            "point": {k: _json_number(v) for k, v in self.point.items()},
            "value": _json_number(self.value),
            "gradient": {k: _json_number(v) for k, v in self.gradient.items()},
            "trace": [
                {
                    "variable": v.name,
                    "op": v.op,
                    "formula": v.formula,
                    "operands": list(v.operands),
                    "shape": list(np.shape(v.value)),
                    "value": _json_number(v.value),
                }
                for v in self.trace.inputs + self.trace.variables
            ],
            "reverse": sweep(self.reverse),
            "forward": {direction: sweep(rows) for direction, rows in self.forward.items()},
            "cross_check": [
                {
                    "method": r.method,
                    "gradient": {k: _json_number(v) for k, v in r.gradient.items()},
                    "max_rel_error": r.max_rel_error,
                    "evaluations": r.evaluations,
                    "note": r.note,
                }
                for r in self.cross_check
            ],
            "derivatives": self.derivatives,
        }

    def to_json(self) -> str:
        """Strict JSON (RFC 8259) following ``report.schema.json``.

        NaN and infinities are not JSON: each becomes null, and ``non_finite`` maps
        where it was (a JSON Pointer) to what it was ("nan", "inf", "-inf").
        """
        return strict_json.dumps(self.to_dict())

    def to_dot(self) -> str:
        adjoints = {row.name: row.value for row in self.reverse}
        return to_dot(self.trace, adjoints, title=self.title)

    @property
    def graph(self) -> Drawing:
        """The computation graph, with values and adjoints (shown as SVG in Jupyter)."""
        return Drawing(self.to_dot())

    def _tables(self) -> list[tuple[str, tuple[str, ...], list[tuple[str, ...]]]]:
        tables = [("Evaluation trace (forward pass)", self.trace_header(), self.trace_rows())]
        if self.show_reverse:
            tables.append(
                (
                    "Reverse pass: adjoints, output first",
                    ("adjoint", "chain rule", "numbers", "value"),
                    self.sweep_rows(self.reverse, reverse=True),
                )
            )
        for direction, rows in self.forward.items():
            tables.append(
                (
                    f"Forward mode: tangents in direction {direction} "
                    f"({tangent_name(direction)} = 1"
                    f"{' in every element' if np.ndim(self.point[direction]) else ''})",
                    ("tangent", "chain rule", "numbers", "value"),
                    self.sweep_rows(rows, reverse=False),
                )
            )
        tables.append(("Cross-check", self.check_header(), self.check_rows()))
        return tables

    def _summary_lines(self) -> list[str]:
        y = self.output_name
        at = ", ".join(f"{k} = {number(v)}" for k, v in self.point.items())
        lines = [f"{y} = {self.title}   at {at}", f"{y} = {_shown(self.value)}"]
        lines += [f"d{y}/d{k} = {_shown(v)}" for k, v in self.gradient.items()]
        lines += [f"symbolic d{y}/d{k} = {text}" for k, text in self.derivatives.items()]
        return lines

    def to_markdown(self) -> str:
        parts = ["\n".join(f"- {line}" for line in self._summary_lines())]
        for title, header, rows in self._tables():
            lines = [
                f"### {title}",
                "",
                "| " + " | ".join(header) + " |",
                "|" + "---|" * len(header),
            ]
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            parts.append("\n".join(lines))
        return "\n\n".join(parts) + "\n"

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.table import Table

        yield "\n".join(self._summary_lines())
        for title, header, rows in self._tables():
            table = Table(title=title, title_justify="left", show_lines=False)
            for column in header:
                table.add_column(column, overflow="fold")
            for row in rows:
                table.add_row(*row)
            yield table

    def to_text(self) -> str:
        """Plain text tables: what a pipe or a file gets (a terminal gets rich tables)."""
        parts = ["\n".join(self._summary_lines())]
        parts += [plain_table(title, header, rows) for title, header, rows in self._tables()]
        return "\n\n".join(parts) + "\n"

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        parts = [f"<p>{'<br>'.join(html.escape(line) for line in self._summary_lines())}</p>"]
        for title, header, rows in self._tables():
            head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
            body = "".join(
                "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                for row in rows
            )
            parts.append(f"<h4>{html.escape(title)}</h4><table><tr>{head}</tr>{body}</table>")
        svg = self.graph._repr_svg_()
        parts.append(svg or f"<p>{html.escape(NO_DOT_NOTE)}</p>")
        return "".join(parts)


def _factor(value: Any) -> str:
    """A number as a factor in a product: negative ones in parentheses."""
    text = number(value)
    return f"({text})" if text.startswith("-") else text


def plain_table(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Columns padded to their widest cell, under a title and a rule."""
    widths = [max(map(_width, column)) for column in zip(header, *rows, strict=True)]

    def line(cells: tuple[str, ...]) -> str:
        padded = (c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True))
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([title, line(header), rule, *(line(row) for row in rows)])


def _width(text: str) -> int:
    """Columns the text takes in a terminal: combining marks (the bar of v̄) take none."""
    return sum(not unicodedata.combining(c) for c in text)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _json_number(value: Any) -> Any:
    if value is None:
        return None
    array = np.asarray(value)
    return array.item() if array.ndim == 0 else array.tolist()


def _scalar_or_array(value: Any) -> Any:
    array = np.asarray(value, dtype=np.float64)
    return float(array) if array.ndim == 0 else array


def _shown(value: Any) -> str:
    """A scalar as Python writes it (every digit), an array by :func:`number`."""
    return repr(value) if isinstance(value, float) else number(value)


def json_schema() -> dict[str, Any]:
    """The JSON Schema that :meth:`Explanation.to_json` follows (``report.schema.json``).

    It is also the browser explorer's API: the package ships it as data.
    """
    text = resources.files(__package__).joinpath("report.schema.json").read_text("utf-8")
    return json.loads(text)


NO_DOT_NOTE = (
    "The graph needs Graphviz's dot program, which is not installed: install Graphviz "
    "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; conda: conda "
    "install graphviz) and run this cell again, or save the DOT text with "
    "report.graph.save('graph.dot')."
)


def build(
    title: str,
    trace: Trace,
    point: Mapping[str, Any],
    cross_check: list[MethodResult],
    forward_directions: list[str],
    derivatives: Mapping[str, str] | None = None,
    partial_formula: Callable[[str, str], str | None] | None = None,
    show_reverse: bool = True,
    function: Callable[..., Any] | None = None,
) -> Explanation:
    """Assemble an Explanation from a trace: runs the sweeps the tables show."""
    return Explanation(
        title=title,
        point={k: _scalar_or_array(v) for k, v in point.items()},
        trace=trace,
        reverse=trace.reverse(),
        forward={d: trace.forward(d) for d in forward_directions},
        cross_check=cross_check,
        derivatives=dict(derivatives or {}),
        partial_formula=partial_formula or (lambda child, operand: None),
        show_reverse=show_reverse,
        function=function,
    )
