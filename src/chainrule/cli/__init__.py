"""The ``chainrule`` command line: a thin layer over the library.

Layer: cli (may import everything). :data:`main` is the console script's entry point. It
imports click (the ``cli`` extra) only when it runs, so without click ``chainrule --help``
still lists the commands and says how to install them, and any command ends in one line
naming the extra, with exit status 2, instead of a traceback. The commands themselves live
in :mod:`chainrule.cli.app` and the modules it imports.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from ..errors import MissingExtraError
from ..extras import require

#: Each command and the first line of its help, shown by ``chainrule --help`` without click.
COMMANDS = {
    "explain": "Work EXPR at a point as the recitation does: trace, adjoints, tangents, "
    "cross-check.",
    "grad": "Print just the gradient of EXPR at the point (and the derivatives, with symbolic).",
    "steps": "Error of forward, central and complex-step differences as the step h shrinks.",
    "explain-net": "The recitation's network in scalar and vector notation; evaluated when "
    "given weights.",
    "train": "Train an MLP classifier. With no --data: the recitation's 2-2-1 sigmoid network "
    "on XOR.",
    "evaluate": "Score a saved model.npz: loss, accuracy and confusion matrix.",
    "sweep": "Grid or random search over train's options, each run a task on a Dask cluster.",
    "serve": "Serve the explorer: step through forward and reverse passes in a browser.",
    "export-html": "Write the explorer for EXPR at a point as one static HTML file (works "
    "offline).",
}
SUMMARY = "Derivatives three ways, and neural networks, on NumPy."
HELP_OPTIONS = ("-h", "--help")


class EntryPoint:
    """``chainrule``: runs the click application, or explains how to install it.

    Callable as the console script (``main()``), and, like a click command, through
    ``main.main(args, prog_name=...)`` (which is what click's ``CliRunner`` calls).
    """

    name = "chainrule"

    def __call__(self, args: Sequence[str] | None = None, **options: Any) -> Any:
        return self.main(args, **options)

    def main(self, args: Sequence[str] | None = None, **options: Any) -> Any:
        try:
            require("click", "the chainrule command")
        except MissingExtraError as error:
            return _without_click(list(sys.argv[1:] if args is None else args), str(error))
        from .app import main as application

        return application.main(args=args, **options)


def _without_click(args: list[str], problem: str) -> None:
    """``--help`` (or no arguments): the command list and the install line; else one line."""
    if not args or args[0] in HELP_OPTIONS:
        width = max(map(len, COMMANDS))
        lines = ["Usage: chainrule COMMAND [ARGS]...", "", f"  {SUMMARY}", "", "Commands:"]
        lines += [f"  {name:<{width}}  {text}" for name, text in COMMANDS.items()]
        print("\n".join([*lines, "", problem]))
        raise SystemExit(0)
    print(f"Error: {problem}", file=sys.stderr)
    raise SystemExit(2)


main = EntryPoint()
