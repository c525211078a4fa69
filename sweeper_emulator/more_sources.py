"""More sources of "in use" for the emulator: scheduled ECS tasks (EventBridge rules and
Scheduler schedules), AWS Batch, AWS App Runner and ECS task sets.

The inventory sections, their models and the loaders that put them in the mocked
account. moto serves EventBridge, EventBridge Scheduler, Batch and ECS task sets itself;
the loaders only create the resources (through the API where moto's API can express
them, in moto's models where it cannot: a job definition's exact revision number, a job
held in a given status).

App Runner is not in moto at all. The emulator provides it: `install()` puts a small
App Runner service (ListServices, DescribeService) in front of moto, in botocore's
`before-send` chain, answering only while a moto mock is active. Its data lives in a
moto `BackendDict`, so moto's reset clears it with everything else. It is the only
service the emulator answers itself; no call to another service is stubbed.

App Runner is offered in some regions only. The emulator's App Runner exists where
botocore's region data lists an endpoint for it, as in AWS: elsewhere a call finds no
host to connect to (EndpointConnectionError, which botocore retries, then raises), and
an inventory cannot put services there.

Load order: ECS first (`sources.load_ecs`), as task sets use its task definitions.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError
from botocore.handlers import BUILTIN_HANDLERS
from moto.batch import models as batch_models
from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.models import botocore_stubber
from moto.ecs import models as ecs_models
from moto.logs.models import logs_backends
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

PLACEHOLDER_IMAGE = "public.ecr.aws/docker/library/busybox:latest"
EVENTS_ROLE = "emulated-events"
BATCH_SERVICE_ROLE = "emulated-batch-service"
BATCH_COMPUTE_ENVIRONMENT = "emulated-batch"
JOB_STATUSES = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --- inventory sections ----------------------------------------------------------------


class EventBridgeRule(_Strict):
    name: str
    # What the target's EcsParameters.TaskDefinitionArn holds: an ARN with or without
    # ":revision", "family:revision" or "family".
    task_definition: str
    event_bus: str = "default"
    cluster: str = "default"  # the target's cluster (its ARN is the target's Arn)
    state: Literal["ENABLED", "DISABLED"] = "ENABLED"


class Schedule(_Strict):
    name: str
    group: str = "default"
    task_definition: str  # as for EventBridgeRule
    cluster: str = "default"
    state: Literal["ENABLED", "DISABLED"] = "ENABLED"
    # True: the universal target aws-sdk:ecs:runTask, the task definition in its Input.
    universal: bool = False


class ScheduledTasks(_Strict):
    eventbridge_rules: list[EventBridgeRule] = Field(default_factory=list)
    schedules: list[Schedule] = Field(default_factory=list)


class BatchJobDefinition(_Strict):
    name: str
    revision: int = Field(ge=1)
    images: list[str] = Field(min_length=1)
    status: Literal["ACTIVE", "INACTIVE"] = "ACTIVE"
    # "container": containerProperties (one image); "eks": eksProperties, the first image
    # an init container when there are several. Default: container for one image.
    kind: Literal["container", "eks"] | None = None

    @model_validator(mode="after")
    def _one_image_per_container(self) -> BatchJobDefinition:
        if self.kind is None:
            self.kind = "container" if len(self.images) == 1 else "eks"
        if self.kind == "container" and len(self.images) != 1:
            raise ValueError("a container job definition has exactly one image; use kind: eks")
        return self


class BatchJob(_Strict):
    queue: str
    job_definition: str  # "name:revision"
    status: Literal[
        "SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"
    ] = "RUNNING"
    name: str | None = None


class Batch(_Strict):
    job_definitions: list[BatchJobDefinition] = Field(default_factory=list)
    jobs: list[BatchJob] = Field(default_factory=list)


class AppRunnerService(_Strict):
    name: str
    # The service's image; None: a code repository source (no image).
    # public.ecr.aws/... is an ECR_PUBLIC source, anything else an ECR source.
    image: str | None = None
    status: Literal[
        "RUNNING", "PAUSED", "OPERATION_IN_PROGRESS", "CREATE_FAILED", "DELETE_FAILED", "DELETED"
    ] = "RUNNING"


class AppRunner(_Strict):
    services: list[AppRunnerService] = Field(default_factory=list)


class TaskSet(_Strict):
    cluster: str
    service: str  # created with `controller` unless the cluster already has it
    task_definition: str  # "family:revision"; created (busybox) if ECS has no such revision
    controller: Literal["EXTERNAL", "CODE_DEPLOY"] = "EXTERNAL"
    status: Literal["PRIMARY", "ACTIVE", "DRAINING"] = "ACTIVE"


class MoreSources(_Strict):
    """The five inventory keys, as one model (embed the fields in the Inventory)."""

    eventbridge_rules: list[EventBridgeRule] = Field(default_factory=list)
    schedules: list[Schedule] = Field(default_factory=list)
    batch: Batch = Field(default_factory=Batch)
    app_runner: AppRunner = Field(default_factory=AppRunner)
    task_sets: list[TaskSet] = Field(default_factory=list)


_TASK_SETS = TypeAdapter(list[TaskSet])


def _as[M: BaseModel](model: type[M], section: Any) -> M:
    """`section` as `model`: the model itself, its JSON data, or any model with its
    fields (e.g. the whole Inventory, once it has them; its other fields are ignored)."""
    if isinstance(section, model):
        return section
    if isinstance(section, BaseModel):
        section = {
            name: getattr(section, name) for name in model.model_fields if hasattr(section, name)
        }
    return model.model_validate(section or {})


# --- loaders ---------------------------------------------------------------------------


def _cluster_arn(account: str, region: str, cluster: str) -> str:
    return f"arn:aws:ecs:{region}:{account}:cluster/{cluster}"


def _role(session: boto3.Session, name: str) -> str:
    iam = session.client("iam")
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"])


def load_scheduled_tasks(
    section: ScheduledTasks | Mapping[str, Any], account: str, region: str
) -> None:
    """EventBridge rules and Scheduler schedules that run an ECS task.

    `section` holds `eventbridge_rules` and/or `schedules` (the two inventory keys).
    """
    scheduled = _as(ScheduledTasks, section)
    if not scheduled.eventbridge_rules and not scheduled.schedules:
        return
    session = boto3.Session(region_name=region)
    role = _role(session, EVENTS_ROLE)
    events = session.client("events")
    buses = {"default"}
    for rule in scheduled.eventbridge_rules:
        if rule.event_bus not in buses:
            events.create_event_bus(Name=rule.event_bus)
            buses.add(rule.event_bus)
        # As in AWS, only the default bus takes a schedule; elsewhere, an event pattern.
        trigger = (
            {"ScheduleExpression": "rate(1 hour)"}
            if rule.event_bus == "default"
            else {"EventPattern": json.dumps({"source": ["emulated.schedule"]})}
        )
        events.put_rule(Name=rule.name, EventBusName=rule.event_bus, State=rule.state, **trigger)
        events.put_targets(
            Rule=rule.name,
            EventBusName=rule.event_bus,
            Targets=[
                {
                    "Id": "ecs-task",
                    "Arn": _cluster_arn(account, region, rule.cluster),
                    "RoleArn": role,
                    "EcsParameters": {"TaskDefinitionArn": rule.task_definition, "TaskCount": 1},
                }
            ],
        )
    scheduler = session.client("scheduler")
    groups = {"default"}
    for schedule in scheduled.schedules:
        if schedule.group not in groups:
            scheduler.create_schedule_group(Name=schedule.group)
            groups.add(schedule.group)
        cluster = _cluster_arn(account, region, schedule.cluster)
        target: dict[str, Any] = {"RoleArn": role}
        if schedule.universal:
            target["Arn"] = "arn:aws:scheduler:::aws-sdk:ecs:runTask"
            target["Input"] = json.dumps(
                {"Cluster": cluster, "TaskDefinition": schedule.task_definition}
            )
        else:
            target["Arn"] = cluster
            target["EcsParameters"] = {"TaskDefinitionArn": schedule.task_definition}
        scheduler.create_schedule(
            Name=schedule.name,
            GroupName=schedule.group,
            ScheduleExpression="rate(1 hour)",
            FlexibleTimeWindow={"Mode": "OFF"},
            State=schedule.state,
            Target=target,
        )


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


def load_batch(section: Batch | Mapping[str, Any], account: str, region: str) -> None:
    """Job definitions (exact revisions and statuses), job queues and jobs in a status.

    A job's queue is created when first named; a job's `job_definition` must be listed.
    Jobs never run: they stay in their status.
    """
    batch_section = _as(Batch, section)
    if not batch_section.job_definitions and not batch_section.jobs:
        return
    session = boto3.Session(region_name=region)
    client = session.client("batch")
    backend = batch_models.batch_backends[account][region]
    definitions: dict[tuple[str, int], Any] = {}
    for spec in sorted(batch_section.job_definitions, key=lambda d: (d.name, d.revision)):
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
    if not batch_section.jobs:
        return
    environment = client.create_compute_environment(
        computeEnvironmentName=BATCH_COMPUTE_ENVIRONMENT,
        type="UNMANAGED",
        serviceRole=_role(session, BATCH_SERVICE_ROLE),
    )["computeEnvironmentArn"]
    queues: dict[str, Any] = {}
    for index, job_spec in enumerate(batch_section.jobs):
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


def load_task_sets(
    section: Sequence[TaskSet | Mapping[str, Any]], account: str, region: str
) -> None:
    """Task sets of services with an EXTERNAL or CODE_DEPLOY deployment controller."""
    task_sets = _TASK_SETS.validate_python(
        [t.model_dump() if isinstance(t, BaseModel) else t for t in section or []]
    )
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


def load_app_runner(section: AppRunner | Mapping[str, Any], account: str, region: str) -> None:
    """App Runner services, served by the emulator's own App Runner (see `install`)."""
    app_runner = _as(AppRunner, section)
    install()
    if not app_runner.services:
        return
    if not app_runner_offered(region):
        raise ValueError(
            f"app_runner: App Runner is not offered in {region} (botocore's region data), "
            "so no service can run there"
        )
    backend = app_runner_backends[account][region]
    for spec in app_runner.services:
        backend.add(spec)


def load_more_sources(more: MoreSources | Mapping[str, Any], account: str, region: str) -> None:
    """All of the above, from the five inventory keys."""
    sources = _as(MoreSources, more)
    load_scheduled_tasks(
        ScheduledTasks(eventbridge_rules=sources.eventbridge_rules, schedules=sources.schedules),
        account,
        region,
    )
    load_batch(sources.batch, account, region)
    load_task_sets(sources.task_sets, account, region)
    load_app_runner(sources.app_runner, account, region)


# --- the emulator's App Runner ---------------------------------------------------------


@functools.cache
def _app_runner_regions() -> frozenset[str]:
    session = boto3.Session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("apprunner", partition_name=partition)
    )


def app_runner_offered(region: str) -> bool:
    """True where botocore's region data lists an App Runner endpoint (AWS has no App
    Runner host in the other regions)."""
    return region in _app_runner_regions()


class AppRunnerBackend(BaseBackend):
    """The services of one account and region, as DescribeService shows them."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.services: dict[str, dict[str, Any]] = {}  # ARN -> Service

    def add(self, spec: AppRunnerService) -> dict[str, Any]:
        service_id = uuid.uuid4().hex
        arn = (
            f"arn:aws:apprunner:{self.region_name}:{self.account_id}:service/"
            f"{spec.name}/{service_id}"
        )
        if spec.image is None:
            source: dict[str, Any] = {
                "CodeRepository": {
                    "RepositoryUrl": f"https://github.com/example/{spec.name}",
                    "SourceCodeVersion": {"Type": "BRANCH", "Value": "main"},
                },
                "AutoDeploymentsEnabled": False,
            }
        else:
            kind = "ECR_PUBLIC" if spec.image.startswith("public.ecr.aws/") else "ECR"
            source = {
                "ImageRepository": {"ImageIdentifier": spec.image, "ImageRepositoryType": kind},
                "AutoDeploymentsEnabled": False,
            }
        now = datetime.now(UTC).timestamp()
        service = {
            "ServiceName": spec.name,
            "ServiceId": service_id,
            "ServiceArn": arn,
            "ServiceUrl": f"{service_id[:10]}.{self.region_name}.awsapprunner.com",
            "CreatedAt": now,
            "UpdatedAt": now,
            "Status": spec.status,
            "SourceConfiguration": source,
            "InstanceConfiguration": {"Cpu": "1024", "Memory": "2048"},
            "NetworkConfiguration": {
                "EgressConfiguration": {"EgressType": "DEFAULT"},
                "IngressConfiguration": {"IsPubliclyAccessible": True},
            },
        }
        self.services[arn] = service
        return service


app_runner_backends = BackendDict(AppRunnerBackend, "apprunner")

APP_RUNNER_PAGE_MAXIMUM = 20  # ListServices' MaxResults maximum, as in AWS
_TOKEN_PREFIX = "emulated-page-"
_HOST = re.compile(r"https?://apprunner(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com")
_SUMMARY_KEYS = ("ServiceName", "ServiceId", "ServiceArn", "ServiceUrl", "CreatedAt", "UpdatedAt")


def _account(request: Any) -> str:
    """As moto decides it: MOTO_ACCOUNT_ID, the x-moto-account-id header, the access key."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    header = request.headers.get("x-moto-account-id")
    if header:
        return header.decode() if isinstance(header, bytes) else str(header)
    from moto.iam.models import get_account_id_from

    authorization = request.headers.get("Authorization") or b""
    if isinstance(authorization, bytes):
        authorization = authorization.decode()
    match = re.search(r"Credential=([^/]+)/", authorization)
    return get_account_id_from(match.group(1) if match else "")


def _answer(url: str, status: int, body: dict[str, Any]) -> AWSResponse:
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "x-amzn-RequestId": str(uuid.uuid4()),
    }
    if status >= 400:
        headers["x-amzn-ErrorType"] = str(body.get("__type", ""))
    from sweeper_emulator.faults import RawBody  # here: faults imports the inventory models

    return AWSResponse(url, status, headers, RawBody(json.dumps(body).encode()))


def _error(url: str, code: str, message: str) -> AWSResponse:
    return _answer(url, 400, {"__type": code, "message": message})


def serve_app_runner(request: Any, event_name: str = "", **kwargs: Any) -> AWSResponse | None:
    # event_name is "before-send.apprunner.<Operation>"
    parts = event_name.split(".")
    if len(parts) != 3 or parts[1] != "apprunner" or not botocore_stubber.enabled:
        return None
    operation = parts[2]
    host = _HOST.match(request.url)
    if host is None:
        return _error(request.url, "InvalidRequestException", "unknown App Runner endpoint")
    if not app_runner_offered(host.group(1)):
        # No such host in AWS: the client cannot connect (the DNS lookup fails).
        raise EndpointConnectionError(endpoint_url=request.url)
    backend = app_runner_backends[_account(request)][host.group(1)]
    body = request.body or b"{}"
    try:
        params = json.loads(body.decode() if isinstance(body, bytes) else body)
    except ValueError:
        return _error(request.url, "InvalidRequestException", "the request is not JSON")
    if operation == "ListServices":
        size = min(int(params.get("MaxResults") or APP_RUNNER_PAGE_MAXIMUM), 20)
        token = params.get("NextToken")
        start = int(str(token)[len(_TOKEN_PREFIX) :]) if token else 0
        services = list(backend.services.values())
        page = services[start : start + size]
        answer: dict[str, Any] = {
            "ServiceSummaryList": [
                {**{k: s[k] for k in _SUMMARY_KEYS}, "Status": s["Status"]} for s in page
            ]
        }
        if start + size < len(services):
            answer["NextToken"] = f"{_TOKEN_PREFIX}{start + size}"
        return _answer(request.url, 200, answer)
    if operation == "DescribeService":
        service = backend.services.get(params.get("ServiceArn", ""))
        if service is None:
            return _error(
                request.url,
                "ResourceNotFoundException",
                f"Service {params.get('ServiceArn')} not found",
            )
        return _answer(request.url, 200, {"Service": service})
    return _error(
        request.url,
        "InvalidRequestException",
        f"the emulator's App Runner serves ListServices and DescribeService only, not {operation}",
    )


_install_lock = threading.Lock()
_installed = False


def install() -> None:
    """Serve App Runner from the emulator, for every botocore session created from now on
    (botocore copies its built-in handlers into a session when the session is made: call
    this before the emulator or a test creates its sessions, as for `faults.install()`).

    The handler goes just before moto's, so that the emulator's fault injection
    (`faults.install()`, first in the chain) still sees App Runner calls. Idempotent.
    """
    global _installed
    with _install_lock:
        if _installed:
            return
        entry = ("before-send", serve_app_runner)
        positions = [i for i, item in enumerate(BUILTIN_HANDLERS) if item[1] is botocore_stubber]
        BUILTIN_HANDLERS.insert(positions[0] if positions else len(BUILTIN_HANDLERS), entry)
        _installed = True
