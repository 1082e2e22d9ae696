"""What one API request computes, and running it in a fresh process under a time limit.

Layer: web. :func:`explain_report`, :func:`network_report` and :func:`step_sweep` turn a
validated request into strict JSON text (or raise :class:`RequestError`, a 4xx answer).
:func:`run_limited` runs one of them in a new worker process and kills it when the time
limit passes: a hostile expression can cost its own request a few seconds, never the
server its memory or the next request its answer. Workers fork from multiprocessing's
fork server, which (as for any multiprocessing program) imports the host's main module:
``chainrule serve``, ``python -m chainrule serve`` and the uvicorn command qualify; a
script read from stdin does not (its requests answer 500, "the worker stopped").
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import symbolic
from ..explainer import DomainError, explain, network, steps
from ..explainer.crosscheck import cross_check
from ..explainer.report import build
from ..explainer.source import partial_formulas
from ..io import strict_json

#: A variable the request gives no value for starts at this value (the page shows it).
DEFAULT_VALUE = 1.0


@dataclass
class RequestError(Exception):
    """A request we cannot answer: the HTTP status, a message, and the column of a parse error."""

    status: int
    message: str
    column: int | None = None

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "column": self.column}


def variables_of(expression: str) -> list[str]:
    """The expression's variable names, in the order they first appear in the text."""
    names = [s.name for s in symbolic.parse(expression).free_symbols]
    return sorted(names, key=lambda name: _first_use(expression, name))


def _first_use(text: str, name: str) -> int:
    """Where ``name`` first appears as a whole word in ``text``."""
    start = 0
    while (found := text.find(name, start)) >= 0:
        before = text[found - 1] if found else " "
        after = text[found + len(name)] if found + len(name) < len(text) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            return found
        start = found + 1
    return len(text)


def _answer(action: Callable[[], Any]) -> Any:
    """Run ``action``: the library's input errors become 400 (a point off the domain, 422)."""
    try:
        with np.errstate(all="ignore"):
            return action()
    except symbolic.ParseError as error:
        raise RequestError(400, error.message, error.column) from None
    except DomainError as error:
        raise RequestError(422, str(error).splitlines()[0]) from None
    except (ValueError, TypeError, ArithmeticError, RecursionError) as error:
        raise RequestError(400, str(error).splitlines()[0] if str(error) else repr(error)) from None


def explain_report(expression: str, point: Mapping[str, float]) -> str:
    """The explainer's JSON report for ``expression`` (both sweeps) at ``point``.

    Variables the point leaves out start at :data:`DEFAULT_VALUE`; names the expression
    does not use are dropped, so the page can keep its inputs while the text changes.
    """

    def work() -> str:
        names = variables_of(expression)
        chosen = {name: float(point.get(name, DEFAULT_VALUE)) for name in names}
        return strict_json.dumps(explain(expression, mode="both", **chosen).to_dict())

    return _answer(work)


def step_sweep(expression: str, point: Mapping[str, float]) -> str:
    """Relative error of forward, central and complex-step differences for each step h."""

    def work() -> str:
        names = variables_of(expression)
        chosen = {name: float(point.get(name, DEFAULT_VALUE)) for name in names}
        function = explain(expression, **chosen).function
        result = steps.sweep(function, chosen)
        return strict_json.dumps(
            {
                "steps": result.steps.tolist(),
                "errors": {s: e.tolist() for s, e in result.errors.items()},
                "best": {s: list(result.best(s)) for s in steps.SCHEMES},
            }
        )

    return _answer(work)


def network_report(
    weights: Mapping[str, Any], x: list[float], target: list[float], activation: str
) -> str:
    """The explainer's JSON report for the 2-2-1 network's loss, unit by unit (scalar form)."""

    def work() -> str:
        net = network.Network(2, 2, 1, activation=activation)
        shapes = net.shapes
        arrays = {}
        for name in ("W", "b1", "A", "b2"):
            array = np.asarray(weights.get(name), dtype=np.float64)
            if array.shape != shapes[name] or not np.all(np.isfinite(array)):
                raise ValueError(f"{name} must hold finite numbers of shape {list(shapes[name])}")
            arrays[name] = array
        inputs, label = np.asarray(x, dtype=np.float64), np.asarray(target, dtype=np.float64)
        if inputs.shape != (2,) or label.shape != (1,):
            raise ValueError("x needs 2 numbers and y 1 number")
        net = network.Network(2, 2, 1, activation, arrays)
        evaluated = network.evaluate(net, inputs, label)
        point = net.scalar_point(inputs, label)
        loss = net.scalar_function(with_loss=True)
        report = build(
            f"L = (o1 - y1)^2 of the 2-2-1 {activation} network",
            evaluated.scalar_trace,
            point,
            cross_check(loss, point),
            [],
            partial_formula=partial_formulas(evaluated.scalar_trace),
            function=loss,
        )
        return strict_json.dumps(report.to_dict())

    return _answer(work)


def _child(send: Any, action: Callable[..., str], args: tuple[Any, ...]) -> None:
    """The worker process: send back (status, text) once, whatever happens."""
    try:
        send.send((200, action(*args)))
    except RequestError as error:
        send.send((error.status, strict_json.dumps(error.body())))
    except BaseException as error:  # noqa: BLE001 (the parent turns this into one clean 500 line)
        send.send((500, strict_json.dumps({"error": f"internal error: {type(error).__name__}"})))
    finally:
        send.close()


def _context() -> Any:
    """Fork from a small server process where the platform allows it (fast, and thread-safe)."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if "forkserver" in methods:
        context.set_forkserver_preload([__name__])
    return context


def run_limited(action: Callable[..., str], *args: Any, seconds: float) -> tuple[int, str]:
    """``action(*args)`` in a fresh process: (status, JSON text); 422 when it runs out of time."""
    context = _context()
    receive, send = context.Pipe(duplex=False)
    worker = context.Process(target=_child, args=(send, action, args), daemon=True)
    worker.start()
    send.close()
    try:
        if receive.poll(seconds):
            return receive.recv()
        timeout = RequestError(422, f"the request took longer than {seconds:g} s and was stopped")
        return timeout.status, strict_json.dumps(timeout.body())
    except EOFError:
        return 500, strict_json.dumps({"error": "internal error: the worker stopped"})
    finally:
        receive.close()
        if worker.is_alive():
            worker.kill()
        worker.join()
