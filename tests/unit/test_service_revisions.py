"""The ECS adapter's reading of service revisions and deployments: which it reads, in
how many calls, and that it refuses to guess."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecr_sweeper.adapters.service_revisions import pinned_images
from ecr_sweeper.errors import AwsRequestError, SourceReadError

PREFIX = "arn:aws:ecs:ap-northeast-1:123456789012"
HOST = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com"


def revision_arn(service: str, n: int) -> str:
    return f"{PREFIX}:service-revision/prod/{service}/{n}"


def digest(n: int) -> str:
    return f"sha256:{n:064x}"


def service(name: str, *current: int, **extra: Any) -> dict[str, Any]:
    return {
        "serviceArn": f"{PREFIX}:service/prod/{name}",
        "serviceName": name,
        "clusterArn": f"{PREFIX}:cluster/prod",
        "status": "ACTIVE",
        "currentServiceRevisions": [{"arn": revision_arn(name, n)} for n in current],
        **extra,
    }


class FakeEcs:
    """Answers from a script: per service, its deployments (as ListServiceDeployments and
    DescribeServiceDeployments show them); every revision ARN exists unless `missing`."""

    def __init__(
        self,
        deployments: dict[str, list[dict[str, Any]]] | None = None,
        *,
        page_size: int = 100,
        missing: frozenset[str] = frozenset(),
    ) -> None:
        self.deployments = deployments or {}
        self.page_size = page_size
        self.missing = missing
        self.calls: list[tuple[str, Any]] = []

    def list_service_deployments(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("list", kwargs.get("nextToken")))
        name = kwargs["service"].rsplit("/", 1)[-1]
        assert kwargs["maxResults"] == 100
        listed = [d for d in self.deployments.get(name, []) if d["status"] in kwargs["status"]]
        start = int(kwargs.get("nextToken") or 0)
        page: dict[str, Any] = {"serviceDeployments": listed[start : start + self.page_size]}
        if start + self.page_size < len(listed):
            page["nextToken"] = str(start + self.page_size)
        return page

    def describe_service_deployments(self, serviceDeploymentArns: list[str]) -> dict[str, Any]:
        self.calls.append(("deployments", len(serviceDeploymentArns)))
        everything = {d["serviceDeploymentArn"]: d for ds in self.deployments.values() for d in ds}
        return {"serviceDeployments": [everything[a] for a in serviceDeploymentArns]}

    def describe_service_revisions(self, serviceRevisionArns: list[str]) -> dict[str, Any]:
        self.calls.append(("revisions", len(serviceRevisionArns)))
        found = [a for a in serviceRevisionArns if a not in self.missing]
        return {
            "serviceRevisions": [
                {
                    "serviceRevisionArn": arn,
                    "containerImages": [
                        {"image": f"{HOST}/app:v1", "imageDigest": digest(int(arn.rsplit("/")[-1]))}
                    ],
                }
                for arn in found
            ],
            "failures": [
                {"arn": a, "reason": "MISSING"} for a in serviceRevisionArns if a in self.missing
            ],
        }


def deployment(name: str, ident: str, status: str, day: int, source: int, target: int) -> dict:
    return {
        "serviceDeploymentArn": f"{PREFIX}:service-deployment/prod/{name}/{ident}",
        "status": status,
        "createdAt": datetime(2026, 11, day, tzinfo=UTC),
        "sourceServiceRevisions": [{"arn": revision_arn(name, source)}],
        "targetServiceRevision": {"arn": revision_arn(name, target)},
    }


def pinned_digests(found: list[tuple[str, str]]) -> set[str]:
    return {image.split("@", 1)[1] for image, _ in found if "@" in image}


def test_the_current_revisions_digest_is_in_use_with_its_tag():
    found = pinned_images(FakeEcs(), [service("web", 1)])
    used_by = "ecs:service-revision/prod/web/1"
    assert found == [(f"{HOST}/app:v1", used_by), (f"{HOST}/app@{digest(1)}", used_by)]


def test_revisions_are_described_20_at_a_time_across_services():
    services = [service(f"s{i}", i) for i in range(1, 46)]
    ecs = FakeEcs()
    found = pinned_images(ecs, services)
    assert pinned_digests(found) == {digest(i) for i in range(1, 46)}
    assert sorted(n for call, n in ecs.calls if call == "revisions") == [5, 20, 20]


def test_under_way_and_the_newest_success_are_read_whatever_the_listing_order():
    history = [
        deployment("web", "new", "SUCCESSFUL", 20, 2, 3),
        deployment("web", "rolling", "IN_PROGRESS", 25, 3, 4),
        deployment("web", "old", "SUCCESSFUL", 10, 1, 2),
        deployment("web", "gave-up", "STOPPED", 22, 3, 9),
    ]
    ecs = FakeEcs({"web": history}, page_size=1)
    found = pinned_images(ecs, [service("web", 3)])
    assert pinned_digests(found) == {digest(2), digest(3), digest(4)}
    assert [c for c in ecs.calls if c[0] == "list"] == [
        ("list", None),
        ("list", "1"),
        ("list", "2"),
    ]
    assert ("deployments", 2) in ecs.calls


def test_inactive_services_and_other_controllers_are_not_listed():
    ecs = FakeEcs()
    pinned_images(
        ecs,
        [
            service("gone", status="INACTIVE"),
            service("blue-green", 5, deploymentController={"type": "CODE_DEPLOY"}),
        ],
    )
    assert [c[0] for c in ecs.calls] == ["revisions"]  # blue-green's current revision only


def test_a_revision_ecs_cannot_describe_fails_the_scan():
    ecs = FakeEcs(missing=frozenset({revision_arn("web", 2)}))
    with pytest.raises(
        SourceReadError, match=r"DescribeServiceRevisions cluster prod.*/2: MISSING"
    ):
        pinned_images(ecs, [service("web", 1, 2)])


def test_access_denied_names_the_call_the_cluster_and_the_service():
    class Denied(FakeEcs):
        def list_service_deployments(self, **kwargs: Any) -> dict[str, Any]:
            error = {"Error": {"Code": "AccessDeniedException", "Message": "no"}}
            raise ClientError(error, "ListServiceDeployments")

    with pytest.raises(
        AwsRequestError, match="ecs:ListServiceDeployments cluster prod service web"
    ):
        pinned_images(Denied(), [service("web")])
