"""The inventory's AWS Batch resources (`batch`): job definitions with exact revisions
and statuses, job queues and jobs held in a status. Made in moto's models where moto's
API cannot express them (a revision number, a job that never runs)."""

from __future__ import annotations

from typing import Any

import boto3
from moto.batch import models as batch_models
from moto.logs.models import logs_backends

from sweeper_emulator.inventory import Batch, BatchJobDefinition
from sweeper_emulator.loaders.iam import role_arn

BATCH_SERVICE_ROLE = "emulated-batch-service"
BATCH_COMPUTE_ENVIRONMENT = "emulated-batch"


def _batch_properties(definition: BatchJobDefinition) -> dict[str, Any]:
    if definition.kind == "container":
        return {
            "container_properties": {
                "image": definition.images[0],
                "resourceRequirements": [
                    {"type": "VCPU", "value": "1"},
                    {"type": "MEMORY", "value": "512"},
                ],
            },
            "eks_properties": None,
        }
    first, *rest = definition.images
    pod: dict[str, Any] = {
        "containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(rest)]
    }
    if rest:
        pod["initContainers"] = [{"name": "init", "image": first}]
    else:
        pod["containers"] = [{"name": "c0", "image": first}]
    return {"container_properties": None, "eks_properties": {"podProperties": pod}}


def load_batch(section: Batch, account: str, region: str) -> None:
    """Job definitions (exact revisions and statuses), job queues and jobs in a status.

    A job's queue is created when first named; a job's `job_definition` must be listed.
    Jobs never run: they stay in their status.
    """
    if not section.job_definitions and not section.jobs:
        return
    session = boto3.Session(region_name=region)
    client = session.client("batch")
    backend = batch_models.batch_backends[account][region]
    definitions: dict[tuple[str, int], Any] = {}
    for spec in sorted(section.job_definitions, key=lambda d: (d.name, d.revision)):
        definition = batch_models.JobDefinition(
            spec.name,
            parameters=None,
            _type="container",
            tags={},
            retry_strategy={},
            timeout={},
            backend=backend,
            platform_capabilities=["EC2"],
            propagate_tags=False,
            node_properties=None,
            revision=spec.revision - 1,  # the model adds one
            **_batch_properties(spec),
        )
        definition.status = spec.status
        backend._job_definitions[definition.arn] = definition
        definitions[(spec.name, spec.revision)] = definition
    if not section.jobs:
        return
    environment = client.create_compute_environment(
        computeEnvironmentName=BATCH_COMPUTE_ENVIRONMENT,
        type="UNMANAGED",
        serviceRole=role_arn(session, BATCH_SERVICE_ROLE),
    )["computeEnvironmentArn"]
    queues: dict[str, Any] = {}
    for index, job_spec in enumerate(section.jobs):
        if job_spec.queue not in queues:
            client.create_job_queue(
                jobQueueName=job_spec.queue,
                state="ENABLED",
                priority=1,
                computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment}],
            )
            queues[job_spec.queue] = backend.get_job_queue(job_spec.queue)
        name, _, revision = job_spec.job_definition.rpartition(":")
        definition = definitions.get((name, int(revision) if revision.isdigit() else -1))
        if definition is None:
            raise ValueError(
                f"batch job {index} uses {job_spec.job_definition!r}, which is not among "
                "batch.job_definitions (name:revision)"
            )
        # Made in moto's model, not with SubmitJob: a submitted job would start running
        # (in Docker). Never started, it keeps the status it is given.
        job = batch_models.Job(
            job_spec.name or f"job-{index}",
            definition,
            queues[job_spec.queue],
            backend,
            log_backend=logs_backends[account][region],
            container_overrides=None,
            eks_properties_override=None,
            depends_on=None,
            parameters=None,
            all_jobs=backend._jobs,
            timeout=None,
            array_properties={},
        )
        job.status = job_spec.status
        backend._jobs[job.job_id] = job
