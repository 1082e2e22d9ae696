"""The primitive registry: one entry per operation, holding everything about it.

Layer: core. Imports nothing else from chainrule.

A :class:`Primitive` bundles an operation's forward function, its vector-Jacobian
products (one reverse rule per differentiable argument) and its Jacobian-vector
products (one forward rule per differentiable argument), plus what the tests need
to exercise it. Rules follow one argument order everywhere::

    vjp(g, ans, *args, **params)   # g: cotangent of the output, ans: the output
    jvp(t, ans, *args, **params)   # t: tangent of *this* argument

Rules are written with NumPy ufuncs, operators and array methods only, so the
same rule runs on plain arrays (a fast first-order backward pass) and on Tensors
(which dispatch NumPy calls back to primitives, recording the backward pass itself
for higher-order derivatives). Operations with no NumPy spelling are reached
through :meth:`Primitive.bind`, which does the same dispatch explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Rule = Callable[..., Any]

#: Every registered primitive, by name. Tests, the explainer and the symbolic
#: differentiator iterate over this table.
PRIMITIVES: dict[str, Primitive] = {}


class Traceable:
    """Base class of values that record primitive applications (chainrule.Tensor)."""

    __slots__ = ()


def raw(x: Any) -> Any:
    """The array behind a Traceable, or ``x`` itself (for masks that carry no gradient)."""
    return x.data if isinstance(x, Traceable) else x


_apply_hook: Callable[..., Any] | None = None


def set_apply_hook(apply: Callable[..., Any]) -> None:
    """Install the function that applies a primitive to Traceable operands."""
    global _apply_hook
    _apply_hook = apply


class Primitive:
    """One operation: forward, reverse rules, forward rules, and test metadata.

    ``vjps``/``jvps`` are tuples with one rule per positional argument (``None``
    for arguments that are not differentiable, such as the condition of
    ``where``), or, for variadic primitives such as ``concatenate``, a function
    ``argnum -> rule``.

    ``sample`` draws valid test inputs: ``sample(rng) -> list of (args, params)``.
    ``kind`` is "elementwise", "reduction", "shape", "linalg" or "nn"; elementwise
    primitives also carry ``domains``, one sampler ``(rng, shape) -> array`` per
    argument, so tests can draw broadcasting shapes of their own.
    ``label`` is the short text the explainer prints for the operation.
    """

    __slots__ = (
        "name",
        "forward",
        "vjps",
        "jvps",
        "kind",
        "domains",
        "sample",
        "label",
        "differentiable",
    )

    def __init__(
        self,
        name: str,
        forward: Callable[..., Any],
        vjps: Sequence[Rule | None] | Callable[[int], Rule] | None = None,
        jvps: Sequence[Rule | None] | Callable[[int], Rule] | None = None,
        *,
        kind: str,
        domains: Sequence[Callable[..., Any]] | None = None,
        sample: Callable[..., list] | None = None,
        label: str | None = None,
    ) -> None:
        self.name = name
        self.forward = forward
        self.vjps = tuple(vjps) if isinstance(vjps, (list, tuple)) else vjps
        self.jvps = tuple(jvps) if isinstance(jvps, (list, tuple)) else jvps
        self.kind = kind
        self.domains = tuple(domains) if domains is not None else None
        self.sample = sample
        self.label = label or name
        self.differentiable = vjps is not None

    def vjp(self, argnum: int) -> Rule | None:
        """The reverse rule for positional argument ``argnum`` (None if not differentiable)."""
        rules = self.vjps
        if rules is None:
            return None
        return rules[argnum] if isinstance(rules, tuple) else rules(argnum)

    def jvp(self, argnum: int) -> Rule | None:
        """The forward rule for positional argument ``argnum`` (None if not differentiable)."""
        rules = self.jvps
        if rules is None:
            return None
        return rules[argnum] if isinstance(rules, tuple) else rules(argnum)

    def bind(self, *args: Any, **params: Any) -> Any:
        """Apply to raw arrays (returns an array) or to Tensors (records a node)."""
        for a in args:
            if isinstance(a, Traceable):
                assert _apply_hook is not None
                return _apply_hook(self, args, params)
        return self.forward(*args, **params)

    def __repr__(self) -> str:
        return f"Primitive({self.name!r}, kind={self.kind!r})"


def register(prim: Primitive) -> Primitive:
    """Add ``prim`` to :data:`PRIMITIVES` (names are unique) and return it."""
    if prim.name in PRIMITIVES:
        raise ValueError(f"primitive {prim.name!r} is already registered")
    PRIMITIVES[prim.name] = prim
    return prim
