"""Array backends: which array library computes a value, and on which device.

Layer: core (imports numpy, chainrule.errors and chainrule.extras only).

chainrule computes through the *array namespace* of the values it is given, the Python
Array API standard's idea (``x.__array_namespace__()``), as array-api-compat finds it:

- NumPy arrays and scalars (and Python numbers): ``numpy`` itself, whose 2.x namespace
  has the standard's names; this is the default and the fast path;
- CuPy arrays: ``array_api_compat.cupy`` (the ``gpu`` extra), on an NVIDIA GPU;
- any other standard array, such as ``array_api_strict``'s, which the tests use to
  prove that no NumPy-only call leaks into the engine;
- chainrule's Tensors: chainrule itself, so a rule run on Tensors records its own
  backward pass (higher-order derivatives).

Rules and forwards write ``xp.name(...)`` with :data:`xp`, which calls ``name`` of the
namespace its array arguments belong to (:func:`namespace`). Operations the standard
does not have are registry entries with per-backend implementations
(``Primitive(implementations={...})``), never a NumPy call on a foreign array.

A value's device is a :class:`Device`: ``"cpu"`` for NumPy, ``"cuda:0"`` for CuPy, and
the library's own device for others. Values on different devices never meet silently:
:func:`namespace` raises :class:`~chainrule.errors.DeviceError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import DeviceError
from ..extras import require

#: The types NumPy computes with directly: arrays, NumPy scalars and Python numbers.
NUMPY_TYPES = frozenset(
    {np.ndarray, float, int, bool, complex, *(np.dtype(c).type for c in np.typecodes["All"])}
)

#: Argument types that say nothing about the namespace (parameters, not arrays; ``type``:
#: a dtype given as a scalar type, ``np.int64``).
_NEUTRAL_TYPES = frozenset({type(None), str, slice, type(Ellipsis), np.dtype, type})

_traceable_type: type | None = None
_traceable_namespace: Any = None

#: Namespaces of foreign array types, found once per type.
_FOREIGN: dict[type, Any] = {}


def set_traceable_namespace(traceable: type, module: Any) -> None:
    """Install the namespace of Traceable values (chainrule itself; done once, at import, by
    the tensor layer: the core never imports it)."""
    global _traceable_type, _traceable_namespace
    _traceable_type, _traceable_namespace = traceable, module


def _foreign_namespace(value: Any) -> Any:
    """The namespace of a non-NumPy array (array-api-compat's wrapper where it has one)."""
    kind = type(value)
    found = _FOREIGN.get(kind)
    if found is None:
        compat = None
        if kind.__module__.partition(".")[0] in ("cupy", "torch", "dask", "jax"):
            compat = require("array_api_compat", f"computing on {kind.__module__} arrays")
        if compat is not None and compat.is_array_api_obj(value):
            found = compat.array_namespace(value)
        elif hasattr(value, "__array_namespace__"):
            found = value.__array_namespace__()
        else:
            return None
        _FOREIGN[kind] = found
    return found


def namespace(*values: Any) -> Any:
    """The array namespace that computes with ``values`` (items of lists and tuples too).

    NumPy when every value is a NumPy array or a number; chainrule when one is a Tensor;
    otherwise the one foreign library they all belong to. Values of two foreign
    libraries, or of NumPy and a foreign one, raise DeviceError.
    """
    found = np
    for value in values:
        kind = type(value)
        if kind in NUMPY_TYPES or kind in _NEUTRAL_TYPES:
            continue
        if kind is list or kind is tuple:
            for item in value:  # a shape or axes: numbers only, no call
                if type(item) not in NUMPY_TYPES:
                    break
            else:
                continue
            inner = namespace(*value)
            if inner is np:
                continue
            theirs = inner
        elif _traceable_type is not None and isinstance(value, _traceable_type):
            return _traceable_namespace
        else:
            theirs = _foreign_namespace(value)
            if theirs is None:
                continue
        if theirs is _traceable_namespace:
            return theirs
        if found is np or found is theirs:
            found = theirs
        else:
            raise DeviceError(
                f"cannot compute with arrays of {backend_name(found)} and "
                f"{backend_name(theirs)} together; move them to one device with .to(...)"
            )
    if found is not np:
        for value in values:  # a NumPy array beside a foreign one: two devices
            if type(value) is np.ndarray:
                raise DeviceError(
                    f"cannot compute with a NumPy array (cpu) and {backend_name(found)} "
                    "arrays together; move them to one device with .to(...)"
                )
    return found


def array_namespace(value: Any) -> Any:
    """The namespace of the array behind ``value`` (a Tensor's value's, not chainrule): where
    a rule makes constants (``array_namespace(x).eye(n, dtype=..., device=native_device(x))``).
    """
    if _traceable_type is not None and isinstance(value, _traceable_type):
        value = value._data
    return namespace(value)


def native_device(value: Any) -> Any:
    """The array library's own device object for the array behind ``value`` ("cpu" for
    NumPy): what its creation functions take as ``device=``."""
    if _traceable_type is not None and isinstance(value, _traceable_type):
        value = value._data
    if type(value) in NUMPY_TYPES:
        return "cpu"
    return value.device


def library_function(name: str) -> Callable[..., Any]:
    """A forward that calls the function ``name`` of its arguments' library (CuPy has
    ``einsum``, the standard does not): for a Primitive's ``implementations``. A library
    without it raises DeviceError."""

    def forward(*args: Any, **kwargs: Any) -> Any:
        space = namespace(*args)
        found = getattr(space, name, None)
        if found is None:
            raise DeviceError(f"{name} is not available for {backend_name(space)} arrays")
        return found(*args, **kwargs)

    forward.__name__ = forward.__qualname__ = name
    return forward


def backend_name(xp_module: Any) -> str:
    """The array library's name: "numpy", "cupy", "array_api_strict", ..."""
    if xp_module is np:
        return "numpy"
    name = getattr(xp_module, "__name__", type(xp_module).__name__)
    if name.startswith("array_api_compat."):
        name = name.rpartition(".")[2]
    return name


class _Dispatching:
    """``xp.f(*args)``: the function ``f`` of the namespace ``args`` belong to.

    On NumPy values it is NumPy's own function (one type test per argument more than a
    direct call); ``xp.linalg.f`` reaches the namespace's ``linalg`` extension.
    """

    def __init__(self, path: tuple[str, ...] = ()) -> None:
        self._path = path

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        path = self._path + (name,)
        if name == "linalg" or name == "fft":
            found: Any = _Dispatching(path)
        else:
            found = _dispatcher(path)
        setattr(self, name, found)  # cached: the next lookup is an instance attribute
        return found


def _resolve(module: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        found = getattr(module, name, None)
        if found is None:
            raise AttributeError(
                f"{'.'.join(path)} is not available for {backend_name(module)} arrays"
            )
        module = found
    return module


#: Functions whose first argument is always an array: their dispatcher tests it first.
_ONE_OPERAND = frozenset(
    name
    for name, function in vars(np).items()
    if isinstance(function, np.ufunc) and function.nin == 1
) | {"zeros_like", "ones_like", "sum", "reshape", "astype", "real", "conj", "isfinite"}


def _dispatcher(path: tuple[str, ...]) -> Callable[..., Any]:
    try:
        on_numpy = _resolve(np, path)
    except AttributeError:
        on_numpy = None
    name = ".".join(path)

    if on_numpy is None:

        def on_numpy(*args: Any, **kwargs: Any) -> Any:
            raise AttributeError(f"numpy has no {name}")

    def call(*args: Any, **kwargs: Any) -> Any:
        for arg in args:
            kind = type(arg)
            if kind in NUMPY_TYPES:
                continue
            if kind is tuple:
                for item in arg:  # a shape or axes: numbers only
                    if type(item) not in NUMPY_TYPES:
                        break
                else:
                    continue
            space = namespace(*args)
            if space is not np:
                return _resolve(space, path)(*args, **kwargs)
            break
        # An empty **kwargs sends a ufunc down its slow keyword path (about twice the cost).
        return on_numpy(*args, **kwargs) if kwargs else on_numpy(*args)

    def call_one(x: Any, *rest: Any, **kwargs: Any) -> Any:
        """The common case first: one NumPy operand, no keywords (``xp.cos(x)`` in a rule)."""
        if not rest and not kwargs and type(x) in NUMPY_TYPES:
            return on_numpy(x)
        return call(x, *rest, **kwargs)

    chosen = call_one if path[-1] in _ONE_OPERAND else call
    chosen.__name__ = chosen.__qualname__ = path[-1]
    chosen.__doc__ = f"{name} of the arguments' array namespace."
    return chosen


#: ``xp.sin(x)``, ``xp.linalg.inv(a)``: the function of the namespace of the arguments.
xp = _Dispatching()


# --- dtypes that any namespace can ask about ---------------------------------------------


def kind(value: Any) -> str:
    """NumPy's dtype kind letter of ``value`` ("f", "c", "i", "u", "b") for any backend."""
    if _traceable_type is not None and isinstance(value, _traceable_type):
        value = value._data
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return np.asarray(value).dtype.kind
    numpy_kind = getattr(dtype, "kind", None)
    if isinstance(numpy_kind, str):
        return numpy_kind
    space = namespace(value)
    for letter, name in (
        ("b", "bool"),
        ("c", "complex floating"),
        ("f", "real floating"),
        ("u", "unsigned integer"),
        ("i", "signed integer"),
    ):
        if space.isdtype(dtype, name):
            return letter
    raise TypeError(f"unknown dtype {dtype}")


def is_complex_dtype(dtype: Any) -> bool:
    """Whether ``dtype`` (NumPy's, or another library's dtype object) is complex."""
    numpy_kind = getattr(dtype, "kind", None)
    if isinstance(numpy_kind, str):
        return numpy_kind == "c"
    return "complex" in str(dtype)


def is_complex(value: Any) -> bool:
    """Whether ``value`` holds complex numbers (any backend)."""
    return kind(value) == "c"


def is_numpy(value: Any) -> bool:
    """Whether NumPy computes with ``value`` (an ndarray, a NumPy scalar or a number)."""
    return type(value) in NUMPY_TYPES


# --- devices -------------------------------------------------------------------------------


class Device:
    """Where a value lives: ``Device("cpu")`` (NumPy), ``Device("cuda", 0)`` (CuPy), or a
    foreign library's device (``platform`` its name, ``native`` its own device object).

    Compares equal to its text: ``t.device == "cpu"``; ``"cuda"`` means ``"cuda:0"``.
    """

    __slots__ = ("platform", "index", "native")

    def __init__(self, platform: str, index: int | None = None, native: Any = None) -> None:
        if platform == "cuda" and index is None:
            index = 0
        self.platform = platform
        self.index = index
        self.native = native

    @classmethod
    def parse(cls, device: Device | str) -> Device:
        """A Device from ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a Device."""
        if isinstance(device, Device):
            return device
        if not isinstance(device, str):
            raise DeviceError(f"a device is 'cpu', 'cuda' or 'cuda:N', got {device!r}")
        platform, _, index = device.partition(":")
        if platform == "cpu" and not index:
            return cls("cpu")
        if platform == "cuda" and (not index or index.isdigit()):
            return cls("cuda", int(index) if index else 0)
        raise DeviceError(f"unknown device {device!r}: use 'cpu', 'cuda' or 'cuda:N'")

    def __str__(self) -> str:
        return self.platform if self.index is None else f"{self.platform}:{self.index}"

    def __repr__(self) -> str:
        return f"device({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = Device.parse(other)
            except DeviceError:
                return str(self) == other
        if not isinstance(other, Device):
            return NotImplemented
        return (self.platform, self.index) == (other.platform, other.index)

    def __hash__(self) -> int:
        return hash((self.platform, self.index))


CPU = Device("cpu")


def device_of(value: Any) -> Device:
    """The device ``value`` (an array, or a Tensor's value) lives on."""
    if type(value) in NUMPY_TYPES:
        return CPU
    if _traceable_type is not None and isinstance(value, _traceable_type):
        return device_of(value._data)
    space = namespace(value)
    if space is np:
        return CPU
    name = backend_name(space)
    native = getattr(value, "device", None)
    if name == "cupy":
        return Device("cuda", int(getattr(native, "id", 0)), native)
    return Device(name, None, native)


def _namespace_of_platform(platform: str) -> Any:
    """The namespace whose arrays report ``platform`` (a library seen before, by name)."""
    for space in _FOREIGN.values():
        if backend_name(space) == platform:
            return space
    raise DeviceError(f"no arrays of {platform} have been seen: cannot move data there")


def to_device(value: Any, device: Device | str) -> Any:
    """``value`` on ``device`` (itself when already there): NumPy for "cpu", CuPy for "cuda".

    A 0-d value on the CPU is a NumPy scalar, as the engine keeps it.
    """
    target = Device.parse(device)
    current = device_of(value)
    if current == target:
        return value
    if target.platform not in ("cpu", "cuda"):  # back to another library's device
        host = to_device(value, CPU) if current.platform != "cpu" else value
        space = _namespace_of_platform(target.platform)
        return space.asarray(np.asarray(host), device=target.native)
    if target.platform == "cpu":
        if current.platform == "cuda":
            host = value.get()
        else:
            host = np.from_dlpack(value)
        host = np.asarray(host)
        return host[()] if host.ndim == 0 else host
    cupy = require("cupy", f"device {str(target)!r}")  # MissingExtraError names the gpu extra
    if current.platform != "cpu":
        value = to_device(value, CPU)
    with cupy.cuda.Device(target.index):
        return cupy.asarray(value)
