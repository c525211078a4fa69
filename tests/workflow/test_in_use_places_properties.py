"""Property: an image used anywhere a workload runs it or may start it survives a delete
run, in whatever form the place names it, in this account or in a member account read
through its scanner role (config `accounts`); a use in a place the config does not
select, or of another registry, keeps nothing; and every image nothing uses is deleted
(all are expired, keep_count 0): what is left is exactly what is used.

Each example places images at random among all the places at once:
- ECS, cluster `prod` (selected; `dev` is not): a service's current revision, the source
  or the target revision of a deployment under way (the digest ECS pinned, while the
  image field may name a tag moved since), a running task (the digest it runs), and the
  newest task definition of the selected family `uses` (family `other` is not selected);
- EKS, the home cluster `prod` and the member's `prod-eu` (selected; the home `staging`
  and the member's `prod`, which only the top-level `eks` names, are not): a pod's
  container, init container or ephemeral container, a container status of a pod (the
  `imageID` its node pulled, behind a runtime prefix, or a local image ID that names no
  image), and the pod template of each workload kind, scaled to zero."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import (
    MEMBER,
    MEMBER_REGION,
    MEMBER_REGISTRY,
    OTHER_REGION_REGISTRY,
    REGISTRY,
    digest,
    image,
    inventory,
    member,
    scanner_role,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import inventory_from_dict

COUNT = 10  # images p0..p9, tagged t0..t9
LATEST, MOVED = digest("latest"), digest("moved")  # the images tagged `latest` and `moved`
EVERY_IMAGE = {digest(f"p{i}") for i in range(COUNT)} | {LATEST, MOVED}

ECS_PLACES = ["current-revision", "deployment-source", "deployment-target", "task"]
WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"]
POD_PLACES = [
    "pod-container",
    "pod-init-container",
    "pod-ephemeral-container",
    "pod-status",
    "pod-init-status",
]
PLACES = [*ECS_PLACES, "task-definition", *POD_PLACES, *WORKLOAD_KINDS]
# Places that know the digest they run or pinned, whatever their image field names.
OWN_DIGEST = {*ECS_PLACES, "pod-status", "pod-init-status"}

# How the place's image field names image p<i>. `moved-tag` names a tag that has moved
# to another image since (a place with a digest of its own still runs p<i>).
FORMS = [
    "tag",
    "digest",
    "tag@digest",
    "implicit-latest",
    "moved-tag",
    "other-region",
    "other-account",
]
# The image a form names when it is not p<i> itself.
NAMES_ANOTHER = {"implicit-latest": LATEST, "moved-tag": MOVED}
ELSEWHERE = {"other-region": OTHER_REGION_REGISTRY, "other-account": MEMBER_REGISTRY}
# What a node reports as a container's imageID: the pulled digest behind a runtime's
# prefix, or (docker, an image built on the node) a local image ID naming no repository.
LOCAL_IMAGE_ID = "docker://{digest}"
IMAGE_IDS = [
    "docker-pullable://{host}/app@{digest}",
    "containerd://{host}/app@{digest}",
    "{host}/app@{digest}",
    LOCAL_IMAGE_ID,
]

ACCOUNTS = ["home", "member"]
EKS_CLUSTERS = {  # account: (selected, not selected)
    "home": ("prod", "staging"),
    "member": ("prod-eu", "prod"),
}
CONFIG = f"""
safety: {{allow_nothing_in_use: true, max_delete_ratio: 1.0}}
clusters: [{{name: prod}}]
task_definitions: [{{name: uses, keep_count: 1}}]
lambda_functions: [{{name: none}}]
eks: [{{name: prod}}]
repositories: [{{name: app, expires: 30d, keep_count: 0, keep_tag_patterns: []}}]
accounts:
  - role_arn: {scanner_role(MEMBER)}
    regions: [{MEMBER_REGION}]
    eks: [{{name_pattern: "prod-*"}}]
"""


@dataclass(frozen=True)
class Use:
    position: int  # image p<position>
    account: str
    place: str
    form: str
    selected: bool  # False: in a cluster or task definition family the config leaves out
    image_id: str  # one of IMAGE_IDS (pod statuses only)

    @property
    def host(self) -> str:
        return ELSEWHERE.get(self.form, REGISTRY)

    def field(self) -> str:
        """The image field: the task definition's, the container's, the template's."""
        pinned = digest(f"p{self.position}")
        return {
            "tag": f"{REGISTRY}/app:t{self.position}",
            "digest": f"{REGISTRY}/app@{pinned}",
            "tag@digest": f"{REGISTRY}/app:t{self.position}@{pinned}",
            "implicit-latest": f"{REGISTRY}/app",
            "moved-tag": f"{REGISTRY}/app:moved",
        }.get(self.form, f"{self.host}/app:t{self.position}")

    def image_id_field(self) -> str:
        return self.image_id.format(host=self.host, digest=digest(f"p{self.position}"))

    def keeps(self) -> set[str]:
        """The images of this registry the use keeps: the one its field names and, in a
        place that knows it, the digest it runs (unless its node reports only a local
        image ID)."""
        if not self.selected or self.form in ELSEWHERE:
            return set()
        itself = digest(f"p{self.position}")
        kept = {NAMES_ANOTHER.get(self.form, itself)}
        local_id = self.place.endswith("-status") and self.image_id == LOCAL_IMAGE_ID
        if self.place in OWN_DIGEST and not local_id:
            kept.add(itself)
        return kept


uses = st.lists(
    st.builds(
        Use,
        position=st.integers(0, COUNT - 1),
        account=st.sampled_from(ACCOUNTS),
        place=st.sampled_from(PLACES),
        form=st.sampled_from(FORMS),
        selected=st.sampled_from([True, True, True, False]),  # one use in four a decoy
        image_id=st.sampled_from(IMAGE_IDS),
    ),
    min_size=4,
    max_size=14,
)


def ecs_section(used: list[tuple[int, Use]]) -> dict[str, Any]:
    """One account's ECS: each use its own revision, deployment, task or image."""
    clusters: dict[str, dict[str, Any]] = {}
    families: dict[str, list[str]] = {"uses": [], "other": []}
    for name in ("prod", "dev"):
        service = {"name": "web", "deployments": [{"task_definition": "svc:1"}]}
        service |= {"revisions": [], "service_deployments": []}
        clusters[name] = {"name": name, "services": [service], "tasks": []}
    for index, use in used:
        if use.place == "task-definition":
            families["uses" if use.selected else "other"].append(use.field())
            continue
        cluster = clusters["prod" if use.selected else "dev"]
        service = cluster["services"][0]
        container = {"image": use.field(), "image_digest": digest(f"p{use.position}")}
        if use.place == "task":
            cluster["tasks"].append({"task_definition": "svc:1", "containers": [container]})
            continue
        revision = f"u{index}"
        current = use.place == "current-revision"
        service["revisions"].append({"id": revision, "current": current, "containers": [container]})
        if use.place == "deployment-source":
            service["service_deployments"].append(
                {"id": f"d{index}", "status": "IN_PROGRESS", "source_revisions": [revision]}
            )
        elif use.place == "deployment-target":
            service["service_deployments"].append(
                {"id": f"d{index}", "status": "PENDING", "target_revision": revision}
            )
    definitions = [
        {"family": family, "revision": 1, "images": images} for family, images in families.items()
    ]
    return {
        "clusters": list(clusters.values()),
        "task_definitions": [*definitions, {"family": "svc", "revision": 1}],
    }


def _pod(name: str, use: Use) -> dict[str, Any]:
    field, other = [use.field()], ["busybox"]
    return {
        "pod-container": {"containers": field},
        "pod-init-container": {"containers": other, "init_containers": field},
        "pod-ephemeral-container": {"containers": other, "ephemeral_containers": field},
        "pod-status": {"containers": field, "image_ids": [use.image_id_field()]},
        "pod-init-status": {
            "containers": other,
            "init_containers": field,
            "init_image_ids": [use.image_id_field()],
        },
    }[use.place] | {"name": name}


def eks_section(account: str, used: list[tuple[int, Use]]) -> dict[str, Any]:
    """One account's EKS clusters, the selected one and the one left out."""
    selected, left_out = EKS_CLUSTERS[account]
    clusters = {name: {"name": name, "pods": [], "workloads": []} for name in (selected, left_out)}
    for index, use in used:
        cluster = clusters[selected if use.selected else left_out]
        if use.place in POD_PLACES:
            cluster["pods"].append(_pod(f"u{index}", use))
        elif use.place in WORKLOAD_KINDS:
            cluster["workloads"].append(
                {"kind": use.place, "name": f"u{index}", "containers": [use.field()], "replicas": 0}
            )
    return {"clusters": list(clusters.values())}


def sections(account: str, used: list[Use]) -> dict[str, Any]:
    here = [(index, use) for index, use in enumerate(used) if use.account == account]
    return {"ecs": ecs_section(here), "eks": eks_section(account, here)}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(used=uses)
def test_an_image_used_in_any_place_in_any_form_survives_and_the_rest_go(
    tmp_path: Path, used: list[Use]
) -> None:
    images = [image(f"p{i}", tags=[f"t{i}"]) for i in range(COUNT)]
    images += [image("latest", tags=["latest"]), image("moved", tags=["moved"])]
    data = inventory(
        {"app": images}, **sections("home", used), accounts=[member(**sections("member", used))]
    )
    config = tmp_path / "ecrm.yaml"
    config.write_text(CONFIG)
    with Emulator(inventory_from_dict(data), config_file=config) as emulator:
        result = emulator.run('{"dry_run": false}')
    assert result["status"] == "SUCCEEDED", result
    in_use = set().union(*(use.keeps() for use in used))
    remaining = set(result["repositories"]["app"]["remaining"])
    # Which uses should have kept what went: an example too slow to shrink stays readable.
    lost = {gone: [use for use in used if gone in use.keeps()] for gone in in_use - remaining}
    assert not lost, f"deleted, though used by: {lost}"
    assert remaining == in_use, f"kept, though nothing uses them: {remaining - in_use}"
    assert set(result["repositories"]["app"]["deleted"]) == EVERY_IMAGE - in_use
