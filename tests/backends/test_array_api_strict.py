"""Every registry entry on the ``array_api_strict`` backend: the proof that no NumPy-only call
leaks into the engine.

array-api-strict implements the Array API standard and nothing more: an array method,
dtype attribute or function that NumPy has and the standard lacks fails on it, and its
arrays refuse NumPy scalars. Each entry's samples (the same the NumPy gradchecks use)
are run here on strict arrays through the engine: the forward, the reverse sweep, the
forward sweep and a second-order (create_graph) sweep. Every result and gradient must be
a strict array again (a NumPy result means something converted the data behind the
standard's back) and equal the NumPy backend's, which the gradchecks in
tests/ops/test_primitives.py check against finite differences.

An entry that cannot run on a standard namespace (``portable=False`` and no
implementation for the library) must refuse with DeviceError naming itself, never
compute on NumPy; those entries are listed in :data:`NUMPY_ONLY` and the list is
checked to be exact.

``CHAINRULE_TEST_BACKEND=cupy`` runs the same test on CuPy arrays instead (on a machine with
a GPU: benchmarks/gpu_check.sh), against the same NumPy results.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.core import engine
from chainrule.core.primitive import PRIMITIVES
from chainrule.errors import DeviceError
from chainrule.tensor import apply

#: The library the entries run on: array_api_strict, or CuPy with CHAINRULE_TEST_BACKEND=cupy.
BACKEND = os.environ.get("CHAINRULE_TEST_BACKEND", "array_api_strict")
if BACKEND == "cupy":
    pytest.importorskip("cupy")
    xs = pytest.importorskip("array_api_compat.cupy")
else:
    xs = pytest.importorskip("array_api_strict")

from tests.ops.test_primitives import cases, diff_positions  # noqa: E402

#: Entries with no implementation on a standard namespace: they refuse strict arrays.
NUMPY_ONLY: frozenset[str] = frozenset(
    {
        # np.partition's arrangement of the entries beside the kth is NumPy's own (not a
        # sort): no standard composition reproduces it. It runs on NumPy and CuPy.
        "partition",
    }
)


def _refuses(name: str) -> bool:
    """Whether the entry has no forward for the backend's arrays (CuPy has einsum, erf, ...)."""
    try:
        PRIMITIVES[name].forward_on(xs)
    except DeviceError:
        return True
    return False


#: The entries that must refuse the backend's arrays: on CuPy, those of NUMPY_ONLY that
#: name no CuPy implementation.
REFUSED = frozenset(filter(_refuses, NUMPY_ONLY)) if BACKEND == "cupy" else NUMPY_ONLY

RTOL, ATOL = 1e-9, 1e-11


def is_strict(value) -> bool:
    return type(value).__module__.startswith(BACKEND)


def to_strict(value):
    """Array operands as strict arrays; numbers and None as they are."""
    if isinstance(value, (np.ndarray, np.generic)):
        return xs.asarray(np.asarray(value))
    return value


def to_numpy(value):
    if not is_strict(value):
        return np.asarray(value)
    return value.get() if BACKEND == "cupy" else np.asarray(np.from_dlpack(value))


def run(prim, args, params, strict: bool):
    """Forward, reverse, forward-mode and second-order results of one sample."""
    positions = diff_positions(prim, args) if prim.differentiable else []
    convert = to_strict if strict else (lambda v: v)
    tensors = tuple(
        None if a is None else cr.tensor(convert(a), requires_grad=i in positions)
        for i, a in enumerate(args)
    )
    out = apply(prim, tensors, params)
    results = {"forward": out._data}
    if not positions or not out.requires_grad:
        return results
    rng = np.random.default_rng(7)
    shape = tuple(out.shape)
    cotangent = convert(rng.standard_normal(shape).astype(to_numpy(out._data).dtype))
    grads = engine.backprop(out, cotangent, [tensors[i] for i in positions], retain_graph=True)
    for i, g in zip(positions, grads, strict=True):
        results[f"vjp{i}"] = g
    tangents = [convert(random_like(rng, to_numpy(tensors[i]._data))) for i in positions]
    (jvp,) = engine.push_tangents([out], [tensors[i] for i in positions], tangents)
    results["jvp"] = jvp
    # Second order: the reverse sweep recorded (its rules run on Tensors), then swept again.
    out = apply(prim, tensors, params)
    first = engine.backprop(
        out, cr.Tensor(cotangent), [tensors[i] for i in positions], create_graph=True
    )
    i, g = next((i, g) for i, g in zip(positions, first, strict=True) if g is not None)
    if g.requires_grad:
        weight = cr.Tensor(convert(random_like(rng, to_numpy(g._data))))
        second = engine.backprop(
            (g * weight).sum(),
            convert(np.float64(1.0).astype(to_numpy(g._data).dtype)),
            [tensors[j] for j in positions],
        )
        for j, h in zip(positions, second, strict=True):
            results[f"second{i}{j}"] = h
    return results


def random_like(rng, value):
    return rng.standard_normal(np.shape(value)).astype(value.dtype)


#: Entries whose purpose is to leave the operand's library (tested in test_devices.py).
MOVES_DATA = frozenset({"to_device"})


@pytest.mark.parametrize("name", sorted(set(PRIMITIVES) - MOVES_DATA))
def test_entry_runs_on_array_api_strict(name):
    prim = PRIMITIVES[name]
    if prim.sample is None and prim.domains is None:
        pytest.skip(f"{name} has no samples")
    for args, params in cases(prim):
        if name in REFUSED:
            with pytest.raises(DeviceError, match=name):
                run(prim, args, params, strict=True)
            continue
        expected = run(prim, args, params, strict=False)
        actual = run(prim, args, params, strict=True)
        assert set(actual) == set(expected), f"{name}: {sorted(actual)} vs {sorted(expected)}"
        for key, value in actual.items():
            if value is None:
                assert expected[key] is None, f"{name} {key}"
                continue
            assert is_strict(value), f"{name} {key} {params}: a {type(value).__name__}, not strict"
            np.testing.assert_allclose(
                to_numpy(value),
                to_numpy(expected[key]),
                rtol=RTOL,
                atol=ATOL,
                err_msg=f"{name} {key} {params}",
            )
