"""Devices: tensors, modules, optimizers and the train command across array libraries.

The NumPy backend is the "cpu" device. Without a GPU, another device is exercised with
array-api-strict arrays (the strictest library: no NumPy-only call gets through) and, for
"cuda", by the clear errors given when CuPy is missing. With ``CHAINRULE_TEST_BACKEND=cupy``
on a machine with a GPU (benchmarks/gpu_check.sh) the CUDA tests run for real.
"""

from __future__ import annotations

import importlib.util
import json
import os

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn, optim
from chainrule.errors import DeviceError, MissingExtraError

xs = pytest.importorskip("array_api_strict")

HAS_CUPY = importlib.util.find_spec("cupy") is not None
ON_GPU = os.environ.get("CHAINRULE_TEST_BACKEND") == "cupy"


def strict(values):
    """``values`` as an array_api_strict array."""
    return xs.asarray(np.asarray(values))


def host(values):
    """An array of any library as a NumPy array."""
    return np.asarray(np.from_dlpack(values)) if not isinstance(values, np.ndarray) else values


# --- tensors ----------------------------------------------------------------------------


def test_a_numpy_tensor_is_on_the_cpu_and_says_so():
    t = cr.tensor([1.0, 2.0])
    assert t.device == "cpu"
    assert str(t.device) == "cpu"
    assert repr(t.device) == "device('cpu')"
    assert "device" not in repr(t)  # the default device is not shown


def test_to_cpu_of_a_cpu_tensor_is_the_tensor_itself():
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    assert t.to("cpu") is t
    assert t.cpu() is t
    assert cr.tensor([3.0], device="cpu").device == "cpu"


def test_a_strict_tensor_has_the_libraries_device_and_shows_it():
    t = cr.tensor(strict([1.0, 2.0]))
    assert t.device != "cpu"
    assert t.device.platform == "array_api_strict"
    assert "device=" in repr(t)


def test_moving_to_the_cpu_copies_to_numpy_on_the_graph():
    x = cr.tensor(strict([1.0, 2.0, 3.0]), requires_grad=True)
    y = x.cpu()
    assert isinstance(y._data, np.ndarray)
    assert y.requires_grad and y.grad_fn is not None
    np.testing.assert_array_equal(y.detach().numpy(), [1.0, 2.0, 3.0])


def test_gradients_flow_back_from_the_cpu_to_another_library():
    x = cr.tensor(strict([1.0, 2.0, 3.0]), requires_grad=True)
    (x.cpu() * np.array([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.device == x.device
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 10.0, 100.0])
    second = cr.grad(lambda v: (v.cpu() ** 3).sum())(strict([1.0, 2.0]))
    np.testing.assert_array_equal(np.from_dlpack(second), [3.0, 12.0])


@pytest.mark.skipif(not ON_GPU, reason="CHAINRULE_TEST_BACKEND=cupy runs the GPU tests")
def test_gradients_flow_back_through_to_device():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.to("cuda")
    assert y.device == "cuda:0"
    (y * y).sum().cpu().backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0, 6.0])


@pytest.mark.parametrize("name", ["tpu", "cuda:x", "cpu:0", "", "gpu"])
def test_unknown_devices_are_refused(name):
    with pytest.raises(DeviceError, match="unknown device"):
        cr.tensor([1.0]).to(name)
    with pytest.raises(DeviceError):
        cr.tensor([1.0], device=name)


@pytest.mark.skipif(HAS_CUPY, reason="CuPy is installed")
def test_cuda_without_cupy_names_the_gpu_extra():
    with pytest.raises(MissingExtraError, match=r"chainrule\[gpu\]"):
        cr.tensor([1.0]).to("cuda")
    with pytest.raises(MissingExtraError, match=r"chainrule\[gpu\]"):
        cr.tensor([1.0], device="cuda")
    with pytest.raises(MissingExtraError, match=r"chainrule\[gpu\]"):
        nn.Linear(2, 1).to("cuda")


def test_mixing_strict_and_numpy_arrays_is_a_device_error():
    with pytest.raises(DeviceError, match="cpu"):
        cr.tensor(strict([1.0, 2.0])) + cr.tensor([1.0, 2.0])
    with pytest.raises(DeviceError):
        F.linear(cr.tensor(strict(np.ones((3, 2)))), cr.tensor(np.ones((1, 2))))


# --- modules and optimizers -------------------------------------------------------------


def test_module_to_cpu_returns_itself_and_keeps_its_parameters():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    before = list(model.parameters())
    assert model.to("cpu") is model
    assert model.cpu() is model
    assert all(a is b for a, b in zip(model.parameters(), before, strict=True))


def test_module_to_accepts_a_device_and_a_dtype_together():
    model = nn.Linear(3, 2)
    assert model.to("cpu", np.float32) is model
    assert model.weight.dtype == np.float32


def test_an_optimizer_built_before_module_to_steps_the_moved_parameters():
    model = nn.Linear(3, 1)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    model.to("cpu")
    before = model.weight.detach().numpy().copy()
    F.mse_loss(model(cr.tensor(np.ones((2, 3)))), np.zeros((2, 1))).backward()
    optimizer.step()
    assert not np.array_equal(model.weight.detach().numpy(), before)


def test_a_model_on_one_device_fed_data_on_another_is_a_device_error():
    model = nn.Linear(3, 2)
    _to_strict(model)
    with pytest.raises(DeviceError, match="move them to one device"):
        model(cr.tensor(np.ones((4, 3))))


def test_module_to_moves_a_strict_model_back_to_the_cpu_in_place():
    model = nn.Linear(3, 2)
    weight = model.weight
    _to_strict(model)
    model.to("cpu")
    assert model.weight is weight and model.weight.device == "cpu"
    assert isinstance(model.weight._data, np.ndarray)


def test_state_dict_of_a_strict_model_is_numpy_and_loads_back_onto_its_device(tmp_path):
    model = nn.Linear(3, 2)
    _to_strict(model)
    state = model.state_dict()
    assert all(isinstance(value, np.ndarray) for value in state.values())
    nn.save(state, tmp_path / "model.npz")
    other = nn.Linear(3, 2)
    _to_strict(other)
    other.load_state_dict(nn.load(tmp_path / "model.npz"))
    assert type(other.weight._data) is type(model.weight._data)
    np.testing.assert_array_equal(host(other.weight._data), state["weight"])


def test_init_draws_on_the_host_and_fills_a_strict_parameter():
    model = nn.Linear(3, 2)
    _to_strict(model)
    nn.init.normal_(model.weight, generator=np.random.default_rng(0))
    assert type(model.weight._data).__module__.startswith("array_api_strict")
    expected = np.random.default_rng(0).normal(0.0, 1.0, (2, 3))
    np.testing.assert_array_equal(host(model.weight._data), expected)


def _to_strict(model: nn.Module) -> None:
    """Every parameter's value as a strict array, in place (what module.to does for CuPy)."""
    for param in model.parameters():
        param.data = strict(param.detach().numpy())


def _train(optimizer_class, on_strict: bool, **options):
    """20 steps of a 4-8-3 MLP on fixed data; the losses and the final weights as NumPy."""
    rng = np.random.default_rng(2)
    model = nn.Sequential(
        nn.Linear(4, 8, generator=np.random.default_rng(0)),
        nn.Tanh(),
        nn.Linear(8, 3, generator=np.random.default_rng(1)),
    )
    features, labels = rng.standard_normal((16, 4)), rng.integers(0, 3, 16)
    if on_strict:
        _to_strict(model)
        features, labels = strict(features), strict(labels)
    optimizer = optimizer_class(model.parameters(), **options)
    losses = []
    for _ in range(20):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(cr.tensor(features)), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    weights = [param._data for param in model.parameters()]
    if on_strict:
        assert all(type(w).__module__.startswith("array_api_strict") for w in weights)
    return np.array(losses), [host(w) for w in weights]


@pytest.mark.parametrize(
    "optimizer_class, options",
    [
        (optim.SGD, {"lr": 0.1}),
        (optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}),
        (optim.Adam, {"lr": 0.01}),
        (optim.AdamW, {"lr": 0.01, "amsgrad": True}),
    ],
)
def test_an_mlp_trained_on_strict_arrays_matches_the_numpy_run(optimizer_class, options):
    losses, weights = _train(optimizer_class, False, **options)
    strict_losses, strict_weights = _train(optimizer_class, True, **options)
    assert losses[-1] < losses[0]
    np.testing.assert_allclose(strict_losses, losses, rtol=1e-12, atol=0)
    for ours, theirs in zip(strict_weights, weights, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_optimizer_state_loads_onto_the_parameters_library():
    model = nn.Linear(3, 1)
    _to_strict(model)
    optimizer = optim.Adam(model.parameters(), lr=0.1)
    F.mse_loss(model(cr.tensor(strict(np.ones((2, 3))))), strict(np.zeros((2, 1)))).backward()
    optimizer.step()
    saved = optimizer.state_dict()
    saved["state"] = {
        index: {key: host(v) if hasattr(v, "shape") else v for key, v in values.items()}
        for index, values in saved["state"].items()
    }
    optimizer.load_state_dict(saved)
    state = optimizer.state[model.weight]
    assert state["step"] == 1
    assert type(state["exp_avg"]).__module__.startswith("array_api_strict")


_LOSSES = {
    "mse_loss": lambda x, t, labels: F.mse_loss(x, t),
    "l1_loss": lambda x, t, labels: F.l1_loss(x, t),
    "binary_cross_entropy": lambda x, t, labels: F.binary_cross_entropy(F.sigmoid(x), t),
    "bce_with_logits": lambda x, t, labels: F.binary_cross_entropy_with_logits(x, t),
    "cross_entropy": lambda x, t, labels: F.cross_entropy(x, labels, label_smoothing=0.1),
    "cross_entropy_probabilities": lambda x, t, labels: F.cross_entropy(x, t),
    "nll_loss": lambda x, t, labels: F.nll_loss(F.log_softmax(x, 1), labels, reduction="sum"),
    "dropout": lambda x, t, labels: (
        F.dropout(x, 0.3, generator=np.random.default_rng(1)) * t
    ).sum(),
    "gelu": lambda x, t, labels: (F.gelu(x) * t).sum(),
    "softmax": lambda x, t, labels: (F.softmax(x, 0) * t).sum(),
}


@pytest.mark.parametrize("name", sorted(_LOSSES))
def test_losses_and_activations_on_strict_arrays_match_numpy(name):
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((4, 3)), rng.uniform(0.0, 1.0, (4, 3))
    labels = rng.integers(0, 3, 4)
    results = []
    for convert in (np.asarray, strict):
        inputs = cr.tensor(convert(x), requires_grad=True)
        loss = _LOSSES[name](inputs, convert(t), convert(labels))
        loss.backward()
        results.append((loss._data, inputs.grad._data))
    (loss, grad), (strict_loss, strict_grad) = results
    assert type(strict_loss).__module__.startswith("array_api_strict")
    assert type(strict_grad).__module__.startswith("array_api_strict")
    np.testing.assert_allclose(host(strict_loss), loss, rtol=1e-12)
    np.testing.assert_allclose(host(strict_grad), grad, rtol=1e-12, atol=1e-15)


def test_class_index_targets_out_of_bounds_are_refused_on_strict_arrays():
    logits = cr.tensor(strict(np.zeros((2, 3))))
    with pytest.raises(cr.errors.TargetError, match="target 3 is out of bounds for 3 classes"):
        F.cross_entropy(logits, strict(np.array([0, 3])))
    with pytest.raises(cr.errors.TargetError, match="target -1"):
        F.nll_loss(logits, np.array([-1, 0]))


# --- the train command ------------------------------------------------------------------


def _run_train(*arguments: str):
    from click.testing import CliRunner

    from chainrule.cli import main

    return CliRunner().invoke(main, ["train", *arguments])


def test_train_on_the_cpu_device_runs():
    pytest.importorskip("click")
    result = _run_train("--device", "cpu", "--epochs", "2", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["config"]["layers"] == [2, 2, 1]


@pytest.mark.skipif(HAS_CUPY, reason="CuPy is installed")
def test_train_on_cuda_without_cupy_exits_2_with_the_install_hint():
    pytest.importorskip("click")
    result = _run_train("--device", "cuda", "--epochs", "2", "--format", "json")
    assert result.exit_code == 2
    assert "pip install 'chainrule[gpu]'" in result.output


def test_train_refuses_an_unknown_device_before_any_work():
    pytest.importorskip("click")
    result = _run_train("--device", "tpu", "--format", "json")
    assert result.exit_code == 2
    assert "unknown device 'tpu'" in result.output


# --- CUDA, where a GPU and CuPy are there (benchmarks/gpu_check.sh) -----------------------


@pytest.mark.skipif(not ON_GPU, reason="CHAINRULE_TEST_BACKEND=cupy runs the GPU tests")
def test_an_mlp_trained_on_cuda_matches_the_numpy_run():
    model = nn.Sequential(
        nn.Linear(4, 8, generator=np.random.default_rng(0)),
        nn.Tanh(),
        nn.Linear(8, 3, generator=np.random.default_rng(1)),
    )
    reference = nn.Sequential(
        nn.Linear(4, 8, generator=np.random.default_rng(0)),
        nn.Tanh(),
        nn.Linear(8, 3, generator=np.random.default_rng(1)),
    )
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    model.to("cuda")  # after the optimizer: it holds the same Parameter objects
    reference_optimizer = optim.Adam(reference.parameters(), lr=0.01)
    rng = np.random.default_rng(2)
    features, labels = rng.standard_normal((16, 4)), rng.integers(0, 3, 16)
    for _ in range(20):
        for net, opt, device in (
            (model, optimizer, "cuda"),
            (reference, reference_optimizer, "cpu"),
        ):
            opt.zero_grad()
            inputs = cr.tensor(features, device=device)
            F.cross_entropy(net(inputs), cr.tensor(labels, device=device)).backward()
            opt.step()
    assert model[0].weight.device == "cuda:0"
    pairs = zip(model.state_dict().values(), reference.state_dict().values(), strict=True)
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    with pytest.raises(DeviceError):
        model(cr.tensor(features))


@pytest.mark.skipif(not ON_GPU, reason="CHAINRULE_TEST_BACKEND=cupy runs the GPU tests")
def test_train_on_cuda_runs():
    pytest.importorskip("click")
    result = _run_train("--device", "cuda", "--data", "digits", "--epochs", "2", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["test_accuracy"] > 0.5
