"""Tensor: a NumPy array plus the node that recorded how it was computed.

Layer: tensor (imports core and ops). A Tensor is its own graph node: an operation
on Tensors calls :func:`apply`, which runs the primitive's forward function on the
arrays and, when grad mode is on and an operand requires grad, records the
primitive, its operands and its parameters on the result. ``backward`` hands the
graph to :mod:`chainrule.core.engine`.

A 0-d value computed by an operation is held as a NumPy scalar (``np.float64``,
``np.float32``, ...) rather than a 0-d array: NumPy's scalar arithmetic skips the
array machinery, which is most of the cost of a scalar graph. ``.data`` always
gives an ndarray.

Tensors also speak NumPy's dispatch protocols (``__array_ufunc__`` and
``__array_function__``): ``np.cos(t)`` is ``chainrule.cos(t)``. That is what lets
the derivative rules in :mod:`chainrule.ops`, written with NumPy, run on Tensors
to record the backward pass for higher-order derivatives. The named methods
(``t.exp()``, ``t.sum(axis=0)``) and the NumPy dispatch tables are generated from
the registry by :mod:`chainrule.functions`; this module keeps the operators.

Nothing leaves the graph implicitly: ``np.asarray(t)``, ``t.numpy()`` and NumPy
operations without a derivative refuse a tensor that requires grad while grad mode
is on (:class:`~chainrule.errors.DetachError`); ``t.detach()`` says it on purpose.
Under ``no_grad()`` nothing is recorded, so nothing can be lost, and they are allowed.
Sequences holding Tensors (``[x, 2 * x]``) become Tensors on the graph (a stack).
"""

from __future__ import annotations

import copy
import itertools
import operator
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from .core import backend, engine
from .core.mode import current_mode
from .core.primitive import Primitive, Traceable, set_apply_hook
from .errors import ChainruleError, DetachError, DtypeError, ShapeError
from .ops import shape as shape_ops

_default_dtype = np.dtype(np.float64)


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype given to Python floats and lists of floats (float64 unless changed).

    >>> import chainrule as cr, numpy as np
    >>> cr.set_default_dtype(np.float32); cr.tensor(1.5).dtype
    dtype('float32')
    >>> cr.set_default_dtype(np.float64)
    """
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise DtypeError(f"the default dtype must be a floating point type, got {dtype}")
    _default_dtype = dtype


def get_default_dtype() -> np.dtype:
    """The dtype given to Python floats and lists of floats."""
    return _default_dtype


def _to_array(data: Any, dtype: Any = None, copy: bool = False) -> np.ndarray:
    """An ndarray from Python scalars, lists, arrays or Tensors.

    Python floats (and lists holding them) get the default dtype; Python ints
    int64 and bools bool, as in PyTorch; NumPy arrays keep their dtype. Arrays of another
    library (CuPy, any Array API namespace) stay that library's, on their device.
    """
    if isinstance(data, Tensor):
        data = data._data
    if _is_foreign(data):
        space = backend.namespace(data)
        if dtype is not None:
            return space.astype(data, _foreign_dtype(space, dtype), copy=copy)
        return space.asarray(data, copy=True) if copy else data
    if dtype is not None:
        return np.array(data, dtype=dtype, copy=copy or None)
    if isinstance(data, (np.ndarray, np.generic)):
        return np.array(data, copy=copy or None)
    array = np.asarray(data)
    if array.dtype.kind == "f" and array.dtype != _default_dtype:
        array = array.astype(_default_dtype)
    elif array.dtype.kind == "i":
        array = array.astype(np.int64, copy=False)
    elif array.dtype.kind not in "biucf":
        raise DtypeError(
            f"cannot make a tensor from {type(data).__name__} data of dtype {array.dtype}"
        )
    return array


def _is_foreign(data: Any) -> bool:
    """Whether ``data`` is an array of a library other than NumPy (CuPy, array_api_strict)."""
    return type(data) not in backend.NUMPY_TYPES and (
        hasattr(data, "__array_namespace__") or type(data).__module__.startswith("cupy")
    )


def _foreign_dtype(space: Any, dtype: Any) -> Any:
    """The library's own dtype for a NumPy dtype (or for one of its own)."""
    if isinstance(dtype, (np.dtype, type, str)):
        return getattr(space, np.dtype(dtype).name)
    return dtype


def _refuse_grad(array: np.ndarray) -> None:
    raise DtypeError(
        f"only floating point tensors can require gradients, got dtype {array.dtype} "
        "(integer data: write 2.0 instead of 2, or pass dtype=np.float64)"
    )


class Tensor(Traceable):
    """An n-dimensional array that records operations for differentiation.

    >>> import chainrule as cr
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> y = x * x + 3 * x
    >>> y.backward()
    >>> x.grad
    tensor(7.)
    """

    __slots__ = (
        "_data",
        "requires_grad",
        "_grad",
        "_prim",
        "_inputs",
        "_params",
        "_values",
        "_stamp",
        "_version",
        "_retain",
        "_seq",
        "_adjoint",
        "_res",
        "__weakref__",
    )

    __hash__ = object.__hash__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        converted = None
        if type(data) is float and dtype is None:
            value = _default_dtype.type(data)
        elif dtype is None and isinstance(data, np.generic):
            value = data  # immutable: held as it is
        else:
            value = _to_array(data, dtype)
            if value.ndim == 0 and type(value) is np.ndarray and not isinstance(data, np.ndarray):
                value = value[()]
            trace = current_mode().trace
            if trace is not None:
                converted = trace.converted
        if requires_grad and not (
            value.dtype.kind in "fc" if type(value) in _VALUE_TYPES else _floating(value)
        ):
            _refuse_grad(value)
        self._data = value
        self._seq = next(_creation_order)
        self._adjoint = None
        self._res = None
        self.requires_grad = requires_grad
        self._grad: Tensor | None = None
        self._prim: Primitive | None = None
        self._inputs: tuple | None = None
        self._values: list | None = None
        self._params: dict = _NO_PARAMS
        self._stamp = 0
        self._version = 0
        self._retain = False
        if converted is not None:  # a copy or conversion of data a trace may be following
            converted(self, data)

    # --- array facts ----------------------------------------------------------
    def __deepcopy__(self, memo: dict) -> Tensor:
        """A copy of this tensor and of the graph behind it, without recursion.

        Every node it reaches through its inputs is copied first, oldest first, so each
        copy finds its inputs' copies already made (a chain of a million operations is
        fine) and the copies keep the creation order: inputs older than consumers.
        """
        pending, stack = [], [self]
        while stack:
            node = stack.pop()
            if id(node) in memo:
                continue
            memo[id(node)] = None  # claimed; replaced by its copy below
            pending.append(node)
            if node._inputs is not None:
                stack.extend(i for i in node._inputs if isinstance(i, Tensor) and id(i) not in memo)
        for node in sorted(pending, key=_seq_of):
            copied = _new_node(type(node))
            for name in _COPIED_SLOTS:
                setattr(copied, name, copy.deepcopy(getattr(node, name), memo))
            if hasattr(node, "__dict__"):
                copied.__dict__.update(copy.deepcopy(node.__dict__, memo))
            copied._seq = next(_creation_order)
            copied._adjoint = None
            memo[id(node)] = copied
        return memo[id(self)]

    def __setstate__(self, state: Any) -> None:
        """Copies and unpickled tensors are new nodes: they get a creation number of their own.

        Write-clock readings from another process's clock are clamped to this one's, so
        a tensor pickled elsewhere does not look written after the nodes that use it.
        """
        attributes, slots = state if isinstance(state, tuple) else (state, None)
        if attributes:
            self.__dict__.update(attributes)
        for name, value in (slots or {}).items():
            setattr(self, name, value)
        if self._grad is not None and not self._grad.requires_grad:
            # copy.copy hands over the same .grad Tensor: give the copy its own, or the
            # next in-place accumulation into one would change the other's gradient.
            self._grad = _wrap(np.array(self._grad._data))
        self._seq = next(_creation_order)
        self._adjoint = None
        self._version = min(self._version, _WRITE_CLOCK.now)
        self._stamp = min(self._stamp, _WRITE_CLOCK.now)

    @property
    def data(self) -> np.ndarray:
        """The value as an ndarray. Assigning to it counts as an in-place write."""
        self._leaving(".data")
        value = self._data
        if type(value) is not np.ndarray and type(value) in backend.NUMPY_TYPES:
            value = np.array(value)
            _DATA_SLOT.__set__(self, value)
        return value

    @data.setter
    def data(self, value: Any) -> None:
        self._check_write_while_tracing("t.data = ...", value)
        self._data = _to_array(value, self._data.dtype)
        engine.note_write(self)

    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape."""
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        """The array's dtype."""
        return self._data.dtype

    @property
    def ndim(self) -> int:
        """The number of axes."""
        return self._data.ndim

    @property
    def size(self) -> int:
        """The number of elements."""
        return self._data.size

    @property
    def device(self) -> backend.Device:
        """Where the value lives: ``cpu`` (NumPy), ``cuda:0`` (CuPy), or another library's."""
        return backend.device_of(self._data)

    def to(self, device: backend.Device | str) -> Tensor:
        """This tensor on ``device`` ("cpu", "cuda", "cuda:1"), on the graph: gradients flow
        back to this one's device. Itself when it is there already, as in PyTorch."""
        target = backend.Device.parse(device)
        if backend.device_of(self._data) == target:
            return self
        return apply(shape_ops.to_device, (self,), {"device": target})

    def cpu(self) -> Tensor:
        """This tensor in host memory (NumPy), on the graph: ``t.to("cpu")``."""
        return self.to("cpu")

    def cuda(self, index: int = 0) -> Tensor:
        """This tensor on the GPU ``index`` (CuPy), on the graph: ``t.to(f"cuda:{index}")``."""
        return self.to(f"cuda:{index}")

    def __array_namespace__(self, api_version: str | None = None) -> Any:
        """The Array API namespace of Tensors: chainrule itself (``chainrule.acos``, ...)."""
        import chainrule

        return chainrule

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient (None until a backward pass reaches this tensor)."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        trace = current_mode().trace
        if trace is not None:
            trace.set_grad(self, value)
        self._grad = value

    @property
    def is_leaf(self) -> bool:
        """True unless the tensor was computed by a recorded operation."""
        return self._prim is None

    @property
    def grad_fn(self) -> str | None:
        """Name of the primitive that produced this tensor (None for leaves)."""
        return None if self._prim is None else self._prim.name

    @property
    def real(self) -> Tensor:
        """The real part, on the graph (an attribute, as in NumPy and PyTorch): ``np.real(t)``."""
        return np.real(self)

    @property
    def imag(self) -> Tensor:
        """The imaginary part, on the graph (an attribute, as in NumPy and PyTorch)."""
        return np.imag(self)

    @property
    def T(self) -> Tensor:  # noqa: N802 - NumPy's name
        """The axes reversed."""
        return apply(shape_ops.transpose, (self,), {"axes": tuple(range(self.ndim))[::-1]})

    def numpy(self) -> np.ndarray:
        """The value as an ndarray (shares memory with the tensor).

        Refused for a tensor that requires grad while grad mode is on, since the
        array carries no gradient: call ``.detach().numpy()`` (PyTorch's rule).
        """
        self._leaving(".numpy()")
        if self.requires_grad and current_mode().grad:
            raise _detach_error(self, "t.numpy()")
        if type(self._data) not in backend.NUMPY_TYPES:
            self._refuse_host_copy("t.numpy()")
            return np.asarray(backend.to_device(self._data, backend.CPU))
        return self.data

    def _refuse_host_copy(self, what: str) -> None:
        """A GPU value never becomes a NumPy array implicitly (PyTorch's rule): say .cpu()."""
        device = self.device
        if device.platform == "cuda":
            raise TypeError(
                f"{what}: the tensor is on {device}; copy it to host memory first with .cpu()"
            )

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ShapeError(f"item(): the tensor has shape {self.shape}, not a single element")
        self._leaving(".item()")
        value = self._data
        if type(value) not in backend.NUMPY_TYPES:
            value = np.asarray(backend.to_device(value, backend.CPU))
        return value.item()

    def tolist(self) -> Any:
        """The values as nested Python lists."""
        self._leaving(".tolist()")
        return np.asarray(backend.to_device(self._data, backend.CPU)).tolist()

    def detach(self) -> Tensor:
        """The same values, cut from the graph (shares memory)."""
        return _wrap(self._data)

    def clone(self) -> Tensor:
        """A copy that stays on the graph (gradients flow back to this tensor)."""
        return apply(shape_ops.identity, (self,), _NO_PARAMS)._own_copy()

    def _own_copy(self) -> Tensor:
        data = self._data
        self._data = data.copy() if hasattr(data, "copy") else backend.xp.asarray(data, copy=True)
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (leaves only) and return self."""
        if requires_grad and backend.kind(self._data) not in "fc":
            _refuse_grad(self._data)
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self._retain = True

    def __repr__(self) -> str:
        value = self._data
        extras = []
        if type(value) not in backend.NUMPY_TYPES:
            extras.append(f"device='{self.device}'")
            value = np.asarray(backend.to_device(value, backend.CPU))
        body = np.array2string(value, separator=", ", prefix="tensor(")
        dtype = value.dtype
        # Shown unless it is the default: the default float, or the complex type of its precision.
        usual = _default_dtype
        if dtype.kind == "c":
            usual = np.result_type(_default_dtype, np.complex64)
        if dtype.kind in "fc" and dtype != usual:
            extras.append(f"dtype={dtype}")
        if self._prim is not None:
            extras.append(f"grad_fn=<{self._prim.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({body}{''.join(', ' + e for e in extras)})"

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __float__(self) -> float:
        self._leaving("float()")
        return float(self.item())

    def __int__(self) -> int:
        self._leaving("int()")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use .any() or .all()"
            )
        self._leaving("bool() (an `if`, `and`, `or`, `not` or `while` on a tensor)")
        return bool(self._data)

    def __format__(self, spec: str) -> str:
        return format(self.item(), spec) if spec and self._data.size == 1 else repr(self)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """np.asarray(t): the value; refused, as numpy() is, when it would drop a gradient."""
        self._leaving("np.asarray()/np.array()")
        if self.requires_grad and current_mode().grad:
            raise _detach_error(self, "np.asarray(t)")
        value = self._data
        if type(value) not in backend.NUMPY_TYPES:
            self._refuse_host_copy("np.asarray(t)")
            value = backend.to_device(value, backend.CPU)
        return np.array(value, dtype=dtype, copy=copy)

    def _leaving(self, what: str) -> None:
        """The value leaves for Python: refused while a trace records it (chainrule.compile)."""
        trace = current_mode().trace
        if trace is not None:
            trace.escape(self, what)

    def _check_write_while_tracing(self, what: str, source: Any = None) -> None:
        """Under chainrule.compile an in-place write is recorded only into constants."""
        trace = current_mode().trace
        if trace is not None:
            trace.write(self, source, what)

    # --- backward -------------------------------------------------------------
    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
    ) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad.

        ``gradient`` is the cotangent (needed unless the tensor has one element).
        The graph's saved buffers are freed unless ``retain_graph=True``;
        ``create_graph=True`` records the backward pass so ``.grad`` can be
        differentiated again.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward(): this tensor does not require grad: none of the tensors it was "
                "computed from has requires_grad=True, or it was computed under no_grad()"
            )
        if gradient is None:
            if self._data.size != 1:
                raise ShapeError(
                    f"backward(): the output has shape {self.shape}; without gradient= the "
                    "output must be a scalar (one element). Reduce it (e.g. .sum()) or pass "
                    f"gradient= with shape {self.shape}"
                )
            value = self._data
            if (value.dtype.kind if type(value) in _VALUE_TYPES else backend.kind(value)) == "c":
                raise DtypeError(
                    "backward(): the output is complex; without gradient= it must be real "
                    "(as in PyTorch). Take a real function of it (abs, .real) or pass gradient="
                )
            seed = _ones_like(self._data)
        elif type(self._data) not in backend.NUMPY_TYPES:
            seed = _foreign_seed(self, gradient)
        else:
            given = _to_array(gradient)
            if given.dtype.kind == "c" and self._data.dtype.kind != "c":
                raise DtypeError(
                    f"backward(): gradient is complex but the output is real ({self.dtype})"
                )
            seed = _to_array(given, self._data.dtype)
            if seed.shape != self.shape:
                raise ShapeError(
                    f"backward(): gradient has shape {seed.shape} but the output has shape "
                    f"{self.shape}"
                )
        if create_graph:
            seed = Tensor(seed)
        engine.backprop(
            self,
            seed,
            create_graph=create_graph,
            retain_graph=retain_graph,
            accumulate=_accumulate_grad,
        )

    # --- in-place updates -----------------------------------------------------
    def _writable(self) -> np.ndarray:
        """The array to update in place, once the update is known to be allowed.

        A read-only or shared array (a view, a NumPy scalar) is replaced by a copy
        first. Every in-place write goes through here and ends with ``note_write``.
        """
        if current_mode().grad and self.requires_grad:
            raise RuntimeError(
                f"in-place operation on a tensor of shape {self.shape} that requires grad "
                "while grad mode is on: it would change a value the graph needs. Do updates "
                "under `with chainrule.no_grad():`, or use an out-of-place operation"
            )
        data = self._data
        if type(data) not in backend.NUMPY_TYPES:
            return data  # another library's array: its own in-place operations
        if type(data) is not np.ndarray or data.base is not None or not data.flags.writeable:
            self._data = data = np.array(data)
        return data

    def _write(self, update: Any, what: str, source: Any = None) -> Tensor:
        """Apply ``update(array)`` in place, after checking it is allowed; bump the version.

        ``what`` names the update and ``source`` what it writes, for chainrule.compile.
        """
        self._check_write_while_tracing(what, source)
        data = self._writable()
        try:
            update(data)
        except ValueError as error:
            raise ShapeError(
                f"in-place update of a tensor of shape {self.shape}: {error}"
            ) from None
        engine.note_write(self)
        return self

    def _subtract_(self, update: np.ndarray) -> None:
        """``self -= update`` for optimizers: ``update`` already has this tensor's shape."""
        self._check_write_while_tracing("an optimizer's update", update)
        data = self._writable()
        np.subtract(data, update, out=data)
        engine.note_write(self)

    def __setitem__(self, index: Any, value: Any) -> None:
        if current_mode().grad and isinstance(value, Tensor) and value.requires_grad:
            raise RuntimeError(
                "t[index] = value with a value that requires grad is not recorded; use "
                "chainrule.where or concatenate to build the tensor out of place"
            )
        index = normalize_index(index)
        source = value
        value = value._data if isinstance(value, Tensor) else value

        def assign(array: np.ndarray) -> None:
            array[index] = value

        self._write(assign, "t[index] = value", (index, source))

    def _inplace(self, ufunc: np.ufunc, other: Any) -> Tensor:
        if isinstance(other, Tensor):
            if current_mode().grad and other.requires_grad:
                raise RuntimeError(
                    f"in-place {ufunc.__name__} with an operand that requires grad is not "
                    "recorded; write t = t + w (out of place) so the gradient reaches w"
                )
        source = other
        other = other._data if isinstance(other, Tensor) else other
        return self._write(
            lambda array: ufunc(array, other, out=array), f"in-place {ufunc.__name__}", source
        )

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace(np.add, other)

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace(np.subtract, other)

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace(np.multiply, other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace(np.true_divide, other)

    def zero_(self) -> Tensor:
        """Fill with zeros in place."""
        return self._write(lambda array: array.fill(0), "zero_()")

    def copy_(self, source: Any) -> Tensor:
        """Overwrite the values in place with ``source`` (broadcast to this shape)."""
        values = source._data if isinstance(source, Tensor) else source

        def assign(array: np.ndarray) -> None:
            array[...] = values

        return self._write(assign, "copy_()", source)

    # --- operators ----------------------------------------------------------------
    # The arithmetic, comparison and logical operators are generated from the registry
    # (each entry's ``operators``, see chainrule.functions); these two are not operations.
    def __pos__(self) -> Tensor:
        return self

    def __getitem__(self, index: Any) -> Tensor:
        return apply(shape_ops.getitem, (self,), {"index": normalize_index(index)})

    def any(self) -> bool:
        """True if any entry is nonzero (a Python bool: the value leaves the graph)."""
        self._leaving(".any()")
        return bool(np.any(self._data))

    def all(self) -> bool:
        """True if every entry is nonzero (a Python bool: the value leaves the graph)."""
        self._leaving(".all()")
        return bool(np.all(self._data))

    # --- NumPy dispatch: np.f(tensor) runs chainrule's f ---------------------
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """np.<ufunc>(tensor, ...): the chainrule operation registered for it."""
        if method == "__call__" and not kwargs:
            op = UFUNCS.get(ufunc)
            if op is not None:
                return op(*inputs)
        elif method == "reduce" and ufunc is np.add and set(kwargs) <= {"axis", "keepdims"}:
            return FUNCTIONS[np.sum](
                inputs[0], kwargs.get("axis", 0), kwargs.get("keepdims", False)
            )
        name = f"np.{ufunc.__name__}{'' if method == '__call__' else '.' + method}"
        return _on_values(name, getattr(ufunc, method), inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        """np.<function>(tensor, ...): chainrule's version, or NumPy's when no gradient is lost."""
        op = FUNCTIONS.get(func)
        if op is not None:
            return op(*args, **kwargs)
        if func in _SHAPE_QUERIES:
            return func(*_values(args), **kwargs)
        return _on_values(f"np.{func.__name__}", func, args, kwargs)


_NO_PARAMS: dict = {}

#: The slots a deep copy carries over (creation number and adjoint are the copy's own).
_COPIED_SLOTS = tuple(
    name for name in Tensor.__slots__ if name not in ("_seq", "_adjoint", "__weakref__")
)
_seq_of = operator.attrgetter("_seq")

#: NumPy ufuncs and functions -> the chainrule functions answering for them. Filled by
#: chainrule.functions from the registry's ``numpy`` fields when it generates the surface.
UFUNCS: dict[np.ufunc, Any] = {}
FUNCTIONS: dict[Any, Any] = {}

#: NumPy functions that read only shapes, so no gradient is involved.
_SHAPE_QUERIES = frozenset({np.shape, np.ndim, np.size})
_DATA_SLOT = Tensor.__dict__["_data"]
_new_node = object.__new__  # Tensor.__new__ without the attribute lookup: nodes are made often
_creation_order = itertools.count()
_WRITE_CLOCK = engine.WRITE_CLOCK


#: What a tensor's value is: an ndarray, or a NumPy scalar for a 0-d value.
_VALUE_TYPES = frozenset({np.ndarray, *(np.dtype(code).type for code in np.typecodes["All"])})

#: Operands NumPy's forwards take as they are (anything else: look up its namespace).
_PLAIN_OPERANDS = backend.NUMPY_TYPES | {type(None)}


def _as_value(result: Any) -> Any:
    """A forward function's result as a tensor value: an ndarray, or a NumPy scalar if 0-d
    (another library's array as it is)."""
    if isinstance(result, (np.ndarray, np.generic)) or _is_foreign(result):
        return result
    result = np.asarray(result)
    return result[()] if result.ndim == 0 else result


def _ones_like(value: Any) -> Any:
    """Ones of the value's shape and dtype (a NumPy scalar for a scalar)."""
    if type(value) is np.ndarray:
        return np.ones(value.shape, value.dtype)
    if type(value) not in backend.NUMPY_TYPES:
        return backend.xp.ones_like(value)
    return type(value)(1)


def _floating(value: Any) -> bool:
    """Whether a result is floating or complex, so it can carry a gradient."""
    dtype = value.dtype
    if type(dtype) in _NUMPY_DTYPES:
        return dtype.kind in "fc"
    return backend.kind(value) in "fc"


_NUMPY_DTYPES = frozenset(type(np.dtype(code)) for code in np.typecodes["All"])


def _foreign_seed(output: Tensor, gradient: Any) -> Any:
    """``backward(gradient)``'s seed for an output held by another library, on its device."""
    value = output._data
    seed = gradient._data if isinstance(gradient, Tensor) else gradient
    if type(seed) in backend.NUMPY_TYPES:
        seed = backend.to_device(np.asarray(seed), output.device)
    space = backend.namespace(value, seed)
    seed = space.astype(seed, value.dtype)
    if seed.shape != value.shape:
        raise ShapeError(
            f"backward(): gradient has shape {seed.shape} but the output has shape {value.shape}"
        )
    return seed


def _wrap(value: Any) -> Tensor:
    """A new leaf holding ``value`` as it is (an ndarray or NumPy scalar): no checks, no copy."""
    out = _new_node(Tensor)
    out._data = value
    out._seq = next(_creation_order)
    out._adjoint = None
    out._res = None
    out.requires_grad = False
    out._grad = None
    out._prim = None
    out._inputs = None
    out._values = None
    out._params = _NO_PARAMS
    out._stamp = 0
    out._version = 0
    out._retain = False
    return out


def _operand_shapes(args: tuple) -> str:
    return " and ".join(str(np.shape(a._data if isinstance(a, Tensor) else a)) for a in args)


def apply(prim: Primitive, args: tuple, params: dict) -> Tensor:
    """Run ``prim`` on the operands' values and record it when a gradient may be needed.

    This is the dispatcher: every primitive application on Tensors comes here. When a
    trace is current in this context (``chainrule.compile``), it is told of the
    application after the forward has run.
    """
    values = []
    record = False
    forward = prim.forward
    for arg in args:
        if isinstance(arg, Tensor):
            value = arg._data
            values.append(value)
            if arg.requires_grad:
                record = True
        else:
            value = arg
            values.append(arg)
        if type(value) not in _PLAIN_OPERANDS:
            forward = None  # another library's array (or a sequence): find the namespace below
    if forward is None:
        space = backend.namespace(*values)
        forward = prim.forward if space is np else prim.forward_on(space)
    try:
        ans = forward(*values, **params) if params else forward(*values)
    except ChainruleError:
        raise
    except (ValueError, IndexError) as error:
        message = str(error)
        if "broadcast" in message:
            raise ShapeError(
                f"{prim.name}: cannot broadcast operands of shapes {_operand_shapes(args)}"
            ) from None
        raise ShapeError(
            f"{prim.name}: {message} (operand shapes {_operand_shapes(args)})"
        ) from None
    result = ans
    res = None
    if prim.residuals:
        ans, res = ans
    native = type(ans) in _VALUE_TYPES
    if not native:
        ans = _as_value(ans)
    mode = current_mode()
    if mode.trace is not None and any(ans is value for value in values):
        # A forward that hands back an operand itself (relu of a positive NumPy scalar,
        # matrix_power(x, 1)): a trace follows values by identity, so the result gets its
        # own object, or it would be read as the operand (and be that operand at every
        # later call or example, whatever the operation does there).
        ans = ans.copy() if hasattr(ans, "copy") else backend.xp.asarray(ans, copy=True)
        result = (ans, res) if prim.residuals else ans
    # The fields _wrap sets, written out here: this runs once per operation.
    out = _new_node(Tensor)
    out._data = ans
    out._seq = next(_creation_order)
    out._adjoint = None
    out._grad = None
    out._version = 0
    out._retain = False
    # An integer or boolean result has no gradient, whatever rules its operation has
    # (a custom op counting elements, say): only floating and complex results record.
    if (
        record
        and prim.differentiable
        and mode.grad
        and (ans.dtype.kind in "fc" if native else _floating(ans))
    ):
        out.requires_grad = True
        out._prim = prim
        out._inputs = args
        out._values = values
        out._params = params
        out._stamp = _WRITE_CLOCK.now
        out._res = res
    else:
        out.requires_grad = False
        out._prim = None
        out._inputs = None
        out._values = None
        out._params = _NO_PARAMS
        out._stamp = 0
        out._res = None
    if mode.anomaly is not None:
        mode.anomaly.forward(prim, values, ans, out)
    if mode.trace is not None:
        mode.trace.record(prim, args, params, result, out)
    return out


def _accumulate_grad(node: Tensor, gradient: Any, owned: bool) -> None:
    """Add a finished adjoint into ``node.grad`` (in place when the buffer is ours).

    ``owned`` says the engine handed this array to no one else, so it can become
    ``.grad`` without a copy. NumPy scalars are immutable and always kept as they are.
    """
    current = node._grad
    if isinstance(gradient, Tensor):
        node._grad = gradient if current is None else current + gradient
        return
    dtype = node._data.dtype
    if type(gradient) not in backend.NUMPY_TYPES:
        gradient = backend.xp.astype(gradient, dtype, copy=not owned)
        node._grad = _wrap(gradient) if current is None else _wrap(current._data + gradient)
        return
    if current is None:
        if type(gradient) is np.ndarray:
            if not owned or gradient.dtype is not dtype:
                gradient = np.array(gradient, dtype=dtype)
        elif gradient.dtype is not dtype:
            gradient = gradient.astype(dtype)
        node._grad = _wrap(gradient)
    elif current.requires_grad:
        node._grad = current.detach() + gradient
    elif type(current._data) is np.ndarray:
        np.add(current._data, gradient, out=current._data, casting="unsafe")
        engine.note_write(current)
    else:
        current._data = (current._data + gradient).astype(dtype)
        engine.note_write(current)


def zero_grads(params: Iterable[Tensor], set_to_none: bool = True) -> None:
    """Clear the gradients of ``params``: to None (PyTorch 2's default) or to zeros.

    Under ``chainrule.compile`` the call itself is recorded and replayed.
    """
    params = list(params)
    trace = current_mode().trace
    if trace is not None:
        trace.effect_call(zero_grads, (params, set_to_none), params)
        return
    for param in params:
        if param._grad is None:
            continue
        param._grad = None if set_to_none else Tensor(np.zeros_like(param._data))


def _detach_error(tensor: Tensor, what: str) -> DetachError:
    return DetachError(
        f"{what} on a tensor of shape {tensor.shape} that requires grad would drop its gradient "
        "silently; call .detach() first (e.g. t.detach().numpy()), or use chainrule operations "
        "so the gradient flows"
    )


# --- operands: sequences that hold Tensors stay on the graph ---------------------------

_SCALARS = (int, float, complex, bool, np.generic)


def holds_tensor(items: Any) -> bool:
    for item in items:
        if isinstance(item, Tensor) or (isinstance(item, (list, tuple)) and holds_tensor(item)):
            return True
    return False


def _leaf_dtypes(items: Any) -> Iterator[Any]:
    """The dtypes of a nested sequence's leaves; Python scalars as themselves (weakly typed)."""
    for item in items:
        if isinstance(item, Tensor):
            yield item._data.dtype
        elif isinstance(item, (list, tuple)):
            yield from _leaf_dtypes(item)
        elif isinstance(item, (int, float, complex)):
            yield item
        else:
            yield np.asarray(item).dtype


def _assemble(items: Any, dtype: np.dtype) -> Tensor:
    parts = []
    for item in items:
        if isinstance(item, Tensor):
            if item._data.dtype != dtype:
                item = apply(shape_ops.cast, (item,), {"dtype": dtype})
        elif isinstance(item, (list, tuple)) and holds_tensor(item):
            item = _assemble(item, dtype)
        else:
            item = Tensor(np.asarray(item, dtype=dtype))
        parts.append(item)
    operands, params = shape_ops.prepare_stack(parts)
    return apply(shape_ops.stack, operands, params)


def assemble(items: list | tuple) -> Tensor:
    """A nested sequence holding Tensors as one Tensor on the graph: a stack of its elements.

    Numbers take the Tensors' dtype as in NumPy's rules for Python scalars, so
    ``[x32, 1.0]`` stays float32.
    """
    dtype = np.result_type(*_leaf_dtypes(items))
    try:
        return _assemble(items, dtype)
    except ShapeError as error:
        raise ShapeError(f"cannot assemble a tensor from a ragged sequence: {error}") from None


def as_tensor(x: Any) -> Tensor:
    """``x`` itself if it is a Tensor; a sequence holding Tensors stacked on the graph;
    anything else a new Tensor (no copy of ndarrays)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (list, tuple)) and holds_tensor(x):
        return assemble(x)
    return Tensor(x)


def as_operand(x: Any) -> Any:
    """An operand for :func:`apply`: Tensors, arrays and Python scalars as they are
    (scalars stay weakly typed); sequences holding Tensors stacked; other data an array."""
    if isinstance(x, (Tensor, np.ndarray, *_SCALARS)):
        return x
    if isinstance(x, (list, tuple)) and holds_tensor(x):
        return assemble(x)
    return Tensor(x)._data


def normalize_index(index: Any) -> tuple:
    """An index as a tuple; Tensors give their value array itself (no copy, so a trace
    can follow it by identity), lists become arrays."""
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for item in items:
        if isinstance(item, Tensor):
            item = item._data
        elif isinstance(item, list):
            item = np.asarray(item)
        out.append(item)
    return tuple(out)


# --- NumPy calls with no chainrule counterpart ---------------------------------------


def _values(items: Any) -> Any:
    if isinstance(items, Tensor):
        return items._data
    if isinstance(items, (list, tuple)):
        return type(items)(_values(i) for i in items)
    if isinstance(items, dict):
        return {key: _values(value) for key, value in items.items()}
    return items


def _needs_grad(items: Any) -> bool:
    if isinstance(items, Tensor):
        return items.requires_grad
    if isinstance(items, (list, tuple)):
        return any(_needs_grad(i) for i in items)
    if isinstance(items, dict):
        return any(_needs_grad(i) for i in items.values())
    return False


def _on_values(name: str, func: Any, args: tuple, kwargs: dict) -> Any:
    """NumPy's own ``func`` on the values, unless that would drop a gradient or, under
    chainrule.compile, freeze a traced value (the function is no primitive to record)."""
    trace = current_mode().trace
    if trace is not None and trace.holds_traced((args, kwargs)):
        trace.refuse(
            f"{name} on a traced tensor ({name} is not a chainrule primitive)",
            "use chainrule operations (the registered ones are chainrule.PRIMITIVES), or keep "
            "this part eager",
        )
    if current_mode().grad and (_needs_grad(args) or _needs_grad(kwargs)):
        raise DetachError(
            f"{name} has no derivative in chainrule, so applying it to a tensor that requires "
            "grad would drop the gradient; use a chainrule operation, or .detach() first"
        )
    result = func(*_values(args), **_values(kwargs))
    return _wrap(result) if isinstance(result, np.ndarray) else result


set_apply_hook(apply)
