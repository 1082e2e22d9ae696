"""Peak memory of a deep MLP's backward pass with and without chainrule.checkpoint.

    python benchmarks/checkpoint_memory.py                 # 32 layers, width 512, batch 256
    python benchmarks/checkpoint_memory.py --depth 8 --width 128

The loss of a tanh MLP is differentiated once plainly and once with every layer (or
every block of ``--block`` layers) checkpointed; tracemalloc reports the peak of
NumPy's allocations during forward plus backward (each measured in the same run,
after a warm-up call). Gradients are checked equal. Prints both peaks, the saving
ratio, the same beyond the weight gradients returned (which both runs must hold), and
the time ratio (checkpointing re-runs each forward once).
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

harness.pin_threads(1)

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402


def layer(x, w, b):
    """One layer: tanh(x @ w.T + b), with a residual connection so depth stays trainable."""
    return x + cr.tanh(cr.nn.functional.linear(x, w, b))


def block(size):
    """``size`` layers as one function of the input and their weights."""

    def run(x, *weights):
        for w, b in zip(weights[::2], weights[1::2], strict=True):
            x = layer(x, w, b)
        return x

    return run


def loss_function(depth, block_size, wrap):
    step = wrap(block(block_size))

    def loss(x, *weights):
        for start in range(0, depth, block_size):
            x = step(x, *weights[2 * start : 2 * (start + block_size)])
        return (x * x).mean()

    return loss


def measure(depth, width, batch, block_size, wrap):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, width)).astype(np.float32)
    weights = []
    for _ in range(depth):
        weights.append((rng.standard_normal((width, width)) / width**0.5).astype(np.float32))
        weights.append(np.zeros(width, dtype=np.float32))
    gradient = cr.grad(loss_function(depth, block_size, wrap), tuple(range(1, 2 * depth + 1)))
    gradient(x, *weights)  # warm-up
    tracemalloc.start()
    start = time.perf_counter()
    grads = gradient(x, *weights)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, seconds, grads


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=32)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--block", type=int, default=1, help="layers per checkpointed block")
    args = parser.parse_args(argv)
    shape = (args.depth, args.width, args.batch)
    plain_peak, plain_time, plain = measure(*shape, args.block, lambda f: f)
    saved_peak, saved_time, saved = measure(*shape, args.block, cr.checkpoint)
    same = all(np.array_equal(a, b) for a, b in zip(plain, saved, strict=True))
    print(
        f"backward of a {args.depth}-layer MLP, width {args.width}, batch {args.batch}, "
        f"float32, checkpoint every {args.block} layer(s), 1 thread"
    )
    returned = sum(g.nbytes for g in plain)  # the weight gradients: the same in both runs
    print(f"  peak memory without checkpoint {plain_peak / 2**20:8.1f} MiB")
    print(f"  peak memory with checkpoint    {saved_peak / 2**20:8.1f} MiB")
    print(f"  saving: {plain_peak / saved_peak:.1f}x less peak memory")
    print(
        f"  beyond the {returned / 2**20:.1f} MiB of gradients returned (activations and "
        f"workspace): {(plain_peak - returned) / 2**20:.1f} MiB -> "
        f"{(saved_peak - returned) / 2**20:.1f} MiB, "
        f"{(plain_peak - returned) / (saved_peak - returned):.1f}x less"
    )
    print(f"  time: {saved_time / plain_time:.2f}x the plain backward ({plain_time:.3f} s)")
    print(f"  gradients identical: {same}")


if __name__ == "__main__":
    main()
