"""Elementwise and complex entries on array_api_strict: the forwards written for the standard
(``implementations["array_api"]``) against NumPy's, on samples and on the edge values where
a composition could drift (zeros, NaN, infinities, ties, crossed bounds, integer input).

The engine-level run of every entry (reverse, forward and second-order sweeps) is
tests/backends/test_array_api_strict.py; this file checks the forwards themselves.
"""

from __future__ import annotations

import math
import sys
import types

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.primitive import PRIMITIVES, select
from chainrule.ops import complex as complex_ops
from chainrule.ops import elementwise

xs = pytest.importorskip("array_api_strict")

from tests.ops.test_primitives import cases  # noqa: E402

#: Every entry of ops.elementwise and ops.complex.
ENTRIES = sorted(
    value.name
    for module in (elementwise, complex_ops)
    for value in vars(module).values()
    if isinstance(value, type(PRIMITIVES["add"])) and PRIMITIVES.get(value.name) is value
)


def strict(value):
    return xs.asarray(np.asarray(value)) if isinstance(value, (np.ndarray, np.generic)) else value


def host(value) -> np.ndarray:
    assert type(value).__module__.startswith("array_api_strict"), type(value)
    return np.asarray(np.from_dlpack(value))


def on_strict(name, *args, **params):
    """The entry's forward for strict arrays, applied to strict copies of ``args``."""
    return PRIMITIVES[name].forward_on(xs)(*(strict(a) for a in args), **params)


def on_numpy(name, *args, **params):
    return np.asarray(PRIMITIVES[name].evaluate(*args, **params))


def test_entries_found():
    assert {"add", "sin", "erf", "clip", "angle", "imag"} <= set(ENTRIES)
    assert len(ENTRIES) > 70


@pytest.mark.parametrize("name", ENTRIES)
def test_forward_on_strict_matches_numpy(name):
    """Every sample, in float64 and float32: a strict array of NumPy's dtype and values."""
    prim = PRIMITIVES[name]
    for args, params in cases(prim):
        for dtype in (np.float64, np.float32):
            cast = tuple(
                a.astype(dtype) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
                for a in args
            )
            expected = on_numpy(name, *cast, **params)
            actual = host(on_strict(name, *cast, **params))
            assert actual.dtype == expected.dtype, f"{name} {dtype.__name__}"
            rtol = 1e-12 if dtype is np.float64 else 1e-6
            np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-300, err_msg=name)


#: nan_to_num's parameters as its public function passes them: None is the dtype's extreme.
DEFAULTS = {"nan": 0.0, "posinf": None, "neginf": None}

EDGES = [
    ("sinc", (np.array([0.0, 1e-30, -1e-30, 1.0, 2.5]),), {}),
    ("nan_to_num", (np.array([np.nan, np.inf, -np.inf, 1.5]),), DEFAULTS),
    ("nan_to_num", (np.array([np.nan, np.inf, -np.inf, 1.5], dtype=np.float32),), DEFAULTS),
    ("nan_to_num", (np.array([np.nan, -np.inf]),), {**DEFAULTS, "nan": 2.0, "posinf": 3.0}),
    ("heaviside", (np.array([-1.0, 0.0, 2.0, np.nan]), np.array(0.5)), {}),
    ("round", (np.array([0.5, 1.5, 2.5, -0.5, 0.125, 0.135]),), {"decimals": 0}),
    ("round", (np.array([0.125, 0.135, -1.005, 2.675]),), {"decimals": 2}),
    ("round", (np.array([15.0, 25.0, -35.0, 1234.5]),), {"decimals": -1}),
    ("fmod", (np.array([-4.0, 4.0, 5.5, -5.5, 0.0]), np.array([2.0, -2.0, -2.0, 2.0, 3.0])), {}),
    ("remainder", (np.array([-4.0, 4.0, 5.5, -5.5]), np.array([2.0, -2.0, -2.0, 2.0])), {}),
    ("reciprocal", (np.array([-3, -2, -1, 1, 2, 3]),), {}),
    ("reciprocal", (np.array([-4.0, 0.5, 3.0]),), {}),
    ("cbrt", (np.array([-27.0, -2.0, 0.0, -0.0, 8.0, 1e-300, -3e307, np.inf, np.nan]),), {}),
    ("clip", (np.array([0.0, 2.0, 5.0]), np.array(3.0), np.array(1.0)), {}),
    ("clip", (np.array([0.0, 2.0, 5.0]), None, np.array(1.0)), {}),
    ("clip", (np.array([0.0, 2.0, 5.0]), np.array(1.0), None), {}),
    ("fmax", (np.array([np.nan, 1.0, np.nan, 2.0]), np.array([1.0, np.nan, np.nan, 3.0])), {}),
    ("fmin", (np.array([np.nan, 1.0, np.nan, 2.0]), np.array([1.0, np.nan, np.nan, 3.0])), {}),
    ("maximum", (np.array([np.nan, 1.0, 2.0]), np.array([1.0, 1.0, 3.0])), {}),
    ("exp2", (np.array([-1074.0, -3.5, 0.0, 0.5, 10.0]),), {}),
    (
        "logaddexp2",
        (
            np.array([-800.0, 0.0, 3.0, np.inf, -np.inf, np.inf, np.nan]),
            np.array([-800.0, 1.0, -40.0, np.inf, -np.inf, 1.0, 1.0]),
        ),
        {},
    ),
    ("deg2rad", (np.array([-180.0, 90.0, 1e-5]),), {}),
    ("rad2deg", (np.array([-math.pi, 0.5, 1e-5]),), {}),
    ("angle", (np.array([1 + 1j, -1 + 0j, -1 - 1e-300j, 0j]),), {"deg": False}),
    ("angle", (np.array([1 + 1j, -2.0 + 0.5j]),), {"deg": True}),
    ("angle", (np.array([-1.0, 2.0]),), {"deg": False}),
    ("imag", (np.array([-1.0, 2.0]),), {}),
    ("imag", (np.array([1 - 2j, 3j]),), {}),
    ("sign", (np.array([-2.0, -0.0, 0.0, 3.0, np.nan]),), {}),
    ("relu", (np.array([-2.0, 0.0, 3.0, np.nan]),), {}),
    ("erf", (np.array([-6.0, -1.0, 0.0, 0.5, 1.0, 3.0, 30.0]),), {}),
    ("erfc", (np.array([-6.0, -1.0, 0.0, 0.5, 1.0, 9.0, 27.0]),), {}),
    ("erfinv", (np.array([-1.0, -0.999999, 0.0, 0.3, 0.85, 1.0]),), {}),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's own, on NaN and inf - inf
@pytest.mark.parametrize(
    ("name", "args", "params"), EDGES, ids=[f"{e[0]}-{i}" for i, e in enumerate(EDGES)]
)
def test_edge_values_match_numpy(name, args, params):
    expected = on_numpy(name, *args, **params)
    actual = host(on_strict(name, *args, **params))
    assert actual.dtype == expected.dtype
    np.testing.assert_allclose(actual, expected, rtol=1e-14, atol=0, err_msg=name)
    # Signs of zeros too (fmod's -0.0, sign(-0.0)): the compositions are exact there.
    zeros = expected == 0
    np.testing.assert_array_equal(np.signbit(actual[zeros]), np.signbit(expected[zeros]))


def test_compositions_exact_where_numpy_uses_the_same_formula():
    """sinc, deg2rad, fmod and angle are NumPy's own formulas: equal to the bit."""
    x = np.random.default_rng(0).uniform(-4.0, 4.0, size=50)
    y = np.random.default_rng(1).uniform(0.5, 2.0, size=50)
    z = x + 1j * y
    for name, args, params in [
        ("sinc", (x,), {}),
        ("deg2rad", (x,), {}),
        ("rad2deg", (x,), {}),
        ("fmod", (x, y), {}),
        ("fmod", (x, -y), {}),
        ("angle", (z,), {"deg": True}),
        ("clip", (x, -y, y), {}),
    ]:
        np.testing.assert_array_equal(
            host(on_strict(name, *args, **params)), on_numpy(name, *args, **params), err_msg=name
        )


@pytest.mark.parametrize("name", ["erf", "erfc", "erfinv", "sigmoid", "cbrt", "nan_to_num"])
def test_float32_stays_float32_on_strict(name):
    prim = PRIMITIVES[name]
    args, params = cases(prim)[0]
    args = tuple(a.astype(np.float32) if isinstance(a, np.ndarray) else a for a in args)
    assert on_strict(name, *args, **params).dtype == xs.float32


def test_complex_refusals_on_strict():
    """Functions without a complex extension refuse complex strict arrays with a TypeError."""
    z = np.array([1 + 1j, 2 - 1j])
    for name in ("erf", "cbrt", "nan_to_num"):
        params = {"nan": 0.0, "posinf": None, "neginf": None} if name == "nan_to_num" else {}
        with pytest.raises(TypeError, match=name):
            on_strict(name, z, **params)


def test_select_with_a_constant_mask_on_strict():
    """A flat function's constant mask (False) sends zeros, not inf * 0, on any backend."""
    g = xs.asarray(np.array([np.inf, -np.inf, 1.0]))
    assert np.array_equal(host(select(False, g)), np.zeros(3))
    assert select(True, g) is g
    weight = xs.asarray(np.array([True, False, True]))
    np.testing.assert_array_equal(host(select(weight, g)), [np.inf, 0.0, 1.0])


def test_tensor_namespace_has_the_standards_elementwise_names():
    """Rules run on Tensors call chainrule.<standard name>: each must be the same entry."""
    same = {
        "pow": "power",
        "acos": "arccos",
        "asin": "arcsin",
        "atan": "arctan",
        "atan2": "arctan2",
        "acosh": "arccosh",
        "asinh": "arcsinh",
        "atanh": "arctanh",
    }
    a = cr.tensor(np.array([0.25, 0.5]))
    b = cr.tensor(np.array([1.5, 2.0]))
    for standard, numpy_name in same.items():
        binary = standard in ("pow", "atan2")
        args = (a, b) if binary else ((b,) if standard == "acosh" else (a,))
        assert getattr(cr, standard)(*args)._prim is None  # no grad: a plain result
        np.testing.assert_array_equal(
            getattr(cr, standard)(*args).numpy(), getattr(cr, numpy_name)(*args).numpy()
        )
    for name in ("real", "imag", "conj", "sign", "round", "clip", "where", "hypot", "logaddexp"):
        assert callable(getattr(cr, name)), name


def test_pow_records_the_power_entry():
    x = cr.tensor(np.array([1.5, 2.0]), requires_grad=True)
    y = cr.pow(x, 3.0)
    assert y._prim is PRIMITIVES["power"]
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3.0 * np.array([1.5, 2.0]) ** 2)


#: Entries whose CuPy forward is CuPy's function of the same name (NumPy's signature).
CUPY_FUNCTIONS = [
    ("exp2", (np.array([-1.5, 0.0, 3.0]),), {}),
    ("cbrt", (np.array([-8.0, 2.0]),), {}),
    ("sinc", (np.array([0.0, 0.3]),), {}),
    ("deg2rad", (np.array([90.0]),), {}),
    ("rad2deg", (np.array([1.0]),), {}),
    ("logaddexp2", (np.array([1.0, 2.0]), np.array([0.5, -3.0])), {}),
    ("fmax", (np.array([np.nan, 1.0]), np.array([2.0, np.nan])), {}),
    ("fmin", (np.array([np.nan, 1.0]), np.array([2.0, np.nan])), {}),
    ("fmod", (np.array([-5.5, 5.5]), np.array([2.0, -2.0])), {}),
    ("nan_to_num", (np.array([np.nan, np.inf]),), DEFAULTS),
    ("heaviside", (np.array([-1.0, 0.0, 1.0]), np.array(0.5)), {}),
    ("round", (np.array([0.125, 2.5]),), {"decimals": 2}),
    ("angle", (np.array([1 + 1j]),), {"deg": True}),
]


@pytest.mark.parametrize(
    ("name", "args", "params"), CUPY_FUNCTIONS, ids=[entry[0] for entry in CUPY_FUNCTIONS]
)
def test_cupy_forwards_name_functions_numpy_also_has(name, args, params):
    """No GPU here: a stand-in namespace named like array-api-compat's CuPy one picks the
    entry's CuPy forward, which calls the function of that name of its arguments' library
    (NumPy's, here), with NumPy's signature, which CuPy mirrors."""
    stand_in = types.ModuleType("array_api_compat.cupy")
    forward = PRIMITIVES[name].implementations["cupy"]
    assert PRIMITIVES[name].forward_on(stand_in) is forward
    expected = on_numpy(name, *args, **params)
    np.testing.assert_array_equal(np.asarray(forward(*args, **params)), expected)


def test_cupy_error_functions_come_from_cupyx(monkeypatch):
    special = types.ModuleType("cupyx.scipy.special")
    special.erf = np.vectorize(math.erf)
    special.erfc = np.vectorize(math.erfc)
    scipy = types.ModuleType("cupyx.scipy")
    scipy.special = special
    monkeypatch.setitem(sys.modules, "cupyx", types.ModuleType("cupyx"))
    monkeypatch.setitem(sys.modules, "cupyx.scipy", scipy)
    monkeypatch.setitem(sys.modules, "cupyx.scipy.special", special)
    x = np.array([-2.0, 0.1, 1.5])
    for name in ("erf", "erfc"):
        forward = PRIMITIVES[name].implementations["cupy"]
        np.testing.assert_allclose(forward(x), on_numpy(name, x), rtol=1e-15)
