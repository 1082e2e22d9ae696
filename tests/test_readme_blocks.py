"""Every Python code block of the README runs as written, or is a true excerpt of the source.

Blocks run in README order, and the blocks of one top-level section (a ``##`` heading with
its ``###`` subsections) share one namespace, as a reader typing them into one session
would. A block preceded by the line ``<!-- excerpt: PATH -->`` quotes the file PATH instead
of running: it must appear there, comments and spacing aside. ``tests/test_readme.py``
checks the command-line examples.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\s*$")
EXCERPT = re.compile(r"^<!-- excerpt: (\S+) -->$")


def python_blocks() -> list[tuple[str, int, str, str | None]]:
    """(section title, first code line number, code, excerpted file or None) of each
    Python block, in README order."""
    blocks: list[tuple[str, int, str, str | None]] = []
    section = ""
    previous = ""  # the last non-blank line before the current block
    lines = README.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        opening = FENCE.match(line)
        if opening is None:
            if line.startswith("## "):
                section = line[3:].strip()
            if line.strip():
                previous = line.strip()
            index += 1
            continue
        end = index + 1
        while not lines[end].startswith("```"):
            end += 1
        if opening.group(1) == "python":
            excerpt = EXCERPT.match(previous)
            code = "\n".join(lines[index + 1 : end])
            blocks.append((section, index + 2, code, excerpt.group(1) if excerpt else None))
        previous = ""
        index = end + 1
    return blocks


BLOCKS = python_blocks()
SECTIONS: dict[str, list[tuple[int, str]]] = {}
for _section, _line, _code, _source in BLOCKS:
    if _source is None:
        SECTIONS.setdefault(_section, []).append((_line, _code))
EXCERPTS = [(line, code, source) for _, line, code, source in BLOCKS if source is not None]


def test_the_readme_has_python_blocks_to_run():
    assert sum(len(blocks) for blocks in SECTIONS.values()) >= 10


@pytest.mark.parametrize("section", list(SECTIONS))
def test_each_readme_section_runs(section, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # anything a block writes lands in a scratch folder
    namespace: dict[str, object] = {"__name__": "readme"}
    for line, code in SECTIONS[section]:
        exec(compile(code, f"README.md, block at line {line}", "exec"), namespace)


def without_comments(code: str) -> str:
    """The code with ``#`` comments dropped and runs of whitespace made one space."""
    return " ".join(" ".join(re.sub(r"\s+#\s.*$", "", line) for line in code.splitlines()).split())


@pytest.mark.parametrize(("line", "code", "source"), EXCERPTS, ids=[str(e[0]) for e in EXCERPTS])
def test_each_readme_excerpt_is_in_its_source_file(line, code, source):
    quoted = without_comments(code)
    original = without_comments((ROOT / source).read_text(encoding="utf-8"))
    assert quoted in original, f"README.md line {line} no longer matches {source}"
