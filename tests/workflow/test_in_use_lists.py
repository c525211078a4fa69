"""In-use lists in S3 (the `ecrm scan` format): protect what they name, fail closed."""

from datetime import timedelta

import pytest
from conftest import ACCOUNT, NOW, deleted, digest, image, inventory, remaining, stamp, uri

CONFIG = """
clusters: []
task_definitions: []
lambda_functions: []
in_use_lists:
  - {uri: "s3://k8s-scans/prod/in-use.json", max_age: 8d}
repositories: [{name: app, expires: 30d, keep_tag_patterns: []}]
"""


LIST = "in-use list s3://k8s-scans/prod/in-use.json"


def _object(key: str, body, *, written_days_ago: float = 1) -> dict:
    return {
        "bucket": "k8s-scans",
        "key": key,
        "body": body,
        "last_modified": stamp(NOW - timedelta(days=written_days_ago)),
    }


def _data(body, *, written_days_ago: float = 1, more: tuple = ()) -> dict:
    return inventory(
        {"app": [image("eks", tags=["v1"]), image("eks-pinned"), image("unused", tags=["v0"])]},
        objects=[_object("prod/in-use.json", body, written_days_ago=written_days_ago), *more],
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


def test_kubernetes_runtime_prefixes_are_understood(run_workflow):
    body = [
        "docker://" + uri("app", ":v1"),
        "docker-pullable://" + uri("app", f"@{digest('eks-pinned')}"),
        "containerd://docker.io/library/nginx:1.27",
    ]
    result = run_workflow(_data(body), config=CONFIG)
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("eks"), digest("eks-pinned")}
    assert deleted(result, "app") == {digest("unused")}


UPPER = "sha256:" + digest("eks-pinned").removeprefix("sha256:").upper()


@pytest.mark.parametrize(
    ("entry", "quoted"),
    [
        (uri("app", f"@{UPPER}"), uri("app", f"@{UPPER}")),
        ("app v1", "app v1"),
        ("podman://" + uri("app", ":v1"), "podman://"),
        ("docker://" + digest("eks"), "docker://sha256:"),  # an image ID: no repository
        ("", "''"),
    ],
    ids=["uppercase-digest", "not-a-reference", "unknown-prefix", "image-id", "empty-string"],
)
def test_an_entry_that_names_no_image_fails_the_run_naming_it_and_its_list(
    run_workflow, entry, quoted
):
    body = [uri("app", ":v1"), entry]
    result = run_workflow(_data(body), config=CONFIG)
    assert result["status"] == "FAILED"
    assert result["error"] == "SourceReadError"
    assert all(not r["deleted"] for r in result["repositories"].values())
    (note,) = result["notifications"]
    message = note["message"]
    assert "FAILED in state ScanInUse" in message
    assert "s3://k8s-scans/prod/in-use.json: 1 of its 2 entries name no image" in message
    assert "[1] " in message and quoted in message


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([], "is empty"),
        (
            ["docker.io/library/nginx", uri("app", ":v1").replace(ACCOUNT, "210987654321")],
            "names no image of this registry (123456789012 ap-northeast-1) in its 2 entries",
        ),
    ],
    ids=["empty", "other-registries-only"],
)
def test_a_list_naming_nothing_here_fails_the_run(run_workflow, body, problem):
    # Another list names v1: the scan finds something, only the bad list is blind.
    config = CONFIG.replace(
        "max_age: 8d}", "max_age: 8d}\n  - {uri: 's3://k8s-scans/dev/in-use.json', max_age: 8d}"
    )
    data = _data(body, more=(_object("dev/in-use.json", [uri("app", ":v1")]),))
    result = run_workflow(data, config=config)
    assert result["status"] == "FAILED"
    assert result["error"] == "SourceReadError"
    assert all(not r["deleted"] for r in result["repositories"].values())
    (note,) = result["notifications"]
    assert problem in note["message"] and "allow_empty: true" in note["message"]


def test_allow_empty_lets_a_list_name_nothing_and_the_report_counts_each_list(run_workflow):
    config = CONFIG.replace(
        "max_age: 8d}",
        "max_age: 8d}\n  - {uri: 's3://k8s-scans/dev/in-use.json', max_age: 8d, allow_empty: true}",
    )
    body = [uri("app", ":v1"), uri("app", f"@{digest('eks-pinned')}"), "docker.io/library/nginx"]
    result = run_workflow(_data(body, more=(_object("dev/in-use.json", []),)), config=config)
    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "app") == {digest("unused")}
    sources = result["report"]["sources"]
    assert sources[LIST]["found"] == 2
    assert sources["in-use list s3://k8s-scans/dev/in-use.json"]["found"] == 0
    assert f"{LIST}: 2 in" in result["report_md"]
    assert "in-use list s3://k8s-scans/dev/in-use.json: 0 in" in result["report_md"]
