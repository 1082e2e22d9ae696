"""chainrule.compile(backend="numba"): fused steps (optimizer updates lowered into the native
segment) and the cached fast path give eager's results, and guards still fire."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.examples import seed_function

pytest.importorskip("numba")


def relative_error(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def digits_like(dtype, rows=16):
    rng = np.random.default_rng(1)
    return rng.standard_normal((rows, 8)).astype(dtype), rng.integers(0, 4, rows)


def make(optimizer, dtype):
    cr.manual_seed(0)
    model = nn.MLP((8, 6, 4), "relu", dtype=dtype)
    opt = optimizer(model.parameters())
    loss_function = nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        value = loss_function(model(x), y)
        value.backward()
        opt.step()
        return value

    return model, opt, step


OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1),
    "momentum": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-2),
    "nesterov": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, maximize=True),
    "dampening": lambda p: optim.SGD(p, lr=0.05, momentum=0.5, dampening=0.3),
    "adam": lambda p: optim.Adam(p, lr=1e-2),
    "adam-l2-amsgrad": lambda p: optim.Adam(p, lr=1e-2, weight_decay=1e-2, amsgrad=True),
    "adamw": lambda p: optim.AdamW(p, lr=1e-2),
}


def assert_same(fast_model, eager_model, fast_opt, eager_opt, tolerance):
    for p, q in zip(fast_model.parameters(), eager_model.parameters(), strict=True):
        assert p.dtype == q.dtype
        assert relative_error(p.data, q.data) <= tolerance
        assert relative_error(p.grad.data, q.grad.data) <= tolerance
        fast_state, eager_state = fast_opt.state[p], eager_opt.state[q]
        assert fast_state.keys() == eager_state.keys()
        for key, value in eager_state.items():
            if isinstance(value, np.ndarray):
                assert relative_error(fast_state[key], value) <= tolerance
            else:
                assert fast_state[key] == value  # Adam's step count


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize(
    ("dtype", "tolerance"), [(np.float64, 1e-12), (np.float32, 1e-5)], ids=["f64", "f32"]
)
def test_lowered_optimizer_steps_equal_eager_over_several_calls(name, dtype, tolerance):
    x, y = digits_like(dtype)
    eager_model, eager_opt, eager_step = make(OPTIMIZERS[name], dtype)
    fast_model, fast_opt, step = make(OPTIMIZERS[name], dtype)
    fast = cr.compile(step, backend="numba")
    for _ in range(4):
        got, expected = fast(cr.Tensor(x), y), eager_step(cr.Tensor(x), y)
        assert got.dtype == dtype and relative_error(got.data, expected.data) <= tolerance
    assert "_update_" in fast.source  # the update ran natively, inside the segment
    assert fast.source.count("= segment") == 1  # one native call for the whole step
    assert_same(fast_model, eager_model, fast_opt, eager_opt, tolerance)


@pytest.mark.parametrize("name", ["momentum", "adam"])
def test_a_learning_rate_schedule_between_calls_is_respected(name):
    x, y = digits_like(np.float64)
    runs = []
    for compiled in (False, True):
        model, opt, step = make(OPTIMIZERS[name], np.float64)
        scheduler = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        run = cr.compile(step, backend="numba") if compiled else step
        for _ in range(4):
            run(cr.Tensor(x), y)
            scheduler.step()
        runs.append((model, opt))
    (eager_model, eager_opt), (fast_model, fast_opt) = runs
    initial = 0.1 if name == "momentum" else 1e-2
    assert fast_opt.param_groups[0]["lr"] == eager_opt.param_groups[0]["lr"]
    assert eager_opt.param_groups[0]["lr"] == pytest.approx(initial * 0.5**4)
    assert_same(fast_model, eager_model, fast_opt, eager_opt, 1e-12)


def test_eager_and_compiled_steps_mix_and_reset_state_is_seen():
    x, y = digits_like(np.float64)
    eager_model, eager_opt, eager_step = make(OPTIMIZERS["adam"], np.float64)
    fast_model, fast_opt, step = make(OPTIMIZERS["adam"], np.float64)
    fast = cr.compile(step, backend="numba")
    fast(cr.Tensor(x), y)
    step(cr.Tensor(x), y)  # an eager step between compiled ones
    fast_opt.state = {}  # as load_state_dict of a fresh optimizer leaves it
    fast(cr.Tensor(x), y)
    for _ in range(2):
        eager_step(cr.Tensor(x), y)
    eager_opt.state = {}
    eager_step(cr.Tensor(x), y)
    assert_same(fast_model, eager_model, fast_opt, eager_opt, 1e-12)


def test_swapping_a_parameter_of_the_optimizer_retraces():
    x, y = digits_like(np.float64)
    model, opt, step = make(OPTIMIZERS["sgd"], np.float64)
    fast = cr.compile(step, backend="numba")
    fast(cr.Tensor(x), y)
    first = fast.programs[0]
    extra = nn.Parameter(np.ones(3))
    opt.add_param_group({"params": [extra]})
    fast(cr.Tensor(x), y)
    assert fast.programs[0] is not first  # the optimizer's parameters changed: traced again
    before = [p.data.copy() for p in model.parameters()]
    fast(cr.Tensor(x), y)
    assert all(
        not np.array_equal(p.data, b) for p, b in zip(model.parameters(), before, strict=True)
    )
    assert np.array_equal(extra.data, np.ones(3))  # no gradient: not updated


def test_guards_fire_on_the_fast_path():
    x, y = digits_like(np.float64)
    model, opt, step = make(OPTIMIZERS["sgd"], np.float64)
    fast = cr.compile(step, backend="numba")
    fast(cr.Tensor(x), y)
    program = fast.programs[0]
    fast(cr.Tensor(x), y)
    assert fast.programs == [program] and fast.programs[0] is program  # served, not traced
    changes = [
        lambda: model.eval(),
        lambda: model.train(),
        lambda: setattr(next(model.parameters()), "requires_grad", False),
        lambda: setattr(next(model.parameters()), "requires_grad", True),
    ]
    for change in changes:
        change()
        fast(cr.Tensor(x), y)
        assert fast.programs[0] is not program  # the guard failed: traced again
        program = fast.programs[0]
    fast(cr.Tensor(x[:5]), y[:5])  # a new shape
    fast(cr.Tensor(x.astype(np.float32)), y)  # a new dtype
    assert len(fast.programs) == 3


def test_the_fast_path_serves_new_values_of_the_same_signature():
    gradient = cr.compile(cr.grad(seed_function, argnums=(0, 1)), backend="numba")
    eager = cr.grad(seed_function, argnums=(0, 1))
    for x, z in ((2.0, 3.0), (1.5, 0.5), (np.float64(2.5), 1.0), (np.array(3.0), 2.0)):
        got, expected = gradient(x, z), eager(x, z)
        assert [type(g) for g in got] == [type(e) for e in expected]
        assert relative_error(got, expected) <= 1e-12
    assert len(gradient.programs) == 1
    gradient(2.0, 3)  # an int is another signature
    assert len(gradient.programs) == 2
    with cr.no_grad():
        assert relative_error(gradient(2.0, 3.0), eager(2.0, 3.0)) <= 1e-12


def test_aliased_arguments_take_their_own_program():
    f = cr.compile(lambda a, b: (a * b).sum(), backend="numba")
    x, y = np.arange(3.0), np.arange(3.0) + 1
    assert f(x, y) == (x * y).sum()
    assert f(x, x) == (x * x).sum()
    assert len(f.programs) == 2
    assert f(y, x) == (x * y).sum()


def test_numbers_go_straight_to_native_code_in_float32_too():
    gradient = cr.compile(cr.grad(seed_function, argnums=(0, 1)), backend="numba")
    cr.set_default_dtype(np.float32)
    try:
        eager = cr.grad(seed_function, argnums=(0, 1))
        for x, z in ((2.0, 3.0), (1.25, 0.75)):
            got, expected = gradient(x, z), eager(x, z)
            assert relative_error(got, expected) <= 1e-6  # float32 arithmetic, as eager
            assert relative_error(got, eager(np.float64(x), np.float64(z))) > 1e-12
        assert gradient.programs[-1].numbers == frozenset({0, 1})
    finally:
        cr.set_default_dtype(np.float64)
    assert relative_error(gradient(2.0, 3.0), eager(2.0, 3.0)) <= 1e-12  # float64 again
    wrapper = gradient.source.split("def segment")[0]
    assert wrapper.count("segment") == 1  # every statement native (the partials too): one call
    assert "return segment" in wrapper  # and its numbers handed out as they are


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_python_arguments_between_arrays_keep_the_fast_path_aligned(backend):
    def f(a, power, b, c):
        return (a**power * b + c).sum()

    fast = cr.compile(f, backend=backend)
    x, y = np.arange(3.0), np.arange(3.0) + 1
    for args in ((x, 2, y, 1.5), (y, 2, x, 2.5), (x, 2, x, 0.5), (x, 2, y, 1.5), (y, 2, y, 1.0)):
        got = fast(*args)
        assert got == f(*args)
    assert len(fast.programs) == 2  # b aliasing a, or not
