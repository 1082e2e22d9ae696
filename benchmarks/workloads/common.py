"""What every workload shares: the run's options and timing with a result check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness import Result, agreement, measure

RESULTS = Path(__file__).resolve().parent.parent / "results"


@dataclass(frozen=True)
class Options:
    """The command line's settings, as the workloads read them."""

    threads: int = 1
    rounds: int = 7
    quick: bool = False
    plot: Path = RESULTS / "scaling.png"
    fd_budget: float = 0.5
    chain_ops: int = 1_000_000
    process_rounds: int = 3


def timed(
    workload: str,
    contenders: dict[str, Callable[[], object]],
    options: Options,
    reference: str | None = None,
    notes: dict[str, str] | None = None,
) -> list[Result]:
    """Interleaved medians of ``contenders``, each checked against ``reference``'s result."""
    checks = agreement(contenders, reference) if reference in contenders else {}
    results = measure(workload, contenders, rounds=options.rounds)
    for r in results:
        r.check = checks.get(r.contender)
        r.note = (notes or {}).get(r.contender, "")
    return results
