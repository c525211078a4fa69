"""Amazon EMR Serverless as a source of "in use": applications with a custom image.

Kept: the application's `imageConfiguration.imageUri` and each worker type's
(`workerTypeSpecifications.<type>.imageConfiguration.imageUri`), with the digest EMR
resolved when it shows one, for every application in any state but TERMINATED (a
stopped application starts again on its image).

Calls: ListApplications with every state but TERMINATED (50 a page, its maximum), then
GetApplication per application (EMR Serverless has no batch describe), concurrently (at
most DESCRIBE_CONCURRENCY at a time). An application deleted between the two calls
(ResourceNotFoundException) uses nothing. Every other API error goes through `classify`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import classify, concurrently, paged
from ecr_sweeper.core.in_use import InUseBuilder, PlaceBuilder

SOURCE = "emr_serverless"
PAGE_SIZE = 50  # ListApplications' maximum
LIVE_STATES = ("CREATING", "CREATED", "STARTING", "STARTED", "STOPPING", "STOPPED")
GONE = "ResourceNotFoundException"


def _get(emr: Any, application_id: str) -> dict[str, Any] | None:
    try:
        return dict(emr.get_application(applicationId=application_id)["application"])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == GONE:
            return None  # deleted since it was listed
        raise classify(error, f"emr-serverless:GetApplication {application_id}") from error


def _with_digest(configuration: dict[str, Any]) -> str | None:
    uri = configuration.get("imageUri")
    digest = configuration.get("resolvedImageDigest")
    if uri and digest and "@" not in uri:
        return f"{uri}@{digest}"  # the tag and the digest it resolved to
    return uri or None


def application_images(application: dict[str, Any]) -> Iterator[str]:
    configurations = [application.get("imageConfiguration") or {}]
    for worker in (application.get("workerTypeSpecifications") or {}).values():
        configurations.append((worker or {}).get("imageConfiguration") or {})
    for configuration in configurations:
        image = _with_digest(configuration)
        if image:
            yield image


def collect_emr_serverless_usage(
    emr: Any, builder: InUseBuilder | PlaceBuilder, source: str = SOURCE
) -> None:
    listed = paged(emr, "list_applications", "applications", PAGE_SIZE, states=list(LIVE_STATES))
    ids = sorted({a["id"] for a in listed if a.get("state") != "TERMINATED"})
    for application_id, application in zip(
        ids, concurrently(lambda i: _get(emr, i), ids), strict=True
    ):
        if application is None or application.get("state") == "TERMINATED":
            continue
        name = application.get("name") or application_id
        for image in application_images(application):
            builder.add(image, f"emr-serverless:application/{name}", source)
