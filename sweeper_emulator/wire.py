"""What the emulator needs to answer a botocore request itself: a readable body, a JSON
answer, the caller's account, and the place in botocore's `before-send` chain.

A leaf: it imports nothing from the package, so that fault injection (faults.py) and
every API the emulator serves (served/) can use it.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSResponse
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
