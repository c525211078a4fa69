"""A stack reads its config from S3 (ConfigS3Uri) or SSM (ConfigSsmParameter) at each run,
instead of the bundled file; a config missing or invalid there fails the run before
anything is read or deleted, and the notification says where it looked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import digest, image, inventory

from sweeper_emulator.emulator import Emulator
from sweeper_emulator.inventory import inventory_from_dict

# What the stack bundles keeps everything: a run that deletes read the other config.
BUNDLED = """
safety: {allow_nothing_in_use: true}
clusters: []
task_definitions: []
lambda_functions: []
repositories: [{name: app, expires: 3650days, keep_tag_patterns: []}]
"""
EDITED = BUNDLED.replace("3650days", "30days")
INVALID = EDITED.replace("30days", "30 dayz")
BUCKET, KEY, PARAMETER = "team-configs", "ecr-sweeper/ecrm.yaml", "/ecr-sweeper/ecrm.yaml"
S3_URI, SSM_LOCATION = f"s3://{BUCKET}/{KEY}", f"ssm:{PARAMETER}"


def _account(config_object: str | None) -> dict[str, Any]:
    # The bucket holds something else in any case: a missing config is a missing key.
    objects = [{"bucket": BUCKET, "key": "README.txt", "body": "configs of team A"}]
    if config_object is not None:
        objects.append({"bucket": BUCKET, "key": KEY, "body": config_object})
    return inventory(
        {"app": [image("old", tags=["v1"]), image("new", tags=["v2"], age_days=1)]},
        objects=objects,
    )


def _run(
    tmp_path: Path,
    data: dict[str, Any],
    parameters: dict[str, str],
    ssm: tuple[str, str] | None = None,
) -> tuple[dict[str, Any], Any]:
    """The run's result, and the config snapshot it kept (None if it kept none)."""
    bundled = tmp_path / "ecrm.yaml"
    bundled.write_text(BUNDLED)
    with Emulator(inventory_from_dict(data), config_file=bundled, parameters=parameters) as emu:
        if ssm is not None:
            text, kind = ssm
            emu.session.client("ssm").put_parameter(Name=PARAMETER, Value=text, Type=kind)
        result = emu.run('{"dry_run": false}')
        execution = result["execution_arn"].rsplit(":", 1)[-1]
        try:
            snapshot = json.loads(emu.read_run_file(execution, "config.json"))
        except Exception:  # a run that failed on its config kept none
            snapshot = None
    return result, snapshot


@pytest.mark.parametrize(
    ("parameters", "config_object", "ssm"),
    [
        pytest.param({"ConfigS3Uri": S3_URI}, EDITED, None, id="s3"),
        pytest.param({"ConfigSsmParameter": PARAMETER}, None, (EDITED, "String"), id="ssm"),
        pytest.param(
            {"ConfigSsmParameter": PARAMETER}, None, (EDITED, "SecureString"), id="ssm-secure"
        ),
    ],
)
def test_the_run_sweeps_with_the_config_it_reads_and_keeps_a_snapshot_of_it(
    tmp_path: Path,
    parameters: dict[str, str],
    config_object: str | None,
    ssm: tuple[str, str] | None,
) -> None:
    result, snapshot = _run(tmp_path, _account(config_object), parameters, ssm)
    assert result["status"] == "SUCCEEDED", result["cause"]
    assert result["repositories"]["app"]["deleted"] == [digest("old")]
    assert snapshot["repositories"][0]["expires"] == "30days"


@pytest.mark.parametrize(
    ("parameters", "config_object", "ssm", "problem"),
    [
        pytest.param(
            {"ConfigS3Uri": S3_URI},
            None,
            None,
            f"{S3_URI}: cannot read the config (NoSuchKey",
            id="s3-missing",
        ),
        pytest.param(
            {"ConfigSsmParameter": PARAMETER},
            None,
            None,
            f"{SSM_LOCATION}: cannot read the config (ParameterNotFound",
            id="ssm-missing",
        ),
        pytest.param(
            {"ConfigS3Uri": S3_URI},
            INVALID,
            None,
            f"{S3_URI}: repositories[0].expires: invalid duration '30 dayz'",
            id="s3-invalid",
        ),
        pytest.param(
            {"ConfigSsmParameter": PARAMETER},
            None,
            (INVALID, "String"),
            f"{SSM_LOCATION}: repositories[0].expires: invalid duration '30 dayz'",
            id="ssm-invalid",
        ),
    ],
)
def test_a_config_missing_or_invalid_there_fails_closed_naming_the_location(
    tmp_path: Path,
    parameters: dict[str, str],
    config_object: str | None,
    ssm: tuple[str, str] | None,
    problem: str,
) -> None:
    result, snapshot = _run(tmp_path, _account(config_object), parameters, ssm)
    assert result["status"] == "FAILED"
    assert result["error"] == "ConfigError"
    assert all(not repository["deleted"] for repository in result["repositories"].values())
    assert snapshot is None
    (note,) = result["notifications"]
    assert "FAILED in state ScanInUse" in note["message"]
    assert problem in note["message"]
