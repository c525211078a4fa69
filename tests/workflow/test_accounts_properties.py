"""Property: wherever an image is used (here, or in any account and region the config
lists) it survives a delete run, unless the config turns that use's source off in that
place; a reference to another registry keeps nothing here; and every image that nothing
uses is deleted (all images are expired, keep_count 0).

Uses are task definitions (read everywhere) and the switchable sources (App Runner
services, CodeBuild projects, SageMaker models, EMR Serverless applications, AgentCore
runtimes, Lightsail container services), each turned on or off per place (`sources` at
the top level for the sweeper's own place, `accounts[].sources` and a region's
`sources` for the others). One member region has no App Runner, CodeBuild or Lightsail
in botocore's region data: it is read without them."""

import json
from pathlib import Path

from conftest import ACCOUNT, REGION, REGISTRY, digest, image, inventory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import inventory_from_dict

FIRST, SECOND = "210987654321", "345678901234"
# ca-west-1: no App Runner, CodeBuild or Lightsail there (botocore's region data), so
# no use of theirs.
MEMBERS = [(FIRST, "eu-west-1"), (FIRST, "us-east-1"), (FIRST, "ca-west-1"), (SECOND, None)]
# The switchable sources: the figure name of each, and where its service is missing.
FIGURE = {
    "app_runner": "apprunner",
    "codebuild": "codebuild",
    "sagemaker": "sagemaker",
    "emr_serverless": "emr_serverless",
    "agentcore": "agentcore",
    "lightsail": "lightsail",
}
SWITCHABLE = list(FIGURE)
WITHOUT = {
    source: {(FIRST, "ca-west-1")} if source in ("app_runner", "codebuild", "lightsail") else set()
    for source in SWITCHABLE
}
HOME = "home"
PLACES = [HOME, *range(len(MEMBERS))]
COUNT = 6
# How a place refers to an image: this registry (by tag or digest), or the same
# repository in another region's registry (which keeps nothing here).
FORMS = ["tag", "digest", "other-region"]
VIA = ["task_definition", *SWITCHABLE]
# A switch written in config: None (not written), true or false.
SWITCH = st.sampled_from([None, True, False])


def reference(position: int, form: str) -> str:
    if form == "tag":
        return f"{REGISTRY}/app:t{position}"
    if form == "digest":
        return f"{REGISTRY}/app@{digest(f'p{position}')}"
    return f"{REGISTRY.replace('ap-northeast-1', 'eu-central-1')}/app:t{position}"


uses = st.lists(
    st.tuples(
        st.integers(0, COUNT - 1),
        st.sampled_from(PLACES),
        st.sampled_from(FORMS),
        st.sampled_from(VIA),
    ),
    max_size=6,
)
# Where the switches are written: the top level (home), the first account, its
# eu-west-1 entry, the second account; each there a switch per source.
_WRITTEN = st.fixed_dictionaries({source: SWITCH for source in SWITCHABLE})
switches = st.fixed_dictionaries(
    {"home": _WRITTEN, "first": _WRITTEN, "eu-west-1": _WRITTEN, "second": _WRITTEN}
)


def _place(place: object) -> tuple[str, str]:
    if place == HOME:
        return ACCOUNT, REGION
    account_id, region = MEMBERS[place]
    return account_id, region or REGION


def source_on(place: object, written: dict, source: str) -> bool:
    """What the config means for `source` in `place`: a switch not written is on, and
    the top-level one is the sweeper's own place's only."""
    if place == HOME:
        return written["home"][source] is not False
    account_id, region = MEMBERS[place]
    if account_id == SECOND:
        return written["second"][source] is not False
    if region == "eu-west-1" and written["eu-west-1"][source] is not None:
        return bool(written["eu-west-1"][source])
    return written["first"][source] is not False


def _sources(values: dict) -> str:
    """The `sources` mapping of the switches written, or "" if none is."""
    pairs = [f"{k}: {'true' if v else 'false'}" for k, v in values.items() if v is not None]
    return f"{{{', '.join(pairs)}}}" if pairs else ""


def _config(written: dict) -> str:
    first_regions = ", ".join(
        f"{{name: {region}, sources: {_sources(written['eu-west-1'])}}}"
        if region == "eu-west-1" and _sources(written["eu-west-1"])
        else str(region)
        for account_id, region in MEMBERS
        if account_id == FIRST
    )
    first = f"  - role_arn: arn:aws:iam::{FIRST}:role/ecr-sweeper-scanner\n"
    if _sources(written["first"]):
        first += f"    sources: {_sources(written['first'])}\n"
    first += f"    regions: [{first_regions}]\n"
    second = f"  - role_arn: arn:aws:iam::{SECOND}:role/ecr-sweeper-scanner\n"
    if _sources(written["second"]):
        second += f"    sources: {_sources(written['second'])}\n"
    home = f"sources: {_sources(written['home'])}\n" if _sources(written["home"]) else ""
    return (
        "safety: {allow_nothing_in_use: true, max_delete_ratio: 1.0}\n"
        "clusters: [{name: none}]\nlambda_functions: [{name: none}]\n"
        "task_definitions: [{name: uses, keep_count: 1}]\n"
        "repositories: [{name: app, expires: 30d, keep_count: 0, keep_tag_patterns: []}]\n"
        f"{home}accounts:\n{first}{second}"
    )


def possible(use: tuple[int, object, str, str]) -> bool:
    """A service cannot run where it is not offered."""
    _, place, _, via = use
    return via == "task_definition" or place == HOME or MEMBERS[place] not in WITHOUT[via]


def _section(source: str, images: list[str]) -> dict:
    """The inventory section of `source` with one resource per image."""
    if source == "app_runner":
        return {"services": [{"name": f"s{i}", "image": u} for i, u in enumerate(images)]}
    if source == "codebuild":
        return {"projects": [{"name": f"p{i}", "image": u} for i, u in enumerate(images)]}
    if source == "sagemaker":
        return {"models": [{"name": f"m{i}", "images": [u]} for i, u in enumerate(images)]}
    if source == "emr_serverless":
        return {"applications": [{"name": f"a{i}", "image": u} for i, u in enumerate(images)]}
    if source == "agentcore":
        return {"runtimes": [{"name": f"r{i}", "versions": [u]} for i, u in enumerate(images)]}
    return {
        "container_services": [{"name": f"c{i}", "current": {"c": u}} for i, u in enumerate(images)]
    }


def account(
    tmp_path: Path, used: list[tuple[int, object, str, str]], written: dict
) -> tuple[Path, dict]:
    images: dict[tuple[object, str], list[str]] = {
        (place, via): [] for place in PLACES for via in VIA
    }
    for position, place, form, via in used:
        images[(place, via)].append(reference(position, form))

    def sections(place: object) -> dict:
        return {
            "ecs": {
                "task_definitions": [
                    {"family": "uses", "revision": 1, "images": images[(place, "task_definition")]}
                ]
            },
            **{source: _section(source, images[(place, source)]) for source in SWITCHABLE},
        }

    members = [
        {"account_id": account_id, "region": region or REGION, **sections(index)}
        for index, (account_id, region) in enumerate(MEMBERS)
    ]
    config = tmp_path / "ecrm.yaml"
    config.write_text(_config(written))
    data = inventory(
        {"app": [image(f"p{i}", tags=[f"t{i}"]) for i in range(COUNT)]},
        **sections(HOME),
        accounts=members,
    )
    return config, data


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(used=uses.map(lambda u: [use for use in u if possible(use)]), written=switches)
def test_an_image_used_in_any_place_survives_unless_its_source_is_off_there(
    tmp_path: Path, used, written
) -> None:
    config, data = account(tmp_path, used, written)
    with Emulator(inventory_from_dict(data), config_file=config) as emulator:
        result = emulator.run('{"dry_run": false}')
        name = result["execution_arn"].rsplit(":", 1)[-1]
        report = json.loads(emulator.read_run_file(name, "report.json"))
    assert result["status"] == "SUCCEEDED", result
    in_use = {
        digest(f"p{position}")
        for position, place, form, via in used
        if form != "other-region" and (via == "task_definition" or source_on(place, written, via))
    }
    gone = set(result["repositories"]["app"]["deleted"])
    left = set(result["repositories"]["app"]["remaining"])
    assert left == in_use
    assert gone == {digest(f"p{i}") for i in range(COUNT)} - in_use
    # Every place was read: one AssumeRole per (role, region).
    assert result["api_calls"]["sts:AssumeRole"] == len(MEMBERS)
    # Every place where the config turns a source off is listed; the region without a
    # service is "not available here" for it (unless turned off there anyway).
    off = [
        "{}@{}/{} (config)".format(source, *_place(place))
        for place in PLACES
        for source in SWITCHABLE
        if not source_on(place, written, source)
    ]
    assert report["sources_off"] == off
    for source in SWITCHABLE:
        for place in PLACES:
            if place == HOME or MEMBERS[place] not in WITHOUT[source]:
                continue
            figures = report["sources"].get("{}@{}/{}".format(FIGURE[source], *_place(place)))
            if source_on(place, written, source):
                assert figures == {"found": 0, "seconds": 0, "status": "not available here"}
            else:
                assert figures is None
