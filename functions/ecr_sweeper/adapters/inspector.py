"""Amazon Inspector as an optional extra signal of "in use".

Inspector's ECR scanning reports, per image, when it last saw it in use (by ECS or
EKS: `lastInUseAt`) and on how many workloads (`inUseCount`). An image Inspector saw
in use within the window is kept, whatever the other sources say.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import classify
from ecr_sweeper.core.in_use import InUseBuilder

SOURCE = "inspector"
PAGE_SIZE = 200  # ListCoverage's maximum


def image_uri_of(resource_id: str) -> str | None:
    """`arn:aws:ecr:REGION:ACCOUNT:repository/NAME/sha256:HEX` -> the image's digest URI."""
    parts = resource_id.split(":", 5)
    if len(parts) != 6 or parts[2] != "ecr" or not parts[5].startswith("repository/"):
        return None
    region, account, path = parts[3], parts[4], parts[5].removeprefix("repository/")
    repository, _, digest = path.rpartition("/")
    if not repository or not digest.startswith("sha256:"):
        return None
    suffix = ".amazonaws.com.cn" if region.startswith("cn-") else ".amazonaws.com"
    return f"{account}.dkr.ecr.{region}{suffix}/{repository}@{digest}"


def collect_inspector_usage(
    inspector: Any, builder: InUseBuilder, now: datetime, within: timedelta
) -> None:
    cutoff = now - within
    try:
        pages = inspector.get_paginator("list_coverage").paginate(
            filterCriteria={
                "resourceType": [{"comparison": "EQUALS", "value": "AWS_ECR_CONTAINER_IMAGE"}]
            },
            PaginationConfig={"PageSize": PAGE_SIZE},
        )
        for page in pages:
            for resource in page.get("coveredResources", []):
                image = resource.get("resourceMetadata", {}).get("ecrImage", {})
                last = image.get("lastInUseAt")
                if last is None:
                    continue
                last = last if last.tzinfo else last.replace(tzinfo=UTC)
                uri = image_uri_of(resource.get("resourceId", ""))
                if uri is not None and last >= cutoff:
                    builder.add(uri, f"inspector: in use {last.date().isoformat()}", SOURCE)
    except ClientError as error:
        raise classify(error, "inspector2:ListCoverage") from error
