"""``chainrule explain``, ``grad``, ``steps`` and ``explain-net``: the recitation, worked.

Layer: cli. Parses the command line, calls :mod:`chainrule.explain`, prints.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..examples.recitation import EXPRESSION, POINT
from ..explainer import DomainError, explain, gradient_by, network, steps
from ..explainer.graph import FORMATS, write_graph
from ..explainer.report import plain_table
from ..io import strict_json
from ..symbolic import ParseError
from .app import ExpressionCommand, InputError, main, need

FORMAT = click.Choice(["text", "markdown", "json"])


def parse_assignments(words: Iterable[str]) -> dict[str, float]:
    """``x=2 z=3`` (or ``x=2,z=3``) as {"x": 2.0, "z": 3.0}, with a clear error otherwise."""
    point: dict[str, float] = {}
    for word in words:
        for item in filter(None, word.split(",")):
            name, sep, value = item.partition("=")
            name = name.strip()
            if not sep or not name.isidentifier():
                raise InputError(f"malformed --at {item!r}: write NAME=VALUE, e.g. --at x=2 z=3")
            try:
                point[name] = float(value)
            except ValueError:
                raise InputError(
                    f"malformed --at {item!r}: {value.strip()!r} is not a number"
                ) from None
            if not np.isfinite(point[name]):
                raise InputError(f"--at {item!r}: the value must be finite")
    return point


def _split(words: tuple[str, ...], at: tuple[str, ...]) -> tuple[str | None, dict[str, float]]:
    """The expression (first word without '=') and the point (from --at and trailing NAME=VALUE)."""
    expression = None
    assignments = list(at)
    for word in words:
        if "=" in word and not word.lstrip().startswith("="):
            assignments.append(word)
        elif expression is None:
            expression = word
        else:
            raise InputError(
                f"unexpected argument {word!r}: give one expression (quote it) and NAME=VALUE pairs"
            )
    return expression, parse_assignments(assignments)


def _resolve(words: tuple[str, ...], at: tuple[str, ...]) -> tuple[str, dict[str, float]]:
    expression, point = _split(words, at)
    if expression is None:
        return EXPRESSION, point or dict(POINT)
    return expression, point


def _emit(text: str) -> None:
    click.echo(text, nl=not text.endswith("\n"))


def _run(action: Any) -> Any:
    """Turn the library's input errors into CLI errors (exit status 2, no traceback).

    A parse error keeps its caret line under the offending column; others are one line.
    Infinite or undefined values are shown in the output, so NumPy's floating-point
    warnings about them would only repeat it on stderr: they are silenced.
    """
    try:
        with np.errstate(all="ignore"):
            return action()
    except ParseError as error:
        raise InputError(str(error)) from None
    except (ValueError, TypeError, DomainError) as error:
        raise InputError(str(error).splitlines()[0] if str(error) else repr(error)) from None


def _run_write(action: Any) -> Any:
    """Write a file; a path that cannot be written is the user's error (exit status 2)."""
    try:
        return action()
    except OSError as error:
        raise InputError(f"cannot write {error.filename or 'the file'}: {error.strerror}") from None


_WORDS = click.argument("words", nargs=-1, metavar="[EXPR] [NAME=VALUE]...")
_AT = click.option(
    "--at", "at", multiple=True, metavar="NAME=VALUE", help="The point, e.g. --at x=2 z=3."
)


@main.command("explain", cls=ExpressionCommand)
@_WORDS
@_AT
@click.option(
    "--mode",
    type=click.Choice(["reverse", "forward", "both"]),
    default="reverse",
    show_default=True,
    help="Which sweep tables to show (forward: one tangent table per input).",
)
@click.option(
    "--graph",
    "graph_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Draw the computation graph to FILE.{'|'.join(FORMATS)}.",
)
@click.option("--format", "fmt", type=FORMAT, default="text", show_default=True)
def explain_command(
    words: tuple[str, ...], at: tuple[str, ...], mode: str, graph_path: Path | None, fmt: str
) -> None:
    """Work EXPR at a point as the recitation does: trace, adjoints, tangents, cross-check.

    An EXPR that starts with a minus needs no quoting trick: explain "-x^2" --at x=3.

    With no EXPR: the recitation's exp(x*z) + x*z/log(x) + sin(log(x))/(x*z) at x=2, z=3.
    """
    expression, point = _resolve(words, at)
    _check_graph_path(graph_path)
    if fmt == "text":
        _check_rich("explain")
    report = _run(lambda: explain(expression, mode=mode, **point))
    if fmt == "json":
        _emit(strict_json.dumps(report.to_dict()))
    elif fmt == "markdown":
        _emit(report.to_markdown())
    else:
        _print_rich(report)
    if graph_path is not None:
        written, message = _run_write(lambda: write_graph(report.to_dot(), graph_path))
        click.echo(message or f"graph written to {written}", err=True)


def _check_graph_path(path: Path | None) -> None:
    """A --graph FILE that can be drawn: a known suffix, and Graphviz's tools to draw it."""
    if path is None:
        return
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise InputError(f"--graph {path}: the file must end in .{', .'.join(FORMATS)}")
    if fmt != "dot" and shutil.which("dot") is None:
        raise InputError(
            f"--graph {path}: drawing {fmt.upper()} needs Graphviz's `dot` program, which is "
            "not on PATH; install Graphviz (apt-get install graphviz, brew install graphviz or "
            f"conda install graphviz), or write DOT source: --graph {path.with_suffix('.dot')}"
        )


def _check_rich(command: str) -> None:
    """Rich draws the tables in a terminal; a pipe or a file gets plain text without it."""
    if sys.stdout.isatty():
        need("rich", f"{command} in a terminal")


def _print_rich(renderable: Any) -> None:
    """Rich tables in a terminal; plain text (fast, no box drawing) in a pipe or file."""
    if sys.stdout.isatty():
        from rich.console import Console

        Console().print(renderable)
    else:
        _emit(renderable.to_text())


@main.command("grad", cls=ExpressionCommand)
@_WORDS
@_AT
@click.option(
    "--method",
    type=click.Choice(["reverse", "forward", "symbolic", "fd", "complex-step", "all"]),
    default="reverse",
    show_default=True,
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def grad_command(words: tuple[str, ...], at: tuple[str, ...], method: str, fmt: str) -> None:
    """Print just the gradient of EXPR at the point (and the derivatives, with symbolic)."""
    expression, point = _resolve(words, at)
    results = _run(lambda: gradient_by(expression, point, method))
    if fmt == "json":
        _emit(strict_json.dumps(results))
        return
    for name, result in results.items():
        gradient = ", ".join(f"d/d{k} = {v!r}" for k, v in result["gradient"].items())
        click.echo(f"{name}: {gradient}")
        for k, text in result.get("derivatives", {}).items():
            click.echo(f"  d/d{k}: {text}")


@main.command("steps", cls=ExpressionCommand)
@_WORDS
@_AT
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the log-log error plot (PNG, SVG or PDF).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def steps_command(
    words: tuple[str, ...], at: tuple[str, ...], plot_path: Path | None, fmt: str
) -> None:
    """Error of forward, central and complex-step differences as the step h shrinks."""
    expression, point = _resolve(words, at)
    if plot_path is not None:
        if plot_path.suffix.lower() not in (".png", ".svg", ".pdf"):
            raise InputError(f"--plot {plot_path}: the file must end in .png, .svg or .pdf")
        need("matplotlib", "steps --plot")
    if fmt == "text":
        _check_rich("steps")
    function = _run(lambda: explain(expression, mode="reverse", **point)).function
    result = _run(lambda: steps.sweep(function, point))
    if fmt == "json":
        payload = {
            "steps": result.steps.tolist(),
            "errors": {s: e.tolist() for s, e in result.errors.items()},
            "best": {
                s: dict(zip(("h", "error"), result.best(s), strict=True)) for s in steps.SCHEMES
            },
        }
        _emit(strict_json.dumps(payload))
    else:
        _print_steps_table(result)
    if plot_path is not None:
        title = f"d/d({', '.join(point)}) of {expression}"
        written = _run_write(lambda: steps.plot(result, plot_path, title=title))
        click.echo(f"plot written to {written}", err=True)


def _print_steps_table(result: steps.StepSweep) -> None:
    header = ("h", *steps.SCHEMES)
    best = {s: result.best(s)[0] for s in steps.SCHEMES}
    rows = [
        (
            f"{h:.0e}",
            *(
                f"{e:.2e}" + (" ← best" if best[s] == h else "")
                for s, e in zip(steps.SCHEMES, errors, strict=True)
            ),
        )
        for h, *errors in result.rows()
    ]
    title = "relative gradient error vs reverse mode, by relative step h"
    if not sys.stdout.isatty():
        _emit(plain_table(title, header, rows) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in header:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


def _vector(text: str, option: str) -> np.ndarray:
    try:
        return np.array([float(v) for v in text.split(",")], dtype=np.float64)
    except ValueError:
        raise InputError(f"{option} {text!r}: give comma-separated numbers, e.g. 1,0") from None


@main.command("explain-net")
@click.option("--layers", default="2,2,1", show_default=True, help="inputs,hidden,outputs")
@click.option(
    "--activation",
    type=click.Choice(sorted(network.ACTIVATIONS)),
    default="sigmoid",
    show_default=True,
)
@click.option(
    "--weights",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON with W (inputs x hidden), b1, A (outputs x hidden), b2.",
)
@click.option("--seed", type=click.IntRange(min=0), help="Random weights from this seed.")
@click.option("--input", "input_text", default=None, help="The input x, e.g. 1,0.")
@click.option("--target", "target_text", default=None, help="The label y, e.g. 1.")
@click.option("--loss", type=click.Choice(["mse"]), default="mse", show_default=True)
@click.option("--graph", "graph_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--level",
    type=click.Choice(["neuron", "layer"]),
    default="neuron",
    show_default=True,
    help="One box per scalar (neuron) or per vector (layer) in the drawing.",
)
def explain_net_command(
    layers: str,
    activation: str,
    weights: Path | None,
    seed: int | None,
    input_text: str | None,
    target_text: str | None,
    loss: str,
    graph_path: Path | None,
    level: str,
) -> None:
    """The recitation's network in scalar and vector notation; evaluated when given weights."""
    _check_graph_path(graph_path)
    sizes = _vector(layers, "--layers")
    if len(sizes) != 3 or not all(s.is_integer() for s in sizes):
        raise InputError(f"--layers {layers!r}: give three sizes inputs,hidden,outputs, e.g. 2,2,1")
    net = _run(lambda: network.Network(*(int(s) for s in sizes), activation=activation))
    click.echo("Scalar notation:")
    for line in [*net.scalar_equations(), *net.weight_layout()]:
        click.echo(f"  {line}")
    click.echo("Vector notation:")
    for line in net.vector_equations():
        click.echo(f"  {line}")
    if weights is not None:
        net = _run(lambda: net.with_weights_file(weights))
    elif seed is not None:
        net = net.with_random_weights(seed)
    if net.weights is None:
        if input_text or target_text or graph_path:
            raise InputError("give --weights FILE.json or --seed N to evaluate the network")
        return
    x = _vector(input_text, "--input") if input_text else np.ones(net.inputs)
    if x.shape != (net.inputs,):
        raise InputError(f"--input has {x.size} values but the network has {net.inputs} inputs")
    target = _vector(target_text, "--target") if target_text else None
    if target is not None and target.shape != (net.outputs,):
        raise InputError(
            f"--target has {target.size} values but the network has {net.outputs} outputs"
        )
    result = _run(lambda: network.evaluate(net, x, target))
    click.echo(f"Forward pass at x = {', '.join(f'{v:g}' for v in x)}:")
    for name, value in result.forward_values.items():
        click.echo(f"  {name} = {value!r}")
    if result.gradients is not None:
        click.echo(f"Reverse pass: gradient of the {loss} loss against y = {target_text}:")
        for name, value in result.gradients.items():
            click.echo(f"  dL/d{name} = {value!r}")
    agreement = "the same outputs" if result.outputs_agree else "DIFFERENT outputs"
    if result.gradients_agree is not None:
        agreement += (
            " and the same gradients" if result.gradients_agree else " but DIFFERENT gradients"
        )
    click.echo(f"Check: the scalar and the vector forms give {agreement}.")
    if graph_path is not None:
        chosen = result.scalar_trace if level == "neuron" else result.vector_trace
        from ..explainer.graph import to_dot

        adjoints = {row.name: row.value for row in chosen.reverse()}
        source = to_dot(chosen, adjoints, title="network")
        written, message = _run_write(lambda: write_graph(source, graph_path))
        click.echo(message or f"graph written to {written}", err=True)
