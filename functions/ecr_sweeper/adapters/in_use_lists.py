"""In-use lists: JSON arrays of image URIs in S3, for uses AWS cannot tell us about
(EKS, EC2, other clouds). The format `ecrm scan -o FILE` writes, so existing ecrm scan
files work. Every list must be readable, well formed and fresh, every entry must name an
image, and the list must name at least one image of this registry (unless its config
entry sets allow_empty), or the run fails.

Calls: s3:GetObject, once per list.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import TRANSIENT_CODES, classify
from ecr_sweeper.core.config import InUseList
from ecr_sweeper.core.image_ref import runtime_image_reference as image_reference
from ecr_sweeper.core.in_use import InUseBuilder
from ecr_sweeper.errors import SourceReadError

# At most this many bad entries are quoted in the error; the rest are counted.
MAX_QUOTED = 5


def source_name(entry: InUseList) -> str:
    """The source a list's references are counted under (one per list, in the report)."""
    return f"in-use list {entry.uri}"


def collect_in_use_list(s3: Any, entry: InUseList, builder: InUseBuilder, now: datetime) -> None:
    """Every image the list names into `builder`, or SourceReadError (nothing is deleted)."""
    entries = _read(s3, entry, now)
    references, bad = [], []
    for index, text in enumerate(entries):
        reference = image_reference(text)
        if reference is None:
            bad.append(f"[{index}] {text[:160]!r}")
        else:
            references.append(reference)
    if bad:
        quoted = ", ".join(bad[:MAX_QUOTED])
        more = f" and {len(bad) - MAX_QUOTED} more" if len(bad) > MAX_QUOTED else ""
        raise SourceReadError(
            f"in-use list {entry.uri}: {len(bad)} of its {len(entries)} entries name no "
            f"image: {quoted}{more}. Nothing is deleted while an entry may name an image in "
            "use: write image references (registry/repository:tag or @sha256:<64 lowercase "
            "hex digits>, a Kubernetes runtime prefix such as docker-pullable:// is fine)"
        )
    source = source_name(entry)  # also the user: the report names the list
    found = sum(builder.add(reference, source, source) for reference in references)
    if found == 0 and not entry.allow_empty:
        what = (
            "is empty"
            if not entries
            else f"names no image of this registry ({builder.account_id} {builder.region}) "
            f"in its {len(entries)} entries"
        )
        raise SourceReadError(
            f"in-use list {entry.uri} {what}: a job that lost access to its cluster writes "
            "such a list, so nothing is deleted. If the list may really name nothing here, "
            "set allow_empty: true on it"
        )


def _read(s3: Any, entry: InUseList, now: datetime) -> list[str]:
    """The list's entries: readable, fresh, a JSON array of strings, or SourceReadError."""
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
        raise SourceReadError(f"in-use list {entry.uri} must be a JSON array of image URI strings")
    return uris
