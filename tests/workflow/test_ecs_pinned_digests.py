"""The digests ECS pinned for a service (software version consistency) survive: the one
its current revision runs, after its tag moved and while it is scaled to zero, and those
a deployment under way (or the last successful one) may start. Reading them fails
closed."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import deleted, digest, image, inventory, remaining, uri

CONFIG = """
clusters: [{name: prod}]
task_definitions: []
lambda_functions: []
repositories: [{name: app, expires: 30d, keep_tag_patterns: []}]
"""
MEMBER, MEMBER_REGION = "210987654321", "eu-west-1"
MEMBER_CONFIG = f"""
clusters: [{{name: prod}}]
task_definitions: []
lambda_functions: []
repositories: [{{name: app, expires: 30d, keep_tag_patterns: []}}]
accounts:
  - {{role_arn: "arn:aws:iam::{MEMBER}:role/ecr-sweeper-scanner", regions: [{MEMBER_REGION}]}}
"""


def _revision(revision_id: str, label: str, *, current: bool = False) -> dict[str, Any]:
    """A revision whose container names the tag `v1` and runs the digest of `label`."""
    return {
        "id": revision_id,
        "current": current,
        "containers": [{"image": uri("app", ":v1"), "image_digest": digest(label)}],
    }


def _ecs(**service: Any) -> dict[str, Any]:
    """Cluster prod, service web scaled to zero, its task definition naming app:v1."""
    return {
        "clusters": [
            {
                "name": "prod",
                "services": [
                    {"name": "web", "deployments": [{"task_definition": "web:1"}], **service}
                ],
            }
        ],
        "task_definitions": [{"family": "web", "revision": 1, "images": [uri("app", ":v1")]}],
    }


def _images(*labels: str) -> dict[str, list[dict[str, Any]]]:
    # v1 has moved to "retagged": the digests the revisions pinned have no tag any more.
    return {"app": [image("retagged", tags=["v1"]), *(image(label) for label in labels)]}


def test_a_service_scaled_to_zero_keeps_the_digest_it_pinned_after_its_tag_moved(
    run_workflow, mode
):
    data = inventory(
        _images("pinned", "unused"), ecs=_ecs(revisions=[_revision("1", "pinned", current=True)])
    )
    result = run_workflow(data, config=CONFIG, from_build=mode)
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("pinned"), digest("retagged")}
    assert deleted(result, "app") == {digest("unused")}
    users = result["in_use"]["repositories"]["app"]["digests"][digest("pinned")]
    assert users == ["ecs:service-revision/prod/web/1"]
    assert result["api_calls"]["ecs:DescribeServiceRevisions"] == 1


def test_a_deployment_under_way_keeps_its_source_and_target_and_the_last_success_its_own(
    run_workflow,
):
    revisions = [
        _revision(str(n), label)
        for n, label in enumerate(
            ("older-success", "last-success", "source", "target", "stopped"), start=1
        )
    ]
    deployments = [
        {"id": "d1", "status": "SUCCESSFUL", "target_revision": "1",
         "created_at": "2026-10-01T00:00:00Z"},
        {"id": "d2", "status": "SUCCESSFUL", "source_revisions": ["1"], "target_revision": "2",
         "created_at": "2026-11-01T00:00:00Z"},
        {"id": "d3", "status": "IN_PROGRESS", "source_revisions": ["3"], "target_revision": "4",
         "created_at": "2026-11-26T00:00:00Z"},
        {"id": "d4", "status": "STOPPED", "target_revision": "5",
         "created_at": "2026-11-20T00:00:00Z"},
    ]  # fmt: skip
    data = inventory(
        _images("older-success", "last-success", "source", "target", "stopped", "unused"),
        ecs=_ecs(revisions=revisions, service_deployments=deployments),
    )
    result = run_workflow(data, config=CONFIG)
    assert result["status"] == "SUCCEEDED", result
    # The last success's source (revision 1) counts too: the deployment's rollback
    # would start it.
    kept = {"retagged", "older-success", "last-success", "source", "target"}
    assert remaining(result, "app") == {digest(label) for label in kept}
    assert deleted(result, "app") == {digest("stopped"), digest("unused")}
    assert result["api_calls"]["ecs:ListServiceDeployments"] == 1
    assert result["api_calls"]["ecs:DescribeServiceDeployments"] == 1  # d2 and d3 at once


def test_a_member_accounts_pinned_digest_survives_through_the_scanner_role(run_workflow):
    member = {
        "account_id": MEMBER,
        "region": MEMBER_REGION,
        "ecs": _ecs(revisions=[_revision("7", "member-pinned", current=True)]),
    }
    data = inventory(_images("member-pinned", "unused"), ecs=_ecs(), accounts=[member])
    result = run_workflow(data, config=MEMBER_CONFIG)
    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "app") == {digest("unused")}
    users = result["in_use"]["repositories"]["app"]["digests"][digest("member-pinned")]
    assert users == [f"{MEMBER}/{MEMBER_REGION} ecs:service-revision/prod/web/7"]


UNDER_WAY = {"id": "d1", "status": "IN_PROGRESS", "source_revisions": ["1"], "target_revision": "2"}


@pytest.mark.parametrize(
    "operation",
    ["ListServiceDeployments", "DescribeServiceDeployments", "DescribeServiceRevisions"],
)
@pytest.mark.parametrize("error", ["AccessDeniedException", "ClientException"])
def test_an_error_on_each_call_fails_the_run_before_any_deletion(run_workflow, operation, error):
    data = inventory(
        _images("source", "target", "unused"),
        ecs=_ecs(
            revisions=[_revision("1", "source"), _revision("2", "target")],
            service_deployments=[UNDER_WAY],
        ),
        faults=[{"operation": f"ecs:{operation}", "error": error}],
    )
    result = run_workflow(data, config=CONFIG)
    assert result["status"] == "FAILED"
    assert result["error"] == "AwsRequestError"
    assert all(not r["deleted"] for r in result["repositories"].values())
    (note,) = result["notifications"]
    assert "FAILED in state ScanInUse" in note["message"]
    assert f"ecs:{operation} cluster prod" in note["message"] and error in note["message"]


def test_a_revision_ecs_cannot_describe_fails_the_run(run_workflow):
    # The deployment names revision 2, which DescribeServiceRevisions does not find.
    data = inventory(
        _images("source", "unused"),
        ecs=_ecs(revisions=[_revision("1", "source")], service_deployments=[UNDER_WAY]),
    )
    result = run_workflow(data, config=CONFIG)
    assert result["status"] == "FAILED"
    assert result["error"] == "SourceReadError"
    assert all(not r["deleted"] for r in result["repositories"].values())
    (note,) = result["notifications"]
    assert "service-revision/prod/web/2: MISSING" in note["message"]
