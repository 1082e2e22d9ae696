"""Tracing: run a function once, eagerly, and record the program it computed.

Layer: jit (imports core, tensor, functions, api, nn and optim; nothing imports it
but :mod:`chainrule.jit`).

While a :class:`Tracer` is active it observes the engine at the few places every
computation passes through, and puts each back when the trace ends:

- each registered primitive's ``forward`` (every operation, recorded or not);
- ``Tensor._data`` (which tensor an array belongs to, and which tensor a result
  becomes);
- ``engine.backprop`` (a reverse sweep: replaced by one that writes the sweep out
  as statements calling the primitives' own VJP rules, with broadcasting undone
  and dtypes fixed at trace time, and computes the same numbers while tracing);
- ``Optimizer.step`` / ``zero_grad`` and ``Module.zero_grad`` (replayed as calls);
- ``Tensor.item``, ``api._export`` and ``functions.compare`` (numbers and masks
  read from traced values);
- ``Tensor.data``, ``Tensor._writable`` and ``engine.push_tangents`` (to refuse, with
  a clear error, what cannot be replayed).

Values are identified by object identity: every array seen is kept alive until
the trace ends, so no ``id`` is reused.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .. import api
from .. import functions as F
from ..core import engine
from ..core.mode import grad_enabled
from ..core.primitive import PRIMITIVES, Primitive, Traceable
from ..errors import CompileError
from ..nn.module import Module
from ..optim.optimizer import Optimizer
from ..random import default_generator
from ..tensor import Tensor
from .program import Expr, Literal, Operand, Stmt, Value, is_constant


class _Record:
    """How the engine computed a tensor: primitive, operands, params and result."""

    __slots__ = ("prim", "operands", "params", "out")

    def __init__(self, prim: Primitive, operands: list, params: dict, out: Value) -> None:
        self.prim = prim
        self.operands = operands
        self.params = params
        self.out = out


def _describe(value: Any) -> str:
    return f"shape {np.shape(value)} and dtype {np.result_type(value)}"


_active: list[Tracer] = []


def tracing() -> bool:
    """True while a function is being traced."""
    return bool(_active)


class Tracer:
    """Records one eager run of a function as straight-line statements."""

    def __init__(self) -> None:
        self.statements: list[Stmt] = []
        self.namespace: dict[str, Any] = {"np": np, "Tensor": Tensor}
        self.recording = False
        self._bound: dict[int, str] = {}
        self._counts: dict[str, int] = {}
        self._env: dict[int, Value] = {}  # id(array) -> the value it is
        self._tensor_values: dict[int, Value] = {}  # id(Tensor) -> its current value
        self._records: dict[int, _Record] = {}  # id(Tensor) -> how it was computed
        self._created: set[int] = set()  # tensors given a value during the trace
        self._numbers: dict[int, Value] = {}  # id(Python number) -> value it was read from
        self._input_tensors: dict[int, str] = {}  # id(Tensor argument) -> parameter name
        self._inputs: list[Any] = []
        self._handed_out: set[int] = set()
        self._computed: dict[tuple, Value] = {}  # (template, operands) -> value, for reuse
        self._keep: list[Any] = []
        self._reads: list[tuple[Any, Any]] = []
        self._pending: tuple[Any, Value, _Record] | None = None
        self._depth = 0
        self._escape: str | None = None
        self._saved: list[tuple[Any, str, Any]] = []

    # --- names and constants --------------------------------------------------------
    def _name(self, prefix: str) -> str:
        count = self._counts.get(prefix, 0)
        self._counts[prefix] = count + 1
        return f"{prefix}{count}"

    def bind(self, obj: Any, hint: str) -> str:
        """A name in the generated code's namespace for ``obj`` (one name per object)."""
        name = self._bound.get(id(obj))
        if name is None:
            name = hint if hint not in self.namespace else self._name(hint + "_")
            self.namespace[name] = obj
            self._bound[id(obj)] = name
            self._keep.append(obj)
        return name

    def _constant(self, value: Any) -> Value:
        known = self._env.get(id(value))
        if known is not None and known.kind == "const":
            return known
        var = Value(self.bind(value, self._name("K")), value, "const")
        self._remember(value, var)
        return var

    def _remember(self, value: Any, var: Value) -> None:
        self._env[id(value)] = var
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
    ) -> Value:
        """A value computed by ``template``.

        Hoisted to a constant when its operands are constants; the operand itself
        when the operation returned it unchanged; an earlier value when the same
        operation was already applied to the same operands (all operations are pure).
        ``in_place`` marks ``np.add(a, b, out=a)``: a new value in the old one's array.
        """
        if kind == "op" and not in_place:
            if all(is_constant(op) for op in operands):
                return self._constant(value)
            for op in operands:
                if isinstance(op, Value) and op.value is value:
                    return op
            key = (template, *(_identity(op) for op in operands))
            earlier = self._computed.get(key)
            if earlier is not None:
                earlier.fresh = False
                return earlier
        fresh = in_place or (
            type(value) is np.ndarray
            and value.base is None
            and id(value) not in self._env
            and all(value is not op.value for op in operands)
        )
        var = Value(self._name(prefix), value, kind, fresh)
        self.statements.append(Stmt(var, template, operands))
        self._remember(value, var)
        if kind == "op" and not in_place:
            self._computed[key] = var
        return var

    def effect(self, template: str, operands: list[Operand]) -> None:
        self.statements.append(Stmt(None, template, operands))

    def call(
        self, function: Callable, hint: str, args: list, params: dict, value: Any, prefix: str = "v"
    ) -> Value:
        """``function(*args, **params)`` as a statement."""
        fields = [f"{{{i}}}" for i in range(len(args))]
        fields += [f"{key}={{{len(args) + i}}}" for i, key in enumerate(params)]
        template = f"{self.bind(function, hint)}({', '.join(fields)})"
        return self.compute(template, [*args, *params.values()], value, prefix)

    # --- inputs -----------------------------------------------------------------------
    def add_input(self, obj: Any, name: str) -> None:
        """Register argument ``name`` of the generated function (an array or a Tensor)."""
        self._keep.append(obj)
        if isinstance(obj, Tensor):
            data = _MEMBER.__get__(obj)
            var = Value(f"x{name[1:]}", data, "input")
            self.statements.append(Stmt(var, "{0}._data", [Literal(name, obj)]))
            self._tensor_values[id(obj)] = var
            self._input_tensors[id(obj)] = name
        else:
            data = obj
            var = Value(name, obj, "input")
        self._remember(data, var)
        self._inputs.append(data)

    # --- operands ---------------------------------------------------------------------
    def operand(self, value: Any) -> Operand:
        """What a value passed to a primitive is: a traced value, a number or a constant."""
        if isinstance(value, (np.ndarray, np.generic)):
            return self.array(value)
        if isinstance(value, Traceable):
            return self.tensor(value)
        if type(value) in (tuple, list):
            items = [self.operand(v) for v in value]
            return Expr(_sequence_template(len(items), type(value) is list), items, value)
        if isinstance(value, (float, complex)) and id(value) in self._numbers:
            return Expr("{0}.item()", [self._numbers[id(value)]], value)
        if value is None or isinstance(value, (bool, int, str)):
            return Literal(repr(value), value)
        if isinstance(value, float) and math.isfinite(value):
            return Literal(repr(value), value)
        return Literal(self.bind(value, self._name("k")), value)

    def array(self, value: Any) -> Value:
        """The traced value an array is, found through the tensor it was read from."""
        tensor = next((t for t, v in reversed(self._reads) if v is value), None)
        if tensor is not None:
            known = self._tensor_values.get(id(tensor))
            if known is not None:
                return known
        known = self._env.get(id(value))
        if known is not None:
            return known
        if tensor is not None and id(tensor) not in self._created:
            return self._live(tensor, value)
        return self._untraced(value)

    def tensor(self, tensor: Tensor) -> Value:
        known = self._tensor_values.get(id(tensor))
        if known is not None:
            return known
        value = _MEMBER.__get__(tensor)
        known = self._env.get(id(value))
        if known is not None:
            return known
        if id(tensor) not in self._created:
            return self._live(tensor, value)
        return self._untraced(value)

    def tensor_ref(self, tensor: Tensor) -> Literal:
        """The tensor object itself in the generated code: an argument or a bound constant."""
        name = self._input_tensors.get(id(tensor))
        if name is None:
            name = self.bind(tensor, self._name("param" if tensor.requires_grad else "tensor"))
        return Literal(name, tensor)

    def _live(self, tensor: Tensor, value: Any) -> Value:
        """A tensor that exists outside the function (a parameter): read at every call."""
        var = self.compute("{0}._data", [self.tensor_ref(tensor)], value, "p", kind="live")
        self._tensor_values[id(tensor)] = var
        return var

    def _untraced(self, value: Any) -> Value:
        """An array no traced operation made: a constant, unless it came from the inputs."""
        if self._escape is not None and np.ndim(value) > 0:
            raise CompileError(
                f"compile: an array of {_describe(value)} reaches a chainrule operation but "
                f"was not computed by one, after {self._escape}; raw NumPy on traced values "
                "would be frozen at trace time. Use chainrule operations (x > 0, cr.where, ...)"
            )
        if isinstance(value, np.ndarray) and value.size > 1:
            spread = value.min() != value.max() if value.dtype.kind in "biuf" else True
            for data in self._inputs:
                if (
                    spread
                    and isinstance(data, np.ndarray)
                    and data.shape == value.shape
                    and np.array_equal(data, value)
                ):
                    raise CompileError(
                        f"compile: an argument of {_describe(data)} was copied or converted "
                        f"to dtype {value.dtype} outside chainrule operations (np.asarray, "
                        "astype, cr.tensor); the converted copy would be frozen at trace time. "
                        f"Pass it as a {value.dtype} array already (class labels as np.intp)"
                    )
        return self._constant(value)

    # --- the hooks ----------------------------------------------------------------------
    def _forward(self, prim: Primitive, original: Callable) -> Callable:
        # A primitive with residuals is traced for its answer; its rules recompute (res=None).
        traced = _answer_of(original) if prim.residuals else original

        def forward(*args: Any, **params: Any) -> Any:
            if not self.recording or self._depth:
                return original(*args, **params)
            self._pending = None
            operands = [self.operand(a) for a in args]
            kwargs = {key: self.operand(v) for key, v in params.items()}
            self._reads.clear()
            self._depth += 1
            try:
                result = original(*args, **params)
            finally:
                self._depth -= 1
            ans = result[0] if prim.residuals else result
            var = self.call(traced, prim.name, operands, kwargs, ans)
            self._pending = (ans, var, _Record(prim, operands, kwargs, var))
            return result

        return forward

    def _read_data(self, tensor: Tensor) -> Any:
        value = _MEMBER.__get__(tensor)
        if self.recording:
            self._reads.append((tensor, value))
        return value

    def _write_data(self, tensor: Tensor, value: Any) -> None:
        if self.recording:
            self._on_write(tensor, value)
        _MEMBER.__set__(tensor, value)

    def _on_write(self, tensor: Tensor, value: Any) -> None:
        """A tensor gets a value: a result of the forward call just traced, or a new tensor."""
        try:
            _MEMBER.__get__(tensor)
            existed = True
        except AttributeError:
            existed = False
        if existed and id(tensor) not in self._created:
            raise CompileError(
                f"compile: the function assigns a new value to a tensor of shape {tensor.shape} "
                "that exists outside it (t.data = ...); only optimizer.step() updates are replayed"
            )
        self._created.add(id(tensor))
        self._keep.append(tensor)
        pending, self._pending = self._pending, None
        if pending is not None and _same_result(pending[0], value):
            self._tensor_values[id(tensor)] = pending[1]
            self._records[id(tensor)] = pending[2]
            return
        known = self._env.get(id(value))
        if known is not None:
            self._tensor_values[id(tensor)] = known
        else:
            self._tensor_values.pop(id(tensor), None)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Run library code (an optimizer step, a VJP rule) without recording it."""
        recording, self.recording = self.recording, False
        try:
            yield
        finally:
            self.recording = recording

    def _backprop(
        self,
        root: Tensor,
        seed: Any,
        inputs: list[Tensor] | None = None,
        *,
        create_graph: bool = False,
        retain_graph: bool | None = None,
        accumulate: Callable | None = None,
    ) -> list[Any] | None:
        """engine.backprop, written out as statements (same order, same rules, same sums)."""
        if create_graph:
            raise CompileError(
                "compile: higher-order derivatives (create_graph=True, grad of grad, grad of "
                "Tensors that require grad) cannot be compiled; compile the first-order part"
            )
        stops = frozenset(inputs) if inputs is not None else frozenset()
        order = engine.toposort([root], stops)
        needed = engine._needed(order, stops) if inputs is not None else None
        adjoints: dict[Tensor, Value] = {root: self.array(seed)}
        results: dict[Tensor, Value] = {}
        self.effect(f"# backward of {self.tensor(root).name}", [])
        with self.paused():
            for node in order:
                g = adjoints.pop(node, None)
                if node in stops:
                    results[node] = g
                    continue
                if node._prim is None or node._retain:
                    if g is not None and accumulate is not None:
                        self._accumulate(node, g, accumulate)
                    if node._prim is None:
                        continue
                if g is None:
                    continue
                self._check_versions(node)
                record = self._records.get(id(node))
                if record is None:
                    raise CompileError(
                        f"compile: the gradient flows into a {node._prim.name} of shape "
                        f"{node.shape} computed outside the compiled function; pass its "
                        "inputs as arguments instead"
                    )
                for argnum, inp in enumerate(node._inputs):
                    if not isinstance(inp, Traceable) or not inp.requires_grad:
                        continue
                    if needed is not None and inp not in needed:
                        continue
                    rule = record.prim.vjp(argnum)
                    if rule is None:
                        continue
                    if record.prim.residuals:
                        rule = functools.partial(rule, res=None)
                    c = self._contribution(record, argnum, rule, g, _MEMBER.__get__(inp))
                    previous = adjoints.get(inp)
                    adjoints[inp] = c if previous is None else self._add(previous, c)
                if not retain_graph:
                    node._inputs = node._values = None
        if inputs is None:
            return None
        return [None if results.get(x) is None else results[x].value for x in inputs]

    def _check_versions(self, node: Tensor) -> None:
        if engine.modified(node):
            raise CompileError(
                f"compile: a value needed to differentiate {node._prim.name} was modified in "
                "place after it was used (between the forward pass and backward())"
            )

    def _contribution(
        self, record: _Record, argnum: int, rule: Callable, g: Value, data: Any
    ) -> Value:
        """One VJP rule call, then the sum over broadcast axes and the cast, decided now."""
        operands = [g, record.out, *record.operands]
        params = {key: op.value for key, op in record.params.items()}
        with _grad_mode(False):
            value = rule(*(op.value for op in operands), **params)
        hint = f"{record.prim.name}_vjp{argnum}"
        c = self.call(rule, hint, operands, record.params, value, prefix="g")
        shape = np.shape(data)
        if c.value.shape != shape:
            axes = engine.broadcast_axes(c.value.shape, shape)
            if axes:
                c = self.compute(f"{{0}}.sum(axis={axes!r})", [c], c.value.sum(axis=axes), "c")
            if c.value.shape != shape:
                c = self.compute(f"{{0}}.reshape({shape!r})", [c], c.value.reshape(shape), "c")
        if c.value.dtype != data.dtype:
            dtype = Literal(self.bind(data.dtype, str(data.dtype)), data.dtype)
            c = self.compute("{0}.astype({1})", [c, dtype], c.value.astype(data.dtype), "c")
        return c

    def _owns(self, var: Value) -> bool:
        return var.kind == "op" and var.fresh and id(var) not in self._handed_out

    def _add(self, previous: Value, c: Value) -> Value:
        """Sum two contributions: in place when the first is an array no one else holds."""
        value = previous.value
        if self._owns(previous) and value.ndim and value.flags.writeable:
            np.add(value, c.value, out=value)
            template = "np.add({0}, {1}, out={0})"
            return self.compute(template, [previous, c], value, "d", in_place=True)
        return self.compute("{0} + {1}", [previous, c], value + c.value, "d")

    def _accumulate(self, node: Tensor, g: Value, accumulate: Callable) -> None:
        """Hand a finished gradient to ``.grad`` with the engine's own accumulate function."""
        if id(node) in self._created and id(node) not in self._input_tensors:
            raise CompileError(
                f"compile: backward() would write .grad of a tensor of shape {node.shape} made "
                "inside the compiled function, which does not exist between calls; pass it as "
                "an argument, or use value_and_grad"
            )
        owned = self._owns(g)
        self._handed_out.add(id(g))
        ref = self.tensor_ref(node)
        name = self.bind(accumulate, "accumulate")
        self.effect(f"{name}({{0}}, {{1}}, {owned})", [ref, g])
        accumulate(node, g.value, owned)
        grad = node.grad
        var = self.compute("{0}.grad._data", [ref], _MEMBER.__get__(grad), "grad", kind="live")
        self._tensor_values[id(grad)] = var
        # Made by this call: returned, it is rebuilt from the value read at run time.
        self._created.add(id(grad))
        self._keep.append(grad)

    def _forget(self, tensor: Tensor) -> None:
        """After an in-place update the tensor's value must be read again."""
        var = self._tensor_values.pop(id(tensor), None)
        if var is not None and self._env.get(id(var.value)) is var:
            del self._env[id(var.value)]

    def _number(self, source: Any, result: Any) -> Any:
        """Remember that a Python number was read from a traced value."""
        if self.recording and isinstance(result, (float, complex)):
            var = self.tensor(source) if isinstance(source, Tensor) else self.array(source)
            self._numbers[id(result)] = var
            self._keep.append(result)
        return result

    def _same_value(self, tensor: Tensor, array: Any) -> None:
        """``.data`` of a tensor holding a NumPy scalar is a new 0-d array: the same value."""
        if self.recording and id(array) not in self._env:
            var = self.tensor(tensor)
            if id(array) not in self._env:
                self._remember(array, var)

    def _escaped(self, tensor: Tensor) -> None:
        var = self._tensor_values.get(id(tensor))
        if self.recording and var is not None and var.kind == "op" and self._escape is None:
            self._escape = f"the value of a tensor of shape {tensor.shape} was read with .data"

    # --- outputs ------------------------------------------------------------------------
    def output(self, obj: Any) -> Operand:
        """The expression that rebuilds the function's result from traced values."""
        if isinstance(obj, Tensor):
            if id(obj) not in self._created and id(obj) not in self._input_tensors:
                return Literal(self.bind(obj, self._name("tensor")), obj)
            return Expr("Tensor({0})", [self._owned_copy(self.tensor(obj))], obj)
        if isinstance(obj, (np.ndarray, np.generic)):
            return self._owned_copy(self.array(obj))
        if type(obj) in (tuple, list):
            items = [self.output(v) for v in obj]
            return Expr(_sequence_template(len(items), type(obj) is list), items, obj)
        if type(obj) is dict:
            keys = [repr(k).replace("{", "{{").replace("}", "}}") for k in obj]
            items = [self.output(v) for v in obj.values()]
            fields = ", ".join(f"{k}: {{{i}}}" for i, k in enumerate(keys))
            return Expr("{{" + fields + "}}", items, obj)
        if isinstance(obj, (float, complex)) and id(obj) in self._numbers:
            return Expr("{0}.item()", [self._numbers[id(obj)]], obj)
        if isinstance(obj, float) and any(v.kind != "const" for v in self._numbers.values()):
            raise CompileError(
                "compile: the function returns a Python number computed from traced values "
                "outside chainrule operations (arithmetic on .item()); return the Tensor instead"
            )
        return self.operand(obj)

    @staticmethod
    def _owned_copy(var: Value) -> Operand:
        """Constants are shared between calls: hand out copies of them."""
        if var.kind == "const" and isinstance(var.value, np.ndarray):
            return Expr("{0}.copy()", [var], var.value)
        return var

    # --- running ------------------------------------------------------------------------
    def run(self, fn: Callable, args: tuple, kwargs: dict) -> tuple[Any, Operand]:
        """Call ``fn`` once with every hook installed; the result and its expression."""
        generator = default_generator()
        state = generator.bit_generator.state
        self._install()
        _active.append(self)
        self.recording = True
        try:
            result = fn(*args, **kwargs)
            self._reads.clear()
            expression = self.output(result)
        finally:
            self.recording = False
            _active.pop()
            self._uninstall()
        if default_generator() is not generator or generator.bit_generator.state != state:
            raise CompileError(
                "compile: the function draws random numbers (Dropout in training mode, "
                "random masks); they would be frozen at trace time. Use model.eval(), or "
                "keep this step eager"
            )
        return result, expression

    def _patch(self, owner: Any, name: str, replacement: Any) -> None:
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        self._saved.append((owner, name, original))
        setattr(owner, name, replacement)

    def _uninstall(self) -> None:
        while self._saved:
            owner, name, original = self._saved.pop()
            setattr(owner, name, original)

    def _install(self) -> None:
        for prim in PRIMITIVES.values():
            self._patch(prim, "forward", self._forward(prim, prim.forward))
        self._patch(Tensor, "_data", property(self._read_data, self._write_data))
        data = Tensor.__dict__["data"]

        def read_public(tensor: Tensor) -> Any:
            self._escaped(tensor)
            value = data.fget(tensor)
            self._same_value(tensor, value)
            return value

        self._patch(Tensor, "data", property(read_public, data.fset, doc=data.__doc__))
        self._patch(Tensor, "numpy", self._wrap(Tensor.numpy, before=self._escaped))
        self._patch(Tensor, "item", self._wrap(Tensor.item, after=self._number))
        self._patch(Tensor, "_writable", self._wrap(Tensor._writable, before=self._refuse_write))
        self._patch(engine, "backprop", self._backprop)
        self._patch(engine, "push_tangents", _refuse_forward_mode)
        self._patch(api, "_export", self._wrap_export(api._export))
        self._patch(F, "compare", self._wrap_compare(F.compare))
        self._patch(Optimizer, "step", self._wrap_step(Optimizer.step))
        self._patch(Optimizer, "zero_grad", self._wrap_zero_grad(Optimizer.zero_grad, "optimizer"))
        self._patch(Module, "zero_grad", self._wrap_zero_grad(Module.zero_grad, "model"))

    def _wrap(
        self, method: Callable, before: Callable | None = None, after: Callable | None = None
    ) -> Callable:
        @functools.wraps(method)
        def wrapper(tensor: Tensor, *args: Any, **kwargs: Any) -> Any:
            if before is not None and self.recording:
                before(tensor)
            result = method(tensor, *args, **kwargs)
            return after(tensor, result) if after is not None else result

        return wrapper

    def _refuse_write(self, tensor: Tensor) -> None:
        raise CompileError(
            f"compile: in-place update of a tensor of shape {tensor.shape} inside the compiled "
            "function; only optimizer.step() updates are replayed (write t = t + 1, not t += 1)"
        )

    def _wrap_export(self, original: Callable) -> Callable:
        def export(value: Any, nested: bool) -> Any:
            return self._number(value, original(value, nested))

        return export

    def _wrap_compare(self, original: Callable) -> Callable:
        def compare(ufunc: np.ufunc, x: Any, y: Any) -> Tensor:
            if not self.recording:
                return original(ufunc, x, y)
            operands = [self.operand(x), self.operand(y)]
            result = original(ufunc, x, y)
            mask = _MEMBER.__get__(result)
            self._tensor_values[id(result)] = self.call(ufunc, ufunc.__name__, operands, {}, mask)
            return result

        return compare

    def _wrap_step(self, original: Callable) -> Callable:
        def step(optimizer: Optimizer, closure: Callable | None = None) -> Any:
            if not self.recording:
                return original(optimizer, closure)
            if closure is not None:
                raise CompileError("compile: optimizer.step(closure) cannot be compiled")
            ref = Literal(self.bind(optimizer, self._name("optimizer")), optimizer)
            self.effect("{0}.step()", [ref])
            with self.paused():
                original(optimizer)
            for group in optimizer.param_groups:
                for param in group["params"]:
                    self._forget(param)
            return None

        return step

    def _wrap_zero_grad(self, original: Callable, hint: str) -> Callable:
        def zero_grad(owner: Any, set_to_none: bool = True) -> None:
            if not self.recording:
                return original(owner, set_to_none)
            ref = Literal(self.bind(owner, self._name(hint)), owner)
            self.effect(f"{{0}}.zero_grad({bool(set_to_none)})", [ref])
            with self.paused():
                original(owner, set_to_none)
            return None

        return zero_grad


_MEMBER = Tensor.__dict__["_data"]


def _identity(operand: Operand) -> Any:
    """What makes two operands the same: the value itself, or the source text."""
    if isinstance(operand, Value):
        return id(operand)
    if isinstance(operand, Literal):
        return operand.text
    return (operand.template, *(_identity(item) for item in operand.items))


def _answer_of(forward: Callable) -> Callable:
    """A residual-saving forward that returns its answer alone."""

    def answer(*args: Any, **params: Any) -> Any:
        return forward(*args, **params)[0]

    return answer


def _same_result(ans: Any, value: Any) -> bool:
    """Whether ``value``, stored by apply, is the forward result ``ans`` (or its 0-d array)."""
    if value is ans:
        return True
    if type(ans) is np.ndarray or np.ndim(value) != 0:
        return False
    return np.array_equal(ans, value, equal_nan=True)


def _sequence_template(length: int, is_list: bool) -> str:
    """``[{0}, {1}]`` or ``({0}, {1})`` (``({0},)`` for one item)."""
    fields = ", ".join(f"{{{i}}}" for i in range(length))
    return f"[{fields}]" if is_list else f"({fields}{',' * (length == 1)})"


def _refuse_forward_mode(*args: Any, **kwargs: Any) -> Any:
    raise CompileError(
        "compile: forward mode (jvp, jacobian(mode='fwd'), hessian) cannot be compiled yet; "
        "use value_and_grad or backward()"
    )


_grad_mode = grad_enabled
