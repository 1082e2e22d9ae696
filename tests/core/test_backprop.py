"""The reverse sweep: the order it visits nodes in, copies as nodes, accumulation, pruning.

Creation order is the engine's topological order: ``toposort`` lists every node
before its inputs, and ``backprop`` runs each node's rule once, after all of its
consumers have added to its adjoint. The order is checked against graph edges
written down by hand, and by a throwaway primitive whose rule logs when it runs
(:func:`tapper`). Copies (deepcopy, pickle) are new nodes that work in one graph with
their originals; an error mid-sweep leaves nothing half-summed behind; functional
gradients run only the rules that lead to their inputs and touch no ``.grad``.
"""

import copy
import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.core import engine
from chainrule.core.primitive import Primitive
from chainrule.tensor import Tensor

ONE = np.float64(1.0)


def tapper():
    """``(tap, log)``: ``tap(x, label)`` is x unchanged; its VJP appends ``label`` to ``log``.

    The primitive is not registered: ``bind`` applies it without the registry.
    """
    log = []

    def rule(g, ans, x, *, label):
        log.append(label)
        return g

    prim = Primitive(
        "tap",
        lambda x, *, label: +x,
        vjps=(rule,),
        jvps=(lambda t, ans, x, *, label: t,),
        kind="custom",
    )
    return (lambda x, label: prim.bind(x, label=label)), log


def index_of(order):
    """Position of each node in ``order``, by identity (Tensors compare elementwise)."""
    return {id(node): i for i, node in enumerate(order)}


# --- creation order is a topological order -------------------------------------------


def _fan_graph():
    """Fan-out and fan-in: (root, {node: its tensor operands}) for every node."""
    x = cr.tensor([0.5, 1.5], requires_grad=True)
    w = cr.tensor(2.0, requires_grad=True)
    h = x * w
    u = cr.sin(h)
    v = h * h
    uv = u + v
    uvw = uv + w
    root = uvw.sum()
    return root, {x: (), w: (), h: (x, w), u: (h,), v: (h,), uv: (u, v), uvw: (uv, w), root: (uvw,)}


def _late_leaf_graph():
    """A leaf made after a node that does not use it, then used with it and an older leaf."""
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    c = a * 2.0
    b = cr.tensor(3.0, requires_grad=True)
    d = c * b
    ex = cr.exp(d)
    e = ex.sum()
    eb = e + b
    total = a.sum()
    root = eb + total
    return root, {
        a: (),
        b: (),
        c: (a,),
        d: (c, b),
        ex: (d,),
        e: (ex,),
        eb: (e, b),
        total: (a,),
        root: (eb, total),
    }


@pytest.mark.parametrize("graph", [_fan_graph, _late_leaf_graph], ids=["fan", "late-leaf"])
def test_toposort_lists_every_node_before_its_operands(graph):
    """toposort returns each reachable node once, root first, every node before its operands."""
    root, operands = graph()
    order = engine.toposort([root])
    position = index_of(order)
    assert order[0] is root
    assert len(position) == len(order) == len(operands)
    for node, inputs in operands.items():
        assert all(position[id(node)] < position[id(inp)] for inp in inputs)


def test_backprop_visits_nodes_in_toposort_order():
    """The heap sweep reaches the nodes in the order toposort gives."""
    root, _ = _fan_graph()
    expected = engine.toposort([root])
    for node in expected:
        if not node.is_leaf:
            node.retain_grad()  # so that the sweep reports every node it reaches
    visited = []
    engine.backprop(root, ONE, accumulate=lambda node, g, owned: visited.append(node))
    assert [id(node) for node in visited] == [id(node) for node in expected]


def test_backprop_runs_each_rule_once_after_all_its_consumers():
    """A node's rule runs once, with its whole adjoint, after the rules of all its consumers."""
    tap, log = tapper()
    x = cr.tensor([0.5, 1.5], requires_grad=True)
    w = cr.tensor(2.0, requires_grad=True)
    h = tap(x * w, "h")
    u = tap(cr.sin(h), "u")
    v = tap(h * h, "v")
    root = tap((u + v + w).sum(), "root")
    root.backward()
    assert sorted(log) == ["h", "root", "u", "v"]
    assert log[0] == "root" and log[-1] == "h"
    xw = x.data * w.item()
    np.testing.assert_allclose(x.grad.data, w.item() * (np.cos(xw) + 2 * xw))
    assert w.grad.item() == pytest.approx(np.sum(x.data * (np.cos(xw) + 2 * xw)) + 2.0)


# --- copies are new nodes -------------------------------------------------------------


def test_deepcopy_and_pickle_give_new_nodes_that_work_with_the_original():
    """A copy and an unpickled tensor join a graph with their original: each gets its gradient."""
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    copied = copy.deepcopy(t)
    loaded = pickle.loads(pickle.dumps(t))
    for other in (copied, loaded):
        assert other is not t and other.requires_grad
        np.testing.assert_array_equal(other.data, t.data)
    (t * copied * loaded * np.array([1.0, 10.0])).sum().backward()
    for leaf in (t, copied, loaded):
        np.testing.assert_array_equal(leaf.grad.data, [1.0, 40.0])
    with cr.no_grad():
        copied += 1.0
    np.testing.assert_array_equal(t.data, [1.0, 2.0])


def test_deepcopied_graph_keeps_operands_before_their_consumers():
    """A deep-copied node gets copies of its operands, which the sweep reaches after it."""
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    y2, x2 = copy.deepcopy((y, x))  # y first: x2 is copied while copying y's graph
    assert x2 is not x
    y2.sum().backward(retain_graph=True)
    np.testing.assert_array_equal(x2.grad.data, [3.0, 3.0])
    assert x.grad is None
    # x2 reached directly and through y2: its adjoint is whole only if y2 goes first.
    (gx2,) = engine.backprop((y2 * x2).sum(), ONE, [x2])
    np.testing.assert_array_equal(gx2, 6.0 * x2.data)


def test_module_and_its_deepcopy_backprop_together():
    """A loss mixing a module and its deepcopy gives both the analytic gradients."""
    cr.manual_seed(0)
    model = nn.Linear(3, 2)
    clone = copy.deepcopy(model)
    for p, q in zip(model.parameters(), clone.parameters(), strict=True):
        assert p is not q
        np.testing.assert_array_equal(p.data, q.data)
    x = np.arange(12.0).reshape(4, 3) / 10
    loss = (model(x) + clone(x)).sum()
    loss.backward()
    for m in (model, clone):
        np.testing.assert_allclose(m.weight.grad.data, np.tile(x.sum(axis=0), (2, 1)))
        np.testing.assert_allclose(m.bias.grad.data, [4.0, 4.0])


class Tagged(Tensor):
    """A Tensor subclass without __slots__: its instances have a __dict__."""


@pytest.mark.parametrize(
    "roundtrip",
    [copy.deepcopy, lambda t: pickle.loads(pickle.dumps(t))],
    ids=["deepcopy", "pickle"],
)
def test_subclass_attributes_survive_copies(roundtrip):
    """Copying a Tensor subclass keeps its instance attributes, and the copy is a new node."""
    t = Tagged([1.0, 2.0], requires_grad=True)
    t.tag = "weights"
    copied = roundtrip(t)
    assert copied.tag == "weights"
    (t * copied).sum().backward()
    np.testing.assert_array_equal(t.grad.data, [1.0, 2.0])
    np.testing.assert_array_equal(copied.grad.data, [1.0, 2.0])


# --- gradient accumulation ----------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scalar_leaf_accumulates_over_two_backwards(dtype):
    """Two backward passes on separate graphs add up in .grad, keeping the leaf's dtype."""
    x = cr.tensor(dtype(2.0), requires_grad=True)
    (x * x).backward()
    assert x.grad.dtype == dtype and x.grad.item() == 4.0
    (3.0 * x).backward()
    assert x.grad.dtype == dtype and x.grad.item() == 7.0


def test_scalar_leaf_accumulates_into_0d_array_grad():
    """If .grad was turned into a 0-d array by .data, accumulation writes into that array."""
    x = cr.tensor(2.0, requires_grad=True)
    (x * x).backward()
    held = x.grad.data
    (3.0 * x).backward()
    assert x.grad.item() == 7.0 and held[()] == 7.0 and x.grad.data is held


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_array_leaf_accumulates_over_two_backwards(dtype):
    """Array leaves accumulate too, in their own dtype, even with float64 constants."""
    x = cr.tensor(np.array([1.0, 2.0], dtype=dtype), requires_grad=True)
    (x * np.array([3.0, 4.0])).sum().backward()
    (x * x).sum().backward()
    assert x.grad.dtype == dtype
    np.testing.assert_array_equal(x.grad.data, np.array([5.0, 8.0], dtype=dtype))


def test_fan_in_sums_every_use():
    """A leaf used many times gets the sum of all its contributions."""
    x = cr.tensor(1.5, requires_grad=True)
    v = cr.tensor([1.0, -2.0], requires_grad=True)
    total = x * 0.0
    for i in range(1, 51):
        total = total + x * float(i) + (v * x).sum()
    total.backward()
    assert x.grad.item() == pytest.approx(sum(range(1, 51)) + 50 * (1.0 - 2.0))
    np.testing.assert_allclose(v.grad.data, [75.0, 75.0])


def test_leaves_never_share_a_gradient_array():
    """Two leaves fed the same adjoint each get their own array."""
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    assert a.grad.data is not b.grad.data
    assert not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.data[0] = 100.0
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])


def test_gradient_seed_is_not_handed_to_a_leaf():
    """The caller's gradient array is copied, never stored as .grad."""
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    seed = np.array([1.0, 1.0])
    (a + b).backward(gradient=seed)
    for leaf in (a, b):
        assert not np.shares_memory(leaf.grad.data, seed)
    a.grad.data[...] = 9.0
    np.testing.assert_array_equal(seed, [1.0, 1.0])
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])


def test_a_failed_backward_leaves_no_half_summed_adjoint():
    """After backward raises mid-sweep, the next backward through the same leaves is exact."""
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    c = cr.tensor([3.0, 4.0])
    # The sweep goes through (w * w) first, so w holds a pending adjoint when (w * c) fails.
    broken = (w * c).sum() + (w * w).sum()
    with cr.no_grad():
        c += 1.0  # (w * c) now needs a value that changed
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        broken.backward()
    assert w.grad is None
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [2.0, 4.0])


# --- functional gradients ---------------------------------------------------------------


def test_functional_gradients_run_only_rules_that_lead_to_their_inputs():
    """grad skips branches that reach only other leaves, and leaves every .grad alone."""
    tap, log = tapper()
    w = cr.tensor([3.0, 4.0], requires_grad=True)  # a leaf that is not an input

    def f(x):
        return tap(x * x, "x").sum() + tap(cr.exp(w), "w only").sum()

    np.testing.assert_array_equal(cr.grad(f)([1.0, 2.0]), [2.0, 4.0])
    assert log == ["x"] and w.grad is None
    # The same through the engine, with a leaf of the caller's as the input.
    log.clear()
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (gx,) = engine.backprop(f(x), ONE, [x])
    np.testing.assert_array_equal(gx, [2.0, 4.0])
    assert log == ["x"] and x.grad is None and w.grad is None


def test_functional_gradients_with_several_inputs():
    """Inputs as the only leaves, several inputs, and an outside leaf: every gradient exact."""
    tap, log = tapper()
    x = np.array([1.0, 2.0])
    g = cr.grad(lambda x: (tap(cr.sin(x), "sin") * x).sum())(x)
    np.testing.assert_allclose(g, np.cos(x) * x + np.sin(x))
    assert log == ["sin"]
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    gx, gv = cr.grad(lambda x, v: (x * v * w).sum() + (w * w).sum(), argnums=(0, 1))(x, [5.0, 6.0])
    np.testing.assert_array_equal(gx, [15.0, 24.0])
    np.testing.assert_array_equal(gv, [3.0, 8.0])
    assert w.grad is None


def test_deepcopy_of_a_deep_graph_needs_no_recursion():
    import copy

    x = cr.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(20_000):  # deeper than Python's recursion limit
        y = y * 1.0001
    copied_y, copied_x = copy.deepcopy((y, x))
    copied_y.backward()
    assert copied_x.grad.item() == pytest.approx(1.0001**20_000)
    assert x.grad is None  # the original graph is untouched
