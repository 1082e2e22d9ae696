"""``chainrule sweep``: configs expand to the right runs, runs are Dask tasks whose numbers
equal ``train``'s, results are written, and a second sweep redoes nothing."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from chainrule.cli import main
from chainrule.cli.app import InputError
from chainrule.cli.sweep import expand_config, run_id, train_parameters

CONFIG = """
data = "moons"
epochs = 2
batch-size = 50

[grid]
lr = [0.01, 0.1]
seed = [0, 1]
"""


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_a_grid_enumerates_every_combination_in_order():
    runs = expand_config({"epochs": 3, "grid": {"lr": [0.1, 0.2], "layers": [[2, 4, 2], "2,8,2"]}})
    assert runs == [
        {"epochs": 3, "lr": 0.1, "layers": "2,4,2"},
        {"epochs": 3, "lr": 0.1, "layers": "2,8,2"},
        {"epochs": 3, "lr": 0.2, "layers": "2,4,2"},
        {"epochs": 3, "lr": 0.2, "layers": "2,8,2"},
    ]


def test_random_search_draws_reproducibly_within_its_ranges():
    config = {
        "random": {
            "samples": 20,
            "seed": 4,
            "lr": {"min": 1e-4, "max": 1e-1, "log": True},
            "momentum": {"min": 0.5, "max": 0.9},
            "activation": ["relu", "tanh"],
        }
    }
    runs = expand_config(config)
    assert runs == expand_config(config) and len(runs) == 20
    assert all(1e-4 <= r["lr"] <= 1e-1 and 0.5 <= r["momentum"] <= 0.9 for r in runs)
    assert {r["activation"] for r in runs} == {"relu", "tanh"}
    assert len({run_id(r) for r in runs}) == 20


def test_no_table_is_one_run_and_underscores_are_dashes():
    assert expand_config({"batch_size": 8}) == [{"batch-size": 8}]


@pytest.mark.parametrize(
    "config, message",
    [
        ({"learning_rate": 0.1}, "'learning_rate' is not a train option"),
        ({"grid": {"out": ["x"]}}, "'out' is not a train option"),
        ({"grid": {"lr": []}}, "non-empty list"),
        ({"grid": {"lr": 0.1}}, "non-empty list"),
        ({"grid": {"lr": [0.1]}, "random": {"samples": 2}}, "not both"),
        ({"random": {"lr": [0.1]}}, "samples = a positive integer"),
        ({"random": {"samples": 2, "lr": {"min": 0, "max": 1, "log": True}}}, "min > 0"),
        ({"random": {"samples": 2, "lr": {"min": 2, "max": 1}}}, "min <= max"),
    ],
)
def test_bad_configs_are_input_errors(config, message):
    with pytest.raises(InputError, match=message):
        expand_config(config)


def test_a_bad_value_names_the_run_before_any_work(tmp_path):
    pytest.importorskip("distributed")
    config = tmp_path / "sweep.toml"
    config.write_text("[grid]\nlr = [0.1, -1]\nepochs = [1]\n")
    out = tmp_path / "o"
    result = invoke("sweep", str(config), "--cluster", "tcp://127.0.0.1:9", "--out", str(out))
    assert result.exit_code == 2
    assert "run lr=-1 epochs=1" in result.output and "--lr" in result.output
    assert not out.exists()


def test_a_config_that_is_not_toml_is_one_line(tmp_path):
    pytest.importorskip("distributed")
    config = tmp_path / "sweep.toml"
    config.write_text("lr = = 1\n")
    result = invoke("sweep", str(config))
    assert result.exit_code == 2 and "is not valid TOML" in result.output


def test_a_sweep_runs_on_the_cluster_writes_results_and_resumes(dask_client, tmp_path):
    config, out = tmp_path / "sweep.toml", tmp_path / "sweep"
    config.write_text(CONFIG)
    cluster = ["--cluster", dask_client.scheduler.address]
    result = invoke("sweep", str(config), *cluster, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.output.count("validation accuracy") == 4 + 4  # each run, then the best
    assert sorted(p.name for p in out.iterdir()) == [
        "best.png",
        "results.csv",
        "results.json",
        "runs",
    ]
    assert (out / "best.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    runs = json.loads((out / "results.json").read_text())["runs"]
    assert len(runs) == 4 and len(list((out / "runs").iterdir())) == 4
    accuracies = [run["val_accuracy"] for run in runs]
    assert accuracies == sorted(accuracies, reverse=True)
    lines = (out / "results.csv").read_text().splitlines()
    assert lines[0].startswith("rank,id,status,val_accuracy") and len(lines) == 5

    # A run's numbers are train's with the same options.
    best = runs[0]
    options = [f"--{name}={value}" for name, value in best["options"].items()]
    alone = json.loads(invoke("train", *options, "--format", "json").output)
    assert alone["test_accuracy"] == best["test_accuracy"]
    assert alone["epochs"][-1]["val_loss"] == pytest.approx(best["val_loss"], rel=1e-12)

    # Resuming needs no cluster for finished runs: an unreachable address is never contacted.
    again = invoke("sweep", str(config), "--cluster", "tcp://127.0.0.1:9", "--out", str(out))
    assert again.exit_code == 0, again.output
    assert "4 already finished" in again.output and "0 to run" in again.output
    assert json.loads((out / "results.json").read_text())["runs"] == runs

    # A larger grid runs only its new combinations.
    config.write_text(CONFIG.replace("seed = [0, 1]", "seed = [0, 1, 2]"))
    more = invoke("sweep", str(config), *cluster, "--out", str(out))
    assert more.exit_code == 0, more.output
    assert "4 already finished" in more.output and "2 to run" in more.output
    assert len(json.loads((out / "results.json").read_text())["runs"]) == 6


def test_the_readme_example_config_expands_to_its_grid():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    runs = expand_config(tomllib.loads(example))
    assert len(runs) == 2 * 2 * 2 * 2 * 2
    for options in runs[:2]:
        train_parameters(options)  # valid train options
    commented = "\n".join(line.removeprefix("# ") for line in example.splitlines()[-5:])
    assert len(expand_config(tomllib.loads(commented))) == 20
