"""Other accounts and regions (config `accounts`): the scan assumes a role in each and
reads its workloads there; the in-use set is the union over every place. Anything it
cannot read (a role refused, a region unreadable) fails the run before any deletion."""

from __future__ import annotations

from typing import Any

from conftest import deleted, digest, image, inventory, remaining, uri

MEMBER, MEMBER_REGION = "210987654321", "eu-west-1"
ROLE = f"arn:aws:iam::{MEMBER}:role/ecr-sweeper-scanner"

CONFIG = f"""
clusters: [{{name_pattern: "*"}}]
task_definitions: [{{name_pattern: "*", keep_count: 1}}]
lambda_functions: [{{name_pattern: "*", keep_count: 1}}]
repositories: [{{name: app, expires: 30d, keep_tag_patterns: []}}]
accounts:
  - role_arn: {ROLE}
    external_id: sweeper-7f3a
    regions: [{MEMBER_REGION}, us-east-1]
"""


def _member(region: str = MEMBER_REGION, **sections: Any) -> dict[str, Any]:
    return {
        "account_id": MEMBER,
        "region": region,
        "external_id": "sweeper-7f3a",
        **sections,
    }


def _account(*members: dict[str, Any]) -> dict[str, Any]:
    labels = ("member-service", "member-lambda", "member-batch", "home", "unused")
    return inventory(
        {"app": [image(label, tags=[label]) for label in labels]},
        ecs={
            "clusters": [
                {
                    "name": "home",
                    "services": [{"name": "web", "deployments": [{"task_definition": "web:1"}]}],
                }
            ],
            "task_definitions": [{"family": "web", "revision": 1, "images": [uri("app", ":home")]}],
        },
        accounts=list(members),
    )


# Workloads in the member account that run this account's images (in this region).
MEMBER_WORKLOADS = dict(
    ecs={
        "clusters": [
            {
                "name": "member",
                "services": [{"name": "api", "deployments": [{"task_definition": "api:3"}]}],
            }
        ],
        "task_definitions": [
            {"family": "api", "revision": 3, "images": [uri("app", ":member-service")]}
        ],
    },
    batch={
        "job_definitions": [{"name": "etl", "revision": 1, "images": [uri("app", ":member-batch")]}]
    },
)


def test_an_image_used_only_in_a_member_account_in_another_region_survives(run_workflow, mode):
    data = _account(
        _member(**MEMBER_WORKLOADS),
        _member(
            "us-east-1",
            **{
                "lambda": {
                    "functions": [
                        {
                            "name": "worker",
                            "versions": [
                                {"version": "$LATEST", "image_uri": uri("app", ":member-lambda")}
                            ],
                        }
                    ]
                }
            },
        ),
    )
    result = run_workflow(data, config=CONFIG, from_build=mode)

    assert result["status"] == "SUCCEEDED", result
    assert deleted(result, "app") == {digest("unused")}
    assert remaining(result, "app") == {
        digest(label) for label in ("member-service", "member-lambda", "member-batch", "home")
    }
    # The in-use set says who uses each image, and where.
    users = result["in_use"]["repositories"]["app"]["tags"]
    assert users["member-service"] == [f"{MEMBER}/{MEMBER_REGION} ecs:service/member/api"]
    assert users["member-lambda"][0].startswith(f"{MEMBER}/us-east-1 lambda:")
    # One AssumeRole per (role, region); the member's calls count with the handlers'.
    assert result["api_calls"]["sts:AssumeRole"] == 2
    assert result["api_calls"]["ecs:ListClusters"] == 3  # home, and two member regions
    # Each place's sources are timed and counted apart.
    sources = result["report"]["sources"]
    assert sources[f"ecs@{MEMBER}/{MEMBER_REGION}"]["found"] >= 1
    assert sources[f"lambda@{MEMBER}/us-east-1"]["found"] == 1
    assert sources[f"batch@{MEMBER}/{MEMBER_REGION}"]["found"] == 1
    assert f"sts@{MEMBER}/{MEMBER_REGION}" in sources


def test_a_member_reference_to_another_region_does_not_keep_this_regions_image(run_workflow):
    other_region = uri("app", ":member-service").replace(".ap-northeast-1.", ".eu-west-1.")
    data = _account(
        _member(
            ecs={
                "clusters": [],
                "task_definitions": [{"family": "api", "revision": 1, "images": [other_region]}],
            }
        ),
        _member("us-east-1"),
    )
    result = run_workflow(data, config=CONFIG)
    assert result["status"] == "SUCCEEDED", result
    assert digest("member-service") in deleted(result, "app")
    assert digest("home") not in deleted(result, "app")


def _refused(result: dict[str, Any]) -> None:
    assert result["status"] == "FAILED", result
    assert result["error"] == "AwsRequestError", result
    assert "sts:AssumeRole" in result["cause"] and ROLE in result["cause"]
    assert all(not r["deleted"] for r in result["repositories"].values())
    assert result["api_calls"].get("ecr:BatchDeleteImage", 0) == 0
    assert result["notifications"], "the failure must be notified"
    assert "AccessDenied" in result["notifications"][-1]["message"]


def test_access_denied_on_assuming_a_configured_role_fails_the_run(run_workflow):
    # The member account never deployed the scanner role: STS refuses.
    result = run_workflow(_account(), config=CONFIG)
    _refused(result)


def test_a_wrong_external_id_is_refused_and_fails_the_run(run_workflow):
    member = _member(**MEMBER_WORKLOADS) | {"external_id": "another-id"}
    result = run_workflow(_account(member, member | {"region": "us-east-1"}), config=CONFIG)
    _refused(result)


def test_an_unreadable_member_region_fails_the_run(run_workflow, mode):
    data = _account(_member(**MEMBER_WORKLOADS), _member("us-east-1"))
    # The role is assumed, but the region's ECS refuses it (an SCP, a disabled region).
    data["faults"] = [
        {"operation": "ecs:ListClusters", "error": "AccessDeniedException", "skip": 1}
    ]
    result = run_workflow(data, config=CONFIG, from_build=mode)
    assert result["status"] == "FAILED", result
    assert (
        f"{MEMBER}/{MEMBER_REGION} (role {ROLE}): ecs:list_clusters: AccessDenied"
        in result["cause"]
    )
    assert all(not r["deleted"] for r in result["repositories"].values())
    assert result["notifications"]
