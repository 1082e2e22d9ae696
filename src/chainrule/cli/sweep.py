"""``chainrule sweep CONFIG.toml``: a grid or random search over ``train``'s options, on Dask.

Layer: cli (imports chainrule.cli.train, io and, lazily, Dask and matplotlib). Each run is
one Dask task that calls :func:`chainrule.cli.train.run_training`, exactly what ``train``
does, so a run's numbers equal ``chainrule train`` with the same options. The config's
top-level keys are fixed options, spelled as on the command line without the dashes
(``data = "digits"``, ``batch-size = 32``); ``[grid]`` maps options to lists of values and
enumerates every combination; ``[random]`` draws ``samples`` combinations (seeded by its
``seed``), each option from a list or from ``{min = ..., max = ..., log = true}``.

With ``--out DIR`` each finished run is written at once to ``DIR/runs/ID.json`` (ID: a hash
of the run's options), so an interrupted sweep resumes where it stopped: runs already there
are not redone. DIR also gets results.csv, results.json and best.png (the best runs'
validation curves), written atomically.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import math
import os
import threading
import tomllib
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..io import strict_json
from ..io.files import write_bytes
from ..io.plotting import save_figure, subplots
from . import train as train_module  # a module: `train` may still be loading (app imports both)
from .app import (
    CLUSTER_OPTION,
    TIMEOUT_OPTION,
    WORKERS_OPTION,
    InputError,
    OutputFolder,
    check_cluster_flags,
    main,
    need,
)

#: train's options a sweep may set (its command-line names without the dashes).
SWEEP_OPTIONS = (
    "data",
    "layers",
    "activation",
    "optimizer",
    "lr",
    "momentum",
    "weight-decay",
    "epochs",
    "batch-size",
    "loss",
    "seed",
    "val-fraction",
    "test-fraction",
    "label-column",
    "dtype",
)
#: How many of the best runs best.png draws.
BEST_PLOTTED = 5
RESULT_COLUMNS = (
    "rank",
    "id",
    "status",
    "val_accuracy",
    "val_loss",
    "train_loss",
    "test_accuracy",
    "test_loss",
    "train_seconds",
    "options",
)


# --- the config -----------------------------------------------------------------------------


def _option_name(key: str, where: str) -> str:
    name = key.replace("_", "-")
    if name not in SWEEP_OPTIONS:
        raise InputError(
            f"{where}: {key!r} is not a train option a sweep can set "
            f"(one of {', '.join(SWEEP_OPTIONS)})"
        )
    return name


def _values(key: str, values: Any, where: str) -> list:
    if not isinstance(values, list) or not values:
        raise InputError(f"{where}: {key} must be a non-empty list of values, got {values!r}")
    return values


def _draw(key: str, choice: Any, rng: np.random.Generator) -> Any:
    """One value for ``key`` from a list, or from a {min, max, log} range."""
    if isinstance(choice, list):
        return choice[rng.integers(len(choice))]
    low, high = choice["min"], choice["max"]
    if choice.get("log", False):
        return float(math.exp(rng.uniform(math.log(low), math.log(high))))
    return float(rng.uniform(low, high))


def _check_random_range(key: str, choice: Any) -> None:
    where = f"[random] {key}"
    if isinstance(choice, list):
        _values(key, choice, "[random]")
        return
    if not isinstance(choice, dict) or set(choice) - {"min", "max", "log"}:
        raise InputError(f"{where}: give a list of values or {{min = ..., max = ..., log = ...}}")
    low, high = choice.get("min"), choice.get("max")
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in (low, high)) or low > high:
        raise InputError(f"{where}: min and max must be finite numbers with min <= max")
    if choice.get("log", False) and low <= 0:
        raise InputError(f"{where}: a log range needs min > 0")


def _spelled(options: dict) -> dict:
    """Options as the command line spells them: a list of layer sizes becomes ``64,32,10``."""
    return {
        name: ",".join(map(str, value)) if isinstance(value, list) else value
        for name, value in options.items()
    }


def expand_config(config: dict) -> list[dict]:
    """The runs a parsed config describes: one dict of options (CLI names) per run."""
    return [_spelled(options) for options in _combinations(config)]


def _combinations(config: dict) -> list[dict]:
    grid = config.get("grid", {})
    random = config.get("random")
    if not isinstance(grid, dict) or (random is not None and not isinstance(random, dict)):
        raise InputError("[grid] and [random] must be tables")
    if grid and random:
        raise InputError("give a [grid] table or a [random] table, not both")
    fixed = {
        _option_name(key, "top level"): value
        for key, value in config.items()
        if key not in ("grid", "random")
    }
    if random is None:
        names = [_option_name(key, "[grid]") for key in grid]
        lists = [_values(key, value, "[grid]") for key, value in grid.items()]
        combinations = itertools.product(*lists)
        return [{**fixed, **dict(zip(names, combo, strict=True))} for combo in combinations]
    random = dict(random)
    samples, seed = random.pop("samples", None), random.pop("seed", 0)
    if type(samples) is not int or samples < 1:
        raise InputError(f"[random] needs samples = a positive integer, got {samples!r}")
    if type(seed) is not int:
        raise InputError(f"[random] seed must be an integer, got {seed!r}")
    for key, choice in random.items():
        _check_random_range(key, choice)
    names = {key: _option_name(key, "[random]") for key in random}
    rng = np.random.default_rng(seed)
    return [
        {**fixed, **{names[key]: _draw(key, choice, rng) for key, choice in random.items()}}
        for _ in range(samples)
    ]


def load_config(path: Path) -> list[dict]:
    """The runs of the sweep described by the TOML file at ``path``."""
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"cannot read {str(path)!r}: {error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{str(path)!r} is not valid TOML: {error}") from None
    return expand_config(config)


def run_id(options: dict) -> str:
    """A run's name: a hash of its options, the same in every sweep that holds it."""
    text = json.dumps(options, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def train_parameters(options: dict) -> dict:
    """``run_training``'s keyword arguments for a run's options, checked as ``train`` checks
    its flags (a bad value is an InputError naming the run)."""
    arguments = [f"--{name}={value}" for name, value in options.items()]
    try:
        context = train_module.train.make_context("train", arguments, resilient_parsing=False)
    except click.ClickException as error:
        raise InputError(f"run {_describe(options)}: {error.format_message()}") from None
    for name in ("out", "cluster", "workers", "checkpoint_every", "timeout", "fmt"):
        context.params.pop(name)
    return context.params


def _describe(options: dict) -> str:
    return " ".join(f"{name}={value}" for name, value in options.items())


# --- one run, on a worker --------------------------------------------------------------------

#: Runs in one worker process take turns: the default generator they seed is process-wide.
_ONE_RUN_AT_A_TIME = threading.Lock()


def run_one(options: dict) -> dict:
    """Run on a Dask worker: train with ``options`` and return the run's record."""
    record: dict[str, Any] = {"id": run_id(options), "options": options}
    with _ONE_RUN_AT_A_TIME:
        try:
            run = train_module.run_training(**train_parameters(options))
        except click.ClickException as error:  # a divergence, or data the worker cannot load
            return {**record, "status": "failed", "error": error.format_message()}
    last = run.rows[-1]
    return {
        **record,
        "status": "ok",
        "val_accuracy": last["val_accuracy"],
        "val_loss": last["val_loss"],
        "train_loss": last["train_loss"],
        "test_accuracy": run.metrics["test_accuracy"],
        "test_loss": run.metrics["test_loss"],
        "train_seconds": run.metrics["train_seconds"],
        "epochs": run.rows,
    }


def _ranking_key(record: dict) -> tuple:
    """Best first: finished runs by validation accuracy (training loss without a validation
    split), then lower validation loss; failed runs last."""
    if record["status"] != "ok":
        return (1, 0.0, 0.0)
    if record["val_accuracy"] is None:
        return (0, record["train_loss"], 0.0)
    return (0, -record["val_accuracy"], record["val_loss"])


# --- the results -------------------------------------------------------------------------------


def _results_csv(records: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=RESULT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for rank, record in enumerate(records, 1):
        row = {key: record.get(key) for key in RESULT_COLUMNS}
        row.update(rank=rank, options=_describe(record["options"]))
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return buffer.getvalue()


def _plot_best(records: list[dict], path: Path) -> None:
    """Validation accuracy (or training loss) per epoch of the best runs."""
    best = [r for r in records if r["status"] == "ok"][:BEST_PLOTTED]
    figure, axes = subplots(1, 1, figsize=(7, 4))
    validated = bool(best) and best[0]["val_accuracy"] is not None
    column = "val_accuracy" if validated else "train_loss"
    for rank, record in enumerate(best, 1):
        epochs = [row["epoch"] for row in record["epochs"]]
        values = [row[column] for row in record["epochs"]]
        axes.plot(epochs, values, label=f"#{rank} {record['id']}")
    axes.set_xlabel("epoch")
    axes.set_ylabel("validation accuracy" if validated else "training loss")
    axes.set_title(f"the {len(best)} best runs")
    axes.grid(alpha=0.3)
    if best:
        axes.legend(fontsize="small")
    figure.tight_layout()
    save_figure(figure, path)


def _load_finished(runs_folder: Path, wanted: set[str]) -> dict[str, dict]:
    """Records of this sweep's runs already written by an earlier, interrupted sweep."""
    finished = {}
    for identifier in wanted:
        path = runs_folder / f"{identifier}.json"
        try:
            finished[identifier] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue  # missing (or unreadable): run it
    return finished


@main.command()
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@CLUSTER_OPTION
@WORKERS_OPTION
@click.option(
    "--out",
    type=OutputFolder(file_okay=False, path_type=Path),
    default=None,
    help="Folder for runs/, results.csv, results.json and best.png; a sweep resumes there.",
)
@TIMEOUT_OPTION
def sweep(
    config: Path, cluster: str | None, workers: int | None, out: Path | None, timeout: float
) -> None:
    """Grid or random search over train's options, each run a task on a Dask cluster.

    Without --cluster or --workers, a local cluster of one worker per CPU runs the sweep.
    """
    need("distributed", "sweep")
    check_cluster_flags(cluster, workers)
    if out is not None:
        need("matplotlib", "sweep --out (for best.png)")
    runs = load_config(config)
    by_id = {run_id(options): options for options in runs}
    for options in by_id.values():
        train_parameters(options)  # every run's options are checked before any work
    runs_folder = None if out is None else out / "runs"
    records = {} if runs_folder is None else _load_finished(runs_folder, set(by_id))
    pending = {identifier: o for identifier, o in by_id.items() if identifier not in records}
    click.echo(
        f"sweep of {len(by_id)} runs: {len(records)} already finished in {out}, "
        f"{len(pending)} to run"
        if records
        else f"sweep of {len(by_id)} runs"
    )
    if pending:
        records.update(_run_all(pending, cluster, workers, timeout, runs_folder))
    ranked = sorted((records[i] for i in by_id), key=_ranking_key)
    _print_best(ranked)
    if out is not None:
        table = [{k: v for k, v in r.items() if k != "epochs"} for r in ranked]
        write_bytes(out / "results.csv", _results_csv(ranked).encode("utf-8"))
        payload = strict_json.dumps({"runs": table}) + "\n"
        write_bytes(out / "results.json", payload.encode("utf-8"))
        _plot_best(ranked, out / "best.png")
        click.echo(f"saved results.csv, results.json and best.png in {out}")


def _run_all(
    pending: dict[str, dict],
    cluster: str | None,
    workers: int | None,
    timeout: float,
    runs_folder: Path | None,
) -> dict[str, dict]:
    """Submit every pending run as a Dask task; write each record as soon as it arrives."""
    distributed = need("distributed", "sweep")
    from ..distributed import CONNECTION_LOSS, connect

    if cluster is None and workers is None:
        workers = min(os.cpu_count() or 1, len(pending))
    finished: dict[str, dict] = {}
    try:
        with connect(cluster, workers, timeout) as client:
            futures = {
                client.submit(run_one, options, key=f"chainrule-sweep-{identifier}"): identifier
                for identifier, options in pending.items()
            }
            for future in distributed.as_completed(futures, loop=client.loop):
                record = future.result()
                finished[futures[future]] = record
                if runs_folder is not None:
                    path = runs_folder / f"{record['id']}.json"
                    write_bytes(path, (strict_json.dumps(record) + "\n").encode("utf-8"))
                click.echo(f"  [{len(finished)}/{len(pending)}] {_summary_line(record)}")
    except CONNECTION_LOSS as error:  # SchedulerLostError included
        kept = f"; {len(finished)} finished runs are kept in {runs_folder}" if runs_folder else ""
        raise click.ClickException(f"the sweep stopped: {error}{kept}") from None
    return finished


def _summary_line(record: dict) -> str:
    options = _describe(record["options"])
    if record["status"] != "ok":
        return f"{options}: failed ({record['error']})"
    if record["val_accuracy"] is None:
        return f"{options}: train loss {record['train_loss']:.4f}"
    return f"{options}: validation accuracy {100 * record['val_accuracy']:.2f}%"


def _print_best(ranked: list[dict]) -> None:
    click.echo(f"best of {len(ranked)} runs:")
    for rank, record in enumerate(ranked[:BEST_PLOTTED], 1):
        click.echo(f"  #{rank} {record['id']}  {_summary_line(record)}")
