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
import re
import threading
from collections import Counter
from typing import Any
from urllib.parse import parse_qs

from botocore.awsrequest import AWSResponse
from botocore.handlers import BUILTIN_HANDLERS

from sweeper_emulator.inventory import Fault
from sweeper_emulator.wire import RawBody

HANDLER_ACCESS_KEY = "ASIAEMULATEDHANDLER"
# Failures that never reach AWS, which botocore raises itself: no connection (a failed DNS
# lookup, a refused connection) and timeouts. A fault naming one raises it in the client.
NETWORK_ERRORS = ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError")


def network_error(name: str, url: str) -> Exception:
    """botocore's exception `name` (one of NETWORK_ERRORS) for a request to `url`."""
    import botocore.exceptions

    error: Exception = getattr(botocore.exceptions, name)(endpoint_url=url)
    return error


# The function running now (handlers run one at a time): lets a fault target one function.
CURRENT: dict[str, str | None] = {"function": None}


class CallLog:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        # (function logical ID, operation): lets the benchmark time each step apart.
        self.by_function: Counter[tuple[str, str]] = Counter()
        self.faults: list[Fault] = []
        self._fired: Counter[int] = Counter()
        self._seen: Counter[int] = Counter()
        self._lock = threading.Lock()

    def reset(self, faults: list[Fault]) -> None:
        with self._lock:
            self.calls.clear()
            self.by_function.clear()
            self.faults = list(faults)
            self._fired.clear()
            self._seen.clear()

    def record(self, operation: str, function: str | None = None) -> Fault | None:
        """Count one request of `function` (default: the one running in this process);
        return the fault to answer it with, if any."""
        function = function or CURRENT["function"]
        with self._lock:
            self.calls[operation] += 1
            self.by_function[(function or "", operation)] += 1
            for index, fault in enumerate(self.faults):
                if fault.operation.lower() != operation.lower():
                    continue
                if fault.function and fault.function != function:
                    continue
                self._seen[index] += 1
                if self._seen[index] <= fault.skip:
                    continue
                if fault.times is None or self._fired[index] < fault.times:
                    self._fired[index] += 1
                    return fault
        return None

    def calls_by_function(self) -> dict[str, dict[str, int]]:
        """function logical ID -> operation -> requests ("" for a caller outside a handler)."""
        with self._lock:
            grouped: dict[str, dict[str, int]] = {}
            for (function, operation), count in sorted(self.by_function.items()):
                grouped.setdefault(function, {})[operation] = count
            return grouped


CALLS = CallLog()


class EmulatedCrash(BaseException):
    """The Lambda runtime dies mid-invocation. A BaseException, so that no `except
    Exception` in product code can swallow it; the invocation fails with its type."""


# Roles the handlers may assume (config `accounts`): role ARN -> the external id its
# trust policy requires (None: none). moto does not check trust policies; the emulator
# does, so that a wrong role or external id is refused as AWS would refuse it.
TRUSTED_ROLES: dict[str, str | None] = {}
# Access keys STS gave the handlers: calls made with them are the handlers' calls too.
_ASSUMED_KEYS: set[str] = set()
_CREDENTIAL = re.compile(rb"Credential=([^/]+)/")


def _from_handler(request: Any) -> bool:
    authorization = request.headers.get("Authorization") or b""
    if isinstance(authorization, str):
        authorization = authorization.encode()
    match = _CREDENTIAL.search(authorization)
    key = match.group(1).decode() if match else ""
    return key == HANDLER_ACCESS_KEY or key in _ASSUMED_KEYS


def _after_assume_role(parsed: Any = None, **kwargs: Any) -> None:
    credentials = (parsed or {}).get("Credentials") or {}
    if credentials.get("AccessKeyId"):
        _ASSUMED_KEYS.add(credentials["AccessKeyId"])


def refuse_untrusted(body: bytes | str | None) -> Fault | None:
    """AccessDenied, as STS answers, for a role the inventory does not trust the caller
    with, or for an external id that is missing or wrong (`body`: AssumeRole's form)."""
    body = body or b""
    fields = parse_qs(body.decode() if isinstance(body, bytes) else str(body))
    role_arn = (fields.get("RoleArn") or [""])[0]
    external_id = (fields.get("ExternalId") or [None])[0]
    if role_arn in TRUSTED_ROLES and TRUSTED_ROLES[role_arn] in (None, external_id):
        return None
    return Fault(
        operation="sts:AssumeRole",
        error="AccessDenied",
        status=403,
        message=(
            "User: arn:aws:sts::assumed-role/InUseScanFunctionRole/emulated is not "
            f"authorized to perform: sts:AssumeRole on resource: {role_arn}"
        ),
    )


_crash_after = threading.local()


def _after_call(**kwargs: Any) -> None:
    """A fault with `after`: the runtime dies as the call answers, its work done."""
    error = getattr(_crash_after, "error", None)
    if error is not None:
        _crash_after.error = None
        raise EmulatedCrash(error)


def _before_send(request: Any, event_name: str = "", **kwargs: Any) -> AWSResponse | None:
    # event_name is "before-send.<service>.<Operation>"
    parts = event_name.split(".")
    if len(parts) != 3 or not _from_handler(request):
        return None
    fault = CALLS.record(f"{parts[1]}:{parts[2]}")
    if fault is None and parts[1:] == ["sts", "AssumeRole"]:
        fault = refuse_untrusted(request.body)
    if fault is None:
        return None
    if fault.crash and fault.after:
        _crash_after.error = fault.error  # once the call has gone through (_after_call)
        return None
    if fault.crash:
        raise EmulatedCrash(fault.error)
    if fault.error in NETWORK_ERRORS:
        # Raised in a before-send handler, botocore takes it as the send's own failure
        # (and retries it as it would a real one).
        raise network_error(fault.error, request.url)
    # botocore offers the request to every before-send handler, moto's included, and
    # uses the first answer: point it nowhere so that moto does not also carry it out.
    original_url = request.url
    request.url = "https://fault-injected.invalid/"
    status, headers, body = error_response(fault, parts[1])
    return AWSResponse(original_url, status, headers, RawBody(body))


def error_response(fault: Fault, service: str) -> tuple[int, dict[str, str], bytes]:
    """The HTTP answer AWS gives for the fault's error: status, headers and body, in the
    service's protocol."""
    status = fault.status or (
        500 if "Internal" in fault.error or "Unavailable" in fault.error else 400
    )
    if _PROTOCOLS.get(service, "json") in ("query", "rest-xml", "ec2"):
        body = (
            f"<ErrorResponse><Error><Code>{fault.error}</Code><Message>{fault.message}</Message>"
            f"</Error></ErrorResponse>"
        ).encode()
        return status, {"Content-Type": "text/xml"}, body
    body = json.dumps({"__type": fault.error, "message": fault.message}).encode()
    headers = {"x-amzn-ErrorType": fault.error, "Content-Type": "application/x-amz-json-1.1"}
    return status, headers, body


# Services whose errors come back as XML; the rest of what the handlers call speak JSON.
_PROTOCOLS = {"s3": "rest-xml", "sns": "query", "sts": "query", "iam": "query"}


_installed = False


def install() -> None:
    """Register the hook ahead of moto's, for every client created from now on."""
    global _installed
    if not _installed:
        BUILTIN_HANDLERS.insert(0, ("before-send", _before_send))
        BUILTIN_HANDLERS.append(("after-call.sts.AssumeRole", _after_assume_role))
        BUILTIN_HANDLERS.append(("after-call", _after_call))
        _installed = True
