"""The recitation's one-hidden-layer network, in scalar and in vector notation.

Layer: explain. Names follow section 1 of the recitation: inputs x_i, weights
w_ij (input i to hidden unit j) collected in W (inputs x hidden) so that
t = Wᵀx + b1, hidden outputs h = σ(t), output weights a_jk collected in A
(outputs x hidden), and o = A h + b2. Both forms are evaluated with chainrule
and checked against each other, outputs and gradients.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import functions as F
from ..tensor import Tensor
from .trace import Trace, trace

#: Unit indices are single digits in the recitation's names (w12, a21, b11).
MAX_UNITS = 9

ACTIVATIONS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "sigmoid": ("σ", F.sigmoid),
    "tanh": ("tanh", F.tanh),
    "relu": ("relu", F.relu),
}


@dataclass
class Network:
    """Sizes and (optionally) weights of an inputs-hidden-outputs network."""

    inputs: int
    hidden: int
    outputs: int
    activation: str = "sigmoid"
    weights: dict[str, np.ndarray] | None = None

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {self.activation!r}; choose one of {', '.join(ACTIVATIONS)}"
            )
        if not all(1 <= n <= MAX_UNITS for n in (self.inputs, self.hidden, self.outputs)):
            raise ValueError(
                f"explain-net writes out every unit: each layer needs 1 to {MAX_UNITS} units, "
                f"got {self.inputs},{self.hidden},{self.outputs}"
            )

    @property
    def sigma(self) -> str:
        return ACTIVATIONS[self.activation][0]

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {
            "x": (self.inputs,),
            "W": (self.inputs, self.hidden),
            "b1": (self.hidden,),
            "A": (self.outputs, self.hidden),
            "b2": (self.outputs,),
        }

    # --- equations ---------------------------------------------------------------
    def scalar_equations(self) -> list[str]:
        """t_j, h_j and o_k written out unit by unit (the warmup's answers)."""
        lines = []
        for j in range(1, self.hidden + 1):
            terms = " + ".join(f"w{i}{j}·x{i}" for i in range(1, self.inputs + 1))
            lines.append(f"t{j} = {terms} + b1{j}")
        lines += [f"h{j} = {self.sigma}(t{j})" for j in range(1, self.hidden + 1)]
        for k in range(1, self.outputs + 1):
            terms = " + ".join(f"a{j}{k}·h{j}" for j in range(1, self.hidden + 1))
            lines.append(f"o{k} = {terms} + b2{k}")
        return lines

    def weight_layout(self) -> list[str]:
        """How the scalar names map onto the arrays of a ``--weights`` file (indices from 0).

        w_ij joins input i to hidden unit j and is W[i-1][j-1]; a_jk joins hidden
        unit j to output k, and A is outputs x hidden (so that o = Ah), so a_jk is
        A[k-1][j-1], the transposed position.
        """
        j = self.hidden
        return [
            "in a --weights file (indices from 0): w_ij = W[i-1][j-1], b1j = b1[j-1],",
            f"  a_jk = A[k-1][j-1] (A is outputs × hidden: a{j}1 = A[0][{j - 1}]), b2k = b2[k-1]",
        ]

    def vector_equations(self) -> list[str]:
        """t = Wᵀx + b1, h = σ(t), o = Ah + b2, the composition, and every shape."""
        s = self.shapes
        b2 = "b21" if self.outputs == 1 else "b2"
        o = "o1" if self.outputs == 1 else "o"
        return [
            "t = Wᵀx + b1",
            f"h = {self.sigma}(t)",
            f"{o} = Ah + {b2}",
            f"{o} = A {self.sigma}(Wᵀx + b1) + {b2}",
            f"shapes: x {_shape(s['x'])}, W {_shape(s['W'])}, b1 {_shape(s['b1'])}, "
            f"t and h {_shape((self.hidden,))}, A {_shape(s['A'])}, {b2} {_shape(s['b2'])}, "
            f"{o} {_shape((self.outputs,))}",
        ]

    # --- weights -------------------------------------------------------------------
    def with_random_weights(self, seed: int) -> Network:
        rng = np.random.default_rng(seed)
        weights = {name: rng.normal(0.0, 1.0, size=shape) for name, shape in self.shapes.items()}
        weights.pop("x")
        return Network(self.inputs, self.hidden, self.outputs, self.activation, weights)

    def with_weights_file(self, path: str | Path) -> Network:
        """Weights from JSON with keys W, b1, A, b2 in the recitation's shapes."""
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ValueError(f"weights file {path} does not exist") from None
        except json.JSONDecodeError as error:
            raise ValueError(f"weights file {path} is not valid JSON: {error}") from None
        except RecursionError:
            raise ValueError(f"weights file {path} is nested too deeply to be weights") from None
        if not isinstance(data, dict):
            raise ValueError(f"weights file {path} must hold a JSON object with W, b1, A, b2")
        weights = {}
        for name in ("W", "b1", "A", "b2"):
            if name not in data:
                raise ValueError(f"weights file {path} has no {name!r}")
            try:
                value = np.asarray(data[name], dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"weights file {path}: {name} is not numeric") from None
            if not np.all(np.isfinite(value)):
                raise ValueError(f"weights file {path}: {name} holds a non-finite number")
            expected = self.shapes[name]
            if value.shape != expected:
                raise ValueError(
                    f"weights file {path}: {name} has shape {value.shape}, but --layers "
                    f"{self.inputs},{self.hidden},{self.outputs} needs {expected}"
                )
            weights[name] = value
        unknown = sorted(set(data) - {"W", "b1", "A", "b2"})
        if unknown:
            raise ValueError(f"weights file {path} has unknown keys {unknown}")
        return Network(self.inputs, self.hidden, self.outputs, self.activation, weights)

    # --- the two forms, as functions chainrule can trace -----------------------------
    def scalar_point(self, x: np.ndarray, target: np.ndarray | None) -> dict[str, float]:
        """Every scalar of the recitation's figure: inputs, weights, biases, labels."""
        assert self.weights is not None
        W, b1, A, b2 = (self.weights[k] for k in ("W", "b1", "A", "b2"))
        point = {f"x{i + 1}": float(x[i]) for i in range(self.inputs)}
        point |= {
            f"w{i + 1}{j + 1}": float(W[i, j])
            for i in range(self.inputs)
            for j in range(self.hidden)
        }
        point |= {f"b1{j + 1}": float(b1[j]) for j in range(self.hidden)}
        point |= {
            f"a{j + 1}{k + 1}": float(A[k, j])
            for k in range(self.outputs)
            for j in range(self.hidden)
        }
        point |= {f"b2{k + 1}": float(b2[k]) for k in range(self.outputs)}
        if target is not None:
            point |= {f"y{k + 1}": float(target[k]) for k in range(self.outputs)}
        return point

    def scalar_function(self, with_loss: bool) -> Callable[..., Any]:
        """The network unit by unit: one chainrule operation per scalar multiply and add."""
        act = ACTIVATIONS[self.activation][1]

        def network(**v: Tensor) -> Tensor:
            hidden = []
            for j in range(1, self.hidden + 1):
                t = v[f"w1{j}"] * v["x1"]
                for i in range(2, self.inputs + 1):
                    t = t + v[f"w{i}{j}"] * v[f"x{i}"]
                hidden.append(act(t + v[f"b1{j}"]))
            outputs = []
            for k in range(1, self.outputs + 1):
                o = v[f"a1{k}"] * hidden[0]
                for j in range(2, self.hidden + 1):
                    o = o + v[f"a{j}{k}"] * hidden[j - 1]
                outputs.append(o + v[f"b2{k}"])
            if not with_loss:
                return outputs[0] if self.outputs == 1 else F.stack(outputs)
            loss = (outputs[0] - v["y1"]) ** 2
            for k in range(2, self.outputs + 1):
                loss = loss + (outputs[k - 1] - v[f"y{k}"]) ** 2
            return loss / self.outputs

        return network

    def vector_function(self, with_loss: bool) -> Callable[..., Any]:
        """The network in vector notation: o = A σ(Wᵀx + b1) + b2."""
        act = ACTIVATIONS[self.activation][1]

        def network(
            x: Tensor, W: Tensor, b1: Tensor, A: Tensor, b2: Tensor, y: Tensor | None = None
        ) -> Tensor:  # noqa: N803
            o = A @ act(W.T @ x + b1) + b2
            return F.mean((o - y) ** 2) if with_loss else o

        return network


def _shape(shape: tuple[int, ...]) -> str:
    return " × ".join(map(str, shape)) if len(shape) > 1 else f"{shape[0]}"


@dataclass
class NetworkExplanation:
    """Forward values, gradients of the loss and the scalar-vs-vector agreement."""

    network: Network
    scalar_trace: Trace
    vector_trace: Trace
    forward_values: dict[str, float]
    gradients: dict[str, float] | None
    outputs_agree: bool
    gradients_agree: bool | None


def evaluate(network: Network, x: np.ndarray, target: np.ndarray | None) -> NetworkExplanation:
    """Run both forms at input ``x`` (and loss against ``target``), and compare them."""
    assert network.weights is not None
    with_loss = target is not None
    scalar_point = network.scalar_point(x, target)
    scalar = trace(network.scalar_function(with_loss), scalar_point)
    vector_point: dict[str, Any] = {"x": x, **network.weights}
    if with_loss:
        vector_point["y"] = target
    vector = trace(network.vector_function(with_loss), vector_point)

    forward_values = _named_forward_values(network, scalar_point)
    scalar_out = np.atleast_1d(scalar.output.value)
    vector_out = np.atleast_1d(vector.output.value)
    outputs_agree = bool(np.allclose(scalar_out, vector_out, rtol=1e-12, atol=1e-14))

    gradients = gradients_agree = None
    if with_loss:
        scalar_grad = scalar.gradient()
        vector_grad = vector.gradient()
        gradients = {
            name: float(scalar_grad[name])
            for name in scalar_point
            if not name.startswith(("x", "y"))
        }
        gradients_agree = all(
            np.isclose(value, _component(name, vector_grad), rtol=1e-10, atol=1e-14)
            for name, value in gradients.items()
        )
    return NetworkExplanation(
        network, scalar, vector, forward_values, gradients, outputs_agree, gradients_agree
    )


def _component(name: str, arrays: Mapping[str, np.ndarray]) -> float:
    """The entry of W, A, b1 or b2 that the scalar name w_ij, a_jk, b1j or b2k denotes."""
    if name[0] == "w":
        return float(arrays["W"][int(name[1]) - 1, int(name[2]) - 1])
    if name[0] == "a":
        return float(arrays["A"][int(name[2]) - 1, int(name[1]) - 1])
    return float(arrays[name[:2]][int(name[2]) - 1])


def _named_forward_values(network: Network, point: Mapping[str, float]) -> dict[str, float]:
    """t_j, h_j and o_k at the point, by the scalar equations."""
    act = ACTIVATIONS[network.activation][1]
    values: dict[str, float] = {}
    for j in range(1, network.hidden + 1):
        t = (
            sum(point[f"w{i}{j}"] * point[f"x{i}"] for i in range(1, network.inputs + 1))
            + point[f"b1{j}"]
        )
        values[f"t{j}"] = t
        values[f"h{j}"] = float(act(t).item())
    for k in range(1, network.outputs + 1):
        values[f"o{k}"] = (
            sum(point[f"a{j}{k}"] * values[f"h{j}"] for j in range(1, network.hidden + 1))
            + point[f"b2{k}"]
        )
    return values
