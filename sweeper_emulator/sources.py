"""Load the inventory's ECS and Lambda resources (the sources of "in use") into moto."""

from __future__ import annotations

import json
from typing import Any

import boto3
from moto.awslambda.models import LambdaFunction, lambda_backends
from moto.ecs import models as ecs_models

from sweeper_emulator.inventory import Inventory, MemberAccount

LAMBDA_ROLE = "emulated-workload"


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


def load_ecs(inventory: Inventory | MemberAccount) -> None:
    backend = ecs_models.ecs_backends[inventory.account_id][inventory.region]
    ecs = boto3.client("ecs", region_name=inventory.region)
    definitions: dict[tuple[str, int], Any] = {}

    def define(family: str, revision: int, images: list[str], status: str = "ACTIVE") -> Any:
        containers = [{"name": f"c{i}", "image": image} for i, image in enumerate(images)] or [
            {"name": "c0", "image": "public.ecr.aws/docker/library/busybox:latest"}
        ]
        definition = ecs_models.TaskDefinition(
            family, revision, containers, inventory.account_id, inventory.region
        )
        definition.status = status
        backend.task_definitions.setdefault(family, {})[revision] = definition
        definitions[(family, revision)] = definition
        return definition

    for td in inventory.ecs.task_definitions:
        define(td.family, td.revision, td.images, td.status)

    def definition_for(reference: str) -> Any:
        key = _split(reference)
        return definitions.get(key) or define(*key, images=[])

    for cluster_spec in inventory.ecs.clusters:
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


_original_get_code = LambdaFunction.get_code


def _get_code(self: LambdaFunction) -> dict[str, Any]:
    response = _original_get_code(self)
    code = getattr(self, "emulated_code", None)
    if code is not None:
        response["Code"] = dict(code)
    return response


def load_lambda(inventory: Inventory | MemberAccount) -> None:
    if not inventory.lambda_.functions:
        return
    LambdaFunction.get_code = _get_code
    session = boto3.Session(region_name=inventory.region)
    iam = session.client("iam")
    try:  # one role per account, whichever region comes first
        role = iam.get_role(RoleName=LAMBDA_ROLE)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName=LAMBDA_ROLE, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = session.client("lambda")
    backend = lambda_backends[inventory.account_id][inventory.region]
    for fn in inventory.lambda_.functions:
        by_version = {v.version: v for v in fn.versions}
        latest = by_version.get("$LATEST") or fn.versions[-1]
        lam.create_function(
            FunctionName=fn.name,
            Role=role,
            PackageType="Image",
            Code={"ImageUri": latest.image_uri},
        )
        numbers = sorted(int(v) for v in by_version if v.isdigit())
        for number in range(1, (numbers[-1] if numbers else 0) + 1):
            # moto, like Lambda, publishes nothing when nothing changed: mark a change.
            backend.get_function(fn.name, None).code_or_config_updated = True
            lam.publish_version(FunctionName=fn.name, Description=str(number))
        for number in range(1, (numbers[-1] if numbers else 0) + 1):
            if str(number) not in by_version:  # a gap: that version was deleted
                lam.delete_function(FunctionName=fn.name, Qualifier=str(number))
        for version, spec in by_version.items():
            target = backend.get_function(fn.name, None if version == "$LATEST" else version)
            target.emulated_code = {
                "RepositoryType": "ECR",
                "ImageUri": spec.image_uri,
                **(
                    {"ResolvedImageUri": spec.resolved_image_uri} if spec.resolved_image_uri else {}
                ),
            }
        for alias in fn.aliases:
            routing = (
                {"RoutingConfig": {"AdditionalVersionWeights": alias.additional_versions}}
                if alias.additional_versions
                else {}
            )
            lam.create_alias(
                FunctionName=fn.name, Name=alias.name, FunctionVersion=alias.version, **routing
            )


def load_objects(inventory: Inventory) -> None:
    """Put the inventory's S3 objects (in-use lists) in place, with their LastModified."""
    from moto.s3.models import s3_backends

    s3 = boto3.client("s3", region_name=inventory.region)
    backend = s3_backends[inventory.account_id]["global"]
    for obj in inventory.objects:
        if obj.bucket not in backend.buckets:
            s3.create_bucket(
                Bucket=obj.bucket,
                CreateBucketConfiguration={"LocationConstraint": inventory.region},
            )
        body = obj.body if isinstance(obj.body, str) else json.dumps(obj.body)
        s3.put_object(Bucket=obj.bucket, Key=obj.key, Body=body.encode())
        if obj.last_modified is not None:
            backend.buckets[obj.bucket].keys[obj.key].last_modified = obj.last_modified
