"""The sweeps: topological order, reverse (adjoint) sweep, forward (tangent) sweep.

Layer: core. Imports nothing else from chainrule; it works on any node object
with these attributes (chainrule.Tensor has them):

``_data``       the forward value: an ndarray, or a NumPy scalar (np.float64, ...) for
                a 0-d result, so scalar graphs run on NumPy's scalar fast path
``_seq``        creation number: a node's inputs always have smaller ones
``requires_grad``
``grad``        accumulated gradient of a leaf (or of a node that asked ``retain_grad``)
``_prim``       the Primitive that produced it, or None for a leaf
``_inputs``     the positional arguments as given: input nodes, arrays and Python
                values; None once the graph has been freed
``_values``     the same arguments with each input node replaced by the value the
                forward function saw: what the VJP rules receive
``_params``     keyword parameters of the primitive (axis, shape, index, ...)
``_stamp``      the :data:`WRITE_CLOCK` reading when the node was recorded
``_version``    the :data:`WRITE_CLOCK` reading at the node's latest in-place write
                (0 if never written)
``_retain``     keep ``grad`` on this non-leaf node
``_adjoint``    the adjoint being summed during a reverse sweep (None outside one)
``_res``        the residuals its forward saved for its rules (None for most primitives)

Creation order is a topological order: every input exists before the node that
consumes it. The reverse sweep therefore needs no separate ordering pass; it keeps
the nodes that have received an adjoint in a heap and always takes the newest, so
a node is reached after all of its consumers. Adjoints are summed on the nodes
themselves (``_adjoint``), so two sweeps must not run through shared nodes at the
same time, which is one more reason the engine is not meant for several threads.
No recursion anywhere, so a chain of a million operations is fine.

Under ``chainrule.compile`` (a trace current in this context, see
:mod:`chainrule.core.mode`), the same sweep runs with a *recorder*: the trace's
``vjp``, ``fit``, ``add`` and ``accumulate`` methods stand in for the rule call, the
unbroadcast/cast, the sum of contributions and the hand-over to ``.grad``. They
compute the same numbers and write each step down, so the compiled program replays
exactly this sweep; there is no second copy of it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from heapq import heappop, heappush
from operator import attrgetter
from typing import Any

import numpy as np

from .backend import NUMPY_TYPES, kind, namespace, xp
from .mode import MODE, current_mode, with_grad
from .primitive import Traceable


class _WriteClock:
    """Counts in-place writes to any node in the process (see :func:`note_write`)."""

    __slots__ = ("now",)

    def __init__(self) -> None:
        self.now = 0


#: One tick per in-place write anywhere. A node recorded at the current reading
#: cannot have had an operand modified since, so its check is one comparison.
WRITE_CLOCK = _WriteClock()


#: The clock reading of the latest write into each array's memory, by the id of the
#: array that owns the memory (the root of its ``.base`` chain), with a weak reference
#: that tells a live owner from a recycled id. Views share their owner, so a write
#: through any view (a slice, a reshape, ``detach()``) is seen by every tensor over it.
_LAST_WRITE: dict[int, tuple[weakref.ref, int]] = {}


def owner(array: Any) -> Any:
    """The array that owns ``array``'s memory (itself unless it is a NumPy view; arrays of
    other libraries, which do not say, as themselves)."""
    while isinstance(getattr(array, "base", None), np.ndarray):
        array = array.base
    return array


def _forget_owner(key: int) -> Callable[[weakref.ref], None]:
    def forget(ref: weakref.ref) -> None:
        entry = _LAST_WRITE.get(key)
        if entry is not None and entry[0] is ref:
            del _LAST_WRITE[key]

    return forget


def note_write(node: Any) -> None:
    """Record an in-place write to ``node``'s value (call it after every such write)."""
    WRITE_CLOCK.now += 1
    node._version = WRITE_CLOCK.now
    value = node._data
    if type(value) is np.ndarray:
        root = owner(value)
        key = id(root)
        entry = _LAST_WRITE.get(key)
        if entry is not None and entry[0]() is root:
            _LAST_WRITE[key] = (entry[0], WRITE_CLOCK.now)
        else:
            _LAST_WRITE[key] = (weakref.ref(root, _forget_owner(key)), WRITE_CLOCK.now)


def _written_since(value: Any, stamp: int) -> bool:
    """Whether the memory of ``value`` (an array an operation saw) was written after ``stamp``."""
    if type(value) is not np.ndarray:
        return False
    root = owner(value)
    entry = _LAST_WRITE.get(id(root))
    return entry is not None and entry[1] > stamp and entry[0]() is root


def modified(node: Any) -> bool:
    """Whether ``node``'s value or a value it was computed from was written in place after
    it was recorded: through the tensors themselves, or through any view of their memory."""
    stamp = node._stamp
    if stamp == WRITE_CLOCK.now:
        return False
    if node._version > stamp:
        return True
    for inp in node._inputs:
        if isinstance(inp, Traceable) and inp._version > stamp:
            return True
    values = node._values
    if values is not None:
        for value in values:
            if _written_since(value, stamp):
                return True
    return _written_since(node._data, stamp)


FREED_GRAPH_MESSAGE = (
    "Trying to backward through the graph a second time: the buffers saved by "
    "{op} were freed by the previous backward. Pass retain_graph=True to the first "
    "backward() if you need to go through the graph again."
)


def _freed_error(node: Any) -> RuntimeError:
    return RuntimeError(FREED_GRAPH_MESSAGE.format(op=node._prim.name))


def toposort(roots: Sequence[Any], stops: set | frozenset = frozenset()) -> list[Any]:
    """Nodes reachable from ``roots`` through inputs that require grad, consumers first.

    The order is newest first by creation number, the order in which
    :func:`backprop` visits them. Nodes in ``stops`` (the inputs of a functional
    gradient) end the walk.
    """
    seen: dict[Any, None] = dict.fromkeys(roots)
    stack = list(seen)
    while stack:
        node = stack.pop()
        if node._prim is None or node in stops:
            continue
        inputs = node._inputs
        if inputs is None:
            raise _freed_error(node)
        for inp in inputs:
            if isinstance(inp, Traceable) and inp.requires_grad and inp not in seen:
                seen[inp] = None
                stack.append(inp)
    return sorted(seen, key=_creation_number, reverse=True)


_creation_number = attrgetter("_seq")


def broadcast_axes(gshape: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """The axes of ``gshape`` that broadcasting added or stretched to come from ``shape``."""
    lead = len(gshape) - len(shape)
    return tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1
    )


def unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``g`` over the axes that broadcasting added to reach ``shape``.

    This is the one place where broadcasting is undone: every binary rule
    returns a gradient of the broadcast shape and the sweep reduces it here.
    """
    gshape = g.shape
    if gshape == shape:
        return g
    axes = broadcast_axes(gshape, shape)
    if type(g) is np.ndarray:
        if axes:
            g = np.add.reduce(g, axis=axes)
        return g if g.shape == shape else g.reshape(shape)
    if axes:
        g = xp.sum(g, axis=axes)
    return g if g.shape == shape else xp.reshape(g, shape)


def fit(contribution: Any, data: Any) -> Any:
    """A VJP contribution brought to its operand's shape (unbroadcast) and dtype."""
    if type(data) not in NUMPY_TYPES and type(contribution) in NUMPY_TYPES:
        # a constant contribution (a Python number) to another library's array
        space = namespace(data)
        contribution = space.asarray(contribution, dtype=data.dtype, device=data.device)
        if contribution.shape != data.shape:
            contribution = space.broadcast_to(contribution, data.shape)
    return fit_to(contribution, data.shape, data.dtype)


def fit_to(contribution: Any, shape: tuple[int, ...], dtype: np.dtype) -> Any:
    """A VJP contribution summed down to ``shape`` and cast to ``dtype``.

    A complex contribution to a real value keeps its real part, as in JAX: a real input
    moved by dx changes a real-valued result by Re(g·dx) (no conjugate: JAX's pairing).
    """
    if type(contribution) in NUMPY_TYPES and not isinstance(contribution, (np.ndarray, np.generic)):
        contribution = np.asarray(contribution)
    if contribution.shape != shape:
        contribution = unbroadcast(contribution, shape)
    if contribution.dtype != dtype:
        contribution = _cast(contribution, dtype)
    return contribution


def _cast(value: Any, dtype: Any) -> Any:
    """``value`` in ``dtype``; from complex to real through the real part, explicitly."""
    if type(value) in NUMPY_TYPES:
        if value.dtype.kind == "c" and dtype.kind != "c":
            value = np.real(value)
            if value.dtype == dtype:
                return value
        return value.astype(dtype)
    data = value._data if isinstance(value, Traceable) else value
    if kind(data) == "c" and "complex" not in str(dtype):
        value = xp.real(value)
    return value.astype(dtype) if isinstance(value, Traceable) else xp.astype(value, dtype)


def _modified_error(node: Any) -> RuntimeError:
    shapes = ", ".join(str(np.shape(a)) for a in operand_values(node._inputs))
    return RuntimeError(
        f"one of the values needed to differentiate {node._prim.name} (operands of "
        f"shape {shapes}) has been modified by an in-place operation since it was "
        "recorded (through this tensor or another over the same memory, such as a "
        "detach() or a slice's owner); recompute it after the change, or change a copy "
        "instead. (Writes into .data[...] or into NumPy arrays passed in are not tracked.)"
    )


def operand_values(inputs: tuple) -> tuple:
    """A node's arguments with each input node replaced by its value: what rules receive."""
    return tuple(inp._data if isinstance(inp, Traceable) else inp for inp in inputs)


def _rule_operands(node: Any, create_graph: bool) -> tuple[Any, tuple]:
    """The output and the arguments a rule sees: arrays, or nodes when recording.

    Used by the forward sweep; the reverse sweep, the hot path, writes the same out inline.
    """
    if create_graph:
        return node, node._inputs
    return node._data, operand_values(node._inputs)


def _needed(order: list[Any], stops: set | frozenset) -> set | None:
    """Nodes from which some stop (an input of a functional gradient) can be reached.

    None when that is every node: when the only leaves reached are stops, since a
    node that requires grad always leads to a leaf that does.
    """
    if all(node._prim is not None or node in stops for node in order):
        return None
    needed: set = set()
    for node in reversed(order):
        if node in stops:
            needed.add(node)
        elif node._prim is not None:
            for inp in node._inputs:
                if isinstance(inp, Traceable) and inp in needed:
                    needed.add(node)
                    break
    return needed


def backprop(
    root: Any,
    seed: Any,
    inputs: Sequence[Any] | None = None,
    *,
    create_graph: bool = False,
    retain_graph: bool | None = None,
    accumulate: Any = None,
) -> list[Any] | None:
    """Reverse sweep from ``root`` with cotangent ``seed``.

    With ``inputs`` it returns the adjoint of each input (None where the output
    does not depend on it) and touches no ``.grad``; without, it calls
    ``accumulate(leaf, gradient, owned)`` for every leaf that requires grad and every
    node that asked to retain its gradient. ``create_graph`` runs the rules on
    nodes so the result is itself differentiable; otherwise they run on arrays.
    Unless ``retain_graph`` (default: ``create_graph``), the saved buffers of the
    nodes it went through are freed.

    Nodes are visited newest first (the order of :func:`toposort`) and each
    node's contributions are added in that order. Under a trace the recorder's
    methods take the place of the rule calls, fits, sums and hand-overs (see the
    module docstring).
    """
    if retain_graph is None:
        retain_graph = create_graph
    mode = current_mode()
    recorder = mode.trace
    anomaly = mode.anomaly
    if recorder is not None:
        recorder.start_backprop(root, create_graph)
    if inputs is not None:
        stops: frozenset | None = frozenset(inputs)
        needed = _needed(toposort([root], stops), stops)
    else:
        stops = needed = None
    root._adjoint = seed
    results: dict[Any, Any] = {}
    # Arrays given to `accumulate` (and the caller's seed) must not be given out again.
    handed_out = {id(seed)}
    waiting = [(-root._seq, root)]
    pop, push = heappop, heappush
    clock = WRITE_CLOCK
    ndarray = np.ndarray
    numpy_types = NUMPY_TYPES
    mode_token = MODE.set(with_grad(mode, create_graph))
    try:
        # The hot path: the first comparison of modified() and the common case of
        # fit() (same type, shape and dtype object) are written out inline.
        while waiting:
            node = pop(waiting)[1]
            g = node._adjoint
            node._adjoint = None
            if stops is not None and node in stops:
                results[node] = g
                continue
            prim = node._prim
            if prim is None or node._retain:
                if recorder is not None:
                    recorder.accumulate(accumulate, node, g)
                elif accumulate is not None:
                    owned = True  # NumPy scalars are immutable; Tensors are never reused
                    if type(g) is ndarray:
                        owned = g.base is None and id(g) not in handed_out
                        handed_out.add(id(g))
                    accumulate(node, g, owned)
                if prim is None:
                    continue
            operands = node._inputs
            if operands is None:
                raise _freed_error(node)
            if node._stamp != clock.now and modified(node):
                raise _modified_error(node)
            if create_graph:
                ans, args = node, operands
            else:
                ans, args = node._data, node._values
            params = node._params
            if prim.residuals:
                params = {**params, "res": None if create_graph else node._res}
            rules = prim.vjps
            if type(rules) is not tuple:
                rules = [prim.vjp(argnum) for argnum in range(len(operands))]
            # Optional trailing arguments (linear's bias) may be absent: strict=False.
            for inp, rule in zip(operands, rules, strict=False):
                if rule is None or not isinstance(inp, Traceable) or not inp.requires_grad:
                    continue
                if needed is not None and inp not in needed:
                    continue
                if recorder is not None:
                    contribution = recorder.vjp(node, rule, g, ans, args, params)
                elif params:
                    contribution = rule(g, ans, *args, **params)
                else:
                    contribution = rule(g, ans, *args)
                if anomaly is not None:
                    anomaly.backward(node, inp, g, contribution)
                data = inp._data
                kind = type(data)
                if type(contribution) is not kind or (
                    (kind is ndarray or kind not in numpy_types)
                    and (contribution.shape != data.shape or contribution.dtype is not data.dtype)
                ):
                    if recorder is not None:
                        contribution = recorder.fit(contribution, data)
                    else:
                        contribution = fit(contribution, data)
                previous = inp._adjoint
                if previous is None:
                    inp._adjoint = contribution
                    push(waiting, (-inp._seq, inp))
                elif recorder is not None:
                    inp._adjoint = recorder.add(previous, contribution)
                else:
                    inp._adjoint = previous + contribution
            if not retain_graph:
                node._inputs = node._values = node._res = None
    finally:
        for _, node in waiting:  # after an error, no half-summed adjoint is left behind
            node._adjoint = None
        MODE.reset(mode_token)
    if inputs is None:
        return None
    return [results.get(node) for node in inputs]


def push_tangents(
    outputs: Sequence[Any],
    inputs: Sequence[Any],
    tangents: Sequence[Any],
    *,
    create_graph: bool = False,
) -> list[Any]:
    """Forward sweep: push ``tangents`` of ``inputs`` through the recorded graph.

    Visits the nodes between the inputs and ``outputs`` in evaluation order and
    applies each primitive's JVP rules; no reverse rule is used. Returns the
    tangent of each output (None where an output does not depend on the inputs).
    """
    mode = current_mode()
    if mode.trace is not None:
        mode.trace.refuse_forward_mode()
    stops = frozenset(inputs)
    order = toposort(list(outputs), stops)
    tangent_of: dict[Any, Any] = dict(zip(inputs, tangents, strict=True))
    mode_token = MODE.set(with_grad(mode, create_graph))
    try:
        for node in reversed(order):
            prim = node._prim
            if prim is None or node in stops:
                continue
            ans, args = _rule_operands(node, create_graph)
            params = node._params
            if prim.residuals:
                params = {**params, "res": None if create_graph else node._res}
            total = None
            for argnum, inp in enumerate(node._inputs):
                t = tangent_of.get(inp) if isinstance(inp, Traceable) else None
                if t is None:
                    continue
                rule = prim.jvp(argnum)
                if rule is None:
                    continue
                contribution = rule(t, ans, *args, **params)
                total = contribution if total is None else total + contribution
            if total is not None:
                tangent_of[node] = _broadcast_to_node(total, node)
    finally:
        MODE.reset(mode_token)
    return [tangent_of.get(out) for out in outputs]


def _broadcast_to_node(t: Any, node: Any) -> Any:
    """A tangent contribution may have an operand's smaller shape; bring it to the output's
    (and its dtype: the real part of a complex tangent of a real-valued output)."""
    data = node._data
    if t.shape != data.shape:
        t = xp.broadcast_to(t, data.shape)
    if t.dtype != data.dtype:
        t = _cast(t, data.dtype)
    return t
