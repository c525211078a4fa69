"""In-use lists: JSON arrays of image URIs in S3, for uses AWS cannot tell us about
(EKS, EC2, other clouds). The format `ecrm scan -o FILE` writes, so existing ecrm scan
files work. Every list must be readable, well formed and fresh, or the run fails."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import TRANSIENT_CODES, classify
from ecr_sweeper.core.config import Config
from ecr_sweeper.core.in_use import InUseBuilder
from ecr_sweeper.errors import SourceReadError

SOURCE = "in_use_lists"


def collect_in_use_lists(s3: Any, config: Config, builder: InUseBuilder, now: datetime) -> None:
    for entry in config.in_use_lists:
        try:
            response = s3.get_object(Bucket=entry.bucket, Key=entry.key)
            body = response["Body"].read()
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in TRANSIENT_CODES:
                raise classify(error, f"reading in-use list {entry.uri}") from error
            raise SourceReadError(
                f"in-use list {entry.uri} cannot be read ({code}): nothing is deleted while a "
                "source of in-use images is unreadable"
            ) from error
        modified = response["LastModified"]
        modified = modified if modified.tzinfo else modified.replace(tzinfo=UTC)
        age = now - modified
        if age > entry.max_age_after:
            raise SourceReadError(
                f"in-use list {entry.uri} is stale: written {modified.isoformat()}, "
                f"older than its max_age ({entry.max_age}); is the job that writes it still "
                "running?"
            )
        try:
            uris = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise SourceReadError(f"in-use list {entry.uri} is not JSON: {error}") from error
        if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
            raise SourceReadError(
                f"in-use list {entry.uri} must be a JSON array of image URI strings"
            )
        for uri in uris:
            builder.add(uri, f"in-use list {entry.uri}", SOURCE)
