"""Amazon ECR: repositories, images, index children, deletion."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import TRANSIENT_CODES, classify
from ecr_sweeper.core.images import INDEX_MEDIA_TYPES, ImageRecord

DESCRIBE_PAGE_SIZE = 1000  # DescribeImages maximum
DELETE_BATCH_SIZE = 100  # BatchDeleteImage maximum
GET_BATCH_SIZE = 100  # BatchGetImage maximum


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def list_repository_names(ecr: Any) -> list[str]:
    try:
        names = [
            repo["repositoryName"]
            for page in ecr.get_paginator("describe_repositories").paginate(
                PaginationConfig={"PageSize": 1000}
            )
            for repo in page.get("repositories", [])
        ]
    except ClientError as error:
        raise classify(error, "ecr:DescribeRepositories") from error
    return sorted(names)


def describe_all_images(ecr: Any, repository: str) -> list[ImageRecord]:
    """Every image of the repository, ACTIVE or ARCHIVED, with index children filled in."""
    details: list[dict[str, Any]] = []
    try:
        for page in ecr.get_paginator("describe_images").paginate(
            repositoryName=repository,
            filter={"tagStatus": "ANY", "imageStatus": "ANY"},
            PaginationConfig={"PageSize": DESCRIBE_PAGE_SIZE},
        ):
            details.extend(page.get("imageDetails", []))
    except ClientError as error:
        raise classify(error, f"ecr:DescribeImages {repository}") from error
    # Every index, whatever its status: an archived index still lists its children, and
    # ECR refuses to delete a child an index lists.
    indexes = {
        d["imageDigest"]: d.get("imageStatus", "ACTIVE")
        for d in details
        if d.get("imageManifestMediaType") in INDEX_MEDIA_TYPES
    }
    children, unknown = index_children(ecr, repository, indexes) if indexes else ({}, {})
    return [
        _record(d, children.get(d["imageDigest"], ()), unknown.get(d["imageDigest"], ""))
        for d in details
    ]


def _record(
    detail: dict[str, Any], manifests: Iterable[str], children_unknown: str = ""
) -> ImageRecord:
    return ImageRecord(
        digest=detail["imageDigest"],
        tags=tuple(detail.get("imageTags", ())),
        pushed_at=detail["imagePushedAt"],
        last_pulled_at=detail.get("lastRecordedPullTime"),
        size_bytes=detail.get("imageSizeInBytes") or 0,
        media_type=detail.get("imageManifestMediaType"),
        artifact_media_type=detail.get("artifactMediaType"),
        manifests=tuple(manifests),
        children_unknown=children_unknown,
        subject=detail.get("subjectManifestDigest"),
        status=detail.get("imageStatus", "ACTIVE"),
        archived_at=detail.get("lastArchivedAt"),
    )


def index_children(
    ecr: Any, repository: str, indexes: Mapping[str, str]
) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """Children of each image index (digest -> imageStatus), read from the index
    manifests (BatchGetImage): (children by index, why the children of an index are
    unknown).

    Archived images cannot be pulled, and BatchGetImage is the pull's manifest read: for
    an index that is not ACTIVE, ECR may answer a failure instead of the manifest. Its
    children are then unknown, and the planner keeps whatever could be one of them. An
    ACTIVE index whose manifest cannot be read fails the repository.
    """
    children: dict[str, tuple[str, ...]] = {}
    unknown: dict[str, str] = {}
    for batch in chunks(list(indexes), GET_BATCH_SIZE):
        try:
            response = ecr.batch_get_image(
                repositoryName=repository,
                imageIds=[{"imageDigest": d} for d in batch],
                acceptedMediaTypes=sorted(INDEX_MEDIA_TYPES),
            )
        except ClientError as error:
            raise classify(error, f"ecr:BatchGetImage {repository}") from error
        for image in response.get("images", []):
            try:
                manifest = json.loads(image.get("imageManifest") or "{}")
            except json.JSONDecodeError:
                manifest = {}
            children[image["imageId"]["imageDigest"]] = tuple(
                m["digest"] for m in manifest.get("manifests", []) if "digest" in m
            )
        failures = {
            f.get("imageId", {}).get("imageDigest"): f for f in response.get("failures", [])
        }
        for digest in batch:
            if digest in children:
                continue
            failure = failures.get(digest) or {
                "failureCode": "Missing",
                "failureReason": "BatchGetImage returned neither the manifest nor a failure",
            }
            code = failure.get("failureCode", "Unknown")
            reason = failure.get("failureReason", "")
            if indexes[digest] != "ACTIVE":
                unknown[digest] = (
                    f"status {indexes[digest]}: ECR gives no manifest ({code}: {reason})"
                )
                continue
            # Without the children we cannot protect them: refuse to guess.
            raise classify(
                ClientError(
                    {"Error": {"Code": code, "Message": reason}},
                    "BatchGetImage",
                ),
                f"ecr:BatchGetImage {repository} {digest}",
            )
    return children, unknown


PROTECT_TAG_KEY = "ecr-sweeper:protect"


def repository_arn(account_id: str, region: str, repository: str) -> str:
    partition = (
        "aws-cn"
        if region.startswith("cn-")
        else ("aws-us-gov" if region.startswith("us-gov-") else "aws")
    )
    return f"arn:{partition}:ecr:{region}:{account_id}:repository/{repository}"


def repository_protection(ecr: Any, arn: str) -> str:
    """Why the repository is protected by its resource tag (ecr-sweeper:protect=true), or ""."""
    try:
        tags = ecr.list_tags_for_resource(resourceArn=arn).get("tags", [])
    except ClientError as error:
        raise classify(error, f"ecr:ListTagsForResource {arn}") from error
    return protection_reason(tags)


def protection_reason(tags: Sequence[dict[str, Any]]) -> str:
    """Why these tags (ECR's and the Tagging API's shape: Key, Value) protect their
    repository, or "": the protect tag with the value true, in any case."""
    for tag in tags:
        if tag.get("Key") == PROTECT_TAG_KEY and str(tag.get("Value", "")).lower() == "true":
            return f"repository tag {PROTECT_TAG_KEY}=true"
    return ""


def describe_by_digest(
    ecr: Any, repository: str, digests: Sequence[str]
) -> dict[str, ImageRecord | None]:
    """The current state of each image (None: gone), 100 digests per DescribeImages call.

    DescribeImages fails a whole call with ImageNotFoundException when one digest is
    gone, so such a batch is split in halves until the missing ones are isolated.
    """
    found: dict[str, ImageRecord | None] = {}

    def describe(batch: Sequence[str]) -> None:
        try:
            response = ecr.describe_images(
                repositoryName=repository, imageIds=[{"imageDigest": d} for d in batch]
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code != "ImageNotFoundException":
                raise classify(error, f"ecr:DescribeImages {repository}") from error
            if len(batch) == 1:
                found[batch[0]] = None
                return
            middle = len(batch) // 2
            describe(batch[:middle])
            describe(batch[middle:])
            return
        for detail in response.get("imageDetails", []):
            found[detail["imageDigest"]] = _record(detail, ())
        for digest in batch:
            found.setdefault(digest, None)

    for batch in chunks(list(digests), DELETE_BATCH_SIZE):
        describe(batch)
    return found


@dataclass
class DeleteOutcome:
    deleted: list[str] = field(default_factory=list)
    already_gone: list[str] = field(default_factory=list)
    # (digest, failure code, reason) for every failure other than ImageNotFound
    failures: list[tuple[str, str, str]] = field(default_factory=list)


def archive_images(
    ecr: Any, repository: str, digests: Sequence[str], concurrency: int = 8
) -> DeleteOutcome:
    """Move images to the ECR archive storage class. UpdateImageStorageClass takes one
    image per call: the calls run `concurrency` at a time, botocore backing off on
    throttling. `deleted` holds the archived digests."""
    outcome = DeleteOutcome()

    def archive(digest: str) -> tuple[str, str | None, str]:
        try:
            ecr.update_image_storage_class(
                repositoryName=repository,
                imageId={"imageDigest": digest},
                targetStorageClass="ARCHIVE",
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Unknown")
            if code == "ImageNotFoundException":
                return digest, "ImageNotFound", ""
            if code in TRANSIENT_CODES:
                raise classify(error, f"ecr:UpdateImageStorageClass {repository}") from error
            return digest, code, error.response.get("Error", {}).get("Message", "")
        return digest, None, ""

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for digest, code, reason in pool.map(archive, digests):
            if code is None:
                outcome.deleted.append(digest)
            elif code == "ImageNotFound":
                outcome.already_gone.append(digest)
            else:
                outcome.failures.append((digest, code, reason))
    return outcome


def delete_images(
    ecr: Any,
    repository: str,
    digests: Sequence[str],
    on_progress: Callable[[list[str]], None] | None = None,
    before_sending: Callable[[list[str]], None] | None = None,
) -> DeleteOutcome:
    """BatchDeleteImage in chunks of 100, reading every failures[] entry.

    `digests` must be ordered parents first (referrers, then indexes, then images):
    ECR refuses to delete a child still listed by an index (ImageReferencedByManifestList).
    Those are retried once after every other chunk, when their parents are gone.
    `before_sending` sees each chunk before it is sent (to journal it), `on_progress`
    the digests ECR confirmed deleted.
    """
    outcome = DeleteOutcome()
    retry_later: list[str] = []
    for attempt, pending in enumerate((list(digests), retry_later)):
        for batch in chunks(list(pending), DELETE_BATCH_SIZE):
            if before_sending is not None:
                before_sending(list(batch))
            try:
                response = ecr.batch_delete_image(
                    repositoryName=repository, imageIds=[{"imageDigest": d} for d in batch]
                )
            except ClientError as error:
                raise classify(error, f"ecr:BatchDeleteImage {repository}") from error
            confirmed = list(
                dict.fromkeys(
                    i["imageDigest"] for i in response.get("imageIds", []) if "imageDigest" in i
                )
            )
            outcome.deleted.extend(confirmed)
            if on_progress is not None and confirmed:
                on_progress(confirmed)
            for failure in response.get("failures", []):
                digest = failure.get("imageId", {}).get("imageDigest", "?")
                code = failure.get("failureCode", "Unknown")
                if code == "ImageNotFound":
                    outcome.already_gone.append(digest)
                elif code == "ImageReferencedByManifestList" and attempt == 0:
                    retry_later.append(digest)
                else:
                    outcome.failures.append((digest, code, failure.get("failureReason", "")))
    return outcome
