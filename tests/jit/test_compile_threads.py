"""Acceptance tests for the dispatcher-based compiler (issue #10, part 4): traces are local.

A trace is a mode of the dispatcher scoped to its context, never a process-wide state:

- while a trace is paused midway in one thread, eager code in another thread gives
  exactly its usual results (random draws, ``.item()``, ``bool()``, in-place updates,
  optimizer steps, ``cr.grad``, ``np.asarray``), and none of it disturbs the trace;
- nothing in the library is swapped or patched while tracing: the attributes of
  ``Tensor``, ``engine``, ``api``, ``Optimizer``, ``Module`` and every primitive's
  ``forward`` are the very same objects before and during a trace;
- grad mode (``no_grad``) is context-local as well.

Threads are paused on ``threading.Event`` and joined with timeouts, so a deadlock fails
a test instead of hanging the suite.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import numpy as np
import pytest

import chainrule as cr
import chainrule.functions
import chainrule.tensor
from chainrule import api, nn, optim
from chainrule.core import engine
from chainrule.core.primitive import PRIMITIVES
from chainrule.examples import seed_function
from chainrule.nn.module import Module
from chainrule.optim.optimizer import Optimizer
from chainrule.random import default_generator

TIMEOUT = 20.0
TOL = {"rtol": 1e-12, "atol": 1e-12}

A = np.array([1.0, 2.0, 0.75, 3.0])
B = np.array([-1.0, 0.25, 2.0, -3.0])
C = np.array([0.5, -2.0, -0.25, 1.5])


class Pause:
    """A callback that blocks the thread calling it until ``release`` is set."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> None:
        self.reached.set()
        if not self.release.wait(TIMEOUT):
            raise TimeoutError("the paused trace was never released")


@contextmanager
def paused(pause, fn, *args):
    """Run ``fn(*args)`` in a thread; the body runs while it waits in ``pause``.

    Yields a dict that holds the call's ``result`` (or ``error``) once the block ends.
    """
    box: dict = {}

    def target():
        try:
            box["result"] = fn(*args)
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            box["error"] = error
        finally:
            pause.reached.set()  # never leave the test waiting for a pause that will not come

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    try:
        assert pause.reached.wait(TIMEOUT), "the traced call never reached its pause"
        if "error" in box:
            raise box["error"]
        assert thread.is_alive(), "the traced call did not pause"
        yield box
    finally:
        pause.release.set()
        thread.join(TIMEOUT)
    assert not thread.is_alive(), "the traced call did not finish after release (deadlock?)"
    if "error" in box:
        raise box["error"]


def assert_close(actual, expected):
    assert actual[0] == pytest.approx(expected[0], rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(actual[1], expected[1], **TOL)


def paths_loss(pause):
    """A loss whose path depends on x, pausing midway through its forward pass."""

    def loss(x):
        h = x * x
        pause()
        return cr.where(x > 0.5, h, -x).sum() + ((x < 0) * h * 3.0).sum() + cr.tanh(h).sum()

    return loss


# --- eager code in another thread while a trace is paused -----------------------------------


def random_draws():
    cr.manual_seed(11)
    drawn = default_generator().standard_normal(5)
    layer = nn.Linear(3, 4)
    dropout = nn.Dropout(0.5)  # training mode: draws a mask
    masked = dropout(cr.tensor(np.ones((4, 4))))
    return [
        drawn,
        layer.weight.detach().numpy().copy(),
        layer.bias.detach().numpy().copy(),
        masked.detach().numpy().copy(),
    ]


def items_and_floats():
    t = cr.tensor([1.5, 2.5], requires_grad=True)
    s = (t * t).sum()
    values = [s.item(), float(s), int(cr.tensor(3.0)), (t[1] * 2.0).item(), (t * 2.0).tolist()]
    assert values[:4] == [8.5, 8.5, 3, 5.0]
    return values


def bool_in_if():
    t = cr.tensor([1.0, -2.0])
    taken = []
    if t.sum() < 0:
        taken.append("negative sum")
    if t[0] > 0:
        taken.append("positive first")
    if not bool(t[1] > 0):
        taken.append("negative second")
    if (t * t).sum() > 100.0:
        taken.append("large")
    assert taken == ["negative sum", "positive first", "negative second"]
    return taken


def in_place_updates():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.no_grad():
        w += 1
        w *= 2.0
        w[0] = 10.0
    t = cr.tensor([1.0, 2.0, 3.0])
    t += 1
    t -= cr.tensor([0.5, 0.5, 0.5])
    values = [w.detach().numpy().copy(), t.detach().numpy().copy()]
    np.testing.assert_array_equal(values[0], [10.0, 6.0])
    np.testing.assert_array_equal(values[1], [1.5, 2.5, 3.5])
    return values


def sgd_training_steps():
    cr.manual_seed(3)
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = np.linspace(-1.0, 1.0, 12).reshape(4, 3)
    y = np.array([[1.0, -1.0], [0.5, 0.0], [-0.5, 2.0], [0.0, 1.0]])
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return (
        losses
        + [p.detach().numpy().copy() for p in model.parameters()]
        + [p.grad.numpy().copy() for p in model.parameters()]
    )


def gradients():
    w = cr.tensor([0.5, -1.0, 2.0], requires_grad=True)
    (cr.sin(w) * w).sum().backward()
    return [
        cr.grad(lambda x: (x**3).sum())(np.array([1.0, 2.0])),
        cr.value_and_grad(seed_function, argnums=(0, 1))(2.0, 3.0),
        w.grad.numpy().copy(),
    ]


def asarray_of_constants():
    t = cr.tensor([1.0, 2.0])
    return [np.asarray(t).copy(), np.asarray(t * 3.0).copy(), np.array(cr.tensor(5.0))]


WORKLOADS = [
    random_draws,
    items_and_floats,
    bool_in_if,
    in_place_updates,
    sgd_training_steps,
    gradients,
    asarray_of_constants,
]


def run_all():
    return [workload() for workload in WORKLOADS]


@pytest.mark.parametrize("workload", [*WORKLOADS, run_all], ids=lambda w: w.__name__)
def test_eager_code_in_another_thread_is_exact_while_a_trace_is_paused(workload):
    reference = workload()  # before any trace exists
    pause = Pause()
    loss = paths_loss(pause)
    compiled = cr.compile(cr.value_and_grad(loss))
    with paused(pause, compiled, A) as box:
        during = workload()
    np.testing.assert_equal(during, reference)
    eager = cr.value_and_grad(paths_loss(lambda: None))
    # The paused trace was not disturbed: its own result, and two later calls, equal eager.
    assert_close(box["result"], eager(A))
    assert_close(compiled(B), eager(B))
    assert_close(compiled(C), eager(C))
    np.testing.assert_equal(workload(), reference)  # and nothing lingers after the trace


def test_compiled_training_step_traced_in_a_thread_while_eager_steps_run():
    """Twin models: one compiled step traced (and paused) in a thread, eager steps meanwhile."""
    reference = sgd_training_steps()
    pause = Pause()
    cr.manual_seed(8)
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.05)
    cr.manual_seed(8)
    twin = nn.Linear(3, 1)
    twin_opt = optim.SGD(twin.parameters(), lr=0.05)

    def make_step(model, opt, pause):
        def step(x, y):
            opt.zero_grad()
            out = model(x)
            pause()
            loss = cr.where(out > y, (out - y) ** 2, (y - out) * 0.5).mean()
            loss.backward()
            opt.step()
            return loss

        return step

    compiled = cr.compile(make_step(model, opt, pause))
    eager_step = make_step(twin, twin_opt, lambda: None)
    rng = np.random.default_rng(2)
    batches = [(rng.standard_normal((5, 3)), rng.standard_normal((5, 1))) for _ in range(3)]
    with paused(pause, compiled, *batches[0]) as box:
        during = sgd_training_steps()
    np.testing.assert_equal(during, reference)
    losses = [box["result"].item()] + [compiled(x, y).item() for x, y in batches[1:]]
    expected = [eager_step(x, y).item() for x, y in batches]
    assert losses == pytest.approx(expected, rel=1e-12, abs=1e-12)
    for p, q in zip(model.parameters(), twin.parameters(), strict=True):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), **TOL)


# --- nothing is swapped or patched while tracing ---------------------------------------------

TARGETS = {
    "Tensor": lambda: dict(vars(cr.Tensor)),
    "engine": lambda: dict(vars(engine)),
    "api": lambda: dict(vars(api)),
    "Optimizer": lambda: dict(vars(Optimizer)),
    "Module": lambda: dict(vars(Module)),
    "PRIMITIVES.forward": lambda: {name: p.forward for name, p in PRIMITIVES.items()},
    "functions": lambda: dict(vars(chainrule.functions)),
    "tensor-module": lambda: dict(vars(chainrule.tensor)),
    "SGD": lambda: dict(vars(optim.SGD)),
    "Adam": lambda: dict(vars(optim.Adam)),
}


def changed(target, before):
    """Names whose object is not the same (``is``) as before, or that came or went."""
    after = TARGETS[target]()
    missing = object()
    names = set(before) | set(after)
    return sorted(n for n in names if after.get(n, missing) is not before.get(n, missing))


def probed_step(probe):
    """A training step (Linear, SGD and Adam, backward) calling ``probe(phase)`` as it goes."""
    cr.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    sgd = optim.SGD(model[0].parameters(), lr=0.1)
    adam = optim.Adam(model[2].parameters(), lr=0.01)

    def step(x, y):
        probe("start")
        sgd.zero_grad()
        adam.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        probe("forward")
        loss.backward()
        probe("backward")
        sgd.step()
        adam.step()
        probe("step")
        return loss

    return step


X = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]])
Y = np.array([[1.0], [-1.0]])


@pytest.mark.parametrize("target", list(TARGETS))
def test_nothing_is_swapped_inside_a_trace(target):
    before = TARGETS[target]()
    seen = {}

    def probe(phase):
        seen[phase] = changed(target, before)

    cr.compile(probed_step(probe))(X, Y)
    assert set(seen) == {"start", "forward", "backward", "step"}
    assert seen == dict.fromkeys(seen, []), f"{target}: attributes swapped while tracing"

    seen.clear()

    def loss(x):
        h = cr.tanh(x) * x
        probe("value_and_grad")
        return h.sum()

    cr.compile(cr.value_and_grad(loss))(np.array([0.5, -1.0]))
    assert seen == {"value_and_grad": []}, f"{target}: attributes swapped while tracing"
    assert changed(target, before) == []


@pytest.mark.parametrize("target", list(TARGETS))
def test_nothing_is_swapped_while_a_trace_is_paused_in_another_thread(target):
    before = TARGETS[target]()
    pause = Pause()

    def probe(phase):
        if phase == "backward":
            pause()

    with paused(pause, cr.compile(probed_step(probe)), X, Y):
        during = changed(target, before)
    assert during == [], f"{target}: attributes swapped while tracing"
    assert changed(target, before) == []


# --- grad mode is context-local ----------------------------------------------------------------


def test_no_grad_in_one_thread_does_not_affect_recording_in_another():
    entered, main_done, main_in_no_grad, worker_done = (threading.Event() for _ in range(4))
    seen: dict = {}

    def worker():
        try:
            with cr.no_grad():
                seen["worker_enabled"] = cr.is_grad_enabled()
                entered.set()
                main_done.wait(TIMEOUT)
                w = cr.tensor(1.0, requires_grad=True)
                seen["worker_records"] = (w * w).requires_grad
            # Back out of no_grad while the main thread is inside its own no_grad.
            main_in_no_grad.wait(TIMEOUT)
            seen["worker_enabled_after"] = cr.is_grad_enabled()
            v = cr.tensor(3.0, requires_grad=True)
            (v * v).backward()
            seen["worker_grad"] = v.grad.item()
        finally:
            entered.set()
            worker_done.set()

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    try:
        assert entered.wait(TIMEOUT)
        # The worker is inside no_grad; this thread still records.
        assert cr.is_grad_enabled()
        w = cr.tensor(2.0, requires_grad=True)
        y = w * w
        assert y.requires_grad
        y.backward()
        assert w.grad.item() == 4.0
        assert cr.grad(lambda x: x**3)(2.0) == 12.0
        compiled = cr.compile(cr.value_and_grad(lambda x: (x * x).sum()))
        value, gradient = compiled(np.array([1.0, 2.0]))
        assert value == 5.0
        np.testing.assert_array_equal(gradient, [2.0, 4.0])
        main_done.set()
        with cr.no_grad():
            main_in_no_grad.set()
            assert worker_done.wait(TIMEOUT)
            assert not cr.is_grad_enabled()
    finally:
        main_done.set()
        main_in_no_grad.set()
        thread.join(TIMEOUT)
    assert not thread.is_alive()
    assert seen == {
        "worker_enabled": False,
        "worker_records": False,
        "worker_enabled_after": True,
        "worker_grad": 6.0,
    }
    assert cr.is_grad_enabled()


def test_no_grad_inside_a_paused_trace_does_not_leak_into_another_thread():
    pause = Pause()

    def loss(x):
        with cr.no_grad():
            scale = x * 2.0  # a constant factor for the gradient, but traced (x varies)
            pause()
        return cr.where(x > 0, x * scale, -x).sum()

    compiled = cr.compile(cr.value_and_grad(loss))
    with paused(pause, compiled, A) as box:
        assert cr.is_grad_enabled()
        w = cr.tensor([1.0, -2.0], requires_grad=True)
        (w * w).sum().backward()
        np.testing.assert_array_equal(w.grad.numpy(), [2.0, -4.0])
    eager = cr.value_and_grad(loss)  # the pause is released: it no longer blocks
    assert_close(box["result"], eager(A))
    assert_close(compiled(B), eager(B))
    assert_close(compiled(C), eager(C))


def test_a_transform_paused_in_one_thread_does_not_nest_transforms_in_another():
    """No compile at all: ``cr.grad`` running (paused) in a thread is not an outer transform
    of ``cr.grad`` called in another thread, whose results stay plain floats and arrays."""
    pause = Pause()

    def loss(x):
        pause()
        return (x * x).sum()

    with paused(pause, cr.value_and_grad(loss), A) as box:
        value, gradient = cr.value_and_grad(lambda x: (x**3).sum())(np.array([1.0, 2.0]))
        assert type(value) is float
        assert type(gradient) is np.ndarray
        np.testing.assert_array_equal(gradient, [3.0, 12.0])
        assert type(cr.grad(lambda x: x * x)(3.0)) is float
    assert box["result"][0] == pytest.approx(float((A * A).sum()))
    assert type(box["result"][1]) is np.ndarray
