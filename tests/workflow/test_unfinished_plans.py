"""A repository whose planning did not finish loses nothing, the cap counts every plan the
deleter may act on, and the run ends FAILED saying which repository and why."""

import pytest
from conftest import deleted, digest, image, inventory

CONFIG = """
safety: {max_deletions: 1, allow_nothing_in_use: true}  # the account runs nothing
repositories: [{name_pattern: "*", expires: 30d, keep_tag_patterns: []}]
"""


def _expired(prefix: str, count: int) -> list[dict]:
    return [image(f"{prefix}{i}", tags=[f"{prefix}{i}"]) for i in range(count)]


def _with_a_plan_file(images: list[dict], prefix: str) -> list[dict]:
    """`images`, and enough recent ones (kept) that the plan is over 8 KiB: a file the
    evaluator writes, not a plan that travels inline."""
    return [*images, *(image(f"{prefix}-new{i}", age_days=1) for i in range(40))]


# Evaluate fails once its plan may already be in the bucket.
AFTER_THE_PLAN = {
    # The case: the evaluator's second write to S3 is refused.
    "second-write-refused": {
        "operation": "s3:PutObject",
        "function": "EvaluatorFunction",
        "error": "AccessDenied",
        "status": 403,
        "skip": 1,
    },
    # The plan lands, then the function dies before it can answer (every attempt).
    "crash-after-the-plan-write": {
        "operation": "s3:PutObject",
        "function": "EvaluatorFunction",
        "error": "Runtime.ExitError",
        "crash": True,
        "after": True,
    },
}


@pytest.mark.parametrize("fault", AFTER_THE_PLAN.values(), ids=AFTER_THE_PLAN.keys())
def test_a_repository_whose_evaluate_failed_loses_nothing_and_fails_the_run(run_workflow, fault):
    result = run_workflow(
        inventory({"app": _with_a_plan_file(_expired("a", 5), "a")}, faults=[fault]), config=CONFIG
    )
    assert result["status"] == "FAILED", result
    assert deleted(result, "app") == set()
    assert "ecr:BatchDeleteImage" not in result["api_calls"]
    assert result["error"] in {"RepositoriesFailed", "DeletionCapExceeded"}, result["cause"]


def test_a_failed_plan_is_reported_with_its_error(run_workflow):
    fault = AFTER_THE_PLAN["crash-after-the-plan-write"]
    result = run_workflow(
        inventory({"app": _with_a_plan_file(_expired("a", 5), "a")}, faults=[fault]), config=CONFIG
    )
    assert result["error"] == "RepositoriesFailed"
    assert result["report"]["failed"] == ["app"]
    assert "Runtime.ExitError" in result["report_md"]
    assert "app" in result["cause"] and "Runtime.ExitError" in result["cause"]


def test_the_other_repositories_are_swept_within_the_cap(run_workflow):
    """One repository at a time: `app` plans (one deletion, within the cap), then `lib`'s
    evaluator dies after writing a plan that deletes five."""
    crash = {**AFTER_THE_PLAN["crash-after-the-plan-write"], "skip": 1}
    data = inventory(
        {
            "app": _with_a_plan_file(_expired("a", 1), "a"),
            "lib": _with_a_plan_file(_expired("b", 5), "b"),
        },
        faults=[crash],
    )
    result = run_workflow(data, config=CONFIG, parameters={"MapMaxConcurrency": "1"})
    assert result["status"] == "FAILED"
    assert result["error"] == "RepositoriesFailed"
    assert deleted(result, "app") == {digest("a0")}
    assert deleted(result, "lib") == set()
    assert result["report"]["failed"] == ["lib"]
