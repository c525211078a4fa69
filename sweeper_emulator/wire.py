"""What the emulator needs to answer a botocore request itself: a readable body, a JSON
answer, the caller's account, the place in botocore's `before-send` chain, and, for the
served APIs that share it (`serve_in_place_of_moto`), where a service is offered, the
request's parameters, pages and batches of AWS's sizes, and an AWS error to raise.

A leaf: it imports nothing from the package, so that fault injection (faults.py) and
every API the emulator serves (served/) can use it.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError
from botocore.handlers import BUILTIN_HANDLERS
from moto.core.models import botocore_stubber

# A `before-send` handler: (request, event_name=..., **kwargs) -> an answer, or None to let
# the next handler (in the end moto) answer.
SendHandler = Callable[..., AWSResponse | None]

_CREDENTIAL = re.compile(r"Credential=([^/]+)/")


class RawBody:
    """A response body botocore can read, for answers the emulator gives itself."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **kwargs: Any) -> Any:
        yield self._body

    def read(self) -> bytes:
        return self._body


def json_answer(
    url: str,
    status: int,
    body: dict[str, Any],
    content_type: str = "application/x-amz-json-1.0",
) -> AWSResponse:
    """An AWS JSON-protocol answer; an error (status >= 400) names its `__type` in the
    x-amzn-ErrorType header, where botocore looks for the code."""
    headers = {"Content-Type": content_type, "x-amzn-RequestId": str(uuid.uuid4())}
    if status >= 400:
        headers["x-amzn-ErrorType"] = str(body.get("__type", ""))
    return AWSResponse(url, status, headers, RawBody(json.dumps(body).encode()))


def json_error(url: str, code: str, message: str) -> AWSResponse:
    """A 400 with the AWS error `code`, as a JSON-protocol service gives it."""
    return json_answer(url, 400, {"__type": code, "message": message})


def request_params(request: Any) -> dict[str, Any]:
    """The JSON body of a JSON-protocol request (an empty body is `{}`); ValueError if it
    is not JSON."""
    body = request.body or b"{}"
    params: dict[str, Any] = json.loads(body.decode() if isinstance(body, bytes) else body)
    return params


def request_account(request: Any) -> str:
    """The account a request is made in, as moto decides it: MOTO_ACCOUNT_ID, the
    x-moto-account-id header, the access key."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    header = request.headers.get("x-moto-account-id")
    if header:
        return header.decode() if isinstance(header, bytes) else str(header)
    from moto.iam.models import get_account_id_from

    authorization = request.headers.get("Authorization") or b""
    if isinstance(authorization, bytes):
        authorization = authorization.decode()
    match = _CREDENTIAL.search(authorization)
    return get_account_id_from(match.group(1) if match else "")


def mock_active() -> bool:
    """True while a moto mock is active: the served APIs answer only then."""
    return bool(botocore_stubber.enabled)


_insert_lock = threading.Lock()


def insert_before_moto(handler: SendHandler) -> None:
    """Put `handler` in botocore's `before-send` chain just before moto's, for every
    botocore session created from now on (botocore copies its built-in handlers into a
    session when the session is made: call this before the emulator or a test creates
    its sessions). Before moto, so that it answers what moto lacks; after fault
    injection (`faults.install()`, first in the chain), so that faults still reach it.
    Idempotent."""
    with _insert_lock:
        if any(item[1] is handler for item in BUILTIN_HANDLERS):
            return
        positions = [i for i, item in enumerate(BUILTIN_HANDLERS) if item[1] is botocore_stubber]
        BUILTIN_HANDLERS.insert(
            positions[0] if positions else len(BUILTIN_HANDLERS), ("before-send", handler)
        )


# --- a served JSON API (served/codebuild.py, sagemaker.py, ...) -----------------------

# The region in an AWS host name (amazonaws.com, amazonaws.com.cn, c2s.ic.gov, ...).
_REGION = re.compile(r"^https?://[^/]*?\.([a-z]{2}(?:-[a-z]+)+-\d+)\.")
_PAGE_TOKEN = "emulated-page-"


@functools.cache
def service_regions(service: str) -> frozenset[str]:
    """The regions of every partition where botocore's region data lists an endpoint of
    `service` (the botocore service name); empty for a service it has no data for."""
    session = boto3.Session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions(service, partition_name=partition)
    )


def offered(service: str, region: str) -> bool:
    """Where botocore's region data lists an endpoint; everywhere for a service it has
    no region data for (AgentCore's control plane)."""
    regions = service_regions(service)
    return not regions or region in regions


class Refused(Exception):
    """An AWS error a served API answers with (its code, message and HTTP status)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass
class ServedCall:
    """One request as a served API reads it: the operation, its parameters (JSON body and
    query string together), its path (REST APIs name resources in it), and the region
    and account it is made in."""

    operation: str
    params: dict[str, Any]
    path: str
    region: str
    account: str

    @classmethod
    def of(cls, request: Any, operation: str, region: str) -> ServedCall:
        body = request.body or b"{}"
        text = body.decode() if isinstance(body, bytes) else str(body)
        try:
            params: dict[str, Any] = json.loads(text) if text.strip() else {}
        except ValueError:
            params = {}
        url = urlsplit(request.url)
        for name, values in parse_qs(url.query).items():
            params.setdefault(name, values if len(values) > 1 else values[0])
        return cls(operation, params, url.path, region, request_account(request))

    def unserved(self) -> Refused:
        return Refused(
            "InvalidRequestException",
            f"the emulator serves only the in-use scan's read calls, not {self.operation}",
        )


def page(
    items: list[Any], call: ServedCall, size_key: str | None, maximum: int, token_key: str
) -> tuple[list[Any], str | None]:
    """One page of `items` (the size the call asks for, at most AWS's `maximum`) and the
    token of the next, None on the last."""
    size = min(int(call.params.get(size_key) or maximum), maximum) if size_key else maximum
    token = call.params.get(token_key)
    start = int(str(token)[len(_PAGE_TOKEN) :]) if token else 0
    more = start + size < len(items)
    return items[start : start + size], f"{_PAGE_TOKEN}{start + size}" if more else None


def batch(call: ServedCall, key: str, maximum: int) -> list[str]:
    """The names a batch call asks for; over AWS's `maximum` it is refused, as AWS does."""
    names = list(call.params.get(key) or [])
    if len(names) > maximum:
        raise Refused("InvalidInputException", f"{key}: at most {maximum} a call, got {len(names)}")
    return names


def serve_in_place_of_moto(
    request: Any,
    event_name: str,
    service: str,
    answer: Callable[[ServedCall], dict[str, Any]],
) -> AWSResponse | None:
    """A served JSON API's `before-send` answer to a request of `service` (event_name:
    "before-send.<service>.<Operation>"): `answer`'s body, or the error it raises
    (Refused). None for another service's request, or with no moto mock active. In a
    region where botocore's region data does not list the service there is no such host:
    the client cannot connect (EndpointConnectionError)."""
    parts = event_name.split(".")
    if len(parts) != 3 or parts[1] != service or not mock_active():
        return None
    region = _REGION.search(request.url)
    if region is None:
        return None  # answered already: the URL was pointed away (a fault, or moto's)
    if not offered(service, region.group(1)):
        raise EndpointConnectionError(endpoint_url=request.url)
    call = ServedCall.of(request, parts[2], region.group(1))
    try:
        status, body = 200, answer(call)
    except Refused as refused:
        status, body = refused.status, {"__type": refused.code, "message": refused.message}
    # botocore offers the request to every before-send handler, moto's included, and
    # uses the first answer: point it nowhere so that moto (which has some of these
    # operations, and raises on the others) does not also carry it out.
    original_url = request.url
    request.url = "https://served-by-the-emulator.invalid/"
    return json_answer(original_url, status, body, content_type="application/x-amz-json-1.1")
