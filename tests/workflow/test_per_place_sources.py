"""Sources per place: a member region without App Runner is read without it (botocore's
region data says so, not an error), turning a source off in one place leaves it on in
the others, and every report lists what the config turned off."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import ACCOUNT, REGION, deleted, digest, image, inventory, remaining, uri

MEMBER = "210987654321"
ROLE = f"arn:aws:iam::{MEMBER}:role/ecr-sweeper-scanner"
# botocore's region data lists no App Runner endpoint in ca-central-1 (nor does AWS).
WITHOUT_APP_RUNNER = "ca-central-1"

SECTIONS = """
clusters: [{name_pattern: "*"}]
task_definitions: [{name_pattern: "*", keep_count: 1}]
lambda_functions: [{name_pattern: "*", keep_count: 1}]
repositories: [{name: app, expires: 30d, keep_tag_patterns: []}]
"""


def _config(accounts: str, sources: str = "") -> str:
    return SECTIONS + sources + f"accounts:\n  - role_arn: {ROLE}\n{accounts}"


def _member(region: str, *runners: str) -> dict[str, Any]:
    return {
        "account_id": MEMBER,
        "region": region,
        "app_runner": {
            "services": [{"name": label, "image": uri("app", f":{label}")} for label in runners]
        },
    }


def _account(*members: dict[str, Any], labels: tuple[str, ...] = ()) -> dict[str, Any]:
    return inventory(
        {"app": [image(label, tags=[label]) for label in ("home-runner", *labels, "unused")]},
        app_runner={"services": [{"name": "web", "image": uri("app", ":home-runner")}]},
        accounts=list(members),
    )


def test_a_member_region_without_app_runner_is_read_and_the_home_service_keeps_its_image(
    run_workflow, mode
):
    # Before: App Runner was called in ca-central-1, the call could not connect and the
    # run failed; the documented way out (sources: {app_runner: false}) also stopped
    # reading App Runner at home, and the image of the home service was deleted.
    data = _account(_member(WITHOUT_APP_RUNNER))
    result = run_workflow(
        data, config=_config(f"    regions: [{WITHOUT_APP_RUNNER}]\n"), from_build=mode
    )

    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("home-runner")}
    assert deleted(result, "app") == {digest("unused")}
    # Decided from botocore's region data: App Runner is not even called there.
    assert result["api_calls"]["apprunner:ListServices"] == 1
    place = f"{MEMBER}/{WITHOUT_APP_RUNNER}"
    sources = result["report"]["sources"]
    assert sources[f"apprunner@{place}"]["status"] == "not available here"
    assert sources["apprunner"]["found"] == 1
    assert sources[f"ecs@{place}"].get("status") is None  # the rest of the place is read
    assert f"apprunner@{place}: not available here" in result["report_md"]
    assert result["report"]["sources_off"] == []


def test_app_runner_turned_off_in_one_member_region_stays_on_everywhere_else(run_workflow):
    data = _account(
        _member("us-east-1", "member-runner"),
        _member("eu-west-1"),
        labels=("member-runner",),
    )
    config = _config("    regions: [us-east-1, {name: eu-west-1, sources: {app_runner: false}}]\n")
    result = run_workflow(data, config=config, parameters={"NotifyOnSuccess": "true"})

    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("home-runner"), digest("member-runner")}
    assert result["api_calls"]["apprunner:ListServices"] == 2  # home and us-east-1
    off = f"app_runner@{MEMBER}/eu-west-1 (config)"
    assert result["report"]["sources_off"] == [off]
    assert f"sources off: {off}" in result["report_md"]
    assert f"Sources off: {off}" in result["notifications"][-1]["message"]


def test_app_runner_turned_off_at_home_is_not_turned_off_in_the_member_accounts(run_workflow):
    data = _account(_member("us-east-1", "member-runner"), labels=("member-runner",))
    config = _config("    regions: [us-east-1]\n", sources="sources: {app_runner: false}\n")
    result = run_workflow(data, config=config)

    assert result["status"] == "SUCCEEDED", result
    # Off at home, as written: the home service's image is not seen, and goes.
    assert deleted(result, "app") == {digest("home-runner"), digest("unused")}
    # Not written for the member account: its App Runner is read, its image stays.
    assert remaining(result, "app") == {digest("member-runner")}
    assert result["report"]["sources_off"] == [f"app_runner@{ACCOUNT}/{REGION} (config)"]


def test_an_account_wide_switch_applies_to_each_of_its_regions_unless_a_region_says_otherwise(
    run_workflow,
):
    data = _account(
        _member("us-east-1", "east-runner"),
        _member("eu-west-1", "west-runner"),
        labels=("east-runner", "west-runner"),
    )
    config = _config(
        "    sources: {app_runner: false}\n"
        "    regions: [us-east-1, {name: eu-west-1, sources: {app_runner: true}}]\n"
    )
    result = run_workflow(data, config=config)

    assert result["status"] == "SUCCEEDED", result
    assert remaining(result, "app") == {digest("home-runner"), digest("west-runner")}
    assert deleted(result, "app") == {digest("east-runner"), digest("unused")}
    assert result["report"]["sources_off"] == [f"app_runner@{MEMBER}/us-east-1 (config)"]


@pytest.mark.parametrize("error", ["EndpointConnectionError", "ReadTimeoutError"])
def test_a_network_error_where_botocore_lists_the_service_fails_the_run(run_workflow, error):
    # App Runner is offered in us-east-1: a call there that cannot connect, or times out,
    # is a failure, never "not available here".
    data = _account(_member("us-east-1", "member-runner"), labels=("member-runner",))
    data["faults"] = [{"operation": "apprunner:ListServices", "error": error}]
    # Off at home, so that only the member's App Runner is called.
    config = _config("    regions: [us-east-1]\n", sources="sources: {app_runner: false}\n")
    result = run_workflow(data, config=config)

    assert result["status"] == "FAILED", result
    assert result["error"] == "TransientAwsError", result
    assert f"{MEMBER}/us-east-1 (role {ROLE}): apprunner@{MEMBER}/us-east-1:" in result["cause"]
    assert all(not r["deleted"] for r in result["repositories"].values())
    assert result["notifications"]
