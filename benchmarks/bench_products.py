"""Products benchmarks: ratios against baselines measured in the same run.

    python benchmarks/bench_products.py

For a few contractions (a small and a large matrix product, a batched product, a
three-operand chain, a diagonal), chainrule's forward against NumPy's own function on
the same arrays (the cost of the Tensor layer), and chainrule's forward plus backward
against PyTorch's (CPU, when installed). One thread for every contender; timings are
interleaved medians, so drifting machine load affects all contenders alike.
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"


import numpy as np  # noqa: E402
from harness import interleaved_medians  # noqa: E402

import chainrule as cr  # noqa: E402

try:
    import torch

    torch.set_num_threads(1)
except ImportError:
    torch = None

REPEATS = 9

#: name -> (subscripts, operand shapes, optimize)
WORKLOADS = {
    "matrix product 8x8": ("ij,jk->ik", [(8, 8), (8, 8)], False),
    "matrix product 256x256": ("ij,jk->ik", [(256, 256), (256, 256)], True),
    "batched product 32x(16x16)": ("bij,bjk->bik", [(32, 16, 16), (32, 16, 16)], True),
    "chain of three 64x64": ("ij,jk,kl->il", [(64, 64)] * 3, True),
    "diagonal 'ii->i' 512x512": ("ii->i", [(512, 512)], False),
}


def bench(name: str, subscripts: str, shapes: list, optimize: bool) -> None:
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape) for shape in shapes]
    leaves = [cr.tensor(a, requires_grad=True) for a in arrays]

    def ours_backward():
        cr.einsum(subscripts, *leaves, optimize=optimize).sum().backward()

    contenders = {
        "numpy": lambda: np.einsum(subscripts, *arrays, optimize=optimize),
        "ours": lambda: cr.einsum(subscripts, *arrays, optimize=optimize),
        "ours backward": ours_backward,
    }
    if torch is not None:
        tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
        contenders["torch backward"] = lambda: torch.einsum(subscripts, *tensors).sum().backward()
    number = max(1, int(2e6 / max(np.prod(shape) for shape in shapes)))
    times = interleaved_medians(contenders, REPEATS, number)
    line = (
        f"{name:28s} forward {times['ours'] * 1e6:9.1f} us = "
        f"{times['ours'] / times['numpy']:5.2f}x np.einsum"
        f" | forward+backward {times['ours backward'] * 1e6:9.1f} us"
    )
    if torch is not None:
        line += f" = {times['ours backward'] / times['torch backward']:5.2f}x PyTorch"
    print(line)


def main() -> None:
    for name, (subscripts, shapes, optimize) in WORKLOADS.items():
        bench(name, subscripts, shapes, optimize)


if __name__ == "__main__":
    main()
