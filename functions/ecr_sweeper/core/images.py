"""What ECR tells us about one image, as plain data."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

# Manifest media types of an image index / manifest list: its children are other images.
INDEX_MEDIA_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)
# Config (artifact) media types that make an ordinary container image.
IMAGE_CONFIG_MEDIA_TYPES = frozenset(
    {
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.docker.container.image.v1+json",
    }
)
SOCI_INDEX_MEDIA_TYPES = frozenset(
    {
        "application/vnd.amazon.soci.index.v1+json",
        "application/vnd.amazon.soci.index.v2+json",
    }
)


class ImageKind(StrEnum):
    """The TYPE column of the report (as ecrm shows it)."""

    IMAGE = "Image"
    INDEX = "Image index"
    REFERRER = "Referrer"
    SOCI_INDEX = "Soci index"
    ARTIFACT = "Artifact"


class ImageRecord(BaseModel):
    """One image of a repository, as DescribeImages (plus BatchGetImage for indexes) reports it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    digest: str
    tags: tuple[str, ...] = ()
    pushed_at: datetime
    last_pulled_at: datetime | None = None
    size_bytes: int = 0
    media_type: str | None = None
    artifact_media_type: str | None = None
    # Digests of the children, for an image index / manifest list.
    manifests: tuple[str, ...] = ()
    # Why the children of this index are unknown (ECR gives no manifest for an archived
    # image), or "": the planner then keeps whatever could be one of them.
    children_unknown: str = ""
    # Subject digest, for an OCI referrer (signature, SBOM, attestation, SOCI index).
    subject: str | None = None
    status: str = "ACTIVE"
    # When the image moved to the archive storage class (lastArchivedAt).
    archived_at: datetime | None = None

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_MEDIA_TYPES

    @property
    def kind(self) -> ImageKind:
        if self.artifact_media_type in SOCI_INDEX_MEDIA_TYPES:
            return ImageKind.SOCI_INDEX
        if self.subject:
            return ImageKind.REFERRER
        if self.is_index:
            return ImageKind.INDEX
        if self.artifact_media_type is None or self.artifact_media_type in IMAGE_CONFIG_MEDIA_TYPES:
            return ImageKind.IMAGE
        return ImageKind.ARTIFACT


class RepositoryImages(BaseModel):
    """The collector's output: every image of one repository."""

    model_config = ConfigDict(extra="forbid")

    repository: str
    images: list[ImageRecord] = Field(default_factory=list)
