"""The public surface generated from the registry: every declared name, Tensor method and
NumPy callable reaches its primitive and gives NumPy's (or an independent formula's) value.

A new entry is covered with no new test code when its names are NumPy's; a name NumPy
lacks needs one line in ORACLES, and an operation needing more than its operands one
line in EXTRA (the test fails until it has them).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.primitive import PRIMITIVES, surface_key


def _softmax(a, axis=-1):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


#: Formulas for the names NumPy does not have (PyTorch's and our own).
ORACLES = {
    "relu": lambda a: np.where(a > 0, a, 0.0),
    "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
    "erf": np.vectorize(math.erf),
    "softmax": _softmax,
    "log_softmax": lambda a: np.log(_softmax(a)),
    "logsumexp": lambda a: np.log(np.sum(np.exp(a))),
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "eq": np.equal,
    "ne": np.not_equal,
    "clamp": np.clip,
    "view": np.reshape,
    "unsqueeze": np.expand_dims,
}

#: Arguments after the operands, for calls that need them (a function of the first operand).
EXTRA = {
    "reshape": lambda a: ((a.size,),),
    "view": lambda a: ((a.size,),),
    "expand_dims": lambda a: (0,),
    "unsqueeze": lambda a: (0,),
    "swapaxes": lambda a: (0, -1),
    "broadcast_to": lambda a: ((2, *a.shape),),
    "astype": lambda a: (np.float32,),
}


def _label(key):
    return key if isinstance(key, str) else key.__name__


def _items():
    for prim in PRIMITIVES.values():
        for kind in ("names", "methods", "numpy"):
            for item in getattr(prim, kind):
                key = surface_key(item)
                yield pytest.param(prim.name, kind, key, id=f"{prim.name}-{kind}-{_label(key)}")


def _operands(prim):
    rng = np.random.default_rng(0)
    if prim.sample is not None:
        args, _ = prim.sample(rng)[0]
        return list(args)
    return [domain(rng, (2, 3)) for domain in prim.domains]


def _oracle(prim, kind, key):
    if kind == "numpy":
        return key
    if key in ORACLES:
        return ORACLES[key]
    if kind == "methods" and hasattr(np.ndarray, key):
        return lambda a, *rest: getattr(a, key)(*rest)
    if hasattr(np, key):
        return getattr(np, key)
    raise AssertionError(f"{prim.name}: no oracle for {kind} {key!r}; add one to ORACLES")


def _leaf(a):
    a = np.asarray(a)
    return cr.tensor(a, requires_grad=a.dtype.kind == "f")


@pytest.mark.parametrize(("name", "kind", "key"), list(_items()))
def test_every_surface_item_applies_its_primitive(name, kind, key):
    prim = PRIMITIVES[name]
    arrays = _operands(prim)
    tensors = [_leaf(a) for a in arrays]
    extra = EXTRA.get(_label(key), lambda a: ())(arrays[0])
    sequence = getattr(prim.signature, "operand_sequence", False)
    if kind == "methods":
        out = getattr(tensors[0], key)(*tensors[1:], *extra)
    else:
        call = getattr(cr, key) if kind == "names" else key
        out = call(tensors, *extra) if sequence else call(*tensors, *extra)
    oracle = _oracle(prim, kind, _label(key) if kind != "numpy" else key)
    expected = oracle(arrays, *extra) if sequence else oracle(*arrays, *extra)
    assert isinstance(out, cr.Tensor)
    if prim.differentiable:
        assert out.grad_fn == prim.name
    else:
        assert not out.requires_grad and out.grad_fn is None
    assert out.dtype == np.asarray(expected).dtype
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12, atol=1e-15)


def test_every_public_name_is_exported():
    names = {surface_key(n) for p in PRIMITIVES.values() for n in p.names}
    assert names <= set(cr.__all__)
    for name in names:
        assert getattr(cr, name).__name__ == name
        assert getattr(cr, name).__doc__


def test_internal_primitives_have_no_public_name():
    for name in ("identity", "getitem", "index_add", "linear"):
        assert not PRIMITIVES[name].names and not PRIMITIVES[name].methods


def test_operators_apply_the_registered_primitives(monkeypatch):
    x = cr.tensor([1.0, -2.0, 3.0], requires_grad=True)
    for expression, prim in [
        (lambda: x < 0, "less"),
        (lambda: x <= 0, "less_equal"),
        (lambda: x > 0, "greater"),
        (lambda: x >= 0, "greater_equal"),
        (lambda: x == 1, "equal"),
        (lambda: x != 1, "not_equal"),
        (lambda: (x > 0) & (x < 2), "logical_and"),
        (lambda: (x > 0) | (x < 2), "logical_or"),
        (lambda: (x > 0) ^ (x < 2), "logical_xor"),
        (lambda: ~(x > 0), "logical_not"),
    ]:
        calls = []
        forward = PRIMITIVES[prim].forward
        monkeypatch.setattr(
            PRIMITIVES[prim], "forward", lambda *a, f=forward, c=calls: c.append(a) or f(*a)
        )
        out = expression()
        monkeypatch.undo()
        assert len(calls) == 1, prim
        assert out.dtype == np.bool_ and not out.requires_grad


def test_logical_operators_refuse_numbers():
    x = cr.tensor([1.0, 2.0])
    with pytest.raises(cr.errors.DtypeError, match="logical_and"):
        x & (x > 0)


def test_where_takes_its_condition_as_an_operand():
    x = cr.tensor([1.0, -2.0], requires_grad=True)
    condition = x > 0
    out = cr.where(condition, x, 0.0)
    assert out._inputs[0] is condition
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0])


def test_clip_with_tensor_bounds_sends_gradient_to_the_bounds():
    x = cr.tensor([-2.0, 0.0, 2.0], requires_grad=True)
    lo = cr.tensor(-1.0, requires_grad=True)
    hi = cr.tensor(1.0, requires_grad=True)
    y = cr.clip(x, lo, hi)
    np.testing.assert_array_equal(y.detach().numpy(), [-1.0, 0.0, 1.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0])
    assert lo.grad.item() == 1.0 and hi.grad.item() == 1.0
    np.testing.assert_array_equal(x.clamp(min=0.5).detach().numpy(), [0.5, 0.5, 2.0])
    np.testing.assert_array_equal(np.clip(x, a_min=None, a_max=0.0).detach().numpy(), [-2, 0, 0])
    with pytest.raises(TypeError, match="twice"):
        cr.clip(x, 0.0, min=1.0)
    with pytest.raises(ValueError, match="at least one"):
        cr.clip(x)


def test_index_arrays_are_kept_as_the_same_objects():
    from chainrule.tensor import normalize_index

    rows = np.array([0, 1])
    mask = cr.tensor(np.array([True, False]))
    assert normalize_index(rows)[0] is rows
    assert normalize_index((mask, rows))[0] is mask._data


def test_argmax_argmin_with_axis_and_torch_names():
    v = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    x = cr.tensor(v, requires_grad=True)
    assert x.argmax().item() == 3
    np.testing.assert_array_equal(cr.argmax(x, axis=1).numpy(), [1, 0])
    np.testing.assert_array_equal(x.argmin(dim=0, keepdim=True).numpy(), [[0, 1, 0]])
    assert not x.argmax().requires_grad
    with pytest.raises(cr.errors.ShapeError, match="argmax"):
        cr.argmax(x, axis=2)
    with pytest.raises(cr.errors.ShapeError, match="zero-size"):
        cr.argmax(cr.tensor(np.zeros((0,))))


def test_rounding_primitives_match_numpy():
    v = np.array([-1.5, -0.5, 0.5, 1.5, 2.25])
    x = cr.tensor(v, requires_grad=True)
    for ours, theirs in [
        (cr.round(x), np.round(v)),
        (np.rint(x), np.rint(v)),
        (np.around(x, 1), np.around(v, 1)),
        (x.floor(), np.floor(v)),
        (np.ceil(x), np.ceil(v)),
    ]:
        np.testing.assert_array_equal(ours.numpy(), theirs)
        assert not ours.requires_grad


def test_shape_prepare_functions_check_their_arguments():
    x = cr.tensor(np.zeros((2, 3)))
    with pytest.raises(cr.errors.ShapeError, match=r"reshape.*\(2, 3\).*\(4,\)"):
        x.reshape(4)
    with pytest.raises(cr.errors.ShapeError, match="transpose"):
        x.transpose(0, 5)
    with pytest.raises(cr.errors.ShapeError, match="squeeze"):
        cr.squeeze(x, 0)
    with pytest.raises(cr.errors.ShapeError, match="broadcast_to"):
        cr.broadcast_to(x, (3, 3))
    with pytest.raises(cr.errors.ShapeError, match="concatenate: tensor 1"):
        cr.concatenate([x, np.zeros((2, 2))], axis=0)
    with pytest.raises(cr.errors.ShapeError, match="stack: need at least one"):
        cr.stack([])
    assert cr.expand_dims(x, (0, 3)).shape == (1, 2, 3, 1)
    assert x.unsqueeze(-1).shape == (2, 3, 1)
    assert cr.concatenate([x, x], dim=1).shape == (2, 6)
    assert x.reshape(3, 2).shape == x.view((3, 2)).shape == (3, 2)
    assert x.flatten().shape == np.ravel(x).shape == (6,)
    assert cr.softmax(x, dim=0).shape == (2, 3)
    with pytest.raises(TypeError, match="unexpected keyword"):
        cr.sum(x, axes=0)
