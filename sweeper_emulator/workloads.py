"""CodeBuild, SageMaker, EMR Serverless, Bedrock AgentCore and Lightsail, served by the
emulator from the inventory: the read calls the in-use scan makes, and nothing else.

moto has parts of the first four, but not the parts the scan reads: its CodeBuild
reports every build SUCCEEDED the moment BatchGetBuilds sees it (no build is ever in
progress), its EMR Serverless keeps no image configuration, its SageMaker has no Studio
images, and it has no Lightsail container services. So all five are served here, the
way App Runner is (more_sources.py): a `before-send` handler just before moto's, active
only while a moto mock is, its data in a moto `BackendDict` (moto's reset clears it).
In the artifact mode the emulator's HTTP server calls the same handler.

As in AWS, each exists only where botocore's region data lists an endpoint for it
(AgentCore's control plane has no region data: it exists everywhere); elsewhere a call
finds no host to connect to, and an inventory cannot put resources there.

Pages and batches have AWS's sizes (ListBuilds 100, ListApplications 50, ...), and a
batch call over its maximum is refused as AWS refuses it.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError
from botocore.handlers import BUILTIN_HANDLERS
from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.models import botocore_stubber
from pydantic import BaseModel, ConfigDict, Field

# --- inventory sections ----------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CodeBuildProject(_Strict):
    name: str
    image: str  # environment.image


class CodeBuildBuild(_Strict):
    project: str
    image: str | None = None  # the build's image when it overrides its project's
    status: Literal["IN_PROGRESS", "SUCCEEDED", "FAILED", "FAULT", "TIMED_OUT", "STOPPED"] = (
        "IN_PROGRESS"
    )


class CodeBuild(_Strict):
    projects: list[CodeBuildProject] = Field(default_factory=list)
    builds: list[CodeBuildBuild] = Field(default_factory=list)


class SageMakerModel(_Strict):
    name: str
    # One image: PrimaryContainer; more: Containers (an inference pipeline).
    images: list[str] = Field(min_length=1)


class SageMakerJob(_Strict):
    name: str
    image: str
    status: Literal["InProgress", "Completed", "Failed", "Stopping", "Stopped"] = "InProgress"


class SageMakerImageVersion(_Strict):
    image: str  # the Studio image's name
    version: int = Field(ge=1)
    base_image: str


class SageMaker(_Strict):
    models: list[SageMakerModel] = Field(default_factory=list)
    training_jobs: list[SageMakerJob] = Field(default_factory=list)
    processing_jobs: list[SageMakerJob] = Field(default_factory=list)
    image_versions: list[SageMakerImageVersion] = Field(default_factory=list)


class EmrServerlessApplication(_Strict):
    name: str
    image: str | None = None  # imageConfiguration.imageUri
    worker_images: dict[str, str] = Field(default_factory=dict)  # worker type -> image
    state: Literal[
        "CREATING", "CREATED", "STARTING", "STARTED", "STOPPING", "STOPPED", "TERMINATED"
    ] = "CREATED"


class EmrServerless(_Strict):
    applications: list[EmrServerlessApplication] = Field(default_factory=list)


class AgentCoreEndpoint(_Strict):
    name: str
    live_version: int = Field(ge=1)
    target_version: int | None = Field(default=None, ge=1)


class AgentCoreRuntime(_Strict):
    name: str
    # The container URI of version 1, 2, ...; the last is the runtime's current version.
    versions: list[str] = Field(min_length=1)
    endpoints: list[AgentCoreEndpoint] = Field(default_factory=list)


class AgentCore(_Strict):
    runtimes: list[AgentCoreRuntime] = Field(default_factory=list)


class LightsailContainerService(_Strict):
    name: str
    current: dict[str, str] = Field(default_factory=dict)  # container name -> image
    next: dict[str, str] | None = None  # the deployment in progress, if any


class Lightsail(_Strict):
    container_services: list[LightsailContainerService] = Field(default_factory=list)


class Workloads(_Strict):
    """The five inventory keys, as one model (embed the fields in the Inventory)."""

    codebuild: CodeBuild = Field(default_factory=CodeBuild)
    sagemaker: SageMaker = Field(default_factory=SageMaker)
    emr_serverless: EmrServerless = Field(default_factory=EmrServerless)
    agentcore: AgentCore = Field(default_factory=AgentCore)
    lightsail: Lightsail = Field(default_factory=Lightsail)


# The botocore service (the event name's and the region data's) of each inventory key.
SERVICES = {
    "codebuild": "codebuild",
    "sagemaker": "sagemaker",
    "emr_serverless": "emr-serverless",
    "agentcore": "bedrock-agentcore-control",
    "lightsail": "lightsail",
}


@functools.cache
def _regions(service: str) -> frozenset[str]:
    session = boto3.Session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions(service, partition_name=partition)
    )


def offered(service: str, region: str) -> bool:
    """Where botocore's region data lists an endpoint; everywhere for a service it has
    no region data for (AgentCore's control plane)."""
    regions = _regions(service)
    return not regions or region in regions


class WorkloadsBackend(BaseBackend):
    """The inventory's five sections for one account and region."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.workloads = Workloads()
        self.build_ids: list[str] = []
        self.application_ids: list[str] = []
        self.runtime_ids: list[str] = []


# One backend per region of every partition botocore knows (the five's own regions are
# checked by `offered`, and AgentCore's are all of them).
workloads_backends = BackendDict(
    WorkloadsBackend,
    "sweeper-workloads",
    use_boto3_regions=False,
    additional_regions=sorted(_regions("ec2")),
)


def load_workloads(section: Workloads | Mapping[str, Any], account: str, region: str) -> None:
    """The five sections (from a model with their fields, e.g. the Inventory, or their
    JSON data) into the account and region."""
    install()
    if isinstance(section, BaseModel) and not isinstance(section, Workloads):
        section = {name: getattr(section, name) for name in Workloads.model_fields}
    workloads = (
        section if isinstance(section, Workloads) else Workloads.model_validate(section or {})
    )
    for key, service in SERVICES.items():
        if getattr(workloads, key) != type(getattr(workloads, key))() and not offered(
            service, region
        ):
            raise ValueError(
                f"{key}: {service} is not offered in {region} (botocore's region data), "
                "so nothing of it can run there"
            )
    backend = workloads_backends[account][region]
    backend.workloads = workloads
    backend.build_ids = [
        f"{build.project}:{uuid.uuid5(uuid.NAMESPACE_OID, f'{i}')}"
        for i, build in enumerate(workloads.codebuild.builds)
    ]
    applications = workloads.emr_serverless.applications
    backend.application_ids = [f"00{i:014x}" for i, _ in enumerate(applications)]
    backend.runtime_ids = [
        f"{runtime.name}-{i:010d}" for i, runtime in enumerate(workloads.agentcore.runtimes)
    ]


# --- answers -----------------------------------------------------------------------------

# The region in an AWS host name (amazonaws.com, amazonaws.com.cn, c2s.ic.gov, ...).
_REGION = re.compile(r"^https?://[^/]*?\.([a-z]{2}(?:-[a-z]+)+-\d+)\.")
_TOKEN = "emulated-page-"


class _Call:
    """One request as the handlers read it: the operation, its parameters (JSON body
    and query string together) and its path."""

    def __init__(self, request: Any, operation: str, region: str, account: str) -> None:
        body = request.body or b"{}"
        text = body.decode() if isinstance(body, bytes) else str(body)
        try:
            self.params: dict[str, Any] = json.loads(text) if text.strip() else {}
        except ValueError:
            self.params = {}
        url = urlsplit(request.url)
        self.path = url.path
        for name, values in parse_qs(url.query).items():
            self.params.setdefault(name, values if len(values) > 1 else values[0])
        self.operation = operation
        self.region = region
        self.account = account
        self.backend: WorkloadsBackend = workloads_backends[account][region]


class _Refused(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _page(
    items: list[Any], call: _Call, size_key: str | None, maximum: int, token_key: str
) -> tuple[list[Any], str | None]:
    size = min(int(call.params.get(size_key) or maximum), maximum) if size_key else maximum
    token = call.params.get(token_key)
    start = int(str(token)[len(_TOKEN) :]) if token else 0
    more = start + size < len(items)
    return items[start : start + size], f"{_TOKEN}{start + size}" if more else None


def _batch(call: _Call, key: str, maximum: int) -> list[str]:
    names = list(call.params.get(key) or [])
    if len(names) > maximum:
        raise _Refused(
            "InvalidInputException", f"{key}: at most {maximum} a call, got {len(names)}"
        )
    return names


def _codebuild(call: _Call) -> dict[str, Any]:
    section = call.backend.workloads.codebuild
    prefix = f"arn:aws:codebuild:{call.region}:{call.account}"
    projects = {p.name: p for p in section.projects}
    if call.operation == "ListProjects":
        page, token = _page(sorted(projects), call, None, 100, "nextToken")
        return {"projects": page, **({"nextToken": token} if token else {})}
    if call.operation == "BatchGetProjects":
        names = _batch(call, "names", 100)
        return {
            "projects": [
                {
                    "name": name,
                    "arn": f"{prefix}:project/{name}",
                    "environment": {
                        "type": "LINUX_CONTAINER",
                        "image": projects[name].image,
                        "computeType": "BUILD_GENERAL1_SMALL",
                        "imagePullCredentialsType": "SERVICE_ROLE",
                    },
                }
                for name in names
                if name in projects
            ],
            "projectsNotFound": [name for name in names if name not in projects],
        }
    builds = dict(zip(call.backend.build_ids, section.builds, strict=True))
    if call.operation == "ListBuilds":
        page, token = _page(list(builds), call, None, 100, "nextToken")
        return {"ids": page, **({"nextToken": token} if token else {})}
    if call.operation == "BatchGetBuilds":
        ids = _batch(call, "ids", 100)
        found = []
        for build_id in ids:
            build = builds.get(build_id)
            if build is None:
                continue
            project = projects.get(build.project)
            image = build.image or (project.image if project else None)
            found.append(
                {
                    "id": build_id,
                    "arn": f"{prefix}:build/{build_id}",
                    "projectName": build.project,
                    "buildStatus": build.status,
                    "buildComplete": build.status != "IN_PROGRESS",
                    "environment": {"type": "LINUX_CONTAINER", "image": image},
                }
            )
        return {"builds": found, "buildsNotFound": [i for i in ids if i not in builds]}
    raise _unserved(call)


def _sagemaker(call: _Call) -> dict[str, Any]:
    section = call.backend.workloads.sagemaker
    prefix = f"arn:aws:sagemaker:{call.region}:{call.account}"

    def listing(items: list[Any], key: str) -> dict[str, Any]:
        page, token = _page(items, call, "MaxResults", 100, "NextToken")
        return {key: page, **({"NextToken": token} if token else {})}

    def not_found(what: str) -> _Refused:
        return _Refused("ValidationException", f"Could not find {what}")

    models = {m.name: m for m in section.models}
    training = {j.name: j for j in section.training_jobs}
    processing = {j.name: j for j in section.processing_jobs}
    images = sorted({v.image for v in section.image_versions})
    status = call.params.get("StatusEquals")
    if call.operation == "ListModels":
        summaries = [{"ModelName": n, "ModelArn": f"{prefix}:model/{n}"} for n in sorted(models)]
        return listing(summaries, "Models")
    if call.operation == "DescribeModel":
        model = models.get(call.params.get("ModelName", ""))
        if model is None:
            raise not_found(f'model "{call.params.get("ModelName")}".')
        containers = [{"Image": image} for image in model.images]
        shape = (
            {"PrimaryContainer": containers[0]}
            if len(containers) == 1
            else {"Containers": containers}
        )
        return {"ModelName": model.name, "ModelArn": f"{prefix}:model/{model.name}", **shape}
    for operation, jobs, kind in (
        ("TrainingJob", training, "training-job"),
        ("ProcessingJob", processing, "processing-job"),
    ):
        if call.operation == f"List{operation}s":
            summaries = [
                {
                    f"{operation}Name": j.name,
                    f"{operation}Arn": f"{prefix}:{kind}/{j.name}",
                    f"{operation}Status": j.status,
                    "CreationTime": 0,
                }
                for j in sorted(jobs.values(), key=lambda j: j.name)
                if status is None or j.status == status
            ]
            return listing(summaries, f"{operation}Summaries")
        if call.operation == f"Describe{operation}":
            job = jobs.get(call.params.get(f"{operation}Name", ""))
            if job is None:
                raise not_found(f"{kind} {call.params.get(f'{operation}Name')}")
            where = (
                {"AlgorithmSpecification": {"TrainingImage": job.image}}
                if operation == "TrainingJob"
                else {"AppSpecification": {"ImageUri": job.image}}
            )
            return {
                f"{operation}Name": job.name,
                f"{operation}Arn": f"{prefix}:{kind}/{job.name}",
                f"{operation}Status": job.status,
                **where,
            }
    if call.operation == "ListImages":
        summaries = [
            {"ImageName": n, "ImageArn": f"{prefix}:image/{n}", "ImageStatus": "CREATED"}
            for n in images
        ]
        return listing(summaries, "Images")
    name = call.params.get("ImageName", "")
    versions = sorted(
        (v for v in section.image_versions if v.image == name), key=lambda v: v.version
    )
    if call.operation == "ListImageVersions":
        if name not in images:
            raise _Refused("ResourceNotFound", f"Image {name} not found")
        summaries = [
            {
                "ImageArn": f"{prefix}:image/{name}",
                "ImageVersionArn": f"{prefix}:image-version/{name}/{v.version}",
                "ImageVersionStatus": "CREATED",
                "Version": v.version,
                "CreationTime": 0,
                "LastModifiedTime": 0,
            }
            for v in versions
        ]
        return listing(summaries, "ImageVersions")
    if call.operation == "DescribeImageVersion":
        wanted = call.params.get("Version")
        for v in versions:
            if wanted is None or int(wanted) == v.version:
                return {
                    "BaseImage": v.base_image,
                    "ContainerImage": v.base_image,
                    "ImageArn": f"{prefix}:image/{name}",
                    "ImageVersionArn": f"{prefix}:image-version/{name}/{v.version}",
                    "ImageVersionStatus": "CREATED",
                    "Version": v.version,
                }
        raise _Refused("ResourceNotFound", f"Image version {name}/{wanted} not found")
    raise _unserved(call)


def _emr_serverless(call: _Call) -> dict[str, Any]:
    applications = dict(
        zip(
            call.backend.application_ids,
            call.backend.workloads.emr_serverless.applications,
            strict=True,
        )
    )
    prefix = f"arn:aws:emr-serverless:{call.region}:{call.account}:/applications"

    def shown(application_id: str, application: EmrServerlessApplication) -> dict[str, Any]:
        return {
            "id": application_id,
            "applicationId": application_id,
            "name": application.name,
            "arn": f"{prefix}/{application_id}",
            "releaseLabel": "emr-7.0.0",
            "type": "Spark",
            "state": application.state,
            "createdAt": 0,
            "updatedAt": 0,
        }

    if call.operation == "ListApplications":
        states = call.params.get("states")
        states = [states] if isinstance(states, str) else states
        listed = [shown(i, a) for i, a in applications.items() if not states or a.state in states]
        page, token = _page(listed, call, "maxResults", 50, "nextToken")
        for summary in page:
            summary.pop("applicationId")
        return {"applications": page, **({"nextToken": token} if token else {})}
    if call.operation == "GetApplication":
        application_id = call.path.rstrip("/").rsplit("/", 1)[-1]
        application = applications.get(application_id)
        if application is None:
            raise _Refused(
                "ResourceNotFoundException", f"Application {application_id} does not exist", 404
            )
        detail = shown(application_id, application)
        detail.pop("id")
        if application.image:
            detail["imageConfiguration"] = {"imageUri": application.image}
        if application.worker_images:
            detail["workerTypeSpecifications"] = {
                worker: {"imageConfiguration": {"imageUri": image}}
                for worker, image in application.worker_images.items()
            }
        return {"application": detail}
    raise _unserved(call)


_RUNTIME_PATH = re.compile(r"/runtimes/([^/]+)/")


def _agentcore(call: _Call) -> dict[str, Any]:
    runtimes = dict(
        zip(call.backend.runtime_ids, call.backend.workloads.agentcore.runtimes, strict=True)
    )
    prefix = f"arn:aws:bedrock-agentcore:{call.region}:{call.account}:runtime"
    if call.operation == "ListAgentRuntimes":
        listed = [
            {
                "agentRuntimeArn": f"{prefix}/{i}",
                "agentRuntimeId": i,
                "agentRuntimeVersion": str(len(r.versions)),
                "agentRuntimeName": r.name,
                "description": "",
                "lastUpdatedAt": 0,
                "status": "READY",
            }
            for i, r in runtimes.items()
        ]
        page, token = _page(listed, call, "maxResults", 100, "nextToken")
        return {"agentRuntimes": page, **({"nextToken": token} if token else {})}
    match = _RUNTIME_PATH.search(call.path)
    runtime_id = match.group(1) if match else ""
    runtime = runtimes.get(runtime_id)
    if runtime is None:
        raise _Refused("ResourceNotFoundException", f"Agent runtime {runtime_id} not found", 404)
    if call.operation == "ListAgentRuntimeEndpoints":
        listed = [
            {
                "name": e.name,
                "liveVersion": str(e.live_version),
                **({"targetVersion": str(e.target_version)} if e.target_version else {}),
                "agentRuntimeEndpointArn": f"{prefix}/{runtime_id}/runtime-endpoint/{e.name}",
                "agentRuntimeArn": f"{prefix}/{runtime_id}",
                "status": "READY",
                "id": e.name,
                "createdAt": 0,
                "lastUpdatedAt": 0,
            }
            for e in runtime.endpoints
        ]
        page, token = _page(listed, call, "maxResults", 100, "nextToken")
        return {"runtimeEndpoints": page, **({"nextToken": token} if token else {})}
    if call.operation == "GetAgentRuntime":
        version = int(call.params.get("version") or len(runtime.versions))
        if not 1 <= version <= len(runtime.versions):
            raise _Refused(
                "ResourceNotFoundException", f"{runtime_id} has no version {version}", 404
            )
        return {
            "agentRuntimeArn": f"{prefix}/{runtime_id}",
            "agentRuntimeName": runtime.name,
            "agentRuntimeId": runtime_id,
            "agentRuntimeVersion": str(version),
            "createdAt": 0,
            "lastUpdatedAt": 0,
            "roleArn": f"arn:aws:iam::{call.account}:role/emulated-agentcore",
            "networkConfiguration": {"networkMode": "PUBLIC"},
            "status": "READY",
            "agentRuntimeArtifact": {
                "containerConfiguration": {"containerUri": runtime.versions[version - 1]}
            },
        }
    raise _unserved(call)


def _deployment(containers: dict[str, str], version: int, state: str) -> dict[str, Any]:
    return {
        "version": version,
        "state": state,
        "containers": {name: {"image": image} for name, image in containers.items()},
        "createdAt": 0,
    }


def _lightsail(call: _Call) -> dict[str, Any]:
    if call.operation != "GetContainerServices":
        raise _unserved(call)
    services = []
    for service in call.backend.workloads.lightsail.container_services:
        if call.params.get("serviceName") not in (None, service.name):
            continue
        shown: dict[str, Any] = {
            "containerServiceName": service.name,
            "arn": f"arn:aws:lightsail:{call.region}:{call.account}:ContainerService/x",
            "state": "UPDATING" if service.next is not None else "RUNNING",
            "power": "nano",
            "scale": 1,
        }
        if service.current:
            shown["currentDeployment"] = _deployment(service.current, 1, "ACTIVE")
        if service.next is not None:
            shown["nextDeployment"] = _deployment(service.next, 2, "ACTIVATING")
        services.append(shown)
    return {"containerServices": services}


def _unserved(call: _Call) -> _Refused:
    return _Refused(
        "InvalidRequestException",
        f"the emulator serves only the in-use scan's read calls, not {call.operation}",
    )


_HANDLERS: dict[str, Callable[[_Call], dict[str, Any]]] = {
    "codebuild": _codebuild,
    "sagemaker": _sagemaker,
    "emr-serverless": _emr_serverless,
    "bedrock-agentcore-control": _agentcore,
    "lightsail": _lightsail,
}


def serve(request: Any, event_name: str = "", **kwargs: Any) -> AWSResponse | None:
    # event_name is "before-send.<service>.<Operation>"
    parts = event_name.split(".")
    if len(parts) != 3 or parts[1] not in _HANDLERS or not botocore_stubber.enabled:
        return None
    from sweeper_emulator.faults import RawBody
    from sweeper_emulator.more_sources import _account

    region = _REGION.search(request.url)
    if region is None:
        return None  # answered already: the URL was pointed away (a fault, or moto's)
    if not offered(parts[1], region.group(1)):
        # No such host in AWS: the client cannot connect (the DNS lookup fails).
        raise EndpointConnectionError(endpoint_url=request.url)
    call = _Call(request, parts[2], region.group(1), _account(request))
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": str(uuid.uuid4())}
    try:
        status, body = 200, _HANDLERS[parts[1]](call)
    except _Refused as refused:
        status, body = refused.status, {"__type": refused.code, "message": refused.message}
        headers["x-amzn-ErrorType"] = refused.code
    # botocore offers the request to every before-send handler, moto's included, and
    # uses the first answer: point it nowhere so that moto (which has some of these
    # operations, and raises on the others) does not also carry it out.
    original_url = request.url
    request.url = "https://served-by-the-emulator.invalid/"
    return AWSResponse(original_url, status, headers, RawBody(json.dumps(body).encode()))


_installed = False


def install() -> None:
    """Serve the five for sessions created from now on, just before moto's handler (so
    that the emulator's fault injection still sees the calls). Idempotent."""
    global _installed
    if _installed:
        return
    positions = [i for i, item in enumerate(BUILTIN_HANDLERS) if item[1] is botocore_stubber]
    BUILTIN_HANDLERS.insert(
        positions[0] if positions else len(BUILTIN_HANDLERS), ("before-send", serve)
    )
    _installed = True
