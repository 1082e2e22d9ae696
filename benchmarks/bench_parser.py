"""Parser speed on hostile and very long input: the 1 s target, with Python's own
``ast.parse`` of the same text as the baseline measured in the same run.

    python benchmarks/bench_parser.py

Cases: the longest inputs allowed (200 KB) as sums, products, nested brackets and a
chain of thousands of terms that Python's parser alone cannot take, plus the slowest of
a few thousand fuzzed inputs (random text built from the grammar's pieces). Each time is
the best of three; the ratio is chainrule's time over ``ast.parse``'s.
"""

from __future__ import annotations

import ast
import random
import time

import chainrule.symbolic as S

TARGET_SECONDS = 1.0
PIECES = ["x", "z", "2", "0.5", "+", "-", "*", "/", "**", "(", ")", "sin(", "exp(", ",", " "]


def best_of(function, text, repeats=3):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        try:
            function(text)
        except (S.ParseError, SyntaxError, RecursionError, ValueError):
            pass
        times.append(time.perf_counter() - started)
    return min(times)


def cases():
    long_sum = "+".join(f"x{i}" for i in range(33_000))[:200_000].rstrip("+")
    long_product = "*".join(f"x{i}" for i in range(33_000))[:200_000].rstrip("*")
    nested = "(" * 100 + "x" + ")" * 100
    groups = "+".join("(" + "*".join(f"x{i}" for i in range(1500)) + ")" for _ in range(16))
    yield "200 KB sum", long_sum
    yield "200 KB product", long_product
    yield "16 groups of 1,500 factors", groups
    yield "100 nested brackets", nested
    rng = random.Random(0)
    fuzzed = ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 400))) for _ in range(3000)]
    slowest = max(fuzzed, key=lambda text: best_of(S.parse, text, repeats=1))
    yield "slowest of 3,000 fuzzed", slowest


def main() -> None:
    print(f"{'case':30} {'chars':>8} {'chainrule':>10} {'ast.parse':>10} {'ratio':>7}  target")
    for name, text in cases():
        ours = best_of(S.parse, text)
        baseline = best_of(lambda t: ast.parse(t, mode="eval"), text)
        verdict = "ok" if ours < TARGET_SECONDS else "OVER"
        print(
            f"{name:30} {len(text):8d} {ours:9.3f}s {baseline:9.3f}s {ours / baseline:7.1f}  "
            f"{verdict} (< {TARGET_SECONDS:g} s)"
        )


if __name__ == "__main__":
    main()
