"""AWS App Runner as a source of "in use": services whose source is an ECR image.

Calls: ListServices (20 a page, its maximum; no boto3 paginator, so paged here), then
DescribeService per service, concurrently (at most DESCRIBE_CONCURRENCY at a time).
Every service counts whatever its status (a paused service resumes on its image),
except one that is DELETED, or that DescribeService no longer finds (deleted between
the two calls). Every other API error goes through `classify`.

The image is `SourceConfiguration.ImageRepository.ImageIdentifier` when
`ImageRepositoryType` is `ECR`; ECR Public images and code repository sources use no
private ECR image.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import classify, concurrently
from ecr_sweeper.core.in_use import InUseBuilder

SOURCE = "apprunner"
PAGE_SIZE = 20  # ListServices' maximum
GONE = "ResourceNotFoundException"


def app_runner_used_by(service_name: str) -> str:
    return f"apprunner:service/{service_name}"


def _service_arns(apprunner: Any) -> list[str]:
    arns: list[str] = []
    kwargs: dict[str, Any] = {"MaxResults": PAGE_SIZE}
    while True:
        try:
            page = apprunner.list_services(**kwargs)
        except ClientError as error:
            raise classify(error, "apprunner:ListServices") from error
        arns.extend(
            s["ServiceArn"]
            for s in page.get("ServiceSummaryList", [])
            if s.get("ServiceArn") and s.get("Status") != "DELETED"
        )
        token = page.get("NextToken")
        if not token:
            return sorted(set(arns))
        kwargs["NextToken"] = token


def _describe(apprunner: Any, arn: str) -> dict[str, Any] | None:
    try:
        return dict(apprunner.describe_service(ServiceArn=arn)["Service"])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == GONE:
            return None  # deleted since ListServices: it runs nothing
        raise classify(error, f"apprunner:DescribeService {arn}") from error


def service_image(service: dict[str, Any]) -> str | None:
    """The private ECR image a service runs, if its source is one."""
    repository = (service.get("SourceConfiguration") or {}).get("ImageRepository") or {}
    if repository.get("ImageRepositoryType") != "ECR":
        return None
    return repository.get("ImageIdentifier") or None


def collect_app_runner_usage(apprunner: Any, builder: InUseBuilder, source: str = SOURCE) -> None:
    arns = _service_arns(apprunner)
    for arn, service in zip(
        arns, concurrently(lambda a: _describe(apprunner, a), arns), strict=True
    ):
        if service is None or service.get("Status") == "DELETED":
            continue
        image = service_image(service)
        if image:
            name = service.get("ServiceName") or arn.split("/")[-2]
            builder.add(image, app_runner_used_by(name), source)
