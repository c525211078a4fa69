"""`make bench` on a tiny account: the harness runs, deletes what ecrm's rules say, and
its floor formula matches the calls the workflow makes (so docs/benchmarks.md cannot rot
silently between benchmark runs). Figures only; nothing here looks at a clock."""

from __future__ import annotations

from benchmarks import report, synthetic
from benchmarks.runner import run_size

TINY = synthetic.Size("tiny", "tiny", 3, 60, 3, 8, 2, 2, 4, seed=7, trace_children=False)


def test_tiny_benchmark_meets_its_floor_and_renders() -> None:
    result = run_size(TINY)

    first, second = result["first"], result["second"]
    # The harness itself raises if a run deletes anything but the expected images.
    assert first["deleted"] > 0
    assert second["deleted"] == 0
    for run in (first, second):
        assert run["api_calls"] == {op: n for op, n in run["floor"].items() if n}, run
        assert run["ratio"] == 1.0
    # The warm task definition cache: the second run describes no task definition.
    assert first["api_calls"]["ecs:DescribeTaskDefinition"] > 0
    assert "ecs:DescribeTaskDefinition" not in second["api_calls"]
    # Only the functions outside the Maps were traced for memory.
    assert set(result["peak_memory_bytes"]) == {
        "InUseScanFunction",
        "CapsFunction",
        "SummaryFunction",
    }

    page = report.render(
        {
            "generated": "2026-01-01",
            "python": "3",
            "boto3": "1",
            "moto": "5",
            "benchmark_seconds": 60,
            "prices_usd": {},
            "sizes": [result],
        }
    )
    assert "| tiny |" in page
    assert "The tiny size traces only CapsFunction, InUseScanFunction and SummaryFunction" in page
