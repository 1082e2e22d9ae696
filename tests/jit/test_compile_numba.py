"""chainrule.compile(backend="numba"): the same results as eager, lowered where it can be."""

import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.core.primitive import PRIMITIVES
from chainrule.errors import MissingExtraError
from chainrule.examples import seed_function
from chainrule.jit import native

pytest.importorskip("numba")


def relative_error(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def test_seed_gradient_equals_eager_in_float64():
    def gradient(x, z):
        seed_function(x, z).backward()
        return x.grad, z.grad

    fast = cr.compile(gradient, backend="numba")
    for x, z in ((2.0, 3.0), (1.5, 0.5), (2.0, 3.0)):
        leaves = [cr.tensor(x, requires_grad=True), cr.tensor(z, requires_grad=True)]
        got = fast(*leaves)
        expected = gradient(cr.tensor(x, requires_grad=True), cr.tensor(z, requires_grad=True))
        for g, e in zip(got, expected, strict=True):
            assert g.dtype == np.float64
            assert relative_error(g.data, e.data) <= 1e-12
    assert "segment0" in fast.source  # the arithmetic ran natively, not as NumPy


def training(sizes, activation, output, loss, optimizer, dtype):
    cr.manual_seed(0)
    model = nn.MLP(sizes, activation, output_activation=output, dtype=dtype)
    opt = optimizer(model.parameters())
    loss_function = loss()

    def step(x, y):
        opt.zero_grad()
        value = loss_function(model(x), y)
        value.backward()
        opt.step()
        return value

    return model, step


@pytest.mark.parametrize(
    ("dtype", "tolerance"), [(np.float64, 1e-12), (np.float32, 1e-5)], ids=["f64", "f32"]
)
def test_xor_network_steps_equal_eager(dtype, tolerance):
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype)
    y = np.array([[0], [1], [1], [0]], dtype=dtype)
    setup = ((2, 2, 1), "sigmoid", "sigmoid", nn.MSELoss, lambda p: optim.SGD(p, lr=0.5), dtype)
    eager_model, eager_step = training(*setup)
    fast_model, step = training(*setup)
    fast = cr.compile(step, backend="numba")
    for _ in range(4):
        got, expected = fast(cr.Tensor(x), y), eager_step(cr.Tensor(x), y)
        assert got.dtype == dtype and relative_error(got.data, expected.data) <= tolerance
    for p, q in zip(fast_model.parameters(), eager_model.parameters(), strict=True):
        assert p.dtype == dtype and relative_error(p.data, q.data) <= tolerance
        assert relative_error(p.grad.data, q.grad.data) <= tolerance


def test_digits_mlp_adam_steps_equal_eager_in_float32():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 64)).astype(np.float32)
    y = rng.integers(0, 10, 32)
    setup = (
        (64, 32, 10),
        "relu",
        None,
        nn.CrossEntropyLoss,
        lambda p: optim.Adam(p, lr=1e-2),
        np.float32,
    )
    eager_model, eager_step = training(*setup)
    fast_model, step = training(*setup)
    fast = cr.compile(step, backend="numba")
    for _ in range(3):
        got, expected = fast(cr.Tensor(x), y), eager_step(cr.Tensor(x), y)
        assert relative_error(got.data, expected.data) <= 1e-5
    for p, q in zip(fast_model.parameters(), eager_model.parameters(), strict=True):
        assert p.dtype == np.float32 and relative_error(p.data, q.data) <= 1e-5
    assert "cross_entropy_" in fast.source and "linear_vjp1_" in fast.source


def test_out_of_bounds_target_is_a_target_error_natively():
    model, step = training(
        (4, 3), "relu", None, nn.CrossEntropyLoss, lambda p: optim.SGD(p, lr=0.1), np.float32
    )
    fast = cr.compile(step, backend="numba")
    x = np.ones((2, 4), np.float32)
    fast(cr.Tensor(x), np.array([0, 2]))
    with pytest.raises(cr.errors.TargetError, match="cross_entropy"):
        fast(cr.Tensor(x), np.array([0, 3]))


def unary_elementwise():
    """Every one-argument elementwise entry with a domain and a partial: its forward and
    VJP are lowered from the registry (or fall back to NumPy, which must agree too).
    Every third, so that numba's compile time stays a few seconds."""
    return sorted(
        name
        for name, prim in PRIMITIVES.items()
        if prim.kind == "elementwise"
        and prim.domains is not None
        and len(prim.domains) == 1
        and prim.partials is not None
        and prim.partials[0] is not None
    )[::3]


def test_registry_elementwise_operations_equal_eager():
    """One program applying each unary elementwise entry, value and gradient (one compile)."""
    names = unary_elementwise()
    rng = np.random.default_rng(1)
    inputs = [np.asarray(PRIMITIVES[n].domains[0](rng, (3,)), dtype=np.float64) for n in names]

    def total(*xs):
        pairs = enumerate(zip(names, xs, strict=True))
        return sum(getattr(cr, n)(x).sum() * (i + 1) for i, (n, x) in pairs)

    argnums = tuple(range(len(names)))
    fast = cr.compile(cr.value_and_grad(total, argnums=argnums), backend="numba")
    value, grads = fast(*inputs)
    expected_value, expected_grads = cr.value_and_grad(total, argnums=argnums)(*inputs)
    assert relative_error(value, expected_value) <= 1e-12
    for name, g, e in zip(names, grads, expected_grads, strict=True):
        assert relative_error(g, e) <= 1e-12, name
    lowered = [n for n in names if f" = {n}_" in fast.source]
    assert len(lowered) >= len(names) // 2, lowered


def test_float32_binary_operations_with_python_numbers_stay_float32():
    def f(x, y):
        return ((x * 0.5 - y / 3.0 + 2.0) * x).mean()

    fast = cr.compile(cr.value_and_grad(f, argnums=(0, 1)), backend="numba")
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    y = np.linspace(1, 2, 3, dtype=np.float32)
    value, (gx, gy) = fast(x, y)
    ev, (ex, ey) = cr.value_and_grad(f, argnums=(0, 1))(x, y)
    assert type(value) is type(ev) and gx.dtype == gy.dtype == np.float32
    assert relative_error(value, ev) <= 1e-5 and relative_error(gy, ey) <= 1e-5
    assert relative_error(gx, ex) <= 1e-5


def test_new_shapes_and_requires_grad_are_traced_again_as_with_numpy():
    fast = cr.compile(cr.grad(lambda w: (w * w).sum()), backend="numba")
    a = fast(np.ones(3))
    b = fast(np.ones((2, 2)))
    assert a.shape == (3,) and b.shape == (2, 2) and len(fast.programs) == 2


def test_every_lowering_names_a_registered_primitive_and_its_arguments():
    for name, lowering in native.LOWERINGS.items():
        prim = PRIMITIVES[name]
        for argnum in lowering.vjps:
            assert prim.vjp(argnum) is not None, (name, argnum)


def test_unknown_backend_and_missing_numba_are_clear_errors(monkeypatch):
    with pytest.raises(ValueError, match="backend must be one of"):
        cr.compile(lambda x: x, backend="cuda")
    monkeypatch.setitem(sys.modules, "numba", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'chainrule\[jit\]'"):
        cr.compile(lambda x: x, backend="numba")


def test_an_infinite_cotangent_does_not_flow_where_relu_is_flat():
    weights = np.array([np.inf, 1.0])

    def f(x):
        return (cr.relu(x) * weights).sum()

    fast = cr.compile(cr.grad(f), backend="numba")
    x = np.array([-1.0, 2.0])
    with np.errstate(invalid="ignore"):  # the forward's 0 * inf
        got, expected = fast(x), cr.grad(f)(x)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(got, [0.0, 1.0])


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_training_fit_with_a_compiled_step_gives_eager_rows(backend):
    from chainrule import training

    rng = np.random.default_rng(0)
    features, labels = rng.standard_normal((40, 3)), rng.integers(0, 3, 40)
    spec = {
        "sizes": [3, 5, 3],
        "activation": "relu",
        "loss": "cross-entropy",
        "dtype": "float64",
        "classes": ["a", "b", "c"],
    }
    rows = []
    for compile_backend in (None, backend):
        nn.manual_seed(0)
        model = training.build_model(spec)
        optimizer = training.make_optimizer("adam", model, 0.05, 0.0, 0.0)
        train = (features, labels)
        found = training.fit(
            model, spec, train, train, optimizer, 2, 20, 0, compile_backend=compile_backend
        )
        rows.append([(r["loss"], r["train_loss"], r["val_accuracy"]) for r in found])
    np.testing.assert_allclose(rows[1], rows[0], rtol=1e-12)


def test_a_strided_view_of_the_traced_shape_runs_natively_too():
    rng = np.random.default_rng(2)
    weight, bias = rng.standard_normal((3, 4)), rng.standard_normal(3)

    def loss(x):
        return cr.relu(cr.nn.functional.linear(x, weight, bias)).sum()

    fast = cr.compile(cr.value_and_grad(loss), backend="numba")
    wide = rng.standard_normal((5, 8))
    fast(np.ascontiguousarray(wide[:, ::2]))
    got, expected = fast(wide[:, ::2]), cr.value_and_grad(loss)(wide[:, ::2])
    assert relative_error(got[0], expected[0]) <= 1e-12
    assert relative_error(got[1], expected[1]) <= 1e-12
    assert "linear_vjp0_" in fast.source and "relu_vjp0_" in fast.source


def test_train_command_with_compile_numba_reports_the_eager_results():
    import json

    from click.testing import CliRunner

    from chainrule.cli import main

    def train(*extra):
        args = ["train", "--data", "moons", "--epochs", "2", "--format", "json", *extra]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    native, eager = train("--compile", "numba"), train()
    assert native["config"] == eager["config"]
    assert native["confusion_matrix"] == eager["confusion_matrix"]
    for got, expected in zip(native["epochs"], eager["epochs"], strict=True):
        for key in ("loss", "train_loss", "val_loss", "val_accuracy"):
            assert relative_error(got[key], expected[key]) <= 1e-5, key  # float32 training
    refused = CliRunner().invoke(main, ["train", "--compile", "numba", "--workers", "2"])
    assert refused.exit_code == 2 and "--compile" in refused.output
