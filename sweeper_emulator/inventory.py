"""The inventory file format: an example account, as pydantic models.

See docs/emulator.md for the format. Names and meanings follow the product's
brief; extensions are documented there. Putting it into moto is the loaders' work
(loaders/); this module imports nothing else from the package.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class InventoryImage(_Strict):
    digest: str = Field(pattern=DIGEST_PATTERN)
    tags: list[str] = Field(default_factory=list)
    pushed_at: datetime
    last_pulled_at: datetime | None = None
    size_bytes: int = Field(default=0, ge=0)
    media_type: str = "application/vnd.oci.image.manifest.v1+json"
    artifact_media_type: str | None = "application/vnd.oci.image.config.v1+json"
    manifests: list[str] = Field(default_factory=list)  # children of an image index
    subject: str | None = None  # subject digest of a referrer
    status: str = "ACTIVE"  # or ARCHIVED
    archived_at: datetime | None = None  # lastArchivedAt, for ARCHIVED images


class InventoryRepository(_Strict):
    name: str
    tags: dict[str, str] = Field(default_factory=dict)
    images: list[InventoryImage] = Field(default_factory=list)


class Deployment(_Strict):
    status: str = "PRIMARY"
    task_definition: str  # family:revision


class RevisionContainer(_Strict):
    """A container of a service revision: its image as the task definition names it,
    and the digest ECS resolved it to when the deployment started."""

    image: str
    image_digest: str = Field(pattern=DIGEST_PATTERN)
    name: str | None = None


class ServiceRevision(_Strict):
    """A service revision (DescribeServiceRevisions), served by the emulator."""

    id: str = Field(pattern=r"^[A-Za-z0-9_-]+$")  # the ARN's last part
    current: bool = False  # listed in DescribeServices' currentServiceRevisions
    task_definition: str | None = None  # family:revision, shown as is
    containers: list[RevisionContainer] = Field(default_factory=list)


class ServiceDeployment(_Strict):
    """A service deployment (ListServiceDeployments, DescribeServiceDeployments). A
    revision id no `revisions` entry has is one DescribeServiceRevisions cannot find."""

    id: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    status: str = "SUCCESSFUL"  # PENDING, IN_PROGRESS, ROLLBACK_IN_PROGRESS, STOPPED...
    source_revisions: list[str] = Field(default_factory=list)  # revision ids
    target_revision: str | None = None  # a revision id
    created_at: datetime | None = None


class Service(_Strict):
    name: str
    deployments: list[Deployment] = Field(default_factory=list)
    # Software version consistency: the digests ECS pinned (moto has no such thing).
    revisions: list[ServiceRevision] = Field(default_factory=list)
    service_deployments: list[ServiceDeployment] = Field(default_factory=list)


class Container(_Strict):
    image: str
    image_digest: str | None = None
    name: str | None = None


class Task(_Strict):
    task_definition: str
    desired_status: str = "RUNNING"
    containers: list[Container] = Field(default_factory=list)


class Cluster(_Strict):
    name: str
    services: list[Service] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)


class TaskDefinition(_Strict):
    family: str
    revision: int = Field(ge=1)
    status: str = "ACTIVE"
    images: list[str] = Field(default_factory=list)


class Ecs(_Strict):
    clusters: list[Cluster] = Field(default_factory=list)
    task_definitions: list[TaskDefinition] = Field(default_factory=list)


class LambdaVersion(_Strict):
    version: str
    image_uri: str
    resolved_image_uri: str | None = None


class LambdaAlias(_Strict):
    name: str
    version: str
    additional_versions: dict[str, float] = Field(default_factory=dict)


class LambdaFunction(_Strict):
    name: str
    versions: list[LambdaVersion]
    aliases: list[LambdaAlias] = Field(default_factory=list)


class Lambda(_Strict):
    functions: list[LambdaFunction] = Field(default_factory=list)


# --- the other sources of "in use": scheduled ECS tasks, Batch, App Runner, task sets ---


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


class EksPod(_Strict):
    """A pod, as GET /api/v1/pods lists it."""

    name: str
    namespace: str = "default"
    containers: list[str] = Field(default_factory=list)  # spec.containers[].image
    init_containers: list[str] = Field(default_factory=list)
    ephemeral_containers: list[str] = Field(default_factory=list)
    # status.containerStatuses[].imageID (what the node pulled, e.g.
    # docker-pullable://<registry>/<repo>@sha256:...), in the order of `containers`.
    image_ids: list[str] = Field(default_factory=list)
    init_image_ids: list[str] = Field(default_factory=list)


class EksWorkload(_Strict):
    """A workload whose pod template names images (spec.template, or a CronJob's
    spec.jobTemplate.spec.template)."""

    kind: Literal["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"]
    name: str
    namespace: str = "default"
    replicas: int = Field(default=1, ge=0)  # 0: scaled to zero (a ReplicaSet kept for rollback)
    containers: list[str] = Field(default_factory=list)
    init_containers: list[str] = Field(default_factory=list)


class EksFault(_Strict):
    """How a cluster's API server misbehaves (docs/emulator.md)."""

    # unauthorized: 401; forbidden: 403; server_error: 500; gone: 410 (continue token
    # expired); broken_page: a 200 whose JSON is cut short; hang: no answer at all.
    answer: Literal["unauthorized", "forbidden", "server_error", "gone", "broken_page", "hang"]
    path: str | None = None  # e.g. /apis/batch/v1/cronjobs; None: every list
    page: int = Field(default=0, ge=0)  # from this page of the list on (0: the first)


class EksCluster(_Strict):
    """An EKS cluster: DescribeCluster (moto) gives the endpoint and CA of a local HTTPS
    server that answers its Kubernetes list requests."""

    name: str
    pods: list[EksPod] = Field(default_factory=list)
    workloads: list[EksWorkload] = Field(default_factory=list)
    faults: list[EksFault] = Field(default_factory=list)


class Eks(_Strict):
    clusters: list[EksCluster] = Field(default_factory=list)


class Workloads(_Strict):
    """The sections that the account and each member account (`accounts`) both have:
    what runs there, loaded per account and region by `loaders.load_workloads`. A new
    source of "in use" adds its section here."""

    ecs: Ecs = Field(default_factory=Ecs)
    lambda_: Lambda = Field(default_factory=Lambda, alias="lambda")
    eventbridge_rules: list[EventBridgeRule] = Field(default_factory=list)
    schedules: list[Schedule] = Field(default_factory=list)
    batch: Batch = Field(default_factory=Batch)
    app_runner: AppRunner = Field(default_factory=AppRunner)
    task_sets: list[TaskSet] = Field(default_factory=list)
    eks: Eks = Field(default_factory=Eks)


class Fault(_Strict):
    operation: str  # "service:Operation", e.g. "ecs:ListServices"
    error: str  # the AWS error code, e.g. "ThrottlingException"
    times: int | None = None  # fail the first N calls; None: every call
    message: str = "injected by the emulator"
    status: int | None = None  # HTTP status; default 400 (500 for *Internal*/*Unavailable*)
    skip: int = Field(default=0, ge=0)  # let the first N matching calls through first
    function: str | None = None  # only calls made by this function (template logical id)
    # Instead of an AWS error, the function crashes (the Lambda runtime dies) at that call:
    # the invocation fails with `error` as its error type (e.g. Runtime.ExitError).
    crash: bool = False
    # With `crash`: the call goes through first, and the runtime dies as it answers (the
    # write landed, the function never knew).
    after: bool = False

    @field_validator("operation")
    @classmethod
    def _has_service(cls, value: str) -> str:
        if ":" not in value:
            raise ValueError("operation must look like 'ecs:ListServices'")
        return value


class Change(_Strict):
    """Something that happens to an image or a repository during a run, just before a
    function first runs: e.g. a pull between the scan and the deleter."""

    before: str  # the template's logical id of the function, e.g. "DeleterFunction"
    repository: str
    digest: str | None = Field(default=None, pattern=DIGEST_PATTERN)  # None: the repository
    pulled_at: datetime | None = None  # sets lastRecordedPullTime
    add_tags: list[str] = Field(default_factory=list)
    status: str | None = None  # imageStatus: ACTIVE (restored), ACTIVATING, ARCHIVED
    pushed_at: datetime | None = None  # imagePushedAt (the same digest pushed again)
    repository_tags: dict[str, str] = Field(default_factory=dict)  # tags the repository gains

    @model_validator(mode="after")
    def _image_changes_name_an_image(self) -> Change:
        if self.digest is None and (
            self.pulled_at or self.add_tags or self.status or self.pushed_at
        ):
            raise ValueError("pulled_at, pushed_at, add_tags and status change an image")
        return self


class Rewrite(_Strict):
    """A run file rewritten by someone other than the step that wrote it, just before a
    function first runs: how tests tamper with run data."""

    before: str  # the template's logical id of the function, e.g. "DeleterFunction"
    name: str  # under the run's prefix (runs/<execution>/), e.g. "plans/app.json"
    body: Any = None  # the new content (a JSON value), or ...
    replace: dict[str, str] = Field(default_factory=dict)  # ... text replacements in the old

    @model_validator(mode="after")
    def _one_kind(self) -> Rewrite:
        if (self.body is None) == (not self.replace):
            raise ValueError("a rewrite sets exactly one of body and replace")
        return self


class S3Object(_Strict):
    """An object in the account, e.g. an in-use list another tool wrote."""

    bucket: str
    key: str
    body: Any  # JSON value (written as JSON), or a string (written as is)
    last_modified: datetime | None = None


class InspectorImage(_Strict):
    repository: str
    digest: str = Field(pattern=DIGEST_PATTERN)
    last_in_use_at: datetime | None = None
    in_use_count: int = 0


class Inspector(_Strict):
    """What Amazon Inspector's ListCoverage reports (moto lacks it; the emulator serves it)."""

    images: list[InspectorImage] = Field(default_factory=list)


class MemberAccount(Workloads):
    """Another account, or another region of this one, that the scan reads by assuming
    a role there (config `accounts`). The emulator lets the role be assumed only under
    its ARN and, when set, with its external id, as the role's trust policy would."""

    account_id: str = Field(pattern=r"^\d{12}$")
    region: str
    role_name: str = "ecr-sweeper-scanner"
    external_id: str | None = None

    @property
    def role_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:role/{self.role_name}"


class Inventory(Workloads):
    """The whole account. Its workloads' sections (ecs, lambda, eventbridge_rules,
    schedules, batch, app_runner, task_sets, eks) come from Workloads."""

    account_id: str = Field(default="123456789012", pattern=r"^\d{12}$")
    region: str = "ap-northeast-1"
    now: datetime = Field(default_factory=lambda: datetime.now(UTC))
    repositories: list[InventoryRepository] = Field(default_factory=list)
    faults: list[Fault] = Field(default_factory=list)
    changes: list[Change] = Field(default_factory=list)
    rewrites: list[Rewrite] = Field(default_factory=list)
    objects: list[S3Object] = Field(default_factory=list)
    inspector: Inspector = Field(default_factory=Inspector)
    # digest -> failure code: BatchDeleteImage reports these in failures[] (a partial failure)
    delete_failures: dict[str, str] = Field(default_factory=dict)
    # Other accounts and regions, each with its own workloads (ecs, lambda, ...).
    accounts: list[MemberAccount] = Field(default_factory=list)

    @property
    def registry(self) -> str:
        return f"{self.account_id}.dkr.ecr.{self.region}.amazonaws.com"


def load_inventory(path: Path | str) -> Inventory:
    return Inventory.model_validate(json.loads(Path(path).read_text()))


def inventory_from_dict(data: dict[str, Any]) -> Inventory:
    return Inventory.model_validate(data)
