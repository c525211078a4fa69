"""AWS App Runner, which moto lacks, served by the emulator: ListServices and
DescribeService, answered in botocore's `before-send` chain (`wire.insert_before_moto`)
only while a moto mock is active. Its data lives in a moto `BackendDict`, so moto's reset
clears it with everything else; `loaders/app_runner.py` fills it from the inventory.

App Runner is offered in some regions only. The emulator's App Runner exists where
botocore's region data lists an endpoint for it, as in AWS: elsewhere a call finds no
host to connect to (EndpointConnectionError, which botocore retries, then raises), and
an inventory cannot put services there.
"""

from __future__ import annotations

import functools
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError
from moto.core.base_backend import BackendDict, BaseBackend

from sweeper_emulator import wire
from sweeper_emulator.inventory import AppRunnerService


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


def serve(request: Any, event_name: str = "", **kwargs: Any) -> AWSResponse | None:
    """Answer an App Runner request (event_name: "before-send.apprunner.<Operation>")."""
    parts = event_name.split(".")
    if len(parts) != 3 or parts[1] != "apprunner" or not wire.mock_active():
        return None
    operation = parts[2]
    host = _HOST.match(request.url)
    if host is None:
        return wire.json_error(
            request.url, "InvalidRequestException", "unknown App Runner endpoint"
        )
    if not app_runner_offered(host.group(1)):
        # No such host in AWS: the client cannot connect (the DNS lookup fails).
        raise EndpointConnectionError(endpoint_url=request.url)
    backend = app_runner_backends[wire.request_account(request)][host.group(1)]
    try:
        params = wire.request_params(request)
    except ValueError:
        return wire.json_error(request.url, "InvalidRequestException", "the request is not JSON")
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
        return wire.json_answer(request.url, 200, answer)
    if operation == "DescribeService":
        service = backend.services.get(params.get("ServiceArn", ""))
        if service is None:
            return wire.json_error(
                request.url,
                "ResourceNotFoundException",
                f"Service {params.get('ServiceArn')} not found",
            )
        return wire.json_answer(request.url, 200, {"Service": service})
    return wire.json_error(
        request.url,
        "InvalidRequestException",
        f"the emulator's App Runner serves ListServices and DescribeService only, not {operation}",
    )
