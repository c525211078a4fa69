"""Which region the `ecr-sweeper` command uses: --region, then AWS_DEFAULT_REGION (what boto3
reads), then AWS_REGION (what Lambda and most SDKs set, which boto3 ignores), then the
profile's; without any, one line that names all of them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from moto import mock_aws

from ecr_sweeper.cli import main


def stack_not_found_in(*arguments: str) -> str:
    """The region in `stack 'nope' not found in REGION`: the one the command used."""
    with mock_aws():
        result = CliRunner().invoke(main, [*arguments, "report", "--stack", "nope"])
    assert result.exit_code == 1, result.output
    assert "stack 'nope' not found in " in result.output, result.output
    return result.output.rsplit("not found in ", 1)[1].split(":", 1)[0]


@pytest.fixture
def no_region(
    fake_credentials: Callable[[str], None], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> pytest.MonkeyPatch:
    fake_credentials("us-east-1")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    return monkeypatch


def test_aws_region_is_used_when_aws_default_region_is_not_set(
    no_region: pytest.MonkeyPatch,
) -> None:
    no_region.setenv("AWS_REGION", "eu-west-1")
    assert stack_not_found_in() == "eu-west-1"


def test_aws_default_region_wins_over_aws_region(no_region: pytest.MonkeyPatch) -> None:
    no_region.setenv("AWS_REGION", "eu-west-1")
    no_region.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    assert stack_not_found_in() == "ap-southeast-2"


def test_the_region_option_wins_over_both(no_region: pytest.MonkeyPatch) -> None:
    no_region.setenv("AWS_REGION", "eu-west-1")
    no_region.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    assert stack_not_found_in("--region", "ca-central-1") == "ca-central-1"


@pytest.mark.parametrize("command", [["report"], ["plan"], ["scan"], ["generate"]])
def test_no_region_names_every_way_to_set_one(
    no_region: pytest.MonkeyPatch, command: list[str]
) -> None:
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: no AWS region: pass --region, or set AWS_DEFAULT_REGION (or AWS_REGION) "
        "or a region in the profile"
    )
