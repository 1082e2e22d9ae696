"""NumPy's shape and indexing functions on Tensors (issue 13): values bit-equal to NumPy,
NumPy dispatch, PyTorch-named Tensor methods, gradients against finite differences (a port
of HIPS autograd's check_grads cases) and PyTorch, batching rules, and writes through views.

The registry's generated tests already gradcheck every entry's samples; these cover the
public calls (argument forms, aliases, composites returning several tensors) and edge cases.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import chainrule as cr
from chainrule import fd
from chainrule.core.primitive import PRIMITIVES
from chainrule.errors import ShapeError
from chainrule.ops.shape import PAD_MODES

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((2, 3, 4))
V = RNG.standard_normal(4)
MODIFIED = "modified by an in-place operation"

#: id -> call(module, a, b, v): run with numpy on arrays (the oracle), chainrule on Tensors,
#: and numpy on Tensors (dispatch through __array_function__).
CALLS = {
    "ravel": lambda m, a, b, v: m.ravel(b),
    "flip-axis": lambda m, a, b, v: m.flip(b, 1),
    "flip-axes": lambda m, a, b, v: m.flip(b, (0, 2)),
    "flip-all": lambda m, a, b, v: m.flip(a),
    "flipud": lambda m, a, b, v: m.flipud(v),
    "fliplr": lambda m, a, b, v: m.fliplr(b),
    "rot90": lambda m, a, b, v: m.rot90(a),
    "rot90-k2": lambda m, a, b, v: m.rot90(b, 2, (2, 0)),
    "rot90-k3": lambda m, a, b, v: m.rot90(b, -1, (1, 2)),
    "roll": lambda m, a, b, v: m.roll(a, 5),
    "roll-axis": lambda m, a, b, v: m.roll(b, -1, 1),
    "roll-axes": lambda m, a, b, v: m.roll(b, (1, 2), (0, -1)),
    "moveaxis": lambda m, a, b, v: m.moveaxis(b, 0, -1),
    "moveaxis-several": lambda m, a, b, v: m.moveaxis(b, [0, 1], [2, 0]),
    "rollaxis": lambda m, a, b, v: m.rollaxis(b, 2),
    "rollaxis-start": lambda m, a, b, v: m.rollaxis(b, 0, 3),
    "rollaxis-negative": lambda m, a, b, v: m.rollaxis(b, 2, -2),
    "rollaxis-negative-before": lambda m, a, b, v: m.rollaxis(b, 0, -1),
    "repeat": lambda m, a, b, v: m.repeat(a, 2),
    "repeat-axis": lambda m, a, b, v: m.repeat(a, [1, 0, 2], 0),
    "repeat-count": lambda m, a, b, v: m.repeat(b, 3, axis=-1),
    "tile": lambda m, a, b, v: m.tile(a, 2),
    "tile-lift": lambda m, a, b, v: m.tile(v, (2, 1, 3)),
    "pad-int": lambda m, a, b, v: m.pad(a, 1),
    "pad-pair": lambda m, a, b, v: m.pad(b, (1, 2)),
    "pad-pairs": lambda m, a, b, v: m.pad(a, ((1, 0), (2, 3)), constant_values=(1.5, -2.0)),
    "pad-one-pair": lambda m, a, b, v: m.pad(a, ((0, 2),), constant_values=7),
    "pad-edge": lambda m, a, b, v: m.pad(a, ((2, 1), (0, 3)), mode="edge"),
    "pad-reflect": lambda m, a, b, v: m.pad(a, ((4, 5), (3, 1)), mode="reflect"),
    "pad-symmetric": lambda m, a, b, v: m.pad(b, 2, mode="symmetric"),
    "pad-wrap": lambda m, a, b, v: m.pad(v, (6, 1), mode="wrap"),
    "tril": lambda m, a, b, v: m.tril(a),
    "tril-k": lambda m, a, b, v: m.tril(b, -1),
    "triu-k": lambda m, a, b, v: m.triu(a, 2),
    "atleast_1d": lambda m, a, b, v: m.atleast_1d(a[0, 0]),
    "atleast_2d": lambda m, a, b, v: m.atleast_2d(v),
    "atleast_3d": lambda m, a, b, v: m.atleast_3d(a),
    "atleast_3d-1d": lambda m, a, b, v: m.atleast_3d(v),
    "atleast-several": lambda m, a, b, v: m.atleast_2d(a[0, 0], v, b),
    "vstack": lambda m, a, b, v: m.vstack([a, v, a]),
    "vstack-1d": lambda m, a, b, v: m.vstack([v, v]),
    "hstack": lambda m, a, b, v: m.hstack([a, a[:, :1]]),
    "hstack-1d": lambda m, a, b, v: m.hstack((v, a[0])),
    "dstack": lambda m, a, b, v: m.dstack([a, a]),
    "dstack-1d": lambda m, a, b, v: m.dstack([v, v, v]),
    "column_stack": lambda m, a, b, v: m.column_stack([a[:, 0], a]),
    "split": lambda m, a, b, v: m.split(a, 2, axis=1),
    "split-indices": lambda m, a, b, v: m.split(b, [1, 3], axis=-1),
    "array_split": lambda m, a, b, v: m.array_split(a, 3, 1),
    "array_split-beyond": lambda m, a, b, v: m.array_split(v, [-1, 2, 9]),
    "append": lambda m, a, b, v: m.append(a, v),
    "append-axis": lambda m, a, b, v: m.append(a, a[:1], axis=0),
    "diff": lambda m, a, b, v: m.diff(a),
    "diff-n": lambda m, a, b, v: m.diff(b, 2, 0),
    "diff-ends": lambda m, a, b, v: m.diff(a, axis=0, prepend=0.5, append=a[:2]),
    "diff-zero": lambda m, a, b, v: m.diff(v, 0),
    "take-flat": lambda m, a, b, v: m.take(a, [0, 5, 11, 5]),
    "take-axis": lambda m, a, b, v: m.take(b, [[0, -1], [2, 2]], axis=1),
    "take-scalar": lambda m, a, b, v: m.take(a, 2, axis=0),
    "take-wrap": lambda m, a, b, v: m.take(a, [5, -7, 3], axis=1, mode="wrap"),
    "take-clip": lambda m, a, b, v: m.take(a, [-2, 9, 1], axis=0, mode="clip"),
    "take_along_axis": lambda m, a, b, v: m.take_along_axis(a, np.argsort(A, axis=1), 1),
    "take_along_axis-bcast": lambda m, a, b, v: m.take_along_axis(b, np.array([[[3, 0]]]), 2),
    "take_along_axis-flat": lambda m, a, b, v: m.take_along_axis(a, np.array([11, 0, 0]), None),
    "select": lambda m, a, b, v: m.select([A > 0, A < -0.5], [a, a * 2], -1.0),
    "meshgrid": lambda m, a, b, v: m.meshgrid(v, a[0, :3]),
    "meshgrid-ij": lambda m, a, b, v: m.meshgrid(v, a[:, 0], a[0, :2], indexing="ij"),
    "meshgrid-sparse": lambda m, a, b, v: m.meshgrid(v, a[:2, 0], sparse=True),
    "linspace": lambda m, a, b, v: m.linspace(a[0, 0], a[0, 1], 7),
    "linspace-arrays": lambda m, a, b, v: m.linspace(v, a[0], 5, endpoint=False),
    "linspace-axis": lambda m, a, b, v: m.linspace(a[:, :1], v, 3, axis=-1),
    "linspace-one": lambda m, a, b, v: m.linspace(a[0, 0], v, 1),
    "zeros_like": lambda m, a, b, v: m.zeros_like(a),
    "ones_like": lambda m, a, b, v: m.ones_like(b, dtype=np.float32),
    "full_like": lambda m, a, b, v: m.full_like(a, v),
    "full_like-scalar": lambda m, a, b, v: m.full_like(b, a[1, 1]),
}


def assert_same(result, expected):
    """A Tensor (or the same kind of sequence of them) with NumPy's values, bit for bit,
    shape and dtype."""
    if isinstance(expected, (list, tuple)):
        assert type(result) is type(expected)
        assert len(result) == len(expected)
        for r, e in zip(result, expected, strict=True):
            assert_same(r, e)
        return
    assert isinstance(result, cr.Tensor)
    expected = np.asarray(expected)
    assert result.shape == expected.shape
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result.detach().numpy(), expected)


def leaves(*arrays, dtype=np.float64):
    return [cr.tensor(a.astype(dtype), requires_grad=True) for a in arrays]


@pytest.mark.parametrize("name", CALLS)
def test_values_bit_equal_numpy_as_functions_and_through_dispatch(name):
    call = CALLS[name]
    expected = call(np, A, B, V)
    assert_same(call(cr, *leaves(A, B, V)), expected)
    assert_same(call(np, *leaves(A, B, V)), expected)


@pytest.mark.parametrize("name", CALLS)
def test_float32_in_float32_out_and_gradient(name):
    if name in ("ones_like",):
        pytest.skip("the dtype argument sets the result's dtype")
    tensors = leaves(A, B, V, dtype=np.float32)
    result = CALLS[name](cr, *tensors)
    pieces = result if isinstance(result, (list, tuple)) else [result]
    assert all(piece.dtype == np.float32 for piece in pieces), name
    total = sum(cr.sum(piece * piece) for piece in pieces if piece.requires_grad)
    if isinstance(total, int):  # zeros_like: no gradient at all
        assert not any(piece.requires_grad for piece in pieces)
        return
    total.backward()
    for t in tensors:
        assert t.grad is None or t.grad.dtype == np.float32


@pytest.mark.parametrize("name", CALLS)
def test_sequences_and_several_results_keep_the_graph(name):
    """Gradient of sum(w * result) through the public call equals finite differences of the
    same call on plain NumPy (every piece of split and meshgrid, sequences of tensors)."""
    call = CALLS[name]
    pieces_np = call(np, A, B, V)
    pieces_np = pieces_np if isinstance(pieces_np, (list, tuple)) else [pieces_np]
    weights = [RNG.standard_normal(np.shape(p)) for p in pieces_np]

    def objective(a, b, v):
        out = call(cr, a, b, v)
        out = out if isinstance(out, (list, tuple)) else [out]
        return sum(cr.sum(w * o) for w, o in zip(weights, out, strict=True))

    if name in ("zeros_like", "ones_like"):
        assert not objective(*leaves(A, B, V)).requires_grad
        return
    assert fd.gradcheck(objective, A, B, V, modes=("rev",))


METHODS = {
    "flatten": (lambda t: t.flatten(1), lambda a: a.reshape(2, 12)),
    "ravel": (lambda t: t.ravel(), np.ravel),
    "flip": (lambda t: t.flip(dims=(0, 2)), lambda a: np.flip(a, (0, 2))),
    "fliplr": (lambda t: t.fliplr(), np.fliplr),
    "flipud": (lambda t: t.flipud(), np.flipud),
    "rot90": (lambda t: t.rot90(1, dims=(1, 2)), lambda a: np.rot90(a, 1, (1, 2))),
    "roll": (lambda t: t.roll(shifts=2, dims=1), lambda a: np.roll(a, 2, 1)),
    "moveaxis": (lambda t: t.moveaxis(2, 0), lambda a: np.moveaxis(a, 2, 0)),
    "movedim": (lambda t: t.movedim((0, 1), (1, 2)), lambda a: np.moveaxis(a, (0, 1), (1, 2))),
    "repeat_interleave": (lambda t: t.repeat_interleave(2, dim=1), lambda a: np.repeat(a, 2, 1)),
    "repeat_interleave-flat": (lambda t: t.repeat_interleave(2), lambda a: np.repeat(a, 2)),
    "tile": (lambda t: t.tile((2, 1)), lambda a: np.tile(a, (2, 1))),
    "tril": (lambda t: t.tril(diagonal=1), lambda a: np.tril(a, 1)),
    "triu": (lambda t: t.triu(-1), lambda a: np.triu(a, -1)),
    "diff": (lambda t: t.diff(dim=0), lambda a: np.diff(a, axis=0)),
    "take": (lambda t: t.take(np.array([0, 23, 7])), lambda a: a.take([0, 23, 7])),
    "take_along_dim": (
        lambda t: t.take_along_dim(np.argsort(B, axis=2), dim=2),
        lambda a: np.take_along_axis(a, np.argsort(B, axis=2), 2),
    ),
    "tensor_split": (lambda t: t.tensor_split(3, dim=2), lambda a: np.array_split(a, 3, 2)),
}


@pytest.mark.parametrize("name", METHODS)
def test_tensor_methods_under_pytorch_names(name):
    method, oracle = METHODS[name]
    (t,) = leaves(B)
    assert_same(method(t), oracle(B))


def test_tensor_repeat_is_left_undefined():
    """NumPy's ndarray.repeat repeats entries, PyTorch's Tensor.repeat tiles: neither
    meaning is given to Tensor.repeat, so no call silently means the other library's."""
    assert not hasattr(cr.Tensor, "repeat")
    (t,) = leaves(A)
    assert_same(t.repeat_interleave(2, dim=0), np.repeat(A, 2, axis=0))
    assert_same(t.tile((1, 2)), np.tile(A, (1, 2)))


# --- gradients against PyTorch -----------------------------------------------------------

#: id -> (chainrule call on a Tensor of shape (3, 4, 5), PyTorch's call)
TORCH_CALLS = {
    "flip": (lambda t: cr.flip(t, (0, 2)), lambda t: t.flip((0, 2))),
    "fliplr": (cr.fliplr, lambda t: t.fliplr()),
    "flipud": (cr.flipud, lambda t: t.flipud()),
    "rot90": (lambda t: cr.rot90(t, 3, (2, 1)), lambda t: t.rot90(3, (2, 1))),
    "roll": (lambda t: cr.roll(t, (2, -1), (1, 2)), lambda t: t.roll((2, -1), (1, 2))),
    "roll-flat": (lambda t: cr.roll(t, 7), lambda t: t.roll(7)),
    "movedim": (lambda t: cr.moveaxis(t, 0, 2), lambda t: t.movedim(0, 2)),
    "repeat": (lambda t: cr.repeat(t, 3, 1), lambda t: t.repeat_interleave(3, 1)),
    "repeat-counts": (
        lambda t: cr.repeat(t, [2, 0, 1, 4], 1),
        lambda t: t.repeat_interleave(__import__("torch").tensor([2, 0, 1, 4]), 1),
    ),
    "tile": (lambda t: cr.tile(t, (2, 1, 3)), lambda t: t.tile((2, 1, 3))),
    "tril": (lambda t: cr.tril(t, -1), lambda t: t.tril(-1)),
    "triu": (lambda t: cr.triu(t, 2), lambda t: t.triu(2)),
    "diff": (lambda t: cr.diff(t, 2, axis=1), lambda t: t.diff(2, dim=1)),
    "take": (
        lambda t: cr.take(t, [[3, 3], [59, 0]]),
        lambda t: t.take(_torch_index([[3, 3], [59, 0]])),
    ),
    "take_along_dim": (
        lambda t: cr.take_along_axis(t, np.argsort(-_CUBE, axis=1), 1),
        lambda t: t.take_along_dim(_torch_index(np.argsort(-_CUBE, axis=1)), 1),
    ),
    "pad-constant": (
        lambda t: cr.pad(t, ((0, 0), (1, 2), (3, 0)), constant_values=0.5),
        lambda t: __import__("torch").nn.functional.pad(t, (3, 0, 1, 2), value=0.5),
    ),
    "pad-reflect": (
        lambda t: cr.pad(t, ((0, 0), (0, 0), (3, 2)), mode="reflect"),
        lambda t: __import__("torch").nn.functional.pad(t, (3, 2), mode="reflect"),
    ),
    "pad-edge": (
        lambda t: cr.pad(t, ((0, 0), (0, 0), (2, 4)), mode="edge"),
        lambda t: __import__("torch").nn.functional.pad(t, (2, 4), mode="replicate"),
    ),
    "pad-wrap": (
        lambda t: cr.pad(t, ((0, 0), (0, 0), (1, 3)), mode="wrap"),
        lambda t: __import__("torch").nn.functional.pad(t, (1, 3), mode="circular"),
    ),
    "tensor_split": (
        lambda t: cr.concatenate([p * (i + 1) for i, p in enumerate(t.tensor_split(3, dim=2))], 2),
        lambda t: __import__("torch").cat(
            [p * (i + 1) for i, p in enumerate(t.tensor_split(3, dim=2))], 2
        ),
    ),
    "hstack": (
        lambda t: cr.hstack([t, cr.sin(t)]),
        lambda t: __import__("torch").hstack([t, t.sin()]),
    ),
    "dstack": (
        lambda t: cr.dstack([t[0], t[1] * 2]),
        lambda t: __import__("torch").dstack([t[0], t[1] * 2]),
    ),
    "column_stack": (
        lambda t: cr.column_stack([t[1, :, 0], t[0]]),
        lambda t: __import__("torch").column_stack([t[1, :, 0], t[0]]),
    ),
    "meshgrid": (
        lambda t: cr.stack(cr.meshgrid(t[0, 0], t[1, 1, :3], indexing="ij")),
        lambda t: __import__("torch").stack(
            __import__("torch").meshgrid(t[0, 0], t[1, 1, :3], indexing="ij")
        ),
    ),
}
_CUBE = np.random.default_rng(5).standard_normal((3, 4, 5))


def _torch_index(indices):
    import torch

    return torch.as_tensor(np.asarray(indices))


@pytest.mark.parametrize("name", TORCH_CALLS)
def test_gradients_match_pytorch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = TORCH_CALLS[name]
    x = cr.tensor(_CUBE, requires_grad=True)
    out = ours(x)
    weights = np.random.default_rng(6).standard_normal(out.shape)
    cr.sum(cr.sin(out) * weights).backward()
    xt = torch.tensor(_CUBE, requires_grad=True)
    out_t = theirs(xt)
    (out_t.sin() * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), out_t.detach().numpy(), rtol=0, atol=0)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-14)


# --- HIPS autograd's check_grads cases, ported: first and second order, both modes ------

#: id -> (function of arrays, input shapes); each a smooth function of a shape operation.
CHECK_GRADS = {
    "flipud": (lambda x: cr.flipud(x) * x, [(5, 4)]),
    "fliplr": (lambda x: cr.fliplr(x) * x, [(5, 4)]),
    "rot90": (lambda x: cr.rot90(x) @ x, [(4, 4)]),
    "roll": (lambda x: cr.roll(x, 2, axis=1) * x, [(3, 5)]),
    "roll-no-axis": (lambda x: cr.roll(x, -4) * x, [(3, 5)]),
    "tril": (lambda x: cr.tril(x, k=1) ** 2, [(5, 5)]),
    "triu": (lambda x: cr.triu(x, k=-1) ** 2, [(4, 6)]),
    "tile": (lambda x: cr.tile(x, (2, 3)) ** 2, [(3, 2)]),
    "repeat": (lambda x: cr.repeat(x, 2, axis=1) ** 3, [(3, 2)]),
    "repeat-flat": (lambda x: cr.repeat(x**2, [1, 2, 0]), [(3,)]),
    "diff": (lambda x: cr.diff(x) ** 2, [(5, 5)]),
    "diff-2-axis0": (lambda x: cr.diff(x, n=2, axis=0) ** 2, [(5, 5)]),
    "diff-ends": (lambda x, y: cr.diff(x**2, prepend=y, append=1.0), [(4,), (1,)]),
    "split": (lambda x: cr.split(x, 3, axis=1)[1] ** 2 + cr.split(x, 3, axis=1)[2], [(2, 6)]),
    "array_split": (lambda x: cr.array_split(x, 3)[0] * cr.array_split(x, 3)[1], [(8,)]),
    "vstack": (lambda x, y: cr.vstack([x, y]) ** 2, [(3,), (3,)]),
    "hstack": (lambda x, y: cr.hstack([x, y * x]), [(3,), (3,)]),
    "dstack": (lambda x, y: cr.dstack([x, y]) ** 2, [(2, 3), (2, 3)]),
    "column_stack": (lambda x, y: cr.column_stack([x, y]) ** 2, [(3,), (3, 2)]),
    "append": (lambda x, y: cr.append(x, y) ** 2, [(2, 2), (3,)]),
    "pad-constant": (lambda x: cr.pad(x, ((1, 2), (0, 1)), constant_values=3.0) ** 2, [(3, 2)]),
    "pad-edge": (lambda x: cr.pad(x, 2, mode="edge") ** 2, [(3, 2)]),
    "pad-reflect": (lambda x: cr.pad(x, ((3, 1), (2, 2)), mode="reflect") ** 2, [(3, 2)]),
    "take": (lambda x: cr.take(x, [1, 1, 0, 5]) ** 2, [(2, 3)]),
    "take-axis": (lambda x: cr.take(x, [2, 0, 2], axis=1) ** 3, [(2, 3)]),
    "take_along_axis": (
        lambda x: cr.take_along_axis(x, np.array([[0, 0], [2, 1]]), axis=1) ** 2,
        [(2, 3)],
    ),
    "select": (
        lambda x, y: cr.select(
            [np.array([True, False, False]), np.array([True, True, False])], [x**2, y * x], y
        ),
        [(3,), (3,)],
    ),
    "atleast_3d": (lambda x: cr.atleast_3d(x) ** 2 * x[:, None, None], [(3,)]),
    "moveaxis": (lambda x: cr.moveaxis(x, 0, -1) ** 2, [(2, 3, 4)]),
    "meshgrid": (lambda x, y: cr.meshgrid(x, y)[0] * cr.meshgrid(x, y)[1], [(3,), (2,)]),
    "linspace": (lambda x, y: cr.linspace(x, y, 4) ** 2, [(), ()]),
    "linspace-arrays": (lambda x, y: cr.linspace(x**2, y, 3, axis=1), [(2,), (2,)]),
    "full_like": (lambda x, y: cr.full_like(x, y) * x, [(2, 3), (3,)]),
}


@pytest.mark.parametrize("name", CHECK_GRADS)
def test_check_grads_first_and_second_order(name):
    function, shapes = CHECK_GRADS[name]
    rng = np.random.default_rng(7)
    inputs = [rng.uniform(0.5, 1.5, size=s) for s in shapes]

    def scalar(*xs):
        return cr.sum(cr.sin(function(*xs)))

    assert fd.gradcheck(function, *inputs)
    argnums = tuple(range(len(inputs)))
    gradient = cr.grad(scalar, argnums)
    for i in argnums:
        assert fd.gradcheck(lambda *xs, i=i: gradient(*xs)[i], *inputs)


# --- properties over shapes ----------------------------------------------------------------


@st.composite
def tensor_and_axes(draw):
    shape = draw(array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    x = np.random.default_rng(draw(st.integers(0, 2**16))).standard_normal(shape)
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return x, axis


LINEAR_OPS = {
    "flip": lambda m, x, axis, k: m.flip(x, axis),
    "roll": lambda m, x, axis, k: m.roll(x, k - 3, axis),
    "roll-flat": lambda m, x, axis, k: m.roll(x, k),
    "moveaxis": lambda m, x, axis, k: m.moveaxis(x, axis, k % x.ndim),
    "rollaxis": lambda m, x, axis, k: m.rollaxis(x, axis, k % (2 * x.ndim + 1) - x.ndim),
    "rot90": lambda m, x, axis, k: (
        m.rot90(x, k - 3, (axis, (axis + 1) % x.ndim)) if x.ndim > 1 else m.flip(x)
    ),
    "pad": lambda m, x, axis, k: m.pad(x, (k % 3, k % 2), mode=PAD_MODES[k % len(PAD_MODES)]),
    "take-wrap": lambda m, x, axis, k: m.take(x, [k - 9, k, 0], axis=axis, mode="wrap"),
    "diff": lambda m, x, axis, k: m.diff(x, k % 3, axis),
    "tile": lambda m, x, axis, k: m.tile(x, (k % 3 + 1,) * (k % 4)),
    "repeat": lambda m, x, axis, k: m.repeat(x, k % 3, axis),
    "repeat-counts": lambda m, x, axis, k: m.repeat(x, np.arange(x.shape[axis]) % 3, axis),
}


@pytest.mark.parametrize("name", LINEAR_OPS)
@settings(max_examples=25, deadline=None)
@given(case=tensor_and_axes(), k=st.integers(0, 7))
def test_linear_rearrangements_match_numpy_and_their_adjoint(name, case, k):
    """Values equal NumPy's; the gradient of <u, L x> is L'u, so <u, L x> = <L'u, x>."""
    x, axis = case
    op = LINEAR_OPS[name]
    expected = op(np, x, axis, k)
    t = cr.tensor(x, requires_grad=True)
    out = op(cr, t, axis, k)
    assert_same(out, expected)
    u = np.random.default_rng(k).standard_normal(expected.shape)
    cr.sum(out * u).backward()
    assert t.grad.shape == x.shape
    assert np.isclose(np.sum(u * expected), np.sum(t.grad.numpy() * x), rtol=1e-12, atol=1e-12)


# --- batching rules ------------------------------------------------------------------------

BATCHED = [
    "roll",
    "pad",
    "repeat",
    "tile",
    "tril",
    "triu",
    "diff",
    "linspace",
    "fill_like",
    "full_like",
    "identity",
    "reshape",
    "transpose",
    "broadcast_to",
    "cast",
    "index_add",
    "getitem",
    "concatenate",
    "stack",
]
#: Index parameters whose advanced items are not side by side: NumPy moves their dimensions
#: first, so the batching rule must put the batch axis back in front.
APART = (np.array([[0, 2]]), slice(None), np.array([1, 0]))
APART_CASES = {
    "getitem": [
        ((RNG.standard_normal((3, 2, 4)),), {"index": APART}),
        ((RNG.standard_normal((3, 2, 4)),), {"index": (1, slice(None), np.array([0, 3, 3]))}),
        ((RNG.standard_normal((2, 3)),), {"index": (np.array([[True, False, True]] * 2),)}),
    ],
    "index_add": [
        ((RNG.standard_normal((1, 2, 2)),), {"index": APART, "shape": (3, 2, 4)}),
    ],
}


@pytest.mark.parametrize("name", BATCHED)
def test_batch_rule_equals_one_call_per_example(name):
    """batch(batched, *stacked) is the stack of the per-example results, every operand
    batched or only the first; it runs on Tensors as on arrays."""
    prim = PRIMITIVES[name]
    rng = np.random.default_rng(8)
    for args, params in prim.sample(rng) + APART_CASES.get(name, []):
        for batched in {tuple(True for _ in args), (True,) + (False,) * (len(args) - 1)}:
            examples = [
                [a * (j + 1) if b else a for a, b in zip(args, batched, strict=True)]
                for j in range(3)
            ]
            expected = np.stack([prim.evaluate(*ex, **params) for ex in examples])
            stacked = [
                np.stack([ex[i] for ex in examples]) if b else a
                for i, (a, b) in enumerate(zip(args, batched, strict=True))
            ]
            assert_same(cr.tensor(prim.batch(batched, *stacked, **params)), expected)
            as_tensors = [cr.tensor(a, requires_grad=True) for a in stacked]
            out = prim.batch(batched, *as_tensors, **params)
            np.testing.assert_array_equal(out.detach().numpy(), expected)


# --- gradients of particular entries --------------------------------------------------------


def test_linspace_gradient_in_its_endpoints():
    """d/dstart = 1 - i/(num-1), d/dstop = i/(num-1); without endpoint the divisor is num."""
    start, stop = cr.tensor(0.5, requires_grad=True), cr.tensor(2.0, requires_grad=True)
    weights = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    cr.sum(cr.linspace(start, stop, 5) * weights).backward()
    fraction = np.arange(5) / 4
    assert start.grad.item() == pytest.approx(np.sum(weights * (1 - fraction)))
    assert stop.grad.item() == pytest.approx(np.sum(weights * fraction))
    start.grad = stop.grad = None
    cr.sum(np.linspace(start, stop, 5, endpoint=False) * weights).backward()
    assert stop.grad.item() == pytest.approx(np.sum(weights * np.arange(5) / 5))


def test_linspace_refuses_what_it_does_not_serve():
    with pytest.raises(TypeError, match="retstep"):
        cr.linspace(0.0, 1.0, 5, retstep=True)
    with pytest.raises(TypeError, match="dtype"):
        cr.linspace(0.0, 1.0, 5, dtype=int)


def test_full_like_differentiates_the_fill_value_only():
    template = cr.tensor(A, requires_grad=True)
    fill = cr.tensor(V, requires_grad=True)
    out = cr.full_like(template, fill)
    cr.sum(out * 2.0).backward()
    assert template.grad is None
    np.testing.assert_array_equal(fill.grad.numpy(), np.full(4, 6.0))
    assert not cr.full_like(template, 3.0).requires_grad
    assert_same(cr.full_like(template, 3, dtype=np.float32), np.full_like(A, 3, np.float32))
    assert not cr.zeros_like(template).requires_grad
    assert not np.ones_like(template).requires_grad


def test_split_pieces_each_carry_their_own_gradient():
    (t,) = leaves(A)
    pieces = cr.split(t, [1, 3], axis=1)
    assert [p.shape for p in pieces] == [(3, 1), (3, 2), (3, 1)]
    cr.sum(pieces[0] * 1.0 + cr.sum(pieces[1], axis=1, keepdims=True) * 2.0).backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.tile([1.0, 2.0, 2.0, 0.0], (3, 1)))


def test_meshgrid_gradients_sum_over_the_grid():
    x, y = (
        cr.tensor(np.arange(3.0), requires_grad=True),
        cr.tensor(np.arange(2.0), requires_grad=True),
    )
    grid_x, grid_y = np.meshgrid(x, y)
    assert grid_x.shape == grid_y.shape == (2, 3)
    cr.sum(grid_x * grid_y).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 1.0))  # sum of y
    np.testing.assert_array_equal(y.grad.numpy(), np.full(2, 3.0))  # sum of x


def test_numpy_sequence_functions_keep_the_graph():
    t1, t2 = leaves(A, A * 2)
    (cr.sum(np.vstack([t1, t2]) * 3.0) + cr.sum(np.hstack((t1, t2)))).backward()
    np.testing.assert_array_equal(t1.grad.numpy(), np.full(A.shape, 4.0))
    np.testing.assert_array_equal(t2.grad.numpy(), np.full(A.shape, 4.0))


def test_pad_edge_gradient_collects_the_copies():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    cr.sum(cr.pad(x, (2, 1), mode="edge")).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 1.0, 2.0])
    x.grad = None
    cr.sum(cr.pad(x, (2, 2), mode="reflect") * np.arange(7.0)).backward()
    # padded = [x2 x1 | x0 x1 x2 | x1 x0]: x0 at 2, 6; x1 at 1, 3, 5; x2 at 0, 4
    np.testing.assert_array_equal(x.grad.numpy(), [8.0, 9.0, 4.0])


# --- errors ---------------------------------------------------------------------------------

ERRORS = {
    "fliplr needs 2-d": (lambda t: cr.fliplr(t[0]), ShapeError, "fliplr.*\\(4,\\)"),
    "tril needs 2-d": (lambda t: cr.tril(t[0]), ShapeError, "tril.*\\(4,\\)"),
    "split unequal": (lambda t: cr.split(t, 3, axis=1), ShapeError, "split.*equal"),
    "take out of range": (lambda t: cr.take(t, [12]), ShapeError, "take.*12"),
    "take float indices": (lambda t: cr.take(t, [1.0]), TypeError, "take.*integers"),
    "take mode": (lambda t: cr.take(t, [1], mode="nearest"), ValueError, "take.*mode"),
    "pad negative": (lambda t: cr.pad(t, -1), ShapeError, "pad.*non-negative"),
    "pad mode": (lambda t: cr.pad(t, 1, mode="mean"), ValueError, "pad.*mode"),
    "pad values in edge mode": (
        lambda t: cr.pad(t, 1, mode="edge", constant_values=1.0),
        ValueError,
        "pad: constant_values",
    ),
    "pad width form": (lambda t: cr.pad(t, (1, 2, 3)), ShapeError, "pad.*pad_width"),
    "moveaxis lengths": (lambda t: cr.moveaxis(t, (0, 1), 0), ShapeError, "moveaxis"),
    "rot90 same axes": (lambda t: cr.rot90(t, 1, (1, 1)), ShapeError, "rot90"),
    "vstack shapes": (lambda t: cr.vstack([t, t[:, :2]]), ShapeError, "vstack.*\\(3, 2\\)"),
    "repeat counts": (lambda t: cr.repeat(t, [1, 2], axis=0), ShapeError, "repeat.*length 3"),
    "tile negative": (lambda t: cr.tile(t, -1), ShapeError, "tile"),
    "diff 0-d": (lambda t: cr.diff(t[0, 0]), ShapeError, "diff"),
    "select lengths": (lambda t: cr.select([A > 0], [t, t]), ShapeError, "select"),
    "select boolean": (lambda t: cr.select([A], [t]), TypeError, "select.*boolean"),
    "meshgrid indexing": (lambda t: cr.meshgrid(t, indexing="yx"), ValueError, "meshgrid"),
    "pad grad constant": (
        lambda t: cr.pad(t, 1, constant_values=t[0, 0]),
        TypeError,
        "constant_values carry no gradient",
    ),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors_name_the_operation(name):
    call, error, message = ERRORS[name]
    (t,) = leaves(A)
    with pytest.raises(error, match=message):
        call(t)


# --- writes through views -------------------------------------------------------------------

VIEWS = {
    "ravel": lambda t: cr.ravel(t),
    "flip": lambda t: np.flip(t, 0),
    "moveaxis": lambda t: np.moveaxis(t, 0, 1),
    "rot90": lambda t: cr.rot90(t),
    "split": lambda t: cr.split(t, 2, axis=1)[1],
    "atleast_3d": lambda t: np.atleast_3d(t),
}


@pytest.mark.parametrize("name", VIEWS)
def test_a_write_into_the_base_of_a_view_refuses_backward(name):
    """The result is a NumPy view of its operand; a later in-place write into the operand
    changes it, and backward through a product with it must refuse."""
    w = cr.tensor(np.ones((3, 4)), requires_grad=True)
    a = cr.tensor(A.copy())
    view = VIEWS[name](a)
    assert np.shares_memory(view.numpy(), a.numpy())
    y = cr.sum(view * VIEWS[name](w))
    with cr.no_grad():
        a += 1.0
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


@pytest.mark.parametrize("name", VIEWS)
def test_a_write_into_a_view_result_leaves_its_operand_and_graph_intact(name):
    x = cr.tensor(A.copy(), requires_grad=True)
    y = x * 1.0
    view = VIEWS[name](y)
    loss = cr.sum(y * y)
    with cr.no_grad():
        view += 100.0
    np.testing.assert_array_equal(y.detach().numpy(), A)
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * A)


def test_a_list_holding_tensors_stays_on_the_graph_as_a_later_argument():
    t1, t2 = leaves(V, V * 3)
    joined = cr.append(t1, [t2, t2 * 2.0])
    assert_same(joined, np.append(V, [V * 3, V * 6]))
    cr.sum(joined).backward()
    np.testing.assert_array_equal(t2.grad.numpy(), np.full(4, 3.0))


def test_aliases_document_themselves():
    """An alias's help is its own (flip reverses), not its primitive's (x[index])."""
    assert "Reverse" in cr.flip.__doc__
    assert "np.split" in cr.split.__doc__
    assert "rows" in cr.vstack.__doc__
    assert "zeros" in cr.zeros_like.__doc__
