"""API call counting and fault injection, at botocore's `before-send` hook.

Only calls made by the product's handlers count (not the emulator's own setup,
nor the state machine service's calls), so the figures are what the Lambdas
would send to AWS. Handlers run with their own credentials (HANDLER_ACCESS_KEY,
as Lambda gives each function its role's), which is how a request is known to
come from product code, whatever thread sends it. A fault answers in place of
AWS with the error an inventory names, so botocore's retry logic sees exactly
what it would see in production.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.handlers import BUILTIN_HANDLERS

from sweeper_emulator.inventory import Fault

HANDLER_ACCESS_KEY = "ASIAEMULATEDHANDLER"
# The function running now (handlers run one at a time): lets a fault target one function.
CURRENT: dict[str, str | None] = {"function": None}


class CallLog:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.faults: list[Fault] = []
        self._fired: Counter[int] = Counter()
        self._seen: Counter[int] = Counter()
        self._lock = threading.Lock()

    def reset(self, faults: list[Fault]) -> None:
        with self._lock:
            self.calls.clear()
            self.faults = list(faults)
            self._fired.clear()
            self._seen.clear()

    def record(self, operation: str) -> Fault | None:
        """Count one request; return the fault to answer it with, if any."""
        with self._lock:
            self.calls[operation] += 1
            for index, fault in enumerate(self.faults):
                if fault.operation.lower() != operation.lower():
                    continue
                if fault.function and fault.function != CURRENT["function"]:
                    continue
                self._seen[index] += 1
                if self._seen[index] <= fault.skip:
                    continue
                if fault.times is None or self._fired[index] < fault.times:
                    self._fired[index] += 1
                    return fault
        return None


CALLS = CallLog()


class EmulatedCrash(BaseException):
    """The Lambda runtime dies mid-invocation. A BaseException, so that no `except
    Exception` in product code can swallow it; the invocation fails with its type."""


def _from_handler(request: Any) -> bool:
    authorization = request.headers.get("Authorization") or b""
    if isinstance(authorization, str):
        authorization = authorization.encode()
    return f"Credential={HANDLER_ACCESS_KEY}/".encode() in authorization


def _before_send(request: Any, event_name: str = "", **kwargs: Any) -> AWSResponse | None:
    # event_name is "before-send.<service>.<Operation>"
    parts = event_name.split(".")
    if len(parts) != 3 or not _from_handler(request):
        return None
    fault = CALLS.record(f"{parts[1]}:{parts[2]}")
    if fault is None:
        return None
    if fault.crash:
        raise EmulatedCrash(fault.error)
    # botocore offers the request to every before-send handler, moto's included, and
    # uses the first answer: point it nowhere so that moto does not also carry it out.
    original_url = request.url
    request.url = "https://fault-injected.invalid/"
    status = fault.status or (
        500 if "Internal" in fault.error or "Unavailable" in fault.error else 400
    )
    body = json.dumps({"__type": fault.error, "message": fault.message}).encode()
    protocol = _PROTOCOLS.get(parts[1], "json")
    headers = {"x-amzn-ErrorType": fault.error, "Content-Type": "application/x-amz-json-1.1"}
    if protocol in ("query", "rest-xml", "ec2"):
        body = (
            f"<ErrorResponse><Error><Code>{fault.error}</Code><Message>{fault.message}</Message>"
            f"</Error></ErrorResponse>"
        ).encode()
        headers = {"Content-Type": "text/xml"}
    return AWSResponse(original_url, status, headers, RawBody(body))


# Services whose errors come back as XML; the rest of what the handlers call speak JSON.
_PROTOCOLS = {"s3": "rest-xml", "sns": "query", "sts": "query", "iam": "query"}


class RawBody:
    """A response body botocore can read, for answers the emulator gives itself."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **kwargs: Any) -> Any:
        yield self._body

    def read(self) -> bytes:
        return self._body


_installed = False


def install() -> None:
    """Register the hook ahead of moto's, for every client created from now on."""
    global _installed
    if not _installed:
        BUILTIN_HANDLERS.insert(0, ("before-send", _before_send))
        _installed = True
