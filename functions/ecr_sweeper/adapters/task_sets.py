"""ECS task sets as a source of "in use": services with a CODE_DEPLOY or EXTERNAL
deployment controller run their tasks in task sets (blue/green: PRIMARY, ACTIVE and
DRAINING), and each task set has its own task definition.

DescribeServices already returns every task set of such a service (`taskSets[]`), so
the ECS scan's own DescribeServices answers hold them: `task_set_definitions` reads
them there without any call. `collect_task_set_definitions` is the stand-alone form:

* per cluster: ListServices (100 a page), then DescribeServices (10 a call).

No DescribeTaskSets call is needed. Independent calls run concurrently (at most
DESCRIBE_CONCURRENCY at a time); every API error goes through `classify`.

Like the ECS adapter, this only finds task definitions; the caller describes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import classify, concurrently
from ecr_sweeper.adapters.ecr import chunks

SOURCE = "ecs_task_sets"
PAGE_SIZE = 100  # ListServices' maximum
DESCRIBE_SERVICES_BATCH = 10  # DescribeServices takes 10 services at a time


def _name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def task_set_used_by(cluster: str, service: str, task_set_id: str) -> str:
    """`ecs:task-set/CLUSTER/SERVICE/ID` (an ID looks like `ecs-svc/1234567890123456789`)."""
    return f"ecs:task-set/{cluster}/{service}/{task_set_id}"


def task_set_definitions(cluster: str, services: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Task definition ARN -> the first task set that runs it, from DescribeServices'
    `services[]` of one cluster (name or ARN). Every task set counts, whatever its status."""
    cluster_name = _name(cluster)
    found: list[tuple[str, str]] = []
    for service in services:
        service_name = service.get("serviceName") or _name(service.get("serviceArn", "?"))
        for task_set in service.get("taskSets") or []:
            task_definition = task_set.get("taskDefinition")
            if task_definition:
                task_set_id = task_set.get("id") or _name(task_set.get("taskSetArn", "?"))
                found.append(
                    (task_set_used_by(cluster_name, service_name, task_set_id), task_definition)
                )
    definitions: dict[str, str] = {}
    for used_by, task_definition in sorted(found):
        definitions.setdefault(task_definition, used_by)
    return definitions


def _service_arns(ecs: Any, cluster: str) -> list[str]:
    try:
        return [
            arn
            for page in ecs.get_paginator("list_services").paginate(
                cluster=cluster, maxResults=PAGE_SIZE
            )
            for arn in page.get("serviceArns", [])
        ]
    except ClientError as error:
        raise classify(error, f"ecs:ListServices {_name(cluster)}") from error


def _describe(ecs: Any, cluster: str, services: list[str]) -> list[dict[str, Any]]:
    try:
        return list(ecs.describe_services(cluster=cluster, services=services)["services"])
    except ClientError as error:
        raise classify(error, f"ecs:DescribeServices {_name(cluster)}") from error


def collect_task_set_definitions(ecs: Any, cluster_arns: Iterable[str]) -> dict[str, str]:
    """Task definition ARN -> the first task set (in used_by order) that runs it, over
    every service of the given clusters (ARNs or names)."""
    clusters = sorted(set(cluster_arns))
    listed = concurrently(lambda cluster: _service_arns(ecs, cluster), clusters)
    jobs = [
        (cluster, list(batch))
        for cluster, arns in zip(clusters, listed, strict=True)
        for batch in chunks(sorted(arns), DESCRIBE_SERVICES_BATCH)
    ]
    described = concurrently(lambda job: _describe(ecs, *job), jobs)
    found: dict[str, str] = {}
    for (cluster, _batch), services in zip(jobs, described, strict=True):
        for task_definition, used_by in task_set_definitions(cluster, services).items():
            if task_definition not in found or used_by < found[task_definition]:
                found[task_definition] = used_by
    return dict(sorted(found.items()))
