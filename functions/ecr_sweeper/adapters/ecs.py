"""Amazon ECS as a source of "in use": services, tasks and task definitions.

Calls, for a config that selects C clusters and F task definition families (see
docs/benchmarks.md for the whole floor):

* ListClusters, all pages (100 a page), only if `clusters` selects something;
* per selected cluster: ListServices (100 a page), DescribeServices (10 a call),
  ListTasks for RUNNING and for STOPPED (100 a page), DescribeTasks (100 a call);
* for the services found: the digests ECS pinned for them (service_revisions.py:
  ListServiceDeployments per service, DescribeServiceDeployments and
  DescribeServiceRevisions 20 a call);
* ListTaskDefinitionFamilies (100 a page, filtered server-side by the longest prefix
  every `task_definitions` entry shares), only if `task_definitions` selects something;
* per selected family with keep_count > 0: ListTaskDefinitions (100 a page);
* DescribeTaskDefinition once per needed revision that the cache does not hold.

Every call is made once. Independent calls run concurrently (at most
DESCRIBE_CONCURRENCY at a time) on one client, whose adaptive retry mode slows down
if AWS throttles. Results are applied in a fixed order, so the in-use set is the
same whatever order the answers arrive in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import classify, concurrently
from ecr_sweeper.adapters.ecr import chunks
from ecr_sweeper.adapters.service_revisions import pinned_images
from ecr_sweeper.adapters.task_definition_cache import TaskDefinitionCache
from ecr_sweeper.adapters.task_sets import task_set_definitions
from ecr_sweeper.core.config import Config, KeepCountMatcher
from ecr_sweeper.core.image_ref import parse_image_ref
from ecr_sweeper.core.in_use import InUseBuilder

SOURCE = "ecs"
PAGE_SIZE = 100  # the maximum of every ECS List* operation
DESCRIBE_SERVICES_BATCH = 10  # DescribeServices takes 10 services at a time
DESCRIBE_TASKS_BATCH = 100  # DescribeTasks takes 100 tasks at a time
TASK_STATUSES = ("RUNNING", "STOPPED")


def _name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _list(ecs: Any, operation: str, key: str, **kwargs: Any) -> list[str]:
    try:
        return [
            item
            for page in ecs.get_paginator(operation).paginate(**kwargs, maxResults=PAGE_SIZE)
            for item in page.get(key, [])
        ]
    except ClientError as error:
        raise classify(error, f"ecs:{operation}") from error


def _call(ecs: Any, operation: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response: dict[str, Any] = getattr(ecs, operation)(**kwargs)
    except ClientError as error:
        raise classify(error, f"ecs:{operation}") from error
    return response


def _pattern_prefix(rule: KeepCountMatcher) -> str:
    """The literal start every name the entry matches begins with."""
    if rule.name is not None:
        return rule.name
    pattern = rule.name_pattern or ""
    cut = min((i for i in (pattern.find("*"), pattern.find("?")) if i >= 0), default=len(pattern))
    return pattern[:cut]


def family_prefix(config: Config) -> str:
    """The longest prefix of every family a `task_definitions` entry with keep_count > 0
    can select: ListTaskDefinitionFamilies' server-side filter. "" means no filter."""
    prefixes = [_pattern_prefix(r) for r in config.task_definitions or () if r.keep_count > 0]
    if not prefixes:
        return ""
    common = min(prefixes)
    for prefix in prefixes:
        while not prefix.startswith(common):
            common = common[:-1]
    return common


@dataclass
class EcsScan:
    """What the scan found, before it is added to the in-use set."""

    # task definition ARN -> who uses it (the first user found, in a fixed order)
    task_definitions: dict[str, str] = field(default_factory=dict)
    # (image, used_by) of every task container, in a fixed order
    task_images: list[tuple[str, str]] = field(default_factory=list)
    described: int = 0  # DescribeTaskDefinition calls
    cached: int = 0  # revisions the cache already held


def collect_ecs_usage(
    ecs: Any,
    config: Config,
    builder: InUseBuilder,
    cache: TaskDefinitionCache | None = None,
) -> EcsScan:
    """Add every image the matched clusters and task definition families use.

    `cache` holds the images of revisions described by earlier runs; it is updated
    with the revisions described now (the caller saves it).
    """
    scan = EcsScan()
    if config.clusters:  # None (not configured) or [] (nothing): no cluster to list
        clusters = [
            arn
            for arn in _list(ecs, "list_clusters", "clusterArns")
            if config.cluster_selected(_name(arn))
        ]
        _scan_clusters(ecs, clusters, scan)

    if any(rule.keep_count > 0 for rule in config.task_definitions or ()):
        for arn in _newest_revisions(ecs, config):
            scan.task_definitions.setdefault(arn, f"ecs:task-definition/{_name(arn)}")

    for image, used_by in scan.task_images:
        builder.add(image, used_by, SOURCE)
    images = _task_definition_images(ecs, sorted(scan.task_definitions), cache, scan)
    for arn, used_by in sorted(scan.task_definitions.items()):
        for image in images[arn]:
            builder.add(image, used_by, SOURCE)
    return scan


def _scan_clusters(ecs: Any, clusters: list[str], scan: EcsScan) -> None:
    # 1. Every listing (services, RUNNING tasks, STOPPED tasks of each cluster) at once.
    listings: list[tuple[str, str, dict[str, Any]]] = []
    for cluster in clusters:
        listings.append(("list_services", "serviceArns", {"cluster": cluster}))
        for status in TASK_STATUSES:
            listings.append(
                ("list_tasks", "taskArns", {"cluster": cluster, "desiredStatus": status})
            )
    listed = concurrently(lambda job: _list(ecs, job[0], job[1], **job[2]), listings)

    # 2. Every describe call of every cluster at once.
    describes: list[tuple[str, str, list[str]]] = []
    for (operation, _key, kwargs), arns in zip(listings, listed, strict=True):
        cluster = kwargs["cluster"]
        if operation == "list_services":
            describes.extend(
                ("describe_services", cluster, list(b))
                for b in chunks(arns, DESCRIBE_SERVICES_BATCH)
            )
        else:
            describes.extend(
                ("describe_tasks", cluster, list(b)) for b in chunks(arns, DESCRIBE_TASKS_BATCH)
            )

    def describe(job: tuple[str, str, list[str]]) -> list[dict[str, Any]]:
        operation, cluster, batch = job
        if operation == "describe_services":
            return list(_call(ecs, operation, cluster=cluster, services=batch)["services"])
        return list(_call(ecs, operation, cluster=cluster, tasks=batch)["tasks"])

    # 3. The answers, in the order of the jobs.
    services: list[dict[str, Any]] = []
    for (operation, cluster_arn, _batch), items in zip(
        describes, concurrently(describe, describes), strict=True
    ):
        cluster = _name(cluster_arn)
        if operation == "describe_services":
            services.extend(items)
            for service in items:
                used_by = f"ecs:service/{cluster}/{service.get('serviceName')}"
                # Every deployment, whatever its status: a rollback goes back to them.
                for deployment in service.get("deployments", []):
                    if deployment.get("taskDefinition"):
                        scan.task_definitions.setdefault(deployment["taskDefinition"], used_by)
                if service.get("taskDefinition"):
                    scan.task_definitions.setdefault(service["taskDefinition"], used_by)
            # Task sets (CODE_DEPLOY / EXTERNAL deployment controllers) come in the same
            # DescribeServices answer: no extra call.
            for arn, used_by in sorted(task_set_definitions(cluster, items).items()):
                scan.task_definitions.setdefault(arn, used_by)
        else:
            for task in items:
                used_by = f"ecs:task/{cluster}/{_name(task.get('taskArn', '?'))}"
                if task.get("taskDefinitionArn"):
                    scan.task_definitions.setdefault(task["taskDefinitionArn"], used_by)
                for container in task.get("containers", []):
                    image, digest = container.get("image"), container.get("imageDigest")
                    if image:
                        scan.task_images.append((image, used_by))
                    ref = parse_image_ref(image) if image else None
                    if ref is not None and digest:
                        # The digest the task actually runs, even when it was started by tag.
                        scan.task_images.append((f"{ref.host}/{ref.repository}@{digest}", used_by))

    # 4. The digests ECS pinned for the services (what their next task will pull).
    scan.task_images.extend(pinned_images(ecs, services))


def _newest_revisions(ecs: Any, config: Config) -> list[str]:
    """The ARNs of the newest keep_count ACTIVE revisions of every selected family."""
    prefix = family_prefix(config)
    families = _list(
        ecs,
        "list_task_definition_families",
        "families",
        status="ACTIVE",
        **({"familyPrefix": prefix} if prefix else {}),
    )
    selected: list[tuple[str, int]] = []
    for family in families:
        rule = config.task_definition_rule(family)
        if rule is not None and rule.keep_count > 0:
            selected.append((family, rule.keep_count))

    def revisions(job: tuple[str, int]) -> list[str]:
        family, keep_count = job
        # Keep only this exact family, and sort by revision ourselves rather than
        # trust the order of the pages.
        arns = [
            arn
            for arn in _list(
                ecs,
                "list_task_definitions",
                "taskDefinitionArns",
                familyPrefix=family,
                status="ACTIVE",
                sort="DESC",
            )
            if _name(arn).rsplit(":", 1)[0] == family
        ]
        arns.sort(key=lambda arn: int(arn.rsplit(":", 1)[1]), reverse=True)
        return arns[:keep_count]

    return [arn for newest in concurrently(revisions, selected) for arn in newest]


def _task_definition_images(
    ecs: Any, arns: list[str], cache: TaskDefinitionCache | None, scan: EcsScan
) -> dict[str, tuple[str, ...]]:
    """The container images of each task definition: from the cache, or described."""
    images: dict[str, tuple[str, ...]] = {}
    missing: list[str] = []
    for arn in arns:
        known = cache.get(arn) if cache is not None else None
        if known is None:
            missing.append(arn)
        else:
            images[arn] = known
    described_all = concurrently(lambda arn: _describe_images(ecs, arn), missing)
    for arn, described in zip(missing, described_all, strict=True):
        images[arn] = described
        if cache is not None:
            cache.put(arn, described)
    scan.described, scan.cached = len(missing), len(arns) - len(missing)
    return images


def _describe_images(ecs: Any, arn: str) -> tuple[str, ...]:
    definition = _call(ecs, "describe_task_definition", taskDefinition=arn)["taskDefinition"]
    return tuple(_container_images(definition.get("containerDefinitions", [])))


def _container_images(containers: Iterable[dict[str, Any]]) -> Iterable[str]:
    for container in containers:
        if container.get("image"):
            yield container["image"]
