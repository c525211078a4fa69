"""ECR as the product sees it, on top of moto.

moto's ECR lacks what the sweeper depends on: set push times, lastRecordedPullTime,
artifactMediaType, subjectManifestDigest, imageStatus, image-index children as
separate images, DescribeImages paging and filters, BatchGetImage's failure for an
archived image, and ImageReferencedByManifestList.
`install()` adds them; `loaders/ecr.py` puts an inventory's images in place as
`EmulatedImage`s.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from moto.core.responses import ActionResult
from moto.ecr import models as ecr_models
from moto.ecr import responses as ecr_responses

INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}


class EmulatedImage(ecr_models.Image):
    """A moto image with every ImageDetail field the real API returns."""

    def __init__(self, account_id: str, repository: str, spec: Any) -> None:
        if spec.manifests:
            manifest = {
                "schemaVersion": 2,
                "mediaType": spec.media_type,
                "manifests": [
                    {
                        "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": d,
                        "size": 1000,
                    }
                    for d in spec.manifests
                ],
            }
        else:
            manifest = {
                "schemaVersion": 2,
                "mediaType": spec.media_type,
                "config": {
                    "mediaType": spec.artifact_media_type,
                    "size": spec.size_bytes,
                    "digest": spec.digest,
                },
                "layers": [],
            }
            if spec.subject:
                manifest["subject"] = {"digest": spec.subject}
        super().__init__(
            account_id,
            spec.tags[-1] if spec.tags else None,
            json.dumps(manifest),
            repository,
            image_manifest_mediatype=spec.media_type,
            digest=spec.digest,
        )
        self.image_tags = list(spec.tags)
        self.image_pushed_at = spec.pushed_at
        self.last_recorded_pull_time = spec.last_pulled_at
        self.artifact_media_type = spec.artifact_media_type
        self.subject_manifest_digest = spec.subject
        self.image_status = spec.status
        self.last_archived_at = spec.archived_at
        self.children = list(spec.manifests)
        self._size = spec.size_bytes

    def get_image_size_in_bytes(self) -> int | None:
        return self._size


def remaining_digests(account_id: str, region: str, repository: str) -> list[str]:
    backend = ecr_models.ecr_backends[account_id][region]
    repo = backend.repositories.get(repository)
    return [] if repo is None else [image.image_digest for image in repo.images]


def _status(image: Any) -> str:
    return getattr(image, "image_status", None) or "ACTIVE"


def _describe_images(self: ecr_responses.ECRResponse) -> ActionResult:
    """DescribeImages with maxResults/nextToken paging and the tagStatus/imageStatus filters."""
    repository = self._get_param("repositoryName")
    image_ids = self._get_param("imageIds")
    images = list(
        self.ecr_backend.describe_images(repository, self._get_param("registryId"), image_ids)
    )
    token = None
    if not image_ids:
        wanted = self._get_param("filter") or {}
        tag_status = wanted.get("tagStatus", "ANY")
        # Like the real API: only ACTIVE images unless imageStatus says otherwise.
        image_status = wanted.get("imageStatus", "ACTIVE")
        images = [
            i
            for i in images
            if (tag_status == "ANY" or (tag_status == "TAGGED") == bool(i.image_tags))
            and (image_status == "ANY" or _status(i) == image_status)
        ]
        page = int(self._get_param("maxResults") or 100)
        start = int(self._get_param("nextToken") or 0)
        if start + page < len(images):
            token = str(start + page)
        images = images[start : start + page]
    details = []
    for image in images:
        dto = copy.copy(image)
        if not dto.image_tags:
            del dto.image_tags
        details.append(dto)
    result: dict[str, Any] = {"imageDetails": details}
    if token:
        result["nextToken"] = token
    return ActionResult(result)


_original_batch_get = ecr_models.ECRBackend.batch_get_image


def _batch_get_image(
    self: ecr_models.ECRBackend,
    repository_name: str,
    registry_id: str | None = None,
    image_ids: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """BatchGetImage, as ECR answers it for archived images: an image that is not ACTIVE
    cannot be pulled (AWS: "requests to pull the archived image will fail with a 404"),
    and BatchGetImage is the pull's manifest read, so its manifest comes back as a
    failure. AWS does not document the failure code; ImageNotFound, what a pull of a
    missing manifest gets, is assumed (the sweeper does not depend on the code). Every
    failure names the image asked for (moto names a tag "null" for a missing digest)."""
    repo = self.repositories.get(repository_name)
    if repo is None or not image_ids:
        return _original_batch_get(self, repository_name, registry_id, image_ids)
    response: dict[str, Any] = {"images": [], "failures": []}
    for image_id in image_ids:
        found = [
            image
            for image in repo.images
            if image.image_digest == image_id.get("imageDigest")
            or image_id.get("imageTag") in image.image_tags
        ]
        if not found:
            response["failures"].append(
                {
                    "imageId": image_id,
                    "failureCode": "ImageNotFound",
                    "failureReason": "Requested image not found",
                }
            )
        for image in found:
            if _status(image) == "ACTIVE":
                response["images"].append(image)
            else:
                response["failures"].append(
                    {
                        "imageId": image_id,
                        "failureCode": "ImageNotFound",
                        "failureReason": f"Requested image is {_status(image)}: it cannot be "
                        "pulled until it is restored",
                    }
                )
    return response


_original_batch_delete = ecr_models.ECRBackend.batch_delete_image

# (repository, digest) in the order ECR deleted them: lets tests check parents go first.
DELETION_LOG: list[tuple[str, str]] = []
# digest -> failure code that BatchDeleteImage answers for it (inventory `delete_failures`).
DELETE_FAILURES: dict[str, str] = {}


def _batch_delete_image(
    self: ecr_models.ECRBackend,
    repository_name: str,
    registry_id: str | None = None,
    image_ids: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Refuse, as ECR does, to delete a child that a remaining index still lists."""
    repo = self.repositories.get(repository_name)
    refused: list[dict[str, Any]] = []
    allowed: list[dict[str, str]] = []
    if repo is not None and image_ids:
        leaving = {i.get("imageDigest") for i in image_ids}
        listed_by_staying_index = {
            child
            for image in repo.images
            if image.image_digest not in leaving
            for child in getattr(image, "children", [])
        }
        for image_id in image_ids:
            if image_id.get("imageDigest") in DELETE_FAILURES:
                refused.append(
                    {
                        "imageId": {"imageDigest": image_id["imageDigest"]},
                        "failureCode": DELETE_FAILURES[image_id["imageDigest"]],
                        "failureReason": "injected by the emulator",
                    }
                )
            elif image_id.get("imageDigest") in listed_by_staying_index:
                refused.append(
                    {
                        "imageId": {"imageDigest": image_id["imageDigest"]},
                        "failureCode": "ImageReferencedByManifestList",
                        "failureReason": "Requested image is referenced by an image index",
                    }
                )
            else:
                allowed.append(image_id)
    else:
        allowed = image_ids or []
    before = {i.image_digest: list(i.image_tags) for i in repo.images} if repo else {}
    response = (
        _original_batch_delete(self, repository_name, registry_id, allowed)
        if allowed
        else {"imageIds": [], "failures": []}
    )
    # moto lists deleted images by tag only, so untagged ones vanish from the answer;
    # ECR lists every deleted image, by digest (and tag).
    after = {i.image_digest for i in repo.images} if repo else set()
    DELETION_LOG.extend(
        (repository_name, i["imageDigest"])
        for i in allowed
        if i.get("imageDigest") in before and i.get("imageDigest") not in after
    )
    response["imageIds"] = [
        {"imageDigest": digest, **({"imageTag": tags[0]} if tags else {})}
        for digest, tags in before.items()
        if digest not in after
    ]
    response["failures"] = refused + response["failures"]
    return response


# The time the emulated account lives at (the inventory's `now`): archive times use it.
CLOCK: dict[str, Any] = {"now": None}


def _update_image_storage_class(self: ecr_responses.ECRResponse) -> ActionResult:
    """UpdateImageStorageClass (one image per call): ARCHIVE or STANDARD."""
    repository = self._get_param("repositoryName")
    image_id = self._get_param("imageId") or {}
    target = self._get_param("targetStorageClass")
    image = self.ecr_backend.repositories[repository]._get_image(
        image_id.get("imageTag"), image_id.get("imageDigest")
    )
    if target == "ARCHIVE":
        image.image_status = "ARCHIVED"
        image.last_archived_at = CLOCK["now"]
    else:
        image.image_status = "ACTIVE"
        image.last_activated_at = CLOCK["now"]
    return ActionResult(
        {
            "registryId": self.ecr_backend.account_id,
            "repositoryName": repository,
            "imageId": {"imageDigest": image.image_digest},
            "imageStatus": image.image_status,
        }
    )


def statuses(account_id: str, region: str, repository: str) -> dict[str, str]:
    backend = ecr_models.ecr_backends[account_id][region]
    repo = backend.repositories.get(repository)
    return {} if repo is None else {i.image_digest: _status(i) for i in repo.images}


def apply_change(account_id: str, region: str, change: Any) -> None:
    """Something that happens to an image or a repository while a run goes on (see
    the inventory's `changes`)."""
    backend = ecr_models.ecr_backends[account_id][region]
    repo = backend.repositories[change.repository]
    if change.repository_tags:
        backend.tagger.tag_resource(
            repo.arn, [{"Key": k, "Value": v} for k, v in change.repository_tags.items()]
        )
    if change.digest is None:
        return
    image = repo._get_image(None, change.digest)
    if change.pulled_at is not None:
        image.last_recorded_pull_time = change.pulled_at
    if change.pushed_at is not None:
        image.image_pushed_at = change.pushed_at
    for tag in change.add_tags:
        image.update_tag(tag)
    if change.status is not None:
        image.image_status = change.status
        if change.status != "ARCHIVED":
            image.last_activated_at = CLOCK["now"]


def install() -> None:
    ecr_responses.ECRResponse.update_image_storage_class = _update_image_storage_class
    ecr_responses.ECRResponse.describe_images = _describe_images
    ecr_models.ECRBackend.batch_delete_image = _batch_delete_image
    ecr_models.ECRBackend.batch_get_image = _batch_get_image
