"""Amazon ECS as a source of "in use": services, tasks and task definitions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import classify
from ecr_sweeper.adapters.ecr import chunks
from ecr_sweeper.core.config import Config
from ecr_sweeper.core.image_ref import parse_image_ref
from ecr_sweeper.core.in_use import InUseBuilder

SOURCE = "ecs"


def _name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _pages(ecs: Any, operation: str, key: str, **kwargs: Any) -> Iterable[str]:
    try:
        for page in ecs.get_paginator(operation).paginate(**kwargs):
            yield from page.get(key, [])
    except ClientError as error:
        raise classify(error, f"ecs:{operation}") from error


def _call(ecs: Any, operation: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response: dict[str, Any] = getattr(ecs, operation)(**kwargs)
    except ClientError as error:
        raise classify(error, f"ecs:{operation}") from error
    return response


def collect_ecs_usage(ecs: Any, config: Config, builder: InUseBuilder) -> None:
    """Add every image the matched clusters and task definition families use."""
    task_definitions: dict[str, str] = {}  # task definition ARN -> who uses it

    if config.clusters is not None:
        for cluster_arn in _pages(ecs, "list_clusters", "clusterArns", maxResults=100):
            cluster = _name(cluster_arn)
            if config.cluster_selected(cluster):
                _scan_cluster(ecs, cluster_arn, cluster, builder, task_definitions)

    if config.task_definitions is not None:
        for family in _pages(
            ecs, "list_task_definition_families", "families", status="ACTIVE", maxResults=100
        ):
            rule = config.task_definition_rule(family)
            if rule is None or rule.keep_count == 0:
                continue
            # familyPrefix is a prefix match: keep only this exact family. Sort by
            # revision ourselves rather than trust the order of the pages.
            revisions = sorted(
                (
                    arn
                    for arn in _pages(
                        ecs,
                        "list_task_definitions",
                        "taskDefinitionArns",
                        familyPrefix=family,
                        status="ACTIVE",
                        sort="DESC",
                        maxResults=100,
                    )
                    if _name(arn).rsplit(":", 1)[0] == family
                ),
                key=lambda arn: int(arn.rsplit(":", 1)[1]),
                reverse=True,
            )
            for arn in revisions[: rule.keep_count]:
                task_definitions.setdefault(arn, f"ecs:task-definition/{_name(arn)}")

    for arn, used_by in sorted(task_definitions.items()):
        definition = _call(ecs, "describe_task_definition", taskDefinition=arn)["taskDefinition"]
        for container in definition.get("containerDefinitions", []):
            if container.get("image"):
                builder.add(container["image"], used_by, SOURCE)


def _scan_cluster(
    ecs: Any,
    cluster_arn: str,
    cluster: str,
    builder: InUseBuilder,
    task_definitions: dict[str, str],
) -> None:
    service_arns = list(
        _pages(ecs, "list_services", "serviceArns", cluster=cluster_arn, maxResults=100)
    )
    for batch in chunks(service_arns, 10):  # DescribeServices takes 10 at a time
        for service in _call(ecs, "describe_services", cluster=cluster_arn, services=list(batch))[
            "services"
        ]:
            used_by = f"ecs:service/{cluster}/{service.get('serviceName')}"
            # Every deployment, whatever its status: a rollback goes back to them.
            for deployment in service.get("deployments", []):
                if deployment.get("taskDefinition"):
                    task_definitions.setdefault(deployment["taskDefinition"], used_by)
            if service.get("taskDefinition"):
                task_definitions.setdefault(service["taskDefinition"], used_by)

    for status in ("RUNNING", "STOPPED"):
        task_arns = list(
            _pages(
                ecs,
                "list_tasks",
                "taskArns",
                cluster=cluster_arn,
                desiredStatus=status,
                maxResults=100,
            )
        )
        for batch in chunks(task_arns, 100):  # DescribeTasks takes 100 at a time
            for task in _call(ecs, "describe_tasks", cluster=cluster_arn, tasks=list(batch))[
                "tasks"
            ]:
                used_by = f"ecs:task/{cluster}/{_name(task.get('taskArn', '?'))}"
                if task.get("taskDefinitionArn"):
                    task_definitions.setdefault(task["taskDefinitionArn"], used_by)
                for container in task.get("containers", []):
                    image, digest = container.get("image"), container.get("imageDigest")
                    if image:
                        builder.add(image, used_by, SOURCE)
                    ref = parse_image_ref(image) if image else None
                    if ref is not None and digest:
                        # The digest the task actually runs, even when it was started by tag.
                        builder.add(f"{ref.host}/{ref.repository}@{digest}", used_by, SOURCE)
