"""Clients for the other places the scan reads (config `accounts`): a role assumed in
another account (or in this one), in one of the regions listed for it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import ClientError

from ecr_sweeper.adapters.aws import RETRY_CONFIG, classify
from ecr_sweeper.core.config import ScanTarget

Clients = Callable[[str], Any]

# An hour, AWS's default and the most a role chained from Lambda's may ask for; the
# scan's timeout (15 minutes) is well inside it.
SESSION_SECONDS = 3600


def session_name(execution_name: str) -> str:
    """The role session name, which member accounts see in CloudTrail: the run's name,
    trimmed to what STS accepts (64 characters of [\\w+=,.@-])."""
    cleaned = "".join(c if c.isalnum() or c in "+=,.@-_" else "-" for c in execution_name)
    return f"ecr-sweeper-{cleaned}"[:64]


def assume(
    sts: Any,
    target: ScanTarget,
    execution_name: str,
    wrap: Callable[[Any], Any] | None = None,
) -> Clients:
    """Assume the target's role; return a factory of clients in its account and region.

    Any refusal (AccessDenied, a wrong external id, a region STS has not enabled) raises
    AwsRequestError: a place that cannot be read fails the scan, and so the run.
    `wrap` is applied to each client made (the CLI makes them refuse writes).
    """
    assert target.role_arn is not None
    request: dict[str, Any] = {
        "RoleArn": target.role_arn,
        "RoleSessionName": session_name(execution_name),
        "DurationSeconds": SESSION_SECONDS,
    }
    if target.external_id:
        request["ExternalId"] = target.external_id
    try:
        credentials = sts.assume_role(**request)["Credentials"]
    except ClientError as error:
        raise classify(error, f"sts:AssumeRole {target.role_arn} (for {target.place})") from error
    session = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=target.region,
    )
    made: dict[str, Any] = {}
    lock = threading.Lock()

    def clients(service: str) -> Any:
        # One client per service, shared by the scan's threads (clients are thread-safe).
        with lock:
            if service not in made:
                made[service] = session.client(service, config=RETRY_CONFIG)
                if wrap is not None:
                    made[service] = wrap(made[service])
            return made[service]

    return clients
