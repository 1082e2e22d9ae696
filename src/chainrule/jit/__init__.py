"""chainrule.compile: trace a gradient function or a training step once, replay it as code.

Layer: jit (imports core, tensor, the program builder and the tracer; nothing in
chainrule imports it but the package's ``__init__``).

The first call with a new input signature (the shapes and dtypes of the array and
Tensor arguments, the values of the other arguments, grad mode and the default
dtype) runs the function eagerly while a :class:`~chainrule.jit.trace.Tracer` is the
current trace of this context. Tracing is a mode of the dispatcher: ``apply`` tells
the trace of every primitive application, ``engine.backprop`` runs its one sweep
with the trace as recorder, optimizers and ``zero_grad`` report their calls. Nothing
is patched, and eager code in other threads is unaffected. The record becomes one
straight-line Python function: each primitive's own ``forward``, the reverse sweep
as calls to the primitives' own VJP rules (broadcasts undone and dtypes fixed by the
engine's ``fit_to``), gradients handed to ``.grad`` through the engine's own
accumulate function, and ``zero_grad()``/``step()`` calls on the same optimizer
objects. Later calls with that signature run the generated function only: no graph,
no topological sort, no Tensor per operation. A repeated call is checked against the
signature used last by code generated for it (JAX's cached dispatch), so it costs a few
attribute reads before the generated function runs.

What cannot be recorded is refused with :class:`~chainrule.errors.CompileError`,
naming the operation and the line of the user's code, never frozen as a constant:

- a traced value leaving for Python: ``float()``, ``int()``, ``bool()`` (so an ``if``
  or ``while`` on a traced tensor: data-dependent control flow), ``.item()``,
  ``.tolist()``, ``.numpy()``, ``.data``, ``np.asarray``/``np.array``;
- NumPy functions on traced tensors that are not chainrule primitives;
- in-place writes (``t += 1``, ``t[i] = v``, ``t.data = v``, ``copy_``) other than the
  optimizer's and ``zero_grad``'s, and ``optimizer.step(closure)``;
- random draws (Dropout in training mode, shuffling);
- forward mode (``jvp``) and higher-order derivatives (``create_graph``, ``grad`` of
  ``grad``);
- a gradient flowing into a graph recorded outside the compiled function, and
  ``backward()`` into ``.grad`` of a tensor made inside it;
- an argument copied or converted outside chainrule operations (``cr.tensor(x)`` of
  an argument, ``x.astype(...)``), which would freeze the copy.

Comparisons, ``~``, ``argmax``, ``where``, ``sign`` and the other non-differentiable
operations are primitives, so masks and indices computed from traced values are
recomputed at every call. Python control flow on values that are *not* traced (the
signature's Python numbers, constants made inside) is fine; it is fixed per signature.
Parameters are read from their live tensors at every call, so eager and compiled
steps can be mixed and ``load_state_dict`` is seen; optimizer hyperparameters
(``lr``) are read at every call too. Side effects other than ``backward()`` into
``.grad``, ``t.grad = None``, ``zero_grad()`` and ``optimizer.step()`` (printing,
appending to lists, learning-rate schedulers called inside) happen only while tracing;
assigning a tensor to ``.grad`` is refused. Tensors returned
by a compiled function carry no graph. The first call of a signature runs ``fn``
eagerly, so its effects have happened even when compilation then fails.
"""

from __future__ import annotations

import builtins
import functools
import keyword
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from ..core.backend import NUMPY_TYPES
from ..core.mode import current_mode, current_trace, is_grad_enabled
from ..tensor import Tensor, get_default_dtype
from .native import generate_native, numba_module
from .program import Program, generate
from .trace import Tracer

#: The code generators of chainrule.compile: NumPy source (the default), or numba.
BACKENDS = ("numpy", "numba")

__all__ = ["Compiled", "compile"]


def _convert(value: Any, key: list, dynamic: list) -> Any:
    """Append ``value``'s part of the signature to ``key`` and its arrays to ``dynamic``.

    Returns the value the traced function receives. Arrays, Python floats and NumPy
    scalars arrive as Tensors (without gradient) holding the caller's array, so NumPy
    calls on them dispatch to chainrule operations and are traced like the rest;
    raw NumPy arithmetic on a plain array could not be seen, and would be frozen.
    """
    if isinstance(value, Tensor):
        data = value._data
        if type(data) in NUMPY_TYPES:
            key.append((Tensor, data.shape, data.dtype, value.requires_grad))
        else:  # another library's array: its type first, and a dtype it can be compared by
            key.append((Tensor, type(data), data.shape, str(data.dtype), value.requires_grad))
        dynamic.append(value)
        return value
    if isinstance(value, np.ndarray):
        key.append((np.ndarray, value.shape, value.dtype))
        dynamic.append(value)
        return Tensor(value)
    if type(value) is float or isinstance(value, np.generic):
        array = np.asarray(value, dtype=get_default_dtype() if type(value) is float else None)
        key.append((np.ndarray, (), array.dtype))
        dynamic.append(array)
        return Tensor(array)
    if type(value) in (tuple, list):
        key.append((type(value), len(value)))
        return type(value)(_convert(item, key, dynamic) for item in value)
    if type(value) is dict:
        key.append((dict, tuple(value)))
        return {name: _convert(item, key, dynamic) for name, item in value.items()}
    try:
        key.append((type(value), hash(value), value))
    except TypeError:
        key.append((type(value), id(value), _Identity(value)))
    return value


def _aliasing(dynamic: list) -> tuple[int, ...]:
    """Which arguments are the same object (or Tensors holding the same array): a program
    traced with ``f(t, t)`` treats both as one value, so it serves only calls alike."""
    first: dict[int, int] = {}
    pattern = []
    for index, value in enumerate(dynamic):
        data = value._data if isinstance(value, Tensor) else value
        pattern.append(first.setdefault(id(data), index))
    return tuple(pattern)


class _Identity:
    """An unhashable argument in a signature: equal only to itself, kept alive by the key."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Identity) and other.value is self.value

    def __hash__(self) -> int:
        return id(self.value)


def _all(first: Callable[[], bool], second: Callable[[], bool] | None) -> Callable[[], bool]:
    """Both checks (the trace's guards and the code generator's), or the first alone."""
    if second is None:
        return first
    return lambda: first() and second()


#: What a fast path returns when the call does not match its signature.
_MISS = object()


def _fast_path(signature: tuple, program: Program) -> Callable[[tuple], Any] | None:
    """A check of one signature written out as code, then the program: JAX's cached
    dispatch. A repeated call with arguments of the same kinds, shapes and dtypes, the
    same modes and unchanged guards goes straight to the generated function; anything
    else returns ``_MISS`` and takes the general path (which may trace again).

    None when an argument is of a kind the check does not spell out (a sequence, a
    dict, an unhashable object): such calls always take the general path.
    """
    grad, dtype, *arguments, aliasing = signature
    scope: dict[str, Any] = {
        "MISS": _MISS,
        "current_mode": current_mode,
        "tensors": sys.modules[Tensor.__module__],  # its default dtype, read at each call
        "Tensor": Tensor,
        "ndarray": np.ndarray,
        "asarray": np.asarray,
        "generic": np.generic,
        "valid": program.valid,
        "function": program.function,
        "DEFAULT": dtype,
    }
    names = [f"a{i}" for i in range(len(arguments))]
    lines = [
        "def fast(args):",
        f"    if len(args) != {len(arguments)}:",
        "        return MISS",
        "    mode = current_mode()",
        f"    if mode.trace is not None or mode.grad is not {grad} "
        "or tensors._default_dtype is not DEFAULT:",
        "        return MISS",
        f"    ({''.join(n + ', ' for n in names)}) = args",
    ]
    passed = []
    held = []  # the arguments passed as they are: they may be one object
    for index, (name, entry) in enumerate(zip(names, arguments, strict=True)):
        kind = entry[0]
        slot = len(passed)  # its place among the arrays the program takes (``dynamic``)
        scope[f"S{index}"], scope[f"D{index}"] = entry[1:3] if len(entry) >= 3 else (None, None)
        if kind is Tensor and len(entry) != 4:
            return None  # another library's array: the general path checks it
        if kind is Tensor:
            lines += [
                f"    if not isinstance({name}, Tensor) or {name}.requires_grad is not {entry[3]}:",
                "        return MISS",
                f"    d{index} = {name}._data",
            ]
            passed.append(name)
            shared = True
        elif kind is np.ndarray and entry[1] == () and slot in program.numbers:
            # Only native code reads it, and converts a number itself: passed as it is.
            lines += [
                f"    if type({name}) is not float and not "
                f"(isinstance({name}, generic) and {name}.dtype == D{index}):",
                "        return MISS",
            ]
            passed.append(name)
            continue
        elif kind is np.ndarray and entry[1] == () and aliasing[slot] == slot:
            # A Python float or a NumPy scalar, converted as _convert does (a 0-d array
            # may be shared with another argument: the general path checks it).
            lines += [
                f"    if type({name}) is float:",
                f"        d{index} = asarray({name}, dtype=DEFAULT)",
                f"    elif isinstance({name}, generic):",
                f"        d{index} = asarray({name})",
                "    else:",
                "        return MISS",
            ]
            passed.append(f"d{index}")
            shared = False
        elif kind is np.ndarray:
            lines += [
                f"    if not isinstance({name}, ndarray):",
                "        return MISS",
                f"    d{index} = {name}",
            ]
            passed.append(name)
            shared = True
        elif kind in (int, bool, str, type(None)) and len(entry) == 3:
            scope[f"V{index}"] = entry[2]
            lines += [
                f"    if type({name}) is not {kind.__name__} or {name} != V{index}:",
                "        return MISS",
            ]
            continue
        else:
            return None
        lines += [
            f"    if d{index}.shape != S{index} or d{index}.dtype != D{index}:",
            "        return MISS",
        ]
        if shared:
            held.append((index, slot))
    for position, (i, first) in enumerate(held):  # the aliasing the program was traced with
        for j, second in held[:position]:
            same = aliasing[first] == aliasing[second]
            lines += [f"    if (d{i} is d{j}) is not {same}:", "        return MISS"]
    lines += ["    if not valid():", "        return MISS"]
    lines.append(f"    return function({', '.join(passed)})")
    exec(builtins.compile("\n".join(lines) + "\n", "<chainrule.compile fast path>", "exec"), scope)
    return scope["fast"]


def _describe(value: Any) -> str:
    data = value._data if isinstance(value, Tensor) else value
    dims = ", ".join(str(n) for n in data.shape)
    return f"{'Tensor ' if isinstance(value, Tensor) else ''}{data.dtype}[{dims}]"


class Compiled:
    """A function compiled by :func:`compile`: call it like the original.

    ``source`` is the generated code of the signature used last; ``programs``
    lists every signature traced so far with its source.
    """

    def __init__(self, fn: Callable[..., Any], backend: str = "numpy") -> None:
        # First: update_wrapper copies fn's __dict__, which must not replace ours.
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.backend = backend
        self._programs: dict[tuple, Program] = {}
        self._last: Program | None = None
        self._fast: Callable[[tuple], Any] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fast = self._fast
        if fast is not None and not kwargs:
            result = fast(args)
            if result is not _MISS:
                return result
        if current_trace() is not None:
            # Inside another trace: run eagerly, so the outer trace records every operation.
            return self.fn(*args, **kwargs)
        key: list = [is_grad_enabled(), get_default_dtype()]
        dynamic: list = []
        args = tuple(_convert(a, key, dynamic) for a in args)
        if kwargs:
            key.append(tuple(kwargs))
            kwargs = {name: _convert(v, key, dynamic) for name, v in kwargs.items()}
        key.append(_aliasing(dynamic))
        signature = tuple(key)
        program = self._programs.get(signature)
        if program is None or not program.valid():
            return self._trace(signature, args, kwargs, dynamic)
        self._last = program
        self._fast = None if kwargs else program.fast
        return program.function(*dynamic)

    def _trace(self, signature: tuple, args: tuple, kwargs: dict, dynamic: list) -> Any:
        name = getattr(self.fn, "__name__", "")
        if not name.isidentifier() or keyword.iskeyword(name):
            name = "compiled"
        tracer = Tracer(name)
        names = []
        for index, value in enumerate(dynamic):
            name_of_input = f"{'t' if isinstance(value, Tensor) else 'x'}{index}"
            tracer.add_input(value, name_of_input)
            names.append(name_of_input)
        result, expression = tracer.run(self.fn, args, kwargs)
        described = ", ".join(f"{n}: {_describe(v)}" for n, v in zip(names, dynamic, strict=True))
        program = (generate_native if self.backend == "numba" else generate)(
            name,
            names,
            tracer.statements,
            expression,
            tracer.namespace,
            f"{name}({described})",
        )
        program.valid = _all(tracer.guards(), program.guard)
        if not kwargs:
            program.fast = _fast_path(signature, program)
        self._programs[signature] = program
        self._last = program
        self._fast = program.fast
        return result

    @property
    def source(self) -> str:
        """The generated Python source for the signature used last."""
        if self._last is None:
            raise RuntimeError(
                "compile: no source yet; the function is traced on its first call, so call it once"
            )
        return self._last.source

    @property
    def programs(self) -> list[Program]:
        """Every traced signature's program (``.signature``, ``.source``), oldest first."""
        return list(self._programs.values())


def compile(fn: Callable[..., Any], backend: str = "numpy") -> Compiled:  # noqa: A001
    """Trace ``fn`` once per input signature and replay it as generated straight-line code.

    ``fn`` may be a gradient function (``value_and_grad(loss)``) or a whole training
    step that calls ``backward()`` and ``optimizer.step()``; results equal eager
    mode's. See :mod:`chainrule.jit` for what is frozen at trace time.

    ``backend="numba"`` (the ``jit`` extra) compiles the traced arithmetic to native
    code with numba: runs of statements with native kernels become one numba function
    each, the rest runs as NumPy (see :mod:`chainrule.jit.native`). The name is JAX's
    and PyTorch's.

    >>> import numpy as np
    >>> import chainrule as cr
    >>> from chainrule.jit import compile
    >>> f = compile(cr.value_and_grad(lambda w: (w * w).sum()))
    >>> f(np.array([1.0, 2.0]))
    (5.0, array([2., 4.]))
    >>> print(f.source.splitlines()[0])
    def compiled(x0):
    """
    if backend not in BACKENDS:
        raise ValueError(f"compile: backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "numba":
        numba_module()  # MissingExtraError now, not at the first call
    return Compiled(fn, backend)
