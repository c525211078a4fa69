"""The repositories the protect tag covers, in one paged call for the whole registry.

The Resource Groups Tagging API lists every ECR repository of the account and region
that carries the tag key; reading each repository's tags (ecr:ListTagsForResource)
would cost one call per repository. The deleter's last look still reads the tags of
the one repository it deletes from (adapters/ecr.py), in case the tag was set during
the run.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import classify
from ecr_sweeper.adapters.ecr import PROTECT_TAG_KEY, protection_reason

RESOURCE_TYPE = "ecr:repository"
# GetResources' largest page.
PAGE_SIZE = 100


def repository_name(arn: str) -> str:
    """arn:aws:ecr:REGION:ACCOUNT:repository/NAME (NAME may contain '/') -> NAME"""
    return arn.split(":", 5)[5].removeprefix("repository/")


def protected_repositories(tagging: Any) -> dict[str, str]:
    """Repository name -> why its tag protects it, for every repository of the client's
    account and region tagged ecr-sweeper:protect=true. The filter names the key only:
    the value is compared as the deleter compares it (any case of "true"). Any error
    fails the scan: a protect tag that could not be read must not let a plan delete."""
    protected: dict[str, str] = {}
    try:
        pages = tagging.get_paginator("get_resources").paginate(
            ResourceTypeFilters=[RESOURCE_TYPE],
            TagFilters=[{"Key": PROTECT_TAG_KEY}],
            ResourcesPerPage=PAGE_SIZE,
        )
        for page in pages:
            for resource in page.get("ResourceTagMappingList", []):
                reason = protection_reason(resource.get("Tags", []))
                if reason:
                    protected[repository_name(str(resource["ResourceARN"]))] = reason
    except ClientError as error:
        raise classify(error, "tag:GetResources (ecr:repository)") from error
    return protected
