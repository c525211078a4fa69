"""`python -m sweeper_emulator run --parameter KEY=VALUE`: checked against template.yaml's
Parameters as CloudFormation checks them, refused in one line with exit 2 (no traceback)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sweeper_emulator.__main__ import main, parameter_problem
from sweeper_emulator.template import load_template

ROOT = Path(__file__).resolve().parents[2]
PARAMETERS: dict[str, Any] = load_template(ROOT / "template.yaml")["Parameters"]


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    path = tmp_path / "account.json"
    path.write_text('{"account_id": "123456789012", "region": "us-east-1"}\n')
    return path


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("Foo=bar", "'Foo' is not a template parameter (known: AllowDeletingRuns, "),
        ("DryRun", "'DryRun': write KEY=VALUE, e.g. DryRun=false"),
        ("DryRun=maybe", "'DryRun=maybe': DryRun must be one of true, false"),
        ("MapMaxConcurrency=0", "MapMaxConcurrency must be at least 1"),
        ("MapMaxConcurrency=1001", "MapMaxConcurrency must be at most 1000"),
        ("MapMaxConcurrency=ten", "MapMaxConcurrency must be a number"),
        ("LogRetentionDays=2", "LogRetentionDays must be one of 1, 3, 5, 7, 14, 30,"),
        ("NotificationEmail=nobody", "NotificationEmail must match ^$|"),
        ("ScheduleTimezone=", "ScheduleTimezone must have at least 1 characters"),
    ],
    ids=[
        "unknown name",
        "no value",
        "not an allowed value",
        "below MinValue",
        "above MaxValue",
        "not a number",
        "number not allowed",
        "pattern",
        "too short",
    ],
)
def test_a_bad_parameter_is_one_line_and_exit_2(inventory: Path, given: str, message: str) -> None:
    result = CliRunner().invoke(main, ["run", "--inventory", str(inventory), "--parameter", given])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1
    assert errors[0].startswith("Error: Invalid value for '--parameter': ")
    assert message in errors[0]


def test_every_default_passes_its_own_constraints() -> None:
    for name, spec in PARAMETERS.items():
        assert parameter_problem(name, spec, str(spec.get("Default", ""))) is None, name


@pytest.mark.parametrize(
    "given",
    [
        "DryRun=false",
        "MapMaxConcurrency=1000",
        "LogRetentionDays=365",
        "NotificationEmail=ops@example.com",
        "Architecture=x86_64",
        "RepositoryArnPattern=arn:aws:ecr:us-east-1:123456789012:repository/team-a/*",
    ],
)
def test_an_allowed_value_passes(given: str) -> None:
    name, _, value = given.partition("=")
    assert parameter_problem(name, PARAMETERS[name], value) is None
