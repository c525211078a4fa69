"""`sources` per place: the top level is the sweeper's own account and region's;
`accounts[].sources` is an account's (all its regions), and a region written
`{name, sources}` has its own over the account's. A switch not written for a place is
on: turning a source off at home never turns it off elsewhere."""

from __future__ import annotations

import textwrap

import pytest

from ecr_sweeper.core.config import Config, ScanRegion, load_config
from ecr_sweeper.errors import ConfigError

HOME_ACCOUNT, HOME_REGION = "123456789012", "ap-northeast-1"
MEMBER = "arn:aws:iam::210987654321:role/ecr-sweeper-scanner"
OTHER = "arn:aws:iam::345678901234:role/ecr-sweeper-scanner"
MINIMAL = "repositories: [{name: app, expires: 30days}]\n"


def cfg(text: str) -> Config:
    return load_config(MINIMAL + textwrap.dedent(text))


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(MINIMAL + textwrap.dedent(text))
    message = str(info.value)
    assert "validation error" not in message  # never a raw pydantic dump
    return message


def switches(config: Config) -> dict[str, tuple[bool, bool, bool, int]]:
    """Per place: (scheduled_tasks, batch, app_runner, batch_keep_count)."""
    return {
        target.place: (
            target.sources.scheduled_tasks,
            target.sources.batch,
            target.sources.app_runner,
            target.sources.batch_keep_count,
        )
        for target in config.scan_targets(HOME_ACCOUNT, HOME_REGION)
    }


PER_PLACE = f"""
sources: {{app_runner: false, batch_keep_count: 9}}
accounts:
  - role_arn: {MEMBER}
    sources: {{batch: false}}
    regions:
      - us-east-1
      - {{name: eu-west-1, sources: {{batch: true, app_runner: false, batch_keep_count: 2}}}}
  - role_arn: {OTHER}
"""


def test_each_place_reads_what_its_own_sources_say() -> None:
    assert switches(cfg(PER_PLACE)) == {
        # the top level: the sweeper's own place
        f"{HOME_ACCOUNT}/{HOME_REGION}": (True, True, False, 9),
        # the account's switch; App Runner, off at home only, is on
        "210987654321/us-east-1": (True, False, True, 9),
        # the region's over the account's
        "210987654321/eu-west-1": (True, True, False, 2),
        # nothing written: every source on (no regions: the sweeper's own region)
        f"345678901234/{HOME_REGION}": (True, True, True, 9),
    }


def test_the_config_snapshot_round_trips_with_both_forms_of_region() -> None:
    config = cfg(PER_PLACE)
    assert config.accounts[0].regions[0] == "us-east-1"
    assert isinstance(config.accounts[0].regions[1], ScanRegion)
    assert Config.model_validate(config.model_dump(mode="json")) == config


def test_the_plain_form_of_regions_is_still_valid() -> None:
    config = cfg(f"accounts: [{{role_arn: {MEMBER}, regions: [eu-west-1, us-east-1]}}]\n")
    assert switches(config)["210987654321/eu-west-1"] == (True, True, True, 5)


def test_every_source_turned_off_is_listed_with_its_place() -> None:
    config = cfg(PER_PLACE + "clusters: []\n")
    assert config.sources_off(HOME_ACCOUNT, HOME_REGION) == [
        "clusters (config: [], every place)",
        f"app_runner@{HOME_ACCOUNT}/{HOME_REGION} (config)",
        "batch@210987654321/us-east-1 (config)",
        "app_runner@210987654321/eu-west-1 (config)",
    ]
    assert cfg("").sources_off(HOME_ACCOUNT, HOME_REGION) == []


def test_a_switch_off_at_home_only_warns_that_the_other_places_still_read_it() -> None:
    warnings = cfg(f"sources: {{app_runner: false}}\naccounts: [{{role_arn: {MEMBER}}}]\n").warnings
    assert any(
        w.startswith("sources.app_runner: false turns it off in the sweeper's own account")
        for w in warnings
    )
    # Written off for every place too: nothing to warn about.
    everywhere = cfg(
        "sources: {app_runner: false}\n"
        f"accounts: [{{role_arn: {MEMBER}, sources: {{app_runner: false}}}}]\n"
    )
    assert not [w for w in everywhere.warnings if w.startswith("sources.")]
    # Without accounts the top level is the only place.
    assert not [w for w in cfg("sources: {app_runner: false}\n").warnings if "sources." in w]


def _account(body: str) -> str:
    return f"accounts:\n  - role_arn: {MEMBER}\n" + textwrap.indent(body, "    ")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param(
            "sources: {app_runer: false}\n",
            "accounts[0].sources: unknown key 'app_runer' (allowed: scheduled_tasks, batch, "
            "batch_keep_count, app_runner); did you mean 'app_runner'?",
            id="typo-in-an-account",
        ),
        pytest.param(
            "source: {app_runner: false}\n",
            "accounts[0]: unknown key 'source' (allowed: role_arn, external_id, regions, "
            "sources, eks); did you mean 'sources'?",
            id="typo-of-sources",
        ),
        pytest.param(
            "sources: {app_runner: no-thanks}\n",
            "accounts[0].sources.app_runner: must be true or false, got string 'no-thanks'",
            id="not-a-boolean",
        ),
        pytest.param(
            "sources: {batch_keep_count: -1}\n",
            "accounts[0].sources.batch_keep_count: must be >= 0, got integer -1",
            id="negative-keep-count",
        ),
        pytest.param(
            "sources: [app_runner]\n",
            "accounts[0].sources: must be a mapping of switches, got a list",
            id="not-a-mapping",
        ),
        pytest.param(
            "sources: {inspector: true}\n",
            "accounts[0].sources.inspector: only in the top-level sources: Amazon Inspector "
            "is read with the sweeper's own role, for its own registry",
            id="inspector-at-home-only",
        ),
        pytest.param(
            "regions: [{name: eu-west-1, sources: {apprunner: false}}]\n",
            "accounts[0].regions[0].sources: unknown key 'apprunner' (allowed: "
            "scheduled_tasks, batch, batch_keep_count, app_runner); did you mean 'app_runner'?",
            id="typo-in-a-region",
        ),
        pytest.param(
            "regions: [{nmae: eu-west-1}]\n",
            "accounts[0].regions[0]: unknown key 'nmae' (allowed: name, sources, eks); "
            "did you mean 'name'?",
            id="typo-of-name",
        ),
        pytest.param(
            "regions: [{sources: {batch: false}}]\n",
            "accounts[0].regions[0].name: required (the region, like eu-west-1)",
            id="region-without-name",
        ),
        pytest.param(
            "regions: [{name: Ireland}]\n",
            "accounts[0].regions[0].name: 'Ireland' is not a region name like eu-west-1",
            id="not-a-region-name",
        ),
        pytest.param(
            "regions: [{name: 5}]\n",
            "accounts[0].regions[0].name: must be a region name, got integer 5",
            id="name-not-a-string",
        ),
        pytest.param(
            "regions: [eu-west-1, 5]\n",
            "accounts[0].regions[1]: must be a region name or a mapping {name, sources}, "
            "got integer 5",
            id="neither-form",
        ),
        pytest.param(
            "regions: [eu-west-1, {name: eu-west-1, sources: {batch: false}}]\n",
            "accounts[0].regions[1]: lists a region twice: eu-west-1 is also "
            "accounts[0].regions[0]",
            id="same-region-in-both-forms",
        ),
    ],
)
def test_the_checker_names_each_problem_of_a_place_by_location(text: str, problem: str) -> None:
    assert problem in error_of(_account(text)).splitlines()[0]


def test_every_problem_of_every_place_is_reported_at_once() -> None:
    message = error_of(
        _account(
            "sources: {app_runer: false}\n"
            "regions: [{name: eu-west-1, sources: {batch: 1}}, Tokyo]\n"
        )
    )
    assert [line.split(": ")[1] for line in message.splitlines()] == [
        "accounts[0].sources",
        "accounts[0].regions[0].sources.batch",
        "accounts[0].regions[1]",
    ]
