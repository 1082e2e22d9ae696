"""The README's command examples print what the README says, number for number.

Every ``$ chainrule ...`` line in a code block is run; each line shown after it (``...``
stands for lines left out) must be a line of the real output, compared with runs of
spaces collapsed so that table column widths may differ. The derivatives quoted in the
prose (``dy/dx = ...``) must be the ones the default ``chainrule explain`` prints.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from chainrule.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)


def examples() -> list[tuple[str, list[str]]]:
    """(command line, the output lines the README shows for it), in README order."""
    found: list[tuple[str, list[str]]] = []
    for block in BLOCK.findall(README.read_text(encoding="utf-8")):
        shown: list[str] | None = None  # output lines of the block's latest command
        for line in block.splitlines():
            if line.startswith("$ chainrule "):
                shown = []
                found.append((line[2:], shown))
            elif shown is not None and line.strip() and line != "...":
                shown.append(line)
    return found


def squeeze(line: str) -> str:
    return " ".join(line.split())


def output_lines(command: str) -> set[str]:
    result = CliRunner().invoke(main, shlex.split(command)[1:])
    assert "Traceback" not in result.output
    return {squeeze(line) for line in result.output.splitlines()}


EXAMPLES = examples()


def test_the_readme_has_command_examples_with_output():
    assert len(EXAMPLES) >= 5 and all(shown for _, shown in EXAMPLES)


@pytest.mark.parametrize(("command", "shown"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_each_readme_example_prints_what_the_readme_shows(command, shown):
    printed = output_lines(command)
    missing = [line for line in shown if squeeze(line) not in printed]
    assert not missing, f"{command} does not print:\n" + "\n".join(missing)


def test_derivatives_quoted_in_the_prose_are_the_printed_ones():
    prose = BLOCK.sub("", README.read_text(encoding="utf-8"))
    quoted = re.findall(r"(dy/d\w+ = [-+0-9.e]+[0-9])", prose)
    assert quoted, "the README quotes the recitation's gradient"
    printed = output_lines("chainrule explain")
    assert [q for q in quoted if q not in printed] == []
