"""Training an MLP classifier end to end: the model spec, its file, the loop and the scores.

Layer: training (imports nn, optim, data, and jit for a compiled gradient).
``chainrule train`` and ``chainrule evaluate`` are thin over this module, and Python
users can call it directly:
a *spec* is the JSON-ready dictionary that describes a model (layer sizes,
activation, loss, dtype, classes, input standardization); it is stored beside
the weights in ``model.npz``, so a saved model needs nothing else to be rebuilt.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .. import nn, optim
from ..core.mode import no_grad
from ..data import DataLoader, LabeledData, TensorDataset
from ..data import train_val_test_split as split_indices
from ..errors import ChainruleError
from ..tensor import Tensor

MODEL_FORMAT = "chainrule.mlp"
MODEL_VERSION = 1
LOSSES = ("cross-entropy", "bce", "mse")
OPTIMIZERS = ("sgd", "adam", "adamw")
#: What a model file's spec must hold to be rebuilt and scored.
SPEC_KEYS = (
    "sizes",
    "activation",
    "loss",
    "dtype",
    "classes",
    "data",
    "split",
    "input_mean",
    "input_std",
)


# --- models and their files -------------------------------------------------------------


def build_model(spec: dict) -> nn.MLP:
    """The MLP a model spec describes (weights freshly initialized)."""
    return nn.MLP(
        spec["sizes"],
        activation=spec["activation"],
        output_activation="sigmoid" if spec["loss"] == "mse" else None,
        dtype=np.dtype(spec["dtype"]),
    )


def save_model(model: nn.Module, spec: dict, path: Path) -> None:
    """Write the weights and the spec to ``path`` (atomically, no pickle)."""
    nn.save(model.state_dict(), path, metadata=spec)


def load_model(path: Path) -> tuple[nn.MLP, dict]:
    """Rebuild the model from its file alone; any inconsistency is a ModelFileError."""
    state, spec = nn.load_with_metadata(path)
    if spec.get("format") != MODEL_FORMAT:
        raise nn.ModelFileError(
            f"{str(path)!r} is not a chainrule model file (no architecture stored)"
        )
    if spec.get("version") != MODEL_VERSION:
        raise nn.ModelFileError(
            f"{str(path)!r}: unsupported model file version {spec.get('version')!r}"
        )
    missing = [key for key in SPEC_KEYS if key not in spec]
    if missing:
        raise nn.ModelFileError(f"{str(path)!r}: the stored spec lacks {', '.join(missing)}")
    problem = _spec_problem(spec, state)
    if problem is not None:
        raise nn.ModelFileError(f"{str(path)!r}: {problem}")
    try:
        model = build_model(spec)
        model.load_state_dict(state)
    except (KeyError, TypeError, ValueError, ChainruleError) as error:
        raise nn.ModelFileError(
            f"{str(path)!r} does not match its stored architecture: {error}"
        ) from None
    return model, spec


#: The widest layer a model file may declare: far above any MLP trained here, far below a
#: size whose weights would exhaust memory before the file's arrays are compared with it.
MAX_LAYER_SIZE = 1 << 20


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _spec_problem(spec: dict, state: dict) -> str | None:
    """What is wrong with a stored spec, checked against the arrays present before anything
    is allocated (a file declaring 60,000-wide layers must not build them); None if fine."""
    sizes = spec["sizes"]
    if (
        not isinstance(sizes, list)
        or len(sizes) < 2
        or not all(type(n) is int and 1 <= n <= MAX_LAYER_SIZE for n in sizes)
    ):
        return f"sizes must be a list of at least two layer widths in 1..{MAX_LAYER_SIZE}"
    layers = zip(sizes[:-1], sizes[1:], strict=True)
    expected = sorted(shape for n_in, n_out in layers for shape in ((n_out, n_in), (n_out,)))
    present = sorted(tuple(np.shape(array)) for array in state.values())
    if present != expected:
        return (
            f"does not match its stored architecture: its arrays have shapes {present}, "
            f"but sizes {sizes} need {expected}"
        )
    if spec["activation"] not in nn.ACTIVATIONS:
        return f"unknown activation {spec['activation']!r}"
    if spec["loss"] not in LOSSES:
        return f"unknown loss {spec['loss']!r} (one of {', '.join(LOSSES)})"
    if spec["dtype"] not in ("float32", "float64"):
        return f"dtype must be float32 or float64, not {spec['dtype']!r}"
    classes = spec["classes"]
    outputs = sizes[-1]
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        return "classes must be a list of names"
    if len(classes) != outputs and not (outputs == 1 and len(classes) == 2):
        return f"{len(classes)} classes do not fit {outputs} outputs"
    if not isinstance(spec["data"], str):
        return "data must be a dataset name"
    split = spec["split"]
    if (
        not isinstance(split, dict)
        or type(split.get("seed")) is not int
        or split["seed"] < 0
        or not all(
            _is_number(split.get(k)) and 0 <= split[k] < 1
            for k in ("val_fraction", "test_fraction")
        )
    ):
        return "split must hold a non-negative seed and two fractions in [0, 1)"
    for key in ("input_mean", "input_std"):
        values = spec[key]
        if (
            not isinstance(values, list)
            or len(values) != sizes[0]
            or not all(map(_is_number, values))
        ):
            return f"{key} must be {sizes[0]} finite numbers"
    if any(v <= 0 for v in spec["input_std"]):
        return "input_std must be positive"
    label_column = spec.get("label_column")
    if label_column is not None and not isinstance(label_column, str):
        return "label_column must be a column name"
    return None


# --- data ---------------------------------------------------------------------------------


def standardized(features: np.ndarray, spec: dict) -> np.ndarray:
    """Features shifted and scaled with the training set's statistics stored in the spec."""
    mean = np.asarray(spec["input_mean"], dtype=np.float32)
    std = np.asarray(spec["input_std"], dtype=np.float32)
    return ((features - mean) / std).astype(np.dtype(spec["dtype"]), copy=False)


def targets(labels: np.ndarray, spec: dict) -> np.ndarray:
    """Class indices for cross-entropy; a float column (N, 1) for a single sigmoid output."""
    if spec["loss"] == "cross-entropy":
        return labels
    return labels.astype(np.dtype(spec["dtype"])).reshape(-1, 1)


def splits(
    data: LabeledData, val_fraction: float, test_fraction: float, seed: int
) -> tuple[LabeledData, LabeledData, LabeledData]:
    """(train, validation, test) subsets; XOR's four points are both train and test set."""
    if data.name == "xor":
        return data, data.subset(np.arange(0)), data
    if data.test is not None:
        train, val, _ = split_indices(len(data), val_fraction, 0.0, seed)
        return data.subset(train), data.subset(val), data.test
    train, val, test = split_indices(len(data), val_fraction, test_fraction, seed)
    return data.subset(train), data.subset(val), data.subset(test)


# --- losses and scores --------------------------------------------------------------------


def loss_function(spec: dict) -> nn.Module:
    """The loss module the spec names."""
    return {
        "cross-entropy": nn.CrossEntropyLoss,
        "bce": nn.BCEWithLogitsLoss,
        "mse": nn.MSELoss,
    }[spec["loss"]]()


def predict(outputs: np.ndarray, spec: dict) -> np.ndarray:
    """Class indices from the network's outputs."""
    if spec["loss"] == "cross-entropy":
        return outputs.argmax(axis=1)
    threshold = 0.5 if spec["loss"] == "mse" else 0.0  # sigmoid output vs logit
    return (outputs[:, 0] > threshold).astype(np.int64)


def score(
    model: nn.Module, features: np.ndarray, labels: np.ndarray, spec: dict, device: str = "cpu"
) -> dict:
    """Loss, accuracy, outputs and confusion matrix on a whole set, in eval mode (computed on
    ``device``, where the model is; the outputs come back to the host)."""
    model.eval()
    with no_grad():
        outputs = model(Tensor(features).to(device))
        loss = loss_function(spec)(outputs, Tensor(targets(labels, spec)).to(device)).item()
        outputs = outputs.cpu()
    predictions = predict(outputs.data, spec)
    classes = len(spec["classes"])
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (labels, predictions), 1)
    return {
        "loss": float(loss),
        "accuracy": float(np.mean(predictions == labels)) if len(labels) else float("nan"),
        "outputs": outputs.data,
        "confusion": confusion,
    }


# --- training -----------------------------------------------------------------------------


def make_optimizer(
    name: str, model: nn.Module, lr: float, momentum: float, weight_decay: float
) -> optim.Optimizer:
    """sgd, adam or adamw over the model's parameters."""
    if name == "sgd":
        return optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


#: Called after every batch with (epoch, batches done, batches per epoch, mean loss so far,
#: batches per second).
BatchCallback = Callable[[int, int, int, float, float], None]

#: Computes one batch's gradient: given the batch's row indices into the training set, it
#: leaves the gradient of the batch's mean loss in each parameter's ``.grad`` and returns that
#: loss (a non-finite loss may leave the gradients unset). ``fit`` computes it in this process;
#: :class:`chainrule.distributed.DataParallel` splits it across Dask workers.
BatchGradient = Callable[[np.ndarray], float]


class DivergedError(ChainruleError):
    """Training produced a non-finite loss; the model is back at its last finished epoch."""

    def __init__(self, epoch: int, batch: int, loss: float, rows: list[dict]) -> None:
        self.epoch, self.batch, self.loss, self.rows = epoch, batch, loss, rows
        kept = f"epoch {epoch - 1}" if epoch > 1 else "its initial weights"
        super().__init__(
            f"training diverged: the loss was {loss} at epoch {epoch}, batch {batch}; the "
            f"model is back at {kept} (try a smaller --lr)"
        )


def local_gradient(
    model: nn.Module, spec: dict, train: tuple[np.ndarray, np.ndarray], device: str = "cpu"
) -> BatchGradient:
    """The BatchGradient that runs the model on the batch's rows here, in this process, with
    each batch moved to ``device`` (where the model is)."""
    criterion = loss_function(spec)
    features, batch_targets = train[0], targets(train[1], spec)

    def gradient(indices: np.ndarray) -> float:
        inputs = Tensor(features[indices]).to(device)
        loss = criterion(model(inputs), Tensor(batch_targets[indices]).to(device))
        value = loss.item()
        if math.isfinite(value):
            loss.backward()
        return value

    return gradient


def compiled_gradient(
    model: nn.Module, spec: dict, train: tuple[np.ndarray, np.ndarray], backend: str
) -> BatchGradient:
    """:func:`local_gradient` through ``chainrule.compile(..., backend)``: the forward and
    backward pass are traced once per batch shape and replayed.

    The loss cannot be read inside a compiled program, so backward runs before it is
    checked; a non-finite loss still stops :func:`fit`, which restores the last good weights.
    """
    from ..jit import compile as compile_function  # the compiler sits above nn and optim

    criterion = loss_function(spec)
    features, batch_targets = train[0], targets(train[1], spec)

    def loss_and_backward(inputs: np.ndarray, labels: np.ndarray) -> Tensor:
        loss = criterion(model(inputs), labels)
        loss.backward()
        return loss

    step = compile_function(loss_and_backward, backend)

    def gradient(indices: np.ndarray) -> float:
        return step(features[indices], batch_targets[indices]).item()

    return gradient


def fit(
    model: nn.Module,
    spec: dict,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    optimizer: optim.Optimizer,
    epochs: int,
    batch_size: int,
    seed: int,
    on_batch: BatchCallback | None = None,
    on_epoch: Callable[[dict], None] | None = None,
    batch_gradient: BatchGradient | None = None,
    compile_backend: str | None = None,
    device: str = "cpu",
) -> list[dict]:
    """Train for ``epochs``; return one metrics row per epoch (loss, accuracies, lr, seconds).

    ``on_batch`` and ``on_epoch`` let a caller show progress (the CLI draws a bar).
    ``batch_gradient`` computes each batch's gradient elsewhere (default:
    :func:`local_gradient`, or :func:`compiled_gradient` with ``compile_backend``, "numpy"
    or "numba"); the batches, their order and the updates stay the same. ``device`` is where
    the model is ("cpu", "cuda"): each batch is moved there.
    """
    if batch_gradient is not None:
        gradient = batch_gradient
    elif compile_backend is not None:
        gradient = compiled_gradient(model, spec, train, compile_backend)
    else:
        gradient = local_gradient(model, spec, train, device)
    # Batches of row indices, drawn from the seeded generator as DataLoader draws them.
    loader = DataLoader(
        TensorDataset(np.arange(len(train[1]))), batch_size=batch_size, shuffle=True, seed=seed
    )
    rows: list[dict] = []
    last_good = model.state_dict()
    for epoch in range(1, epochs + 1):
        model.train()
        started = time.perf_counter()
        total, batches = 0.0, 0
        for (indices,) in loader:
            optimizer.zero_grad()
            value = gradient(indices.data)
            if not math.isfinite(value):
                model.load_state_dict(last_good)
                raise DivergedError(epoch, batches + 1, value, rows)
            optimizer.step()
            total += value
            batches += 1
            if on_batch is not None:
                elapsed = max(time.perf_counter() - started, 1e-9)
                on_batch(epoch, batches, len(loader), total / batches, batches / elapsed)
        seconds = time.perf_counter() - started
        train_score = score(model, *train, spec, device)
        val_score = score(model, *val, spec, device) if len(val[1]) else None
        row = {
            "epoch": epoch,
            "loss": total / batches,
            "train_loss": train_score["loss"],
            "train_accuracy": train_score["accuracy"],
            "val_loss": val_score["loss"] if val_score else None,
            "val_accuracy": val_score["accuracy"] if val_score else None,
            "lr": optimizer.param_groups[0]["lr"],
            "seconds": seconds,
        }
        rows.append(row)
        last_good = model.state_dict()
        if on_epoch is not None:
            on_epoch(row)
    return rows
