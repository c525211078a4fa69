"""The inventory's ECS resources in moto: task definitions, clusters, services with
their deployments, tasks with their containers' digests (`ecs`), and task sets of
services with an EXTERNAL or CODE_DEPLOY deployment controller (`task_sets`).

Task sets load after the rest of ECS, as they use its task definitions.
"""

from __future__ import annotations

from typing import Any

import boto3
from moto.ecs import models as ecs_models

from sweeper_emulator.inventory import Ecs, TaskSet

PLACEHOLDER_IMAGE = "public.ecr.aws/docker/library/busybox:latest"


def _split(task_definition: str) -> tuple[str, int]:
    family, _, revision = task_definition.rpartition(":")
    if not family or not revision.isdigit():
        raise ValueError(f"task definition {task_definition!r} must look like family:revision")
    return family, int(revision)


class _Container:
    """What DescribeTasks shows of a container: the image and the digest it runs."""

    def __init__(self, task_arn: str, name: str, image: str, digest: str | None) -> None:
        self.container_arn = f"{task_arn}/{name}"
        self.task_arn = task_arn
        self.name = name
        self.image = image
        if digest:
            self.image_digest = digest
        self.last_status = "RUNNING"


def load_ecs(section: Ecs, account: str, region: str) -> None:
    backend = ecs_models.ecs_backends[account][region]
    ecs = boto3.client("ecs", region_name=region)
    definitions: dict[tuple[str, int], Any] = {}

    def define(family: str, revision: int, images: list[str], status: str = "ACTIVE") -> Any:
        containers = [{"name": f"c{i}", "image": image} for i, image in enumerate(images)] or [
            {"name": "c0", "image": PLACEHOLDER_IMAGE}
        ]
        definition = ecs_models.TaskDefinition(family, revision, containers, account, region)
        definition.status = status
        backend.task_definitions.setdefault(family, {})[revision] = definition
        definitions[(family, revision)] = definition
        return definition

    for td in section.task_definitions:
        define(td.family, td.revision, td.images, td.status)

    def definition_for(reference: str) -> Any:
        key = _split(reference)
        return definitions.get(key) or define(*key, images=[])

    for cluster_spec in section.clusters:
        ecs.create_cluster(clusterName=cluster_spec.name)
        cluster = backend.clusters[cluster_spec.name]
        for service_spec in cluster_spec.services:
            primary = next(
                (d for d in service_spec.deployments if d.status == "PRIMARY"),
                service_spec.deployments[0] if service_spec.deployments else None,
            )
            extra = (
                {"taskDefinition": definition_for(primary.task_definition).arn} if primary else {}
            )
            ecs.create_service(
                cluster=cluster_spec.name, serviceName=service_spec.name, desiredCount=0, **extra
            )
            service = backend.services[f"{cluster_spec.name}:{service_spec.name}"]
            service.deployments = [
                {
                    "id": f"ecs-svc/{index}",
                    "status": d.status,
                    "taskDefinition": definition_for(d.task_definition).arn,
                    "desiredCount": 0,
                    "pendingCount": 0,
                    "runningCount": 0,
                }
                for index, d in enumerate(service_spec.deployments)
            ]
        for task_spec in cluster_spec.tasks:
            definition = definition_for(task_spec.task_definition)
            task = ecs_models.Task(cluster, definition, None, None, backend, group="emulated")
            task.desired_status = task_spec.desired_status
            task.containers = [
                _Container(task.task_arn, c.name or f"c{i}", c.image, c.image_digest)
                for i, c in enumerate(task_spec.containers)
            ]
            backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task


def _task_definition(account: str, region: str, reference: str) -> Any:
    """The ECS task definition `family:revision`, made (busybox) if ECS has none."""
    family, _, revision = reference.rpartition(":")
    if not family or not revision.isdigit():
        raise ValueError(f"task definition {reference!r} must look like family:revision")
    backend = ecs_models.ecs_backends[account][region]
    existing = backend.task_definitions.get(family, {}).get(int(revision))
    if existing is not None:
        return existing
    definition = ecs_models.TaskDefinition(
        family, int(revision), [{"name": "c0", "image": PLACEHOLDER_IMAGE}], account, region
    )
    backend.task_definitions.setdefault(family, {})[int(revision)] = definition
    return definition


def load_task_sets(task_sets: list[TaskSet], account: str, region: str) -> None:
    """Task sets of services with an EXTERNAL or CODE_DEPLOY deployment controller."""
    if not task_sets:
        return
    ecs = boto3.Session(region_name=region).client("ecs")
    backend = ecs_models.ecs_backends[account][region]
    for spec in task_sets:
        if spec.cluster not in backend.clusters:
            ecs.create_cluster(clusterName=spec.cluster)
        service = backend.services.get(f"{spec.cluster}:{spec.service}")
        if service is None:
            ecs.create_service(
                cluster=spec.cluster,
                serviceName=spec.service,
                desiredCount=0,
                deploymentController={"type": spec.controller},
            )
        elif service.deployment_controller.get("type") == "ECS":
            raise ValueError(
                f"service {spec.cluster}/{spec.service} has the ECS deployment controller: "
                "only EXTERNAL and CODE_DEPLOY services have task sets"
            )
        definition = _task_definition(account, region, spec.task_definition)
        created = ecs.create_task_set(
            cluster=spec.cluster, service=spec.service, taskDefinition=definition.arn
        )["taskSet"]
        for task_set in backend.services[f"{spec.cluster}:{spec.service}"].task_sets:
            if task_set.task_set_arn == created["taskSetArn"]:
                task_set.status = spec.status
