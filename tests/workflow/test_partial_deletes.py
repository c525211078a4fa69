"""A delete that fails part-way: the report and the notification still say what left ECR,
per repository, and which repository failed and why."""

import pytest
from conftest import deleted, image, inventory

CONFIG = (
    "safety: {max_delete_ratio: 1.0, allow_nothing_in_use: true}\n"  # the account runs nothing
    "repositories: [{name_pattern: '*', expires: 30d, keep_tag_patterns: []}]\n"
)


def _big(count: int = 150) -> list[dict]:
    return [image(f"x{i}", tags=[f"x{i}"]) for i in range(count)]  # two BatchDeleteImage calls


def test_access_denied_on_the_second_batch_reports_the_first_batch(run_workflow):
    denied = {"operation": "ecr:BatchDeleteImage", "error": "AccessDeniedException", "skip": 1}
    data = inventory({"app": _big(), "lib": [image("l0")]}, faults=[denied])
    result = run_workflow(data, config=CONFIG, parameters={"MapMaxConcurrency": "1"})
    assert result["status"] == "FAILED"
    assert result["error"] == "RepositoriesFailed"
    gone = deleted(result, "app")
    assert len(gone) == 100

    app = result["results"]["app"]
    assert app is not None and app["status"] == "failed"
    assert set(app["deleted"]) == gone
    assert "AccessDenied" in app["error"]
    report = result["report"]
    assert report["failed"] == ["app", "lib"]
    assert report["images_deleted"] == 100
    lines = {line["repository"]: line for line in report["repositories"]}
    assert lines["app"]["deleted"] == 100
    assert "deleted 100 images" in result["report_md"]
    assert "no repositories matched" not in result["report_md"]
    assert "AccessDenied" in result["report_md"]
    # The run's failure notification says what left ECR, where, and why the rest did not.
    (failure,) = [
        n for n in result["notifications"] if n["subject"].startswith("ecr-sweeper: run FAILED")
    ]
    assert "deleted 100 images" in failure["message"]
    assert "app: 100" in failure["message"]
    assert "AccessDenied" in failure["message"]
    # The repository's own notification says it too.
    repository_notes = [
        n["message"] for n in result["notifications"] if "repository app" in n["message"]
    ]
    assert any("100 images deleted before" in m for m in repository_notes)


@pytest.mark.parametrize("skip", [0, 1, 2, 3])
def test_a_journal_write_lost_past_retries_does_not_lose_count(run_workflow, skip):
    """One of the deleter's journal writes fails past botocore's attempts; Step Functions
    retries the deleter, which must count the first attempt's deletions as its own."""
    slow = {
        "operation": "s3:PutObject",
        "function": "DeleterFunction",
        "error": "SlowDown",
        "status": 503,
        "skip": skip,
        "times": 9,  # the request and botocore's 8 retries
    }
    result = run_workflow(inventory({"app": _big()}, faults=[slow]), config=CONFIG)
    assert result["status"] == "SUCCEEDED", (result["error"], result["cause"])
    assert len(deleted(result, "app")) == 150
    app = result["results"]["app"]
    assert len(set(app["deleted"])) == 150 and len(app["deleted"]) == 150
    assert app["already_gone"] == []
    assert result["output"]["images_deleted"] == 150
