"""What ``chainrule train`` prints when its output is not a terminal: whole, 80-column lines."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from chainrule.cli import main
from chainrule.cli.train import LINE_WIDTH, _epoch_line


def test_epoch_lines_are_whole_and_fit_80_columns_in_a_pipe():
    result = CliRunner().invoke(main, ["train", "--data", "moons", "--epochs", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    epochs = [line for line in lines if line.startswith("epoch ")]
    assert len(epochs) == 3
    for line in epochs:
        assert len(line) <= 80 and "(val " in line and line.endswith(" s"), line
    assert not [line for line in lines if line.lstrip().startswith(("acc", "(val", "val"))]


@pytest.mark.parametrize(
    ("epoch", "epochs", "seconds", "timed"),
    [(7, 30, 0.12, True), (1234, 5000, 12.5, True), (99999, 99999, 12345.6, False)],
)
def test_an_epoch_line_never_passes_80_columns(epoch, epochs, seconds, timed):
    row = {
        "epoch": epoch,
        "loss": 12.3456,
        "train_accuracy": 1.0,
        "val_loss": 0.4567,
        "val_accuracy": 0.999,
        "seconds": seconds,
    }
    line = _epoch_line(row, epochs)
    assert len(line) <= LINE_WIDTH == 80
    assert line.startswith(f"epoch {epoch:>{len(str(epochs))}}/{epochs}  loss 12.3456 (val 0.4567)")
    assert line.endswith(f"{seconds:.2f} s") == timed
