"""Parser fuzzing: any text either parses or raises ParseError, quickly and in bounded memory.

Hypothesis draws arbitrary text, bytes decoded as UTF-8, and text made of the grammar's
own pieces (names, numbers, operators, brackets, function calls), which reaches far
deeper into the parser than random characters do. Memory is bounded; time is only
guarded against runaway (quadratic or worse) behaviour, since the 1 s target is a
speed figure, measured by ``benchmarks/bench_parser.py``. The thorough profile
(``CHAINRULE_THOROUGH=1``) draws many more inputs.
"""

from __future__ import annotations

import os
import time
import tracemalloc

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule.symbolic as S

THOROUGH = os.environ.get("CHAINRULE_THOROUGH") == "1"
FUZZ = settings(
    max_examples=20000 if THOROUGH else 150,
    deadline=None,
    derandomize=not THOROUGH,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
#: Far above the 1 s target, so a loaded machine never fails it; a parser gone quadratic does.
RUNAWAY_SECONDS = 10.0
PEAK_BYTES = 64 * 2**20

PIECES = st.sampled_from(
    [
        "x",
        "z",
        "y1",
        "pi",
        "e",
        "2",
        "0.5",
        "1e308",
        "1e-320",
        "0",
        "007",
        "1_000",
        "+",
        "-",
        "*",
        "/",
        "**",
        "^",
        "(",
        ")",
        ",",
        " ",
        "sin(",
        "log(",
        "exp(",
        "sqrt(",
        "maximum(",
        "clip(",
        "relu(",
        "abs(",
        "__import__(",
        "x.",
        "[",
        "]",
        "lambda",
        ":",
        "==",
        "%",
        "//",
        "@",
        "'",
        "\\",
        "#",
        "\t",
        "ｘ",
        "α",
        "\udcff",
        "if",
        "else",
        "not",
        "inf",
        "nan",
        "True",
        "None",
        "...",
        "j",
        "1j",
    ]  # fmt: skip
)
GRAMMAR_TEXT = st.lists(PIECES, max_size=40).map("".join)


def parse_or_refuse(text: str) -> None:
    """Parse ``text``: a result or a ParseError, in bounded time and memory."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        S.parse(text)
    except S.ParseError as error:
        assert error.column >= 1
        assert str(error)  # the message renders (column caret included)
    finally:
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < RUNAWAY_SECONDS, f"{elapsed:.2f} s for {text[:80]!r}"
    assert peak < PEAK_BYTES, f"{peak / 2**20:.0f} MiB for {text[:80]!r}"


@FUZZ
@given(st.text(max_size=60))
def test_arbitrary_text_parses_or_raises_parse_error(text):
    parse_or_refuse(text)


@FUZZ
@given(st.binary(max_size=60))
def test_arbitrary_bytes_decoded_parse_or_raise_parse_error(data):
    parse_or_refuse(data.decode("utf-8", errors="surrogateescape"))


@FUZZ
@given(GRAMMAR_TEXT)
def test_text_from_the_grammars_pieces_parses_or_raises_parse_error(text):
    parse_or_refuse(text)


@settings(max_examples=10 if not THOROUGH else 300, deadline=None, derandomize=not THOROUGH)
@given(st.lists(PIECES, min_size=1, max_size=8).map("".join), st.integers(2_000, 20_000))
def test_long_repetitions_stay_fast_and_small(piece, repeat):
    parse_or_refuse(("x+" + piece) * (repeat // max(len(piece), 1)))
