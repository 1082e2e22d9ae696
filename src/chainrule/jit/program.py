"""The traced program: values, operands and statements, and their generated source.

Layer: jit (imports numpy only). A traced function becomes a list of
:class:`Stmt`, each an assignment or an effect written as a template over
operands. :func:`generate` drops statements whose results nobody uses, deletes
large arrays right after their last use, and writes the Python source.
"""

from __future__ import annotations

import builtins
import itertools
import linecache
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Arrays at least this large are deleted right after their last use, so NumPy can
#: reuse their memory within the step; smaller ones live until the function returns.
DELETE_AFTER_USE_BYTES = 1 << 15


class Value:
    """A value of the program: a name in the generated code and its value at trace time.

    ``kind`` is "input" (an argument), "live" (read from a tensor at each call),
    "const" (depends on no input: computed once, bound into the namespace) or "op"
    (computed by a statement). ``fresh`` marks an array that a statement allocated
    and nothing else refers to, so it may be updated in place.
    """

    __slots__ = ("name", "value", "kind", "fresh")

    def __init__(self, name: str, value: Any, kind: str, fresh: bool = False) -> None:
        self.name = name
        self.value = value
        self.kind = kind
        self.fresh = fresh

    def __repr__(self) -> str:
        return f"Value({self.name}, {self.kind}, shape={np.shape(self.value)})"


class Literal:
    """Source text that refers to no value of the program (a number, a bound constant)."""

    __slots__ = ("text", "value")

    def __init__(self, text: str, value: Any) -> None:
        self.text = text
        self.value = value


class Expr:
    """A template over operands, such as ``({0}, {1})`` or ``{0}.item()``."""

    __slots__ = ("template", "items", "value")

    def __init__(self, template: str, items: Sequence[Operand], value: Any) -> None:
        self.template = template
        self.items = list(items)
        self.value = value


Operand = Value | Literal | Expr


def render(operand: Operand) -> str:
    """The source text of an operand."""
    if isinstance(operand, Value):
        return operand.name
    if isinstance(operand, Literal):
        return operand.text
    return operand.template.format(*(render(item) for item in operand.items))


def uses(operand: Operand) -> list[Value]:
    """The local values an operand reads (constants live in the namespace, not locals)."""
    if isinstance(operand, Value):
        return [] if operand.kind == "const" else [operand]
    if isinstance(operand, Expr):
        return [v for item in operand.items for v in uses(item)]
    return []


def is_constant(operand: Operand) -> bool:
    """True when the operand depends on no input and no live tensor."""
    if isinstance(operand, Value):
        return operand.kind == "const"
    if isinstance(operand, Expr):
        return all(is_constant(item) for item in operand.items)
    return True


@dataclass
class Stmt:
    """``target = template.format(operands)``, or an effect (target None) kept regardless."""

    target: Value | None
    template: str
    operands: list[Operand] = field(default_factory=list)
    #: The callable the template applies to its operands (positional first, then
    #: ``keywords``), when it is one call: what a native backend lowers.
    function: Callable[..., Any] | None = None
    keywords: tuple[str, ...] = ()
    #: For an effect: the Python arguments it was called with and the tensors whose
    #: values or gradients it may change (what a native backend needs to lower it).
    arguments: tuple = ()
    touches: tuple = ()

    def text(self) -> str:
        code = self.template.format(*(render(op) for op in self.operands))
        return code if self.target is None else f"{self.target.name} = {code}"


@dataclass
class Program:
    """Generated straight-line code for one input signature.

    ``valid()`` checks the guards taken while tracing (a parameter's ``requires_grad``,
    a module's mode and parameters): when one fails, the function is traced again.
    """

    source: str
    function: Callable[..., Any]
    signature: str
    valid: Callable[[], bool] = lambda: True
    #: A check the code generator adds to the trace's guards (None: none).
    guard: Callable[[], bool] | None = None
    #: Arguments (by position) the function takes as Python or NumPy numbers as they
    #: come: only native code converting them itself reads them.
    numbers: frozenset = frozenset()
    #: The cached dispatch of :mod:`chainrule.jit` for this signature (None: none).
    fast: Callable[[tuple], Any] | None = None


def live_statements(statements: list[Stmt], result: Operand) -> list[Stmt]:
    """Dead-code elimination: keep effects and the statements they and the result need."""
    needed = {id(v) for v in uses(result)}
    kept = []
    for stmt in reversed(statements):
        if stmt.target is not None and id(stmt.target) not in needed:
            continue
        kept.append(stmt)
        for op in stmt.operands:
            needed.update(id(v) for v in uses(op))
    kept.reverse()
    return kept


def _deletions(statements: list[Stmt], result: Operand) -> dict[int, list[str]]:
    """For each statement index, the large arrays whose last use it is."""
    last: dict[int, tuple[int, Value]] = {}
    for index, stmt in enumerate(statements):
        for op in stmt.operands:
            for v in uses(op):
                last[id(v)] = (index, v)
    keep = {id(v) for v in uses(result)}
    deletions: dict[int, list[str]] = {}
    for key, (index, v) in last.items():
        big = isinstance(v.value, np.ndarray) and v.value.nbytes >= DELETE_AFTER_USE_BYTES
        if big and key not in keep and v.kind != "input":
            deletions.setdefault(index, []).append(v.name)
    return deletions


_counter = itertools.count()


def generate(
    name: str,
    parameters: list[str],
    statements: list[Stmt],
    result: Operand,
    namespace: dict[str, Any],
    signature: str,
    by: str = "chainrule.compile",
) -> Program:
    """Write the source of ``name(*parameters)`` and compile it in ``namespace``; ``by``
    names the transform that traced it, for the docstring."""
    kept = live_statements(statements, result)
    deletions = _deletions(kept, result)
    lines = [
        f"def {name}({', '.join(parameters)}):",
        f'    """{signature}: generated by {by}."""',
    ]
    for index, stmt in enumerate(kept):
        lines.append("    " + stmt.text())
        if index in deletions:
            lines.append("    del " + ", ".join(deletions[index]))
    lines.append("    return " + render(result))
    source = "\n".join(lines) + "\n"
    filename = f"<chainrule.compile {name} #{next(_counter)}>"
    # Registered with linecache so tracebacks and inspect show the generated lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    scope = dict(namespace)
    exec(builtins.compile(source, filename, "exec"), scope)
    return Program(source, scope[name], signature)
