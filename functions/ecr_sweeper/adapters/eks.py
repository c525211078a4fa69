"""Amazon EKS as a source of "in use": what runs, and what may start, in the clusters
the config's `eks` selects, read from each cluster's Kubernetes API (docs/eks.md).

Calls, per place: ListClusters (100 a page, its maximum; boto3's paginator). Per
selected cluster: DescribeCluster (endpoint and certificate authority), then GET
requests to its API server (kubernetes_api.py), each list PAGE_ITEMS objects a page:
pods, then the pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets,
Jobs and CronJobs (`WORKLOADS`). So a cluster costs 1 DescribeCluster and, for n_k
objects of kind k, the sum over the seven kinds of max(1, ceil(n_k / PAGE_ITEMS)) GETs.

What counts as in use:
- a pod's every container, init container and ephemeral container `image`, and the
  `image` and `imageID` of each of its container statuses (the digest the node
  actually pulled: it survives a tag moved since);
- every container image of every workload's pod template: a Deployment scaled to zero,
  a CronJob between runs, the old ReplicaSets a rollback returns to, a Job not started.
Only references to this registry count (InUseBuilder decides). An `imageID` behind a
runtime prefix (`docker-pullable://...@sha256:...`) is read without the prefix; one that
is only a local image ID (`sha256:...`, no repository) names no image.

A cluster that cannot be described (AccessDenied, ...) fails the scan through
`classify`; one gone between ListClusters and DescribeCluster runs nothing; one still
being created has no API to read and runs nothing yet. Every other state with no
endpoint, and every API error, fails the scan (kubernetes_api.py): nothing is deleted.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import classify
from ecr_sweeper.adapters.kubernetes_api import KubernetesApi, bearer_token
from ecr_sweeper.core.config import EksClusterMatcher
from ecr_sweeper.core.image_ref import is_local_image_id, strip_runtime_prefix
from ecr_sweeper.core.in_use import InUseBuilder
from ecr_sweeper.errors import SourceReadError

SOURCE = "eks"
LIST_PAGE_SIZE = 100  # ListClusters' maximum
GONE = "ResourceNotFoundException"

# (kind as users name it, list path, path from the object to its pod spec)
WORKLOADS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("pod", "/api/v1/pods", ("spec",)),
    ("deployment", "/apis/apps/v1/deployments", ("spec", "template", "spec")),
    ("statefulset", "/apis/apps/v1/statefulsets", ("spec", "template", "spec")),
    ("daemonset", "/apis/apps/v1/daemonsets", ("spec", "template", "spec")),
    ("replicaset", "/apis/apps/v1/replicasets", ("spec", "template", "spec")),
    ("job", "/apis/batch/v1/jobs", ("spec", "template", "spec")),
    ("cronjob", "/apis/batch/v1/cronjobs", ("spec", "jobTemplate", "spec", "template", "spec")),
)
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
STATUS_LISTS = ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses")


def source_name(place: str, cluster: str) -> str:
    """The source a cluster's references are counted under: eks@<account>/<region>/<name>."""
    return f"{SOURCE}@{place}/{cluster}"


def selected_clusters(eks: Any, matchers: Iterable[EksClusterMatcher]) -> list[str]:
    """The names of the place's clusters that an `eks` entry selects."""
    matchers = list(matchers)
    names: list[str] = []
    try:
        for page in eks.get_paginator("list_clusters").paginate(
            PaginationConfig={"PageSize": LIST_PAGE_SIZE}
        ):
            names.extend(page.get("clusters", []))
    except ClientError as error:
        raise classify(error, "eks:ListClusters") from error
    return sorted({n for n in names if any(m.matches(n) for m in matchers)})


@dataclass(frozen=True)
class ClusterAccess:
    name: str
    endpoint: str
    ca_pem: str


def describe_cluster(eks: Any, name: str, where: str) -> ClusterAccess | None:
    """The cluster's API endpoint and certificate authority; None if it runs nothing
    (deleted since ListClusters, or still being created)."""
    try:
        cluster = eks.describe_cluster(name=name)["cluster"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == GONE:
            return None
        raise classify(error, f"eks:DescribeCluster {name}") from error
    endpoint = cluster.get("endpoint") or ""
    authority = (cluster.get("certificateAuthority") or {}).get("data") or ""
    if cluster.get("status") == "CREATING" and not endpoint:
        return None
    if not endpoint.startswith("https://") or not authority:
        raise SourceReadError(
            f"{where}: DescribeCluster gives no API endpoint or certificate authority "
            f"(status {cluster.get('status')}): its workloads cannot be read"
        )
    try:
        ca_pem = base64.b64decode(authority, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise SourceReadError(
            f"{where}: DescribeCluster's certificate authority is not base64 PEM"
        ) from error
    return ClusterAccess(name=name, endpoint=endpoint, ca_pem=ca_pem)


def _dig(item: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    value: Any = item
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def _entries(spec: dict[str, Any], keys: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    for key in keys:
        for entry in spec.get(key) or ():
            if isinstance(entry, dict):
                yield entry


def pod_spec_images(spec: dict[str, Any]) -> Iterator[str]:
    """Every container image a pod spec (or a pod template's spec) names."""
    for container in _entries(spec, CONTAINER_LISTS):
        image = container.get("image")
        if isinstance(image, str) and image:
            yield image


def pod_status_images(status: dict[str, Any]) -> Iterator[str]:
    """What the node runs: each container status's `image` and `imageID`, the runtime
    prefix removed, local image IDs (no repository) left out."""
    for container in _entries(status, STATUS_LISTS):
        for key in ("image", "imageID"):
            value = container.get(key)
            if isinstance(value, str) and value:
                text = strip_runtime_prefix(value)
                if text and not is_local_image_id(text):
                    yield text


def workload_images(kind: str, item: dict[str, Any]) -> Iterator[str]:
    """The images one object of `kind` (one of WORKLOADS) uses or may start."""
    path = next(p for k, _, p in WORKLOADS if k == kind)
    yield from pod_spec_images(_dig(item, path))
    if kind == "pod":
        yield from pod_status_images(_dig(item, ("status",)))


def _user(cluster: str, kind: str, item: dict[str, Any]) -> str:
    metadata = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
    namespace = metadata.get("namespace") or "-"
    return f"eks:{cluster}/{namespace}/{kind}/{metadata.get('name') or '?'}"


def collect_cluster_usage(
    eks: Any,
    sts: Any,
    cluster: str,
    builder: InUseBuilder,
    *,
    source: str,
    user_prefix: str = "",
) -> int:
    """Every image the cluster uses or may start into `builder` under `source`; users
    are `<user_prefix>eks:<cluster>/<namespace>/<kind>/<name>`. Returns the number of
    GET requests sent."""
    access = describe_cluster(eks, cluster, source)
    if access is None:
        return 0
    api = KubernetesApi(
        cluster, access.endpoint, access.ca_pem, lambda: bearer_token(sts, cluster), source
    )
    try:
        for kind, path, _ in WORKLOADS:
            for item in api.list_items(path):
                user = user_prefix + _user(cluster, kind, item)
                for image in workload_images(kind, item):
                    builder.add(image, user, source)
    finally:
        api.close()
    return api.requests
