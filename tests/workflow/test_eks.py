"""Amazon EKS read directly: what runs in a cluster, and what its workloads may start,
is kept; a cluster that cannot be read fails the run with nothing deleted."""

import pytest
from conftest import ACCOUNT, REGION, deleted, digest, image, inventory, remaining, uri

from benchmarks.floor import eks_terms

EKS_CALLS = ("eks", "kubernetes")

CONFIG = """
clusters: []
task_definitions: []
lambda_functions: []
eks: [{name: prod}]
repositories: [{name: app, expires: 30d, keep_tag_patterns: []}]
"""


def _cluster(**objects) -> dict:
    return {"eks": {"clusters": [{"name": "prod", **objects}]}}


def _workload(kind: str, name: str, images: list[str], **extra) -> dict:
    return {"kind": kind, "name": name, "containers": images, **extra}


KEPT = digest("kept")
# Each place a digest may be in use only there; "unused" is in use nowhere.
PLACES = {
    "deployment-scaled-to-zero": {
        "workloads": [
            _workload("Deployment", "web", [uri("app", "@" + digest("kept"))], replicas=0)
        ]
    },
    "cronjob-between-runs": {
        "workloads": [_workload("CronJob", "nightly", [uri("app", "@" + digest("kept"))])]
    },
    "replicaset-kept-for-rollback": {
        "workloads": [
            _workload("ReplicaSet", "web-5d9f", [uri("app", "@" + digest("kept"))], replicas=0)
        ]
    },
    "init-container": {
        "pods": [
            {
                "name": "web-1",
                "containers": ["docker.io/library/nginx:1.27"],
                "init_containers": [uri("app", "@" + digest("kept"))],
            }
        ]
    },
    "pod-imageID-after-the-tag-moved": {
        # The pod names the tag v1, which now names another image; the node runs the
        # digest its status reports.
        "pods": [
            {
                "name": "web-1",
                "containers": [uri("app", ":v1")],
                "image_ids": ["docker-pullable://" + uri("app", "@" + digest("kept"))],
            }
        ]
    },
    "statefulset-daemonset-job": {
        "workloads": [
            _workload("StatefulSet", "db", [uri("app", "@" + digest("kept"))]),
            _workload("DaemonSet", "agent", [uri("app", "@" + digest("kept"))]),
            _workload("Job", "migrate", [uri("app", "@" + digest("kept"))]),
        ]
    },
}


@pytest.mark.parametrize("place", sorted(PLACES))
def test_an_image_used_only_there_is_kept_and_its_unused_neighbours_go(run_workflow, place):
    images = [image("kept"), image("unused"), image("moved-to", tags=["v1"])]
    result = run_workflow(inventory({"app": images}, **_cluster(**PLACES[place])), config=CONFIG)
    assert result["status"] == "SUCCEEDED", result
    assert digest("kept") in remaining(result, "app")
    assert digest("unused") in deleted(result, "app")
    source = f"eks@{ACCOUNT}/{REGION}/prod"
    figures = result["output"]["sources"] if "sources" in (result["output"] or {}) else None
    report_sources = result["report"]["sources"]
    assert report_sources[source]["found"] >= 1, (figures, report_sources)
    assert "seconds" in report_sources[source]


def test_only_this_registry_counts_and_paging_reads_every_page(run_workflow):
    # More pods than one page (the client asks for 200 a page): the last one's image is
    # on the second page.
    pods = [
        {"name": f"other-{i}", "containers": ["docker.io/library/busybox:1"]} for i in range(200)
    ]
    pods.append({"name": "last", "containers": [uri("app", ":v2")]})
    pods.append(
        {"name": "elsewhere", "containers": ["210987654321.dkr.ecr.eu-west-1.amazonaws.com/app:v3"]}
    )
    images = [image("v2", tags=["v2"]), image("v3", tags=["v3"])]
    result = run_workflow(inventory({"app": images}, **_cluster(pods=pods)), config=CONFIG)
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("v2")}
    assert deleted(result, "app") == {digest("v3")}
    # The floor's EKS terms (benchmarks/floor.py) are the calls the run makes.
    floor = eks_terms([(1, {"prod": {"/api/v1/pods": len(pods)}})])
    made = {op: n for op, n in result["api_calls"].items() if op.split(":")[0] in EKS_CALLS}
    assert made == floor
    assert floor["kubernetes:GET /api/v1/pods"] == 2


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ({"answer": "unauthorized"}, "401"),
        ({"answer": "forbidden", "path": "/apis/batch/v1/cronjobs"}, "403"),
        ({"answer": "hang"}, "no answer"),
        ({"answer": "broken_page", "path": "/api/v1/pods", "page": 1}, "not JSON"),
        ({"answer": "gone", "path": "/api/v1/pods", "page": 1}, "410"),
        ({"answer": "server_error", "path": "/apis/apps/v1/replicasets"}, "HTTP 500"),
    ],
    ids=["401", "403", "timeout", "broken-page", "410-gone", "500"],
)
def test_a_cluster_that_cannot_be_read_fails_the_run_deletes_nothing_and_notifies(
    run_workflow, fault, reason
):
    pods = [{"name": f"p{i}", "containers": [uri("app", ":v1")]} for i in range(201)]
    data = inventory(
        {"app": [image("used", tags=["v1"]), image("unused")]},
        **_cluster(pods=pods, faults=[fault]),
    )
    result = run_workflow(data, config=CONFIG)
    assert result["status"] == "FAILED", result
    assert all(not r["deleted"] for r in result["repositories"].values())
    (note,) = result["notifications"]
    assert "FAILED in state ScanInUse" in note["message"]
    assert f"eks@{ACCOUNT}/{REGION}/prod" in note["message"] and reason in note["message"]


def test_a_cluster_in_a_member_account_through_accounts(run_workflow):
    member, region = "210987654321", "eu-west-1"
    config = f"""
clusters: []
task_definitions: []
lambda_functions: []
accounts:
  - role_arn: arn:aws:iam::{member}:role/ecr-sweeper-scanner
    regions: [{region}]
    eks: [{{name_pattern: "prod-*"}}]
repositories: [{{name: app, expires: 30d, keep_tag_patterns: []}}]
"""
    member_account = {
        "account_id": member,
        "region": region,
        "eks": {
            "clusters": [
                {
                    "name": "prod-eu",
                    "workloads": [_workload("Deployment", "web", [uri("app", ":v1")], replicas=0)],
                },
                {"name": "staging", "faults": [{"answer": "forbidden"}]},  # not selected
            ]
        },
    }
    data = inventory(
        {"app": [image("used", tags=["v1"]), image("unused", tags=["v0"])]},
        accounts=[member_account],
    )
    result = run_workflow(data, config=config)
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("used")}
    assert deleted(result, "app") == {digest("unused")}
    assert result["report"]["sources"][f"eks@{member}/{region}/prod-eu"]["found"] == 1
    (users,) = result["in_use"]["repositories"]["app"]["tags"].values()
    assert users == [f"{member}/{region} eks:prod-eu/default/deployment/web"]


def test_the_artifact_reads_a_cluster_too(run_workflow, artifact):
    data = inventory(
        {"app": [image("kept"), image("unused")]},
        **_cluster(**PLACES["pod-imageID-after-the-tag-moved"]),
    )
    result = run_workflow(data, config=CONFIG, from_build=artifact)
    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("kept")}


def test_a_timeout_in_the_artifact_fails_the_run(run_workflow, artifact):
    data = inventory(
        {"app": [image("used", tags=["v1"]), image("unused")]},
        **_cluster(faults=[{"answer": "hang"}]),
    )
    result = run_workflow(data, config=CONFIG, from_build=artifact)
    assert result["status"] == "FAILED", result
    assert all(not r["deleted"] for r in result["repositories"].values())
    (note,) = result["notifications"]
    assert "no answer" in note["message"]
