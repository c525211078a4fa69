"""Amazon Bedrock AgentCore as a source of "in use": agent runtimes' container images.

Kept: the container URI (`agentRuntimeArtifact.containerConfiguration.containerUri`) of
each runtime's current version and of every version an endpoint serves or is moving to
(`liveVersion`, `targetVersion`): an endpoint can stay on an older version.

Calls, on the control plane (the `bedrock-agentcore-control` client):

* ListAgentRuntimes (100 a page, its maximum);
* ListAgentRuntimeEndpoints per runtime (100 a page);
* GetAgentRuntime per runtime and version (there is no batch describe).

The per-runtime calls run concurrently (at most DESCRIBE_CONCURRENCY at a time). A
runtime deleted between the calls (ResourceNotFoundException) uses nothing. Every other
API error goes through `classify`.

botocore's region data lists no endpoint for this client (its endpoints come from rules
only), so the scan cannot tell where AgentCore is offered and reads it everywhere
(adapters/regions.py): a region without it fails the run until `sources.agentcore` is
turned off there.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import classify, concurrently, paged
from ecr_sweeper.core.in_use import InUseBuilder, PlaceBuilder

SOURCE = "agentcore"
PAGE_SIZE = 100  # ListAgentRuntimes' and ListAgentRuntimeEndpoints' maximum
GONE = "ResourceNotFoundException"


def _get(agentcore: Any, runtime_id: str, version: str) -> dict[str, Any] | None:
    try:
        return dict(
            agentcore.get_agent_runtime(agentRuntimeId=runtime_id, agentRuntimeVersion=version)
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == GONE:
            return None  # deleted since it was listed
        raise classify(
            error, f"bedrock-agentcore:GetAgentRuntime {runtime_id} version {version}"
        ) from error


def _endpoints(agentcore: Any, runtime_id: str) -> list[dict[str, Any]]:
    try:
        return [
            endpoint
            for page in agentcore.get_paginator("list_agent_runtime_endpoints").paginate(
                agentRuntimeId=runtime_id, PaginationConfig={"PageSize": PAGE_SIZE}
            )
            for endpoint in page.get("runtimeEndpoints") or []
        ]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == GONE:
            return []  # deleted since it was listed
        raise classify(
            error, f"bedrock-agentcore:ListAgentRuntimeEndpoints {runtime_id}"
        ) from error


def collect_agentcore_usage(
    agentcore: Any, builder: InUseBuilder | PlaceBuilder, source: str = SOURCE
) -> None:
    runtimes = sorted(
        paged(agentcore, "list_agent_runtimes", "agentRuntimes", PAGE_SIZE),
        key=lambda r: str(r.get("agentRuntimeId")),
    )
    ids = [str(r["agentRuntimeId"]) for r in runtimes if r.get("agentRuntimeId")]
    versions: dict[tuple[str, str], str] = {}  # (runtime id, version) -> runtime name
    for runtime, endpoints in zip(
        runtimes, concurrently(lambda i: _endpoints(agentcore, i), ids), strict=True
    ):
        runtime_id = str(runtime["agentRuntimeId"])
        name = str(runtime.get("agentRuntimeName") or runtime_id)
        served = {runtime.get("agentRuntimeVersion")}
        for endpoint in endpoints:
            served |= {endpoint.get("liveVersion"), endpoint.get("targetVersion")}
        for version in served:
            if version:
                versions[(runtime_id, str(version))] = name
    wanted = sorted(versions)
    for (runtime_id, version), detail in zip(
        wanted, concurrently(lambda key: _get(agentcore, *key), wanted), strict=True
    ):
        artifact = (detail or {}).get("agentRuntimeArtifact") or {}
        image = (artifact.get("containerConfiguration") or {}).get("containerUri")
        if image:
            name = versions[(runtime_id, version)]
            builder.add(image, f"agentcore:runtime/{name}:{version}", source)
