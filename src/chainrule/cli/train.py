"""``chainrule train`` and ``chainrule evaluate``: fit an MLP on a dataset, save it, score it.

Layer: cli (imports chainrule.training and data; click, and lazily rich and
matplotlib). The work is done by :mod:`chainrule.training`; this module reads
the flags, draws the progress bar and the tables, and writes the files. Every
problem with the user's input (data files, --layers, model files) becomes an
InputError: one line on stderr, exit status 2. Nothing is written to --out until
training has finished, and then the folder appears whole: its files are written into
a temporary folder that is renamed to --out (an earlier run's folder is replaced; one
holding other files is refused before training).
"""

from __future__ import annotations

import csv
import functools
import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np

from .. import nn
from ..data import DataError, LabeledData, load_dataset
from ..io import strict_json
from ..io.files import atomic_folder, check_output_folder, write_bytes
from ..io.plotting import save_figure, subplots
from ..training.mlp import (
    LOSSES,
    MODEL_FORMAT,
    MODEL_VERSION,
    OPTIMIZERS,
    DivergedError,
    build_model,
    fit,
    load_model,
    make_optimizer,
    save_model,
    score,
    splits,
    standardized,
)
from .app import (
    CLUSTER_OPTION,
    TIMEOUT_OPTION,
    WORKERS_OPTION,
    FiniteFloat,
    InputError,
    OutputFolder,
    check_cluster_flags,
    check_device,
    main,
    need,
)


@dataclass(frozen=True)
class Recipe:
    """What ``train`` does for a dataset when a flag is left out."""

    hidden: tuple[int, ...]
    activation: str = "relu"
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.0
    epochs: int = 30
    batch_size: int = 64
    loss: str | None = None
    standardize: bool = True


RECIPES = {
    # The recitation's 2-2-1 sigmoid network, squared error, full-batch gradient descent.
    "xor": Recipe((2,), "sigmoid", "sgd", 2.0, 0.9, 500, 4, "mse", standardize=False),
    "moons": Recipe((16, 16), lr=1e-2, epochs=100, batch_size=32),
    "spirals": Recipe((64, 64), lr=1e-2, epochs=200, batch_size=32),
    "digits": Recipe((64,)),
    "mnist": Recipe((128,), epochs=5, batch_size=128),
    "fashion-mnist": Recipe((128,), epochs=10, batch_size=128),
    "csv": Recipe((32,), epochs=50, batch_size=32),
}


_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one JSON document on the standard output (RFC 8259: no NaN or Infinity).",
)


# --- data ---------------------------------------------------------------------------------


def _load(spec: str, label_column: str | None, classes: list[str] | None = None) -> LabeledData:
    try:
        return load_dataset(spec, label_column, classes)
    except DataError as error:
        raise InputError(str(error)) from None


# --- progress and reports ------------------------------------------------------------------


def _progress():
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>8.0f} batches/s  loss {task.fields[loss]:.4f}"),
        console=Console(stderr=True),
        transient=True,
    )


def _fit_with_progress(
    model,
    spec,
    train,
    val,
    optimizer,
    epochs,
    batch_size,
    seed,
    quiet=False,
    fitter=fit,
    on_epoch=None,
) -> list[dict]:
    """``fitter`` (training.fit, or a DataParallel's fit) with a rich progress bar per epoch and
    a line every few epochs; ``on_epoch`` is called after each epoch too (checkpoints).

    ``quiet`` (for --format json, whose stdout is the JSON alone) shows neither.
    """
    if quiet:
        return fitter(model, spec, train, val, optimizer, epochs, batch_size, seed, None, on_epoch)
    report_every = max(1, epochs // 20)
    with _progress() as progress:
        task = progress.add_task("", total=1, rate=0.0, loss=float("nan"))

        def on_batch(epoch: int, done: int, total: int, loss: float, rate: float) -> None:
            if done == 1:
                progress.reset(task, total=total, description=f"epoch {epoch}/{epochs}")
            progress.update(task, completed=done, loss=loss, rate=rate)

        def report(row: dict) -> None:
            if row["epoch"] % report_every == 0 or row["epoch"] == epochs:
                progress.console.print(_epoch_line(row, epochs), highlight=False)
            if on_epoch is not None:
                on_epoch(row)

        return fitter(
            model, spec, train, val, optimizer, epochs, batch_size, seed, on_batch, report
        )


#: Columns an epoch line may take: rich wraps longer lines when stderr is not a terminal.
LINE_WIDTH = 80


def _epoch_line(row: dict, epochs: int) -> str:
    """``epoch  5/30  loss 0.4123 (val 0.4522)  acc  91.20% (val  90.10%)  0.12 s``.

    At most LINE_WIDTH columns: the seconds are left out when they would not fit.
    """
    width = len(str(epochs))
    loss = f"loss {row['loss']:.4f}"
    accuracy = f"acc {100 * row['train_accuracy']:6.2f}%"
    if row["val_accuracy"] is not None:
        loss += f" (val {row['val_loss']:.4f})"
        accuracy += f" (val {100 * row['val_accuracy']:6.2f}%)"
    line = f"epoch {row['epoch']:>{width}}/{epochs}  {loss}  {accuracy}"
    seconds = f"  {row['seconds']:.2f} s"
    return line + seconds if len(line) + len(seconds) <= LINE_WIDTH else line


def _print_confusion(confusion: np.ndarray, classes: list[str], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("true \\ predicted", justify="right")
    for name in classes:
        table.add_column(name, justify="right")
    for i, (name, row) in enumerate(zip(classes, confusion, strict=True)):
        table.add_row(name, *(f"[bold]{n}[/bold]" if i == j else str(n) for j, n in enumerate(row)))
    Console(width=max(80, 12 + 7 * len(classes))).print(table)


def _print_recitation_weights(model: nn.MLP, outputs: np.ndarray, features: np.ndarray) -> None:
    """The learned 2-2-1 network in the recitation's notation: t = Wᵀx + b1, o = σ(A h + b2).

    The recitation's W is inputs x hidden, the transpose of Linear's (out, in) weight.
    """
    hidden, output = model[0], model[2]
    click.echo(
        "learned weights (the recitation's network: h = σ(Wᵀx + b1), o = σ(A h + b2), "
        "W inputs × hidden)"
    )
    for name, value in (
        ("W", hidden.weight.data.T),
        ("b1", hidden.bias.data),
        ("A", output.weight.data),
        ("b2", output.bias.data),
    ):
        prefix = f"  {name:>2} = "
        click.echo(prefix + np.array2string(value.astype(np.float64), precision=4, prefix=prefix))
    for x, o in zip(features, outputs[:, 0], strict=True):
        click.echo(f"  x = ({x[0]:g}, {x[1]:g})  ->  o = {o:.4f}")


def _write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def _metrics_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    return buffer.getvalue()


def _plot_curves(rows: list[dict], path: Path) -> None:
    epochs = [row["epoch"] for row in rows]
    figure, (loss_axes, accuracy_axes) = subplots(1, 2, figsize=(10, 4))
    loss_axes.plot(epochs, [row["train_loss"] for row in rows], label="train")
    accuracy_axes.plot(epochs, [row["train_accuracy"] for row in rows], label="train")
    if rows[0]["val_loss"] is not None:
        loss_axes.plot(epochs, [row["val_loss"] for row in rows], label="validation")
        accuracy_axes.plot(epochs, [row["val_accuracy"] for row in rows], label="validation")
    for axes, label in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        axes.set_xlabel("epoch")
        axes.set_ylabel(label)
        axes.grid(alpha=0.3)
        axes.legend()
    figure.tight_layout()
    save_figure(figure, path)


def _parse_layers(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise InputError(f"--layers must be comma-separated integers, got {text!r}") from None
    if len(sizes) < 2 or any(n <= 0 for n in sizes):
        raise InputError(f"--layers needs at least two positive sizes (in,...,out), got {text!r}")
    return sizes


def _check_layers(sizes: list[int], data: LabeledData, loss: str, data_spec: str) -> None:
    if sizes[0] != data.num_features:
        raise InputError(
            f"--layers starts with {sizes[0]} inputs but {data_spec} has "
            f"{data.num_features} features per sample"
        )
    classes = data.num_classes
    if loss == "cross-entropy" and sizes[-1] != classes:
        raise InputError(
            f"--layers ends with {sizes[-1]} outputs but {data_spec} has {classes} classes "
            "(cross-entropy needs one output per class)"
        )
    if loss in ("bce", "mse") and (sizes[-1] != 1 or classes > 2):
        raise InputError(
            f"--loss {loss} needs one output unit and two classes; got {sizes[-1]} outputs "
            f"and {classes} classes"
        )


#: The files ``train --out`` writes: an existing folder holding only these is replaced.
#: checkpoint.npz is there only while a run with --checkpoint-every is going (or was cut off).
OUTPUT_FILES = ("model.npz", "metrics.json", "metrics.csv", "curves.png", "checkpoint.npz")
CHECKPOINT = "checkpoint.npz"


def _check_out(out: Path) -> None:
    """Refuse an --out folder that holds other files, before any work."""
    try:
        check_output_folder(out, OUTPUT_FILES)
    except OSError as error:
        raise InputError(f"--out: {error}") from None


@dataclass
class TrainRun:
    """A finished ``train`` run: the model, its spec and what metrics.json holds."""

    model: nn.MLP
    spec: dict
    metrics: dict
    rows: list[dict]


def run_training(
    data_spec: str | None,
    layers: str | None,
    activation: str | None,
    optimizer_name: str | None,
    lr: float | None,
    momentum: float | None,
    weight_decay: float,
    epochs: int | None,
    batch_size: int | None,
    loss: str | None,
    seed: int,
    val_fraction: float,
    test_fraction: float,
    label_column: str | None,
    dtype: str,
    compile_backend: str | None = None,
    device: str = "cpu",
    text: bool = False,
    fitter=fit,
    on_epoch=None,
    out: Path | None = None,
) -> TrainRun:
    """What ``train`` does with its options (named as the command's parameters), up to the
    files: load and split the data, build, fit (with ``fitter``, told ``compile_backend``
    when one is given) and score the model.

    ``text`` prints what the command prints; ``on_epoch(row, model, spec)`` is called after
    every epoch; a divergence keeps the last good model in ``out`` and raises InputError.
    ``chainrule sweep`` calls this for each of its runs.
    """
    say = click.echo if text else (lambda line: None)
    if compile_backend is not None:
        fitter = functools.partial(fitter, compile_backend=compile_backend)
    if device != "cpu":
        fitter = functools.partial(fitter, device=device)
    data_spec = data_spec or "xor"
    recipe = RECIPES.get(data_spec.partition(":")[0])
    data = _load(data_spec, label_column)
    if recipe is None:  # load_dataset has already rejected unknown names
        raise InputError(f"unknown dataset {data_spec!r}")
    if data.test is None and data.name != "xor" and val_fraction + test_fraction >= 1:
        raise InputError("--val-fraction and --test-fraction leave no training data")
    sizes, loss = _resolve_architecture(layers, loss, recipe, data)
    _check_layers(sizes, data, loss, data_spec)
    train_set, val_set, test_set = splits(data, val_fraction, test_fraction, seed)
    if len(train_set) == 0:
        raise InputError(f"{data_spec} leaves no training samples after the split")
    if recipe.standardize:
        mean = train_set.features.mean(axis=0)
        std = train_set.features.std(axis=0)
        std[std == 0] = 1.0
    else:
        mean = np.zeros(data.num_features, dtype=np.float32)
        std = np.ones(data.num_features, dtype=np.float32)
    spec = {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "sizes": sizes,
        "activation": activation or recipe.activation,
        "loss": loss,
        "dtype": dtype,
        "classes": data.classes,
        "data": data_spec,
        "label_column": label_column,
        "split": {"seed": seed, "val_fraction": val_fraction, "test_fraction": test_fraction},
        "input_mean": [float(v) for v in mean],
        "input_std": [float(v) for v in std],
    }
    nn.manual_seed(seed)
    model = build_model(spec).to(device)
    optimizer_name = optimizer_name or recipe.optimizer
    lr = recipe.lr if lr is None else lr
    momentum = recipe.momentum if momentum is None else momentum
    epochs = epochs or recipe.epochs
    batch_size = batch_size or recipe.batch_size
    optimizer = make_optimizer(optimizer_name, model, lr, momentum, weight_decay)
    say(
        f"training {' -> '.join(map(str, sizes))} ({spec['activation']}, {loss}, {dtype}) on "
        f"{data_spec}: {len(train_set)} train / {len(val_set)} validation / {len(test_set)} test"
        f" samples; {optimizer_name} lr={lr:g}, {epochs} epochs, batch size {batch_size}"
    )
    prepared = {
        name: (standardized(part.features, spec), part.labels)
        for name, part in (("train", train_set), ("val", val_set), ("test", test_set))
    }
    started = time.perf_counter()
    try:
        # A run that overflows is reported once, as divergence, not as NumPy warnings.
        with np.errstate(over="ignore", invalid="ignore"):
            rows = _fit_with_progress(
                model,
                spec,
                prepared["train"],
                prepared["val"],
                optimizer,
                epochs,
                batch_size,
                seed,
                quiet=not text,
                fitter=fitter,
                on_epoch=None if on_epoch is None else lambda row: on_epoch(row, model, spec),
            )
    except DivergedError as error:
        message = str(error)
        if out is not None and error.rows:  # keep the last good checkpoint
            try:
                with atomic_folder(out, OUTPUT_FILES) as staging:
                    save_model(model, spec, staging / "model.npz")
            except OSError as problem:
                raise InputError(f"{message}; and {out} cannot be written: {problem}") from None
            message += f"; that model is saved as {out / 'model.npz'}"
        raise InputError(message) from None
    seconds = time.perf_counter() - started
    test = score(model, *prepared["test"], spec, device)
    model.cpu()  # what is printed and saved next reads the weights on the host
    test_name = "the 4 XOR points" if data.name == "xor" else "test set"
    say(
        f"{test_name}: loss {test['loss']:.4f}, accuracy {100 * test['accuracy']:.2f}% "
        f"({len(test_set)} samples; trained in {seconds:.1f} s)"
    )
    if text and data.name == "xor" and sizes == [2, 2, 1] and loss == "mse":
        _print_recitation_weights(model, test["outputs"], test_set.features)
    if text:
        _print_confusion(test["confusion"], data.classes, "confusion matrix")
    metrics = {
        "config": {
            "data": data_spec,
            "layers": sizes,
            "activation": spec["activation"],
            "loss": loss,
            "optimizer": optimizer_name,
            "lr": lr,
            "momentum": momentum,
            "weight_decay": weight_decay,
            "epochs": epochs,
            "batch_size": batch_size,
            "seed": seed,
            "dtype": dtype,
        },
        "epochs": rows,
        "test_loss": test["loss"],
        "test_accuracy": test["accuracy"],
        "test_samples": len(test_set),
        "confusion_matrix": test["confusion"].tolist(),
        "classes": data.classes,
        "train_seconds": seconds,
    }
    return TrainRun(model, spec, metrics, rows)


@contextmanager
def data_parallel(cluster: str | None, workers: int | None, timeout: float) -> Iterator[Any]:
    """A DataParallel trainer on the Dask cluster the flags name; None when they name none."""
    if cluster is None and workers is None:
        yield None
        return
    from ..distributed import DataParallel, SchedulerLostError, connect

    try:
        with connect(cluster, workers, timeout) as client:
            yield DataParallel(client)
    except SchedulerLostError as error:
        if not error.rows:  # never connected, or lost before the first epoch ended
            raise click.ClickException(str(error)) from None
        raise


def _say_timing(trainer: Any, say) -> None:
    """One line per worker: steps, samples and compute time; then the communication share."""
    summary = trainer.timing.summary()
    for address, timing in summary["workers"].items():
        say(
            f"  worker {address}: {timing['steps']} shards, {timing['samples']} samples, "
            f"{timing['compute_seconds']:.2f} s computing"
        )
    say(
        f"  per step: {summary['step_ms']:.1f} ms, of which {summary['compute_ms']:.1f} ms "
        f"computing on the slowest worker ({100 * summary['communication_share']:.0f}% "
        "communication and scheduling)"
    )


@main.command()
@click.option(
    "--data",
    "data_spec",
    default=None,
    help="xor (default), moons, spirals, digits, mnist:DIR, fashion-mnist:DIR or csv:PATH.",
)
@click.option("--layers", default=None, help="Layer sizes in,hidden...,out, e.g. 64,64,10.")
@click.option("--activation", type=click.Choice(sorted(nn.ACTIVATIONS)), default=None)
@click.option("--optimizer", "optimizer_name", type=click.Choice(OPTIMIZERS), default=None)
@click.option("--lr", type=FiniteFloat(min=0), default=None, help="Learning rate.")
@click.option("--momentum", type=FiniteFloat(min=0), default=None, help="SGD momentum.")
@click.option("--weight-decay", type=FiniteFloat(min=0), default=0.0, show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), default=None)
@click.option("--batch-size", type=click.IntRange(min=1), default=None)
@click.option(
    "--loss",
    type=click.Choice(LOSSES),
    default=None,
    help="Default: cross-entropy with several outputs, bce with one (mse for xor).",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seeds initialization, the data split and shuffling.",
)
@click.option(
    "--val-fraction", type=click.FloatRange(0, 1, max_open=True), default=0.1, show_default=True
)
@click.option(
    "--test-fraction", type=click.FloatRange(0, 1, max_open=True), default=0.2, show_default=True
)
@click.option("--label-column", default=None, help="CSV label column (default: the last).")
@click.option(
    "--dtype", type=click.Choice(["float32", "float64"]), default="float32", show_default=True
)
@click.option(
    "--out",
    type=OutputFolder(file_okay=False, path_type=Path),
    default=None,
    help="Folder for model.npz, metrics.json, metrics.csv and curves.png.",
)
@click.option(
    "--compile",
    "compile_backend",
    type=click.Choice(["numpy", "numba"]),
    default=None,
    help="Run each batch's forward and backward through chainrule.compile (numba: the jit extra).",
)
@click.option(
    "--device",
    default="cpu",
    show_default=True,
    help="cpu, cuda or cuda:N (an NVIDIA GPU through CuPy: the gpu extra).",
)
@CLUSTER_OPTION
@WORKERS_OPTION
@click.option(
    "--checkpoint-every",
    type=click.IntRange(min=1),
    default=None,
    help="Every K epochs, write the model to checkpoint.npz in --out (atomically).",
)
@TIMEOUT_OPTION
@_FORMAT
def train(
    out: Path | None,
    cluster: str | None,
    workers: int | None,
    checkpoint_every: int | None,
    timeout: float,
    fmt: str,
    **options: Any,
) -> None:
    """Train an MLP classifier. With no --data: the recitation's 2-2-1 sigmoid network on XOR.

    With --format json the standard output is one JSON document (what metrics.json holds,
    and the files saved), with no progress. With --workers N or --cluster ADDRESS, each
    batch's gradient is computed data-parallel on Dask workers (the distributed extra);
    the result is that of a one-process run.
    """
    text = fmt == "text"
    if text:
        need("rich", "train")
    check_cluster_flags(cluster, workers)
    compile_backend = options["compile_backend"]
    if compile_backend is not None and (cluster is not None or workers is not None):
        raise InputError("--compile runs the step in this process: not with --workers/--cluster")
    if compile_backend == "numba":
        need("numba", "train --compile numba")
    options["device"] = check_device(options["device"], "train")
    if options["device"] != "cpu" and (compile_backend, cluster, workers) != (None, None, None):
        raise InputError("--device runs the step here, eagerly: not with --compile/--workers")
    if checkpoint_every is not None and out is None:
        raise InputError("--checkpoint-every writes into --out: name the folder")
    if out is not None:
        need("matplotlib", "train --out (for curves.png)")
        _check_out(out)
    say = click.echo if text else (lambda line: None)
    checkpoints: list[int] = []

    def checkpoint(row: dict, model: nn.MLP, spec: dict) -> None:
        if checkpoint_every is not None and row["epoch"] % checkpoint_every == 0:
            out.mkdir(parents=True, exist_ok=True)
            save_model(model, {**spec, "checkpoint_epoch": row["epoch"]}, out / CHECKPOINT)
            checkpoints.append(row["epoch"])

    try:
        with data_parallel(cluster, workers, timeout) as trainer:
            if trainer is not None:
                say(f"data-parallel on the Dask scheduler {trainer.address}")
            run = run_training(
                **options,
                text=text,
                fitter=fit if trainer is None else trainer.fit,
                on_epoch=checkpoint,
                out=out,
            )
            if trainer is not None:
                _say_timing(trainer, say)
                run.metrics["distributed"] = {
                    "scheduler": trainer.address,
                    **trainer.timing.summary(),
                }
    except ConnectionError as error:  # the scheduler was lost mid-run
        kept = (
            f"the checkpoint of epoch {checkpoints[-1]} is kept in {out / CHECKPOINT}"
            if checkpoints
            else "no checkpoint was written (pass --out DIR --checkpoint-every K)"
        )
        raise click.ClickException(f"{error}; {kept}") from None
    metrics, rows = run.metrics, run.rows
    if out is None:
        say("(pass --out DIR to save the model, metrics and curves)")
        if not text:
            click.echo(strict_json.dumps({**metrics, "saved": None}))
        return
    try:
        with atomic_folder(out, OUTPUT_FILES) as staging:
            save_model(run.model, run.spec, staging / "model.npz")
            _write_text(staging / "metrics.json", strict_json.dumps(metrics) + "\n")
            _write_text(staging / "metrics.csv", _metrics_csv(rows))
            _plot_curves(rows, staging / "curves.png")
    except OSError as error:
        raise InputError(f"cannot write to --out {str(out)!r}: {error}") from None
    say(f"saved model.npz, metrics.json, metrics.csv and curves.png in {out}")
    if not text:
        saved = [str(out / name) for name in OUTPUT_FILES if name != CHECKPOINT]
        click.echo(strict_json.dumps({**metrics, "saved": saved}))


def _resolve_architecture(
    layers: str | None, loss: str | None, recipe: Recipe, data: LabeledData
) -> tuple[list[int], str]:
    """Layer sizes and loss from the flags, falling back on the dataset's recipe."""
    if layers:
        sizes = _parse_layers(layers)
        if loss is None:
            single = sizes[-1] == 1
            loss = (recipe.loss or "bce") if single else "cross-entropy"
        return sizes, loss
    loss = loss or recipe.loss or "cross-entropy"
    outputs = data.num_classes if loss == "cross-entropy" else 1
    return [data.num_features, *recipe.hidden, outputs], loss


@main.command()
@click.argument("model_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--data",
    "data_spec",
    default=None,
    help="Dataset to score on (default: the one the model was trained on).",
)
@click.option("--label-column", default=None, help="CSV label column (default: as in training).")
@click.option(
    "--split",
    type=click.Choice(["auto", "test", "all"]),
    default="auto",
    show_default=True,
    help="test: the training run's test split; all: every sample; auto: test when "
    "--data is the training data, else all.",
)
@_FORMAT
def evaluate(
    model_path: Path, data_spec: str | None, label_column: str | None, split: str, fmt: str
) -> None:
    """Score a saved model.npz: loss, accuracy and confusion matrix."""
    if fmt == "text":
        need("rich", "evaluate")
    try:
        model, spec = load_model(model_path)
    except nn.ModelFileError as error:
        raise InputError(str(error)) from None
    data_spec = data_spec or spec["data"]
    same_data = data_spec == spec["data"]
    label_column = label_column or (spec.get("label_column") if same_data else None)
    classes = spec["classes"] if data_spec.startswith("csv:") else None
    data = _load(data_spec, label_column, classes)
    if data.num_features != spec["sizes"][0]:
        raise InputError(
            f"the model takes {spec['sizes'][0]} features but {data_spec} has "
            f"{data.num_features}: it was trained on {spec['data']}"
        )
    if data.num_classes != len(spec["classes"]):
        raise InputError(
            f"the model predicts {len(spec['classes'])} classes but {data_spec} has "
            f"{data.num_classes}: it was trained on {spec['data']}"
        )
    if split == "test" or (split == "auto" and same_data):
        settings = spec["split"]
        _, _, part = splits(
            data, settings["val_fraction"], settings["test_fraction"], settings["seed"]
        )
        description = "test split of the training run"
    else:
        part = data.test if data.test is not None else data
        description = "test files" if data.test is not None else "all samples"
    result = score(model, standardized(part.features, spec), part.labels, spec)
    if fmt == "json":
        payload = {
            "model": str(model_path),
            "data": data_spec,
            "split": description,
            "samples": len(part),
            "loss": result["loss"],
            "accuracy": result["accuracy"],
            "confusion_matrix": result["confusion"].tolist(),
            "classes": spec["classes"],
        }
        click.echo(strict_json.dumps(payload))
        return
    click.echo(
        f"{data_spec} ({description}, {len(part)} samples): loss {result['loss']:.4f}, "
        f"accuracy {100 * result['accuracy']:.2f}%"
    )
    _print_confusion(result["confusion"], spec["classes"], "confusion matrix")
