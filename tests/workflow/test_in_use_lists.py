"""In-use lists in S3 (the `ecrm scan` format): protect what they name, fail closed."""

import pytest
from conftest import NOW, deleted, digest, image, inventory, remaining, stamp, uri

CONFIG = """
clusters: []
task_definitions: []
lambda_functions: []
in_use_lists:
  - {uri: "s3://k8s-scans/prod/in-use.json", max_age: 8d}
repositories: [{name: app, expires: 30d, keep_tag_patterns: []}]
"""


def _data(body, *, written_days_ago: float = 1) -> dict:
    from datetime import timedelta

    return inventory(
        {"app": [image("eks", tags=["v1"]), image("eks-pinned"), image("unused", tags=["v0"])]},
        objects=[
            {
                "bucket": "k8s-scans",
                "key": "prod/in-use.json",
                "body": body,
                "last_modified": stamp(NOW - timedelta(days=written_days_ago)),
            }
        ],
    )


def test_images_in_a_list_survive_and_their_neighbours_go(run_workflow):
    body = [uri("app", ":v1"), uri("app", f"@{digest('eks-pinned')}"), "docker.io/library/nginx"]
    result = run_workflow(_data(body), config=CONFIG)
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("eks"), digest("eks-pinned")}
    assert deleted(result, "app") == {digest("unused")}


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (inventory({"app": [image("unused", tags=["v0"])]}), "cannot be read"),  # missing
        (_data("{not json"), "is not JSON"),
        (_data({"images": []}), "must be a JSON array"),
        (_data([uri("app", ":v1")], written_days_ago=9), "is stale"),
    ],
    ids=["missing", "malformed", "not-a-list", "stale"],
)
def test_a_bad_list_fails_the_run_deletes_nothing_and_notifies(run_workflow, data, problem):
    result = run_workflow(data, config=CONFIG)
    assert result["status"] == "FAILED"
    assert result["error"] == "SourceReadError"
    assert all(not r["deleted"] for r in result["repositories"].values())
    (note,) = result["notifications"]
    assert "FAILED in state ScanInUse" in note["message"] and problem in note["message"]
