"""ECS service revisions and service deployments, which moto lacks, served by the
emulator: ListServiceDeployments, DescribeServiceDeployments, DescribeServiceRevisions.

`load()` reads them from the inventory's services (`revisions`, `service_deployments`,
see docs/emulator.md) and marks the current revisions on moto's services, which
DescribeServices then reports as `currentServiceRevisions`. `install()` adds the three
operations to moto's ECS itself (not a `before-send` handler: botocore runs every such
handler, and moto's raises NotImplementedError for an ECS action it lacks), so that
moto answers them in-process and in its server (the artifact mode) alike, after the
emulator's fault injection. Answers are for the caller's account and region, as in AWS:
another account's ARN is not found. Every service moto knows has a deployment history,
empty unless the inventory gives one; a service moto does not know is not found.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto.core.utils import camelcase_to_underscores
from moto.ecs import models as ecs_models
from moto.ecs import responses as ecs_responses

from sweeper_emulator.inventory import Inventory, MemberAccount, ServiceDeployment

OPERATIONS = ("ListServiceDeployments", "DescribeServiceDeployments", "DescribeServiceRevisions")
LIST_PAGE_MAXIMUM = 100  # ListServiceDeployments' maxResults maximum
LIST_PAGE_DEFAULT = 20  # without maxResults
DESCRIBE_MAXIMUM = 20  # ARNs a describe takes, as in AWS
_TOKEN_PREFIX = "emulated-deployments-"

# ARN -> the answer's object, for every account and region the inventory loads.
REVISIONS: dict[str, dict[str, Any]] = {}
DEPLOYMENTS: dict[str, dict[str, Any]] = {}
# service ARN -> its deployments' ARNs, in the inventory's order
SERVICE_DEPLOYMENTS: dict[str, list[str]] = {}


def _stamp(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


def load(inventory: Inventory) -> None:
    """The revisions and deployments of every service of the inventory and its member
    accounts (after the ECS loaders made the services)."""
    REVISIONS.clear()
    DEPLOYMENTS.clear()
    SERVICE_DEPLOYMENTS.clear()
    for place in (inventory, *inventory.accounts):
        _load_place(place)


def _load_place(place: Inventory | MemberAccount) -> None:
    backend = ecs_models.ecs_backends[place.account_id][place.region]
    prefix = f"arn:aws:ecs:{place.region}:{place.account_id}"
    for cluster in place.ecs.clusters:
        for spec in cluster.services:
            service = backend.services[f"{cluster.name}:{spec.name}"]
            cluster_arn = f"{prefix}:cluster/{cluster.name}"
            revision_arn = functools.partial(
                "{}:service-revision/{}/{}/{}".format, prefix, cluster.name, spec.name
            )
            for revision in spec.revisions:
                REVISIONS[revision_arn(revision.id)] = {
                    "serviceRevisionArn": revision_arn(revision.id),
                    "serviceArn": service.arn,
                    "clusterArn": cluster_arn,
                    **(
                        {"taskDefinition": _task_definition_arn(prefix, revision.task_definition)}
                        if revision.task_definition
                        else {}
                    ),
                    "containerImages": [
                        {
                            "containerName": c.name or f"c{i}",
                            "imageDigest": c.image_digest,
                            "image": c.image,
                        }
                        for i, c in enumerate(revision.containers)
                    ],
                }
            service.current_service_revisions = [
                _revision_summary(revision_arn(r.id)) for r in spec.revisions if r.current
            ]
            arns = SERVICE_DEPLOYMENTS.setdefault(service.arn, [])
            for deployment in spec.service_deployments:
                arn = f"{prefix}:service-deployment/{cluster.name}/{spec.name}/{deployment.id}"
                arns.append(arn)
                DEPLOYMENTS[arn] = _deployment(
                    arn, service.arn, cluster_arn, deployment, revision_arn
                )


def _task_definition_arn(prefix: str, task_definition: str) -> str:
    return f"{prefix}:task-definition/{task_definition}"


def _revision_summary(arn: str) -> dict[str, Any]:
    return {"arn": arn, "requestedTaskCount": 0, "runningTaskCount": 0, "pendingTaskCount": 0}


def _deployment(
    arn: str,
    service_arn: str,
    cluster_arn: str,
    spec: ServiceDeployment,
    revision_arn: Callable[[str], str],
) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "serviceDeploymentArn": arn,
        "serviceArn": service_arn,
        "clusterArn": cluster_arn,
        "status": spec.status,
        "sourceServiceRevisions": [
            _revision_summary(revision_arn(r)) for r in spec.source_revisions
        ],
    }
    if spec.target_revision:
        answer["targetServiceRevision"] = _revision_summary(revision_arn(spec.target_revision))
    if spec.created_at is not None:
        answer["createdAt"] = _stamp(spec.created_at)
    return answer


Answer = tuple[int, dict[str, Any]]  # HTTP status, JSON body


def _error(code: str, message: str) -> Answer:
    return 400, {"__type": code, "message": message}


def _in_place(arn: str, account: str, region: str) -> bool:
    return arn.startswith(f"arn:aws:ecs:{region}:{account}:")


def answer(operation: str, params: dict[str, Any], account: str, region: str) -> Answer:
    """The answer to one of OPERATIONS, for a caller in `account` and `region`."""
    if operation == "ListServiceDeployments":
        return _list(params, account, region)
    request_key, answer_key, known = (
        ("serviceDeploymentArns", "serviceDeployments", DEPLOYMENTS)
        if operation == "DescribeServiceDeployments"
        else ("serviceRevisionArns", "serviceRevisions", REVISIONS)
    )
    arns = list(params.get(request_key) or [])
    if not arns or len(arns) > DESCRIBE_MAXIMUM:
        return _error(
            "InvalidParameterException",
            f"{request_key} must list 1 to {DESCRIBE_MAXIMUM} ARNs, not {len(arns)}",
        )
    found = [known[a] for a in arns if a in known and _in_place(a, account, region)]
    failures = [
        {"arn": a, "reason": "MISSING"}
        for a in arns
        if a not in known or not _in_place(a, account, region)
    ]
    return 200, {answer_key: found, "failures": failures}


def _list(params: dict[str, Any], account: str, region: str) -> Answer:
    backend = ecs_models.ecs_backends[account][region]
    cluster = str(params.get("cluster") or "default").rsplit("/", 1)[-1]
    service_name = str(params.get("service") or "").rsplit("/", 1)[-1]
    service = backend.services.get(f"{cluster}:{service_name}")
    if service is None:
        return _error("ServiceNotFoundException", f"Service not found: {service_name}")
    size = int(params.get("maxResults") or LIST_PAGE_DEFAULT)
    if not 1 <= size <= LIST_PAGE_MAXIMUM:
        return _error("InvalidParameterException", f"maxResults must be 1 to 100, not {size}")
    statuses = set(params.get("status") or [])
    briefs = [
        _brief(DEPLOYMENTS[arn])
        for arn in SERVICE_DEPLOYMENTS.get(service.arn, [])
        if not statuses or DEPLOYMENTS[arn]["status"] in statuses
    ]
    token = params.get("nextToken")
    start = int(str(token)[len(_TOKEN_PREFIX) :]) if token else 0
    page: dict[str, Any] = {"serviceDeployments": briefs[start : start + size]}
    if start + size < len(briefs):
        page["nextToken"] = f"{_TOKEN_PREFIX}{start + size}"
    return 200, page


def _brief(deployment: dict[str, Any]) -> dict[str, Any]:
    """What ListServiceDeployments shows of a deployment (no source revisions)."""
    brief = {
        key: deployment[key]
        for key in ("serviceDeploymentArn", "serviceArn", "clusterArn", "status", "createdAt")
        if key in deployment
    }
    if "targetServiceRevision" in deployment:
        brief["targetServiceRevisionArn"] = deployment["targetServiceRevision"]["arn"]
    return brief


def _response_method(operation: str) -> Callable[[Any], tuple[int, dict[str, str], str]]:
    def respond(self: Any) -> tuple[int, dict[str, str], str]:
        params = json.loads(self.body or "{}")
        status, body = answer(operation, params, self.current_account, self.region)
        headers = {"Content-Type": "application/x-amz-json-1.1", "status": str(status)}
        if status >= 400:
            headers["x-amzn-ErrorType"] = str(body["__type"])
        return status, headers, json.dumps(body)

    return respond


_install_lock = threading.Lock()
_installed = False


def install() -> None:
    """Add the three operations to moto's ECS, which then answers them in-process and in
    its server (the artifact mode) alike, after the emulator's fault injection. Idempotent."""
    global _installed
    with _install_lock:
        if _installed:
            return
        for operation in OPERATIONS:
            setattr(
                ecs_responses.EC2ContainerServiceResponse,
                camelcase_to_underscores(operation),
                _response_method(operation),
            )
        _installed = True
