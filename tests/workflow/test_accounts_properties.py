"""Property: wherever an image is used (here, or in any account and region the config
lists) it survives a delete run; a reference to another registry keeps nothing here;
and every image that nothing uses is deleted (all images are expired, keep_count 0)."""

from pathlib import Path

from conftest import REGISTRY, digest, image, inventory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import inventory_from_dict

MEMBERS = [("210987654321", "eu-west-1"), ("210987654321", "us-east-1"), ("345678901234", None)]
HOME = "home"
PLACES = [HOME, *range(len(MEMBERS))]
COUNT = 6
# How a place refers to an image: this registry (by tag or digest), or the same
# repository in another region's registry (which keeps nothing here).
FORMS = ["tag", "digest", "other-region"]


def reference(position: int, form: str) -> str:
    if form == "tag":
        return f"{REGISTRY}/app:t{position}"
    if form == "digest":
        return f"{REGISTRY}/app@{digest(f'p{position}')}"
    return f"{REGISTRY.replace('ap-northeast-1', 'eu-central-1')}/app:t{position}"


uses = st.lists(
    st.tuples(st.integers(0, COUNT - 1), st.sampled_from(PLACES), st.sampled_from(FORMS)),
    max_size=6,
)


def account(tmp_path: Path, used: list[tuple[int, object, str]]) -> tuple[Path, dict]:
    by_place: dict[object, list[str]] = {place: [] for place in PLACES}
    for position, place, form in used:
        by_place[place].append(reference(position, form))

    def definitions(place: object) -> dict:
        return {"task_definitions": [{"family": "uses", "revision": 1, "images": by_place[place]}]}

    members = []
    regions: dict[str, list[str]] = {}
    for index, (account_id, region) in enumerate(MEMBERS):
        # None: the sweeper's own region (an entry without `regions`)
        members.append(
            {
                "account_id": account_id,
                "region": region or "ap-northeast-1",
                "ecs": definitions(index),
            }
        )
        if region:
            regions.setdefault(account_id, []).append(region)
    entries = "".join(
        f"  - role_arn: arn:aws:iam::{account_id}:role/ecr-sweeper-scanner\n"
        + (f"    regions: [{', '.join(regions[account_id])}]\n" if account_id in regions else "")
        for account_id in dict.fromkeys(a for a, _ in MEMBERS)
    )
    config = tmp_path / "ecrm.yaml"
    config.write_text(
        "safety: {allow_nothing_in_use: true, max_delete_ratio: 1.0}\n"
        "clusters: []\nlambda_functions: []\n"
        "task_definitions: [{name: uses, keep_count: 1}]\n"
        "repositories: [{name: app, expires: 30d, keep_count: 0, keep_tag_patterns: []}]\n"
        f"accounts:\n{entries}"
    )
    data = inventory(
        {"app": [image(f"p{i}", tags=[f"t{i}"]) for i in range(COUNT)]},
        ecs=definitions(HOME),
        accounts=members,
    )
    return config, data


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(used=uses)
def test_an_image_used_in_any_place_survives_and_the_rest_go(tmp_path: Path, used) -> None:
    config, data = account(tmp_path, used)
    with Emulator(inventory_from_dict(data), config_file=config) as emulator:
        result = emulator.run('{"dry_run": false}')
    assert result["status"] == "SUCCEEDED", result
    in_use = {digest(f"p{position}") for position, _, form in used if form != "other-region"}
    gone = set(result["repositories"]["app"]["deleted"])
    left = set(result["repositories"]["app"]["remaining"])
    assert left == in_use
    assert gone == {digest(f"p{i}") for i in range(COUNT)} - in_use
    # Every place was read: one AssumeRole per (role, region).
    assert result["api_calls"]["sts:AssumeRole"] == len(MEMBERS)
