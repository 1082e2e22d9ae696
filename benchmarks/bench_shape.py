"""Shape and indexing operations: forward against NumPy, forward + backward against PyTorch.

    python benchmarks/bench_shape.py

For each operation on a 256 x 256 float64 input: the time of chainrule's forward against
NumPy's own function on the array (the dispatch and recording overhead), and of a forward
and backward pass (``sum(w * f(x))``) against PyTorch's when it is installed. Timings are
interleaved and reported as medians, so drifting machine load affects all contenders alike;
PyTorch runs on one thread.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from harness import interleaved_medians

import chainrule as cr

REPEATS = 15
NUMBER = 20
X = np.random.default_rng(0).standard_normal((256, 256))
PLAIN = cr.tensor(X)
INDICES = np.random.default_rng(1).integers(0, 256, size=(256, 64))

#: name -> (function of a module (numpy or chainrule) and an input, PyTorch's or None)
OPERATIONS: dict[str, tuple[Callable, Callable | None]] = {
    "flip": (lambda m, x: m.flip(x, 1), lambda x: x.flip(1)),
    "rot90": (lambda m, x: m.rot90(x), lambda x: x.rot90()),
    "roll": (lambda m, x: m.roll(x, 3, 1), lambda x: x.roll(3, 1)),
    "repeat": (lambda m, x: m.repeat(x, 2, 1), lambda x: x.repeat_interleave(2, 1)),
    "tile": (lambda m, x: m.tile(x, (2, 2)), lambda x: x.tile((2, 2))),
    "tril": (lambda m, x: m.tril(x), lambda x: x.tril()),
    "diff": (lambda m, x: m.diff(x, axis=1), lambda x: x.diff(dim=1)),
    "pad constant": (lambda m, x: m.pad(x, 8), None),
    "pad reflect": (lambda m, x: m.pad(x, 8, mode="reflect"), None),
    "take_along_axis": (
        lambda m, x: m.take_along_axis(x, INDICES, 1),
        lambda x: x.take_along_dim(__import__("torch").as_tensor(INDICES), 1),
    ),
    "split": (lambda m, x: m.split(x, 4, axis=1)[1], lambda x: x.tensor_split(4, 1)[1]),
}


def main() -> None:
    try:
        import torch
    except ImportError:
        torch = None
    else:
        torch.set_num_threads(1)  # NumPy's elementwise work runs on one thread too
    print(f"{'operation':<16} {'forward / NumPy':>16} {'fwd+bwd us':>11} {'/ PyTorch':>10}")
    for name, (function, theirs) in OPERATIONS.items():
        leaf = cr.tensor(X, requires_grad=True)
        weights = np.ascontiguousarray(function(np, X))

        def ours_backward(function=function, leaf=leaf, weights=weights):
            leaf.grad = None
            cr.sum(function(cr, leaf) * weights).backward()

        contenders = {
            "numpy": lambda function=function: function(np, X),
            "ours": lambda function=function: function(cr, PLAIN),
            "ours backward": ours_backward,
        }
        if torch is not None and theirs is not None:
            xt = torch.tensor(X, requires_grad=True)
            wt = torch.tensor(weights)

            def torch_backward(theirs=theirs, xt=xt, wt=wt):
                xt.grad = None
                (theirs(xt) * wt).sum().backward()

            contenders["torch backward"] = torch_backward
        times = interleaved_medians(contenders, REPEATS, NUMBER)
        against_torch = (
            f"{times['ours backward'] / times['torch backward']:10.2f}"
            if "torch backward" in times
            else f"{'-':>10}"
        )
        print(
            f"{name:<16} {times['ours'] / times['numpy']:16.2f} "
            f"{times['ours backward'] * 1e6:11.0f} {against_torch}"
        )


if __name__ == "__main__":
    main()
