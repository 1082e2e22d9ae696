"""JSON that any parser accepts (RFC 8259): no NaN, no Infinity.

Layer: io (imports nothing from chainrule). Python's ``json`` writes ``NaN`` and
``Infinity``, which are not JSON. :func:`dumps` writes ``null`` in their place and lists
each one under ``"non_finite"``: its JSON Pointer (RFC 6901) and what the number was, so a
reader can tell a missing value from an infinite or undefined one.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

#: The key listing the numbers written as null: {JSON Pointer: "inf" | "-inf" | "nan"}.
NON_FINITE = "non_finite"


def dumps(payload: dict[str, Any], indent: int | None = 2) -> str:
    """``payload`` as strict JSON; non-finite numbers become null, listed under ``non_finite``.

    >>> print(dumps({"x": [1.0, float("inf")]}, indent=None))
    {"x": [1.0, null], "non_finite": {"/x/1": "inf"}}
    """
    found: dict[str, str] = {}
    cleaned = _clean(payload, "", found)
    if found:
        cleaned[NON_FINITE] = found
    return json.dumps(cleaned, indent=indent, ensure_ascii=False, allow_nan=False)


def _clean(value: Any, pointer: str, found: dict[str, str]) -> Any:
    """A copy of ``value`` with plain Python types, non-finite floats replaced by None."""
    if isinstance(value, dict):
        return {str(k): _clean(v, f"{pointer}/{_escape(str(k))}", found) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v, f"{pointer}/{i}", found) for i, v in enumerate(value)]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist(), pointer, found)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        found[pointer] = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return None
    return value


def _escape(key: str) -> str:
    """A key as a JSON Pointer reference token: ``~`` and ``/`` escaped."""
    return key.replace("~", "~0").replace("/", "~1")
