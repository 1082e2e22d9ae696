"""Shape and creation entries on a foreign Array API library (array_api_strict), beyond the
registry-wide run in test_array_api_strict.py: NumPy's indexing rules on standard arrays,
scatter-add without a scatter, np.pad's corners, linspace's exact values, dtypes and
devices given in another library's terms, and the Array API names the Tensor namespace
gains (permute_dims, concat, ...).
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.primitive import PRIMITIVES
from chainrule.errors import DeviceError, ShapeError

xs = pytest.importorskip("array_api_strict")


def strict(value):
    return xs.asarray(np.asarray(value))


def to_numpy(value):
    data = value._data if isinstance(value, cr.Tensor) else value
    assert type(data).__module__.startswith("array_api_strict"), type(data)
    return np.asarray(np.from_dlpack(data))


RNG = np.random.default_rng(3)
A = RNG.standard_normal((4, 5, 3))

INDICES = [
    (slice(0, 10),),  # a stop past the end: NumPy clips it, the standard does not say
    (slice(None, None, -1), slice(-10, 2)),
    (slice(3, None, -2), 1),
    (Ellipsis, None, slice(1, 3)),
    (None, 2, Ellipsis, -1),
    (slice(2, 1),),  # empty
    (np.array([0, 0, 3, 1]),),
    (np.array([[1, 2], [0, 0]]), slice(None), np.array([2, 0])),  # advanced axes go first
    (slice(None), np.array([4, 0, 4]), 1),
    (A[..., 0] > 0,),
    (np.array([True, False, True, True]), Ellipsis, 0),
]


@pytest.mark.parametrize("index", INDICES, ids=range(len(INDICES)))
def test_getitem_follows_numpy_indexing_on_standard_arrays(index):
    t = cr.tensor(strict(A), requires_grad=True)
    out = t[index]
    np.testing.assert_array_equal(to_numpy(out), A[index])
    cotangent = RNG.standard_normal(A[index].shape)
    out.backward(strict(cotangent))
    expected = np.zeros_like(A)
    np.add.at(expected, index, cotangent)
    np.testing.assert_allclose(to_numpy(t.grad), expected, rtol=1e-14, atol=1e-15)


def test_index_add_sums_repeated_places_like_add_at():
    index_add = PRIMITIVES["index_add"]
    index = (np.array([0, 3, 0, 0, 2, 3]),)
    values = RNG.standard_normal((6, 2))
    expected = np.zeros((5, 2))
    np.add.at(expected, index, values)
    out = index_add.bind(strict(values), index=index, shape=(5, 2))
    np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-15)
    nothing = index_add.bind(strict(np.zeros((0,))), index=(np.array([], int),), shape=(3,))
    np.testing.assert_array_equal(to_numpy(nothing), np.zeros(3))


def test_index_given_as_a_strict_array():
    t = cr.tensor(strict(A))
    picked = t[strict(np.array([3, 1]))]
    np.testing.assert_array_equal(to_numpy(picked), A[[3, 1]])


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "wrap"])
def test_pad_equals_numpy_corners_included(mode):
    width = ((1, 2), (3, 0), (2, 2))
    options = {"constant_values": ((1.5, -2.0), (3.0, 4.0), (-5.0, 6.0))}
    options = options if mode == "constant" else {}
    out = cr.pad(cr.tensor(strict(A)), width, mode=mode, **options)
    np.testing.assert_array_equal(to_numpy(out), np.pad(A, width, mode, **options))


LINES = [
    (0.5, 2.0, {"num": 7}),
    (np.float32(-1), np.float32(3), {"num": 5, "endpoint": False}),
    (np.zeros((2, 1)), np.arange(3.0), {"num": 4, "axis": 1}),
    (1.0, 1.0, {"num": 3}),  # a zero step
    (2.0, 5.0, {"num": 1}),
    (2.0, 5.0, {"num": 0}),
    (0.0, 1.0, {"num": 6, "dtype": np.float32}),
]


@pytest.mark.parametrize(("start", "stop", "options"), LINES, ids=range(len(LINES)))
def test_linspace_values_are_numpys_bit_for_bit(start, stop, options):
    expected = np.linspace(start, stop, **options)
    out = cr.linspace(cr.tensor(strict(start)), strict(stop), **options)
    result = to_numpy(out)
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result, expected)


def test_astype_takes_any_librarys_dtype():
    on_numpy = cr.astype(cr.tensor(A), xs.float32)
    assert on_numpy.dtype == np.float32 and type(on_numpy._data) is np.ndarray
    on_strict = cr.tensor(strict(A), requires_grad=True).astype(np.float32)
    assert on_strict.dtype == xs.float32
    np.testing.assert_array_equal(to_numpy(on_strict), A.astype(np.float32))
    on_strict.sum().backward()
    assert cr.astype(cr.tensor(strict(A)), "int64").dtype == xs.int64
    with pytest.raises(TypeError, match="not a dtype"):
        cr.astype(cr.tensor(A), object())


def test_creation_functions_take_a_foreign_dtype():
    t = cr.tensor(strict(A))
    assert cr.zeros_like(t, dtype=xs.float32).dtype == xs.float32
    assert cr.ones_like(cr.tensor(A), dtype=xs.float32).dtype == np.float32
    filled = cr.full_like(t, 2.5, dtype=xs.float32)
    np.testing.assert_array_equal(to_numpy(filled), np.full_like(A, 2.5, dtype=np.float32))
    assert cr.linspace(0.0, 1.0, 3, dtype=xs.float32).dtype == np.float32


def test_creation_functions_move_to_device():
    """Operands on another library's device are moved (here: strict arrays to NumPy's cpu)."""
    line = cr.linspace(cr.tensor(strict(np.array([0.0, 1.0]))), strict(2.0), 4, device="cpu")
    assert line.device == "cpu" and type(line._data) is np.ndarray
    np.testing.assert_array_equal(line.data, np.linspace([0.0, 1.0], 2.0, 4))
    template = cr.tensor(strict(A))
    for made in (cr.zeros_like(template, device="cpu"), cr.ones_like(template, device="cpu")):
        assert made.device == "cpu" and type(made._data) is np.ndarray
        assert made.shape == A.shape
    filled = cr.full_like(template, strict(np.array(1.5)), device="cpu")
    np.testing.assert_array_equal(filled.data, np.full(A.shape, 1.5))
    with pytest.raises(DeviceError, match="unknown device"):
        cr.zeros_like(template, device="tpu")


def test_creation_on_its_device_keeps_the_gradient():
    start = cr.tensor(np.array([0.0, 1.0]), requires_grad=True)
    fill = cr.tensor(1.5, requires_grad=True)
    line = cr.linspace(start, 2.0, 4, device=cr.tensor(A).device)
    filled = cr.full_like(cr.tensor(A), fill, device="cpu")
    (line.sum() + filled.sum()).backward()
    np.testing.assert_allclose(start.grad.data, [2.0, 2.0])
    assert fill.grad.item() == A.size


def test_full_like_keeps_the_complex_part_of_a_fill():
    out = cr.full_like(cr.tensor(strict(A)), strict(np.array(1 + 2j)))
    assert out.dtype == xs.complex128
    np.testing.assert_array_equal(to_numpy(out), np.full(A.shape, 1 + 2j))


def test_array_api_names_of_the_tensor_namespace():
    x = cr.tensor(A, requires_grad=True)
    np.testing.assert_array_equal(cr.permute_dims(x, (2, 0, 1)).data, np.permute_dims(A, (2, 0, 1)))
    np.testing.assert_array_equal(x.permute(1, 2, 0).data, np.transpose(A, (1, 2, 0)))
    np.testing.assert_array_equal(cr.matrix_transpose(x).data, np.matrix_transpose(A))
    np.testing.assert_array_equal(cr.concat([x, x], axis=1).data, np.concat([A, A], axis=1))
    pieces = cr.unstack(x, axis=1)
    assert len(pieces) == 5
    for piece, expected in zip(pieces, np.unstack(A, axis=1), strict=True):
        np.testing.assert_array_equal(piece.data, expected)
    wide, tall = cr.broadcast_arrays(x[:, :1], cr.tensor(np.ones((5, 1))))
    assert wide.shape == tall.shape == (4, 5, 3)
    assert cr.empty_like(x).shape == A.shape
    (cr.matrix_transpose(x).sum() + sum(p.sum() for p in pieces) + wide.sum()).backward()
    expected = np.full(A.shape, 2.0)
    expected[:, :1] += 5.0
    np.testing.assert_array_equal(x.grad.data, expected)
    with pytest.raises(ShapeError, match="matrix_transpose"):
        cr.matrix_transpose(cr.tensor([1.0, 2.0]))
    with pytest.raises(ShapeError, match="broadcast_arrays"):
        cr.broadcast_arrays(cr.tensor(np.ones(3)), cr.tensor(np.ones(4)))


def test_numbers_beside_a_strict_tensor_join_its_library():
    t = cr.tensor(strict(np.arange(4.0, dtype=np.float32)))
    appended = cr.append(t, 2.5)
    assert appended.dtype == xs.float32
    np.testing.assert_array_equal(to_numpy(appended), np.append(np.arange(4.0), 2.5))
    differences = cr.diff(t, prepend=-1.0, append=9)
    expected = np.diff(np.arange(4.0, dtype=np.float32), prepend=-1.0, append=9)
    np.testing.assert_array_equal(to_numpy(differences), expected)
    rows, columns = cr.meshgrid(t, 1.0)
    assert rows.shape == columns.shape == (1, 4)
    assert type(columns._data).__module__.startswith("array_api_strict")
