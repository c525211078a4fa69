"""`make bench` on a tiny account: the harness runs, deletes what ecrm's rules say, and
its floor formula matches the calls the workflow makes (so docs/benchmarks.md cannot rot
silently between benchmark runs). Figures only; nothing here looks at a clock."""

from __future__ import annotations

from benchmarks import report, synthetic
from benchmarks.runner import run_size

TINY = synthetic.Size("tiny", "tiny", 3, 60, 3, 8, 2, 2, 4, seed=7, trace_children=False)


def _page(result: dict) -> str:
    """docs/benchmarks.md as `make bench` would render it for this one size."""
    return report.render(
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


def test_tiny_benchmark_meets_its_floor_and_renders() -> None:
    result = run_size(TINY)

    first, second = result["first"], result["second"]
    # The harness itself raises if a run deletes anything but the expected images.
    assert first["deleted"] > 0
    assert second["deleted"] == 0
    for run in (first, second):
        assert run["api_calls"] == {op: n for op, n in run["floor"].items() if n}, run
        assert run["ratio"] == 1.0
        # The run's own data: each phase's S3 calls are its floor's (benchmarks/floor.py).
        assert run["s3_calls_by_function"] == run["s3_floor"], run
    # The protect tag of every repository in one call; the deleter's last look re-reads
    # only the repositories it deletes from.
    assert first["api_calls"]["resource-groups-tagging-api:GetResources"] == 1
    assert first["api_calls"]["ecr:ListTagsForResource"] <= TINY.repositories
    assert "ecr:ListTagsForResource" not in second["api_calls"]
    # No idle children: the second run, with nothing to delete, starts no sweep child
    # (one plan child per repository), and its deleter never runs.
    assert second["child_executions"] == TINY.repositories
    assert "DeleterFunction" not in second["s3_calls_by_function"]
    assert second["functions"]["DeleterFunction"]["invocations"] == 0
    # The warm task definition cache: the second run describes no task definition.
    assert first["api_calls"]["ecs:DescribeTaskDefinition"] > 0
    assert "ecs:DescribeTaskDefinition" not in second["api_calls"]
    # Only the functions outside the Maps were traced for memory.
    assert set(result["peak_memory_bytes"]) == {
        "InUseScanFunction",
        "CapsFunction",
        "SummaryFunction",
    }

    page = _page(result)
    assert "| tiny |" in page
    assert "The tiny size traces only CapsFunction, InUseScanFunction and SummaryFunction" in page


def test_the_aws_time_model_is_present_and_consistent_with_express_children() -> None:
    result = run_size(TINY, child_type="EXPRESS")

    assert result["child_type"] == "EXPRESS"
    for run in (result["first"], result["second"]):
        # Every call is put down to the function that made it.
        by_function: dict[str, int] = {}
        for calls in run["api_calls_by_function"].values():
            for op, n in calls.items():
                by_function[op] = by_function.get(op, 0) + n
        assert by_function == {**run["api_calls"], **run["s3_calls"]}
        assert run["map_children"]["plan"] == TINY.repositories
        assert run["map_children"].get("sweep", 0) <= TINY.repositories

        model = run["aws_time"]
        walls = [model["wall_s"][c] for c in ("10", "40", "100")]
        assert walls == sorted(walls, reverse=True), "more concurrency is never slower"
        assert model["floor_s"] > 0
        assert min(walls) >= model["floor_s"]
        assert set(model["steps_s"]["10"]) == {"scan", "plan", "caps", "sweep", "summary"}
        # ecrm lists every target repository's images, one call after the other.
        assert model["ecrm_calls"]["ecr:DescribeImages"] >= TINY.repositories
        assert model["ecrm_sequential_s"] > 0
        # A tiny repository is far inside an EXPRESS child's 5 minutes.
        for at in model["longest_child_s"].values():
            assert 0 < max(at.values()) < 300
        costs = model["cost_usd"]
        assert costs["express_100"] >= costs["express_10"] > 0
        assert costs["standard"] > 0

    page = _page(result)
    assert "## The time AWS would take" in page
    assert "| tiny (first) |" in page and "| tiny (second) |" in page
    assert "These runs had EXPRESS children." in page
    assert "| tiny | " in page.split("Recommended child type per size:", 1)[1]
