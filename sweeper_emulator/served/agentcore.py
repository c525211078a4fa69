"""Amazon Bedrock AgentCore's control plane as the in-use scan reads it
(ListAgentRuntimes, ListAgentRuntimeEndpoints, GetAgentRuntime), served by the emulator
from the inventory's `agentcore` section (`loaders/agentcore.py` fills it): moto has
some of AgentCore, but not what the scan reads.

Answered in botocore's `before-send` chain only while a moto mock is active
(`wire.serve_in_place_of_moto`), its data in a moto `BackendDict` (moto's reset clears
it). botocore has no region data for the control plane, so it exists in every region.
Pages have AWS's size (100).
"""

from __future__ import annotations

import re
from typing import Any

from botocore.awsrequest import AWSResponse
from moto.core.base_backend import BackendDict, BaseBackend

from sweeper_emulator import wire
from sweeper_emulator.inventory import AgentCore

SERVICE = "bedrock-agentcore-control"  # the botocore service: the event name's


class AgentCoreBackend(BaseBackend):
    """The inventory's `agentcore` section for one account and region, and the ids of
    its runtimes."""

    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.section = AgentCore()
        self.runtime_ids: list[str] = []

    def load(self, section: AgentCore) -> None:
        self.section = section
        self.runtime_ids = [
            f"{runtime.name}-{i:010d}" for i, runtime in enumerate(section.runtimes)
        ]


# One backend per region of every partition botocore knows: AgentCore is in all of them.
agentcore_backends = BackendDict(
    AgentCoreBackend,
    "sweeper-agentcore",
    use_boto3_regions=False,
    additional_regions=sorted(wire.service_regions("ec2")),
)


_RUNTIME_PATH = re.compile(r"/runtimes/([^/]+)/")


def _answer(call: wire.ServedCall) -> dict[str, Any]:
    backend = agentcore_backends[call.account][call.region]
    runtimes = dict(zip(backend.runtime_ids, backend.section.runtimes, strict=True))
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
        page, token = wire.page(listed, call, "maxResults", 100, "nextToken")
        return {"agentRuntimes": page, **({"nextToken": token} if token else {})}
    match = _RUNTIME_PATH.search(call.path)
    runtime_id = match.group(1) if match else ""
    runtime = runtimes.get(runtime_id)
    if runtime is None:
        raise wire.Refused(
            "ResourceNotFoundException", f"Agent runtime {runtime_id} not found", 404
        )
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
        page, token = wire.page(listed, call, "maxResults", 100, "nextToken")
        return {"runtimeEndpoints": page, **({"nextToken": token} if token else {})}
    if call.operation == "GetAgentRuntime":
        version = int(call.params.get("version") or len(runtime.versions))
        if not 1 <= version <= len(runtime.versions):
            raise wire.Refused(
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
    raise call.unserved()


def serve(request: Any, event_name: str = "", **kwargs: Any) -> AWSResponse | None:
    """Answer an AgentCore control plane request (event_name:
    "before-send.bedrock-agentcore-control.<Operation>")."""
    return wire.serve_in_place_of_moto(request, event_name, SERVICE, _answer)
