"""The symbolic language, read from the primitive registry.

Layer: symbolic (imports chainrule.core's registry and chainrule.ops, which fills it).

The language's functions are the registry entries with a :class:`Notation` and no
``infix`` (``sin``, ``sinh``, ``heaviside``, ...); its operators are the entries with
an ``infix`` (``add``, ``power``, ``negative``, ...). Nothing here is a snapshot: every
lookup reads :data:`PRIMITIVES` (through an index rebuilt whenever the registry
changes), so an operation registered after import is part of the language at once.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

from .. import ops  # noqa: F401 - importing the ops package registers the primitives
from ..core.primitive import PRIMITIVES, Notation, Primitive


class Arity(NamedTuple):
    """How many operands a function takes, and the values of the optional trailing ones."""

    lowest: int
    highest: int
    defaults: tuple[Any, ...]


class _Index(NamedTuple):
    """Lookups derived from one state of the registry."""

    version: int  # the registry's version when the index was built
    functions: dict[str, Primitive]  # name and alias -> function entry
    arities: dict[str, Arity]  # entry name -> its arity (functions and operators)
    ufuncs: dict[Any, str]  # NumPy callable -> entry name (functions and operators)
    operators: dict[tuple[str, int], str]  # (infix, number of operands) -> entry name


_index: _Index | None = None


def _build() -> _Index:
    version = PRIMITIVES.version
    entries = tuple(PRIMITIVES.values())
    functions: dict[str, Primitive] = {}
    arities: dict[str, Arity] = {}
    ufuncs: dict[Any, str] = {}
    operators: dict[tuple[str, int], str] = {}
    for prim in entries:
        if prim.infix is not None:
            arities[prim.name] = _arity(prim)
            operators[(prim.infix, arities[prim.name].highest)] = prim.name
        elif prim.notation is not None:
            arities[prim.name] = _arity(prim)
            functions[prim.name] = prim
            for alias in prim.notation.aliases:
                functions.setdefault(alias, prim)
        else:
            continue
        for callable_ in prim.numpy:
            ufuncs[callable_] = prim.name
    return _Index(version, functions, arities, ufuncs, operators)


def _current() -> _Index:
    """The index of the registry as it is now (rebuilt when an entry was added or removed)."""
    global _index
    index = _index
    if index is None or index.version != PRIMITIVES.version:
        index = _index = _build()
    return index


def functions() -> Mapping[str, Primitive]:
    """The language's functions by name, aliases included (``ln`` is ``log``'s entry)."""
    return _current().functions


def function_entry(name: str) -> Primitive | None:
    """The registry entry of the function ``name`` (or an alias of it), None if unknown."""
    return _current().functions.get(name)


def notation(name: str) -> Notation | None:
    """The notation of entry ``name`` (a function or an operator), None if it has none."""
    prim = PRIMITIVES.get(name)
    return None if prim is None else prim.notation


def ufunc_entry(ufunc: Any) -> str | None:
    """The name of the function or operator a NumPy ufunc stands for (``np.cosh -> "cosh"``)."""
    return _current().ufuncs.get(ufunc)


def operator(infix: str, operands: int) -> str | None:
    """The operator entry written ``infix`` with that many operands (``("-", 1) -> negative``)."""
    return _current().operators.get((infix, operands))


def precedence(name: str) -> int:
    """How tightly operator entry ``name`` binds (the registry's ``precedence``)."""
    value = PRIMITIVES[name].precedence
    if value is None:
        raise ValueError(f"the operation {name!r} has no precedence: it is not an operator")
    return value


def arity(name: str) -> Arity:
    """The operands function or operator ``name`` takes (trailing defaults are optional)."""
    found = _current().arities.get(name)
    if found is None:
        raise KeyError(f"{name!r} is not a function or operator of the symbolic language")
    return found


def _arity(prim: Primitive) -> Arity:
    """The forward's positional parameters; a ufunc's ``nin``; else one per domain."""
    forward = prim.forward
    if isinstance(forward, np.ufunc):
        return Arity(forward.nin, forward.nin, ())
    try:
        parameters = inspect.signature(forward).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: its domains say
        count = len(prim.domains or ()) or 1
        return Arity(count, count, ())
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    defaults = tuple(p.default for p in positional if p.default is not p.empty)
    return Arity(len(positional) - len(defaults), len(positional), defaults)


def scalar_function(prim: Primitive) -> Callable[..., Any]:
    """The function compiled scalar code calls: the notation's ``scalar``, or the forward."""
    scalar = prim.notation.scalar if prim.notation is not None else None
    return scalar or prim.evaluate
