"""The ``chainrule`` command line: a thin layer over the library (click).

Layer: cli (may import everything). Each command lives in its own module and
registers itself on :data:`main`. Bad input ends with one clear line on stderr
and exit status 2, never a traceback.
"""

from __future__ import annotations

import click


class InputError(click.ClickException):
    """A problem with what the user gave us: printed as one line, exit status 2."""

    exit_code = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="chainrule")
def main() -> None:
    """Derivatives three ways, and neural networks, on NumPy."""


# Command modules register themselves on `main` when imported (at the end, after `main`).
from . import explain, train  # noqa: E402,F401
