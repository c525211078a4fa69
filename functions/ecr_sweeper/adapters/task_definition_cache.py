"""The images of task definitions already described, kept in the run bucket across runs.

A task definition revision (`family:revision`, one ARN) never changes: ECS registers a
new revision for any change. So DescribeTaskDefinition need only be called once per
revision, ever. The in-use scan reads this cache, describes only the revisions it has
not seen, and writes the cache back with exactly the revisions this run needed (so it
stays the size of one run's needs).

One object, outside `runs/` so that the run data's expiry does not remove it::

    s3://<run bucket>/cache/task-definitions/images.json
    {"format": 1, "task_definitions": {"<task definition ARN>": ["<image>", ...]}}

The cache only saves calls; it never decides anything. If it cannot be read (missing,
malformed, access denied, ...) the scan describes every revision it needs, and if it
cannot be written the next run does the same. Neither fails the run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

logger = Logger(service="ecr-sweeper")

CACHE_KEY = "cache/task-definitions/images.json"
FORMAT = 1


class TaskDefinitionCache:
    """ARN -> the images of its container definitions, as DescribeTaskDefinition said."""

    def __init__(self, s3: Any, bucket: str, key: str = CACHE_KEY) -> None:
        self._s3 = s3
        self.bucket = bucket
        self.key = key
        self._loaded: dict[str, tuple[str, ...]] = {}
        self._entries: dict[str, tuple[str, ...]] = {}
        self.hits = 0
        self.misses = 0
        self.s3_calls = 0

    @classmethod
    def disabled(cls) -> TaskDefinitionCache:
        """A cache that holds nothing and stores nothing (no bucket)."""
        return cls(None, "")

    def load(self) -> TaskDefinitionCache:
        """Read the cache; any problem leaves it empty (every revision is then described)."""
        if self._s3 is None:
            return self
        self.s3_calls += 1
        try:
            body = self._s3.get_object(Bucket=self.bucket, Key=self.key)["Body"].read()
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in {"AccessDenied", "403"}:
                # Without s3:ListBucket, S3 answers a missing object with 403 too.
                logger.warning(
                    "task definition cache missing or not readable, describing every revision",
                    extra={"key": self.key, "error": str(error)},
                )
            elif code not in {"NoSuchKey", "404", "NotFound"}:
                logger.warning(
                    "task definition cache unreadable, describing every revision",
                    extra={"key": self.key, "error": str(error)},
                )
            return self
        except BotoCoreError as error:
            logger.warning(
                "task definition cache unreadable, describing every revision",
                extra={"key": self.key, "error": str(error)},
            )
            return self
        self._loaded = parse_cache(body)
        self._entries = dict(self._loaded)
        return self

    def get(self, arn: str) -> tuple[str, ...] | None:
        images = self._entries.get(arn)
        if images is None:
            self.misses += 1
        else:
            self.hits += 1
        return images

    def put(self, arn: str, images: Iterable[str]) -> None:
        self._entries[arn] = tuple(images)

    def save(self, needed: Iterable[str]) -> None:
        """Write back the entries of the revisions in `needed`, if that changes the cache."""
        if self._s3 is None:
            return
        keep = {arn: self._entries[arn] for arn in sorted(set(needed)) if arn in self._entries}
        if keep == self._loaded:
            return
        body = json.dumps(
            {"format": FORMAT, "task_definitions": {a: list(i) for a, i in keep.items()}},
            separators=(",", ":"),
        ).encode()
        self.s3_calls += 1
        try:
            self._s3.put_object(
                Bucket=self.bucket, Key=self.key, Body=body, ContentType="application/json"
            )
        except (ClientError, BotoCoreError) as error:
            logger.warning(
                "task definition cache not written; the next run describes these revisions again",
                extra={"key": self.key, "error": str(error)},
            )
            return
        self._loaded = keep


def parse_cache(body: bytes | str) -> dict[str, tuple[str, ...]]:
    """The entries of a cache object; {} (with a warning) for anything unexpected."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        data = None
    entries = data.get("task_definitions") if isinstance(data, dict) else None
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or not isinstance(entries, dict)
        or not all(
            isinstance(arn, str)
            and isinstance(images, list)
            and all(isinstance(i, str) for i in images)
            for arn, images in entries.items()
        )
    ):
        logger.warning("task definition cache malformed, describing every revision")
        return {}
    return {arn: tuple(images) for arn, images in entries.items()}
