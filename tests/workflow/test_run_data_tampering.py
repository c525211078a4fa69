"""Run data rewritten in the bucket by someone other than the step that wrote it: the
deleter (or the step that reads it) refuses, nothing is deleted, and the run fails."""

import hashlib
import json

from conftest import NOW, deleted, digest, image, inventory, stamp, uri

CONFIG = """
safety: {allow_nothing_in_use: true, max_delete_ratio: 1.0}
clusters: [{name: prod}]
task_definitions: []
lambda_functions: []
repositories: [{name_pattern: "*", expires: 30d, keep_count: 1, keep_tag_patterns: []}]
"""


def _refused(result: dict, *repositories: str) -> None:
    assert result["status"] == "FAILED", result
    for repository in repositories:
        assert deleted(result, repository) == set(), repository
    assert "ecr:BatchDeleteImage" not in result["api_calls"]


def test_a_rewritten_plan_is_refused(run_workflow):
    """A plan too large to travel inline (over 8 KiB) is a file, which the deleter reads:
    rewritten, it is refused. (A small plan travels in the payload, which nothing in S3
    can change.)"""
    images = [
        image("old"),  # expired: the genuine plan deletes it
        image("fresh", age_days=1),  # not expired
        image("release", tags=["v1"]),  # the keep_count slot
        *(image(f"fresh-{i}", age_days=1) for i in range(40)),  # a plan over 8 KiB
    ]
    rewrite = {
        "before": "DeleterFunction",
        "name": "plans/app.json",
        "replace": {
            '"action":"keep","reason":"not_expired"': '"action":"delete","reason":"expired"',
            '"action":"keep","reason":"keep_count"': '"action":"delete","reason":"expired"',
        },
    }
    result = run_workflow(inventory({"app": images}, rewrites=[rewrite]), config=CONFIG)
    _refused(result, "app")
    assert result["error"] == "RepositoriesFailed"
    assert "RunDataMismatch" in result["report_md"] and "plans/app.json" in result["report_md"]
    assert any("RunDataMismatch" in n["message"] for n in result["notifications"])


def test_a_rewritten_in_use_set_is_refused(run_workflow):
    ecs = {
        "clusters": [
            {
                "name": "prod",
                "tasks": [
                    {
                        "task_definition": "app:1",
                        "containers": [
                            {"image": uri("app", ":v1"), "image_digest": digest("running")}
                        ],
                    }
                ],
            }
        ]
    }
    rewrite = {
        "before": "EvaluatorFunction",
        "name": "in-use.json",
        "replace": {digest("running"): digest("something-else")},
    }
    data = inventory(
        {"app": [image("running", tags=["v1"]), image("old")]}, ecs=ecs, rewrites=[rewrite]
    )
    result = run_workflow(data, config=CONFIG.replace("keep_count: 1", "keep_count: 0"))
    _refused(result, "app")
    assert "RunDataMismatch" in result["report_md"] and "in-use.json" in result["report_md"]


def test_rewritten_counts_do_not_lower_the_cap(run_workflow):
    rewrite = {
        "before": "CapsFunction",
        "name": "counts/app.json",
        "body": {"planned": 0, "held": False},
    }
    data = inventory({"app": [image(f"a{i}") for i in range(5)]}, rewrites=[rewrite])
    result = run_workflow(data, config=CONFIG.replace("safety: {", "safety: {max_deletions: 1, "))
    _refused(result, "app")
    assert result["error"] == "DeletionCapExceeded"


def _forged_plan(repository: str, labels: list[str]) -> dict:
    return {
        "repository": repository,
        "rule": "forged",
        "now": stamp(NOW),
        "cutoff": stamp(NOW),
        "decisions": [
            {
                "digest": digest(label),
                "kind": "Image",
                "pushed_at": stamp(NOW),
                "action": "delete",
                "reason": "expired",
                "detail": "forged",
            }
            for label in labels
        ],
    }


def _ghost(*rewrites: dict) -> dict:
    """`app` is planned; `ghost`, listed after it, fails in Collect (one repository at a
    time), and a plan is forged for it."""
    forged = [
        {
            "before": "DeleterFunction",
            "name": "plans/ghost.json",
            "body": _forged_plan("ghost", ["g0", "g1"]),
        },
        {
            "before": "DeleterFunction",
            "name": "images/ghost.json",
            "body": {"repository": "ghost", "images": []},
        },
    ]
    collect_fails_second = {
        "operation": "ecr:DescribeImages",
        "function": "CollectorFunction",
        "error": "AccessDeniedException",
        "skip": 1,
    }
    return inventory(
        {"app": [image("a0")], "ghost": [image("g0"), image("g1")]},
        faults=[collect_fails_second],
        rewrites=[*forged, *rewrites],
    )


def test_a_plan_for_a_repository_that_was_never_planned_is_not_acted_on(run_workflow):
    result = run_workflow(_ghost(), config=CONFIG, parameters={"MapMaxConcurrency": "1"})
    assert result["status"] == "FAILED"
    assert result["error"] == "RepositoriesFailed"
    assert deleted(result, "ghost") == set()
    assert deleted(result, "app") == {digest("a0")}
    assert result["report"]["failed"] == ["ghost"]


def test_a_rewritten_approved_list_is_not_acted_on(run_workflow):
    """The sweep Map has read its items when the list is rewritten: each deleter acts on
    its own item, whose proof leads to the root CheckCaps returned, and the forged entry
    is never swept. (A forged item read by the Map proves nothing: tests/unit/
    test_approval.py.)"""
    plan = _forged_plan("ghost", ["g0", "g1"])
    forged_hash = hashlib.sha256(json.dumps(plan).encode()).hexdigest()
    rewrite = {
        "before": "DeleterFunction",
        "name": "approved.json",
        "body": [
            {"repository": "ghost", "plan_sha256": forged_hash},
        ],
    }
    result = run_workflow(_ghost(rewrite), config=CONFIG, parameters={"MapMaxConcurrency": "1"})
    assert result["status"] == "FAILED" and result["error"] == "RepositoriesFailed"
    assert deleted(result, "ghost") == set()
    assert deleted(result, "app") == {digest("a0")}  # its genuine, approved plan
    assert result["report"]["failed"] == ["ghost"]  # its Collect failed; nothing forged ran
