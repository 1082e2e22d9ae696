"""Per-example gradients of the digits MLP loss: chainrule.vmap(grad) against a loop.

    python benchmarks/vmap_per_example.py            # batch 128, 1 thread
    python benchmarks/vmap_per_example.py --batch 32

One gradient per example of a (64, 64, 10) tanh MLP's softmax cross-entropy, on a
batch of the digits (float32): ``vmap(grad(loss))`` against a Python loop of
``grad(loss)`` (the baseline) and against ``torch.func.vmap(torch.func.grad(...))``
when PyTorch is installed. Every contender runs at 1 thread; times are medians of
interleaved rounds from this run, and the script prints the ratios.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

harness.pin_threads(1)

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402

SIZES = (64, 64, 10)


def loss(w1, b1, w2, b2, x, y):
    """Cross-entropy of one example (one-hot ``y``) under a tanh MLP."""
    hidden = cr.tanh(cr.nn.functional.linear(x, w1, b1))
    logits = cr.nn.functional.linear(hidden, w2, b2)
    return -(cr.log_softmax(logits) * y).sum()


def problem(batch: int) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    try:
        digits = cr.data.load_digits()
        x = (digits.features[:batch] / 16.0).astype(np.float32)
        labels = digits.labels[:batch]
    except Exception:  # scikit-learn missing: inputs of the same shape
        x = rng.uniform(0, 1, (batch, SIZES[0])).astype(np.float32)
        labels = rng.integers(0, SIZES[-1], batch)
    y = np.eye(SIZES[-1], dtype=np.float32)[labels]
    params = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:], strict=True):
        params.append((rng.standard_normal((n_out, n_in)) / n_in**0.5).astype(np.float32))
        params.append(np.zeros(n_out, dtype=np.float32))
    return params, x, y


def contenders(batch: int) -> dict:
    params, x, y = problem(batch)
    argnums = (0, 1, 2, 3)
    per_example = cr.vmap(cr.grad(loss, argnums), in_axes=(None, None, None, None, 0, 0))
    one = cr.grad(loss, argnums)
    runs = {
        "chainrule vmap(grad)": lambda: per_example(*params, x, y),
        "chainrule loop of grad (baseline)": lambda: [
            one(*params, xi, yi) for xi, yi in zip(x, y, strict=True)
        ],
    }
    try:
        import torch
        from torch.func import grad, vmap
    except ImportError:
        return runs
    torch.set_num_threads(1)

    def torch_loss(w1, b1, w2, b2, x, y):
        hidden = torch.tanh(torch.nn.functional.linear(x, w1, b1))
        logits = torch.nn.functional.linear(hidden, w2, b2)
        return -(torch.log_softmax(logits, -1) * y).sum()

    tparams = [torch.tensor(p) for p in params]
    tx, ty = torch.tensor(x), torch.tensor(y)
    torch_per_example = vmap(grad(torch_loss, argnums), in_dims=(None, None, None, None, 0, 0))
    runs["torch.func vmap(grad)"] = lambda: torch_per_example(*tparams, tx, ty)
    return runs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    runs = contenders(args.batch)
    checks = _checks(runs)
    results = harness.measure("vmap_per_example", runs, rounds=args.rounds, target_seconds=0.2)
    times = {r.contender: r.median for r in results}
    print(f"per-example gradients, digits MLP {SIZES}, batch {args.batch}, float32, 1 thread")
    for name, seconds in times.items():
        print(f"  {name:36s} {harness.format_seconds(seconds):>10s}   check {checks[name]:.1e}")
    ours = times["chainrule vmap(grad)"]
    loop = times["chainrule loop of grad (baseline)"]
    print(f"  loop / vmap: {loop / ours:.1f}x faster (target >= 10x)")
    if "torch.func vmap(grad)" in times:
        print(f"  vmap / torch.func: {ours / times['torch.func vmap(grad)']:.2f}x (target <= 1.5x)")


def _checks(runs: dict) -> dict[str, float]:
    """Each contender's largest difference from the loop's gradients."""
    flat = {}
    for name, run in runs.items():
        out = run()
        if isinstance(out, list):  # the loop: one tuple per example
            out = [np.stack([np.asarray(g[k]) for g in out]) for k in range(4)]
        flat[name] = np.concatenate([np.asarray(g, dtype=np.float64).ravel() for g in out])
    want = flat["chainrule loop of grad (baseline)"]
    return {name: float(np.max(np.abs(got - want))) for name, got in flat.items()}


if __name__ == "__main__":
    main()
