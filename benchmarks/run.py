"""The benchmark suite: every workload, chainrule against whichever peers are installed.

    python benchmarks/run.py                      # all workloads, 1 thread, a few minutes
    python benchmarks/run.py --quick              # fewer rounds and sizes, about a minute
    python benchmarks/run.py --threads 2 seed_scalar mlp_step --json out.json

Peers (optional, the ``bench`` extra): PyTorch (CPU build), JAX (jax.jit), HIPS
autograd, micrograd, plus hand-written closed forms and NumPy lower bounds; a
missing peer is skipped. When chainrule has a compiled mode (``chainrule.compile``),
"chainrule compiled" joins the training-step workloads. Scalar workloads run in
float64, network workloads in float32, the same for every contender. Every
contender gets the same thread count: BLAS variables and XLA_FLAGS are set before
NumPy or JAX is imported, and PyTorch's set_num_threads. Times are medians of
interleaved rounds; every ratio is a chainrule contender / a peer, from the same
run (below 1: chainrule is faster or smaller). The "check" column is each
contender's relative difference from the workload's reference result.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
import peers  # noqa: E402

NAMES = (
    "seed_scalar",
    "micrograd_expr",
    "tiny_mlp_step",
    "mlp_step",
    "mlp_step_adam",
    "cheap_gradient",
    "scaling",
    "deep_chain",
    "train_digits",
)

#: Rows that are context, not contenders: left out of the summary.
CONTEXT = ("f (NumPy)",)

#: The metrics that go into the closing summary (default: "time"; scaling: its largest D).
SUMMARY_METRICS = {
    "cheap_gradient": ("value_and_grad / forward",),
    "deep_chain": ("backward", "peak RSS"),
    "train_digits": (
        "wall time (whole process)",
        "training loop (30 epochs with per-epoch scores)",
        "peak RSS",
    ),
}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", help=f"some of: {', '.join(NAMES)} (default all)")
    parser.add_argument("--threads", type=int, default=1, help="threads for every contender")
    parser.add_argument("--rounds", type=int, default=None, help="timing rounds (7; quick 3)")
    parser.add_argument("--quick", action="store_true", help="fewer rounds, sizes and runs")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument(
        "--plot",
        type=Path,
        default=Path(__file__).resolve().parent / "results" / "scaling.png",
        help="the scaling workload's figure (default benchmarks/results/scaling.png)",
    )
    parser.add_argument(
        "--fd-budget",
        type=float,
        default=0.5,
        help="scaling: measure central differences only where one gradient is estimated to "
        "take at most this many seconds, extrapolate beyond (default 0.5)",
    )
    parser.add_argument("--chain-ops", type=int, default=1_000_000, help="deep_chain's length")
    parser.add_argument(
        "--process-rounds",
        type=int,
        default=3,
        help="runs per contender of the one-process-each workloads (default 3; quick 1)",
    )
    args = parser.parse_args(argv)
    unknown = [w for w in args.workloads if w not in NAMES]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {', '.join(NAMES)}")
    return args


def summary(results: list[harness.Result]) -> None:
    """One line per chainrule contender and workload: its ratio against every peer."""
    chosen = []
    for (workload, metric), group in harness.groups(results).items():
        if workload == "scaling":
            wanted = (max_dimension(results),)
        else:
            wanted = SUMMARY_METRICS.get(workload, ("time",))
        if metric in wanted:
            chosen.append((workload, metric, group))
    if not chosen:
        return
    peer_names = list(
        dict.fromkeys(
            r.contender
            for _, _, group in chosen
            for r in group
            if r.contender not in harness.OURS and r.contender not in CONTEXT
        )
    )
    widths = [max(8, len(name) + 2) for name in peer_names]
    labels = [
        f"{w} · {m} · {r.contender}" for w, m, g in chosen for r in g if r.contender in harness.OURS
    ]
    label_width = max(len(label) for label in labels) + 2
    print("\nsummary: chainrule contender / peer, medians from this run (below 1: ours wins)")
    header = "".join(f"{name:>{width}}" for name, width in zip(peer_names, widths, strict=True))
    print(f"  {'workload · metric · ours':<{label_width}}{header}")
    for workload, metric, group in chosen:
        table = harness.ratios(group)
        measured = [r for r in group if math.isfinite(r.median)]
        for ours in (r.contender for r in measured if r.contender in harness.OURS):
            line = f"  {f'{workload} · {metric} · {ours}':<{label_width}}"
            for name, width in zip(peer_names, widths, strict=True):
                ratio = table.get(name, {}).get(ours)
                line += f"{'—' if ratio is None or math.isnan(ratio) else f'{ratio:.2f}':>{width}}"
            print(line)


def max_dimension(results: list[harness.Result]) -> str:
    scaling = [r.metric for r in results if r.workload == "scaling"]
    return max(scaling, key=lambda metric: int(metric[2:].replace(",", "")))


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    settings: dict[str, object] = {"threads": args.threads}
    settings.update(peers.configure_threads(args.threads))
    settings.update(peers.configure_torch(args.threads))

    # Imported only now that the thread counts are set: these modules import NumPy.
    from workloads import PRINTERS, TITLES, WORKLOADS
    from workloads.common import Options

    rounds = args.rounds or (3 if args.quick else 7)
    options = Options(
        threads=args.threads,
        rounds=rounds,
        quick=args.quick,
        plot=args.plot,
        fd_budget=args.fd_budget,
        chain_ops=args.chain_ops,
        process_rounds=1 if args.quick else args.process_rounds,
    )
    settings.update(
        rounds=rounds,
        quick=args.quick,
        dtypes="float64 for scalar workloads and scaling, float32 for networks",
        cpu=peers.cpu(),
        versions=peers.versions(),
        missing_peers=[name for name in peers.PEERS if not peers.have(name)],
    )
    print("settings:")
    for key, value in settings.items():
        print(f"  {key}: {value}")
    print(
        "\nX/row: contender X's median / the row's median (below 1: X is faster or smaller);"
        "\ncheck: the row's result, relative difference from the workload's reference result"
    )
    results: list[harness.Result] = []
    for name in args.workloads or NAMES:
        found = WORKLOADS[name](options)
        results += found
        if name in PRINTERS:
            print(f"\n{name}: {TITLES[name]}")
            PRINTERS[name](found)
        else:
            harness.print_table(found, TITLES)
        sys.stdout.flush()
    summary(results)
    if any(r.workload == "scaling" for r in results):
        print(f"\nscaling plot: {args.plot}")
    if args.json:
        harness.write_json(harness.rows(results), args.json, settings)
        print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
