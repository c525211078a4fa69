"""`ecr-sweeper validate` checks the copy a stack reads (ConfigS3Uri, ConfigSsmParameter)
as it checks a file; where the config is read from is parsed once; and `make validate`
exits with the status the README says."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

from ecr_sweeper.cli import main
from ecr_sweeper.core.config_location import parse_config_location
from ecr_sweeper.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
GOOD = "repositories:\n  - name: app\n    expires: 30days\n"
BAD = "repositories:\n  - name: app\n    expires: 30 dayz\n"
BUCKET, KEY, PARAMETER = "team-configs", "ecr-sweeper/ecrm.yaml", "/ecr-sweeper/ecrm.yaml"


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:  # click >= 8.2 keeps stderr apart by default
        return CliRunner()


@pytest.fixture
def aws(fake_credentials: Callable[[str], None]) -> Iterator[None]:
    fake_credentials("eu-west-1")
    with mock_aws():
        boto3.client("s3").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        yield


def _put_s3(text: str | bytes) -> str:
    boto3.client("s3").put_object(Bucket=BUCKET, Key=KEY, Body=text)
    return f"s3://{BUCKET}/{KEY}"


def _put_ssm(text: str, kind: str = "String") -> str:
    boto3.client("ssm").put_parameter(Name=PARAMETER, Value=text, Type=kind)
    return f"ssm:{PARAMETER}"


@pytest.mark.parametrize(
    "put",
    [
        pytest.param(_put_s3, id="s3"),
        pytest.param(_put_ssm, id="ssm-string"),
        pytest.param(lambda text: _put_ssm(text, "SecureString"), id="ssm-securestring"),
    ],
)
def test_validate_reads_the_stacks_copy_and_checks_it_as_a_file(
    aws: None, put: Callable[[str], str]
) -> None:
    location = put(GOOD)
    result = _runner().invoke(main, ["validate", location])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"OK: {location}: 1 repository rule")


@pytest.mark.parametrize("put", [pytest.param(_put_s3, id="s3"), pytest.param(_put_ssm, id="ssm")])
def test_an_invalid_copy_is_reported_with_its_location_line_and_column(
    aws: None, put: Callable[[str], str]
) -> None:
    location = put(BAD)
    result = _runner().invoke(main, ["validate", location])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"{location}: repositories[0].expires: invalid duration '30 dayz'"
    )
    assert result.stderr.rstrip().endswith("(line 3, column 14)")


@pytest.mark.parametrize(
    ("location", "code"),
    [
        pytest.param(f"s3://{BUCKET}/missing.yaml", "NoSuchKey", id="s3-missing-key"),
        pytest.param("s3://no-such-bucket-here/ecrm.yaml", "NoSuchBucket", id="s3-missing-bucket"),
        pytest.param("ssm:/ecr-sweeper/missing", "ParameterNotFound", id="ssm-missing"),
    ],
)
def test_a_missing_copy_fails_naming_where_it_looked(aws: None, location: str, code: str) -> None:
    result = _runner().invoke(main, ["validate", location])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{location}: cannot read the config ({code}")
    assert "Traceback" not in result.stderr


def test_a_copy_that_is_not_utf8_is_refused(aws: None) -> None:
    location = _put_s3(b"repositories: \xff\n")
    result = _runner().invoke(main, ["validate", location])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{location}: not a UTF-8 text file (bad byte at offset 14)")


@pytest.mark.parametrize(
    ("text", "kind", "fields"),
    [
        ("config/ecrm.yaml", "file", {}),
        ("s3://bucket/path/to/ecrm.yaml", "s3", {"bucket": "bucket", "key": "path/to/ecrm.yaml"}),
        ("ssm:/ecr-sweeper/prod/ecrm.yaml", "ssm", {"parameter": "/ecr-sweeper/prod/ecrm.yaml"}),
        ("ssm:ecrm", "ssm", {"parameter": "ecrm"}),
    ],
)
def test_a_location_is_a_file_an_s3_object_or_an_ssm_parameter(
    text: str, kind: str, fields: dict[str, str]
) -> None:
    location = parse_config_location(text)
    assert (location.kind, location.text) == (kind, text)
    assert {name: getattr(location, name) for name in fields} == fields


@pytest.mark.parametrize("text", ["s3://bucket", "s3://bucket/", "s3:///key", "ssm:", "ssm:/a b"])
def test_a_malformed_location_is_a_config_error_that_quotes_it(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_location(text)
    assert str(info.value).startswith(repr(text))


@pytest.mark.parametrize(("text", "status"), [(GOOD, 0), (BAD, 2)])
def test_make_validate_exits_2_on_an_invalid_config(tmp_path: Path, text: str, status: int) -> None:
    """The README's claim: `ecr-sweeper validate` exits 1, and make turns that into 2.
    (-o: the virtualenv's stamp is taken as made, so the test installs nothing.)"""
    config = tmp_path / "ecrm.yaml"
    config.write_text(text)
    result = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "validate", f"CONFIG={config}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == status, result.stderr
    if status:
        assert f"{config}: repositories[0].expires: invalid duration" in result.stderr
        assert "Error 1" in result.stderr  # make's own line, then make exits 2
