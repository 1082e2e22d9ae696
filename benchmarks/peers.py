"""Which peer libraries are installed, and one thread setting applied to all of them.

``configure_threads`` must run before NumPy, PyTorch or JAX is imported: OpenBLAS,
MKL and XLA read their thread counts from the environment when they load. It
returns what it set, so every report states the settings it was measured under.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform

from harness import pin_threads

PEERS = ("torch", "jax", "autograd", "micrograd")


def have(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it)."""
    return importlib.util.find_spec(module) is not None


def xla_flags(threads: int) -> str:
    """XLA's CPU flags for ``threads`` threads: Eigen's pool off for one, sized otherwise."""
    eigen = "false" if threads == 1 else "true"
    return f"--xla_cpu_multi_thread_eigen={eigen} intra_op_parallelism_threads={threads}"


def configure_threads(threads: int) -> dict[str, object]:
    """Give BLAS and XLA ``threads`` threads and JAX float64; return what was set.

    BLAS (OpenBLAS, MKL, OpenMP) and XLA read environment variables when they
    load, so this runs before NumPy or JAX is imported. JAX gets ``JAX_ENABLE_X64``
    so the scalar workloads run in float64 as in every other library; the network
    workloads pass float32 arrays explicitly. PyTorch is set by ``configure_torch``.
    """
    pin_threads(threads)
    os.environ["XLA_FLAGS"] = xla_flags(threads)
    os.environ["JAX_PLATFORMS"] = "cpu"
    os.environ["JAX_ENABLE_X64"] = "1"
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "XLA_FLAGS")
    return {name: os.environ[name] for name in names + ("JAX_ENABLE_X64",)}


def configure_torch(threads: int) -> dict[str, object]:
    """PyTorch's intra-op and inter-op thread counts, if it is installed (this imports it)."""
    if not have("torch"):
        return {}
    import torch

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(threads)
    threads_set = [torch.get_num_threads(), torch.get_num_interop_threads()]
    return {"torch threads (intra-op, inter-op)": threads_set}


def versions() -> dict[str, str]:
    """Python, NumPy, chainrule and each installed peer, by distribution version."""
    found = {"python": platform.python_version()}
    for distribution in ("numpy", "chainrule", "torch", "jax", "jaxlib", "autograd", "micrograd"):
        try:
            found[distribution] = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def cpu() -> str:
    """The CPU model and the cores this process may use."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as stream:
            model = next(
                line.split(":", 1)[1].strip() for line in stream if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    return f"{model}, {len(os.sched_getaffinity(0))} cores available"
