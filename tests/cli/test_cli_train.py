"""``chainrule train`` and ``chainrule evaluate`` end to end, including bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from chainrule import nn
from chainrule.cli import main


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def assert_input_error(result, message):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("Error:") and message in lines[-1], result.output
    assert "Traceback" not in result.output


def test_default_trains_the_recitation_xor_network(tmp_path):
    result = invoke("train", "--out", str(tmp_path / "run"))
    assert result.exit_code == 0, result.output
    assert "2 -> 2 -> 1 (sigmoid, mse" in result.output
    assert "learned weights" in result.output and "W =" in result.output
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["test_loss"] < 0.01 and metrics["test_accuracy"] == 1.0
    assert len(metrics["epochs"]) == metrics["config"]["epochs"]
    state, spec = nn.load_with_metadata(tmp_path / "run" / "model.npz")
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert spec["sizes"] == [2, 2, 1] and state["0.weight"].dtype == np.float32
    header = (tmp_path / "run" / "metrics.csv").read_text().splitlines()[0]
    assert header.startswith("epoch,loss,train_loss,train_accuracy,val_loss,val_accuracy")
    assert (tmp_path / "run" / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_digits_trains_saves_and_evaluates_identically(tmp_path):
    out = tmp_path / "digits"
    result = invoke(
        "train", "--data", "digits", "--layers", "64,32,10", "--epochs", "8",
        "--lr", "3e-3", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "confusion matrix" in result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.9
    assert np.array(metrics["confusion_matrix"]).sum() == metrics["test_samples"]
    evaluated = invoke("evaluate", str(out / "model.npz"), "--data", "digits")
    assert evaluated.exit_code == 0, evaluated.output
    assert f"accuracy {100 * metrics['test_accuracy']:.2f}%" in evaluated.output
    everything = invoke("evaluate", str(out / "model.npz"), "--split", "all")
    assert "1797 samples" in everything.output


def test_moons_reaches_the_target(tmp_path):
    result = invoke("train", "--data", "moons", "--epochs", "40", "--out", str(tmp_path / "m"))
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert result.exit_code == 0 and metrics["test_accuracy"] >= 0.97


def test_csv_training_and_evaluation(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((120, 2))
    label = np.where(x[:, 0] + x[:, 1] > 0, 5, 9)
    rows = "\n".join(f"{a},{b},{c}" for (a, b), c in zip(x, label, strict=True))
    path = tmp_path / "points.csv"
    path.write_text("a,b,kind\n" + rows + "\n")
    result = invoke(
        "train", "--data", f"csv:{path}", "--epochs", "30", "--out", str(tmp_path / "r")
    )
    assert result.exit_code == 0, result.output
    assert "2 -> 32 -> 2" in result.output
    evaluated = invoke("evaluate", str(tmp_path / "r" / "model.npz"))
    assert evaluated.exit_code == 0 and "accuracy" in evaluated.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "csv:missing.csv"], "does not exist"),
        (["--data", "iris"], "unknown dataset 'iris'"),
        (["--data", "digits", "--layers", "10,5,10"], "starts with 10 inputs but digits has 64"),
        (["--data", "digits", "--layers", "64,5,3"], "ends with 3 outputs but digits has 10"),
        (["--layers", "2,x,1"], "comma-separated integers"),
        (["--data", "mnist:nowhere"], "does not exist"),
    ],
)
def test_bad_training_input_exits_2_and_writes_nothing(tmp_path, args, message):
    out = tmp_path / "out"
    assert_input_error(invoke("train", *args, "--epochs", "1", "--out", str(out)), message)
    assert not out.exists()


def test_bad_csv_labels(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,cat\n2,1\n")
    result = invoke("train", "--data", f"csv:{path}", "--out", str(tmp_path / "out"))
    assert_input_error(result, "holds 'cat', not an integer")
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def xor_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("xor")
    assert invoke("train", "--epochs", "5", "--out", str(out)).exit_code == 0
    return out / "model.npz"


def test_bad_model_files(tmp_path, xor_model):
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(xor_model.read_bytes()[:200])
    assert_input_error(invoke("evaluate", str(truncated)), "truncated or corrupt")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"\x00" * 100)
    assert_input_error(invoke("evaluate", str(garbage)), "not a readable .npz")
    plain = tmp_path / "plain.npz"
    np.savez(plain, weights=np.zeros(3))
    assert_input_error(invoke("evaluate", str(plain)), "not a chainrule model file")
    state, spec = nn.load_with_metadata(xor_model)
    mismatched = tmp_path / "mismatched.npz"
    nn.save(dict(state, **{"0.weight": np.zeros((3, 2))}), mismatched, metadata=spec)
    assert_input_error(
        invoke("evaluate", str(mismatched)), "does not match its stored architecture"
    )
    assert_input_error(invoke("evaluate", str(tmp_path / "none.npz")), "does not exist")
    assert_input_error(
        invoke("evaluate", str(xor_model), "--data", "digits"), "takes 2 features but digits has 64"
    )


def test_saving_model_is_atomic_and_round_trips(tmp_path):
    model = nn.MLP([3, 4, 2], dtype=np.float32)
    path = tmp_path / "model.npz"
    nn.save(model.state_dict(), path, metadata={"note": "x"})
    state, metadata = nn.load_with_metadata(path)
    assert metadata == {"note": "x"} and list(tmp_path.iterdir()) == [path]
    copy = nn.MLP([3, 4, 2], dtype=np.float32)
    copy.load_state_dict(state)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_array_equal(copy(x).data, model(x).data)


def test_a_failed_save_leaves_no_file_behind(tmp_path, monkeypatch):
    from chainrule.nn import serialization

    def broken(handle, arrays):
        handle.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "_write_npz", broken)
    with pytest.raises(OSError, match="disk full"):
        nn.save(nn.MLP([3, 2]).state_dict(), tmp_path / "model.npz")
    assert list(tmp_path.iterdir()) == []


def test_state_dict_keys_may_be_any_name(tmp_path):
    state = {"file": np.ones(2), "allow_pickle": np.zeros(3, np.float32)}
    nn.save(state, tmp_path / "m.npz")
    loaded = nn.load(tmp_path / "m.npz")
    assert list(loaded) == ["file", "allow_pickle"] and loaded["allow_pickle"].dtype == np.float32


@pytest.mark.parametrize("flag", ["--lr", "--momentum", "--weight-decay"])
def test_negative_hyperparameters_exit_2(flag):
    result = CliRunner().invoke(main, ["train", flag, "-1"])
    assert result.exit_code == 2 and "Traceback" not in result.output and flag in result.output


def test_evaluate_rejects_a_model_file_with_an_incomplete_spec(tmp_path):
    from chainrule import training

    spec = {"format": training.MODEL_FORMAT, "version": training.MODEL_VERSION}
    spec |= {"sizes": [2, 2, 1], "activation": "sigmoid", "loss": "mse", "dtype": "float32"}
    model = training.build_model(spec)
    training.save_model(model, spec, tmp_path / "m.npz")
    result = CliRunner().invoke(main, ["evaluate", str(tmp_path / "m.npz")])
    assert result.exit_code == 2 and "lacks" in result.output and "classes" in result.output


def test_unknown_optimizer_name_is_an_error():
    from chainrule import training

    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        training.make_optimizer("rmsprop", nn.MLP([2, 1]), 0.1, 0.0, 0.0)


def test_a_negative_seed_is_refused_in_one_line():
    result = CliRunner().invoke(main, ["train", "--seed", "-1"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "--seed" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["--lr", "nan"],
        ["--lr", "inf"],
        ["--momentum", "nan"],
        ["--weight-decay", "-inf"],
        ["--out", ""],
    ],
)
def test_non_finite_hyperparameters_and_an_empty_output_folder_are_refused(args):
    result = CliRunner().invoke(main, ["train", *args])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and args[0] in result.output


def test_a_diverging_run_stops_with_one_line_and_writes_no_half_output(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(
        main, ["train", "--data", "moons", "--lr", "1e300", "--epochs", "3", "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "training diverged" in result.output and "Traceback" not in result.output
    assert not (out / "metrics.json").exists()


def test_fit_keeps_the_last_finished_epoch_when_the_loss_stops_being_finite():
    from chainrule import training
    from chainrule.data import load_dataset

    data = training.splits(load_dataset("moons"), 0.2, 0.2, 0)
    spec = {
        "sizes": [2, 8, 2],
        "activation": "relu",
        "loss": "cross-entropy",
        "dtype": "float64",
        "classes": ["0", "1"],
        "input_mean": [0.0, 0.0],
        "input_std": [1.0, 1.0],
    }
    nn.manual_seed(0)
    model = training.build_model(spec)
    optimizer = training.make_optimizer("sgd", model, 0.1, 0.0, 0.0)
    saved = {}

    def blow_up(row):  # after epoch 1, a learning rate that overflows at once
        saved.update(model.state_dict())
        optimizer.param_groups[0]["lr"] = 1e300

    train, val = (data[0].features, data[0].labels), (data[1].features, data[1].labels)
    with pytest.raises(training.DivergedError, match="epoch 2") as error, np.errstate(all="ignore"):
        training.fit(model, spec, train, val, optimizer, 3, 32, 0, on_epoch=blow_up)
    assert len(error.value.rows) == 1
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, saved[name])


def _model_file(tmp_path, spec_changes=None, arrays=None):
    """A model file like chainrule train writes, with its spec or arrays altered."""
    import json

    from chainrule.nn.serialization import METADATA_KEY

    spec = {
        "format": "chainrule.mlp",
        "version": 1,
        "sizes": [2, 2, 1],
        "activation": "sigmoid",
        "loss": "mse",
        "dtype": "float64",
        "classes": ["0", "1"],
        "data": "xor",
        "split": {"seed": 0, "val_fraction": 0.0, "test_fraction": 0.0},
        "input_mean": [0.0, 0.0],
        "input_std": [1.0, 1.0],
    }
    spec.update(spec_changes or {})
    arrays = arrays or {
        "0.weight": np.zeros((2, 2)),
        "0.bias": np.zeros(2),
        "2.weight": np.zeros((1, 2)),
        "2.bias": np.zeros(1),
    }
    path = tmp_path / "model.npz"
    np.savez(path, **arrays, **{METADATA_KEY: np.array(json.dumps(spec))})
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"loss": "hinge"}, "unknown loss"),
        ({"split": {}}, "split must hold"),
        ({"classes": 5}, "classes must be"),
        ({"data": 5}, "data must be"),
        ({"input_mean": ["a", 0.0]}, "input_mean must be"),
        ({"dtype": "complex128"}, "dtype must be"),
        ({"sizes": [2, 60000, 60000, 1]}, "does not match its stored architecture"),
        ({"sizes": [2, 2**40, 1]}, "sizes must be"),
    ],
)
def test_model_files_with_bad_metadata_are_refused_before_building(tmp_path, changes, message):
    path = _model_file(tmp_path, changes)
    result = CliRunner().invoke(main, ["evaluate", str(path), "--data", "xor"])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_an_array_header_declaring_a_huge_array_is_refused_before_reading(tmp_path):
    import zipfile

    path = _model_file(tmp_path)
    with zipfile.ZipFile(path, "a") as archive:  # a header claiming 10**12 float64 values
        header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }"
        header = header.ljust(118) + b"\n"
        archive.writestr(
            "huge.npy", b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
        )
    result = CliRunner().invoke(main, ["evaluate", str(path), "--data", "xor"])
    assert result.exit_code == 2 and "declares" in result.output


def test_a_deflated_bomb_is_refused_before_it_is_inflated(tmp_path):
    """2 MB of deflated zeros would inflate to 2 GB; the ratio gives it away unread."""
    import zipfile

    path = _model_file(tmp_path)
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (8388608,), }"
    header = header.ljust(118) + b"\n"
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("bomb.npy", "w", force_zip64=True) as member:
            member.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header)
            zeros = bytes(1 << 20)
            for _ in range(64):  # 64 MiB of zeros, about 64 KB deflated
                member.write(zeros)
    assert path.stat().st_size < 1 << 20
    result = CliRunner().invoke(main, ["evaluate", str(path), "--data", "xor"])
    assert result.exit_code == 2 and "inflates" in result.output
    assert "Traceback" not in result.output


def test_arrays_declaring_too_much_together_are_refused(tmp_path, monkeypatch):
    from chainrule.nn import serialization

    path = _model_file(tmp_path)
    monkeypatch.setattr(serialization, "MAX_MODEL_BYTES", 64)  # a tiny budget for this file
    result = CliRunner().invoke(main, ["evaluate", str(path), "--data", "xor"])
    assert result.exit_code == 2 and "more than a model file may hold" in result.output


def test_out_holding_the_users_files_is_refused_before_training(tmp_path):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "todo.txt").write_text("mine")
    result = invoke("train", "--epochs", "2", "--out", str(out))
    assert_input_error(result, "holds files chainrule did not write (todo.txt)")
    assert "training" not in result.output  # refused before any work
    assert sorted(p.name for p in out.iterdir()) == ["todo.txt"]


def test_a_second_run_replaces_the_first_runs_folder_whole(tmp_path):
    out = tmp_path / "run"
    assert invoke("train", "--epochs", "2", "--out", str(out)).exit_code == 0
    first = (out / "metrics.json").read_text()
    assert invoke("train", "--epochs", "3", "--out", str(out)).exit_code == 0
    assert (out / "metrics.json").read_text() != first
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["model.npz", "metrics.json", "metrics.csv", "curves.png"]
    )
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no staging folder left behind


def test_ctrl_c_while_saving_leaves_no_output_folder(tmp_path, monkeypatch):
    from chainrule.cli import train as train_command

    def interrupted(rows, path):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_command, "_plot_curves", interrupted)  # Ctrl-C at the last file
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["train", "--epochs", "2", "--out", str(out)])
    assert result.exit_code != 0
    assert not out.exists() and list(tmp_path.iterdir()) == []
