"""The numba backend of chainrule.compile: a traced program as one native call where it can be.

Layer: jit (imports core's registry, errors, the extras helper and the program builder;
numba itself is imported only when a program is lowered, so chainrule never needs it).

The traced program (see :mod:`chainrule.jit.program`) is a list of statements, most of
them one call of a primitive's forward function or VJP rule, the engine's ``fit_to`` (not
lowered: NumPy runs it) or a gradient sum. Each statement is *lowered* when a native
kernel exists for its call:

- an entry of :data:`LOWERINGS`, keyed by primitive name: numba-subset versions of
  forwards (and of VJP rules that are not a partial times the cotangent), written here
  because they are backend code, like JAX's lowerings: the registry's entries stay free
  of numba, which is optional, and of loops that only make sense to a compiler;
- an elementwise entry whose forward is a NumPy ufunc (numba compiles ufuncs itself);
- an elementwise entry's VJP built from its own ``partials`` (compiled by numba as they
  are written in ``ops``: derivatives are still written in one place only).

A kernel is used only after numba has compiled it for the statement's argument types
and it returned the trace's dtype and rank; anything else (no kernel, numba cannot
type the entry's partial, a float32 result that would become float64) falls back to
NumPy *for that statement*: the program stays correct, and the statement costs what
it costs in the NumPy backend. Consecutive lowered statements form one *segment*,
compiled by numba into one function (intermediates never become Python objects); the
Python wrapper around the segments keeps what only Python can do: reading parameters,
``zero_grad()`` and handing gradients to ``.grad``. A final ``optimizer.step()`` of SGD,
Adam or AdamW whose gradients are all the program's own is lowered into the last
segment (:class:`NativeStep`); other steps stay Python calls. Signatures,
guards and aliasing are those of the NumPy backend: :class:`~chainrule.jit.Compiled`
keys and checks programs the same way whichever backend lowers them.
"""

from __future__ import annotations

import builtins
import itertools
import linecache
import math
import re
import types
from collections.abc import Callable
from operator import is_
from typing import Any

import numpy as np

from ..core.backend import xp
from ..core.engine import note_write
from ..core.primitive import PRIMITIVES, mask, reciprocal
from ..errors import TargetError
from ..extras import require
from ..tensor import _wrap
from .program import Expr, Literal, Operand, Program, Stmt, Value, live_statements, render, uses

#: ``{0}[1]``: one item of a forward's (answer, residuals) pair.
_ITEM = re.compile(r"^\{0\}\[(\d+)\]$")


def numba_module() -> Any:
    """numba, or MissingExtraError naming ``pip install 'chainrule[jit]'``."""
    return require("numba", "chainrule.compile(backend='numba')")


# --- kernels in numba's subset of Python ---------------------------------------------------
# Each takes the arguments and keyword parameters of the entry's own function, and
# returns what it returns (same dtype, same rank); the tests compare them with the entries.


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# Kernels that loop over flattened arrays or call BLAS take any memory layout (a later
# call may pass a strided view of the same shape and dtype): np.ascontiguousarray copies
# only when needed.


def _relu(x):
    x = np.ascontiguousarray(x)
    out = np.empty_like(x)
    flat, source = out.reshape(-1), x.reshape(-1)
    for i in range(flat.size):
        v = source[i]
        flat[i] = v if v > 0 or v != v else 0  # NaN stays NaN, as np.maximum keeps it
    return out


def _relu_vjp(g, ans, x):
    """g where x > 0, else exactly 0 (an infinite g does not flow either)."""
    g, x = np.ascontiguousarray(g), np.ascontiguousarray(x)
    out = np.empty_like(g)
    flat, cotangent, inputs = out.reshape(-1), g.reshape(-1), x.reshape(-1)
    for i in range(flat.size):
        flat[i] = cotangent[i] if inputs[i] > 0 else 0
    return out


#: Products with at most this many multiply-adds run as plain loops: below it, the call
#: into BLAS (checks, dispatch on the layout) costs more than the arithmetic.
SMALL_PRODUCT = 4096


def _small_product(a, b, a_transposed, b_transposed):
    """``op(a) @ op(b)``, ``op`` a transpose where asked, as plain loops (small products)."""
    rows = a.shape[1] if a_transposed else a.shape[0]
    inner = a.shape[0] if a_transposed else a.shape[1]
    cols = b.shape[0] if b_transposed else b.shape[1]
    out = np.empty((rows, cols), a.dtype)
    for i in range(rows):
        for j in range(cols):
            total = a.dtype.type(0)
            for k in range(inner):
                left = a[k, i] if a_transposed else a[i, k]
                right = b[j, k] if b_transposed else b[k, j]
                total += left * right
            out[i, j] = total
    return out


def _linear(x, weight, bias=None):
    if x.shape[0] * x.shape[1] * weight.shape[0] <= SMALL_PRODUCT:
        out = _small_product(x, weight, False, True)
    else:
        out = np.ascontiguousarray(x) @ np.ascontiguousarray(weight).T
    if bias is not None:
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] += bias[j]
    return out


def _linear_vjp_input(g, ans, x, weight, bias=None):
    if g.shape[0] * g.shape[1] * weight.shape[1] <= SMALL_PRODUCT:
        return _small_product(g, weight, False, False)
    return np.ascontiguousarray(g) @ np.ascontiguousarray(weight)


def _linear_vjp_weight(g, ans, x, weight, bias=None):
    if g.shape[0] * g.shape[1] * x.shape[1] <= SMALL_PRODUCT:
        return _small_product(g, x, True, False)
    return np.ascontiguousarray(g).T @ np.ascontiguousarray(x)


def _linear_vjp_bias(g, ans, x, weight, bias=None):
    out = np.zeros(g.shape[1], g.dtype)
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            out[j] += g[i, j]
    return out


def _sum_all(x, axis=None, keepdims=False):
    return x.dtype.type(x.sum())


def _mean_all(x, axis=None, keepdims=False):
    return x.dtype.type(x.sum() / x.size)


def _sum_all_vjp(g, ans, x, axis=None, keepdims=False):
    return np.full(x.shape, g, x.dtype)


def _mean_all_vjp(g, ans, x, axis=None, keepdims=False):
    return np.full(x.shape, g / x.size, x.dtype)


def _cross_entropy(logits, target, label_smoothing, reduction):
    """One pass per row: shift, exponentiate, normalize, pick the target's log-probability."""
    rows, classes = logits.shape
    probabilities = np.empty_like(logits)
    losses = np.empty(rows, logits.dtype)
    for i in range(rows):
        t = target[i]
        if t < 0 or t >= classes:
            raise TargetError("cross_entropy: a target is out of bounds for the classes")
        top = logits[i].max()
        total = 0.0
        shifted_sum = 0.0
        for j in range(classes):
            e = np.exp(logits[i, j] - top)
            probabilities[i, j] = e
            total += e
            shifted_sum += logits[i, j] - top
        log_total = np.log(total)
        loss = log_total - (logits[i, t] - top)
        if label_smoothing:
            mean_logp = shifted_sum / classes - log_total
            loss = (1.0 - label_smoothing) * loss - label_smoothing * mean_logp
        losses[i] = loss
        probabilities[i] /= total
    if reduction == "mean":
        return logits.dtype.type(losses.sum() / rows), probabilities
    return logits.dtype.type(losses.sum()), probabilities


def _cross_entropy_vjp(g, ans, logits, target, label_smoothing, reduction, res):
    rows, classes = logits.shape
    scale = logits.dtype.type(g / rows if reduction == "mean" else g)
    slope = res * scale
    for i in range(rows):
        slope[i, target[i]] -= (1.0 - label_smoothing) * scale
    if label_smoothing:
        slope -= (label_smoothing / classes) * scale
    return slope


def _add(x, y):
    return x + y


def _subtract(x, y):
    return x - y


def _multiply(x, y):
    return x * y


def _divide(x, y):
    return x / y


def _negative(x):
    return -x


# Optimizer updates, in place, one parameter each: PyTorch's formulas as chainrule.optim
# writes them, one rounding per NumPy operation of the eager step (the scalars arrive
# already in the parameter's dtype, as NumPy 2 casts a Python float beside an array).


def _sgd_update(
    param, grad, lr, weight_decay, momentum, dampening_complement, nesterov, maximize, buffer, first
):
    flat, gradient = param.reshape(-1), np.ascontiguousarray(grad).reshape(-1)
    kept = buffer.reshape(-1)
    for i in range(flat.size):
        d = -gradient[i] if maximize else gradient[i]
        if weight_decay != 0:
            d = d + weight_decay * flat[i]
        if momentum != 0:
            b = d if first else kept[i] * momentum + dampening_complement * d
            kept[i] = b
            d = d + momentum * b if nesterov else b
        flat[i] = flat[i] - lr * d
    return 0


def _sgd_plain_update(param, grad, lr, weight_decay, maximize):
    """_sgd_update without momentum (its groups are guarded to have none)."""
    flat, gradient = param.reshape(-1), np.ascontiguousarray(grad).reshape(-1)
    if weight_decay == 0 and not maximize:  # the common case, a loop LLVM vectorizes
        for i in range(flat.size):
            flat[i] = flat[i] - lr * gradient[i]
        return 0
    for i in range(flat.size):
        d = -gradient[i] if maximize else gradient[i]
        if weight_decay != 0:
            d = d + weight_decay * flat[i]
        flat[i] = flat[i] - lr * d
    return 0


def _adam_update(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    max_exp_avg_sq,
    amsgrad,
    maximize,
    weight_decay,
    decay_factor,
    decoupled,
    beta1,
    beta1_complement,
    beta2,
    beta2_complement,
    step_size,
    bias_correction2_sqrt,
    eps,
):
    flat, gradient = param.reshape(-1), np.ascontiguousarray(grad).reshape(-1)
    m, v, largest = exp_avg.reshape(-1), exp_avg_sq.reshape(-1), max_exp_avg_sq.reshape(-1)
    for i in range(flat.size):
        d = -gradient[i] if maximize else gradient[i]
        if weight_decay != 0:
            if decoupled:
                flat[i] = flat[i] * decay_factor
            else:
                d = d + weight_decay * flat[i]
        first = m[i] * beta1 + beta1_complement * d
        second = v[i] * beta2 + beta2_complement * (d * d)
        m[i], v[i] = first, second
        if amsgrad:
            top = largest[i]
            second = top if (top >= second or top != top) else second  # np.maximum: NaN wins
            largest[i] = second
        update = np.sqrt(second) / bias_correction2_sqrt + eps
        flat[i] = flat[i] - (first / update) * step_size
    return 0


class Lowering:
    """Native kernels for one primitive: its forward, and VJP kernels by argument number.

    ``when(args, params)`` says for which trace-time arguments the kernels apply (the
    cases they are written for); others fall back to NumPy.
    """

    __slots__ = ("forward", "vjps", "when")

    def __init__(
        self,
        forward: Callable[..., Any] | None = None,
        vjps: dict[int, Callable[..., Any]] | None = None,
        when: Callable[[list, dict], bool] = lambda args, params: True,
    ) -> None:
        self.forward = forward
        self.vjps = vjps or {}
        self.when = when


def _whole_array(args: list, params: dict) -> bool:
    return params.get("axis") is None and not params.get("keepdims")


def _matrices(args: list, params: dict) -> bool:
    return all(np.ndim(a) == 2 for a in args[-3:-1]) if len(args) >= 3 else False


def _class_rows(args: list, params: dict) -> bool:
    return np.ndim(args[-1]) == 2 and params.get("reduction") in ("mean", "sum")


#: The lowering table: primitive name -> its native kernels.
LOWERINGS: dict[str, Lowering] = {
    "add": Lowering(_add),
    "subtract": Lowering(_subtract),
    "multiply": Lowering(_multiply),
    "divide": Lowering(_divide),
    "negative": Lowering(_negative),
    "sigmoid": Lowering(_sigmoid),
    "relu": Lowering(_relu, {0: _relu_vjp}),
    "linear": Lowering(
        _linear, {0: _linear_vjp_input, 1: _linear_vjp_weight, 2: _linear_vjp_bias}, _matrices
    ),
    "sum": Lowering(_sum_all, {0: _sum_all_vjp}, _whole_array),
    "mean": Lowering(_mean_all, {0: _mean_all_vjp}, _whole_array),
    "cross_entropy": Lowering(_cross_entropy, {0: _cross_entropy_vjp}, _class_rows),
}


# --- finding a statement's kernel ------------------------------------------------------------


#: Every kernel compiled in this process, by what it was made from (a function, or a
#: partial with its arity and use): a later program reuses numba's compiled code.
_JITTED: dict[Any, Any] = {}


class _Kernels:
    """Finds the kernel of each call a program makes."""

    def __init__(self, numba: Any) -> None:
        self.numba = numba
        self._roles = _roles()
        global _small_product  # noqa: PLW0603 - the kernels call it: numba must see it compiled
        if not isinstance(_small_product, numba.core.dispatcher.Dispatcher):
            _small_product = self.jit(_small_product)

    def jit(self, function: Callable[..., Any], key: Any = None) -> Any:
        """``numba.njit(function)``, once per ``key`` (default: the function) per process.

        This module's named kernels are also cached on disk by numba; kernels made from
        an entry's partials are closures, which numba cannot cache.
        """
        key = function if key is None else key
        found = _JITTED.get(key)
        if found is None:
            cache = function.__module__ == __name__ and "<" not in function.__qualname__
            found = _JITTED[key] = self.numba.njit(_on_numpy(function), cache=cache)
        return found

    def find(self, stmt: Stmt) -> Any:
        """A numba dispatcher for the statement's call, or None (NumPy runs it)."""
        function = stmt.function
        if function is np.add:
            return self.jit(_add)
        role = self._roles.get(id(function))
        if role is None:
            return None
        prim, which = role
        args = [op.value for op in stmt.operands]
        count = len(args) - len(stmt.keywords)
        positional, params = args[:count], dict(zip(stmt.keywords, args[count:], strict=True))
        lowering = LOWERINGS.get(prim.name)
        if lowering is not None and lowering.when(positional, params):
            kernel = lowering.forward if which == "forward" else lowering.vjps.get(which)
            if kernel is not None:
                return self.jit(kernel)
        if prim.kind != "elementwise" or params:
            return None
        if which == "forward":
            ufunc = prim.forward
            if not isinstance(ufunc, np.ufunc):
                return None
            return self.jit(_call_ufunc(ufunc), ("ufunc", ufunc))
        partial = prim.partials[which] if prim.partials else None
        return None if partial is None else self._partial_rule(partial, count - 2)

    def _partial_rule(self, partial: Any, arity: int) -> Any:
        """``g·∂`` from an elementwise entry's own partial, compiled by numba."""
        key = ("rule", partial, arity)
        if type(partial) in (int, float):
            return self.jit(_constant_rule(float(partial), arity), key)
        if isinstance(partial, mask):
            weight = self.jit(partial.weight)
            return self.jit(_rule(weight, arity, "mask", self.jit(_select)), key)
        if isinstance(partial, reciprocal):
            return self.jit(_rule(self.jit(partial.denominator), arity, "divide"), key)
        return self.jit(_rule(self.jit(partial), arity, "multiply"), key)


def _on_numpy(function: Callable[..., Any]) -> Callable[..., Any]:
    """The function with the array namespace ``xp`` of its module read as NumPy.

    The entries' partials are written with ``xp.cos(x)`` (the namespace of the
    arguments, see :mod:`chainrule.core.backend`); numba cannot compile that dispatch,
    and native code only ever holds NumPy arrays, so its copy sees ``np`` instead.
    """
    code = getattr(function, "__code__", None)
    if code is None:
        return function
    scope = function.__globals__
    names = [name for name in code.co_names if isinstance(scope.get(name), type(xp))]
    if not names:
        return function
    return types.FunctionType(
        code,
        {**scope, **dict.fromkeys(names, np)},
        function.__name__,
        function.__defaults__,
        function.__closure__,
    )


def _roles() -> dict[int, tuple[Any, Any]]:
    """id(function) -> (primitive, "forward" or the argument number of a VJP rule)."""
    roles: dict[int, tuple[Any, Any]] = {}
    for prim in PRIMITIVES.values():
        roles[id(prim.forward)] = (prim, "forward")
        if isinstance(prim.vjps, tuple):
            for argnum, rule in enumerate(prim.vjps):
                if rule is not None:
                    roles.setdefault(id(rule), (prim, argnum))
    return roles


def _call_ufunc(ufunc: np.ufunc) -> Callable[..., Any]:
    if ufunc.nin == 1:
        return lambda x: ufunc(x)
    return lambda x, y: ufunc(x, y)


def _constant_rule(constant: float, arity: int) -> Callable[..., Any]:
    """A constant partial: -1 negates (exactly, as the entry's rule does), others multiply."""
    if constant == -1:
        return (lambda g, ans, x: -g) if arity == 1 else (lambda g, ans, x, y: -g)
    if arity == 1:
        return lambda g, ans, x: g * constant
    return lambda g, ans, x, y: g * constant


def _rule(partial: Any, arity: int, how: str, select: Any = None) -> Callable[..., Any]:
    """The VJP of one argument: the cotangent times, over, or selected by the partial
    (``select``: :func:`_select` compiled)."""
    if how == "mask":
        if arity == 1:
            return lambda g, ans, x: select(partial(ans, x), g)
        return lambda g, ans, x, y: select(partial(ans, x, y), g)
    if how == "divide":
        if arity == 1:
            return lambda g, ans, x: g / partial(ans, x)
        return lambda g, ans, x, y: g / partial(ans, x, y)
    if arity == 1:
        return lambda g, ans, x: g * partial(ans, x)
    return lambda g, ans, x, y: g * partial(ans, x, y)


def _select(weight: Any, g: Any) -> Any:
    """core.primitive.select's result: g·weight, and 0 (not inf·0) where the weight is 0."""
    product = g * weight
    return np.where(weight != 0, product, np.zeros_like(product))


# --- optimizer steps -------------------------------------------------------------------------


def _updatable(param: Any) -> np.ndarray:
    """The parameter's array, ready for an in-place update: what ``Tensor._writable`` makes
    it (a private copy of a view, a scalar or a read-only array), also C-contiguous for the
    native loops. The values are unchanged, so the eager step's result is too."""
    data = param._data
    if (
        type(data) is not np.ndarray
        or data.base is not None
        or not data.flags.writeable
        or not data.flags.c_contiguous
    ):
        param._data = data = np.array(data, order="C")
    return data


def _own_state(state: dict, key: str) -> np.ndarray:
    """An optimizer state array, C-contiguous (loaded state may not be) for the native loops."""
    array = state[key]
    if not array.flags.c_contiguous or not array.flags.writeable:
        array = state[key] = np.array(array, order="C")
    return array


class NativeStep:
    """An ``optimizer.step()`` lowered into the program's last native segment.

    The trace recorded the step as one call; when every parameter's gradient at that
    point is a value of the program (zeroed, then one ``backward()``), the update is
    written as one kernel call per parameter in the segment that computed the
    gradients. :meth:`prepare` runs in Python before the segment at every call: it
    reads the hyperparameters (a learning-rate schedule is seen), creates missing state
    as the eager step does and counts Adam's steps; :meth:`finish` tells the engine the
    parameters were written. ``valid`` guards the optimizer's parameter list.
    """

    def __init__(self, optimizer: Any, updated: list[tuple[Any, Value]]) -> None:
        self.optimizer = optimizer
        self.updated = updated
        self.recorded = [tuple(group["params"]) for group in optimizer.param_groups]
        group_of = {
            id(p): i for i, group in enumerate(optimizer.param_groups) for p in group["params"]
        }
        self.groups = [group_of[id(param)] for param, _ in updated]
        self.adam = isinstance(optimizer, _adam_class())
        #: SGD without momentum in any group: no state arrays (guarded by :meth:`valid`).
        self.plain = not self.adam and not any(g["momentum"] for g in optimizer.param_groups)
        self.params = [param for param, _ in updated]
        self._pending: list[tuple[dict, str, Any]] = []

    def valid(self) -> bool:
        """Whether the optimizer still holds the parameters it held when traced (and, for
        SGD compiled without momentum buffers, still has no momentum)."""
        groups = self.optimizer.param_groups
        if len(groups) != len(self.recorded):
            return False
        for group, params in zip(groups, self.recorded, strict=True):
            current = group["params"]
            if len(current) != len(params) or not all(map(is_, current, params)):
                return False
            if self.plain and group["momentum"]:
                return False
        return True

    def prepare(self) -> tuple:
        """Everything the native update reads, for this call: per group its scalars, then
        per parameter its arrays (and Adam's per-step scalars). New state (a momentum
        buffer, Adam's step count) is committed by :meth:`finish`, after the segment ran."""
        groups = self.optimizer.param_groups
        states = self.optimizer.state
        values: list[Any] = []
        if self.plain:
            for group in groups:
                values += [float(group["lr"]), float(group["weight_decay"])]
                values.append(bool(group.get("maximize", False)))
            for param in self.params:
                values.append(_updatable(param))
                if param not in states:
                    states[param] = {}  # as the eager step leaves it
            self._pending = []
            return tuple(values)
        for group in groups:
            lr = float(group["lr"])
            if self.adam:
                beta1, beta2 = group["betas"]
                values += [
                    lr,
                    bool(group["amsgrad"]),
                    bool(group.get("maximize", False)),
                    float(group["weight_decay"]),
                    1.0 - lr * group["weight_decay"],
                    float(beta1),
                    1.0 - beta1,
                    float(beta2),
                    1.0 - beta2,
                    float(group["eps"]),
                ]
            else:
                values += [
                    lr,
                    float(group["weight_decay"]),
                    float(group["momentum"]),
                    1.0 - group["dampening"],
                    bool(group["nesterov"]),
                    bool(group.get("maximize", False)),
                ]
        pending = self._pending = []
        for (param, _), index in zip(self.updated, self.groups, strict=True):
            data = _updatable(param)
            state = states.get(param)
            if state is None:
                state = states[param] = {}
            group = groups[index]
            if self.adam:
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros(param.shape, param.dtype)
                    state["exp_avg_sq"] = np.zeros(param.shape, param.dtype)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = np.zeros(param.shape, param.dtype)
                step = state["step"] + 1
                pending.append((state, "step", step))
                beta1, beta2 = group["betas"]
                exp_avg_sq = _own_state(state, "exp_avg_sq")
                values += [
                    data,
                    _own_state(state, "exp_avg"),
                    exp_avg_sq,
                    _own_state(state, "max_exp_avg_sq") if group["amsgrad"] else exp_avg_sq,
                    group["lr"] / (1.0 - beta1**step),
                    math.sqrt(1.0 - beta2**step),
                ]
            else:
                buffer = state.get("momentum_buffer")
                first = buffer is None
                if first and group["momentum"]:
                    buffer = np.empty(param.shape, param.dtype)
                    pending.append((state, "momentum_buffer", buffer))
                elif not first:
                    buffer = _own_state(state, "momentum_buffer")
                values += [data, data if buffer is None else buffer, first]
        return tuple(values)

    def finish(self) -> None:
        """Commit the new state; tell the engine the parameters were written in place."""
        for state, key, value in self._pending:
            state[key] = value
        for param, _ in self.updated:
            note_write(param)

    def lines(self, name: str, kernels: _Kernels, inputs: list[str]) -> list[str]:
        """The native code: one kernel call per parameter, the scalars cast to its dtype."""
        per_group = 10 if self.adam else 3 if self.plain else 6
        update = _adam_update if self.adam else _sgd_plain_update if self.plain else _sgd_update
        kernel = kernels.jit(update)
        kernel_name = f"{update.__name__.strip('_')}_{id(kernel)}"
        _KERNEL_NAMES[kernel_name] = kernel
        codes = []
        start = len(self.optimizer.param_groups) * per_group
        per_param = 6 if self.adam else 1 if self.plain else 3
        for number, ((param, grad), group) in enumerate(
            zip(self.updated, self.groups, strict=True)
        ):
            cast = f"np.{param.dtype.name}"
            scalars = inputs[group * per_group : (group + 1) * per_group]
            mine = inputs[start + number * per_param : start + (number + 1) * per_param]
            if self.adam:
                _, amsgrad, maximize, decay, factor, b1, c1, b2, c2, eps = (
                    scalars  # lr: in step_size
                )
                data, m, v, largest, step_size, bias2 = mine
                fields = [
                    data,
                    grad.name,
                    m,
                    v,
                    largest,
                    amsgrad,
                    maximize,
                    f"{cast}({decay})",
                    f"{cast}({factor})",
                    str(bool(getattr(self.optimizer, "_decoupled_weight_decay", False))),
                    f"{cast}({b1})",
                    f"{cast}({c1})",
                    f"{cast}({b2})",
                    f"{cast}({c2})",
                    f"{cast}({step_size})",
                    f"{cast}({bias2})",
                    f"{cast}({eps})",
                ]
            elif self.plain:
                lr, decay, maximize = scalars
                fields = [mine[0], grad.name, f"{cast}({lr})", f"{cast}({decay})", maximize]
            else:
                lr, decay, momentum, dampening, nesterov, maximize = scalars
                data, buffer, first = mine
                fields = [
                    data,
                    grad.name,
                    f"{cast}({lr})",
                    f"{cast}({decay})",
                    f"{cast}({momentum})",
                    f"{cast}({dampening})",
                    nesterov,
                    maximize,
                    buffer,
                    first,
                ]
            codes.append(f"{name}_{number} = {kernel_name}({', '.join(fields)})")
        return codes


def _adam_class() -> type:
    from ..optim import Adam  # the compiler sits above optim; optim never imports it

    return Adam


def _step_plan(kept: list[Stmt]) -> tuple[NativeStep, list[Stmt], list[Stmt]] | None:
    """A lowered ``optimizer.step()``, the statements before it (run first) and the
    gradient hand-overs (run after the segment), or None when the step stays Python.

    Lowered only when the step is the program's last statement, is an SGD, Adam or
    AdamW step without closure on real floating parameters, and every gradient it
    reads is known: ``.grad`` zeroed in the program (zero_grad, ``= None``) and then
    set by one ``backward()`` to a value of the program in the parameter's dtype.
    """
    from ..optim import SGD, Adam, AdamW

    body = [stmt for stmt in kept if not _comment(stmt)]
    if not body or body[-1].target is not None:
        return None
    step = body[-1]
    optimizer = getattr(step.function, "__self__", None)
    if type(optimizer) not in (SGD, Adam, AdamW) or step.function.__name__ != "step":
        return None
    if step.arguments:
        return None
    known: dict[int, Value | None] = {}  # id(tensor) -> its .grad value (None: no gradient)
    handovers: list[Stmt] = []
    rest: list[Stmt] = []
    for stmt in kept[: kept.index(step)]:
        if stmt.target is not None:
            if stmt.template == "{0}.grad._data":
                return None  # a gradient read inside the program: the order matters
            rest.append(stmt)
            continue
        if _comment(stmt):
            rest.append(stmt)
            continue
        handovers.append(stmt)
        function = stmt.function
        if stmt.template == "{0}.grad = None" or getattr(function, "__name__", "") in (
            "zero_grad",
            "zero_grads",
        ):
            for tensor in stmt.touches:
                known[id(tensor)] = None
        elif (
            stmt.arguments
            and len(stmt.operands) == 2
            and stmt.touches
            and isinstance(stmt.operands[1], Value)
        ):
            tensor, grad = stmt.touches[0], stmt.operands[1]
            if id(tensor) not in known or known[id(tensor)] is not None:
                return None
            if not isinstance(grad.value, np.ndarray) or grad.value.dtype != tensor.dtype:
                return None
            if grad.value.shape != tensor.shape:
                return None
            known[id(tensor)] = grad
        else:
            return None
    updated = []
    for group in optimizer.param_groups:
        for param in group["params"]:
            if id(param) not in known:
                return None
            grad = known[id(param)]
            if grad is not None:
                if param.dtype.kind != "f":
                    return None
                updated.append((param, grad))
    if not updated:
        return None
    return NativeStep(optimizer, updated), rest, handovers


def _handover(stmt: Stmt) -> list[str]:
    """The wrapper's lines for an effect after the segment. A gradient handed to a ``.grad``
    that is None (zeroed earlier in the program) becomes it as it is, as the engine's
    accumulate does with an array no one else holds in the parameter's dtype; anything
    else calls accumulate itself."""
    if stmt.arguments != (True,) or len(stmt.operands) != 2 or not stmt.touches:
        return ["    " + stmt.text()]
    tensor, grad = stmt.operands
    if not isinstance(grad, Value) or not isinstance(grad.value, np.ndarray):
        return ["    " + stmt.text()]
    if grad.value.dtype != stmt.touches[0].dtype:
        return ["    " + stmt.text()]
    return [
        f"    if {tensor.text}._grad is None:",
        f"        {tensor.text}._grad = wrap({grad.name})",
        "    else:",
        "        " + stmt.text(),
    ]


def _comment(stmt: Stmt) -> bool:
    return stmt.target is None and stmt.template.startswith("#")


# --- the program: segments of lowered statements around Python ------------------------------


def _weak(operand: Operand, dtype: np.dtype, elementwise: bool) -> str:
    """An operand's text in native code; a Python number beside floating arrays of
    ``dtype`` is written in that dtype (NumPy 2 treats it as weak; numba would widen
    float32 to float64)."""
    if (
        elementwise
        and isinstance(operand, Literal)
        and type(operand.value) in (int, float)
        and np.dtype(dtype).kind == "f"
    ):
        return f"np.{np.dtype(dtype).name}({operand.text})"
    return render(operand)


def _natively_typed(kernel: Any, stmt: Stmt, texts: list[str], numba: Any) -> bool:
    """Whether numba compiles the kernel for the statement's trace-time arguments and the
    result has the trace's dtype and rank (a float32 program must stay float32)."""
    count = len(stmt.operands) - len(stmt.keywords)
    values = []
    for op, text in zip(stmt.operands, texts, strict=True):
        value = op.value
        if text.startswith("np.float") and type(value) in (int, float):
            value = np.dtype(text[3 : text.index("(")]).type(value)
        values.append(value)
    try:
        result = kernel(*values[:count], **dict(zip(stmt.keywords, values[count:], strict=True)))
    except Exception:  # noqa: BLE001 - numba's typing errors have no common base we can rely on
        return False
    return _same_kind(result, stmt.target.value)


def _same_kind(native: Any, traced: Any) -> bool:
    if type(traced) is tuple:
        return (
            type(native) is tuple
            and len(native) == len(traced)
            and all(_same_kind(a, b) for a, b in zip(native, traced, strict=True))
        )
    if traced is None:
        return native is None
    if isinstance(traced, np.ndarray):
        return (
            isinstance(native, np.ndarray)
            and native.dtype == traced.dtype
            and native.shape == traced.shape
        )
    if isinstance(traced, np.generic):
        # numba hands every float back as a Python float: the rank is what can be checked,
        # and the wrapper makes it a NumPy scalar of the trace's dtype again.
        return np.ndim(native) == 0 and not isinstance(native, np.ndarray)
    return False


def _lowered(stmt: Stmt, kernels: _Kernels, native: set[int]) -> str | None:
    """The statement's native code (``v3 = k_sigmoid(v2)``), or None when it stays NumPy."""
    if stmt.target is None:
        return None
    match = _ITEM.match(stmt.template)
    if match and stmt.function is None:
        source = stmt.operands[0]
        if isinstance(source, Value) and id(source) in native:
            return f"{stmt.target.name} = {source.name}[{match.group(1)}]"
        return None
    if stmt.function is None or not all(_nativeable(op) for op in stmt.operands):
        return None
    kernel = kernels.find(stmt)
    if kernel is None:
        return None
    dtype = getattr(stmt.target.value, "dtype", None)
    role = kernels._roles.get(id(stmt.function))
    elementwise = (
        stmt.function is np.add or (role is not None and role[0].kind == "elementwise")
    ) and dtype is not None
    texts = [_weak(op, dtype, elementwise) for op in stmt.operands]
    if not _natively_typed(kernel, stmt, texts, kernels.numba):
        return None
    count = len(texts) - len(stmt.keywords)
    fields = texts[:count] + [f"{k}={t}" for k, t in zip(stmt.keywords, texts[count:], strict=True)]
    name = f"{_readable(stmt, kernels)}_{id(kernel)}"
    _KERNEL_NAMES[name] = kernel
    return f"{stmt.target.name} = {name}({', '.join(fields)})"


_KERNEL_NAMES: dict[str, Any] = {}


def _readable(stmt: Stmt, kernels: _Kernels) -> str:
    """``sigmoid``, ``linear_vjp1``, ``add``: what the kernel computes, for the source."""
    role = kernels._roles.get(id(stmt.function))
    if role is None:
        return "add"
    prim, which = role
    return prim.name if which == "forward" else f"{prim.name}_vjp{which}"


def _nativeable(operand: Operand) -> bool:
    """Operands numba can take: arrays, NumPy scalars, numbers, None, strings."""
    if isinstance(operand, Expr):
        return False
    value = operand.value
    if isinstance(operand, Literal):
        return value is None or isinstance(value, (bool, int, float, str))
    return isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "biuf"


_counter = itertools.count()


def generate_native(
    name: str,
    parameters: list[str],
    statements: list[Stmt],
    result: Operand,
    namespace: dict[str, Any],
    signature: str,
) -> Program:
    """The program's Python wrapper, with runs of lowered statements as numba functions."""
    kernels = _Kernels(numba_module())
    kept = live_statements(statements, result)
    plan = _step_plan(kept)
    handovers: list[Stmt] = []
    scope = dict(namespace)
    lines = [
        f"def {name}({', '.join(parameters)}):",
        f'    """{signature}: generated by chainrule.compile(backend="numba")."""',
    ]
    native_step = None
    if plan is not None:
        native_step, kept, handovers = plan
        scope["native_step"] = native_step
        prepared = [Value(f"s{i}", value, "op") for i, value in enumerate(native_step.prepare())]
        lines.append(f"    ({''.join(v.name + ', ' for v in prepared)}) = native_step.prepare()")
    native_ids: set[int] = set()
    codes: list[str | None] = []
    for stmt in kept:
        code = _lowered(stmt, kernels, native_ids)
        if code is not None:
            native_ids.add(id(stmt.target))
        codes.append(code)
    if native_step is not None:
        grads = [grad for _, grad in native_step.updated]
        kept = [*kept, Stmt(None, "native_step.finish()", [*prepared, *grads])]
        codes.append("\n    ".join(native_step.lines("u", kernels, [v.name for v in prepared])))
    segments: list[str] = []
    index = 0
    while index < len(kept):
        if codes[index] is None:
            lines.append("    " + kept[index].text())
            index += 1
            continue
        end = index
        while end < len(kept) and (
            codes[end] is not None or _pure_read(kept[end]) or _comment(kept[end])
        ):
            end += 1
        run = [(kept[i], codes[i]) for i in range(index, end)]
        lines.extend(_segment(run, kept[end:] + handovers, result, scope, kernels, segments))
        index = end
    if handovers:
        scope["wrap"] = _wrap
        lines += [line for stmt in handovers for line in _handover(stmt)]
    if native_step is not None:
        lines.append("    native_step.finish()")
    returned = _numbers_returned(lines, render(result))
    last = _SEGMENT_CALL.match(lines[-1])
    if last and lines[-1].split(" = ", 1)[0].strip() == f"({returned[1:-1]}, )":
        lines[-1] = "    return " + lines[-1].split(" = ", 1)[1]  # the segment's tuple itself
    else:
        lines.append("    return " + returned)
    source = "\n".join(lines) + "\n"
    filename = f"<chainrule.compile numba {name} #{next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(builtins.compile(source, filename, "exec"), scope)
    program = Program("\n".join([source, *segments]), scope[name], signature)
    if native_step is not None:
        program.guard = native_step.valid
    program.numbers = _number_parameters(parameters, lines, returned)
    return program


def _numbers_returned(lines: list[str], returned: str) -> str:
    """The result's text with numbers a segment returned handed out as they are: a
    ``v = np.float64(v)`` whose only later use is ``v.item()`` in the result is dropped,
    and ``v.item()`` becomes ``v`` (numba returns the same Python float)."""
    for index in range(len(lines) - 1, -1, -1):
        found = _CONVERSION.match(lines[index])
        if not found:
            continue
        name = found.group(1)
        used = re.compile(rf"\b{name}\b")
        if any(used.search(line) for line in lines[index + 1 :]):
            continue
        item = f"{name}.item()"
        if len(used.findall(returned)) != returned.count(item):
            continue
        del lines[index]
        returned = returned.replace(item, name)
    return returned


_CONVERSION = re.compile(r"^    (\w+) = np\.\w+\(\1\)$")


#: Names of the segments called through their entry point (names are never reused).
_NUMBER_SEGMENTS: set[str] = set()


def _number_parameters(parameters: list[str], lines: list[str], returned: str) -> frozenset:
    """The arguments (0-d, not Tensors) that only segments of numbers read: their entry
    points convert a Python float or a NumPy scalar themselves, so the fast path of
    :mod:`chainrule.jit` passes such an argument as it came."""
    numbers = set()
    for name in parameters:
        if not name.startswith("x"):
            continue
        used = re.compile(rf"\b{name}\b")
        if used.search(returned):
            continue
        readers = [line for line in lines[2:] if used.search(line)]
        calls = [_SEGMENT_CALL.match(line) for line in readers]
        if readers and all(c and c.group(1) in _NUMBER_SEGMENTS for c in calls):
            numbers.add(int(name[1:]))
    return frozenset(numbers)


_SEGMENT_CALL = re.compile(r"^    (?:\([\w, ]*\) =|return) (segment\d+_\d+)\(")


def _segment(
    run: list[tuple[Stmt, str | None]],
    later: list[Stmt],
    result: Operand,
    scope: dict[str, Any],
    kernels: _Kernels,
    segments: list[str],
) -> list[str]:
    """The wrapper's lines for a run of statements: reads first, then one native call.

    The segment takes the values it reads from outside and returns those read after
    it; NumPy scalars come back from numba as Python numbers and are made NumPy
    scalars of their dtype again.
    """
    lines = ["    " + stmt.text() for stmt, code in run if code is None]
    natives = [(stmt, code) for stmt, code in run if code is not None]
    made = {id(stmt.target) for stmt, _ in natives}
    inputs: dict[int, Value] = {}
    constants: set[str] = set()
    for stmt, _ in natives:
        for op in stmt.operands:
            if isinstance(op, Value) and op.kind == "const":
                constants.add(op.name)
            for v in uses(op):
                if id(v) not in made:
                    inputs.setdefault(id(v), v)
    needed = {id(v) for stmt in later for op in stmt.operands for v in uses(op)}
    needed.update(id(v) for v in uses(result))
    outputs = [
        stmt.target for stmt, _ in natives if stmt.target is not None and id(stmt.target) in needed
    ]
    effects = any(stmt.target is None for stmt, _ in natives)
    if not outputs and not effects:
        return lines
    function = f"segment{len(segments)}"
    arguments = ", ".join(v.name for v in inputs.values())
    body = [f"def {function}({arguments}):"]
    body += ["    " + code for _, code in natives]
    body.append(f"    return ({''.join(v.name + ', ' for v in outputs)})")
    source = "\n".join(body) + "\n"
    segment_scope = {"np": np, **{c: scope[c] for c in constants}, **_KERNEL_NAMES}
    exec(builtins.compile(source, f"<chainrule.compile numba {function}>", "exec"), segment_scope)
    name = f"{function}_{next(_counter)}"
    compiled = kernels.numba.njit(segment_scope[function])
    numbers = all(_number(v.value) for v in inputs.values())
    if numbers:  # 0-d inputs are read as the numbers they hold
        types = tuple(kernels.numba.from_dtype(np.result_type(v.value)) for v in inputs.values())
    else:
        types = tuple(kernels.numba.typeof(v.value) for v in inputs.values())
    try:  # compiled now, for the trace's types: a failure falls back to NumPy, not an error
        compiled.compile(types)
    except Exception as error:  # noqa: BLE001 - numba's typing and lowering errors share no base
        if effects:  # an optimizer step written for numba only: a bug of this module
            raise RuntimeError(f"compile: numba could not compile {function}: {error}") from error
        return lines + ["    " + stmt.text() for stmt, _ in natives]
    # A segment of numbers is called through its compiled entry point, skipping numba's
    # type dispatch: each argument is converted to the signature's number type (a 0-d
    # array or NumPy scalar of the traced dtype, as the signature guarantees).
    scope[name] = compiled.overloads[types].entry_point if numbers else compiled
    if numbers:
        _NUMBER_SEGMENTS.add(name)
    segments.append(source)
    targets = "".join(v.name + ", " for v in outputs)
    lines.append(f"    ({targets}) = {name}({arguments})")
    for v in outputs:
        if isinstance(v.value, np.generic):
            lines.append(f"    {v.name} = np.{v.value.dtype.name}({v.name})")
    return lines


def _number(value: Any) -> bool:
    """A real floating number, or a 0-d array of one."""
    return (
        isinstance(value, (np.generic, np.ndarray)) and value.ndim == 0 and value.dtype.kind == "f"
    )


def _pure_read(stmt: Stmt) -> bool:
    """``p0 = param0._data``: a read with no effect, safe to run before a segment."""
    return stmt.target is not None and stmt.template == "{0}._data"
