"""Collect reads the children of every index, whatever its status; an archived index
whose manifest ECR does not give has unknown children, an ACTIVE one fails the repository."""

import json
from datetime import UTC, datetime

import pytest

from ecr_sweeper.adapters.ecr import describe_all_images
from ecr_sweeper.errors import AwsRequestError

INDEX = "application/vnd.oci.image.index.v1+json"
A, B, C, D = ("sha256:" + c * 64 for c in "abcd")
PUSHED = datetime(2026, 1, 1, tzinfo=UTC)


class FakeEcr:
    """DescribeImages from a list; BatchGetImage gives the manifest of each index in
    `manifests`, and a failure (ImageNotFound) for any other."""

    def __init__(self, details: list[dict], manifests: dict[str, list[str]]) -> None:
        self.details, self.manifests = details, manifests
        self.asked: list[str] = []

    def get_paginator(self, name: str):
        details = self.details

        class Pages:
            def paginate(self, **kwargs):
                assert kwargs["filter"]["imageStatus"] == "ANY"
                return [{"imageDetails": details}]

        return Pages()

    def batch_get_image(self, repositoryName: str, imageIds: list[dict], **kwargs) -> dict:
        response: dict = {"images": [], "failures": []}
        for image_id in imageIds:
            digest = image_id["imageDigest"]
            self.asked.append(digest)
            if digest in self.manifests:
                manifest = {"manifests": [{"digest": d} for d in self.manifests[digest]]}
                response["images"].append(
                    {"imageId": {"imageDigest": digest}, "imageManifest": json.dumps(manifest)}
                )
            else:
                response["failures"].append(
                    {
                        "imageId": {"imageDigest": digest},
                        "failureCode": "ImageNotFound",
                        "failureReason": "Requested image not found",
                    }
                )
        return response


def _index(digest: str, status: str) -> dict:
    return {
        "imageDigest": digest,
        "imagePushedAt": PUSHED,
        "imageManifestMediaType": INDEX,
        "imageStatus": status,
    }


def _image(digest: str) -> dict:
    return {"imageDigest": digest, "imagePushedAt": PUSHED}


def test_the_children_of_an_archived_index_are_read_when_ecr_gives_its_manifest():
    ecr = FakeEcr([_index(A, "ARCHIVED"), _image(B)], {A: [B]})
    records = {r.digest: r for r in describe_all_images(ecr, "app")}
    assert ecr.asked == [A]
    assert records[A].manifests == (B,) and records[A].children_unknown == ""


@pytest.mark.parametrize("status", ["ARCHIVED", "ACTIVATING"])
def test_an_index_not_active_whose_manifest_ecr_does_not_give_has_unknown_children(status):
    ecr = FakeEcr([_index(A, status), _index(C, "ACTIVE"), _image(B), _image(D)], {C: [D]})
    records = {r.digest: r for r in describe_all_images(ecr, "app")}
    assert records[A].manifests == ()
    assert records[A].children_unknown.startswith(f"status {status}: ECR gives no manifest")
    assert "ImageNotFound" in records[A].children_unknown
    assert records[C].manifests == (D,) and records[C].children_unknown == ""


def test_an_active_index_whose_manifest_cannot_be_read_fails_the_repository():
    ecr = FakeEcr([_index(A, "ACTIVE"), _image(B)], {})
    with pytest.raises(AwsRequestError, match="ImageNotFound"):
        describe_all_images(ecr, "app")


def test_an_index_missing_from_the_answer_is_not_taken_as_childless():
    class Silent(FakeEcr):
        def batch_get_image(self, repositoryName: str, imageIds: list[dict], **kwargs) -> dict:
            return {"images": [], "failures": []}

    with pytest.raises(AwsRequestError, match="neither the manifest nor a failure"):
        describe_all_images(Silent([_index(A, "ACTIVE")], {}), "app")
    [record] = describe_all_images(Silent([_index(A, "ARCHIVED")], {}), "app")
    assert record.children_unknown
