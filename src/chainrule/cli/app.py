"""The ``chainrule`` click application: the command group and what its commands share.

Layer: cli (may import everything; imported by :data:`chainrule.cli.main` once click is
known to be installed). Each command lives in its own module and registers itself on
:data:`main`; the parameter types and options several commands share (``--cluster``,
``--workers``, ``--timeout``) are here. Bad input, and a missing optional package, end with
one clear line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import click

from ..core.backend import Device
from ..errors import DeviceError, MissingExtraError
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


def check_device(device: str, command: str) -> str:
    """``--device`` checked before any work: "cpu", or a CUDA GPU that CuPy (the gpu extra)
    can see; its canonical text ("cuda:0"). Else exit 2 with one line saying what is missing."""
    try:
        parsed = Device.parse(device)
    except DeviceError as error:
        raise InputError(str(error)) from None
    if parsed.platform == "cpu":
        return "cpu"
    cupy = need("cupy", f"{command} --device {device}")
    need("array_api_compat", f"{command} --device {device}")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # CuPy's CUDARuntimeError: no driver, no device
        raise InputError(f"--device {device}: CuPy sees no CUDA GPU ({error})") from None
    if parsed.index >= count:
        raise InputError(f"--device {device}: CuPy sees {count} CUDA GPU(s), numbered from 0")
    return str(parsed)


class _Group(click.Group):
    """The command group; a missing optional package found deeper down is one line, exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MissingExtraError as error:
            raise InputError(str(error)) from None


class FiniteFloat(click.FloatRange):
    """A non-negative float that must be finite: nan and inf would train a NaN model."""

    name = "finite float"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


class OutputFolder(click.Path):
    """A folder to write into; an empty string (which would mean the current folder) is refused."""

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, str) and not value.strip():
            self.fail("an empty path; name the folder to write into", param, ctx)
        return super().convert(value, param, ctx)


CLUSTER_OPTION = click.option(
    "--cluster",
    metavar="ADDRESS",
    default=None,
    help="Run on the Dask scheduler at ADDRESS (tcp://host:8786); the distributed extra.",
)
WORKERS_OPTION = click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Run on a local Dask cluster of N worker processes; the distributed extra.",
)
TIMEOUT_OPTION = click.option(
    "--timeout",
    type=FiniteFloat(min=0, min_open=True),
    default=30.0,
    show_default=True,
    help="Seconds to wait for the Dask scheduler (connecting, or reconnecting mid-run).",
)


def check_cluster_flags(cluster: str | None, workers: int | None) -> None:
    """--cluster and --workers exclude each other; either needs the distributed extra."""
    if cluster is not None and workers is not None:
        raise InputError("give --cluster ADDRESS or --workers N, not both")
    if cluster is not None or workers is not None:
        need("distributed", "--cluster and --workers")


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
from . import explain, sweep, train, web  # noqa: E402,F401
