"""The ``chainrule`` click application: the command group and what its commands share.

Layer: cli (may import everything; imported by :data:`chainrule.cli.main` once click is
known to be installed). Each command lives in its own module and registers itself on
:data:`main`. Bad input, and a missing optional package, end with one clear line on
stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import click

from ..errors import MissingExtraError
from ..extras import require


class InputError(click.ClickException):
    """A problem with what the user gave us: printed as one line, exit status 2."""

    exit_code = 2


def need(module: str, purpose: str) -> ModuleType:
    """The optional package ``module``, imported before any work; else exit 2 naming its extra."""
    try:
        return require(module, purpose)
    except MissingExtraError as error:
        raise InputError(str(error)) from None


class _Group(click.Group):
    """The command group; a missing optional package found deeper down is one line, exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MissingExtraError as error:
            raise InputError(str(error)) from None


class ExpressionCommand(click.Command):
    """A command whose expression may start with a minus: ``chainrule grad "-x^2" --at x=3``.

    Click reads any word starting with ``-`` as an option. Here a word that starts with
    ``-`` but is none of the command's options is the expression, and so is the word right
    after a lone ``--``; options that follow it (``--at``) are still read as options.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value = {
            name: not (param.is_flag or param.count)
            for param in self.get_params(ctx)
            if isinstance(param, click.Option)
            for name in (*param.opts, *param.secondary_opts)
        }
        options: list[str] = []
        expressions: list[str] = []
        position = 0
        while position < len(args):
            word = args[position]
            position += 1
            if word == "--" or (word in takes_value and takes_value[word]):
                taken = args[position : position + 1]  # the expression, or the option's value
                position += 1
                if word == "--":
                    expressions += taken
                else:
                    options += [word, *taken]
            elif (
                word.startswith("-") and len(word) > 1 and word.partition("=")[0] not in takes_value
            ):
                expressions.append(word)
            else:
                options.append(word)
        return super().parse_args(ctx, [*options, "--", *expressions] if expressions else options)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="chainrule")
def main() -> None:
    """Derivatives three ways, and neural networks, on NumPy."""


# Command modules register themselves on `main` when imported (at the end, after `main`).
from . import explain, sweep, train  # noqa: E402,F401
