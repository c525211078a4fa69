"""Entries of an in-use list: the image references they name, Kubernetes prefixes removed."""

import pytest

from ecr_sweeper.adapters.in_use_lists import image_reference

REGISTRY = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com"
DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("entry", "reference"),
    [
        (f"{REGISTRY}/app:v1", f"{REGISTRY}/app:v1"),
        (f" {REGISTRY}/app:v1\n", f"{REGISTRY}/app:v1"),
        (f"docker://{REGISTRY}/app:v1", f"{REGISTRY}/app:v1"),
        (f"docker-pullable://{REGISTRY}/app@{DIGEST}", f"{REGISTRY}/app@{DIGEST}"),
        (f"containerd://{REGISTRY}/app@{DIGEST}", f"{REGISTRY}/app@{DIGEST}"),
        (f"cri-o://{REGISTRY}/app:v1@{DIGEST}", f"{REGISTRY}/app:v1@{DIGEST}"),
        ("nginx", "nginx"),  # another registry: a reference, ignored later
    ],
)
def test_an_entry_names_its_reference(entry: str, reference: str) -> None:
    assert image_reference(entry) == reference


@pytest.mark.parametrize(
    "entry",
    [
        f"{REGISTRY}/app@{DIGEST.upper().replace('SHA256', 'sha256')}",  # uppercase hex
        f"{REGISTRY}/app@sha256:abc",  # too short
        f"docker://{DIGEST}",  # an image ID: no repository
        DIGEST,
        f"podman://{REGISTRY}/app:v1",  # a prefix no runtime writes
        f"docker://docker://{REGISTRY}/app:v1",  # one prefix only
        "app v1",
        "",
        "   ",
    ],
)
def test_an_entry_that_names_no_image(entry: str) -> None:
    assert image_reference(entry) is None
