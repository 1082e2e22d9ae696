"""A safe parser: text in Python's expression syntax to :class:`Expr`, never evaluated.

Layer: symbolic (imports chainrule.symbolic.expr and .language).

The text goes through :func:`ast.parse` and then through a whitelist: numbers, names
(``pi`` is the number), the registry's operators ``+ - * / **`` (``^`` is accepted as
power), unary minus, and calls of the language's functions: the registry entries with
a ``Notation``, by name or alias (``ln`` is ``log``, the recitation's spelling), read
when the text is parsed, so an operation registered after import is known at once.
Everything else (attribute access, subscripts, keywords, names starting with an
underscore, strings, comparisons, lambdas) is rejected with a :class:`ParseError`
that points at the offending column.
Hostile input is cut short before Python's parser sees it: text longer than
:data:`MAX_LENGTH`, brackets nested deeper than :data:`MAX_DEPTH`, and long runs of
unary operators. Constants are folded with the size caps of
:mod:`chainrule.symbolic.numbers`, so ``9**9**9`` stays a power.
"""

from __future__ import annotations

import ast
import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from . import expr as E
from . import language
from .expr import Expr

MAX_LENGTH = 200_000
MAX_DEPTH = 100

#: Named numbers (``e`` stays free for a variable, such as an error; write exp(x) for e^x).
CONSTANTS = {"pi": math.pi}

#: Python's spelling of each operator the grammar has; the registry says which entry it is.
_OPERATOR_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}

_DESCRIPTIONS = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Compare: "comparisons",
    ast.BoolOp: "'and'/'or'",
    ast.Lambda: "lambda",
    ast.IfExp: "conditional expressions",
    ast.Starred: "starred arguments",
    ast.Tuple: "tuples",
    ast.List: "lists",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.JoinedStr: "f-strings",
    ast.NamedExpr: "assignment expressions",
}


class ParseError(ValueError):
    """Text that is not a valid expression; ``column`` (1-based) is where the problem is.

    ``str(error)`` shows the message, the text and a caret under the column.
    """

    def __init__(self, message: str, text: str, column: int) -> None:
        self.message = message
        self.text = text
        self.column = column
        shown = text if len(text) <= 200 else text[: max(column + 40, 200)]
        super().__init__(f"{message} (column {column})\n  {shown}\n  {' ' * (column - 1)}^")


class _Source:
    """The user's text and what Python parses (``^`` spelled ``**``), with column maps."""

    def __init__(self, text: str) -> None:
        self.text = text
        pieces: list[str] = []
        self.original_column: list[int] = []  # index in python text -> index in text
        for i, char in enumerate(text):
            replacement = "**" if char == "^" else char
            pieces.append(replacement)
            self.original_column.extend([i] * len(replacement))
        self.original_column.append(len(text))
        self.python = "".join(pieces)
        self.ascii = self.python.isascii()

    def error(self, message: str, python_index: int) -> ParseError:
        index = self.original_column[min(max(python_index, 0), len(self.original_column) - 1)]
        return ParseError(message, self.text, index + 1)

    def node_error(
        self, message: str, node: ast.AST, at_end_of: ast.AST | None = None, shift: int = 0
    ) -> ParseError:
        """An error at ``node``; ``shift`` is where its span starts (in UTF-8 bytes), for a
        node parsed from a span of the text rather than from all of it."""
        if at_end_of is not None:
            offset = (at_end_of.end_col_offset or 0) + shift
        else:
            offset = getattr(node, "col_offset", 0) + shift
        if not self.ascii:  # ast offsets count UTF-8 bytes
            offset = len(self.python.encode()[:offset].decode(errors="ignore"))
        return self.error(message, offset)


def _prescan(source: _Source) -> None:
    """Reject input that would make Python's own parser slow, deep or crash, or that it
    would report at a less helpful column (unbalanced brackets, a dangling operator)."""
    if len(source.text) > MAX_LENGTH:
        raise ParseError(f"expression longer than {MAX_LENGTH} characters", source.text, MAX_LENGTH)
    text = source.python
    opened: list[int] = []
    unary_run = 0
    previous = "("
    for i, char in enumerate(text):
        if char in "\n\r":
            raise source.error("expressions must be on one line", i)
        if char == "#":
            raise source.error("comments are not allowed in an expression", i)
        if "\ud800" <= char <= "\udfff":
            raise source.error(f"invalid character {char!r} (a lone surrogate)", i)
        if not char.isascii() and unicodedata.normalize("NFKC", char) != char:
            # Python folds such identifiers (fullwidth x is x): say so instead of merging names.
            folded = unicodedata.normalize("NFKC", char)
            raise source.error(f"character {char!r} would be read as {folded!r}; write that", i)
        if char in "([{":
            opened.append(i)
            if len(opened) > MAX_DEPTH:
                raise source.error(f"brackets nested deeper than {MAX_DEPTH}", i)
        elif char in ")]}":
            if not opened:
                raise source.error(f"unmatched '{char}'", i)
            opened.pop()
        if char in "+-" and previous in "(+-*/,":
            unary_run += 1
            if unary_run > MAX_DEPTH:
                raise source.error(f"more than {MAX_DEPTH} signs in a row", i)
        elif not char.isspace():
            unary_run = 0
        if not char.isspace():
            previous = char
    if opened:
        raise source.error("this bracket is never closed", opened[-1])
    stripped = text.rstrip()
    if stripped and stripped[-1] in "+-*/^,":
        raise source.error("the expression ends early: an operand is missing", len(stripped))


def parse(text: str, variables: Iterable[str] | None = None, builder: Builder | None = None) -> Any:
    """The expression written in ``text``; with ``variables``, other names are errors.

    ``builder`` decides what is built (default: a canonical :class:`Expr`).

    >>> parse("exp(x*z) + x*z/ln(x) + sin(ln(x))/(x*z)")
    x*z/log(x) + sin(log(x))/(x*z) + exp(x*z)
    >>> parse("x^2 - x*x")
    0
    >>> parse("x.__class__")
    Traceback (most recent call last):
    ...
    chainrule.symbolic.parse.ParseError: attribute access is not allowed (column 2)
      x.__class__
       ^
    """
    if not isinstance(text, str):
        raise TypeError(f"parse() takes a string, got {type(text).__name__}")
    builder = builder or Builder()
    source = _Source(text)
    _prescan(source)
    if not text.strip():
        raise ParseError("empty expression", text, 1)
    allowed = None if variables is None else frozenset(variables)
    return _parse_span(source, 0, len(source.python), allowed, builder)


def _parse_span(
    source: _Source, start: int, end: int, variables: frozenset[str] | None, builder: Builder
) -> Any:
    """Parse ``source.python[start:end]`` and build it.

    Python's own parser builds its tree recursively, so a chain of a few thousand terms
    (``x0 + x1 + ...``) exceeds its depth limit. Such a span is cut at its top-level
    operators (sum terms first, then product factors, then one pair of enclosing
    brackets) into runs of :data:`_RUN` pieces, and each run is parsed on its own (a run
    too deep in turn is cut further): deep chains cost linear time, and columns in error
    messages stay those of the whole text.
    """
    parsed = _python_tree(source, start, end)
    if parsed is not None:
        return _build(parsed[0], parsed[1], variables, builder)
    for operators, combine in ((_SUM_SIGNS, builder.sum), (_PRODUCT_SIGNS, builder.product)):
        pieces = _split_top_level(source, start, end, operators)
        if len(pieces) > 1:
            runs = [pieces[i : i + _RUN] for i in range(0, len(pieces), _RUN)]
            first, *rest = (_parse_run(source, run, variables, builder) for run in runs)
            joiner = "add" if operators is _SUM_SIGNS else "multiply"
            return combine(first, [(joiner, value) for value in rest])
    inner = source.python[start:end].strip()
    opening = source.python.index(inner[0], start) if inner else start
    if (
        inner.startswith("(")
        and _closing_bracket(source.python, opening) == opening + len(inner) - 1
    ):
        return _parse_span(source, opening + 1, opening + len(inner) - 1, variables, builder)
    raise source.error("cannot parse: expression too deeply nested", start)


#: Pieces of a long chain parsed together by Python's parser (well inside its depth limit).
_RUN = 300


def _parse_run(
    source: _Source,
    run: list[tuple[str | None, int, int, int]],
    variables: frozenset[str] | None,
    builder: Builder,
) -> Any:
    """Build a run of a chain's pieces, ``(operator, operator position, start, end)`` each,
    as one chain; a run that follows a ``-`` starts with that sign (read as unary), one
    that follows ``/`` is read as ``1/...``. A run too deep for Python is built piece by
    piece."""
    operator, position, start, end = run[0][0], run[0][1], run[0][2], run[-1][3]
    if operator is None:
        parsed = _python_tree(source, start, end)
    elif operator in ("add", "subtract"):
        parsed = _python_tree(source, position, end)
    else:
        parsed = _python_tree(source, position, end, one_before=True)
    if parsed is not None:
        return _build(parsed[0], parsed[1], variables, builder)
    values = [(name, _parse_span(source, a, b, variables, builder)) for name, _, a, b in run]
    if operator is None:
        (_, first), *values = values
    elif operator in ("add", "subtract"):
        first = builder.const(0)
    else:
        first = builder.const(1)
    combine = builder.sum if (operator or values[0][0]) in ("add", "subtract") else builder.product
    return combine(first, values)


def _python_tree(source: _Source, start: int, end: int, one_before: bool = False) -> ast.AST | None:
    """The AST of a span, columns counted in the whole text; None if it is too deep.

    With ``one_before``, the span starts with a binary operator (``/ c * d``) and is read
    with a ``1`` written in front of it (in the column before it)."""
    text = source.python[start:end]
    stripped = text.lstrip()
    shift = start + len(text) - len(stripped)
    if one_before:
        stripped, shift = "1" + stripped, shift - 1
    try:
        tree = ast.parse(stripped.strip() and stripped, mode="eval").body
    except SyntaxError as error:
        column = (error.offset or 1) - 1
        message = (
            error.msg if error.msg.startswith("invalid syntax") else f"invalid syntax: {error.msg}"
        )
        raise source.error(message, shift + column) from None
    except RecursionError:
        return None
    except (ValueError, MemoryError) as error:
        raise source.error(f"cannot parse: {error or 'expression too large'}", shift) from None
    byte_shift = shift if source.ascii else len(source.python[:shift].encode())
    return tree, (_Span(source, byte_shift) if byte_shift else source)


_SUM_SIGNS = {"+": "add", "-": "subtract"}
_PRODUCT_SIGNS = {"*": "multiply", "/": "divide"}

#: Numbers (with exponents), names, ``**``, and any other single character.
_TOKEN = re.compile(r"(?:\d[\d_]*\.?|\.\d)[\d_]*(?:[eE][+-]?\d[\d_]*)?[jJ]?|\w+|\*\*|\S")


def _split_top_level(
    source: _Source, start: int, end: int, operators: dict[str, str]
) -> list[tuple[str | None, int, int, int]]:
    """The span cut at its bracket-level binary ``operators``: ``(operator name, operator
    position, start, end)`` per piece (None and -1 for the first). A sign after an
    operator or an opening bracket is unary, not a cut."""
    text = source.python
    pieces: list[tuple[str | None, int, int, int]] = []
    depth = 0
    name: str | None = None
    position, piece_start = -1, start
    after_operand = False
    for token in _TOKEN.finditer(text, start, end):
        string = token.group()
        if string in "([{":
            depth += 1
        elif string in ")]}":
            depth -= 1
        elif depth == 0 and string in operators and after_operand:
            pieces.append((name, position, piece_start, token.start()))
            name, position, piece_start = operators[string], token.start(), token.end()
            after_operand = False
            continue
        after_operand = string[0].isalnum() or string[0] in "_.)]}"
    pieces.append((name, position, piece_start, end))
    return pieces


def _closing_bracket(text: str, opening: int) -> int:
    """The index of the bracket that closes the one at ``opening``."""
    depth = 0
    for i in range(opening, len(text)):
        if text[i] in "([{":
            depth += 1
        elif text[i] in ")]}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _build(
    root: ast.AST, source: _Source, variables: frozenset[str] | None, builder: Builder
) -> Any:
    """Turn a whitelisted AST into the builder's values, iteratively (children first)."""
    built: dict[int, Expr] = {}
    stack: list[tuple[ast.AST, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if not children_done:
            children = _check(node, source, variables)
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(children))
            continue
        try:
            built[id(node)] = _combine(node, built, builder)
        except (OverflowError, ValueError) as error:
            raise source.node_error(str(error), node) from None
    return built[id(root)]


def _check(node: ast.AST, source: _Source, variables: frozenset[str] | None) -> list[ast.AST]:
    """Raise ParseError unless ``node`` is allowed; return the children to build first."""
    if isinstance(node, ast.BinOp):
        if _binary_name(node.op) is None:
            symbol = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@"}.get(type(node.op))
            label = f"operator {symbol}" if symbol else f"operator {type(node.op).__name__}"
            raise source.node_error(f"{label} is not allowed", node.right, at_end_of=None)
        if type(node.op) in _CHAINS:
            first, rest = _chain(node)
            return [first, *(term for _, term in rest)]
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd):
            raise source.node_error("only unary + and - are allowed", node)
        return [node.operand]
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise source.node_error(f"{value!r} is not a number", node)
        return []
    if isinstance(node, ast.Name):
        _check_name(node, source, variables)
        return []
    if isinstance(node, ast.Call):
        return _check_call(node, source)
    if isinstance(node, ast.Attribute):
        raise source.node_error("attribute access is not allowed", node, at_end_of=node.value)
    description = _DESCRIPTIONS.get(type(node), type(node).__name__)
    raise source.node_error(f"{description} not allowed", node)


def _check_name(node: ast.Name, source: _Source, variables: frozenset[str] | None) -> None:
    name = node.id
    if name.startswith("_"):
        raise source.node_error(f"name {name!r}: names starting with '_' are not allowed", node)
    if language.function_entry(name) is not None:
        raise source.node_error(f"{name!r} is a function; call it as {name}(...)", node)
    if name in CONSTANTS:
        return
    if variables is not None and name not in variables:
        expected = ", ".join(sorted(variables)) or "none"
        raise source.node_error(f"unknown name {name!r} (expected one of: {expected})", node)


def _check_call(node: ast.Call, source: _Source) -> list[ast.AST]:
    if not isinstance(node.func, ast.Name):
        if isinstance(node.func, ast.Attribute):
            raise source.node_error(
                "attribute access is not allowed", node.func, at_end_of=node.func.value
            )
        raise source.node_error("only named functions can be called", node.func)
    name = node.func.id
    prim = language.function_entry(name)
    if prim is None:
        known = ", ".join(sorted(language.functions()))
        raise source.node_error(f"unknown function {name!r} (known: {known})", node.func)
    if node.keywords:
        raise source.node_error(f"{name}() takes no keyword arguments", node.keywords[0])
    lowest, highest, _ = language.arity(prim.name)
    if not lowest <= len(node.args) <= highest:
        wanted = str(lowest) if lowest == highest else f"{lowest} or {highest}"
        plural = "" if wanted == "1" else "s"
        raise source.node_error(
            f"{name}() takes {wanted} argument{plural}, got {len(node.args)}", node.func
        )
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            raise source.node_error("starred arguments are not allowed", arg)
    return list(node.args)


class _Span:
    """A span of the source parsed on its own: its nodes' columns start at ``shift``."""

    def __init__(self, source: _Source, shift: int) -> None:
        self.source = source
        self.shift = shift

    def __getattr__(self, name: str) -> Any:
        return getattr(self.source, name)

    def node_error(
        self, message: str, node: ast.AST, at_end_of: ast.AST | None = None
    ) -> ParseError:
        return self.source.node_error(message, node, at_end_of, shift=self.shift)


class Builder:
    """What the parser builds from each construct: by default canonical expressions.

    Another builder (the explainer's builds Tensors) gets the expression exactly as
    written, after the same whitelist checks.
    """

    def const(self, value: int | float) -> Any:
        return E.const(value)

    def symbol(self, name: str) -> Any:
        return E.symbol(name)

    def negative(self, x: Any) -> Any:
        return E.negative(x)

    def binary(self, op: str, left: Any, right: Any) -> Any:
        """``op`` is the operator entry's name: add, subtract, multiply, divide or power."""
        return E.apply(op, left, right)

    def sum(self, first: Any, rest: list[tuple[str, Any]]) -> Any:
        """``first`` followed by ("add" | "subtract", term) pairs: one n-ary sum."""
        return E.add(first, *(term if op == "add" else E.negative(term) for op, term in rest))

    def product(self, first: Any, rest: list[tuple[str, Any]]) -> Any:
        """``first`` followed by ("multiply" | "divide", factor) pairs: one n-ary product."""
        return E.multiply(
            first,
            *(factor if op == "multiply" else E.power(factor, E.const(-1)) for op, factor in rest),
        )

    def call(self, name: str, args: list[Any]) -> Any:
        """``name`` is the registry entry's name (``ln`` arrives as ``log``)."""
        return E.function(name, *args)


_SUMS = (ast.Add, ast.Sub)
_PRODUCTS = (ast.Mult, ast.Div)
_CHAINS = _SUMS + _PRODUCTS


def _chain(node: ast.BinOp) -> tuple[ast.AST, list[tuple[str, ast.AST]]]:
    """``a + b - c + d`` (left-nested in the AST) as ``a`` and [("add", b), ("subtract", c),
    ...]; likewise ``a * b / c``. A long sum or product is then built once, not as a
    staircase of ever longer partial ones (which took quadratic time)."""
    kinds = _SUMS if type(node.op) in _SUMS else _PRODUCTS
    rest: list[tuple[str, ast.AST]] = []
    while isinstance(node, ast.BinOp) and type(node.op) in kinds:
        rest.append((_binary_name(node.op), node.right))
        node = node.left
    rest.reverse()
    return node, rest


def _binary_name(op: ast.operator) -> str | None:
    """The registry's two-operand entry written as Python writes ``op``, or None."""
    symbol = _OPERATOR_SYMBOLS.get(type(op))
    return None if symbol is None else language.operator(symbol, 2)


def _combine(node: ast.AST, built: dict[int, Any], builder: Builder) -> Any:
    if isinstance(node, ast.Constant):
        return builder.const(node.value)
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return builder.const(CONSTANTS[node.id])
        return builder.symbol(node.id)
    if isinstance(node, ast.UnaryOp):
        operand = built[id(node.operand)]
        return builder.negative(operand) if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp) and type(node.op) in _CHAINS:
        first, rest = _chain(node)
        operands = [(op, built[id(term)]) for op, term in rest]
        if type(node.op) in _SUMS:
            return builder.sum(built[id(first)], operands)
        if isinstance(first, ast.UnaryOp) and isinstance(first.op, ast.USub):
            # -a*b/c is -(a*b/c), as the printer means it: the sign belongs to the whole
            # product, not to a (which would spread over a sum: -(x + 1) is -x - 1).
            return builder.negative(builder.product(built[id(first.operand)], operands))
        return builder.product(built[id(first)], operands)
    if isinstance(node, ast.BinOp):
        left, right = built[id(node.left)], built[id(node.right)]
        return builder.binary(_binary_name(node.op), left, right)
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    args = [built[id(a)] for a in node.args]
    prim = language.function_entry(node.func.id)
    assert prim is not None  # checked by _check_call
    return builder.call(prim.name, args)
