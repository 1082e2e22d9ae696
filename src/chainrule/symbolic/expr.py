"""Expr: immutable, hash-consed symbolic expressions in a canonical form.

Layer: symbolic (imports numpy, chainrule.errors and the language of
:mod:`chainrule.symbolic.language`, read from the primitive registry).

Every expression is a node ``(op, args, value)``. Nodes are hash-consed: building
the same expression twice returns the same object, so a repeated subexpression is
one node (a DAG) and structural equality is identity. The op names are the
registry's primitive names: ``add``, ``multiply``, ``power`` and every function of
the language (``exp``, ``sin``, ``heaviside``, ...: the entries with a ``Notation``),
plus the leaves ``const`` and ``symbol``.

As in SymPy, the constructors keep expressions in a canonical form, so that equal
expressions print equally and the results of differentiation stay readable:

* ``add`` and ``multiply`` are n-ary and flattened; subtraction is ``a + (-1)*b``,
  division ``a * b**-1``, ``sqrt(x)`` is ``x**(1/2)``;
* constants are folded (exactly for ints and fractions), and like terms
  (``2*x + 3*x -> 5*x``) and like factors (``x * x**2 -> x**3``, ``x/x -> 1``) collected;
* identities: ``x + 0``, ``x * 1``, ``x * 0``, ``x**1``, ``x**0``, and those each
  function's notation declares: exact values (``cos(0) -> 1``), inverses
  (``exp(log(x)) -> x``), parity (``sin(-x) -> -sin(x)``), idempotence
  (``abs(abs(x))``, ``maximum(x, x)``);
* arguments of ``add``, ``multiply`` and commutative functions (``maximum``) are
  sorted by a deterministic key, so the order does not depend on how an expression
  was built.

Cancelling ``x/x`` and ``x - x`` drops the removable point where ``x`` is undefined,
as SymPy does. ``(x**a)**b`` is merged only for integer ``b``, where it is an identity.
"""

from __future__ import annotations

import weakref
import zlib
from collections.abc import Iterable, Iterator
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np

from ..errors import SymbolicError
from . import language
from . import numbers as num
from .numbers import Number

_RANK = {"const": 0, "symbol": 1, "power": 2, "multiply": 3, "add": 4}
_FUNCTION_RANK = 5
#: Sort keys nest child keys up to this height; taller nodes compare by a digest.
_MAX_KEY_HEIGHT = 24
_MASK = (1 << 61) - 1


class Size(NamedTuple):
    """Node counts of an expression: as a tree (with repeats) and as a shared DAG."""

    tree: int
    dag: int


class Expr:
    """An immutable symbolic expression; build with :func:`symbols`, operators and functions.

    >>> from chainrule.symbolic import symbols, exp
    >>> x, z = symbols("x z")
    >>> y = exp(x * z) + x * z
    >>> y
    x*z + exp(x*z)
    >>> y.evaluate(x=1.0, z=0.0)
    1.0
    """

    __slots__ = ("op", "args", "value", "_height", "_digest", "_key", "__weakref__")

    op: str
    args: tuple[Expr, ...]
    value: Any

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("expressions are immutable")

    def __reduce__(self) -> tuple:
        return (_rebuild, (self.op, self.args, self.value))

    # --- facts ----------------------------------------------------------------
    @property
    def name(self) -> str:
        """The name of a symbol."""
        if self.op != "symbol":
            raise AttributeError(f"a {self.op} expression has no name")
        return self.value

    @property
    def is_number(self) -> bool:
        """Whether the expression is a constant."""
        return self.op == "const"

    @property
    def free_symbols(self) -> frozenset[Expr]:
        """The symbols the expression depends on."""
        return frozenset(node for node in postorder([self]) if node.op == "symbol")

    def size(self) -> Size:
        """Node counts as a tree and as a DAG, to make expression swell visible.

        >>> from chainrule.symbolic import parse
        >>> parse("sin(x*z) + cos(x*z)").size()
        Size(tree=9, dag=6)
        """
        tree: dict[Expr, int] = {}
        for node in postorder([self]):
            tree[node] = 1 + sum(tree[arg] for arg in node.args)
        return Size(tree[self], len(tree))

    # --- operations -------------------------------------------------------------
    def diff(self, *variables: Any) -> Expr:
        """The derivative; ``e.diff("x", "x")`` or ``e.diff("x", 2)`` for the second."""
        from .diff import diff

        return diff(self, *variables)

    def evaluate(self, values: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """The value at ``x=...``; NumPy arrays evaluate elementwise (see :func:`evaluate`)."""
        from .evaluate import evaluate

        return evaluate(self, {**(values or {}), **kwargs})

    def subs(self, mapping: dict[Any, Any] | None = None, **kwargs: Any) -> Expr:
        """Substitute expressions or numbers for symbols, e.g. ``e.subs(x=2)``."""
        replace: dict[Expr, Expr] = {}
        for key, value in {**(mapping or {}), **kwargs}.items():
            replace[as_symbol(key)] = as_expr(value)
        result: dict[Expr, Expr] = {}
        for node in postorder([self]):
            if node in replace:
                result[node] = replace[node]
            elif node.args:
                result[node] = rebuild(node, [result[arg] for arg in node.args])
            else:
                result[node] = node
        return result[self]

    def latex(self) -> str:
        """LaTeX source for the expression."""
        from .printing import to_latex

        return to_latex(self)

    def _repr_latex_(self) -> str:
        """Jupyter renders the expression as typeset math."""
        return f"${self.latex()}$"

    def __str__(self) -> str:
        from .printing import to_str

        return to_str(self)

    __repr__ = __str__

    def __float__(self) -> float:
        if self.op == "const":
            return num.as_float(self.value)
        if self.free_symbols:
            names = ", ".join(sorted(s.value for s in self.free_symbols))
            raise TypeError(f"cannot convert an expression of {names} to a float")
        return float(self.evaluate())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Expr):
            return self is other
        if isinstance(other, int | float | Fraction) and self.op == "const":
            return bool(self.value == other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.value) if self.op == "const" else id(self)

    # --- Python operators ---------------------------------------------------------
    def __add__(self, other: Any) -> Expr:
        other = _operand(other)
        return NotImplemented if other is None else add(self, other)

    def __radd__(self, other: Any) -> Expr:
        other = _operand(other)
        return NotImplemented if other is None else add(other, self)

    def __sub__(self, other: Any) -> Expr:
        other = _operand(other)
        return NotImplemented if other is None else add(self, negative(other))

    def __rsub__(self, other: Any) -> Expr:
        other = _operand(other)
        return NotImplemented if other is None else add(other, negative(self))

    def __mul__(self, other: Any) -> Expr:
        other = _operand(other)
        return NotImplemented if other is None else multiply(self, other)

    def __rmul__(self, other: Any) -> Expr:
        other = _operand(other)
        return NotImplemented if other is None else multiply(other, self)

    def __truediv__(self, other: Any) -> Expr:
        other = _operand(other)
        return NotImplemented if other is None else divide(self, other)

    def __rtruediv__(self, other: Any) -> Expr:
        other = _operand(other)
        return NotImplemented if other is None else divide(other, self)

    def __pow__(self, other: Any) -> Expr:
        other = _operand(other)
        return NotImplemented if other is None else power(self, other)

    def __rpow__(self, other: Any) -> Expr:
        other = _operand(other)
        return NotImplemented if other is None else power(other, self)

    def __neg__(self) -> Expr:
        return negative(self)

    def __pos__(self) -> Expr:
        return self

    def __abs__(self) -> Expr:
        return function("abs", self)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """``np.cos(expr)`` is ``cos(expr)``, for every ufunc a registry entry answers for:
        this lets the engine's rules, written with NumPy, run on expressions and return
        symbolic derivatives."""
        name = language.ufunc_entry(ufunc)
        if method != "__call__" or kwargs or name is None:
            return NotImplemented
        operands = [_operand(x) for x in inputs]
        if any(x is None for x in operands):
            return NotImplemented
        return apply(name, *operands)


# --- leaves and conversion ------------------------------------------------------


def _rebuild(op: str, args: tuple, value: Any) -> Expr:
    if op == "const":
        return const(value)
    if op == "symbol":
        return symbol(value)
    return rebuild_op(op, args)


def const(value: Any) -> Expr:
    """A numeric constant (int and Fraction stay exact)."""
    return _node("const", (), num.normalize(value))


def symbol(name: str) -> Expr:
    """The symbol called ``name``."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"symbol names must be identifiers, got {name!r}")
    return _node("symbol", (), name)


def symbols(names: str | Iterable[str]) -> Any:
    """Symbols from a string of names separated by spaces or commas, as in SymPy.

    One name gives one symbol, several give a tuple.

    >>> x, z = symbols("x z")
    >>> symbols("y")
    y
    """
    if isinstance(names, str):
        parts = names.replace(",", " ").split()
        made = tuple(symbol(n) for n in parts)
        return made[0] if len(made) == 1 and "," not in names else made
    return tuple(symbol(n) for n in names)


def as_expr(value: Any) -> Expr:
    """``value`` as an expression: Exprs as they are, numbers as constants, text parsed."""
    if isinstance(value, Expr):
        return value
    if isinstance(value, str):
        from .parse import parse

        return parse(value)
    return const(value)


def as_symbol(value: Any) -> Expr:
    """A symbol given as an Expr or by name."""
    expr = symbol(value) if isinstance(value, str) else value
    if not isinstance(expr, Expr) or expr.op != "symbol":
        raise TypeError(f"expected a symbol or a symbol name, got {value!r}")
    return expr


def _operand(value: Any) -> Expr | None:
    if isinstance(value, Expr):
        return value
    if isinstance(value, int | float | Fraction | np.integer | np.floating):
        return const(value)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return const(value)
    return None


# --- hash-consing ---------------------------------------------------------------

_TABLE: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_OP_CODES: dict[str, int] = {}


def _text_digest(text: str) -> int:
    return zlib.crc32(text.encode())


def _node(op: str, args: tuple[Expr, ...], value: Any = None) -> Expr:
    """The unique node for ``(op, args, value)``; the arguments must already be canonical."""
    table_key = (op, type(value), value, args)
    found = _TABLE.get(table_key)
    if found is not None:
        return found
    node = object.__new__(Expr)
    setattr_ = object.__setattr__
    setattr_(node, "op", op)
    setattr_(node, "args", args)
    setattr_(node, "value", value)
    height = 1 + max((a._height for a in args), default=0)
    setattr_(node, "_height", height)
    if op not in _OP_CODES:
        _OP_CODES[op] = _text_digest(op)
    if args:
        digest = hash((_OP_CODES[op], *(a._digest for a in args)))
    else:
        digest = hash((_OP_CODES[op], _text_digest(repr(value))))
    setattr_(node, "_digest", digest & _MASK)
    setattr_(node, "_key", _sort_key(node, height))
    _TABLE[table_key] = node
    return node


def _sort_key(node: Expr, height: int) -> tuple:
    """A deterministic total order: numbers, symbols by name, then compound nodes.

    A power sorts right after its base, so ``x, x**2, y`` stay together.
    """
    op, args = node.op, node.args
    if op == "const":
        return (0, node.value, type(node.value).__name__)
    if op == "symbol":
        return (1, node.value)
    if height > _MAX_KEY_HEIGHT:
        return (_RANK.get(op, _FUNCTION_RANK), op, (), node._digest)
    if op == "power":
        return args[0]._key + (("^", args[1]._key),)
    if op == "multiply":
        if args[0].op == "const":
            return (3, "*", tuple(a._key for a in args[1:]), args[0].value)
        return (3, "*", tuple(a._key for a in args), 1)
    return (_RANK.get(op, _FUNCTION_RANK), op, tuple(a._key for a in args))


def _key_of(node: Expr) -> tuple:
    return node._key


def postorder(roots: Iterable[Expr]) -> list[Expr]:
    """Every node reachable from ``roots`` once, arguments before the nodes using them.

    Iterative, so arbitrarily deep expressions are fine.
    """
    seen: set[int] = set()
    order: list[Expr] = []
    for root in roots:
        if id(root) in seen:
            continue
        stack: list[tuple[Expr, Iterator[Expr]]] = [(root, iter(root.args))]
        seen.add(id(root))
        while stack:
            node, children = stack[-1]
            for child in children:
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append((child, iter(child.args)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


# --- canonical constructors -----------------------------------------------------


def _split_coefficient(term: Expr) -> tuple[Number, tuple[Expr, ...]]:
    """``3*x*y -> (3, (x, y))``; a term without a numeric factor has coefficient 1."""
    if term.op == "multiply":
        if term.args[0].op == "const":
            return term.args[0].value, term.args[1:]
        return 1, term.args
    return 1, (term,)


def _product_of(coefficient: Number, factors: tuple[Expr, ...]) -> Expr:
    """The canonical product of already canonical, sorted, non-constant factors."""
    if coefficient == 0 and isinstance(coefficient, int):
        return const(0)
    if not factors:
        return const(coefficient)
    if coefficient == 1 and not isinstance(coefficient, float):
        return factors[0] if len(factors) == 1 else _node("multiply", factors)
    return _node("multiply", (const(coefficient), *factors))


def _is_zero(value: Number) -> bool:
    return value == 0


def add(*terms: Expr) -> Expr:
    """The canonical sum: flattened, constants folded, like terms collected, sorted."""
    constant: Number = 0
    collected: dict[tuple[Expr, ...], Number] = {}
    pending = list(terms)
    while pending:
        term = pending.pop()
        if term.op == "add":
            pending.extend(term.args)
        elif term.op == "const":
            constant = num.add(constant, term.value)
        else:
            coefficient, rest = _split_coefficient(term)
            previous = collected.get(rest)
            collected[rest] = coefficient if previous is None else num.add(previous, coefficient)
    parts = [_product_of(c, rest) for rest, c in collected.items() if not _is_zero(c)]
    if not parts:
        return const(constant)
    if len(parts) == 1 and _is_zero(constant):
        return parts[0]
    parts.sort(key=_term_key)
    if not _is_zero(constant):
        parts.insert(0, const(constant))
    return _node("add", tuple(parts))


def _term_key(term: Expr) -> tuple:
    """Order of the terms of a sum: by the term without its numeric coefficient."""
    coefficient, rest = _split_coefficient(term)
    if len(rest) == 1:
        return rest[0]._key
    return (3, "*", tuple(f._key for f in rest), 1)


def _base_and_exponent(factor: Expr) -> tuple[Expr, Expr]:
    if factor.op == "power":
        return factor.args[0], factor.args[1]
    return factor, _ONE


def multiply(*factors: Expr) -> Expr:
    """The canonical product: flattened, constants folded, like factors collected, sorted.

    A number times a sum is distributed (``2*(x + 1) -> 2*x + 2``), as in SymPy.
    """
    coefficient: Number = 1
    combined: dict[Expr, Expr] = {}  # base -> its total exponent
    pending = list(factors)
    while pending:
        exponents: dict[Expr, list[Expr]] = {}
        while pending:
            factor = pending.pop()
            if factor.op == "multiply":
                pending.extend(factor.args)
            elif factor.op == "const":
                coefficient = num.mul(coefficient, factor.value)
            else:
                base, exponent = _base_and_exponent(factor)
                exponents.setdefault(base, []).append(exponent)
        for base, parts in exponents.items():
            if base in combined:
                parts.append(combined.pop(base))
            result = power(base, parts[0] if len(parts) == 1 else add(*parts))
            # A combined power can fold to a number (sqrt(2)*sqrt(2)) or to a product
            # ((x*y)**(1/2) squared): its factors go round again.
            new_base, new_exponent = _base_and_exponent(result)
            if result.op in ("const", "multiply") or new_base in combined:
                pending.append(result)
            else:
                combined[new_base] = new_exponent
    if coefficient == 0:
        return const(0)
    ordered = [
        base if exponent is _ONE else _node("power", (base, exponent))
        for base, exponent in combined.items()
    ]
    ordered.sort(key=_key_of)
    if len(ordered) == 1 and ordered[0].op == "add" and coefficient != 1:
        return add(*(multiply(const(coefficient), term) for term in ordered[0].args))
    return _product_of(coefficient, tuple(ordered))


def power(base: Expr, exponent: Expr) -> Expr:
    """The canonical ``base ** exponent``, folding numbers up to a size cap."""
    if exponent.op == "const":
        e = exponent.value
        if e == 0:
            return _ONE
        if e == 1:
            return base
        if base.op == "const":
            folded = num.power(base.value, e)
            if folded is not None:
                return const(folded)
        if isinstance(e, int):
            if base.op == "power":
                return power(base.args[0], multiply(base.args[1], exponent))
            if base.op == "multiply":
                return multiply(*(power(f, exponent) for f in base.args))
    if base.op == "const" and base.value == 1:
        return _ONE
    return _node("power", (base, exponent))


def negative(x: Expr) -> Expr:
    return multiply(_MINUS_ONE, x)


def divide(x: Expr, y: Expr) -> Expr:
    return multiply(x, power(y, _MINUS_ONE))


def subtract(x: Expr, y: Expr) -> Expr:
    return add(x, negative(y))


def _is_negative(e: Expr) -> bool:
    """True for a negative number or a product with a negative coefficient."""
    if e.op == "const":
        return e.value < 0
    return e.op == "multiply" and e.args[0].op == "const" and e.args[0].value < 0


def _fold(prim: Any, args: tuple[Expr, ...]) -> Number | None:
    """The value of ``prim`` at constant arguments, when it is exact or a float; None to keep it.

    Exact arguments give the notation's exact values (all others stay symbolic, as
    ``sin(1)`` does); any float argument evaluates the registry's forward function.
    """
    values = [a.value for a in args]
    if all(num.is_exact(v) for v in values):
        exact = prim.notation.exact
        if callable(exact):
            return exact(*values)
        return exact.get(values[0]) if len(values) == 1 else None
    with np.errstate(all="ignore"):
        result = float(prim.evaluate(*(np.float64(v) for v in values)))
    return result if np.isfinite(result) else None


def function(name: str, *args: Any) -> Expr:
    """``name(*args)`` for a function of the language (a registry entry with a notation),
    simplified where its notation declares an identity.

    >>> function("sinh", -symbol("x"))
    -sinh(x)
    """
    prim = language.function_entry(name)
    if prim is None:
        known = ", ".join(sorted(language.functions()))
        raise SymbolicError(f"unknown function {name!r} (known: {known})")
    name, notation = prim.name, prim.notation
    lowest, highest, defaults = language.arity(name)
    if not lowest <= len(args) <= highest:
        wanted = str(lowest) if lowest == highest else f"{lowest} to {highest}"
        raise SymbolicError(f"{name}() takes {wanted} arguments, got {len(args)}")
    operands = tuple(as_expr(a) for a in (*args, *defaults[len(args) - lowest :]))
    if notation.rewrite is not None:
        return as_expr(notation.rewrite(*operands))
    if all(a.op == "const" for a in operands):
        folded = _fold(prim, operands)
        if folded is not None:
            return const(folded)
    if len(operands) == 1:
        (x,) = operands
        if notation.inverse is not None and x.op == notation.inverse:
            return x.args[0]
        if notation.idempotent and x.op == name:
            return x
        if notation.parity is not None and _is_negative(x):
            inner = function(name, negative(x))
            return negative(inner) if notation.parity == "odd" else inner
    elif len(operands) == 2:
        if notation.idempotent and operands[0] is operands[1]:
            return operands[0]
        if notation.commutative:
            operands = tuple(sorted(operands, key=_key_of))
    return _node(name, operands)


#: The canonical constructors of the operator entries, by the entry's name.
OPERATORS = {
    "add": add,
    "subtract": subtract,
    "multiply": multiply,
    "divide": divide,
    "power": power,
    "negative": negative,
}


def apply(name: str, *args: Expr) -> Expr:
    """The canonical ``name(*args)`` for an operator entry (``add``) or a function (``sin``)."""
    build = OPERATORS.get(name)
    return function(name, *args) if build is None else build(*args)


def rebuild_op(op: str, args: Iterable[Expr]) -> Expr:
    """The canonical expression ``op(*args)`` for any compound op."""
    return apply(op, *args)


def rebuild(node: Expr, args: list[Expr]) -> Expr:
    """``node`` with new arguments (the node itself when they are unchanged)."""
    if all(a is b for a, b in zip(args, node.args, strict=True)):
        return node
    return rebuild_op(node.op, args)


_ONE = const(1)
_MINUS_ONE = const(-1)
