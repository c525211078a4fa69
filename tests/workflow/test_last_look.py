"""The deleter's last look re-reads, in ECR, every fact a planned deletion rests on, and
keeps the image (saying why) when one of them changed during the run."""

import pytest
from conftest import NOW, deleted, digest, image, inventory, remaining, stamp

CONFIG = (
    "safety: {allow_nothing_in_use: true}\n"  # the account runs nothing
    "repositories: [{name: app, expires: 30d, keep_tag_patterns: []}]\n"
)
ARCHIVE_CONFIG = (
    "safety: {allow_nothing_in_use: true}\n"
    "repositories: [{name: app, expires: 30d, keep_tag_patterns: [], archived_expires: 90d}]\n"
)


def _skipped(result: dict) -> dict[str, str]:
    return {s["digest"]: s["reason"] for s in result["results"]["app"]["skipped"]}


def test_a_protect_tag_set_on_the_repository_during_the_run_keeps_everything(run_workflow):
    change = {
        "before": "DeleterFunction",
        "repository": "app",
        "repository_tags": {"ecr-sweeper:protect": "true"},
    }
    data = inventory({"app": [image("a", tags=["a"]), image("b")]}, changes=[change])
    result = run_workflow(data, config=CONFIG)
    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "app") == set()
    assert _skipped(result) == {
        digest("a"): "protected_repository",
        digest("b"): "protected_repository",
    }
    assert "ecr-sweeper:protect=true" in result["report_md"]


def test_an_image_pushed_again_after_the_cutoff_is_kept(run_workflow):
    change = {
        "before": "DeleterFunction",
        "repository": "app",
        "digest": digest("again"),
        "pushed_at": stamp(NOW.replace(day=26)),
    }
    data = inventory({"app": [image("again"), image("old")]}, changes=[change])
    result = run_workflow(data, config=CONFIG)
    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "app") == {digest("old")}
    assert _skipped(result) == {digest("again"): "not_expired_now"}


ARCHIVED = {"status": "ARCHIVED", "archived_at": "2026-06-01T00:00:00Z"}


@pytest.mark.parametrize(
    ("status", "reason"),
    [("ACTIVE", "status_changed"), ("ACTIVATING", "being_restored")],
    ids=["restored", "restoring"],
)
def test_an_archived_image_restored_during_the_run_is_kept(run_workflow, status, reason):
    change = {"before": "DeleterFunction", "repository": "app", "digest": digest("back")}
    data = inventory(
        {"app": [image("back", **ARCHIVED), image("gone", **ARCHIVED)]},
        changes=[{**change, "status": status}],
    )
    result = run_workflow(data, config=ARCHIVE_CONFIG)
    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "app") == {digest("gone")}
    assert _skipped(result) == {digest("back"): reason}


def test_an_image_being_restored_is_never_deleted(run_workflow):
    data = inventory(
        {
            "app": [
                image("restoring", status="ACTIVATING", archived_at="2026-01-01T00:00:00Z"),
                image("gone", **ARCHIVED),
            ]
        }
    )
    result = run_workflow(data, config=ARCHIVE_CONFIG)
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("restoring")}


def test_an_archived_image_without_an_archive_time_is_kept(run_workflow):
    data = inventory({"app": [image("undated", age_days=400, status="ARCHIVED")]})
    result = run_workflow(data, config=ARCHIVE_CONFIG)
    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "app") == set()
    plan = result["report_md"]
    assert "archived_not_deleted" in plan
