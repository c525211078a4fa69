"""Property: an image used anywhere in a selected EKS cluster (a pod's container, init
container or the digest its node pulled; the pod template of any workload kind), here
or in a member account's cluster, in any reference form, survives a delete run; a use
in a cluster the config does not select, or of another region's registry, keeps
nothing; and every image nothing uses is deleted (all expired, keep_count 0)."""

from pathlib import Path

from conftest import REGISTRY, digest, image, inventory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import inventory_from_dict

MEMBER, MEMBER_REGION = "210987654321", "eu-west-1"
COUNT = 6
# Which cluster: the home one and the member's are selected, "staging" is not.
CLUSTERS = ["home", "member", "staging"]
WHERE = [
    "pod-container",
    "pod-init-container",
    "pod-image-id",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
]
FORMS = ["tag", "digest", "tag@digest", "implicit-latest", "other-region"]
# What a node reports as a container's imageID, around a digest reference.
IMAGE_ID_PREFIXES = ["docker-pullable://", ""]


def reference(position: int, form: str) -> str:
    if form == "tag":
        return f"{REGISTRY}/app:t{position}"
    if form == "digest":
        return f"{REGISTRY}/app@{digest(f'p{position}')}"
    if form == "tag@digest":
        return f"{REGISTRY}/app:t{position}@{digest(f'p{position}')}"
    if form == "implicit-latest":
        return f"{REGISTRY}/app"  # the image tagged latest: p0
    return f"{REGISTRY.replace('ap-northeast-1', 'eu-central-1')}/app:t{position}"


def kept_by(position: int, form: str) -> str | None:
    if form == "other-region":
        return None
    return digest("p0") if form == "implicit-latest" else digest(f"p{position}")


uses = st.lists(
    st.tuples(
        st.integers(0, COUNT - 1),
        st.sampled_from(CLUSTERS),
        st.sampled_from(WHERE),
        st.sampled_from(FORMS),
        st.sampled_from(IMAGE_ID_PREFIXES),
    ),
    max_size=8,
)

CONFIG = f"""
safety: {{allow_nothing_in_use: true, max_delete_ratio: 1.0}}
clusters: []
task_definitions: []
lambda_functions: []
eks: [{{name: prod}}]
accounts:
  - role_arn: arn:aws:iam::{MEMBER}:role/ecr-sweeper-scanner
    regions: [{MEMBER_REGION}]
    eks: [{{name_pattern: "prod-*"}}]
repositories: [{{name: app, expires: 30d, keep_count: 0, keep_tag_patterns: []}}]
"""


def _objects(used: list[tuple[int, str, str, str, str]], cluster: str) -> dict:
    pods, workloads = [], []
    for index, (position, where_cluster, where, form, prefix) in enumerate(used):
        if where_cluster != cluster:
            continue
        ref = reference(position, form)
        name = f"u{index}"
        if where == "pod-container":
            pods.append({"name": name, "containers": [ref]})
        elif where == "pod-init-container":
            pods.append({"name": name, "containers": ["busybox"], "init_containers": [ref]})
        elif where == "pod-image-id":
            # The spec names a tag that moved since; the node reports what it pulled.
            pods.append(
                {"name": name, "containers": [f"{REGISTRY}/app:moved"], "image_ids": [prefix + ref]}
            )
        else:
            workloads.append({"kind": where, "name": name, "containers": [ref], "replicas": 0})
    return {"pods": pods, "workloads": workloads}


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(used=uses)
def test_an_image_used_in_a_selected_cluster_survives_and_the_rest_go(tmp_path: Path, used) -> None:
    config = tmp_path / "ecrm.yaml"
    config.write_text(CONFIG)
    images = [image("p0", tags=["t0", "latest"])]
    images += [image(f"p{i}", tags=[f"t{i}"]) for i in range(1, COUNT)]
    images.append(image("moved-to", tags=["moved"]))  # what the moved tag names now
    data = inventory(
        {"app": images},
        eks={
            "clusters": [
                {"name": "prod", **_objects(used, "home")},
                {"name": "staging", **_objects(used, "staging")},
            ]
        },
        accounts=[
            {
                "account_id": MEMBER,
                "region": MEMBER_REGION,
                "eks": {"clusters": [{"name": "prod-eu", **_objects(used, "member")}]},
            }
        ],
    )
    with Emulator(inventory_from_dict(data), config_file=config) as emulator:
        result = emulator.run('{"dry_run": false}')
    assert result["status"] == "SUCCEEDED", result
    in_use = {
        kept_by(position, form)
        for position, cluster, _, form, _ in used
        if cluster != "staging" and kept_by(position, form) is not None
    }
    if any(cluster != "staging" and where == "pod-image-id" for _, cluster, where, _, _ in used):
        in_use.add(digest("moved-to"))  # the pod's spec names the tag `moved`
    every = {digest(f"p{i}") for i in range(COUNT)} | {digest("moved-to")}
    assert set(result["repositories"]["app"]["remaining"]) == in_use
    assert set(result["repositories"]["app"]["deleted"]) == every - in_use
