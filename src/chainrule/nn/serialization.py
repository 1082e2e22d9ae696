"""Saving and loading state dicts as ``.npz`` files: no pickle, written atomically.

Layer: nn (imports numpy, the standard library and chainrule's core and tensor). A file
holds one array per state-dict key (values on any device, saved as NumPy arrays) plus,
optionally, a JSON text under ``__metadata__`` (the CLI stores the architecture there, so
a model file is self-describing). Writes go through :func:`chainrule.io.files.atomic_write`,
so a crash never leaves a half-written file under the final name.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..core import backend
from ..errors import ChainruleError
from ..io.files import atomic_write
from ..tensor import Tensor

METADATA_KEY = "__metadata__"


class ModelFileError(ChainruleError, ValueError):
    """A file that is missing, truncated, corrupt or not a chainrule state dict."""


def save(
    state_dict: Mapping[str, Any], path: str | os.PathLike, metadata: Mapping | None = None
) -> None:
    """Write ``state_dict`` (arrays or Tensors, on any device: saved as NumPy arrays) and
    optional JSON ``metadata`` to ``path``."""
    arrays = {key: _host(value) for key, value in state_dict.items()}
    if METADATA_KEY in arrays:
        raise ValueError(f"{METADATA_KEY!r} is reserved for metadata")
    if metadata is not None:
        arrays[METADATA_KEY] = np.array(json.dumps(metadata))
    atomic_write(path, lambda handle: _write_npz(handle, arrays))


def _host(value: Any) -> np.ndarray:
    """A state-dict entry as a NumPy array (a GPU value copied to the host)."""
    data = value._data if isinstance(value, Tensor) else value
    return np.asarray(data if backend.is_numpy(data) else backend.to_device(data, backend.CPU))


def _write_npz(handle: Any, arrays: Mapping[str, np.ndarray]) -> None:
    """The .npz layout np.savez writes (one NAME.npy per array), for any key names.

    np.savez takes the arrays as keyword arguments, so keys such as ``file`` or
    ``allow_pickle`` would clash with its own parameters.
    """
    with zipfile.ZipFile(handle, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for key, array in arrays.items():
            with archive.open(f"{key}.npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


#: The most bytes the arrays of one model file may declare together: model files hold
#: small MLPs, and a file declaring more is refused before any array is read.
MAX_MODEL_BYTES = 1 << 30

#: A member that inflates more than this many times (and to more than
#: :data:`BOMB_MIN_BYTES`) is a decompression bomb, not weights: refused unread.
MAX_INFLATION = 100
BOMB_MIN_BYTES = 16 << 20


def _check_array_headers(path: Path) -> None:
    """Read every member's .npy header first: refuse arrays that declare more than
    :data:`MAX_MODEL_BYTES` together, more bytes than their member holds (a crafted
    header), or a member that inflates like a decompression bomb."""
    total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            name = info.filename[:-4]
            if info.file_size > BOMB_MIN_BYTES and info.file_size > MAX_INFLATION * max(
                info.compress_size, 1
            ):
                raise ModelFileError(
                    f"{str(path)!r}: array {name!r} inflates from {info.compress_size} to "
                    f"{info.file_size} bytes (over {MAX_INFLATION}:1); refusing to read it"
                )
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(member)
                else:
                    shape, _, dtype = np.lib.format.read_array_header_2_0(member)
            declared = math.prod(shape) * dtype.itemsize
            total += declared
            if total > MAX_MODEL_BYTES:
                raise ModelFileError(
                    f"{str(path)!r}: array {name!r} declares {declared} bytes ({total} with the "
                    f"arrays before it), more than a model file may hold ({MAX_MODEL_BYTES})"
                )
            if declared > info.file_size:
                raise ModelFileError(
                    f"{str(path)!r}: array {name!r} declares {declared} bytes but "
                    f"its member holds {info.file_size}"
                )


def load_with_metadata(path: str | os.PathLike) -> tuple[OrderedDict[str, np.ndarray], dict]:
    """The state dict and the metadata ({} if none) stored in ``path`` by :func:`save`."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file {str(path)!r} does not exist")
    try:
        _check_array_headers(path)
        with np.load(path, allow_pickle=False) as archive:
            arrays = OrderedDict((key, archive[key]) for key in archive.files)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as error:
        raise ModelFileError(
            f"{str(path)!r} is not a readable .npz model file (truncated or corrupt?): {error}"
        ) from None
    metadata: dict = {}
    if METADATA_KEY in arrays:
        try:
            metadata = json.loads(str(arrays.pop(METADATA_KEY)))
        except (json.JSONDecodeError, ValueError) as error:
            raise ModelFileError(f"{str(path)!r}: unreadable metadata: {error}") from None
        except RecursionError:
            raise ModelFileError(f"{str(path)!r}: metadata nested too deeply") from None
        if not isinstance(metadata, dict):
            raise ModelFileError(f"{str(path)!r}: metadata is not a JSON object")
    return arrays, metadata


def load(path: str | os.PathLike) -> OrderedDict[str, np.ndarray]:
    """The state dict stored in ``path`` (for ``module.load_state_dict``)."""
    return load_with_metadata(path)[0]
