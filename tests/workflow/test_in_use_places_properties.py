"""Property: an image used anywhere a workload can run it survives a delete run, in
whatever form the place refers to it, and every image nothing uses is deleted (all are
expired, keep_count 0). A reference to another region's registry keeps nothing here.

Places: ECS service revisions (a service's current revision, a deployment's source or
target revision: the digest ECS pinned, the image field naming a tag that has moved
since), task definitions (the newest revision of a selected family), running tasks (the
digest the task runs). Each in this account or in a member account read through the
scanner role (config `accounts`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import REGISTRY, digest, image, inventory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import inventory_from_dict

MEMBER, MEMBER_REGION = "210987654321", "eu-west-1"
ACCOUNTS = ["home", "member"]
COUNT = 6  # images p0..p5, tagged t0..t5
WHERE = ["current_revision", "deployment_source", "deployment_target", "task_definition", "task"]
# How the image field names the image. A revision's and a task's own digest is always
# the image's (what ECS resolved); their image field may name a tag since moved away.
FORMS = ["tag", "digest", "tag@digest", "moved-tag", "other-region"]
OTHER_REGISTRY = REGISTRY.replace("ap-northeast-1", "eu-central-1")

CONFIG = f"""
safety: {{allow_nothing_in_use: true, max_delete_ratio: 1.0}}
clusters: [{{name: prod}}]
task_definitions: [{{name: uses, keep_count: 1}}]
lambda_functions: [{{name: none}}]
repositories: [{{name: app, expires: 30d, keep_count: 0, keep_tag_patterns: []}}]
accounts:
  - {{role_arn: "arn:aws:iam::{MEMBER}:role/ecr-sweeper-scanner", regions: [{MEMBER_REGION}]}}
"""

Use = tuple[int, str, str, str]  # image position, account, where, form


def image_field(position: int, form: str) -> str:
    pinned = digest(f"p{position}")
    return {
        "tag": f"{REGISTRY}/app:t{position}",
        "digest": f"{REGISTRY}/app@{pinned}",
        "tag@digest": f"{REGISTRY}/app:t{position}@{pinned}",
        "moved-tag": f"{REGISTRY}/app:moved",  # names no image any more
        "other-region": f"{OTHER_REGISTRY}/app:t{position}",
    }[form]


def keeps(use: Use) -> bool:
    """Whether the use keeps its image: a task definition has no digest of its own, so
    a moved tag there keeps nothing; another registry's reference keeps nothing here."""
    _, _, where, form = use
    if form == "other-region":
        return False
    return not (where == "task_definition" and form == "moved-tag")


def workloads(used: list[tuple[int, Use]]) -> dict[str, Any]:
    """The ECS section of one account holding `used` (index, use)."""
    revisions: list[dict[str, Any]] = []
    deployments: list[dict[str, Any]] = []
    definitions: list[str] = []
    tasks: list[dict[str, Any]] = []
    for index, (position, _, where, form) in used:
        container = {
            "image": image_field(position, form),
            "image_digest": digest(f"p{position}"),
        }
        if where == "task_definition":
            definitions.append(image_field(position, form))
        elif where == "task":
            tasks.append({"task_definition": "svc:1", "containers": [container]})
        else:
            revision = f"u{index}"
            current = where == "current_revision"
            revisions.append({"id": revision, "current": current, "containers": [container]})
            if where == "deployment_source":
                deployments.append(
                    {"id": f"d{index}", "status": "IN_PROGRESS", "source_revisions": [revision]}
                )
            elif where == "deployment_target":
                deployments.append(
                    {"id": f"d{index}", "status": "PENDING", "target_revision": revision}
                )
    service = {
        "name": "web",
        "deployments": [{"task_definition": "svc:1"}],
        "revisions": revisions,
        "service_deployments": deployments,
    }
    return {
        "clusters": [{"name": "prod", "services": [service], "tasks": tasks}],
        "task_definitions": [
            {"family": "uses", "revision": 1, "images": definitions},
            {"family": "svc", "revision": 1},
        ],
    }


uses = st.lists(
    st.tuples(
        st.integers(0, COUNT - 1),
        st.sampled_from(ACCOUNTS),
        st.sampled_from(WHERE),
        st.sampled_from(FORMS),
    ),
    max_size=7,
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(used=uses)
def test_an_image_used_in_any_place_in_any_form_survives_and_the_rest_go(
    tmp_path: Path, used: list[Use]
) -> None:
    indexed = list(enumerate(used))
    data = inventory(
        {"app": [image(f"p{i}", tags=[f"t{i}"]) for i in range(COUNT)]},
        ecs=workloads([(i, u) for i, u in indexed if u[1] == "home"]),
        accounts=[
            {
                "account_id": MEMBER,
                "region": MEMBER_REGION,
                "ecs": workloads([(i, u) for i, u in indexed if u[1] == "member"]),
            }
        ],
    )
    config = tmp_path / "ecrm.yaml"
    config.write_text(CONFIG)
    with Emulator(inventory_from_dict(data), config_file=config) as emulator:
        result = emulator.run('{"dry_run": false}')
    assert result["status"] == "SUCCEEDED", result
    in_use = {digest(f"p{position}") for position, *_ in filter(keeps, used)}
    assert set(result["repositories"]["app"]["remaining"]) == in_use
    assert (
        set(result["repositories"]["app"]["deleted"])
        == {digest(f"p{i}") for i in range(COUNT)} - in_use
    )
