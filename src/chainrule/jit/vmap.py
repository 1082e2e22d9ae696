"""chainrule.vmap: a function of one example turned into one of a batch, by batching rules.

Layer: jit (imports core, ops, tensor, the api's transform depth, the program builder
and the tracer; nothing in chainrule imports it but the package's ``__init__``).

Design: trace once, replay batched. The first call with a new input signature (shapes,
dtypes and batch axes of the array arguments, values of the others, grad mode, default
dtype) runs ``f`` eagerly on example 0 while a :class:`BatchTracer` is the current trace
of this context: a mode of the dispatcher, as ``chainrule.compile``'s tracer is (nothing
is patched). It follows which values depend on the batched inputs and writes each
primitive application down as one call of that primitive's ``batch`` rule (the rule gets
``batched`` flags and operands whose batch axis is axis 0) or, for values that depend on
no batched input, of the primitive itself. Gradient transforms inside ``f`` record their
backward pass as primitives too (``grad``, ``jvp``, ``hessian``, ``hvp`` all work inside),
so ``vmap(grad(f))`` batches the backward pass: per-example gradients in one sweep. The
record becomes straight-line Python (the compiler's code generator), cached per
signature; later calls run only it: one vectorized call per primitive.

The generated code runs on arrays, or on Tensors when an argument is one or another
transform or trace is running, so ``grad`` of a vmapped function, ``compile(vmap(f))``,
``vmap(vmap(f))`` and ``jacobian(vmap(f))`` record the batched calls like any others.

An entry without a batching rule (a ``custom_op``), or one applied with a parameter that
differs per example (class-index targets of ``cross_entropy`` taken from a batched
argument, an index computed from batched values), runs once per example: a Python loop
over the examples, then one ``stack``. Correct, but not fast.

As in JAX, a value that depends on the inputs cannot leave for Python: ``if``/``while``
on it, ``float()``, ``.item()``, ``np.asarray`` raise :class:`~chainrule.errors.VmapError`
(one example's value must never decide for all). So do in-place writes, ``backward()``
(use ``grad``), optimizer steps and random draws. Tensors from outside ``f`` (a model's
parameters) are read at every call, as in ``chainrule.compile``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..api import _DEPTH
from ..core.backend import NUMPY_TYPES, device_of, xp
from ..core.engine import owner
from ..core.mode import current_trace, is_grad_enabled, tracing
from ..core.primitive import Primitive
from ..errors import CompileError, DeviceError, ShapeError, VmapError
from ..ops import shape as shape_ops
from ..tensor import Tensor, get_default_dtype
from .program import Expr, Literal, Operand, Program, Value, generate, uses
from .trace import Tracer, user_line

__all__ = ["vmap"]


def per_example(prim: Primitive, params_batched: tuple[tuple[str, Any], ...]) -> Callable[..., Any]:
    """The fallback batching rule: ``prim`` once per example, then one stack.

    ``params_batched`` pairs each parameter that carries a batch axis with True, or, for
    a tuple parameter (an index), with a tuple saying which of its items do.
    """
    batched_params = dict(params_batched)

    def loop(batched: Sequence[bool], *args: Any, **params: Any) -> Any:
        flagged = [(a, b) for a, b in zip(args, batched, strict=True)]
        for name, flags in batched_params.items():
            value = params[name]
            flagged += zip(value, flags, strict=True) if type(flags) is tuple else [(value, flags)]
        size = next(np.shape(value)[0] for value, flag in flagged if flag)
        results = []
        for k in range(size):
            example = [a[k] if b else a for a, b in zip(args, batched, strict=True)]
            chosen = {
                name: _slice_param(value, batched_params.get(name, False), k)
                for name, value in params.items()
            }
            results.append(prim.bind(*example, **chosen))
        return shape_ops.stack.bind(*results, axis=0)

    return loop


def _slice_param(value: Any, batched: Any, k: int) -> Any:
    """Example ``k`` of a parameter: sliced where it carries the batch axis."""
    if type(batched) is tuple:
        return type(value)(_slice_param(v, b, k) for v, b in zip(value, batched, strict=True))
    return value[k] if batched else value


class BatchTracer(Tracer):
    """A :class:`Tracer` that writes batched calls: it follows which values carry the
    batch axis and records each primitive with its batching rule (see the module)."""

    #: Rules run on Tensors here, and masks they compute from ``raw()`` must be recorded.
    detach_raw = True

    def __init__(self, function_name: str) -> None:
        super().__init__(function_name)
        self._batched: set[int] = set()  # ids of the Values that carry a batch axis
        self._owners: set[int] = set()  # ids of the arrays whose memory the inputs are views of

    # --- what is batched ------------------------------------------------------------
    def is_batched(self, operand: Operand) -> bool:
        return any(id(v) in self._batched for v in uses(operand))

    def _structure(self, operand: Operand) -> Any:
        """True/False for an operand, or per item for a tuple parameter (an index)."""
        if isinstance(operand, Expr) and operand.template.startswith("("):
            return tuple(self.is_batched(item) for item in operand.items)
        return self.is_batched(operand)

    def compute(self, template: str, operands: list[Operand], value: Any, prefix: str = "v", **kw):
        var = super().compute(template, operands, value, prefix, **kw)
        if var.kind != "const" and any(self.is_batched(op) for op in operands):
            self._batched.add(id(var))
        return var

    def add_example(self, example: Tensor, name: str, batched: bool) -> None:
        """Argument ``name`` of the generated function, standing for ``example`` here."""
        data = example._data
        var = Value(name, data, "input")
        self._tensors[id(example)] = var
        self._remember(data, var)
        self._keep.append(example)
        self._input_arrays.append(data)
        self._owners.add(id(owner(data)))
        if batched:
            self._batched.add(id(var))

    # --- the dispatcher's hook ------------------------------------------------------
    def record(self, prim: Primitive, args: tuple, params: dict, result: Any, out: Tensor) -> None:
        operands = [self.operand(a) for a in args]
        keywords = {key: self.operand(v) for key, v in params.items()}
        flags = tuple(self.is_batched(op) for op in operands)
        batched_params = tuple(
            (key, self._structure(op)) for key, op in keywords.items() if self.is_batched(op)
        )
        value = out._data
        if type(value) is np.bool_:
            value = out._data = np.array(value)  # followed by identity, as the compiler does
        if not any(flags) and not batched_params:
            var = self.call(prim.bind, prim.name, operands, keywords, value)
        else:
            rule = prim.batch
            if rule is None or batched_params:
                rule = per_example(prim, batched_params)
            name = self.bind(flags, "B", numbered=True)
            var = self.call(
                rule, f"{prim.name}_batch", [Literal(name, flags), *operands], keywords, value
            )
            self._batched.add(id(var))
        self._tensors[id(out)] = var
        self._remember(value, var)
        self._keep.append(out)

    def _live(self, tensor: Tensor, value: Any) -> Value:
        """A tensor from outside ``f`` (a parameter): the tensor itself, read at every call,
        so gradients flow to it when the batched code runs on Tensors."""
        var = self.compute("{0}", [self.tensor_ref(tensor)], tensor, "p", kind="live")
        self._tensors[id(tensor)] = var
        self._remember(value, var)
        self._keep.append(tensor)
        self._live_tensors.append((tensor, tensor.requires_grad))
        return var

    def converted(self, tensor: Tensor, source: Any) -> None:
        """A copy or conversion of a traced value is a cast of it in the batched code."""
        if tensor._data is source or (isinstance(source, Tensor) and tensor._data is source._data):
            return
        if type(source) in (tuple, list) or not self.holds_traced(source):
            if type(source) in (tuple, list) and self.holds_traced(source):
                self.refuse("a list of traced values converted to a tensor", "use cr.stack")
            return
        operand = self.operand(source)
        dtype = tensor.dtype
        var = self.call(
            shape_ops.cast.bind,
            "cast",
            [operand],
            {"dtype": Literal(self.bind(dtype, str(dtype)), dtype)},
            tensor._data,
        )
        self._tensors[id(tensor)] = var
        self._remember(tensor._data, var)
        self._keep.append(tensor)

    def _untraced(self, value: Any) -> Value:
        if isinstance(value, np.ndarray) and value.base is not None:
            root = owner(value)
            known = self._arrays.get(id(root))
            if id(root) in self._owners or (known is not None and known.kind != "const"):
                self.refuse(
                    f"a view of a traced value of shape {root.shape} taken outside chainrule "
                    "operations (NumPy on .data or on an index array)",
                    "use chainrule operations on the Tensor",
                )
        try:
            return super()._untraced(value)
        except CompileError as error:
            raise VmapError(str(error).replace("compile:", "vmap:", 1)) from None

    # --- the backward pass is recorded as primitives ---------------------------------
    def start_backprop(self, root: Tensor, create_graph: bool) -> None:
        if not create_graph:
            self.refuse("backward() into .grad", "use chainrule.grad or value_and_grad")

    def vjp(self, node: Tensor, rule: Callable, g: Any, ans: Any, args: Any, params: dict) -> Any:
        return rule(g, ans, *args, **params)

    def fit(self, contribution: Any, data: Any) -> Any:
        from ..core.engine import fit

        return fit(contribution, data)

    def add(self, previous: Any, contribution: Any) -> Any:
        return previous + contribution

    def accumulate(self, accumulate: Callable | None, node: Tensor, g: Any) -> None:
        if accumulate is not None:
            self.refuse("backward() into .grad", "use chainrule.grad or value_and_grad")

    def refuse_forward_mode(self) -> None:
        """Forward mode inside vmap records its tangent rules as primitives: allowed."""

    def effect_call(self, function: Callable, args: tuple, tensors: list) -> None:
        self.refuse(
            f"{getattr(function, '__name__', 'a call')} (an optimizer step or zero_grad)",
            "step outside vmap",
        )

    def escape(self, tensor: Tensor, what: str) -> None:
        if self.is_traced(tensor):
            self.refuse(
                f"{what} of a traced tensor of shape {tensor.shape} (data-dependent Python "
                "control flow, or a value leaving for Python)",
                "each example has its own value, so one cannot decide for all; use "
                "chainrule operations such as cr.where, or call f outside vmap",
            )

    def refuse(self, what: str, advice: str) -> None:
        raise VmapError(f"vmap: {what} at {user_line()} cannot be batched; {advice}")


# --- arguments: leaves, their batch axes, and the signature ---------------------------


def _axes_of(value: Any, axes: Any, where: str) -> list[tuple[Any, Any]]:
    """(leaf, axis) pairs of one argument, its axes given as int/None or a matching tree."""
    if isinstance(axes, (tuple, list, dict)) and not isinstance(value, type(axes)):
        raise ValueError(
            f"vmap: in_axes {where} is a {type(axes).__name__} but the argument is a "
            f"{type(value).__name__}"
        )
    if type(value) in (tuple, list):
        items = axes if isinstance(axes, (tuple, list)) else [axes] * len(value)
        if len(items) != len(value):
            raise ValueError(f"vmap: in_axes {where} has {len(items)} items for {len(value)}")
        return [
            p
            for i, (v, a) in enumerate(zip(value, items, strict=True))
            for p in _axes_of(v, a, f"{where}[{i}]")
        ]
    if type(value) is dict:
        items = axes if isinstance(axes, dict) else dict.fromkeys(value, axes)
        return [p for k, v in value.items() for p in _axes_of(v, items[k], f"{where}[{k!r}]")]
    if axes is not None and not isinstance(axes, (int, np.integer)):
        raise TypeError(
            f"vmap: in_axes {where} must be an int, None or a tree of them, got {axes!r}"
        )
    return [(value, axes)]


def _rebuild(value: Any, leaves: Any) -> Any:
    """``value``'s tree with its leaves taken in order from the iterator ``leaves``."""
    if type(value) in (tuple, list):
        return type(value)(_rebuild(v, leaves) for v in value)
    if type(value) is dict:
        return {k: _rebuild(v, leaves) for k, v in value.items()}
    return next(leaves)


def _batch_first(value: Any, axis: Any) -> Any:
    """An argument with its batch axis moved to the front (a view, or a transpose node)."""
    if axis is None:
        return value
    ndim = np.ndim(value)
    if ndim == 0 or not -ndim <= axis < ndim:
        raise ShapeError(
            f"vmap: in_axes {axis} is out of range for an argument of shape {np.shape(value)}"
        )
    axis = int(axis) % ndim
    if not axis:
        return value
    order = (axis, *(i for i in range(ndim) if i != axis))
    return value.transpose(order) if hasattr(value, "transpose") else xp.permute_dims(value, order)


def _is_array(value: Any) -> bool:
    """An array argument: a Tensor, a NumPy array or scalar, or another library's array."""
    return isinstance(value, (Tensor, np.ndarray, np.generic)) or hasattr(
        value, "__array_namespace__"
    )


def _describe(value: Any) -> str:
    data = value._data if isinstance(value, Tensor) else value
    return f"{data.dtype}[{', '.join(map(str, np.shape(data)))}]"


class Vmapped:
    """A function batched by :func:`vmap`: call it like the original, with a batch axis."""

    def __init__(self, fn: Callable[..., Any], in_axes: Any, out_axes: Any) -> None:
        # First: update_wrapper copies fn's __dict__, which must not replace ours.
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.in_axes = in_axes
        self.out_axes = out_axes
        self._programs: dict[tuple, tuple[Program, tuple]] = {}
        self._last: Program | None = None

    @property
    def source(self) -> str:
        """The generated (batched) Python source for the signature used last."""
        if self._last is None:
            raise RuntimeError("vmap: no source yet; the function is traced on its first call")
        return self._last.source

    def __call__(self, *args: Any) -> Any:
        axes = self.in_axes
        if isinstance(axes, (tuple, list)):
            if len(axes) != len(args):
                raise ValueError(
                    f"vmap: in_axes has {len(axes)} entries but the function was called with "
                    f"{len(args)} positional arguments"
                )
        else:
            axes = [axes] * len(args)
        pairs = [
            p
            for i, (a, x) in enumerate(zip(args, axes, strict=True))
            for p in _axes_of(a, x, f"[{i}]")
        ]
        key: list = [is_grad_enabled(), get_default_dtype(), repr([type(a) for a in args])]
        inputs, examples, dynamic_flags = [], [], []
        sizes = []
        for leaf, axis in pairs:
            if axis is None and not _is_array(leaf):
                try:
                    key.append(("static", type(leaf), hash(leaf), leaf))
                except TypeError:
                    key.append(("static", id(leaf)))
                continue
            value = _batch_first(leaf if _is_array(leaf) else np.asarray(leaf), axis)
            data = value._data if isinstance(value, Tensor) else value
            if type(data) not in NUMPY_TYPES:
                raise DeviceError(
                    f"vmap batches NumPy arrays; this argument is on {device_of(data)}: "
                    "move it with .cpu() (vmap does not yet follow values of other libraries)"
                )
            if axis is not None:
                sizes.append((data.shape[0], data.shape))
            key.append(("array", data.shape, data.dtype, axis is not None))
            inputs.append(value)
            examples.append(data[0, ...] if axis is not None else data)  # 0-d: still an array
            dynamic_flags.append(axis is not None)
        if not sizes:
            raise ValueError("vmap: no argument is batched (every in_axes is None)")
        size = sizes[0][0]
        if any(n != size for n, _ in sizes):
            listed = ", ".join(f"{n} (shape {s})" for n, s in sizes)
            raise ShapeError(f"vmap: the batched arguments have different batch sizes: {listed}")
        key.append(tuple(id(v) for v in inputs) if len(set(map(id, inputs))) != len(inputs) else ())
        signature = tuple(key)
        entry = self._programs.get(signature)
        if entry is None or not entry[0].valid():
            entry = self._trace(args, axes, pairs, examples, dynamic_flags, signature)
        program, out_tree = entry
        self._last = program
        as_tensors = (
            _DEPTH.get() > 0
            or current_trace() is not None
            or any(isinstance(v, Tensor) for v in inputs)
        )
        values = [
            v
            if isinstance(v, Tensor) and (as_tensors or v.requires_grad)
            else (v._data if isinstance(v, Tensor) else v)
            for v in inputs
        ]
        leaves = program.function(*values)
        return _outputs(out_tree, leaves, size, self.out_axes, as_tensors)

    def _trace(self, args, axes, pairs, examples, dynamic_flags, signature):
        name = getattr(self.fn, "__name__", "")
        if not name.isidentifier():
            name = "vmapped"
        tracer = BatchTracer(name)
        names = []
        with tracing(None):
            tensors = [Tensor(e) for e in examples]
        for index, (t, batched) in enumerate(zip(tensors, dynamic_flags, strict=True)):
            tracer.add_example(t, f"x{index}", batched)
            names.append(f"x{index}")
        replacements = iter(tensors)
        call_leaves = [
            next(replacements) if (axis is not None or _is_array(leaf)) else leaf
            for leaf, axis in pairs
        ]
        call_args = _rebuild(list(args), iter(call_leaves))
        token = _DEPTH.set(_DEPTH.get() + 1)  # gradients inside record their backward pass
        try:
            with tracing(tracer):
                result = self.fn(*call_args)
                out_leaves = []
                out_tree = _flatten_output(result, out_leaves)
                operands = [tracer.operand(leaf) for leaf in out_leaves]
                flags = tuple(tracer.is_batched(op) for op in operands)
        finally:
            _DEPTH.reset(token)
        template = "(" + "".join(f"{{{i}}}, " for i in range(len(operands))) + ")"
        described = ", ".join(f"{n}: {_describe(e)}" for n, e in zip(names, examples, strict=True))
        program = generate(
            name,
            names,
            tracer.statements,
            Expr(template, operands, None),
            tracer.namespace,
            f"vmap {name}({described})",
            by="chainrule.vmap",
        )
        program.valid = tracer.guards()
        entry = (program, (out_tree, flags))
        self._programs[signature] = entry
        return entry


def _flatten_output(result: Any, leaves: list) -> Any:
    """The output's tree with each leaf replaced by its position in ``leaves``."""
    if type(result) in (tuple, list):
        return type(result)(_flatten_output(r, leaves) for r in result)
    if type(result) is dict:
        return {k: _flatten_output(v, leaves) for k, v in result.items()}
    leaves.append(result)
    return len(leaves) - 1


def _outputs(out_tree: tuple, values: tuple, size: int, out_axes: Any, as_tensors: bool) -> Any:
    tree, flags = out_tree

    def finish(index: int) -> Any:
        value, batched = values[index], flags[index]
        if out_axes is None:
            if batched:
                raise VmapError(
                    "vmap: out_axes=None but output "
                    f"{index} differs per example; give it an out_axes"
                )
        else:
            if not batched:
                value = shape_ops.broadcast_to.bind(value, shape=(size,) + np.shape(value))
                value = value if isinstance(value, Tensor) else np.array(value)
            ndim = np.ndim(value)
            axis = int(out_axes) % ndim
            if axis:
                order = (*range(1, axis + 1), 0, *range(axis + 1, ndim))
                value = value.transpose(order)
        if as_tensors:
            return value if isinstance(value, Tensor) else Tensor(value)
        if isinstance(value, Tensor) and not value.requires_grad:
            return value._data
        return value

    def build(node: Any) -> Any:
        if type(node) in (tuple, list):
            return type(node)(build(n) for n in node)
        if type(node) is dict:
            return {k: build(v) for k, v in node.items()}
        return finish(node)

    return build(tree)


def vmap(fn: Callable[..., Any], in_axes: Any = 0, out_axes: int | None = 0) -> Vmapped:
    """``fn`` of one example made a function of a batch (JAX's vmap).

    ``in_axes`` is an int or None for every argument, or a tuple with one entry per
    positional argument (an int, None, or a tuple/list/dict matching that argument);
    None means the argument is shared by all examples. ``out_axes`` (int or None) says
    where the results carry the batch axis. See :mod:`chainrule.jit.vmap` for how it
    works and what cannot be batched.

    >>> import numpy as np
    >>> import chainrule as cr
    >>> per_example = cr.vmap(cr.grad(lambda w, x: ((x @ w) ** 2).sum()), in_axes=(None, 0))
    >>> per_example(np.array([1.0, 2.0]), np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    array([[2., 0.],
           [0., 4.],
           [6., 6.]])
    """
    if out_axes is not None and not isinstance(out_axes, (int, np.integer)):
        raise TypeError(f"vmap: out_axes must be an int or None, got {out_axes!r}")
    return Vmapped(fn, in_axes, out_axes)
