"""Config `eks` (our extension): where it is written, which places read which clusters,
what is refused, and the warning for a config that reads nothing that runs."""

from __future__ import annotations

import pytest

from ecr_sweeper.core.config import NOTHING_RUNNING_WARNING, Config, load_config
from ecr_sweeper.errors import ConfigError

HOME, REGION = "123456789012", "ap-northeast-1"
REPOSITORIES = "repositories: [{name: app, expires: 30d}]\n"
MEMBER = "arn:aws:iam::210987654321:role/ecr-sweeper-scanner"


def _clusters(config: Config) -> dict[str, list[str]]:
    return {t.place: [e.label for e in t.eks] for t in config.scan_targets(HOME, REGION)}


def test_missing_means_no_eks_anywhere() -> None:
    config = load_config(REPOSITORIES + f"accounts: [{{role_arn: {MEMBER}}}]\n")
    assert config.eks is None
    assert not any(_clusters(config).values())
    assert "eks" not in config.sources_configured


def test_a_region_comes_over_its_account_which_comes_over_the_top_level() -> None:
    config = load_config(
        REPOSITORIES
        + f"""
eks: [{{name: prod}}]
accounts:
  - role_arn: {MEMBER}
    eks: [{{name_pattern: "team-*"}}]
    regions: [eu-west-1, {{name: us-east-1, eks: []}}]
  - role_arn: arn:aws:iam::210987654322:role/ecr-sweeper-scanner
"""
    )
    assert _clusters(config) == {
        f"{HOME}/{REGION}": ["name=prod"],
        "210987654321/eu-west-1": ["name_pattern=team-*"],
        "210987654321/us-east-1": [],
        f"210987654322/{REGION}": ["name=prod"],
    }
    assert "eks" in config.sources_configured
    assert Config.model_validate(config.model_dump(mode="json")) == config


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("eks: {name: prod}\n", "eks: must be a list of {name or name_pattern}"),
        ("eks: [{cluster: prod}]\n", "eks[0]: unknown key 'cluster'"),
        ("eks: [{name: a, name_pattern: b}]\n", "eks[0]: set either name or name_pattern"),
        (f"accounts: [{{role_arn: {MEMBER}, eks: [{{}}]}}]\n", "accounts[0].eks[0]: name or"),
        (
            f"accounts: [{{role_arn: {MEMBER}, regions: [{{name: eu-west-1, eks: 3}}]}}]\n",
            "accounts[0].regions[0].eks: must be a list",
        ),
    ],
    ids=["not-a-list", "unknown-key", "both-selectors", "account-entry", "region-entry"],
)
def test_a_bad_eks_section_is_refused_with_its_location(text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(REPOSITORIES + text)
    assert problem in str(error.value)


@pytest.mark.parametrize(
    ("text", "warned"),
    [
        ("clusters: []\n", True),
        ("clusters: []\ntask_definitions: []\nlambda_functions: []\n", False),
        ("clusters: []\neks: [{name: prod}]\n", False),
        (f"clusters: []\naccounts: [{{role_arn: {MEMBER}, eks: [{{name: p}}]}}]\n", False),
        ("clusters: []\nin_use_lists: [{uri: s3://b/k, max_age: 8d}]\n", False),
        ("clusters: [{name: prod}]\n", False),
        ("{}\n", False),
    ],
    ids=["clusters-off", "all-off", "eks", "eks-in-a-member", "in-use-list", "clusters", "none"],
)
def test_validate_warns_when_only_task_definitions_and_lambda_are_read(
    text: str, warned: bool
) -> None:
    body = "" if text == "{}\n" else text
    config = load_config(REPOSITORIES + body)
    assert (NOTHING_RUNNING_WARNING in config.warnings) is warned
