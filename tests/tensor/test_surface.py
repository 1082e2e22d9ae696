"""The public surface generated from the registry: every declared name, Tensor method and
NumPy callable reaches its primitive and gives NumPy's (or an independent formula's) value.

A new entry is covered with no new test code when its names are NumPy's; a name NumPy
lacks needs one line in ORACLES, and an operation needing more than its operands one
line in EXTRA, or in LEADING for arguments before its operands (the test fails until it
has them).
"""

from __future__ import annotations

import functools
import math

import mpmath
import numpy as np
import pytest

import chainrule as cr
from chainrule.core.primitive import PRIMITIVES, composite, surface_key


def _softmax(a, axis=-1):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


#: Formulas for the names NumPy does not have (PyTorch's and our own).
ORACLES = {
    "relu": lambda a: np.where(a > 0, a, 0.0),
    "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
    "erf": np.vectorize(math.erf),
    "erfc": np.vectorize(math.erfc),
    "erfinv": np.vectorize(lambda v: float(mpmath.erfinv(v))),
    "softmax": _softmax,
    "log_softmax": lambda a: np.log(_softmax(a)),
    "logsumexp": lambda a: np.log(np.sum(np.exp(a))),
    "cumulative_sum": lambda a: np.cumsum(a),
    "cumulative_prod": lambda a: np.cumprod(a),
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "eq": np.equal,
    "ne": np.not_equal,
    "clamp": np.clip,
    "view": np.reshape,
    "unsqueeze": np.expand_dims,
    "flatten": np.ravel,
    "movedim": np.moveaxis,
    "permute": np.transpose,
    "empty_like": np.zeros_like,
    "take_along_dim": np.take_along_axis,
    "tensor_split": np.array_split,
    "repeat_interleave": np.repeat,
    "inverse": np.linalg.inv,
    "pinverse": np.linalg.pinv,
    "det": np.linalg.det,
    "slogdet": np.linalg.slogdet,
    "matrix_power": np.linalg.matrix_power,
    "cholesky": np.linalg.cholesky,
    "qr": np.linalg.qr,
    "norm": np.linalg.norm,
    "linalg.outer": np.outer,
    "linalg.solve_triangular": lambda a, b: np.linalg.solve(np.triu(a), b),
}

#: Oracles for Tensor methods that follow PyTorch where NumPy's method of that name differs
#: (ndarray.sort sorts in place; Tensor.sort returns values and indices).
METHOD_ORACLES = {
    "sort": lambda a: (np.sort(a), np.argsort(a)),
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
    "partition": lambda a: (1,),
    "quantile": lambda a: (0.3,),
    "percentile": lambda a: (30.0,),
    "moveaxis": lambda a: (0, -1),
    "movedim": lambda a: (0, -1),
    "rollaxis": lambda a: (1,),
    "take": lambda a: (np.array([0, 3, 7, 3]),),
    "take_along_axis": lambda a: (np.argsort(a, axis=1)[:, :3], 1),
    "take_along_dim": lambda a: (np.argsort(a, axis=1)[:, :3], 1),
    "split": lambda a: (2,),
    "array_split": lambda a: (3,),
    "tensor_split": lambda a: (3,),
    "roll": lambda a: (2,),
    "pad": lambda a: (((1, 2), (0, 3)),),
    "repeat": lambda a: (2,),
    "repeat_interleave": lambda a: (2,),
    "tile": lambda a: ((2, 1),),
    "matrix_power": lambda a: (3,),
}


#: Arguments before the operands (einsum's subscripts), a function of the first operand.
LEADING = {
    "einsum": lambda a: ("ij,jk->ik",),
}


def _label(key):
    return key if isinstance(key, str) else key.__name__


def _resolve(module, dotted):
    """``module.a.b`` for the name ``"a.b"`` (public names may live in a namespace)."""
    return functools.reduce(getattr, dotted.split("."), module)


def _has(module, dotted):
    try:
        _resolve(module, dotted)
    except AttributeError:
        return False
    return True


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
    if kind == "methods" and key in METHOD_ORACLES:
        return METHOD_ORACLES[key]
    if key in ORACLES:
        return ORACLES[key]
    if kind == "methods" and hasattr(np.ndarray, key):
        return lambda a, *rest: getattr(a, key)(*rest)
    if _has(np, key):
        return _resolve(np, key)
    raise AssertionError(f"{prim.name}: no oracle for {kind} {key!r}; add one to ORACLES")


def _leaf(a):
    a = np.asarray(a)
    return cr.tensor(a, requires_grad=a.dtype.kind == "f")


def _item_signature(prim, kind, key):
    for item in getattr(prim, kind):
        if surface_key(item) == key:
            return item[1] if isinstance(item, tuple) else prim.signature
    raise AssertionError(key)


@pytest.mark.parametrize(("name", "kind", "key"), list(_items()))
def test_every_surface_item_applies_its_primitive(name, kind, key):
    prim = PRIMITIVES[name]
    arrays = _operands(prim)
    tensors = [_leaf(a) for a in arrays]
    extra = EXTRA.get(_label(key).rpartition(".")[2], lambda a: ())(arrays[0])
    leading = LEADING.get(_label(key), lambda a: ())(arrays[0])
    signature = _item_signature(prim, kind, key)
    made_of_several = isinstance(signature, composite)
    if made_of_several:
        signature = signature.function
    sequence = getattr(signature, "operand_sequence", False)
    if kind == "methods":
        out = getattr(tensors[0], key)(*tensors[1:], *extra)
    else:
        call = _resolve(cr, key) if kind == "names" else key
        out = call(tensors, *extra) if sequence else call(*leading, *tensors, *extra)
    oracle = _oracle(prim, kind, _label(key) if kind != "numpy" else key)
    expected = oracle(arrays, *extra) if sequence else oracle(*leading, *arrays, *extra)
    if made_of_several and isinstance(out, (list, tuple)):
        assert len(out) == len(expected)
        pairs = list(zip(out, expected, strict=True))
    else:
        pairs = [(out, expected)]
    for result, wanted in pairs:
        assert isinstance(result, cr.Tensor)
        if not made_of_several:
            if prim.differentiable:
                assert result.grad_fn == prim.name
            else:
                assert not result.requires_grad and result.grad_fn is None
        assert result.dtype == np.asarray(wanted).dtype
        np.testing.assert_allclose(result.detach().numpy(), wanted, rtol=1e-12, atol=1e-15)


def _operator_items():
    for prim in PRIMITIVES.values():
        for name in prim.operators:
            yield pytest.param(prim.name, name, id=f"{prim.name}-{name}")


@pytest.mark.parametrize(("name", "special"), list(_operator_items()))
def test_every_operator_applies_its_primitive(name, special):
    """Tensor operators come from the entries' ``operators``: each applies its primitive and
    gives what the same operator gives on NumPy arrays (reflected ones too)."""
    prim = PRIMITIVES[name]
    arrays = [np.asarray(a) for a in _operands(prim)]
    tensors = [_leaf(a) for a in arrays]
    if special.startswith("__r") and "__" + special[3:] in prim.operators:
        tensors.reverse()  # y.__radd__(x) is x + y
        arrays.reverse()
    out = getattr(tensors[0], special)(*tensors[1:2])
    expected = getattr(arrays[0], special)(*arrays[1:2])
    assert isinstance(out, cr.Tensor)
    if prim.differentiable:
        assert out.grad_fn == prim.name
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12, atol=1e-15)


def test_tensor_operators_are_generated_not_written_by_hand():
    import ast
    import inspect
    import sys

    tree = ast.parse(inspect.getsource(sys.modules["chainrule.tensor"]))
    tensor_class = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Tensor")
    defined = {n.name for n in tensor_class.body if isinstance(n, ast.FunctionDef)}
    generated = {special for prim in PRIMITIVES.values() for special in prim.operators}
    assert {"__add__", "__rmatmul__", "__invert__", "__mod__"} <= generated
    assert not defined & generated


def test_a_list_holding_tensors_on_the_other_side_of_an_operator_keeps_its_gradient():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor(3.0, requires_grad=True)
    ((a + [b, b]).sum() + ([b, 2 * b] - a).sum()).backward()
    assert b.grad.item() == 5.0
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0])


def test_logical_operators_need_booleans_both_ways():
    flags = cr.tensor([True, False])
    assert (flags & True).tolist() == [True, False]
    assert (True ^ flags).tolist() == [False, True]
    for attempt in (lambda: cr.tensor([1, 2]) & 1, lambda: 1 | flags, lambda: ~cr.tensor([1])):
        with pytest.raises(cr.errors.DtypeError, match="logical"):
            attempt()
