"""Module, Sequential and ModuleList: containers of parameters, with PyTorch's interface.

Layer: nn (imports chainrule.tensor and chainrule.nn.parameter). Assigning a
Parameter or a Module to an attribute registers it (in assignment order), which
is what ``parameters()``, ``state_dict()`` and the repr walk. State-dict keys are
PyTorch's: the attribute path joined by dots (``0.weight`` in a Sequential).

A module's values live on one device (``module.to("cuda")`` moves them in place, keeping
the Parameter objects); state dicts are NumPy arrays on the host, loaded onto the module's
device.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from ..core import backend, engine
from ..core.mode import current_trace, no_grad
from ..errors import ChainruleError
from ..tensor import Tensor, zero_grads
from .parameter import Parameter


class StateDictError(ChainruleError, RuntimeError):
    """A state dict that does not fit the module: missing or unexpected keys, wrong shapes."""


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` could not match, as PyTorch returns it."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def array_like(values: Any, like: Tensor) -> Any:
    """``values`` (a NumPy array, or another library's) as an array of ``like``'s library, on
    its device, in its dtype: where host values (draws, a loaded state) meet a parameter."""
    data = like._data
    space = backend.array_namespace(data)
    if backend.array_namespace(values) is not space:
        if not backend.is_numpy(values):
            values = backend.to_device(values, backend.CPU)
        if space is not np:
            values = space.asarray(np.asarray(values), device=backend.native_device(data))
    if space is np:
        return np.asarray(values, dtype=data.dtype)
    return space.astype(values, data.dtype)


def host_copy(values: Any) -> np.ndarray:
    """A NumPy copy of an array (or a Tensor's value), wherever it lives: a state dict's entry."""
    data = values._data if isinstance(values, Tensor) else values
    if backend.is_numpy(data):
        return np.array(data)
    return np.array(backend.to_device(data, backend.CPU))


def _cast(values: Any, dtype: np.dtype) -> Any:
    """An array in ``dtype`` (its own library's dtype of that name)."""
    if backend.is_numpy(values):
        return values.astype(dtype)
    space = backend.array_namespace(values)
    return space.astype(values, getattr(space, dtype.name))


def _move(tensor: Tensor, device: backend.Device) -> None:
    """Move a tensor's value (and its gradient's) to ``device`` in place: the same object."""
    moved = backend.to_device(tensor._data, device)
    if moved is not tensor._data:
        tensor._data = moved
        engine.note_write(tensor)
    if tensor.grad is not None:
        _move(tensor.grad, device)


def _is_device(spec: Any) -> bool:
    """Whether ``Module.to``'s argument names a device ("cpu", "cuda:1") rather than a dtype."""
    if isinstance(spec, backend.Device):
        return True
    return isinstance(spec, str) and spec.partition(":")[0] in ("cpu", "cuda")


class Module:
    """Base class of layers and models: subclasses set attributes in ``__init__`` and define
    ``forward``; calling the module calls ``forward``.

    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> class TwoLayer(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = nn.Linear(2, 2)
    ...         self.out = nn.Linear(2, 1)
    ...     def forward(self, x):
    ...         return self.out(cr.sigmoid(self.hidden(x)))
    >>> [name for name, _ in TwoLayer().named_parameters()]
    ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # --- registration ---------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        parameters = self.__dict__.get("_parameters")
        if parameters is None:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() call: call super().__init__() "
                "first in your module's __init__"
            )
        if isinstance(value, Parameter):
            self._forget(name)
            parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            self._modules[name] = value
        elif name in parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} "
                    "(nn.Parameter or None expected)"
                )
            parameters[name] = None
        elif name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module {name!r} "
                    "(nn.Module or None expected)"
                )
            self._modules[name] = None
        elif name in self._buffers:
            self._buffers[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._forget(name)
        object.__delattr__(self, name)

    def _forget(self, name: str) -> None:
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None, a declared but absent parameter such as a disabled bias)."""
        self._forget(name)
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """Register a non-learnable tensor that belongs in the state dict (running statistics)."""
        self._forget(name)
        self._buffers[name] = tensor
        object.__setattr__(self, name, tensor)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a child module under ``name``."""
        self._forget(name)
        self._modules[name] = module
        object.__setattr__(self, name, module)

    # --- calling --------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The module's computation; subclasses define it and callers call the module."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        trace = current_trace()
        if trace is not None:  # chainrule.compile: the program assumes this module's state
            trace.guard_module(self)
        return self.forward(*args, **kwargs)

    # --- walking the tree -----------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every module below it, each once, depth first, with dotted names."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [
                (f"{name}.{child_name}" if name else child_name, child)
                for child_name, child in module._modules.items()
                if child is not None
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and every module inside it, depth first."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct submodules with their attribute names."""
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct submodules."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, table: str, prefix: str, recurse: bool) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for module_name, module in modules:
            for name, value in getattr(module, table).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_name}.{name}" if module_name else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs, each parameter once, in registration order."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every learnable parameter (of submodules too unless ``recurse=False``)."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs, each buffer once, in registration order."""
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every registered buffer: state that is saved but not learned."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every submodule (children first) and on this module; return self."""
        for module in reversed(list(self.modules())):
            fn(module)
        return self

    # --- modes and gradients --------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout active) on this module and all below it; return self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Set evaluation mode (Dropout inactive); same as ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Switch gradients on or off for every parameter (freezing a model); return self."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all parameters (to None by default, as PyTorch 2 does).

        Under ``chainrule.compile`` the call itself is recorded, so a replay clears the
        parameters the module has then.
        """
        params = list(self.parameters())
        trace = current_trace()
        if trace is not None:
            trace.effect_call(self.zero_grad, (set_to_none,), params)
            return
        zero_grads(params, set_to_none)

    def to(self, *args: Any, device: Any = None, dtype: Any = None) -> Module:
        """Move every parameter and buffer to ``device`` and/or convert the floating ones to
        ``dtype``, as PyTorch's ``module.to("cuda")``, ``.to(np.float32)``,
        ``.to("cuda", np.float32)``; returns self.

        A move is in place: the Parameter objects stay (an optimizer built before still holds
        them). A dtype conversion makes new Parameters, as before.
        """
        for spec in args:
            if _is_device(spec):
                device = spec
            else:
                dtype = spec
        if device is not None:
            target = backend.Device.parse(device)
            with no_grad():
                for tensor in [*self.parameters(), *self.buffers()]:
                    _move(tensor, target)
        if dtype is not None:
            self._convert(np.dtype(dtype))
        return self

    def cpu(self) -> Module:
        """Move every parameter and buffer to host memory (NumPy), in place; return self."""
        return self.to("cpu")

    def cuda(self, index: int = 0) -> Module:
        """Move every parameter and buffer to the GPU ``index`` (CuPy), in place; return self."""
        return self.to(f"cuda:{index}")

    def _convert(self, dtype: np.dtype) -> None:
        """Floating parameters and buffers in ``dtype`` (new Parameter objects)."""
        for module in self.modules():
            for name, param in list(module._parameters.items()):
                if param is not None and param.dtype != dtype:
                    converted = Parameter(_cast(param._data, dtype), param.requires_grad)
                    module.register_parameter(name, converted)
            for name, buffer in list(module._buffers.items()):
                if buffer is not None and backend.kind(buffer._data) == "f":
                    module.register_buffer(name, Tensor(_cast(buffer._data, dtype)))

    def float(self) -> Module:
        """Convert floating parameters and buffers to float32, as :meth:`to`; return self."""
        return self.to(np.float32)

    def double(self) -> Module:
        """Convert floating parameters and buffers to float64, as :meth:`to`; return self."""
        return self.to(np.float64)

    # --- state dict -----------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Every parameter and buffer as a NumPy array, under PyTorch's dotted key names.

        The arrays are copies: a snapshot that later training does not change.
        """
        state: OrderedDict[str, np.ndarray] = OrderedDict()
        for module_name, module in self.named_modules():
            for table in (module._parameters, module._buffers):
                for name, value in table.items():
                    if value is not None:
                        key = f"{module_name}.{name}" if module_name else name
                        state[key] = host_copy(value)
        return state

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy arrays (or Tensors) into the existing parameters and buffers, keeping their dtype.

        Raises StateDictError for a shape mismatch, and, when ``strict``, for
        missing or unexpected keys; nothing is changed unless every entry fits.
        """
        own = self._state_tensors()
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        problems = []
        if strict and missing:
            problems.append("Missing key(s) in state_dict: " + ", ".join(map(repr, missing)))
        if strict and unexpected:
            problems.append("Unexpected key(s) in state_dict: " + ", ".join(map(repr, unexpected)))
        values = {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value._data if isinstance(value, Tensor) else value
            array = np.asarray(array) if backend.is_numpy(array) else host_copy(array)
            if array.shape != target.shape:
                problems.append(
                    f"size mismatch for {key}: copying a param with shape {array.shape}, "
                    f"the shape in the current model is {target.shape}"
                )
            elif array.dtype.kind not in "biuf":
                problems.append(f"{key}: expected numbers, got an array of dtype {array.dtype}")
            else:
                values[key] = array
        if problems:
            raise StateDictError(
                f"Error(s) in loading state_dict for {type(self).__name__}: " + "; ".join(problems)
            )
        with no_grad():
            for key, array in values.items():
                own[key].copy_(array_like(array, own[key]))
        return IncompatibleKeys(missing, unexpected)

    def _state_tensors(self) -> dict[str, Tensor]:
        tensors = {}
        for module_name, module in self.named_modules():
            for table in (module._parameters, module._buffers):
                for name, value in table.items():
                    if value is not None:
                        tensors[f"{module_name}.{name}" if module_name else name] = value
        return tensors

    # --- printing -------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (its settings)."""
        return ""

    def __repr__(self) -> str:
        children = [
            f"({name}): " + repr(module).replace("\n", "\n  ")
            for name, module in self._modules.items()
        ]
        extra = self.extra_repr()
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = ([extra] if extra else []) + children
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


class Sequential(Module):
    """Modules applied one after the other; children are named "0", "1", ...

    >>> from chainrule import nn
    >>> model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1))
    >>> list(model.state_dict())
    ['0.weight', '0.bias', '2.weight', '2.bias']
    """

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(modules):
                if not isinstance(module, Module):
                    raise TypeError(
                        f"Sequential: item {index} is a {type(module).__name__}, not a Module"
                    )
                self.add_module(str(index), module)

    def forward(self, x: Any) -> Any:
        """Feed ``x`` through the modules in order."""
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index: int | slice) -> Any:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return modules[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end; return self."""
        self.add_module(str(len(self._modules)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (children named "0", "1", ...)."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end; return self."""
        self.add_module(str(len(self._modules)), module)
        return self

    def __getitem__(self, index: int) -> Module:
        return list(self._modules.values())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())
