"""Tracing: run a function once, eagerly, and record the program it computed.

Layer: jit (imports core, tensor and the program builder; nothing imports it but
:mod:`chainrule.jit`).

A :class:`Tracer` is a mode of the dispatcher, not a patch: while it is the current
trace of this context (:func:`chainrule.core.mode.tracing`), the library tells it
what happens at the few places every computation passes through:

- ``tensor.apply`` calls :meth:`Tracer.record` after each primitive application;
- ``engine.backprop`` runs its one reverse sweep with the tracer as its recorder
  (:meth:`vjp`, :meth:`fit`, :meth:`add`, :meth:`accumulate`), so the compiled
  backward pass replays that very sweep: each primitive's own VJP rules, with
  broadcasting undone and dtypes fixed by the engine's own ``fit_to``;
- optimizers and modules hand their ``step()``/``zero_grad()`` to :meth:`effect_call`;
- the transforms of :mod:`chainrule.api` report their exported results (:meth:`export`);
- whatever would take a traced value out of the program (``float``, ``bool``,
  ``.item()``, ``np.asarray``, ``.data``, in-place writes, random draws, forward
  mode, higher order) calls :meth:`refuse` or :meth:`escape`, which raise
  :class:`~chainrule.errors.CompileError` naming the operation and the user's line.

Nothing else in the library knows about tracing, and another thread (another
context) never sees the trace. Values are followed by the identity of the Tensors
that ``apply`` made and of the arrays they hold; every object seen is kept alive
until the trace ends, so no ``id`` is reused.
"""

from __future__ import annotations

import builtins
import keyword
import math
import re
from collections.abc import Callable
from operator import is_
from typing import Any

import numpy as np

from ..core import backend, engine
from ..core.anomaly import user_line
from ..core.mode import tracing
from ..core.primitive import Primitive
from ..errors import CompileError
from ..tensor import Tensor, _as_value, _creation_order
from .program import Expr, Literal, Operand, Stmt, Value, is_constant

#: Names of the generated function's arguments and locals (x0, t1, v2, grad3, ...).
_LOCAL_NAME = re.compile(r"(?:x|t|v|g|c|d|p|r|grad)\d+")


def _describe(value: Any) -> str:
    return f"shape {np.shape(value)} and dtype {np.result_type(value)}"


def _followable(value: Any) -> bool:
    """Whether an object can stand for one value by identity (not a shared singleton)."""
    kind = type(value)
    return kind is np.ndarray or (isinstance(value, np.generic) and kind is not np.bool_)


class Tracer:
    """Records one eager run of a function as straight-line statements."""

    def __init__(self, function_name: str = "compiled") -> None:
        self.statements: list[Stmt] = []
        self.namespace: dict[str, Any] = {"np": np, "Tensor": Tensor}
        self._reserved = {function_name, *dir(builtins)}
        self._first_seq = next(_creation_order)  # tensors older than this exist outside
        self._bound: dict[int, str] = {}
        self._counts: dict[str, int] = {}
        self._arrays: dict[int, Value] = {}  # id(array or NumPy scalar) -> the value it is
        self._tensors: dict[int, Value] = {}  # id(Tensor) -> its current value
        self._numbers: dict[int, Value] = {}  # id(exported Python number) -> its value
        self._residuals: dict[int, Value] = {}  # id(residuals a forward saved) -> their value
        self._inputs: dict[int, str] = {}  # id(Tensor argument) -> parameter name
        self._grad_of: dict[int, Tensor] = {}  # id(a .grad Tensor) -> the tensor it belongs to
        self._input_arrays: list[Any] = []
        self._handed_out: set[int] = set()
        self._computed: dict[tuple, Value] = {}  # (template, operands) -> value, for reuse
        self._keep: list[Any] = []
        self._live_tensors: list[tuple[Tensor, bool]] = []  # live tensors, requires_grad
        self._modules: list[tuple[Any, bool, tuple, tuple]] = []  # module, training, params

    # --- names and constants --------------------------------------------------------
    def _name(self, prefix: str) -> str:
        count = self._counts.get(prefix, 0)
        self._counts[prefix] = count + 1
        return f"{prefix}{count}"

    def bind(self, obj: Any, hint: str, numbered: bool = False) -> str:
        """A name in the generated code's namespace for ``obj`` (one name per object).

        ``numbered`` names (K0, param1, ...) are numbered from the start; others take
        the hint itself when it is free, and a number after an underscore otherwise.
        """
        name = self._bound.get(id(obj))
        if name is None:
            hint = re.sub(r"\W", "_", hint)  # "array_api_strict.float64": one identifier
            name = self._name(hint) if numbered else hint
            while not self._is_free(name, numbered):
                name = self._name(hint + "_")
            self.namespace[name] = obj
            self._bound[id(obj)] = name
            self._keep.append(obj)
        return name

    def _is_free(self, name: str, numbered: bool = False) -> bool:
        """Whether a bound object may take ``name``: no clash with the function, its
        arguments and locals (a letter prefix and a number), builtins or keywords."""
        return (
            name.isidentifier()
            and not keyword.iskeyword(name)
            and name not in self.namespace
            and name not in self._reserved
            and (numbered or _LOCAL_NAME.fullmatch(name) is None)
        )

    def _constant(self, value: Any) -> Value:
        """A value that depends on nothing traced, bound into the generated code.

        Arrays are bound as copies: a tensor made inside may be written in place later
        in the function, and the code must see the value it had when it was used.
        """
        known = self._arrays.get(id(value)) if _followable(value) else None
        if known is not None and known.kind == "const":
            return known
        snapshot = value.copy() if type(value) is np.ndarray else value
        var = Value(self.bind(snapshot, "K", numbered=True), value, "const")
        self._remember(value, var)
        return var

    def _remember(self, value: Any, var: Value) -> None:
        if _followable(value):
            self._arrays[id(value)] = var
        self._keep.append(value)

    # --- statements -------------------------------------------------------------------
    def compute(
        self,
        template: str,
        operands: list[Operand],
        value: Any,
        prefix: str = "v",
        *,
        kind: str = "op",
        in_place: bool = False,
        function: Callable | None = None,
        keywords: tuple[str, ...] = (),
    ) -> Value:
        """A value computed by ``template``.

        Hoisted to a constant when its operands are constants; the operand itself
        when the operation returned it unchanged; an earlier value when the same
        operation was already applied to the same operands (all operations are pure).
        ``in_place`` marks ``np.add(a, b, out=a)``: a new value in the old one's array.
        ``function`` and ``keywords`` say which call the template is, for native lowering.
        """
        if kind == "op" and not in_place:
            if all(is_constant(op) for op in operands):
                return self._constant(value)
            for op in operands:
                if isinstance(op, Value) and op.value is value:
                    op.fresh = False  # now held twice (add's VJP passes g to both operands)
                    return op
            key = (template, *(_identity(op) for op in operands))
            earlier = self._computed.get(key)
            if earlier is not None:
                earlier.fresh = False
                return earlier
        fresh = in_place or (
            type(value) is np.ndarray
            and value.base is None
            and id(value) not in self._arrays
            and all(value is not op.value for op in operands)
        )
        var = Value(self._name(prefix), value, kind, fresh)
        self.statements.append(Stmt(var, template, operands, function, keywords))
        self._remember(value, var)
        if kind == "op" and not in_place:
            self._computed[key] = var
        return var

    def effect(
        self,
        template: str,
        operands: list[Operand],
        function: Callable | None = None,
        arguments: tuple = (),
        touches: tuple = (),
    ) -> None:
        """An effect statement; ``function``, ``arguments`` and ``touches`` say what it
        calls, with what, and which tensors it changes (see :class:`Stmt`)."""
        self.statements.append(Stmt(None, template, operands, function, (), arguments, touches))

    def call(
        self, function: Callable, hint: str, args: list, params: dict, value: Any, prefix: str = "v"
    ) -> Value:
        """``function(*args, **params)`` as a statement."""
        fields = [f"{{{i}}}" for i in range(len(args))]
        fields += [f"{key}={{{len(args) + i}}}" for i, key in enumerate(params)]
        template = f"{self.bind(function, hint)}({', '.join(fields)})"
        operands = [*args, *params.values()]
        return self.compute(
            template, operands, value, prefix, function=function, keywords=tuple(params)
        )

    # --- inputs -----------------------------------------------------------------------
    def add_input(self, obj: Any, name: str) -> None:
        """Register argument ``name`` of the generated function (an array or a Tensor)."""
        self._keep.append(obj)
        if isinstance(obj, Tensor):
            data = obj._data
            var = Value(f"x{name[1:]}", data, "input")
            self.statements.append(Stmt(var, "{0}._data", [Literal(name, obj)]))
            self._tensors[id(obj)] = var
            self._inputs[id(obj)] = name
        else:
            data = obj
            var = Value(name, obj, "input")
        self._remember(data, var)
        self._input_arrays.append(data)

    # --- operands ---------------------------------------------------------------------
    def operand(self, value: Any) -> Operand:
        """What a value passed to a primitive is: a traced value, a number or a constant."""
        known = self._arrays.get(id(value)) if _followable(value) else None
        if known is not None:
            return known
        known = self._residuals.get(id(value))
        if known is not None:
            return known
        if isinstance(value, Tensor):
            return self.tensor(value)
        if isinstance(value, (np.ndarray, np.generic)):
            return self._untraced(value)
        if type(value) in (tuple, list):
            items = [self.operand(v) for v in value]
            return Expr(_sequence_template(len(items), type(value) is list), items, value)
        if isinstance(value, (float, complex)) and id(value) in self._numbers:
            return Expr("{0}.item()", [self._numbers[id(value)]], value)
        if value is None or isinstance(value, (bool, int, str)):
            return Literal(repr(value), value)
        if isinstance(value, float) and math.isfinite(value):
            return Literal(repr(value), value)
        return Literal(self.bind(value, "k", numbered=True), value)

    def tensor(self, tensor: Tensor) -> Value:
        """The traced value a Tensor holds: computed, an input, a live parameter or a constant."""
        known = self._tensors.get(id(tensor))
        if known is not None:
            return known
        data = tensor._data
        known = self._arrays.get(id(data)) if _followable(data) else None
        if known is not None:
            return known
        owner = self._grad_of.get(id(tensor))
        if owner is not None:
            ref = self.tensor_ref(owner)
            var = self.compute("{0}.grad._data", [ref], data, "grad", kind="live")
            self._tensors[id(tensor)] = var
            return var
        if tensor._seq < self._first_seq:
            return self._live(tensor, data)
        return self._untraced(data)

    def tensor_ref(self, tensor: Tensor) -> Literal:
        """The tensor object itself in the generated code: an argument or a bound constant."""
        name = self._inputs.get(id(tensor))
        if name is None:
            name = self.bind(tensor, "param" if tensor.requires_grad else "tensor", numbered=True)
        return Literal(name, tensor)

    def _live(self, tensor: Tensor, value: Any) -> Value:
        """A tensor that exists outside the function (a parameter): read at every call."""
        var = self.compute("{0}._data", [self.tensor_ref(tensor)], value, "p", kind="live")
        self._tensors[id(tensor)] = var
        self._keep.append(tensor)
        self._live_tensors.append((tensor, tensor.requires_grad))
        return var

    def guard_module(self, module: Any) -> None:
        """A module was called: its mode (train/eval) and its parameters and buffers, as
        objects, are part of what the program assumes."""
        self._modules.append(
            (
                module,
                module.training,
                tuple(module._parameters.values()),
                tuple(module._buffers.values()),
            )
        )

    def guards(self) -> Callable[[], bool]:
        """A check that what the trace assumed still holds: each live tensor's
        ``requires_grad``, each module's mode and the identity of its parameters and
        buffers. It runs at every call, so it is written out as code: one comparison
        per fact, in the order recorded."""
        first_calls: dict[int, tuple] = {}
        for entry in self._modules:  # a module called several times is checked once
            first_calls.setdefault(id(entry[0]), entry)
        scope: dict[str, Any] = {}
        checks = []
        for index, (tensor, requires_grad) in enumerate(self._live_tensors):
            scope[f"T{index}"] = tensor
            checks.append(f"T{index}.requires_grad is not {requires_grad}")
        for index, (module, training, params, buffers) in enumerate(first_calls.values()):
            scope[f"M{index}"] = module
            checks.append(f"M{index}.training is not {training}")
            for table, recorded in (("_parameters", params), ("_buffers", buffers)):
                held = f"M{index}.{table}"
                if not recorded:
                    checks.append(held)
                    continue
                name = f"{table[1]}{index}"
                scope[name] = recorded
                checks.append(f"len({held}) != {len(recorded)}")
                checks.append(f"not all(map(is_, {held}.values(), {name}))")
        lines = ["def valid():"]
        lines += [f"    if {check}:\n        return False" for check in checks]
        lines.append("    return True")
        scope["is_"] = is_
        exec(builtins.compile("\n".join(lines) + "\n", "<chainrule.compile guards>", "exec"), scope)
        return scope["valid"]

    def _untraced(self, value: Any) -> Value:
        """A value no traced operation made: a constant, unless it is a copy or a view of an
        input (made by NumPy outside chainrule), which would be frozen at trace time."""
        if isinstance(value, np.ndarray) and value.base is not None:
            root = engine.owner(value)
            for data in self._input_arrays:
                if isinstance(data, np.ndarray) and engine.owner(data) is root:
                    raise CompileError(
                        f"compile: a view of shape {value.shape} of an argument of "
                        f"{_describe(data)} was made outside chainrule operations (reshape, "
                        f"slicing, .T) near {user_line()}; the view would be frozen at trace "
                        "time. Pass the argument in the shape used, or work on it as a Tensor"
                    )
        if isinstance(value, np.ndarray) and value.size > 1:
            spread = value.min() != value.max() if value.dtype.kind in "biuf" else True
            for data in self._input_arrays:
                if (
                    spread
                    and isinstance(data, np.ndarray)
                    and data.shape == value.shape
                    and np.array_equal(data, value)
                ):
                    raise CompileError(
                        f"compile: an argument of {_describe(data)} was copied or converted "
                        f"to dtype {value.dtype} outside chainrule operations (np.array, "
                        "astype, cr.tensor) near "
                        f"{user_line()}; the converted copy would be frozen at trace time. "
                        f"Pass it as a {value.dtype} array already (class labels as np.intp)"
                    )
        return self._constant(value)

    def converted(self, tensor: Tensor, source: Any) -> None:
        """``tensor`` was made from ``source`` by a conversion or copy (``cr.tensor(x)``,
        ``Tensor(x, dtype=...)``): when the source is traced, so is the copy, recomputed
        at every call from the source instead of frozen at trace time."""
        if tensor._data is source or (isinstance(source, Tensor) and tensor._data is source._data):
            return  # no copy was made: the same value, found by identity
        if type(source) in (tuple, list):
            if self.holds_traced(source):
                self.refuse(
                    "a list of traced values converted to a tensor",
                    "use cr.stack, or pass Tensors (a list holding Tensors is stacked)",
                )
            return
        operand = self.operand(source)
        if not isinstance(operand, Value) or operand.kind == "const":
            return
        dtype = Literal(self.bind(tensor.dtype, str(tensor.dtype)), tensor.dtype)
        var = self.call(_convert, "convert", [operand, dtype], {}, tensor._data)
        self._tensors[id(tensor)] = var
        self._remember(tensor._data, var)
        self._keep.append(tensor)

    def is_traced(self, tensor: Tensor) -> bool:
        """Whether the tensor's value depends on the inputs or on live tensors."""
        return self.tensor(tensor).kind != "const"

    # --- the dispatcher's hook ------------------------------------------------------------
    def record(self, prim: Primitive, args: tuple, params: dict, result: Any, out: Tensor) -> None:
        """``apply`` ran ``prim``: write the call of its forward function down."""
        operands = [self.operand(a) for a in args]
        keywords = {key: self.operand(v) for key, v in params.items()}
        var = self.call(_forward_for(prim, args), prim.name, operands, keywords, result)
        value = out._data
        if prim.residuals:
            ans, res = result
            pair, var = var, self.compute("{0}[0]", [var], ans)
            if res is not None:
                # Residuals of any type (arrays, tuples, a Function's ctx) are followed by
                # identity, so the replayed rules get each call's own, never the trace's.
                self._residuals[id(res)] = self.compute("{0}[1]", [pair], res, "r")
                self._keep.append(res)
            result = ans
        if value is not result:
            var = self.call(_as_value, "as_value", [var], {}, value)
        if type(value) is np.bool_:
            # np.True_ and np.False_ are shared singletons: hold this result as its own 0-d
            # array, so a mask or index taken from it (t._data) is followed by identity.
            value = out._data = np.array(value)
        self._tensors[id(out)] = var
        self._remember(value, var)
        self._keep.append(out)

    # --- the recorder of engine.backprop ------------------------------------------------
    def start_backprop(self, root: Tensor, create_graph: bool) -> None:
        if create_graph:
            self.refuse(
                "a higher-order derivative (create_graph=True, grad of grad, or grad of "
                "Tensors that require grad)",
                "compile the first-order part",
            )
        self.effect(f"# backward of {self.tensor(root).name}", [])

    def vjp(self, node: Tensor, rule: Callable, g: Any, ans: Any, args: Any, params: dict) -> Any:
        """One VJP rule call of the sweep, computed and written down."""
        if id(node) not in self._tensors or node._seq < self._first_seq:
            raise CompileError(
                f"compile: the gradient flows into a {node._prim.name} of shape {node.shape} "
                f"computed outside the compiled function (at {user_line()}); pass its inputs "
                "as arguments instead"
            )
        # The operands are found through the node's input Tensors, not only their arrays:
        # values such as np.True_ cannot be told apart by identity.
        operands = [
            self.operand(g),
            self.tensor(node) if ans is node._data else self.operand(ans),
            *(
                self.tensor(inp)
                if isinstance(inp, Tensor) and value is inp._data
                else self.operand(value)
                for inp, value in zip(node._inputs, args, strict=True)
            ),
        ]
        keywords = {key: self.operand(v) for key, v in params.items()}
        with tracing(None):  # the rule is one opaque call of the program: not traced inside
            value = rule(g, ans, *args, **params)
        rules = node._prim.vjps
        argnum = (
            next((i for i, r in enumerate(rules) if r is rule), "") if type(rules) is tuple else ""
        )
        self.call(rule, f"{node._prim.name}_vjp{argnum}", operands, keywords, value, prefix="g")
        return value

    def fit(self, contribution: Any, data: Any) -> Any:
        """The engine's unbroadcast and cast, decided now and replayed by ``fit_to``."""
        shape, dtype = np.shape(data), data.dtype
        value = engine.fit_to(contribution, shape, dtype)
        dtype_literal = Literal(self.bind(dtype, str(dtype)), dtype)
        self.call(
            engine.fit_to,
            "fit_to",
            [self.operand(contribution), Literal(repr(shape), shape), dtype_literal],
            {},
            value,
            prefix="c",
        )
        return value

    def _owns(self, var: Operand) -> bool:
        return (
            isinstance(var, Value)
            and var.kind == "op"
            and var.fresh
            and id(var) not in self._handed_out
        )

    def add(self, previous: Any, contribution: Any) -> Any:
        """Sum two contributions: in place when the first is an array no one else holds."""
        first, second = self.operand(previous), self.operand(contribution)
        if (
            self._owns(first)
            and type(previous) is np.ndarray
            and previous.ndim
            and previous.flags.writeable
            and np.shape(contribution) == previous.shape
        ):
            np.add(previous, contribution, out=previous)
            template = "np.add({0}, {1}, out={0})"
            self.compute(template, [first, second], previous, "d", in_place=True, function=np.add)
            return previous
        value = previous + contribution
        self.compute("{0} + {1}", [first, second], value, "d", function=np.add)
        return value

    def accumulate(self, accumulate: Callable | None, node: Tensor, g: Any) -> None:
        """Hand a finished gradient to ``.grad`` with the engine's own accumulate function."""
        if accumulate is None:
            return
        if node._seq >= self._first_seq and id(node) not in self._inputs:
            raise CompileError(
                f"compile: backward() would write .grad of a tensor of shape {node.shape} made "
                f"inside the compiled function (at {user_line()}), which does not exist between "
                "calls; pass it as an argument, or use value_and_grad"
            )
        var = self.operand(g)
        owned = self._owns(var)
        if isinstance(var, Value):
            self._handed_out.add(id(var))
        ref = self.tensor_ref(node)
        name = self.bind(accumulate, "accumulate")
        self.effect(f"{name}({{0}}, {{1}}, {owned})", [ref, var], accumulate, (owned,), (node,))
        accumulate(node, g, owned)
        self._read_grad(node)

    def _read_grad(self, node: Tensor) -> None:
        """After ``.grad`` changed, its value is read from the tensor at run time."""
        grad = node.grad
        if grad is not None:
            self._forget(grad)
            self._grad_of[id(grad)] = node
            self._keep.append(grad)

    def set_grad(self, tensor: Tensor, value: Any) -> None:
        """``t.grad = None`` is replayed; any other value assigned to ``.grad`` is refused
        (a tensor bound into the program would be accumulated into across calls)."""
        if value is not None:
            self.refuse(
                f"assigning a tensor to .grad of a tensor of shape {tensor.shape}",
                "assign None, or call zero_grad(set_to_none=False) to get zeros",
            )
        if tensor._grad is not None:
            self._forget(tensor._grad)
            self._grad_of.pop(id(tensor._grad), None)
        self.effect("{0}.grad = None", [self.tensor_ref(tensor)], touches=(tensor,))

    def refuse_forward_mode(self) -> None:
        self.refuse(
            "forward mode (jvp, jacobian(mode='fwd'), hessian)", "use value_and_grad or backward()"
        )

    # --- effects, exports and refusals -------------------------------------------------
    def effect_call(self, function: Callable, args: tuple, tensors: list) -> None:
        """``function(*args)`` (an optimizer step, a zero_grad) as a statement; then run it.

        It runs with the trace paused, and the values of ``tensors`` (the parameters
        whose values and gradients it may change) are read again afterwards.
        """
        texts = [
            repr(arg)
            if arg is None or isinstance(arg, (bool, int))
            else self.bind(arg, "arg", numbered=True)
            for arg in args
        ]
        owner = getattr(function, "__self__", None)
        if owner is not None:  # a bound method: owner.method(...)
            owner_name = self.bind(owner, type(owner).__name__.lower(), numbered=True)
            callee = f"{owner_name}.{function.__name__}"
        else:
            callee = self.bind(function, getattr(function, "__name__", "effect"))
        self.effect(f"{callee}({', '.join(texts)})", [], function, tuple(args), tuple(tensors))
        with tracing(None):
            function(*args)
        for tensor in tensors:
            self._forget(tensor)
            self._read_grad(tensor)

    def _forget(self, tensor: Tensor) -> None:
        """After an in-place update the tensor's value must be read again."""
        var = self._tensors.pop(id(tensor), None)
        if var is not None and self._arrays.get(id(var.value)) is var:
            del self._arrays[id(var.value)]
        self._arrays.pop(id(tensor._data), None)

    def write(self, tensor: Tensor, source: Any, what: str) -> None:
        """An in-place write: fine into a constant made here from constants, else refused."""
        if self.is_traced(tensor) or (source is not None and self.holds_traced(source)):
            self.refuse(
                f"{what}, an in-place update of a tensor of shape {tensor.shape} "
                + (
                    "that the compiled program computes or reads"
                    if self.is_traced(tensor)
                    else "with a traced value"
                )
                + ",",
                "only optimizer.step() and zero_grad() updates are replayed; write t = t + 1, "
                "not t += 1, or build the tensor with cr.where or cr.stack",
            )
        self._forget(tensor)

    def holds_traced(self, value: Any) -> bool:
        """Whether ``value`` (a Tensor, an array, or a list, tuple or dict of them) holds a
        value that depends on the inputs or on live tensors."""
        if isinstance(value, Tensor):
            return self.is_traced(value)
        if type(value) in (tuple, list):
            return any(self.holds_traced(v) for v in value)
        if type(value) is dict:
            return any(self.holds_traced(v) for v in value.values())
        known = self._arrays.get(id(value)) if _followable(value) else None
        return known is not None and known.kind != "const"

    def export(self, source: Any, exported: Any) -> None:
        """A transform handed ``exported`` (an array or a Python number) out of ``source``."""
        if isinstance(exported, (float, complex)):
            var = self.operand(source)
            if isinstance(var, Value):
                self._numbers[id(exported)] = var
                self._keep.append(exported)

    def escape(self, tensor: Tensor, what: str) -> None:
        """Refuse ``what`` (float(), .item(), np.asarray, ...) on a traced tensor."""
        if self.is_traced(tensor):
            self.refuse(
                f"{what} of a traced tensor of shape {tensor.shape}",
                "its value differs at every call, so it cannot leave the compiled program for "
                "Python (no float/int/bool/item/np.asarray/.data, no `if` on it); use chainrule "
                "operations such as cr.where, or keep this part eager",
            )

    def refuse(self, what: str, advice: str) -> None:
        raise CompileError(f"compile: {what} at {user_line()} cannot be compiled; {advice}")

    # --- outputs ------------------------------------------------------------------------
    def output(self, obj: Any) -> Operand:
        """The expression that rebuilds the function's result from traced values."""
        if isinstance(obj, Tensor):
            owner = self._grad_of.get(id(obj))
            if owner is not None:
                return Expr("{0}.grad", [self.tensor_ref(owner)], obj)
            if obj._seq < self._first_seq and id(obj) not in self._inputs:
                return Literal(self.bind(obj, "tensor", numbered=True), obj)
            return Expr("Tensor({0})", [self._owned_copy(self.tensor(obj))], obj)
        if isinstance(obj, (np.ndarray, np.generic)):
            return self._owned_copy(self.operand(obj))
        if type(obj) in (tuple, list):
            items = [self.output(v) for v in obj]
            return Expr(_sequence_template(len(items), type(obj) is list), items, obj)
        if type(obj) is dict:
            keys = [repr(k).replace("{", "{{").replace("}", "}}") for k in obj]
            items = [self.output(v) for v in obj.values()]
            fields = ", ".join(f"{k}: {{{i}}}" for i, k in enumerate(keys))
            return Expr("{{" + fields + "}}", items, obj)
        return self.operand(obj)

    @staticmethod
    def _owned_copy(var: Operand) -> Operand:
        """Constants are shared between calls: hand out copies of them."""
        if isinstance(var, Value) and var.kind == "const" and isinstance(var.value, np.ndarray):
            return Expr("{0}.copy()", [var], var.value)
        return var

    # --- running ------------------------------------------------------------------------
    def run(self, fn: Callable, args: tuple, kwargs: dict) -> tuple[Any, Operand]:
        """Call ``fn`` once with this tracer as the context's trace; the result and its code."""
        with tracing(self):
            result = fn(*args, **kwargs)
            expression = self.output(result)
        return result, expression


def _forward_for(prim: Primitive, args: tuple) -> Callable[..., Any]:
    """The forward ``apply`` ran: NumPy's, or the one for the operands' array library."""
    space = backend.namespace(*(a._data if isinstance(a, Tensor) else a for a in args))
    return prim.forward if space is np else prim.forward_on(space)


def _convert(value: Any, dtype: np.dtype) -> Any:
    """A converted copy of a traced value, held as a tensor holds it (0-d as a NumPy scalar)."""
    return _as_value(np.array(value, dtype=dtype))


def _identity(operand: Operand) -> Any:
    """What makes two operands the same: the value itself, or the source text."""
    if isinstance(operand, Value):
        return id(operand)
    if isinstance(operand, Literal):
        return operand.text
    return (operand.template, *(_identity(item) for item in operand.items))


def _sequence_template(length: int, is_list: bool) -> str:
    """``[{0}, {1}]`` or ``({0}, {1})`` (``({0},)`` for one item)."""
    fields = ", ".join(f"{{{i}}}" for i in range(length))
    return f"[{fields}]" if is_list else f"({fields}{',' * (length == 1)})"
