"""``chainrule train --cluster/--workers`` end to end: the same model and metrics as a local
run, per-worker timing, checkpoints, and a scheduler lost mid-run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from chainrule import nn
from chainrule.cli import main
from chainrule.training import load_model

pytest.importorskip("distributed")

DIGITS = ["--data", "digits", "--dtype", "float64", "--epochs", "2", "--seed", "3"]


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_train_on_the_cluster_equals_the_local_run(dask_client, tmp_path):
    address = dask_client.scheduler.address
    local = invoke("train", *DIGITS, "--out", str(tmp_path / "local"), "--format", "json")
    remote_out = ["--out", str(tmp_path / "remote"), "--format", "json"]
    remote = invoke("train", *DIGITS, "--cluster", address, *remote_out)
    assert local.exit_code == 0 and remote.exit_code == 0, remote.output
    expected, got = json.loads(local.output), json.loads(remote.output)
    for row, row_got in zip(expected["epochs"], got["epochs"], strict=True):
        for key in ("loss", "train_loss", "train_accuracy", "val_loss", "val_accuracy"):
            assert row_got[key] == pytest.approx(row[key], rel=1e-9)
    assert got["test_accuracy"] == expected["test_accuracy"]
    assert got["confusion_matrix"] == expected["confusion_matrix"]
    state, _ = nn.load_with_metadata(tmp_path / "local" / "model.npz")
    state_got, _ = nn.load_with_metadata(tmp_path / "remote" / "model.npz")
    for name, value in state.items():
        np.testing.assert_allclose(state_got[name], value, rtol=1e-6, atol=1e-12)
    timing = got["distributed"]
    assert timing["scheduler"] == address and len(timing["workers"]) == 2
    assert timing["steps"] == 2 * len(range(0, 1257, 64))
    metrics = json.loads((tmp_path / "remote" / "metrics.json").read_text())
    assert metrics["distributed"]["workers"] == timing["workers"]


def test_text_output_has_one_timing_line_per_worker(dask_client):
    address = dask_client.scheduler.address
    result = invoke("train", "--data", "moons", "--epochs", "1", "--cluster", address)
    assert result.exit_code == 0, result.output
    assert "data-parallel on the Dask scheduler tcp://127.0.0.1:" in result.output
    assert result.output.count("  worker tcp://127.0.0.1:") == 2
    assert "communication and scheduling" in result.output


def test_cluster_and_workers_exclude_each_other():
    result = invoke("train", "--cluster", "tcp://127.0.0.1:9", "--workers", "2")
    assert result.exit_code == 2 and "not both" in result.output


def test_checkpoints_need_an_out_folder():
    result = invoke("train", "--checkpoint-every", "1")
    assert result.exit_code == 2 and "--checkpoint-every writes into --out" in result.output


def test_an_unreachable_scheduler_is_one_line(tmp_path):
    out = tmp_path / "run"
    result = invoke("train", "--cluster", "tcp://127.0.0.1:9", "--timeout", "1", "--out", str(out))
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [lines[0]] and "tcp://127.0.0.1:9" in lines[0] and "cannot connect" in lines[0]
    assert not out.exists()


def test_a_finished_run_replaces_its_checkpoints_with_the_model(tmp_path):
    out = tmp_path / "run"
    result = invoke("train", "--epochs", "4", "--checkpoint-every", "2", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["model.npz", "metrics.json", "metrics.csv", "curves.png"]
    )


def test_a_lost_scheduler_keeps_the_last_checkpoint(standalone_scheduler, tmp_path, monkeypatch):
    """The scheduler process is killed right after the checkpoint of epoch 2 is written."""
    address, scheduler = standalone_scheduler
    from chainrule.cli import train as train_module

    save_model = train_module.save_model

    def save_then_lose_the_scheduler(model, spec, path):
        save_model(model, spec, path)
        if spec.get("checkpoint_epoch") == 2:
            scheduler.kill()

    monkeypatch.setattr(train_module, "save_model", save_then_lose_the_scheduler)
    out = tmp_path / "run"
    result = invoke(
        "train",
        "--data",
        "moons",
        "--epochs",
        "6",
        "--cluster",
        address,
        "--timeout",
        "2",
        "--checkpoint-every",
        "1",
        "--out",
        str(out),
        "--format",
        "json",
    )
    assert result.exit_code == 1, result.output
    assert "lost the Dask scheduler" in result.output
    assert "the checkpoint of epoch 2 is kept in" in result.output
    assert [p.name for p in out.iterdir()] == ["checkpoint.npz"]
    model, spec = load_model(out / "checkpoint.npz")
    assert spec["checkpoint_epoch"] == 2 and spec["sizes"] == [2, 16, 16, 2]
