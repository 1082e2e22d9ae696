"""Writing files, and folders of files, whole or not at all.

Layer: bottom (imports nothing from chainrule). Everything chainrule saves (models,
metrics, plots, drawings) goes through :func:`atomic_write`, so an interrupted or
failed run never leaves a half-written file under the final name; a run's output
folder is filled in a temporary folder and published by :func:`atomic_folder`, so it
holds all of a run's files or none of them.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(file_object)`` on a temporary file beside ``path``, then rename it there."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; give the usual mode
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def write_bytes(path: str | os.PathLike[str], content: bytes) -> Path:
    """Write ``content`` to ``path`` atomically."""
    return atomic_write(path, lambda stream: stream.write(content))


class ForeignFilesError(FileExistsError):
    """An output folder holds files chainrule did not write: it is not replaced."""


def check_output_folder(path: str | os.PathLike[str], names: Collection[str]) -> None:
    """Raise unless :func:`atomic_folder` may publish ``path``: it is new, or a folder
    holding only files called ``names`` (call it before a long run, to fail early)."""
    path = Path(path)
    if not path.exists():
        return
    if not path.is_dir():
        raise NotADirectoryError(f"{str(path)!r} exists and is not a folder")
    foreign = sorted(entry.name for entry in path.iterdir() if entry.name not in names)
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise ForeignFilesError(
            f"{str(path)!r} holds files chainrule did not write ({shown}); "
            "choose a new or empty folder"
        )


@contextmanager
def atomic_folder(path: str | os.PathLike[str], names: Collection[str]) -> Iterator[Path]:
    """Yield a temporary folder beside ``path`` to write ``names`` into; when the block
    ends normally it becomes ``path``, and if it raises (Ctrl-C included) it is removed.

    An existing ``path`` is replaced only when it holds nothing but files called
    ``names`` (an earlier run's output); with anything else in it, ForeignFilesError
    is raised before any work, so a user's own files are never deleted. The swap is two
    renames with Ctrl-C held back between them.
    """
    path = Path(path)
    check_output_folder(path, names)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        yield staging
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes it private; give the usual mode
        with _interrupts_held():
            if path.exists():
                retired = staging.with_name(staging.name + ".old")
                os.rename(path, retired)
                os.rename(staging, path)
                shutil.rmtree(retired, ignore_errors=True)
            else:
                os.rename(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back during the block and deliver it after (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[Any] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: received.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
