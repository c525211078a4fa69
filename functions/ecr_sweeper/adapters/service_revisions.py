"""The digests ECS pinned for its services (software version consistency).

When a service deployment starts, ECS resolves each container's image tag to a digest
and records it in the deployment's service revision; every task of that revision (a
scale-out, the replacement of an unhealthy task, a rollback by the circuit breaker)
pulls that digest, not the tag. A service scaled to zero whose tag has moved still
starts its pinned digest on the next scale-up, so the digest is in use.

Calls, for the services DescribeServices already returned (the ECS scan's own call):

* ListServiceDeployments per service with the ECS deployment controller (100 a page,
  its maximum; no boto3 paginator, so paged here), filtered to the deployments that are
  under way (PENDING, IN_PROGRESS, STOP_REQUESTED, ROLLBACK_REQUESTED,
  ROLLBACK_IN_PROGRESS) and the SUCCESSFUL ones, of which the most recent counts;
* DescribeServiceDeployments for those deployments (20 ARNs a call, its maximum);
* DescribeServiceRevisions for the services' `currentServiceRevisions` and the
  deployments' source and target revisions (20 ARNs a call, its maximum).

The describes are batched across services and clusters, and independent calls run
concurrently (at most DESCRIBE_CONCURRENCY at a time). Every API error goes through
`classify`, naming the call and the cluster; an ARN a describe reports in `failures[]`
fails the scan too: a revision that cannot be read may pin any digest.

A service that DescribeServices reports INACTIVE (deleted) is skipped: it runs nothing.
Services with the CODE_DEPLOY or EXTERNAL controller run task sets (task_sets.py), not
service deployments; their `currentServiceRevisions`, if ECS reports any, still count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import classify, concurrently
from ecr_sweeper.adapters.ecr import chunks
from ecr_sweeper.core.image_ref import parse_image_ref
from ecr_sweeper.errors import SourceReadError

LIST_PAGE_SIZE = 100  # ListServiceDeployments' maximum
DESCRIBE_BATCH = 20  # DescribeServiceDeployments and DescribeServiceRevisions: 20 ARNs a call
UNDER_WAY = (
    "PENDING",
    "IN_PROGRESS",
    "STOP_REQUESTED",
    "ROLLBACK_REQUESTED",
    "ROLLBACK_IN_PROGRESS",
)
SUCCESSFUL = "SUCCESSFUL"
OPERATION_NAMES = {
    "describe_service_deployments": "DescribeServiceDeployments",
    "describe_service_revisions": "DescribeServiceRevisions",
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _cluster_of(arn: str) -> str:
    """The cluster name in a service, service revision or service deployment ARN
    (`arn:aws:ecs:REGION:ACCOUNT:service-revision/CLUSTER/SERVICE/ID`)."""
    parts = arn.split(":", 5)[-1].split("/")
    return parts[1] if len(parts) > 2 else "?"


def service_revision_used_by(revision_arn: str) -> str:
    """`ecs:service-revision/CLUSTER/SERVICE/ID`."""
    return "ecs:" + revision_arn.split(":", 5)[-1]


@dataclass(frozen=True)
class _Service:
    cluster: str  # name
    arn: str
    controller: str
    revisions: tuple[str, ...]  # currentServiceRevisions[].arn


def _services(described: Iterable[dict[str, Any]]) -> list[_Service]:
    found: list[_Service] = []
    for service in described:
        if service.get("status") == "INACTIVE" or not service.get("serviceArn"):
            continue
        found.append(
            _Service(
                cluster=_name(service.get("clusterArn") or "?"),
                arn=service["serviceArn"],
                controller=(service.get("deploymentController") or {}).get("type", "ECS"),
                revisions=tuple(
                    r["arn"] for r in service.get("currentServiceRevisions") or [] if r.get("arn")
                ),
            )
        )
    return found


def _deployments_to_read(ecs: Any, service: _Service) -> list[str]:
    """The ARNs of the service's deployments under way and of its most recent SUCCESSFUL."""
    briefs: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "cluster": service.cluster,
        "service": service.arn,
        "status": [*UNDER_WAY, SUCCESSFUL],
        "maxResults": LIST_PAGE_SIZE,
    }
    while True:
        try:
            page = ecs.list_service_deployments(**kwargs)
        except ClientError as error:
            doing = (
                f"ecs:ListServiceDeployments cluster {service.cluster} service {_name(service.arn)}"
            )
            raise classify(error, doing) from error
        briefs.extend(page.get("serviceDeployments", []))
        token = page.get("nextToken")
        if not token:
            break
        kwargs["nextToken"] = token
    arns = [b["serviceDeploymentArn"] for b in briefs if b.get("status") in UNDER_WAY]
    successful = [b for b in briefs if b.get("status") == SUCCESSFUL]
    if successful:
        # The pages' order is not documented: pick the newest ourselves.
        newest = max(
            successful, key=lambda b: (b.get("createdAt") or EPOCH, b["serviceDeploymentArn"])
        )
        arns.append(newest["serviceDeploymentArn"])
    return arns


def _describe(
    ecs: Any, operation: str, arns: list[str], *, request_key: str, answer_key: str
) -> list[dict[str, Any]]:
    """One DescribeServiceDeployments or DescribeServiceRevisions call (the snake-case
    `operation`), named in errors with its clusters."""
    clusters = ", ".join(sorted({_cluster_of(arn) for arn in arns}))
    doing = f"ecs:{OPERATION_NAMES[operation]} cluster {clusters}"
    try:
        answer = getattr(ecs, operation)(**{request_key: arns})
    except ClientError as error:
        raise classify(error, doing) from error
    failures = answer.get("failures") or []
    if failures:
        # Without the revision we cannot know which digest it pins: refuse to guess.
        listed = "; ".join(
            f"{f.get('arn', '?')}: {f.get('reason', '?')} {f.get('detail') or ''}".rstrip()
            for f in failures
        )
        # ECS cannot describe revisions made before it had them (25 October 2024); a
        # new deployment of the service makes a revision it can describe.
        raise SourceReadError(
            f"{doing}: could not describe {listed}. Nothing is deleted while a pinned "
            "digest is unknown; if the service was last deployed before ECS had service "
            "revisions, deploy it again (aws ecs update-service --force-new-deployment)"
        )
    return list(answer.get(answer_key, []))


def _describe_deployments(ecs: Any, arns: list[str]) -> list[dict[str, Any]]:
    return _describe(
        ecs,
        "describe_service_deployments",
        arns,
        request_key="serviceDeploymentArns",
        answer_key="serviceDeployments",
    )


def _describe_revisions(ecs: Any, arns: list[str]) -> list[dict[str, Any]]:
    return _describe(
        ecs,
        "describe_service_revisions",
        arns,
        request_key="serviceRevisionArns",
        answer_key="serviceRevisions",
    )


def _batches(arns: Iterable[str]) -> list[list[str]]:
    return [list(batch) for batch in chunks(sorted(set(arns)), DESCRIBE_BATCH)]


def pinned_images(ecs: Any, described_services: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """(image, used_by) of every container of every service revision the services run or
    a deployment may start: the image as the task definition names it, and the digest
    ECS pinned for it (`host/repository@digest`), as for a running task. Sorted."""
    services = _services(described_services)
    revisions: set[str] = {arn for s in services for arn in s.revisions}

    with_deployments = [s for s in services if s.controller == "ECS"]
    listed = concurrently(lambda s: _deployments_to_read(ecs, s), with_deployments)
    deployment_batches = _batches(arn for arns in listed for arn in arns)
    for deployments in concurrently(
        lambda batch: _describe_deployments(ecs, batch), deployment_batches
    ):
        for deployment in deployments:
            for source in deployment.get("sourceServiceRevisions") or []:
                if source.get("arn"):
                    revisions.add(source["arn"])
            target = (deployment.get("targetServiceRevision") or {}).get("arn")
            if target:
                revisions.add(target)

    images: set[tuple[str, str]] = set()
    for described in concurrently(
        lambda batch: _describe_revisions(ecs, batch), _batches(revisions)
    ):
        for revision in described:
            used_by = service_revision_used_by(revision.get("serviceRevisionArn") or "?")
            for container in revision.get("containerImages") or []:
                image, digest = container.get("image"), container.get("imageDigest")
                if image:
                    images.add((image, used_by))
                ref = parse_image_ref(image) if image else None
                if ref is not None and digest:
                    images.add((f"{ref.host}/{ref.repository}@{digest}", used_by))
    return sorted(images)
