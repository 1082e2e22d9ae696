"""chainrule.vmap against loops, its axes, its errors, and its composition with the other
transforms; every registered primitive with samples is also run through vmap itself."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.primitive import PRIMITIVES
from chainrule.errors import ShapeError, VmapError
from chainrule.tensor import apply

RNG = np.random.default_rng(0)


def _sampled(name, seed=0):
    prim = PRIMITIVES[name]
    rng = np.random.default_rng(seed)
    if prim.sample is not None:
        return prim.sample(rng)
    return [(tuple(domain(rng, (2, 3)) for domain in prim.domains), {})]


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_vmap_of_each_primitive_matches_a_loop(name):
    """Every entry through vmap (its rule, or the per-example loop without one)."""
    prim = PRIMITIVES[name]
    for args, params in _sampled(name):
        if any(a is None for a in args):
            continue
        arrays = [np.asarray(a) for a in args]
        stacked = [np.stack([a, a * 0.5 if a.dtype.kind == "f" else a, a]) for a in arrays]

        def one(*xs, params=params):
            return apply(prim, xs, params)

        got = cr.vmap(one)(*stacked)
        expected = np.stack([prim.evaluate(*(s[k] for s in stacked), **params) for k in range(3)])
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_in_axes_none_and_tuples_and_out_axes():
    w = RNG.standard_normal((3, 2))
    xs = RNG.standard_normal((2, 5, 3))  # batch on axis 1
    got = cr.vmap(lambda w, x: x @ w, in_axes=(None, 1), out_axes=1)(w, xs)
    expected = np.stack([xs[:, k] @ w for k in range(5)], axis=1)
    assert got.shape == (2, 5, 2)
    np.testing.assert_allclose(got, expected)
    pair = cr.vmap(lambda p: p[0] * p[1], in_axes=((0, None),))((xs[0], w[:, 0]))
    np.testing.assert_allclose(pair, xs[0] * w[:, 0])
    shared = cr.vmap(lambda x: (x.sum(), cr.tensor(np.ones(2))), out_axes=0)(xs[0])
    np.testing.assert_allclose(shared[1], np.ones((5, 2)))
    with pytest.raises(VmapError, match="out_axes=None"):
        cr.vmap(lambda x: x * 2, out_axes=None)(xs[0])
    np.testing.assert_allclose(cr.vmap(lambda x: x.sum(), in_axes=-1)(xs[0]), xs[0].sum(0))


def test_mismatched_batch_sizes_raise_a_shape_error():
    with pytest.raises(ShapeError, match="different batch sizes: 3 .* 4"):
        cr.vmap(lambda a, b: a + b)(np.ones(3), np.ones(4))
    with pytest.raises(ShapeError, match="in_axes 2 is out of range"):
        cr.vmap(lambda a: a, in_axes=2)(np.ones((3, 2)))
    with pytest.raises(ValueError, match="no argument is batched"):
        cr.vmap(lambda a: a, in_axes=None)(np.ones(3))


def test_data_dependent_control_flow_is_refused():
    def f(x):
        return x * 2 if x.sum() > 0 else -x

    with pytest.raises(VmapError, match="control flow"):
        cr.vmap(f)(np.array([[1.0], [-1.0]]))
    with pytest.raises(VmapError):
        cr.vmap(lambda x: x * float(x[0]))(np.ones((2, 2)))


def _loss(w, x):
    return cr.tanh(x @ w).sum() ** 2


def test_vmap_of_grad_gives_per_example_gradients():
    w, xs = RNG.standard_normal(3), RNG.standard_normal((4, 3))
    per_example = cr.vmap(cr.grad(_loss), in_axes=(None, 0))
    got = per_example(w, xs)
    expected = np.stack([cr.grad(_loss)(w, x) for x in xs])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert "matmul_batch(" in per_example.source  # one batched call, the backward included
    single = per_example(w.astype(np.float32), xs.astype(np.float32))
    assert single.dtype == np.float32
    assert "tanh_batch(" in per_example.source


def test_grad_of_vmap_and_jacobian_of_vmap():
    w, xs = RNG.standard_normal(3), RNG.standard_normal((4, 3))
    batched = cr.vmap(_loss, in_axes=(None, 0))
    g = cr.grad(lambda w: batched(w, xs).sum())(w)
    np.testing.assert_allclose(g, sum(cr.grad(_loss)(w, x) for x in xs), rtol=1e-12)
    jac = cr.jacobian(lambda w: batched(w, xs))(w)
    np.testing.assert_allclose(jac, np.stack([cr.grad(_loss)(w, x) for x in xs]), rtol=1e-12)
    gx = cr.grad(lambda xs: batched(w, xs).sum())(xs)
    np.testing.assert_allclose(gx, np.stack([cr.grad(_loss, 1)(w, x) for x in xs]), rtol=1e-12)


def test_compile_of_vmap_and_vmap_of_vmap():
    w, xs = RNG.standard_normal(3), RNG.standard_normal((4, 3))
    per_example = cr.vmap(cr.grad(_loss), in_axes=(None, 0))
    compiled = cr.compile(per_example)
    for _ in range(2):
        np.testing.assert_allclose(compiled(w, xs), per_example(w, xs), rtol=1e-12)
    assert len(compiled.programs) == 1 and "matmul" in compiled.source
    grid = RNG.standard_normal((2, 4, 3))
    twice = cr.vmap(cr.vmap(_loss, in_axes=(None, 0)), in_axes=(None, 0))(w, grid)
    expected = np.array([[_loss(cr.tensor(w), cr.tensor(x)).item() for x in row] for row in grid])
    np.testing.assert_allclose(twice, expected, rtol=1e-12)


def test_cached_program_is_reused_and_retraced_for_new_shapes():
    calls = []

    def f(x):
        calls.append(1)
        return cr.exp(x).sum()

    vf = cr.vmap(f)
    vf(np.ones((3, 2)))
    vf(np.zeros((3, 2)))
    assert len(calls) == 1
    np.testing.assert_allclose(vf(np.zeros((5, 4))), np.full(5, 4.0))
    assert len(calls) == 2


def test_entry_without_rule_runs_once_per_example():
    calls = []

    @cr.custom_op(partials=(lambda ans, x: 3 * x**2,))
    def cube(x):
        calls.append(np.shape(x))
        return x**3

    xs = RNG.standard_normal((3, 2))
    out = cr.vmap(lambda x: cube(x).sum())(xs)
    np.testing.assert_allclose(out, (xs**3).sum(1))
    assert calls.count((2,)) >= 3  # recorded once, then replayed once per example


def test_class_targets_differing_per_example_are_correct():
    logits = RNG.standard_normal((4, 5))
    labels = np.array([0, 3, 1, 4])
    loss = cr.grad(lambda z, y: cr.nn.functional.cross_entropy(z[None], y[None]))
    got = cr.vmap(loss)(logits, labels)
    expected = np.stack([loss(z, y) for z, y in zip(logits, labels, strict=True)])
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_getitem_with_separated_array_indices():
    x = RNG.standard_normal((3, 4, 5, 6))
    index = (np.array([0, 2]), slice(None), np.array([1, 3]))
    got = cr.vmap(lambda t: t[index])(x)
    np.testing.assert_allclose(got, np.stack([e[index] for e in x]))
    g = cr.vmap(cr.grad(lambda t: (t[index] ** 2).sum()))(x)
    np.testing.assert_allclose(
        g, np.stack([cr.grad(lambda t: (t[index] ** 2).sum())(e) for e in x])
    )


def test_per_example_gradients_match_torch_func():
    torch = pytest.importorskip("torch")
    from torch.func import grad as tgrad
    from torch.func import vmap as tvmap

    w1, w2 = RNG.standard_normal((8, 3)), RNG.standard_normal((2, 8))
    xs, ys = RNG.standard_normal((6, 3)), np.eye(2)[RNG.integers(0, 2, 6)]

    def loss(a, b, x, y):
        h = cr.relu(x @ a.T)
        return -(cr.log_softmax(h @ b.T) * y).sum()

    def tloss(a, b, x, y):
        h = torch.relu(x @ a.T)
        return -(torch.log_softmax(h @ b.T, -1) * y).sum()

    got = cr.vmap(cr.grad(loss, argnums=(0, 1)), in_axes=(None, None, 0, 0))(w1, w2, xs, ys)
    want = tvmap(tgrad(tloss, argnums=(0, 1)), in_dims=(None, None, 0, 0))(
        torch.tensor(w1), torch.tensor(w2), torch.tensor(xs), torch.tensor(ys)
    )
    for g, t in zip(got, want, strict=True):
        np.testing.assert_allclose(g, t.numpy(), rtol=1e-10, atol=1e-12)


def test_vmap_of_a_module_reads_its_parameters_and_passes_gradients_to_them():
    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.Tanh(), cr.nn.Linear(4, 2))
    xs = RNG.standard_normal((5, 3))
    batched = cr.vmap(model)
    out = batched(xs)
    assert isinstance(out, cr.Tensor) and out.shape == (5, 2)
    out.sum().backward()
    grads = [p.grad._data.copy() for p in model.parameters()]
    model.zero_grad()
    model(cr.tensor(xs)).sum().backward()
    for got, p in zip(grads, model.parameters(), strict=True):
        np.testing.assert_allclose(got, p.grad._data, rtol=1e-12)
    with cr.no_grad():
        model[0].weight.data = np.zeros((4, 3))  # parameters are read at every call
    np.testing.assert_allclose(batched(xs)._data, model(cr.tensor(xs))._data)


def test_dict_in_axes_and_refusals():
    pair = {"a": RNG.standard_normal((4, 2)), "b": RNG.standard_normal(2)}
    got = cr.vmap(lambda p: p["a"] * p["b"], in_axes=({"a": 0, "b": None},))(pair)
    np.testing.assert_allclose(got, pair["a"] * pair["b"])

    w = cr.tensor(np.ones(2), requires_grad=True)

    def backward_inside(x):
        y = x * w
        y.sum().backward()
        return y

    with pytest.raises(VmapError, match="backward"):
        cr.vmap(backward_inside)(np.ones((2, 2)))

    def writes(x):
        y = x * 2.0
        y[0] = 1.0
        return y

    with pytest.raises(VmapError, match="in-place"):
        cr.vmap(writes)(np.ones((2, 2)))


@pytest.mark.parametrize("name", sorted(n for n, p in PRIMITIVES.items() if p.differentiable))
def test_vmap_of_grad_of_each_primitive_matches_a_loop(name):
    """The backward pass recorded under vmap: each entry's VJP rules, run on Tensors, must
    see every example's own values (a mask frozen at one example's would show here). A rule
    written with NumPy calls that have no chainrule counterpart is refused with VmapError,
    never answered wrongly."""
    prim = PRIMITIVES[name]
    for draws in zip(*(_sampled(name, seed) for seed in range(3)), strict=True):
        (args, params), firsts = draws[0], [np.asarray(d[0][0]) for d in draws]
        if any(a is None for a in args) or firsts[0].dtype.kind != "f":
            continue
        if any(f.shape != firsts[0].shape for f in firsts):
            continue
        rest = args[1:]
        examples = np.stack(firsts)

        def loss(x, params=params, rest=rest):
            out = apply(prim, (x, *rest), params)
            return (out * out).sum()

        try:
            got = cr.vmap(cr.grad(loss))(examples)
        except VmapError as error:  # a rule using NumPy beyond chainrule's: refused, loudly
            assert "not a chainrule primitive" in str(error) or "leaving for Python" in str(error)
            continue
        expected = np.stack([cr.grad(loss)(e) for e in examples])
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_vmap_of_hessian_and_jacobians():
    def f(x):
        return (cr.sin(x) * x[::-1]).sum() + cr.relu(x).sum() ** 2

    def g(x):
        return cr.softmax(x) * x

    xs = RNG.standard_normal((4, 3))
    np.testing.assert_allclose(
        cr.vmap(cr.hessian(f))(xs), np.stack([cr.hessian(f)(x) for x in xs]), rtol=1e-12
    )
    expected = np.stack([cr.jacobian(g)(x) for x in xs])
    np.testing.assert_allclose(cr.vmap(cr.jacrev(g))(xs), expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(cr.vmap(cr.jacfwd(g))(xs), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "function",
    [
        lambda v: cr.prod(v),
        lambda v: cr.cumprod(v).sum(),
        lambda v: (cr.sort(v) * np.arange(5.0)).sum(),
        lambda v: cr.median(v),
        lambda v: cr.quantile(v, 0.3),
        lambda v: cr.var(v) + cr.std(v),
    ],
    ids=["prod", "cumprod", "sort", "median", "quantile", "var-std"],
)
def test_rules_that_choose_a_formula_by_value_take_the_general_one_under_vmap(function):
    """prod divides by x when no entry is zero, sort skips the stable argsort without ties:
    under vmap one example's values must not choose for the batch (rows with zeros, ties)."""
    batch = np.random.default_rng(3).standard_normal((4, 5))
    batch[1, 2] = 0.0
    batch[2, 1] = batch[2, 3]
    batch[3, 1] = batch[3, 4] = 0.0
    got = cr.vmap(cr.grad(function))(batch)
    want = np.stack([cr.grad(function)(row) for row in batch])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_any_and_all_leave_the_graph_so_traces_refuse_them():
    with pytest.raises(cr.errors.CompileError, match=r"\.any\(\)"):
        cr.compile(lambda t: t * 2 if t.any() else t)(np.ones(2))
    with pytest.raises(cr.errors.VmapError, match=r"\.all\(\)"):
        cr.vmap(lambda t: t * 2 if t.all() else t)(np.ones((3, 2)))
