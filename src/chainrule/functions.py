"""The public operations, generated from the registry: ``chainrule.exp(t)``, ``t.sum(axis=1)``.

Layer: tensor (imports core, ops and chainrule.tensor). For every primitive in
:data:`~chainrule.core.primitive.PRIMITIVES`, its entry's ``names`` become functions
of this module (re-exported by ``chainrule``; a dotted name ``space.name`` becomes a
function of the generated module ``chainrule.<space>``), its ``methods`` Tensor methods and
its ``numpy`` callables rows of the NumPy dispatch tables, each applying the
primitive with the arguments its ``signature`` prepares. This is done once, at
import, as autograd's ArrayBox registers its methods by looping over ``anp``: a new
entry needs no edit here.

Every generated function binds its primitive in a closure: a call costs one operand
check and one :func:`~chainrule.tensor.apply`, as a hand-written one would.
Operands may be numbers, arrays, Tensors or (nested) sequences; a sequence holding
Tensors is stacked on the graph, so ``sum([x, x + 2])`` has a gradient.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from .core import backend
from .core.mode import current_mode
from .core.primitive import PRIMITIVES, Primitive, composite, surface_key
from .errors import DtypeError
from .ops import arguments
from .tensor import (
    _NO_PARAMS,
    FUNCTIONS,
    UFUNCS,
    Tensor,
    _to_array,
    apply,
    as_operand,
    as_tensor,
    holds_tensor,
)

Function = Callable[..., Tensor]


def _unary(prim: Primitive) -> Function:
    def op(x: Any) -> Tensor:
        return apply(prim, (x if isinstance(x, Tensor) else as_tensor(x),), _NO_PARAMS)

    return op


def _binary(prim: Primitive) -> Function:
    def op(x: Any, y: Any) -> Tensor:
        if not isinstance(x, Tensor):
            x = as_operand(x) if isinstance(y, Tensor) else as_tensor(x)
        if not isinstance(y, Tensor):
            y = as_operand(y)
        return apply(prim, (x, y), _NO_PARAMS)

    return op


def _where(prim: Primitive) -> Function:
    def op(condition: Any, x: Any, y: Any) -> Tensor:
        if not isinstance(x, Tensor) and not isinstance(y, Tensor):
            x = as_tensor(x)
        return apply(prim, (as_operand(condition), as_operand(x), as_operand(y)), _NO_PARAMS)

    return op


def _clip(prim: Primitive) -> Function:
    def op(x: Any, lo: Any = None, hi: Any = None, **aliases: Any) -> Tensor:
        lo, hi = arguments.clip_bounds(prim.name, lo, hi, aliases)
        x = x if isinstance(x, Tensor) else as_tensor(x)
        # Bounds are operands: traced by chainrule.compile, and given gradients when Tensors.
        lo = None if lo is None else as_operand(lo)
        hi = None if hi is None else as_operand(hi)
        return apply(prim, (x, lo, hi), _NO_PARAMS)

    return op


def _prepared(prim: Primitive, prepare: Callable[..., Any]) -> Function:
    if getattr(prepare, "operand_sequence", False):

        def op(operands: Any, *args: Any, **kwargs: Any) -> Tensor:
            if isinstance(operands, (Tensor, np.ndarray, list, tuple)):
                tensors = tuple(as_tensor(x) for x in operands)
            else:
                raise TypeError(
                    f"{prim.name}() takes a sequence of tensors, got {type(operands).__name__}"
                )
            prepared, params = prepare(tensors, *args, **kwargs)
            return apply(prim, prepared, params)

        return op

    if getattr(prepare, "leading_parameter", False):

        def op(parameter: Any, *operands: Any, **kwargs: Any) -> Tensor:
            tensors = tuple(as_tensor(x) for x in operands)
            prepared, params = prepare(parameter, *tensors, **kwargs)
            return apply(prim, prepared, params)

        return op

    def op(x: Any, *args: Any, **kwargs: Any) -> Tensor:
        operands, params = prepare(x if isinstance(x, Tensor) else as_tensor(x), *args, **kwargs)
        return apply(prim, operands, params)

    return op


def _composite(prim: Primitive, function: Callable[..., Any]) -> Function:
    if getattr(function, "operand_sequence", False):

        def op(operands: Any, *args: Any, **kwargs: Any) -> Any:
            if not isinstance(operands, (Tensor, np.ndarray, list, tuple)):
                raise TypeError(
                    f"{prim.name}() takes a sequence of tensors, got {type(operands).__name__}"
                )
            return function(tuple(as_tensor(x) for x in operands), *args, **kwargs)

        return op

    def op(x: Any, *args: Any, **kwargs: Any) -> Any:
        return function(x if isinstance(x, Tensor) else as_tensor(x), *args, **kwargs)

    return op


#: Python's unary operators; the logical ones, which must not act as bitwise ones on numbers.
_UNARY_OPERATORS = {"__neg__", "__pos__", "__abs__", "__invert__"}
_LOGICAL_OPERATORS = {
    "__and__", "__rand__", "__or__", "__ror__", "__xor__", "__rxor__", "__invert__"
}  # fmt: skip


#: Operand types ``apply`` takes as they are; anything else goes through ``as_operand``
#: (one set lookup instead of a call on the operators' hot path).
_DIRECT_OPERANDS = frozenset(
    {Tensor, float, int, bool, complex, np.ndarray, np.float64, np.float32}
)


def _require_booleans(prim: Primitive, *operands: Any) -> None:
    """``& | ^ ~`` are logical on tensors, so their operands must be booleans (not bits)."""
    for operand in operands:
        dtype = np.result_type(operand._data if isinstance(operand, Tensor) else operand)
        if dtype.kind != "b":
            raise DtypeError(
                f"{prim.name}: the operators & | ^ ~ are logical and need boolean operands, "
                f"got dtype {dtype}; compare first (t > 0) or use np.bitwise_* on arrays"
            )


def operator_method(prim: Primitive, name: str) -> Function:
    """The Tensor special method ``name`` (``__add__``, ``__radd__``, ``__neg__``) applying
    ``prim``; a reflected name (``__radd__`` beside ``__add__``) swaps the operands. The
    other operand is taken as ``as_operand`` takes it (a list holding Tensors is stacked)."""
    logical = name in _LOGICAL_OPERATORS
    if name in _UNARY_OPERATORS:

        def unary(self: Tensor) -> Tensor:
            if logical:
                _require_booleans(prim, self)
            return apply(prim, (self,), _NO_PARAMS)

        op = unary
    elif name.startswith("__r") and "__" + name[3:] in prim.operators:

        def reflected(self: Tensor, other: Any) -> Tensor:
            if type(other) not in _DIRECT_OPERANDS:
                other = as_operand(other)
            if logical:
                _require_booleans(prim, other, self)
            return apply(prim, (other, self), _NO_PARAMS)

        op = reflected
    elif logical:

        def checked(self: Tensor, other: Any) -> Tensor:
            if type(other) not in _DIRECT_OPERANDS:
                other = as_operand(other)
            _require_booleans(prim, self, other)
            return apply(prim, (self, other), _NO_PARAMS)

        op = checked
    else:

        def binary(self: Tensor, other: Any) -> Tensor:
            if type(other) not in _DIRECT_OPERANDS:
                other = as_operand(other)
            return apply(prim, (self, other), _NO_PARAMS)

        op = binary
    op.__name__ = op.__qualname__ = name
    op.__doc__ = prim.doc
    return op


_BUILDERS = {"unary": _unary, "binary": _binary, "where": _where, "clip": _clip}


def generate(prim: Primitive, signature: Any, name: str) -> Function:
    """The public function applying ``prim`` with the arguments ``signature`` describes."""
    if isinstance(signature, composite):
        op = _composite(prim, signature.function)
    elif callable(signature):
        op = _prepared(prim, signature)
    elif signature in _BUILDERS:
        op = _BUILDERS[signature](prim)
    else:
        raise ValueError(
            f"primitive {prim.name!r}: unknown signature {signature!r}; use one of "
            f"{sorted(_BUILDERS)} or a prepare function"
        )
    op.__name__ = op.__qualname__ = name
    op.__module__ = __name__
    op.__doc__ = prim.doc
    return op


def _surface(prim: Primitive, items: tuple) -> dict[Any, Function]:
    """``names``/``methods``/``numpy`` items -> generated functions; a pair brings its own
    prepare, other items use the entry's signature."""
    made: dict[Any, Function] = {}
    for item in items:
        key = surface_key(item)
        signature = item[1] if isinstance(item, tuple) else prim.signature
        op = generate(prim, signature, key if isinstance(key, str) else key.__name__)
        own = signature.function if isinstance(signature, composite) else signature
        if isinstance(item, tuple) and getattr(own, "__doc__", None):
            op.__doc__ = own.__doc__  # an alias says what it does itself (flip, not x[index])
        made[key] = op
    return made


#: Every generated top-level public function, by name (``chainrule`` re-exports them all).
PUBLIC: dict[str, Function] = {}

#: The generated sub-namespaces by name (``linalg``: the module ``chainrule.linalg``),
#: made from dotted public names (``"linalg.inv"``); ``chainrule`` re-exports them.
NAMESPACES: dict[str, types.ModuleType] = {}


def _publish(name: str, op: Function) -> None:
    """Put a generated function under its public name: ``chainrule.<name>``, or for a dotted
    name ``space.short`` into the generated module ``chainrule.<space>`` (importable too)."""
    space, _, short = name.rpartition(".")
    if not space:
        PUBLIC[name] = op
        return
    if "." in space or not space.isidentifier() or not short.isidentifier():
        raise ValueError(f"public name {name!r}: use 'name' or 'namespace.name'")
    module = NAMESPACES.get(space)
    if module is None:
        module = types.ModuleType(
            f"chainrule.{space}",
            f"chainrule.{space}: operations generated from the registry's names {space}.*",
        )
        module.__all__ = []  # type: ignore[attr-defined]
        NAMESPACES[space] = module
        sys.modules[module.__name__] = module
    op.__name__ = op.__qualname__ = short
    op.__module__ = module.__name__
    setattr(module, short, op)
    module.__all__.append(short)  # type: ignore[attr-defined]


def _generate_all() -> None:
    """Fill PUBLIC, NAMESPACES, the Tensor methods and the NumPy tables from the registry."""
    for prim in PRIMITIVES.values():
        for name, op in _surface(prim, prim.names).items():
            _publish(name, op)
        for name, op in _surface(prim, prim.methods).items():
            if name in Tensor.__dict__:
                raise ValueError(
                    f"primitive {prim.name!r}: Tensor already has an attribute {name!r}; "
                    "choose another method name"
                )
            setattr(Tensor, name, op)
        for name in prim.operators:
            if name in Tensor.__dict__:
                raise ValueError(f"primitive {prim.name!r}: Tensor already defines {name}")
            setattr(Tensor, name, operator_method(prim, name))
        for func, op in _surface(prim, prim.numpy).items():
            (UFUNCS if isinstance(func, np.ufunc) else FUNCTIONS)[func] = op


_generate_all()
globals().update(PUBLIC)
# Rules written with chainrule.core.backend.xp run on Tensors through chainrule itself.
backend.set_traceable_namespace(Tensor, sys.modules[__package__])


def tensor(
    data: Any,
    requires_grad: bool = False,
    dtype: Any = None,
    device: backend.Device | str | None = None,
) -> Tensor:
    """A new Tensor holding a copy of ``data``, on ``device`` if given ("cpu", "cuda").

    Python floats and lists of floats get the default dtype (float64), Python ints
    int64; NumPy arrays keep their dtype unless ``dtype`` is given. Data on the graph
    stays on it: a Tensor that requires grad, or a (nested) sequence holding one,
    gives a copy that gradients flow back through (``.detach()`` first to cut it).
    Arrays of another library (CuPy, array-api-strict) stay that library's.

    >>> tensor([1.0, 2.0], requires_grad=True)
    tensor([1., 2.], requires_grad=True)
    """
    if type(data) in (float, int, bool, complex):
        made = Tensor(data, requires_grad, dtype)  # the common case, without a further call
    else:
        made = _tensor(data, requires_grad, dtype)
    if device is None or made.device == device:
        return made
    if not made.is_leaf:
        return made.to(device)  # data on the graph stays on it
    return Tensor(backend.to_device(made._data, device), requires_grad=made.requires_grad)


def _tensor(data: Any, requires_grad: bool, dtype: Any) -> Tensor:
    """:func:`tensor` of anything but a number, on the data's own device."""
    if isinstance(data, Tensor) or (isinstance(data, (list, tuple)) and holds_tensor(data)):
        node = as_tensor(data)
        if dtype is not None and node.dtype != np.dtype(dtype):
            node = apply(PRIMITIVES["cast"], (node,), {"dtype": np.dtype(dtype)})
        if node.requires_grad:
            return node.clone() if node is data else node
        data = node._data
    array = _to_array(data, dtype, copy=True)
    out = Tensor(array[()] if array.ndim == 0 else array, requires_grad=requires_grad)
    trace = current_mode().trace
    if trace is not None:
        trace.converted(out, data)
    return out


#: NumPy's name for :func:`tensor`.
array = tensor
