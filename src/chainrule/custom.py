"""User-defined differentiable operations, registered as primitives like the library's own.

Layer: api (imports core, errors and tensor). Three spellings, one mechanism: each
definition becomes a :class:`~chainrule.core.primitive.Primitive` of kind "custom" in
the registry, applied through ``Primitive.bind`` (so ``chainrule.tensor.apply``): it
records, backpropagates, pushes tangents, shows in the explainer and is traced by
``chainrule.compile`` exactly like ``sin``.

- :func:`custom_op`, the registry's own vocabulary: a forward on NumPy arrays plus
  ``partials`` (elementwise) or per-argument ``vjps``/``jvps``, optional residuals and
  a :class:`~chainrule.core.primitive.Notation` for the symbolic language.
- :func:`custom_vjp` and :func:`custom_jvp`, as in JAX: ``f.defvjp(fwd, bwd)`` and
  ``f.defjvp(rule)``.
- :class:`Function`, as in PyTorch: static ``forward(ctx, *args)`` and
  ``backward(ctx, g)`` (and optionally ``jvp(ctx, *tangents)``), called with ``.apply``.

**Higher order.** Rules written with NumPy calls (``np.cos(x)``, ``g * y``) run on
arrays for a first-order backward pass and on Tensors, which record it, for
``grad(grad(f))``, ``hessian`` and ``create_graph=True``. On that recorded path there
are no saved residuals (``res`` is None): ``custom_vjp`` reruns ``fwd`` on the Tensor
arguments to get differentiable residuals, and :class:`Function` reruns ``forward``
with a fresh ``ctx``; so ``fwd``/``forward`` should be written with NumPy calls too.

**Derived rules.** An operation given only forward-mode rules (``jvps``, ``defjvp``,
``Function.jvp``) gets its reverse rules by transposition: the JVP is linear in the
tangent, so its VJP is the gradient of ``<g, jvp(t)>`` in ``t``, taken by reverse mode
through the rule. An operation given only reverse rules refuses forward mode
(:class:`~chainrule.errors.MissingRuleError`, naming the op).

**Names.** An operation is registered under ``name`` (default: the function's or
class's name), which the symbolic language and the explainer show. A library
primitive's name is refused. Defining an operation again from the same place (same
module and qualified name, as when a notebook cell is rerun) replaces it: the new
definition answers to the name and calling the old one raises
:class:`~chainrule.errors.CustomOpError`; graphs recorded earlier keep the rules they
were recorded with. The same name from a different place is refused.
"""

from __future__ import annotations

import functools
import keyword
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .core import engine
from .core.mode import enable_grad
from .core.primitive import PRIMITIVES, Notation, Primitive, Rule, Traceable, raw, register
from .errors import CustomOpError, MissingRuleError
from .tensor import Tensor

#: The live user-defined operation behind each custom primitive name.
_DEFINED: dict[str, CustomOp] = {}


class CustomOp:
    """A user-defined operation: call it like a chainrule function.

    On Tensors it records a node of its primitive (``.primitive``); on arrays and
    numbers it computes the plain value. Made by :func:`custom_op`, :func:`custom_vjp`,
    :func:`custom_jvp` and :class:`Function`.
    """

    def __init__(self, primitive: Primitive, plain: Callable[..., Any], site: str) -> None:
        self.primitive = primitive
        self.name = primitive.name
        self._plain = plain
        self._site = site

    def __call__(self, *args: Any, **params: Any) -> Any:
        prim = self.primitive
        if PRIMITIVES.get(prim.name) is not prim:
            raise CustomOpError(
                f"custom op {prim.name!r} was redefined after this definition was made (or "
                "removed from the registry); call the current definition"
            )
        for a in args:
            if isinstance(a, Traceable):
                return prim.bind(*args, **params)
        return self._plain(*args, **params)

    def __repr__(self) -> str:
        return f"<custom op {self.name!r}>"


def _site(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def _define(prim: Primitive, plain: Callable[..., Any], site: str) -> CustomOp:
    """Register ``prim`` under its name (see the module docstring's rules) and wrap it."""
    name = prim.name
    if not name.isidentifier() or keyword.iskeyword(name):
        raise CustomOpError(
            f"custom op name {name!r} is not an identifier; pass name='...' (it is how the "
            "operation is written in formulas and tables)"
        )
    existing = PRIMITIVES.get(name)
    if existing is not None:
        previous = _DEFINED.get(name)
        if previous is None or previous.primitive is not existing:
            raise CustomOpError(
                f"custom op {name!r}: the name belongs to chainrule's {existing.kind} primitive "
                f"{name!r}; pass name='...' to choose another"
            )
        if previous._site != site:
            raise CustomOpError(
                f"custom op {name!r} is already defined by {previous._site}; pass name='...' "
                f"to give the one in {site} a name of its own"
            )
        del PRIMITIVES[name]
    register(prim)
    op = CustomOp(prim, plain, site)
    _DEFINED[name] = op
    return op


def _refuse_forward_mode(name: str) -> Rule:
    def jvp(t: Any, ans: Any, *args: Any, **params: Any) -> Any:
        raise MissingRuleError(
            f"custom op {name!r} has reverse-mode rules only, so forward mode (jvp, "
            "jacobian(mode='fwd'), hessian) cannot go through it; give it a JVP rule (jvps=, "
            "partials=, defjvp or Function.jvp)"
        )

    return jvp


def _zeros_of(x: Any) -> np.ndarray:
    value = np.asarray(raw(x))
    dtype = value.dtype if value.dtype.kind in "fc" else np.float64
    return np.zeros(value.shape, dtype)


def _transpose(jvp_rule: Rule, argnum: int) -> Rule:
    """The VJP of argument ``argnum`` from its (linear in ``t``) JVP rule, by reverse mode.

    On Tensors (a recorded backward pass) the result stays on their graph.
    """

    def vjp(g: Any, ans: Any, *args: Any, **params: Any) -> Any:
        t = Tensor(_zeros_of(args[argnum]), requires_grad=True)
        with enable_grad():
            out = jvp_rule(t, ans, *args, **params)
            if not isinstance(out, Tensor) or not out.requires_grad:
                return t._data  # the JVP does not depend on t: a zero cotangent
            if out.shape != np.shape(raw(g)):
                out = np.broadcast_to(out, np.shape(raw(g)))
        recorded = any(isinstance(v, Tensor) for v in (g, ans, *args))
        seed = np.asarray(raw(g), dtype=out.dtype)
        if recorded:
            seed = g if isinstance(g, Tensor) else Tensor(seed)
        (cotangent,) = engine.backprop(out, seed, [t], create_graph=recorded, retain_graph=recorded)
        return t._data if cotangent is None else cotangent

    return vjp


class _JointVJP:
    """Per-argument VJP rules from one rule that returns every argument's cotangent at once.

    The engine asks for one argument at a time; the joint rule runs once per node. Its
    result is kept for the node being differentiated, keyed by the identity of what
    the rule receives (held here, so no other object can take those identities).
    """

    def __init__(self, name: str, joint: Callable[..., Sequence[Any]]) -> None:
        self._name = name
        self._joint = joint
        self._key: tuple = ()
        self._cotangents: tuple = ()
        self._rules: dict[int, Rule] = {}

    def __call__(self, argnum: int) -> Rule:
        rule = self._rules.get(argnum)
        if rule is None:
            rule = self._rules[argnum] = functools.partial(self._cotangent, argnum)
        return rule

    def _cotangent(
        self, argnum: int, g: Any, ans: Any, *args: Any, res: Any = None, **params: Any
    ) -> Any:
        key = (g, ans, res, *args, *params.values())
        same = len(key) == len(self._key) and all(
            a is b for a, b in zip(key, self._key, strict=True)
        )
        if not same:
            cotangents = self._joint(g, args, params, res)
            self._key, self._cotangents = key, self._checked(cotangents, args)
        return self._cotangents[argnum]

    def _checked(self, cotangents: Any, args: tuple) -> tuple:
        if not isinstance(cotangents, (tuple, list)):
            cotangents = (cotangents,)
        if len(cotangents) != len(args):
            raise CustomOpError(
                f"custom op {self._name!r}: the backward rule returned {len(cotangents)} "
                f"cotangent(s) for {len(args)} positional argument(s); return one per argument "
                "(None for one without a gradient)"
            )
        out = []
        for i, (c, a) in enumerate(zip(cotangents, args, strict=True)):
            if c is not None and np.shape(raw(c)) != np.shape(raw(a)):
                raise CustomOpError(
                    f"custom op {self._name!r}: the cotangent of argument {i} has shape "
                    f"{np.shape(raw(c))} but the argument has shape {np.shape(raw(a))}"
                )
            out.append(_zeros_of(a) if c is None else c)
        return tuple(out)


def _per_argument(make: Callable[[int], Rule]) -> Callable[[int], Rule]:
    """A primitive's ``argnum -> rule`` table, each rule made once."""
    return functools.cache(make)


def _joint_jvps(joint: Callable[..., Any]) -> Callable[[int], Rule]:
    """Per-argument JVP rules from ``joint(tangents, ans, args, params, res)``: the others' zero."""

    @functools.cache
    def rules(argnum: int) -> Rule:
        def jvp(t: Any, ans: Any, *args: Any, res: Any = None, **params: Any) -> Any:
            tangents = [_zeros_of(a) for a in args]
            tangents[argnum] = t
            return joint(tuple(tangents), ans, args, params, res)

        return jvp

    return rules


def _with_residuals(name: str, forward: Callable[..., Any]) -> Callable[..., Any]:
    """``forward`` checked to return ``(answer, residuals)``."""

    @functools.wraps(forward)
    def checked(*args: Any, **params: Any) -> Any:
        result = forward(*args, **params)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise CustomOpError(
                f"custom op {name!r}: its forward must return a pair (output, residuals), got "
                f"{type(result).__name__}"
            )
        return result

    return checked


def custom_op(
    forward: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    partials: Sequence[Rule | None] | None = None,
    vjps: Sequence[Rule | None] | None = None,
    jvps: Sequence[Rule | None] | None = None,
    residuals: bool = False,
    notation: Notation | None = None,
    label: str | None = None,
) -> Any:
    """Define an operation by its forward function and derivative rules: a registry entry.

    ``forward(*args, **params)`` computes on NumPy arrays; positional arguments are the
    operands, keyword arguments parameters passed on to the rules. Give ``partials``,
    one ``(ans, *args) -> ∂out/∂arg`` per argument (elementwise operations), or
    ``vjps`` ``(g, ans, *args) -> cotangent`` and/or ``jvps`` ``(t, ans, *args) ->
    tangent`` per argument (None for an argument without a gradient); VJP results of a
    broadcast shape are summed back to the argument's shape, as for the library's
    rules. With ``residuals=True`` the forward returns ``(answer, res)`` and every
    rule gets ``res=`` (None when it must recompute, on a recorded backward pass). A
    ``notation`` makes the operation part of the symbolic language. Use as a
    decorator, with or without arguments.

    >>> import chainrule as cr, numpy as np
    >>> @cr.custom_op(partials=(lambda ans, x: 1 - 1 / (1 + np.exp(x)),))
    ... def softplus_doc(x):
    ...     return np.logaddexp(0.0, x)
    >>> cr.grad(softplus_doc)(0.0)
    0.5
    >>> cr.grad(cr.grad(softplus_doc))(0.0)
    0.25
    """
    if forward is None:
        return functools.partial(
            custom_op,
            name=name,
            partials=partials,
            vjps=vjps,
            jvps=jvps,
            residuals=residuals,
            notation=notation,
            label=label,
        )
    name = name or forward.__name__
    if partials is None and vjps is None and jvps is None:
        raise CustomOpError(
            f"custom op {name!r}: give its derivative: partials=, vjps= or jvps= (one rule "
            "per positional argument)"
        )
    if partials is not None and (vjps is not None or jvps is not None):
        raise CustomOpError(f"custom op {name!r}: give partials or vjps/jvps, not both")
    if partials is None:
        if jvps is None:
            jvps = [None if v is None else _refuse_forward_mode(name) for v in vjps]
        elif vjps is None:
            vjps = [None if j is None else _transpose(j, i) for i, j in enumerate(jvps)]
    prim = Primitive(
        name,
        _with_residuals(name, forward) if residuals else forward,
        vjps,
        jvps,
        kind="custom",
        partials=partials,
        residuals=residuals,
        notation=notation,
        label=label,
        doc=forward.__doc__,
    )
    op = _define(prim, prim.evaluate, _site(forward))
    functools.update_wrapper(op, forward)
    return op


class _Decorated:
    """A function whose derivative rule is given after it (``defvjp``/``defjvp``), JAX-style.

    Until the rule is given it computes plain values; on Tensors it asks for the rule.
    """

    _define_with = "the rule"

    def __init__(self, fun: Callable[..., Any], *, name: str | None = None) -> None:
        self.fun = fun
        self.name = name or fun.__name__
        self._op: CustomOp | None = None
        functools.update_wrapper(self, fun)

    def _register(self, vjps: Any, jvps: Any, forward: Callable[..., Any], **entry: Any) -> None:
        prim = Primitive(
            self.name, forward, vjps, jvps, kind="custom", doc=self.fun.__doc__, **entry
        )
        self._op = _define(prim, self.fun, _site(self.fun))

    @property
    def primitive(self) -> Primitive:
        """The registered primitive (once the rule is given)."""
        if self._op is None:
            raise CustomOpError(
                f"{type(self).__name__} function {self.name!r} has no derivative rule yet: "
                f"call {self.name}.{self._define_with}"
            )
        return self._op.primitive

    def __call__(self, *args: Any, **params: Any) -> Any:
        if self._op is not None:
            return self._op(*args, **params)
        if any(isinstance(a, Traceable) for a in args):
            self.primitive  # noqa: B018 - raises the error that says what to define
        return self.fun(*args, **params)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class custom_vjp(_Decorated):  # noqa: N801 - JAX's name
    """A function with a reverse rule of its own, JAX-style: ``f.defvjp(fwd, bwd)``.

    ``fwd(*args)`` returns ``(f(*args), residuals)``; ``bwd(residuals, g)`` returns one
    cotangent per positional argument (a tuple; None for no gradient), each of its
    argument's shape. Keyword arguments of ``f`` go to ``fwd`` (put what ``bwd`` needs
    in the residuals). ``bwd`` runs once per application. Forward mode is refused.
    ``name`` defaults to the function's name.

    >>> import chainrule as cr, numpy as np
    >>> @cr.custom_vjp
    ... def clip_gradient_doc(x):
    ...     return x
    >>> def fwd(x):
    ...     return clip_gradient_doc(x), None
    >>> def bwd(res, g):
    ...     return (np.clip(g, -1.0, 1.0),)
    >>> clip_gradient_doc.defvjp(fwd, bwd)
    >>> cr.grad(lambda x: 5.0 * clip_gradient_doc(x))(2.0)
    1.0
    """

    _define_with = "defvjp(fwd, bwd)"

    def defvjp(self, fwd: Callable[..., Any], bwd: Callable[..., Any]) -> None:
        """Set the forward-with-residuals and backward rules (and register the operation)."""

        def joint(g: Any, args: tuple, params: dict, res: Any) -> Any:
            if res is None:  # a recorded backward pass: residuals from the Tensor arguments
                res = fwd(*args, **params)[1]
            return bwd(res, g)

        self._register(
            _JointVJP(self.name, joint),
            _per_argument(lambda argnum: _refuse_forward_mode(self.name)),
            _with_residuals(self.name, fwd),
            residuals=True,
        )


class custom_jvp(_Decorated):  # noqa: N801 - JAX's name
    """A function with a forward-mode rule of its own, JAX-style: ``f.defjvp(rule)``.

    ``rule(primals, tangents, **params)`` returns ``(f(*primals), tangent_out)``, with
    ``tangent_out`` linear in the tangents. Reverse mode transposes it (see the module
    docstring), so ``grad`` works as well. ``name`` defaults to the function's name.

    >>> import chainrule as cr, numpy as np
    >>> @cr.custom_jvp
    ... def log1pexp_doc(x):
    ...     return np.log1p(np.exp(x))
    >>> @log1pexp_doc.defjvp
    ... def _(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return log1pexp_doc(x), t * (1 - 1 / (1 + np.exp(x)))
    >>> cr.jvp(log1pexp_doc, (0.0,), (2.0,))[1], cr.grad(log1pexp_doc)(0.0)
    (1.0, 0.5)
    """

    _define_with = "defjvp(rule)"

    def defjvp(self, rule: Callable[..., Any]) -> Callable[..., Any]:
        """Set the JVP rule (and register the operation); returns ``rule``, for decorating."""

        def joint(tangents: tuple, ans: Any, args: tuple, params: dict, res: Any) -> Any:
            return rule(args, tangents, **params)[1]

        jvps = _joint_jvps(joint)
        self._register(_per_argument(lambda i: _transpose(jvps(i), i)), jvps, self.fun)
        return rule


class FunctionCtx:
    """What ``Function.forward`` leaves for ``backward``/``jvp``: saved values and attributes."""

    def __init__(self) -> None:
        self.saved_tensors: tuple = ()

    def save_for_backward(self, *values: Any) -> None:
        """Keep ``values`` for the rules as ``saved_tensors`` (Tensors on a recorded pass)."""
        self.saved_tensors = values


class Function:
    """An operation written as a class, PyTorch-style; call it with ``.apply(*args)``.

    Subclasses define static ``forward(ctx, *args, **params)`` (returning one array)
    and ``backward(ctx, g)`` (one cotangent per positional argument, a tuple when there
    are several; None for no gradient), and may define ``jvp(ctx, *tangents)`` for
    forward mode. Without ``backward`` the reverse rule is the transposed ``jvp``.
    ``ctx.save_for_backward(...)`` keeps values in ``ctx.saved_tensors``; other
    attributes of ``ctx`` are kept too. The operation's name is the class name unless
    the class sets ``name``.

    >>> import chainrule as cr, numpy as np
    >>> class CubeDoc(cr.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return 3 * x ** 2 * g
    >>> cr.grad(CubeDoc.apply)(2.0), cr.grad(cr.grad(CubeDoc.apply))(2.0)
    (12.0, 12.0)
    """

    name: str | None = None
    forward: Callable[..., Any] | None = None
    backward: Callable[..., Any] | None = None
    jvp: Callable[..., Any] | None = None
    _op: CustomOp

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.forward is None:
            return  # an abstract base of other Functions
        name = cls.__dict__.get("name") or cls.__name__
        if cls.backward is None and cls.jvp is None:
            raise CustomOpError(f"Function {name!r}: define backward(ctx, g) and/or jvp(ctx, ...)")

        def forward(*args: Any, **params: Any) -> tuple:
            ctx = FunctionCtx()
            return cls.forward(ctx, *args, **params), ctx

        def context(args: tuple, params: dict, res: Any) -> FunctionCtx:
            if res is None:  # a recorded pass: rerun forward on the Tensor arguments
                res = forward(*args, **params)[1]
            return res

        def jvp(tangents: tuple, ans: Any, args: tuple, params: dict, res: Any) -> Any:
            return cls.jvp(context(args, params, res), *tangents)

        def backward(g: Any, args: tuple, params: dict, res: Any) -> Any:
            return cls.backward(context(args, params, res), g)

        if cls.jvp is not None:
            jvps = _joint_jvps(jvp)
        else:
            jvps = _per_argument(lambda argnum: _refuse_forward_mode(name))
        if cls.backward is not None:
            vjps: Callable[[int], Rule] = _JointVJP(name, backward)
        else:
            vjps = _per_argument(lambda argnum: _transpose(jvps(argnum), argnum))
        prim = Primitive(name, forward, vjps, jvps, kind="custom", residuals=True, doc=cls.__doc__)
        cls._op = _define(prim, prim.evaluate, _site(cls))

    @classmethod
    def apply(cls, *args: Any, **params: Any) -> Any:
        """Apply the operation: a recorded Tensor for Tensor arguments, else the plain value."""
        return cls._op(*args, **params)
