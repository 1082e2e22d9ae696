"""MkDocs hook: show the docstrings' doctest examples (``>>>`` lines) as Python console code.

The docstrings are written for ``pytest --doctest-modules`` and plain ``help()``, so their
examples are not fenced; Markdown would read ``[a][b]`` in an output line as a link. This
hook adds a Markdown preprocessor, for the pages and for mkdocstrings' docstrings, that
fences each run of ``>>>``/``...`` lines with the output lines after it.
"""

from __future__ import annotations

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority


class DoctestFence(Preprocessor):
    """Fence every doctest example: from a ``>>>`` line up to the next blank line."""

    def run(self, lines: list[str]) -> list[str]:
        fenced: list[str] = []
        in_fence = in_example = False
        for line in lines:
            stripped = line.lstrip()
            if stripped.startswith("```"):
                in_fence = not in_fence
            if not in_fence and not in_example and stripped.startswith(">>>"):
                indent = line[: len(line) - len(stripped)]
                fenced += ["", indent + "```pycon"]
                in_example = True
            elif in_example and not stripped:
                fenced.append(indent + "```")
                in_example = False
            fenced.append(line)
        if in_example:
            fenced.append(indent + "```")
        return fenced


class DoctestFenceExtension(Extension):
    """Registers :class:`DoctestFence` before the fenced-code preprocessor runs."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Markdown's API name
        md.preprocessors.register(DoctestFence(md), "doctest_fence", 40)


@event_priority(100)  # before mkdocstrings reads the Markdown extensions
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    config.markdown_extensions.append(DoctestFenceExtension())
    return config
