"""boto3 clients with the retry behaviour every adapter relies on."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
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


# How many independent describe calls (DescribeTaskDefinition, GetFunction, ...) one scan
# sends at once. Well under max_pool_connections; the adaptive retry mode slows the
# client down if AWS throttles even so.
DESCRIBE_CONCURRENCY = 8

_CLIENTS: weakref.WeakKeyDictionary[Any, dict[tuple[str, str | None], Any]] = (
    weakref.WeakKeyDictionary()
)
_CLIENTS_LOCK = threading.Lock()


def client(service: str) -> Any:
    """A client for `service` in the function's own account and region.

    One client per service and region, kept for the life of the Lambda container (and
    of boto3's default session): creating a client costs more than most calls it makes,
    and a kept client keeps its connections and its adaptive rate limiter warm.
    """
    with _CLIENTS_LOCK:
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        session = boto3.DEFAULT_SESSION
        clients = _CLIENTS.setdefault(session, {})
        key = (service, session.region_name)
        if key not in clients:
            clients[key] = session.client(service, config=RETRY_CONFIG)
        return clients[key]


def concurrently[T, R](
    call: Callable[[T], R], items: Iterable[T], limit: int = DESCRIBE_CONCURRENCY
) -> list[R]:
    """`[call(item) for item in items]`, at most `limit` at a time, results in order.

    The first error (in the order of `items`) is raised, and calls not yet started are
    cancelled. boto3 clients are thread-safe: the calls share one client.
    """
    items = list(items)
    if len(items) <= 1 or limit <= 1:
        return [call(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(limit, len(items))) as pool:
        futures = [pool.submit(call, item) for item in items]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def classify(error: ClientError, doing: str) -> Exception:
    """Turn a botocore ClientError into the typed error the state machine routes on."""
    code = error.response.get("Error", {}).get("Code", "Unknown")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    message = f"{doing}: {code}: {error.response.get('Error', {}).get('Message', '')}".rstrip(": ")
    if code in TRANSIENT_CODES or status >= 500:
        return TransientAwsError(message)
    return AwsRequestError(message)


def _doing(aws: Any, operation: str) -> str:
    """`codebuild:ListProjects`: the IAM action a call needs (the signing name is the IAM
    prefix), which is what an AccessDenied asks the reader to grant."""
    model = aws.meta.service_model
    return f"{model.signing_name}:{aws.meta.method_to_api_mapping.get(operation, operation)}"


def paged(
    aws: Any, operation: str, key: str, page_size: int | None = None, **kwargs: Any
) -> list[Any]:
    """Every item under `key` on every page of `operation` (boto3's paginator), asking for
    `page_size` items a page where the API takes a size (None: the API's fixed page).
    A ClientError goes through `classify`, naming the IAM action."""
    config = {"PageSize": page_size} if page_size else {}
    try:
        return [
            item
            for page in aws.get_paginator(operation).paginate(**kwargs, PaginationConfig=config)
            for item in page.get(key) or []
        ]
    except ClientError as error:
        raise classify(error, _doing(aws, operation)) from error


def called(aws: Any, operation: str, **kwargs: Any) -> dict[str, Any]:
    """One call of `operation`; a ClientError goes through `classify`, naming the action."""
    try:
        return dict(getattr(aws, operation)(**kwargs))
    except ClientError as error:
        raise classify(error, _doing(aws, operation)) from error
