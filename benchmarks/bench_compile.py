"""chainrule.compile against eager chainrule, a hand-written NumPy step and PyTorch eager.

    python benchmarks/bench_compile.py                 # every workload, 1 BLAS thread
    python benchmarks/bench_compile.py mlp_step --rounds 11 --json compile.json

Workloads (one training step each, zero_grad included):
- ``tiny_mlp_step``: the recitation's 2-2-1 sigmoid network, XOR batch of 4, MSE, SGD (float64);
- ``mlp_step``: MLP 784-256-128-10, ReLU, batch 128, softmax cross-entropy, SGD (float32);
- ``seed_scalar``: value and gradient of the seed's function at x=2, z=3 (float64).

Every contender starts from the same weights (W of shape (out, in), x @ W.T) and is
checked to compute the same step before timing. Contenders are timed in interleaved
rounds (benchmarks/harness.py); the table shows medians and compiled/contender
ratios from this run (below 1: compiled is faster). PyTorch is optional.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import format_seconds, measure, pin_threads  # noqa: E402

COMPILED = "chainrule compiled"
Step = Callable[[], object]


def have_torch() -> bool:
    return importlib.util.find_spec("torch") is not None


def _chainrule_step(model: Any, opt: Any, loss_fn: Any) -> Callable[[Any, Any], Any]:
    def step(x: Any, y: Any) -> Any:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def _weights(model: Any) -> list:
    """(W, b) pairs of the model's Linear layers, copied."""
    return [(layer.weight.data.copy(), layer.bias.data.copy()) for layer in model[::2]]


def _torch_step(
    weights: list, activation: str, loss_name: str, lr: float, x: Any, y: Any, dtype: Any
) -> tuple[Step, Callable]:
    """The same network and step in PyTorch eager; also returns its first weight matrix."""
    import torch

    layers = []
    for index, (w, b) in enumerate(weights):
        linear = torch.nn.Linear(w.shape[1], w.shape[0], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if activation == "sigmoid" or index < len(weights) - 1:
            layers.append(torch.nn.Sigmoid() if activation == "sigmoid" else torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = torch.nn.MSELoss() if loss_name == "mse" else torch.nn.CrossEntropyLoss()
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def step() -> Any:
        opt.zero_grad()
        loss = loss_fn(model(tx), ty)
        loss.backward()
        opt.step()
        return loss

    return step, lambda: model[0].weight.detach().numpy()


# --- workloads: each returns ({contender: step}, {contender: first-layer weight after}) -------


def tiny_mlp_step(lr: float = 0.5) -> tuple[dict[str, Step], dict[str, Callable]]:
    """The recitation's 2-2-1 sigmoid network on XOR, MSE, one SGD step."""
    import numpy as np

    import chainrule as cr
    from chainrule import nn, optim

    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])

    def build() -> tuple[Any, Callable]:
        cr.manual_seed(0)
        model = nn.MLP([2, 2, 1], activation="sigmoid", output_activation="sigmoid")
        opt = optim.SGD(model.parameters(), lr=lr)
        return model, _chainrule_step(model, opt, nn.MSELoss())

    eager_model, eager = build()
    compiled_model, step = build()
    compiled = cr_compile(step)
    (w1, b1), (w2, b2) = _weights(eager_model)

    def numpy_step() -> float:
        h = 1.0 / (1.0 + np.exp(-(x @ w1.T + b1)))
        out = 1.0 / (1.0 + np.exp(-(h @ w2.T + b2)))
        diff = out - y
        loss = (diff * diff).mean()
        g_out = diff * (2.0 / diff.size) * out * (1.0 - out)
        g_h = (g_out @ w2) * h * (1.0 - h)
        np.subtract(w2, lr * (g_out.T @ h), out=w2)
        np.subtract(b2, lr * g_out.sum(axis=0), out=b2)
        np.subtract(w1, lr * (g_h.T @ x), out=w1)
        np.subtract(b1, lr * g_h.sum(axis=0), out=b1)
        return loss

    contenders = {
        "chainrule": lambda: eager(x, y),
        COMPILED: lambda: compiled(x, y),
        "hand NumPy": numpy_step,
    }
    weights = {
        "chainrule": lambda: eager_model[0].weight.data,
        COMPILED: lambda: compiled_model[0].weight.data,
        "hand NumPy": lambda: w1,
    }
    if have_torch():
        import torch

        initial = _weights(compiled_model)
        contenders["torch eager"], weights["torch eager"] = _torch_step(
            initial, "sigmoid", "mse", lr, x, y, torch.float64
        )
    return contenders, weights


def mlp_step(lr: float = 0.01, batch: int = 128) -> tuple[dict[str, Step], dict[str, Callable]]:
    """MLP 784-256-128-10, ReLU, softmax cross-entropy, one SGD step, float32."""
    import numpy as np

    import chainrule as cr
    from chainrule import nn, optim

    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 784)).astype(np.float32)
    y = rng.integers(0, 10, batch)

    def build() -> tuple[Any, Callable]:
        cr.manual_seed(0)
        model = nn.MLP([784, 256, 128, 10], activation="relu", dtype=np.float32)
        opt = optim.SGD(model.parameters(), lr=lr)
        return model, _chainrule_step(model, opt, nn.CrossEntropyLoss())

    eager_model, eager = build()
    compiled_model, step = build()
    compiled = cr_compile(step)
    (w1, b1), (w2, b2), (w3, b3) = _weights(eager_model)
    rows = np.arange(batch)

    def numpy_step() -> np.float32:
        z1 = x @ w1.T
        z1 += b1
        h1 = np.maximum(z1, 0)
        z2 = h1 @ w2.T
        z2 += b2
        h2 = np.maximum(z2, 0)
        z3 = h2 @ w3.T
        z3 += b3
        z3 -= z3.max(axis=1, keepdims=True)
        p = np.exp(z3)
        total = p.sum(axis=1, keepdims=True)
        loss = (np.log(total[:, 0]) - z3[rows, y]).mean()
        p /= total
        p[rows, y] -= 1.0
        p /= batch
        g2 = p @ w3
        g2 *= z2 > 0
        g1 = g2 @ w2
        g1 *= z1 > 0
        np.subtract(w3, lr * (p.T @ h2), out=w3)
        np.subtract(b3, lr * p.sum(axis=0), out=b3)
        np.subtract(w2, lr * (g2.T @ h1), out=w2)
        np.subtract(b2, lr * g2.sum(axis=0), out=b2)
        np.subtract(w1, lr * (g1.T @ x), out=w1)
        np.subtract(b1, lr * g1.sum(axis=0), out=b1)
        return loss

    contenders = {
        "chainrule": lambda: eager(x, y),
        COMPILED: lambda: compiled(x, y),
        "hand NumPy": numpy_step,
    }
    weights = {
        "chainrule": lambda: eager_model[0].weight.data,
        COMPILED: lambda: compiled_model[0].weight.data,
        "hand NumPy": lambda: w1,
    }
    if have_torch():
        import torch

        initial = _weights(compiled_model)
        contenders["torch eager"], weights["torch eager"] = _torch_step(
            initial, "relu", "cross_entropy", lr, x, y, torch.float32
        )
    return contenders, weights


def seed_scalar() -> tuple[dict[str, Step], dict[str, Callable]]:
    """Value and gradient of the seed's function at x=2, z=3."""
    import chainrule as cr
    from chainrule.seed import seed_function

    eager = cr.value_and_grad(seed_function, argnums=(0, 1))
    compiled = cr_compile(cr.value_and_grad(seed_function, argnums=(0, 1)))
    contenders: dict[str, Step] = {
        "chainrule": lambda: eager(2.0, 3.0),
        COMPILED: lambda: compiled(2.0, 3.0),
    }
    results = {name: (lambda run=run: run()[1][0]) for name, run in contenders.items()}
    if have_torch():
        import torch

        def torch_eager() -> object:
            x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
            z = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
            xz = x * z
            y = torch.exp(xz) + xz / torch.log(x) + torch.sin(torch.log(x)) / xz
            y.backward()
            return y.detach(), (x.grad, z.grad)

        contenders["torch eager"] = torch_eager
        results["torch eager"] = lambda: torch_eager()[1][0].item()
    return contenders, results


WORKLOADS = {"tiny_mlp_step": tiny_mlp_step, "mlp_step": mlp_step, "seed_scalar": seed_scalar}


def cr_compile(fn: Callable) -> Callable:
    """chainrule.compile, wherever the package exports it."""
    import chainrule

    compile_ = getattr(chainrule, "compile", None)
    if not callable(compile_):
        from chainrule.jit import compile as compile_
    return compile_(fn)


def check(name: str, contenders: dict[str, Step], results: dict[str, Callable]) -> None:
    """One step of every contender from the same start must give the same result."""
    import numpy as np

    for run in contenders.values():
        run()
    reference = np.asarray(results[COMPILED](), dtype=np.float64)
    for contender, result in results.items():
        value = np.asarray(result(), dtype=np.float64)
        error = np.max(np.abs(value - reference)) / max(1.0, np.max(np.abs(reference)))
        if not error < 1e-5:
            raise SystemExit(f"{name}: {contender} computed a different step (error {error:.2e})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", help=f"any of {', '.join(WORKLOADS)}")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", help="also write the medians and ratios to this file")
    args = parser.parse_args(argv)
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {', '.join(WORKLOADS)}")
    pin_threads(args.threads)  # before NumPy is imported
    if have_torch():
        import torch

        torch.set_num_threads(args.threads)
    print(f"threads: {args.threads}, rounds: {args.rounds}, torch: {have_torch()}")
    rows = []
    for name in args.workloads or list(WORKLOADS):
        contenders, results = WORKLOADS[name]()
        check(name, contenders, results)
        measured = measure(name, contenders, rounds=args.rounds)
        ours = next(r.median_seconds for r in measured if r.contender == COMPILED)
        print(f"\n{name}: {WORKLOADS[name].__doc__}")
        for r in measured:
            ratio = ours / r.median_seconds
            shown = "" if r.contender == COMPILED else f"   compiled/{r.contender} = {ratio:.2f}"
            print(f"  {r.contender:<20} {format_seconds(r.median_seconds):>10}{shown}")
            rows.append(
                {
                    "workload": name,
                    "contender": r.contender,
                    "median_seconds": r.median_seconds,
                    "compiled_ratio": None if r.contender == COMPILED else ratio,
                }
            )
    if args.json:
        Path(args.json).write_text(json.dumps({"threads": args.threads, "results": rows}, indent=2))


if __name__ == "__main__":
    main()
