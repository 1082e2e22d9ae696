"""Optimizer: parameter groups, per-parameter state, zero_grad and state_dict, as in PyTorch.

Layer: optim (imports numpy, chainrule.tensor and chainrule.core.mode). Updates
work on the parameters' arrays in their own dtype (float32 stays float32) and
are applied in place under ``no_grad``, so the parameters' version counters see
them. A complex parameter z = x + iy is stepped along conj(grad) = ∂f/∂x + i·∂f/∂y (its
gradient follows JAX's convention, ∂f/∂x − i·∂f/∂y): descent in both x and y, as in
PyTorch, whose ``z.grad`` is that conjugate.

Updates compute through the array namespace of the parameter (:data:`chainrule.core.backend.xp`),
and per-parameter state is made like the parameter (``xp.zeros_like``), so a model moved to
the GPU is stepped there, its state with it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..core import backend
from ..core.backend import xp
from ..core.mode import current_trace, enable_grad, no_grad
from ..tensor import Tensor, zero_grads


class Optimizer:
    """Base class: holds ``param_groups`` (dicts of params and hyperparameters) and ``state``.

    Subclasses implement :meth:`_update` for one parameter with its group's settings.
    """

    def __init__(self, params: Iterable[Any], defaults: Mapping[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], Mapping):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: Mapping[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (defaults fill the rest)."""
        group = dict(param_group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for param in group["params"]:
            if not isinstance(param, Tensor) or not param.is_leaf:
                raise TypeError("optimizers can only optimize leaf Tensors (nn.Parameter)")
            if any(param is p for g in self.param_groups for p in g["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient (to None by default, as PyTorch 2 does).

        Under ``chainrule.compile`` the call itself is recorded, so a replay clears the
        parameters the optimizer has then (groups added later included).
        """
        params = [p for group in self.param_groups for p in group["params"]]
        trace = current_trace()
        if trace is not None:
            trace.effect_call(self.zero_grad, (set_to_none,), params)
            return
        zero_grads(params, set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; ``closure`` recomputes the loss first.

        Under ``chainrule.compile`` the step is recorded as one call and replayed.
        """
        trace = current_trace()
        if trace is not None:
            if closure is not None:
                trace.refuse("optimizer.step(closure)", "call the closure, then step()")
            params = [p for group in self.param_groups for p in group["params"]]
            trace.effect_call(self.step, (), params)
            return None
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        states = self.state
        with no_grad():
            for group in self.param_groups:
                maximize = group.get("maximize", False)
                for param in group["params"]:
                    grad = param.grad
                    if grad is None:
                        continue
                    grad = -grad.data if maximize else grad.data
                    if backend.is_complex(grad):
                        grad = xp.conj(grad)
                    state = states.get(param)
                    if state is None:
                        state = states[param] = {}
                    self._update(param, grad, state, group)
        return loss

    def _update(
        self, param: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        raise NotImplementedError

    # --- checkpointing ----------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}, as PyTorch.

        Parameters are numbered in group order; arrays are copies.
        """
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            saved = {key: value for key, value in group.items() if key != "params"}
            saved["params"] = []
            for param in group["params"]:
                index_of.setdefault(id(param), len(index_of))
                saved["params"].append(index_of[id(param)])
            groups.append(saved)
        state = {
            index_of[id(param)]: copy.deepcopy(values)
            for param, values in self.state.items()
            if id(param) in index_of
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore hyperparameters and per-parameter state saved by :meth:`state_dict`."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups, "
                f"the optimizer has {len(self.param_groups)}"
            )
        params_by_index: dict[int, Tensor] = {}
        for saved, group in zip(saved_groups, self.param_groups, strict=True):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    "of the optimizer's group"
                )
            params_by_index.update(zip(saved["params"], group["params"], strict=True))
        self.state = {}
        for index, values in state_dict["state"].items():
            param = params_by_index[int(index)]
            self.state[param] = {
                key: _state_array(value, param) if _is_array(value) else value
                for key, value in copy.deepcopy(values).items()
            }
        for saved, group in zip(saved_groups, self.param_groups, strict=True):
            group.update({key: value for key, value in saved.items() if key != "params"})

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for index, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {index}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines) + "\n)"


def subtract_(param: Tensor, update: Any) -> None:
    """``param -= update`` in place, on the parameter's own library (an optimizer's step)."""
    if backend.is_numpy(param._data):
        param._subtract_(update)
    else:
        param._write(lambda data: data.__isub__(update), "an optimizer's update", update)


def _is_array(value: Any) -> bool:
    """Whether a state entry is an array (NumPy's or another library's), not a count."""
    return type(value) is np.ndarray or (not backend.is_numpy(value) and hasattr(value, "shape"))


def _state_array(value: Any, param: Tensor) -> Any:
    """A loaded state array (NumPy, or any library's) on ``param``'s library, device and dtype."""
    data = param._data
    space = backend.array_namespace(data)
    if backend.array_namespace(value) is not space:
        if not backend.is_numpy(value):
            value = backend.to_device(value, backend.CPU)
        if space is np:
            return np.asarray(value).astype(data.dtype)
        value = space.asarray(np.asarray(value), device=backend.native_device(data))
    return xp.astype(value, data.dtype)
