"""python -m benchmarks: run every size and write docs/benchmarks.md and docs/benchmarks.json.

python -m benchmarks                       # every size; writes the docs
python -m benchmarks --only small,deep     # some sizes; prints, writes nothing
python -m benchmarks --only small --write  # ... and writes the docs anyway
python -m benchmarks --render              # the page again from benchmarks.json
python -m benchmarks --only wide-20 --child-type EXPRESS  # the Maps' children EXPRESS
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from benchmarks import aws_time, report, synthetic
from benchmarks.runner import BenchmarkError, log, run_size

DOCS = Path(__file__).resolve().parent.parent / "docs"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--only", help=f"comma-separated sizes, of: {', '.join(synthetic.SIZES)}", default=""
    )
    parser.add_argument("--write", action="store_true", help="write the docs with --only too")
    parser.add_argument(
        "--child-type",
        choices=("STANDARD", "EXPRESS"),
        default="STANDARD",
        help="the stack's ChildExecutionType: the Distributed Maps' child executions",
    )
    parser.add_argument(
        "--render",
        action="store_true",
        help="only write docs/benchmarks.md again from docs/benchmarks.json (no run)",
    )
    args = parser.parse_args(argv)
    if args.render:
        data = json.loads((DOCS / "benchmarks.json").read_text())
        (DOCS / "benchmarks.md").write_text(report.render(data))
        return 0
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(synthetic.SIZES)
    unknown = [n for n in names if n not in synthetic.SIZES]
    if unknown:
        parser.error(f"unknown sizes: {', '.join(unknown)}")

    started = time.monotonic()
    results = []
    for name in names:
        log(f"{name}: {synthetic.SIZES[name].title}")
        try:
            results.append(run_size(synthetic.SIZES[name], child_type=args.child_type))
        except BenchmarkError as error:
            log(f"{name}: FAILED: {error}")
            return 1
        first, second = results[-1]["first"], results[-1]["second"]
        log(
            f"{name}: {first['api_calls_total']} calls, floor {first['floor_total']} "
            f"({first['ratio']:.2f}); second run {second['api_calls_total']} calls, floor "
            f"{second['floor_total']} ({second['ratio']:.2f}); "
            f"{results[-1]['benchmark_seconds']} s"
        )
    data = {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "boto3": version("boto3"),
        "moto": version("moto"),
        "benchmark_seconds": round(time.monotonic() - started, 1),
        "prices_usd": report.cost.PRICES,
        "child_type": args.child_type,
        "aws_time_assumptions": aws_time.describe(aws_time.Assumptions()),
        "sizes": results,
    }
    for size in results:
        for run in ("first", "second"):
            for stats in size[run]["functions"].values():
                stats.pop("arn", None)
    markdown = report.render(data)
    if args.only and not args.write:
        print(markdown)
        return 0
    DOCS.mkdir(exist_ok=True)
    (DOCS / "benchmarks.json").write_text(json.dumps(data, indent=2) + "\n")
    (DOCS / "benchmarks.md").write_text(markdown)
    log(f"wrote docs/benchmarks.md and docs/benchmarks.json in {data['benchmark_seconds']} s")
    over = [s["name"] for s in results for r in ("first", "second") if s[r]["ratio"] > 1.10]
    if over:
        log(f"calls / floor above 1.10: {', '.join(sorted(set(over)))}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
