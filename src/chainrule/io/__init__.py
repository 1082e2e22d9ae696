"""Files and figures: atomic writes, and matplotlib figures saved through them.

Layer: io (imports chainrule.extras and itself; matplotlib lazily).
"""

from .files import atomic_write, write_bytes

__all__ = ["atomic_write", "write_bytes"]
