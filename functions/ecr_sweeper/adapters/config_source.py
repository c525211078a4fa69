"""The config, read from where the stack (or the command line) says: the bundled file,
an S3 object or an SSM parameter (core/config_location.py).

Calls: s3:GetObject, or ssm:GetParameter (WithDecryption, so a SecureString reads as
its text; a String is returned as is), once per run.

Fail closed: a config that is missing, unreadable or invalid raises ConfigError naming
the location, before anything is read or deleted. Throttling and AWS's own faults are
TransientAwsError, which the state machine retries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import classify
from ecr_sweeper.core.config import Config, load_config, load_config_file
from ecr_sweeper.core.config_location import ConfigLocation, parse_config_location
from ecr_sweeper.errors import ConfigError, TransientAwsError

__all__ = ["read_config"]


def read_config(location: str, clients: Callable[[str], Any]) -> Config:
    """The checked config at `location` (a file path, s3://BUCKET/KEY or ssm:NAME)."""
    where = parse_config_location(location)
    if where.kind == "file":
        return load_config_file(where.text)
    return load_config(_read_text(where, clients), source=where.text)


def _read_text(where: ConfigLocation, clients: Callable[[str], Any]) -> str:
    try:
        if where.kind == "s3":
            body = clients("s3").get_object(Bucket=where.bucket, Key=where.key)["Body"].read()
        else:
            parameter = clients("ssm").get_parameter(Name=where.parameter, WithDecryption=True)
            return str(parameter["Parameter"]["Value"])
    except ClientError as error:
        classified = classify(error, f"reading the config {where.text}")
        if isinstance(classified, TransientAwsError):
            raise classified from error
        info = error.response.get("Error", {})
        code = info.get("Code", "Unknown")
        hint = (
            " (S3 answers AccessDenied for a missing key to a reader without s3:ListBucket)"
            if code == "AccessDenied" and where.kind == "s3"
            else ""
        )
        raise ConfigError(
            f"{where.text}: cannot read the config ({code}: {info.get('Message', '')})"
            f"{hint}: nothing was read or deleted"
        ) from error
    try:
        return bytes(body).decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{where.text}: not a UTF-8 text file (bad byte at offset {error.start})"
        ) from None
