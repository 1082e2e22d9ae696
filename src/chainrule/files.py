"""Writing files whole or not at all.

Layer: bottom (imports nothing from chainrule). Everything chainrule saves (models,
metrics, plots, drawings) goes through :func:`write_atomic`, so an interrupted or
failed run never leaves a half-written file behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(target: str | os.PathLike[str], content: bytes) -> Path:
    """Write ``content`` to a temporary file beside ``target``, then rename it into place."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
