"""Where the config is read from: a file (the one bundled in the stack's layer, or a path
on this machine), an S3 object, or an SSM parameter. A stack installed from the
Serverless Application Repository cannot edit the bundled file; the other two are
edited without a rebuild.

Written as one string, the same in the stack's ConfigS3Uri / ConfigSsmParameter, the
scan's CONFIG_SOURCE and `ecr-sweeper validate`:

    config/ecrm.yaml            a file
    s3://my-bucket/ecrm.yaml    an S3 object
    ssm:/ecr-sweeper/ecrm.yaml  an SSM parameter (String or SecureString)

Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ecr_sweeper.core.messages import short_repr
from ecr_sweeper.errors import ConfigError

__all__ = ["ConfigLocation", "parse_config_location"]

S3_PREFIX = "s3://"
SSM_PREFIX = "ssm:"
# What Parameter Store accepts in a name (a path of segments when it starts with `/`).
_SSM_NAME = re.compile(r"^/?[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$")


@dataclass(frozen=True)
class ConfigLocation:
    kind: Literal["file", "s3", "ssm"]
    text: str  # as written: every message about the config starts with it
    bucket: str = ""
    key: str = ""
    parameter: str = ""


def parse_config_location(text: str) -> ConfigLocation:
    """`s3://BUCKET/KEY`, `ssm:NAME` or a file path. ConfigError for an S3 URI without
    a key or an SSM name Parameter Store would refuse."""
    if text.startswith(S3_PREFIX):
        bucket, _, key = text.removeprefix(S3_PREFIX).partition("/")
        if not bucket or not key:
            raise ConfigError(
                f"{short_repr(text)}: an S3 config location must look like s3://BUCKET/KEY"
            )
        return ConfigLocation("s3", text, bucket=bucket, key=key)
    if text.startswith(SSM_PREFIX):
        name = text.removeprefix(SSM_PREFIX)
        if not _SSM_NAME.match(name):
            raise ConfigError(
                f"{short_repr(text)}: an SSM config location must look like "
                "ssm:/PATH/NAME (letters, digits and _.- in each segment)"
            )
        return ConfigLocation("ssm", text, parameter=name)
    return ConfigLocation("file", text)
