"""The EKS adapter without a cluster: the token, what a pod or a workload uses, and
DescribeCluster's odd cases (a scripted fake). The HTTPS side is tested against the
emulator's API servers (tests/workflow/test_eks.py)."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError

from ecr_sweeper.adapters import eks
from ecr_sweeper.adapters.kubernetes_api import bearer_token
from ecr_sweeper.core.config import EksClusterMatcher
from ecr_sweeper.errors import AwsRequestError, SourceReadError

REGISTRY = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com"
DIGEST = "sha256:" + "a" * 64


def _sts() -> Any:
    return boto3.Session(
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        region_name="ap-northeast-1",
    ).client("sts")


def _decoded(token: str) -> tuple[str, dict[str, str]]:
    encoded = token.removeprefix("k8s-aws-v1.")
    url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    return url, {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_the_token_is_a_presigned_get_caller_identity_bound_to_the_cluster() -> None:
    token = bearer_token(_sts(), "prod")
    assert token.startswith("k8s-aws-v1.") and "=" not in token
    url, query = _decoded(token)
    assert urlsplit(url).hostname == "sts.ap-northeast-1.amazonaws.com"
    assert query["Action"] == "GetCallerIdentity" and query["Version"] == "2011-06-15"
    assert query["X-Amz-Expires"] == "60"
    assert query["X-Amz-SignedHeaders"].split(";") == ["host", "x-k8s-aws-id"]
    assert query["X-Amz-Credential"].startswith("AKIDEXAMPLE/")


def test_tokens_for_two_clusters_differ_and_the_client_still_calls_normally() -> None:
    sts = _sts()
    first, second = bearer_token(sts, "prod"), bearer_token(sts, "staging")
    assert _decoded(first)[1]["X-Amz-Signature"] != _decoded(second)[1]["X-Amz-Signature"]
    # The handlers are registered once, and sign the header only into a token.
    plain = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60)
    assert parse_qs(urlsplit(plain).query)["X-Amz-SignedHeaders"] == ["host"]


def test_a_pod_uses_every_container_and_what_its_node_pulled() -> None:
    pod = {
        "spec": {
            "containers": [{"image": f"{REGISTRY}/web:v1"}],
            "initContainers": [{"image": f"{REGISTRY}/migrate:v2"}],
            "ephemeralContainers": [{"image": "busybox"}],
        },
        "status": {
            "containerStatuses": [
                {
                    "image": f"{REGISTRY}/web:v1",
                    "imageID": f"docker-pullable://{REGISTRY}/web@{DIGEST}",
                }
            ],
            "initContainerStatuses": [{"image": "", "imageID": DIGEST}],  # local ID: no repo
        },
    }
    assert list(eks.workload_images("pod", pod)) == [
        f"{REGISTRY}/web:v1",
        f"{REGISTRY}/migrate:v2",
        "busybox",
        f"{REGISTRY}/web:v1",
        f"{REGISTRY}/web@{DIGEST}",
    ]


@pytest.mark.parametrize(
    ("kind", "item"),
    [
        (
            "deployment",
            {"spec": {"replicas": 0, "template": {"spec": {"containers": [{"image": "a"}]}}}},
        ),
        (
            "cronjob",
            {
                "spec": {
                    "jobTemplate": {
                        "spec": {"template": {"spec": {"containers": [{"image": "a"}]}}}
                    }
                }
            },
        ),
        ("replicaset", {"spec": {"template": {"spec": {"initContainers": [{"image": "a"}]}}}}),
    ],
    ids=["deployment", "cronjob", "replicaset-init"],
)
def test_a_workload_uses_its_pod_templates_images(kind: str, item: dict) -> None:
    assert list(eks.workload_images(kind, item)) == ["a"]


def test_a_malformed_object_names_nothing_rather_than_crashing() -> None:
    assert list(eks.workload_images("deployment", {"spec": {"template": "x"}})) == []
    assert list(eks.workload_images("pod", {"spec": {"containers": ["x", {"image": 3}]}})) == []


class _Eks:
    """A scripted EKS client: DescribeCluster answers or raises what it is given."""

    def __init__(self, answer: dict | Exception, names: list[str] | None = None) -> None:
        self.answer, self.names = answer, names or []

    def describe_cluster(self, name: str) -> dict:
        if isinstance(self.answer, Exception):
            raise self.answer
        return {"cluster": self.answer}

    def get_paginator(self, operation: str) -> Any:
        assert operation == "list_clusters"
        names = self.names

        class _Paginator:
            def paginate(self, **_: Any) -> list[dict]:
                return [{"clusters": names[:1]}, {"clusters": names[1:]}]

        return _Paginator()


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, "DescribeCluster")


def test_a_cluster_gone_since_listing_or_still_being_created_runs_nothing() -> None:
    assert eks.describe_cluster(_Eks(_error("ResourceNotFoundException")), "a", "w") is None
    assert eks.describe_cluster(_Eks({"status": "CREATING"}), "a", "w") is None


def test_a_cluster_that_cannot_be_described_fails_the_scan() -> None:
    with pytest.raises(AwsRequestError, match="eks:DescribeCluster a: AccessDeniedException"):
        eks.describe_cluster(_Eks(_error("AccessDeniedException")), "a", "w")


@pytest.mark.parametrize(
    "cluster",
    [
        {"status": "FAILED"},
        {"status": "ACTIVE", "endpoint": "https://x", "certificateAuthority": {"data": "%%"}},
        {"status": "ACTIVE", "endpoint": "http://x", "certificateAuthority": {"data": "QQ=="}},
    ],
    ids=["no-endpoint", "ca-not-base64", "not-https"],
)
def test_a_cluster_without_a_usable_endpoint_fails_the_scan(cluster: dict) -> None:
    with pytest.raises(SourceReadError, match="eks@place/a"):
        eks.describe_cluster(_Eks(cluster), "a", "eks@place/a")


def test_only_the_selected_clusters_are_read() -> None:
    client = _Eks({}, names=["prod-a", "staging", "prod-b"])
    selected = eks.selected_clusters(client, [EksClusterMatcher(name_pattern="prod-*")])
    assert selected == ["prod-a", "prod-b"]
