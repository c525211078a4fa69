"""boto3 clients with the retry behaviour every adapter relies on."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ecr_sweeper.errors import AwsRequestError, TransientAwsError

# Adaptive mode: botocore backs off with jitter and rate-limits the client itself
# when AWS throttles, which is what keeps a wide fan-out inside API limits.
RETRY_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 8},
    max_pool_connections=32,
    connect_timeout=10,
    read_timeout=60,
)

# Error codes that mean "try again later" once botocore's own retries are exhausted.
TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ServerException",
        "InternalServerError",
        "InternalFailure",
        "ServiceException",
    }
)


def client(service: str) -> Any:
    """A client for `service` in the function's own account and region."""
    return boto3.client(service, config=RETRY_CONFIG)


def classify(error: ClientError, doing: str) -> Exception:
    """Turn a botocore ClientError into the typed error the state machine routes on."""
    code = error.response.get("Error", {}).get("Code", "Unknown")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    message = f"{doing}: {code}: {error.response.get('Error', {}).get('Message', '')}".rstrip(": ")
    if code in TRANSIENT_CODES or status >= 500:
        return TransientAwsError(message)
    return AwsRequestError(message)
