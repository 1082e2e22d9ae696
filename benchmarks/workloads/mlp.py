"""Network workloads: one training step of a small and a medium MLP, and cheap gradients.

* ``tiny_mlp_step``: the recitation's 2-2-1 sigmoid network on the four XOR points,
  mean squared error, one SGD step (lr 0.5) including zero_grad.
* ``mlp_step`` / ``mlp_step_adam``: MLP 784-256-128-10 with ReLU on a batch of 128
  (standard normal inputs, random labels), softmax cross-entropy, one SGD (lr 0.01)
  or Adam (lr 1e-3) step.
* ``cheap_gradient``: time(value_and_grad) / time(forward) of the 784-256-128-10
  loss, for each contender — the "cheap gradient principle" says a small constant.

Every contender starts from the same float32 weights (PyTorch's layout: W of shape
(out, in), y = x @ W.T + b, PyTorch's default uniform initialization), and its
result after two steps is checked against the hand-written NumPy step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from harness import Result, agreement, measure
from peers import have

from workloads import compiled
from workloads.common import Options, timed

BETAS, EPS = (0.9, 0.999), 1e-8


@dataclass(frozen=True)
class Network:
    """A training problem: layer sizes, hidden activation, loss, optimizer and batch."""

    sizes: tuple[int, ...]
    activation: str  # "sigmoid" or "relu"
    loss: str  # "mse" (behind a sigmoid output) or "cross-entropy" (on logits)
    optimizer: str  # "sgd" or "adam"
    lr: float
    batch: int


TINY = Network((2, 2, 1), "sigmoid", "mse", "sgd", 0.5, 4)
MLP = Network((784, 256, 128, 10), "relu", "cross-entropy", "sgd", 0.01, 128)
MLP_ADAM = replace(MLP, optimizer="adam", lr=1e-3)


@dataclass(frozen=True)
class Problem:
    """Initial weights [W1, b1, W2, b2, ...] (float32) and one batch (inputs, targets)."""

    params: list[np.ndarray]
    x: np.ndarray
    y: np.ndarray


def problem(net: Network, seed: int = 0) -> Problem:
    """Weights drawn as PyTorch's nn.Linear draws them; XOR for MSE, random data otherwise."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(net.sizes[:-1], net.sizes[1:], strict=True):
        bound = 1 / math.sqrt(n_in)
        params.append(rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, n_out).astype(np.float32))
    if net.loss == "mse":
        x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
        y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    else:
        x = rng.standard_normal((net.batch, net.sizes[0])).astype(np.float32)
        y = rng.integers(0, net.sizes[-1], net.batch)
    return Problem(params, x, y)


def pairs(params: list) -> list[tuple]:
    """[W1, b1, W2, b2, ...] as [(W1, b1), (W2, b2), ...]."""
    return list(zip(params[0::2], params[1::2], strict=True))


# --- hand-written NumPy: the lower bound -------------------------------------------------


def activate_in_place(activation: str, z: np.ndarray) -> None:
    """ReLU or sigmoid, written into ``z`` (a fresh array nothing else refers to)."""
    if activation == "relu":
        np.maximum(z, 0, out=z)
        return
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1
    np.reciprocal(z, out=z)


def numpy_forward(net: Network, params: list[np.ndarray], x: np.ndarray) -> list[np.ndarray]:
    """Every layer's input and, last, the network's output."""
    values = [x]
    layers = pairs(params)
    for i, (W, b) in enumerate(layers):
        z = values[-1] @ W.T
        z += b
        if i < len(layers) - 1 or net.loss == "mse":
            activate_in_place(net.activation, z)
        values.append(z)
    return values


def numpy_loss(net: Network, output: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The loss and its gradient with respect to the network's output."""
    if net.loss == "mse":
        diff = output - y
        return float(np.mean(diff * diff)), diff * (2 / diff.size)
    rows = np.arange(len(y))
    shifted = output - output.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(total[:, 0]) - shifted[rows, y]))
    g = exp / total
    g[rows, y] -= 1
    g /= len(y)
    return loss, g


def numpy_value_and_grad(
    net: Network, params: list[np.ndarray], x: np.ndarray, y: np.ndarray
) -> tuple[float, list[np.ndarray]]:
    """Forward, then backward by hand: the work any autodiff library has to do.

    Every array the backward pass updates in place is one it just allocated.
    """
    values = numpy_forward(net, params, x)
    loss, g = numpy_loss(net, values[-1], y)
    layers = pairs(params)
    grads: list[np.ndarray] = []
    for i in reversed(range(len(layers))):
        out = values[i + 1]
        if i < len(layers) - 1 or net.loss == "mse":
            g *= (out > 0) if net.activation == "relu" else out * (1 - out)
        grads[:0] = [g.T @ values[i], g.sum(axis=0)]
        if i:
            g = g @ layers[i][0]
    return loss, grads


class NumpyAdam:
    """PyTorch's Adam update, in place on NumPy arrays."""

    def __init__(self, params: list[np.ndarray], lr: float) -> None:
        self.params, self.lr, self.t = params, lr, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, grads: list[np.ndarray]) -> None:
        self.t += 1
        (b1, b2), t = BETAS, self.t
        step_size, root = self.lr / (1 - b1**t), math.sqrt(1 - b2**t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            denom = np.sqrt(v)
            denom /= root
            denom += EPS
            p -= step_size * (m / denom)


def numpy_updater(net: Network, params: list[np.ndarray]) -> Callable[[list[np.ndarray]], None]:
    """The optimizer's in-place update of ``params`` from a list of gradients."""
    if net.optimizer == "adam":
        return NumpyAdam(params, net.lr).step

    def sgd(grads: list[np.ndarray]) -> None:
        for p, g in zip(params, grads, strict=True):
            p -= net.lr * g

    return sgd


def numpy_step(net: Network, prob: Problem) -> Callable[[], float]:
    params = [p.copy() for p in prob.params]
    update = numpy_updater(net, params)

    def step() -> float:
        loss, grads = numpy_value_and_grad(net, params, prob.x, prob.y)
        update(grads)
        return loss

    return step


# --- chainrule -----------------------------------------------------------------------------


def chainrule_training(net: Network, prob: Problem) -> tuple[Callable, object, object]:
    """An eager training step ``step(inputs, targets)`` and the batch to call it with."""
    import chainrule as cr
    from chainrule import nn, optim

    output = "sigmoid" if net.loss == "mse" else None
    model = nn.MLP(net.sizes, net.activation, output_activation=output, dtype=np.float32)
    model.load_state_dict(dict(zip(model.state_dict(), prob.params, strict=True)))
    if net.optimizer == "adam":
        optimizer = optim.Adam(model.parameters(), lr=net.lr)
    else:
        optimizer = optim.SGD(model.parameters(), lr=net.lr)
    loss_function = nn.MSELoss() if net.loss == "mse" else nn.CrossEntropyLoss()

    def step(inputs: object, targets: object) -> object:
        optimizer.zero_grad()
        loss = loss_function(model(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss

    return step, cr.Tensor(prob.x), prob.y


def chainrule_step(net: Network, prob: Problem) -> Callable[[], object]:
    step, inputs, targets = chainrule_training(net, prob)
    return lambda: step(inputs, targets)


# --- peers ---------------------------------------------------------------------------------


def torch_step(net: Network, prob: Problem) -> Callable[[], object]:
    import torch

    layers: list[torch.nn.Module] = []
    for i, (W, b) in enumerate(pairs(prob.params)):
        linear = torch.nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if i < len(prob.params) // 2 - 1 or net.loss == "mse":
            layers.append(torch.nn.ReLU() if net.activation == "relu" else torch.nn.Sigmoid())
    model = torch.nn.Sequential(*layers)
    if net.optimizer == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=net.lr)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=net.lr)
    loss_function = torch.nn.MSELoss() if net.loss == "mse" else torch.nn.CrossEntropyLoss()
    x, y = torch.from_numpy(prob.x), torch.from_numpy(prob.y)

    def step() -> object:
        optimizer.zero_grad()
        loss = loss_function(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


def jax_loss(net: Network) -> Callable:
    """The network's loss ``loss(params, x, y)`` in jax.numpy."""
    import jax
    import jax.numpy as jnp

    def loss(params: list, x: object, y: object) -> object:
        a = x
        layers = pairs(params)
        for i, (W, b) in enumerate(layers):
            a = a @ W.T + b
            if i < len(layers) - 1 or net.loss == "mse":
                a = jax.nn.relu(a) if net.activation == "relu" else jax.nn.sigmoid(a)
        if net.loss == "mse":
            return jnp.mean((a - y) ** 2)
        picked = jnp.take_along_axis(a, y[:, None], axis=1)[:, 0]
        return jnp.mean(jax.nn.logsumexp(a, axis=1) - picked)

    return loss


def jax_step(net: Network, prob: Problem) -> Callable[[], object]:
    """One jitted step: value_and_grad and the update, with the old state's buffers donated."""
    import functools

    import jax
    import jax.numpy as jnp

    value_and_grad = jax.value_and_grad(jax_loss(net))
    (b1, b2), lr = BETAS, net.lr

    @functools.partial(jax.jit, donate_argnums=0)
    def sgd(params: list, x: object, y: object) -> tuple:
        value, grads = value_and_grad(params, x, y)
        return [p - lr * g for p, g in zip(params, grads, strict=True)], value

    @functools.partial(jax.jit, donate_argnums=0)
    def adam(state: tuple, x: object, y: object) -> tuple:
        params, m, v, t = state
        value, grads = value_and_grad(params, x, y)
        t = t + 1
        m = [b1 * mi + (1 - b1) * g for mi, g in zip(m, grads, strict=True)]
        v = [b2 * vi + (1 - b2) * g * g for vi, g in zip(v, grads, strict=True)]
        step_size, root = lr / (1 - b1**t), jnp.sqrt(1 - b2**t)
        params = [
            p - step_size * mi / (jnp.sqrt(vi) / root + EPS)
            for p, mi, vi in zip(params, m, v, strict=True)
        ]
        return (params, m, v, t), value

    params = [jnp.asarray(p) for p in prob.params]
    if net.optimizer == "adam":
        m, v = ([jnp.zeros_like(p) for p in params] for _ in range(2))
        state: list = [(params, m, v, jnp.float32(0))]
        update = adam
    else:
        state, update = [params], sgd
    x, y = jnp.asarray(prob.x), jnp.asarray(prob.y)

    def step() -> object:
        state[0], value = update(state[0], x, y)
        return value.block_until_ready()

    return step


def autograd_loss(net: Network, x: np.ndarray, y: np.ndarray) -> Callable:
    """The network's loss ``loss(params)`` in HIPS autograd's NumPy."""
    import autograd.numpy as anp
    from autograd.scipy.special import logsumexp

    rows = np.arange(len(y))

    def loss(params: list) -> object:
        a = x
        layers = pairs(params)
        for i, (W, b) in enumerate(layers):
            a = anp.dot(a, W.T) + b
            if i < len(layers) - 1 or net.loss == "mse":
                a = anp.maximum(a, 0) if net.activation == "relu" else 1 / (1 + anp.exp(-a))
        if net.loss == "mse":
            return anp.mean((a - y) ** 2)
        return anp.mean(logsumexp(a, axis=1) - a[rows, y])

    return loss


def autograd_step(net: Network, prob: Problem) -> Callable[[], object]:
    import autograd

    params = [p.copy() for p in prob.params]
    value_and_grad = autograd.value_and_grad(autograd_loss(net, prob.x, prob.y))
    update = numpy_updater(net, params)

    def step() -> object:
        value, grads = value_and_grad(params)
        update(grads)
        return value

    return step


def micrograd_step(net: Network, prob: Problem) -> Callable[[], object]:
    """The tiny network neuron by neuron, as micrograd's own nn module builds it."""
    from micrograd.engine import Value
    from micrograd_ext import sigmoid

    layers = [
        ([[Value(float(w)) for w in row] for row in W], [Value(float(v)) for v in b])
        for W, b in pairs(prob.params)
    ]
    params = [p for W, b in layers for p in [*(w for row in W for w in row), *b]]
    targets = [float(t) for t in prob.y[:, 0]]
    samples = list(zip(prob.x.tolist(), targets, strict=True))

    def forward(inputs: list) -> Value:
        for W, b in layers:
            inputs = [
                sigmoid(sum((w * v for w, v in zip(row, inputs, strict=True)), bias))
                for row, bias in zip(W, b, strict=True)
            ]
        return inputs[0]

    def step() -> float:
        for p in params:
            p.grad = 0.0
        loss = sum((forward(inputs) - target) ** 2 for inputs, target in samples) * (
            1 / len(samples)
        )
        loss.backward()
        for p in params:
            p.data -= net.lr * p.grad
        return loss.data

    return step


# --- workloads -----------------------------------------------------------------------------


def step_contenders(net: Network, prob: Problem) -> tuple[dict[str, Callable], dict[str, str]]:
    """Every installed contender's training step, and a note for any that could not run."""
    contenders: dict[str, Callable[[], object]] = {
        "chainrule": chainrule_step(net, prob),
        compiled.NAME: compiled.compiled_step(lambda: chainrule_training(net, prob)),
        "hand NumPy": numpy_step(net, prob),
    }
    notes: dict[str, str] = {}
    if have("numba"):
        native = compiled.compiled_step(lambda: chainrule_training(net, prob), "numba")
        contenders[compiled.NATIVE] = native
        notes[compiled.NATIVE] = f"compile {native.compile_seconds:.1f} s (once per shape)"
    if have("torch"):
        contenders["torch eager"] = torch_step(net, prob)
    if have("jax"):
        contenders["jax.jit"] = jax_step(net, prob)
    if have("autograd"):
        contenders["HIPS autograd"] = autograd_step(net, prob)
    if have("micrograd") and net == TINY:
        contenders["micrograd"] = micrograd_step(net, prob)
    return contenders, notes


def training_step(name: str, net: Network, options: Options) -> list[Result]:
    contenders, notes = step_contenders(net, problem(net))
    return timed(name, contenders, options, reference="hand NumPy", notes=notes)


def tiny_mlp_step(options: Options) -> list[Result]:
    """The recitation's 2-2-1 sigmoid network, XOR batch of 4, MSE, one SGD step."""
    return training_step("tiny_mlp_step", TINY, options)


def mlp_step(options: Options) -> list[Result]:
    """MLP 784-256-128-10, ReLU, batch 128, float32, softmax cross-entropy, one SGD step."""
    return training_step("mlp_step", MLP, options)


def mlp_step_adam(options: Options) -> list[Result]:
    """mlp_step with one Adam step instead of SGD."""
    return training_step("mlp_step_adam", MLP_ADAM, options)


def gradient_pairs(prob: Problem) -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    """(forward, value_and_grad) of the 784-256-128-10 loss for every installed contender."""
    import chainrule as cr
    from chainrule.nn import functional as F

    net, x, y = MLP, prob.x, prob.y

    def cr_loss(*params: object) -> object:
        a = cr.Tensor(x)
        for i, (W, b) in enumerate(pairs(list(params))):
            a = F.linear(a, W, b)
            if i < len(params) // 2 - 1:
                a = F.relu(a)
        return F.cross_entropy(a, y)

    cr_params = [cr.Tensor(p) for p in prob.params]
    cr_value_and_grad = cr.value_and_grad(cr_loss, argnums=tuple(range(len(prob.params))))

    def cr_forward() -> object:
        with cr.no_grad():
            return cr_loss(*cr_params)

    found = {
        "chainrule": (cr_forward, lambda: cr_value_and_grad(*prob.params)),
        "hand NumPy": (
            lambda: numpy_loss(net, numpy_forward(net, prob.params, x)[-1], y)[0],
            lambda: numpy_value_and_grad(net, prob.params, x, y),
        ),
    }
    if have("torch"):
        import torch
        import torch.nn.functional as TF

        t_params = [torch.from_numpy(p.copy()).requires_grad_() for p in prob.params]
        t_x, t_y = torch.from_numpy(x), torch.from_numpy(y)

        def torch_loss() -> object:
            a = t_x
            for i, (W, b) in enumerate(pairs(t_params)):
                a = TF.linear(a, W, b)
                if i < len(t_params) // 2 - 1:
                    a = torch.relu(a)
            return TF.cross_entropy(a, t_y)

        def torch_forward() -> object:
            with torch.no_grad():
                return torch_loss()

        def torch_value_and_grad() -> object:
            loss = torch_loss()
            return loss, torch.autograd.grad(loss, t_params)

        found["torch eager"] = (torch_forward, torch_value_and_grad)
    if have("jax"):
        import jax
        import jax.numpy as jnp

        j_params = [jnp.asarray(p) for p in prob.params]
        j_x, j_y = jnp.asarray(x), jnp.asarray(y)
        j_forward = jax.jit(jax_loss(net))
        j_value_and_grad = jax.jit(jax.value_and_grad(jax_loss(net)))
        found["jax.jit"] = (
            lambda: jax.block_until_ready(j_forward(j_params, j_x, j_y)),
            lambda: jax.block_until_ready(j_value_and_grad(j_params, j_x, j_y)),
        )
    if have("autograd"):
        import autograd

        a_loss = autograd_loss(net, x, y)
        a_value_and_grad = autograd.value_and_grad(a_loss)
        found["HIPS autograd"] = (
            lambda: a_loss(prob.params),
            lambda: a_value_and_grad(prob.params),
        )
    return found


def cheap_gradient(options: Options) -> list[Result]:
    """time(value_and_grad) / time(forward) of the MLP loss, each library against itself."""
    found = gradient_pairs(problem(MLP))
    forwards = {name: forward for name, (forward, _) in found.items()}
    gradients = {name: value_and_grad for name, (_, value_and_grad) in found.items()}
    checks = agreement(gradients, "hand NumPy", calls=1)
    contenders = {
        f"{name}|{kind}": run
        for kind, runs in (("forward", forwards), ("value_and_grad", gradients))
        for name, run in runs.items()
    }
    measured = {r.contender: r for r in measure("cheap_gradient", contenders, options.rounds)}
    results = []
    for name in found:
        forward, gradient = measured[f"{name}|forward"], measured[f"{name}|value_and_grad"]
        per_round = [g / f for g, f in zip(gradient.rounds, forward.rounds, strict=True)]
        results.append(
            Result(
                "cheap_gradient",
                name,
                gradient.median / forward.median,
                per_round,
                metric="value_and_grad / forward",
                unit="x",
                check=checks[name],
                note=f"{format_pair(forward.median, gradient.median)}",
            )
        )
    for kind in ("forward", "value_and_grad"):
        for name in found:
            r = measured[f"{name}|{kind}"]
            results.append(Result("cheap_gradient", name, r.median, r.rounds, metric=kind))
    return results


def format_pair(forward: float, gradient: float) -> str:
    from harness import format_seconds

    return f"forward {format_seconds(forward)}, value_and_grad {format_seconds(gradient)}"
