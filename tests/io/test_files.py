"""Files and output folders are written whole or not at all."""

from __future__ import annotations

import signal

import pytest

from chainrule.io.files import ForeignFilesError, _interrupts_held, atomic_folder, atomic_write

NAMES = ("model.npz", "metrics.json")


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_new_folder_appears_only_when_complete(tmp_path):
    out = tmp_path / "run"
    with atomic_folder(out, NAMES) as staging:
        (staging / "model.npz").write_bytes(b"weights")
        assert not out.exists()
        (staging / "metrics.json").write_text("{}")
    assert sorted(p.name for p in out.iterdir()) == sorted(NAMES)
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, RuntimeError])
def test_an_interrupted_run_leaves_the_earlier_folder_as_it_was(tmp_path, interruption):
    out = tmp_path / "run"
    out.mkdir()
    (out / "model.npz").write_bytes(b"old weights")
    (out / "metrics.json").write_text("old")
    with pytest.raises(interruption), atomic_folder(out, NAMES) as staging:
        (staging / "model.npz").write_bytes(b"new weights")
        raise interruption
    assert (out / "model.npz").read_bytes() == b"old weights"
    assert (out / "metrics.json").read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_an_earlier_runs_folder_is_replaced_whole(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "model.npz").write_bytes(b"old")
    (out / "metrics.json").write_text("old")
    with atomic_folder(out, NAMES) as staging:
        (staging / "model.npz").write_bytes(b"new")
    assert [p.name for p in out.iterdir()] == ["model.npz"]  # nothing of the old run is mixed in
    assert (out / "model.npz").read_bytes() == b"new"
    assert _leftovers(tmp_path) == []


def test_a_folder_with_the_users_own_files_is_never_replaced(tmp_path):
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.tex").write_text("precious")
    with pytest.raises(ForeignFilesError, match="chapter1.tex"):
        with atomic_folder(out, NAMES):
            pytest.fail("no work may start")
    assert (out / "chapter1.tex").read_text() == "precious"


def test_ctrl_c_while_publishing_is_delivered_after_the_swap():
    finished = []
    with pytest.raises(KeyboardInterrupt):
        with _interrupts_held():
            signal.raise_signal(signal.SIGINT)  # Ctrl-C between the two renames
            finished.append("second rename")
    assert finished == ["second rename"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "file.bin"

    def fail(stream):
        stream.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(target, fail)
    assert not target.exists() and list(tmp_path.iterdir()) == []
